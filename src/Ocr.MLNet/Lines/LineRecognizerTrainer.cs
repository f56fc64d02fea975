using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using Ocr.MLNet.Training;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Lines;

/// <summary>
/// Trains the line recognizer (<see cref="LineRecognizerNetwork"/>, CTC) with TorchSharp on rows of a field image and its
/// text, from scratch or from a saved line model (fine-tuning), optionally with synthetic fields mixed in. Returns a
/// <see cref="LineRecognizerModel"/>: ML.NET transforms that read the image column and add <c>Score</c>, <c>Text</c>,
/// <c>TextConfidence</c> and <c>CharacterPositions</c>.
/// </summary>
/// <remarks>Created by <c>mlContext.MulticlassClassification.Trainers.LineRecognizer</c>, where ML.NET also puts its own
/// sequence trainers (named-entity recognition, question answering): each time step is a classification over the alphabet.</remarks>
public sealed partial class LineRecognizerTrainer : IEstimator<LineRecognizerModel>
{
    /// <summary>Default passes over the training rows.</summary>
    public const int DefaultEpochs = 30;

    /// <summary>Default lines per batch.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>Default peak learning rate of Adam (after one epoch of warm-up, annealed to 0 by a cosine).</summary>
    public const double DefaultLearningRate = 2e-3;

    /// <summary>Passes over a user's fields when fine-tuning a trained model (<c>train-fields --from</c>): a few hundred fields need more passes than the synthetic thousands, at a gentler rate.</summary>
    public const int DefaultFineTuningEpochs = 20;

    /// <summary>Peak learning rate when fine-tuning a trained model: a quarter of training's, so the pretrained features are adjusted rather than relearned.</summary>
    public const double DefaultFineTuningLearningRate = DefaultLearningRate / 4;

    /// <summary>Default share of the rows held out for validation when no validation data is given.</summary>
    public const double DefaultValidationFraction = 0.1;

    /// <summary>Default width of the CTC prefix beam.</summary>
    public const int DefaultBeamWidth = 8;

    private readonly IHostEnvironment environment;
    private readonly Options options;

    internal LineRecognizerTrainer(IHostEnvironment environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.environment = environment;
        this.options = options.Clone();
    }

    /// <summary>Reads the rows, trains and returns the model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type (ML.NET's schema wording).</exception>
    /// <exception cref="InvalidDataException">A row's text is empty where the kind needs one, too long, holds a character the kind cannot, or its image is missing; the message names the row.</exception>
    public LineRecognizerModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(MLNetInterop.ToShape(input.Schema));
        using var channel = environment.Start(nameof(LineRecognizerTrainer));
        return new LineTrainingLoop(environment, options, channel).Run(input);
    }

    /// <summary>The input columns plus the recognizer's outputs.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (MLNetInterop.FindColumn(inputSchema, options.ImageColumnName) is not { } image)
        {
            throw SchemaErrors.NotFound("image", options.ImageColumnName,
                "Load images first, e.g. mlContext.Transforms.LoadImages(\"Image\", imageFolder: null, \"ImagePath\").");
        }

        if (image.Kind != SchemaShape.Column.VectorKind.Scalar || image.ItemType is not ImageDataViewType)
            throw SchemaErrors.Mismatch("image", options.ImageColumnName, "Image", MLNetInterop.Describe(image), "The line recognizer reads decoded field images.");
        if (MLNetInterop.FindColumn(inputSchema, options.LabelColumnName) is not { } label)
            throw SchemaErrors.NotFound("label", options.LabelColumnName, "Name the column that holds each field's text with LabelColumnName.");
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType is not TextDataViewType)
            throw SchemaErrors.Mismatch("label", options.LabelColumnName, "String", MLNetInterop.Describe(label), "The label is the field's text.");
        return LineRecognizerModel.OutputShape(inputSchema);
    }

    /// <summary>The synthetic fields that teach a kind: amounts and digit boxes for digits, names for letters, all of them otherwise.</summary>
    public static SyntheticFieldKind SyntheticKindFor(FieldKind kind) => kind switch
    {
        FieldKind.Digits => SyntheticFieldKind.Amount,
        FieldKind.Upper or FieldKind.Letters or FieldKind.Lower => SyntheticFieldKind.Name,
        _ => SyntheticFieldKind.Mixed,
    };

    /// <summary>The trainer's options. Invalid values are all reported in one exception when the trainer is created.</summary>
    public sealed class Options
    {
        /// <summary>The text column (string). Default <c>Label</c>.</summary>
        public string LabelColumnName { get; set; } = CharacterFormat.LabelColumnName;

        /// <summary>The decoded field image column. Default <c>Image</c>.</summary>
        public string ImageColumnName { get; set; } = CharacterFormat.ImageColumnName;

        /// <summary>What the fields hold: training texts may hold only its characters, and the saved model decodes to them.</summary>
        public FieldKind Kind { get; set; } = FieldKind.Alphanumeric;

        /// <summary>Passes over the training rows (synthetic ones included).</summary>
        public int Epochs { get; set; } = DefaultEpochs;

        /// <summary>Lines per batch.</summary>
        public int BatchSize { get; set; } = DefaultBatchSize;

        /// <summary>Adam's peak learning rate.</summary>
        public double LearningRate { get; set; } = DefaultLearningRate;

        /// <summary>
        /// The number type of training: <see cref="TrainingPrecision.Auto"/> (default) trains in bfloat16 mixed precision where the
        /// CPU has native bfloat16 (AVX512_BF16 or AMX), in float32 elsewhere, as the character trainer does; the saved model is float32.
        /// </summary>
        public TrainingPrecision Precision { get; set; } = TrainingPrecision.Auto;

        /// <summary>Dropout before the network's head.</summary>
        public double DropoutRate { get; set; } = LineRecognizerNetwork.DefaultDropoutRate;

        /// <summary>Seeds the weights, the split, the order of the rows, augmentation and dropout.</summary>
        public int Seed { get; set; } = 1;

        /// <summary>Rows to validate on; when null, <see cref="ValidationFraction"/> of the rows are held out.</summary>
        public IDataView? ValidationData { get; set; }

        /// <summary>Share of the rows held out for validation when <see cref="ValidationData"/> is null (0 for none).</summary>
        public double ValidationFraction { get; set; } = DefaultValidationFraction;

        /// <summary>Synthetic fields (<see cref="SyntheticFieldGenerator"/>) added to the training rows; 0 for none.</summary>
        public int SyntheticFields { get; set; }

        /// <summary>How the synthetic fields are drawn; null for the generator's defaults for <see cref="Kind"/>.</summary>
        public SyntheticFieldOptions? Synthetic { get; set; }

        /// <summary>The glyphs the synthetic fields are drawn from; null: EMNIST from <see cref="SyntheticFieldOptions.EmnistFolder"/>.</summary>
        public ICharacterSource? SyntheticCharacters { get; set; }

        /// <summary>A saved line model (zip) to start from instead of fresh weights: fine-tuning. Read when training starts.</summary>
        public Func<Stream>? BaseModel { get; set; }

        /// <summary>
        /// Whether the BatchNorm layers keep their running mean and variance while training and normalise with them, as in
        /// inference, while their scale and shift still learn. Null (the default) freezes them when fine-tuning from
        /// <see cref="BaseModel"/>: a few hundred fields in batches of 32 would otherwise re-estimate statistics the base
        /// model learned from tens of thousands, which is what Keras' transfer-learning guide keeps BatchNormalization in
        /// inference mode for. Fine-tuned on rows 1–320 of the dev folders and scored on rows 321–400 with three seeds, frozen
        /// statistics read every run's amounts and names with a lower character error rate (benchmarks/JOURNAL.md).
        /// When they are not frozen, they are recomputed after every epoch as exact averages over 2,048 training lines, as the
        /// character trainer's <c>RecalibrateBatchNorm</c> does, instead of the moving averages of the last batches.
        /// </summary>
        /// <example>
        /// <code>
        /// var options = new LineRecognizerTrainer.Options
        /// {
        ///     Kind = FieldKind.Digits,
        ///     BaseModel = PretrainedLineModel.OpenRead,
        ///     FreezeBatchNormStatistics = false, // re-estimate them on the new fields instead
        /// };
        /// </code>
        /// </example>
        public bool? FreezeBatchNormStatistics { get; set; }

        /// <summary>Whether this run freezes them: <see cref="FreezeBatchNormStatistics"/>, or, when null, whether it fine-tunes a <see cref="BaseModel"/>.</summary>
        internal bool FreezesBatchNormStatistics => FreezeBatchNormStatistics ?? BaseModel is not null;

        /// <summary>
        /// What the network learns on (the training rows, the validation rows and the synthetic fields alike): every other row
        /// as the line of writing the field reader finds in it and the rest as they are (<see cref="LineTrainingInput.Both"/>,
        /// the default: the reader reads both views, <c>FieldReaderOptions.CrossCheckWholeField</c>, and a
        /// <c>PredictionEngine</c> the image as it is), the found lines alone, or the images alone.
        /// </summary>
        public LineTrainingInput Input { get; set; } = LineTrainingInput.Both;

        /// <summary>Perturb every batch afresh (small shifts, zoom, shear and rotation); on by default.</summary>
        public bool Augment { get; set; } = true;

        /// <summary>Where a checkpoint is written after each epoch; a run started again with the same options resumes there.</summary>
        public string? CheckpointDirectory { get; set; }

        /// <summary>Stop when <see cref="EarlyStoppingMonitor"/> has not improved for this many epochs, keeping the best epoch's weights; null never stops early.</summary>
        public int? EarlyStoppingPatience { get; set; }

        /// <summary>
        /// What early stopping watches: the validation CTC loss (<see cref="TrainingMetric.ValidationLoss"/>, the default) or
        /// the share of validation fields read exactly (<see cref="TrainingMetric.ValidationAccuracy"/>). A few fields the
        /// network cannot align at all carry much of the CTC loss, so the loss can rise while more fields are read right.
        /// </summary>
        /// <example>
        /// <code>
        /// var options = new LineRecognizerTrainer.Options { EarlyStoppingPatience = 3, EarlyStoppingMonitor = TrainingMetric.ValidationAccuracy };
        /// </code>
        /// </example>
        public TrainingMetric EarlyStoppingMonitor { get; set; } = TrainingMetric.ValidationLoss;

        /// <summary>TensorBoard event files (<c>train/</c>, <c>validation/</c>) go here; null for none.</summary>
        public string? LogDirectory { get; set; }

        /// <summary>Receives progress about a hundred times per epoch and at each epoch's end.</summary>
        public IProgress<TrainingProgress>? Progress { get; set; }

        /// <summary>Cancels training between batches (Ctrl-C in the CLI); the last checkpoint stays.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>libtorch's intra-op threads; null keeps its default (one per core).</summary>
        public int? NumberOfThreads { get; set; }

        /// <summary>A limit on the training time: the epochs the budget allows are planned from the first batches' speed and corrected after each epoch, and the schedule runs over them.</summary>
        public TimeSpan? TimeBudget { get; set; }

        /// <summary>The language whose letter frequencies and pairs the saved model's decoding follows; null reads by shape alone.</summary>
        public LetterFrequencies? LetterFrequencies { get; set; } = Text.LetterFrequencies.English;

        /// <summary>Width of the saved model's CTC prefix beam (1 is best-path decoding).</summary>
        public int BeamWidth { get; set; } = DefaultBeamWidth;

        internal Options Clone() => (Options)MemberwiseClone();

        /// <summary>Checks every option and reports all invalid values in one <see cref="ArgumentException"/>.</summary>
        public void Validate()
        {
            var problems = new List<string>();
            if (string.IsNullOrWhiteSpace(LabelColumnName))
                problems.Add($"{nameof(LabelColumnName)} is empty");
            if (string.IsNullOrWhiteSpace(ImageColumnName))
                problems.Add($"{nameof(ImageColumnName)} is empty");
            if (!Enum.IsDefined(Kind))
                problems.Add($"{nameof(Kind)} = {(int)Kind} is not a {nameof(FieldKind)}");
            if (Epochs < 1)
                problems.Add($"{nameof(Epochs)} = {Epochs} must be at least 1");
            if (BatchSize < 2)
                problems.Add($"{nameof(BatchSize)} = {BatchSize} must be at least 2");
            if (!(LearningRate > 0 && double.IsFinite(LearningRate)))
                problems.Add($"{nameof(LearningRate)} = {LearningRate} must be a positive number");
            if (!Enum.IsDefined(Precision))
                problems.Add($"{nameof(Precision)} = {(int)Precision} is not a {nameof(TrainingPrecision)}");
            if (!Enum.IsDefined(Input))
                problems.Add($"{nameof(Input)} = {(int)Input} is not a {nameof(LineTrainingInput)}");
            if (!(DropoutRate >= 0 && DropoutRate < 1))
                problems.Add($"{nameof(DropoutRate)} = {DropoutRate} must be in [0, 1)");
            if (!(ValidationFraction >= 0 && ValidationFraction < 1))
                problems.Add($"{nameof(ValidationFraction)} = {ValidationFraction} must be in [0, 1)");
            if (SyntheticFields < 0)
                problems.Add($"{nameof(SyntheticFields)} = {SyntheticFields} must be 0 or more");
            if (EarlyStoppingPatience is < 1)
                problems.Add($"{nameof(EarlyStoppingPatience)} = {EarlyStoppingPatience} must be at least 1 (or null)");
            if (EarlyStoppingMonitor is not (TrainingMetric.ValidationLoss or TrainingMetric.ValidationAccuracy))
                problems.Add($"{nameof(EarlyStoppingMonitor)} = {EarlyStoppingMonitor} must be {nameof(TrainingMetric.ValidationLoss)} or {nameof(TrainingMetric.ValidationAccuracy)} (the share of validation fields read exactly)");
            if (NumberOfThreads is < 1)
                problems.Add($"{nameof(NumberOfThreads)} = {NumberOfThreads} must be at least 1 (or null)");
            if (TimeBudget is { } budget && budget <= TimeSpan.Zero)
                problems.Add($"{nameof(TimeBudget)} = {budget} must be positive (or null)");
            if (BeamWidth < 1)
                problems.Add($"{nameof(BeamWidth)} = {BeamWidth} must be at least 1");
            problems.ThrowIfAny("LineRecognizer options");
        }
    }
}
