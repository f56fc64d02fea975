using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Training;

/// <summary>
/// Trains the CharacterCnn network (<see cref="CharacterCnnNetwork"/>) with TorchSharp on a label column and a 1×32×32 pixel column,
/// and returns a <see cref="CharacterCnnModel"/> built from ML.NET's own saveable transformers: the trained network as ONNX
/// in ML.NET's OnnxTransformer, followed by ML.NET's key mapping.
/// </summary>
/// <remarks>
/// Create it with <c>mlContext.MulticlassClassification.Trainers.CharacterCnn(...)</c>. The model adds ML.NET's multiclass
/// columns: <c>Score</c> (one probability per class, the class names as slot names), <c>PredictedLabel</c> (a key whose key
/// values are the class names) and <c>PredictedCharacter</c> (the class name as a string). The classes are the key values in
/// key order for a key label (so <c>MulticlassClassification.Evaluate</c> runs on the scored data as it is), the distinct
/// values in ordinal order for a string label.
/// </remarks>
public sealed partial class CharacterCnnTrainer : IEstimator<CharacterCnnModel>
{
    private readonly IHostEnvironment environment;
    private readonly Options options;

    /// <param name="environment">The user's ML.NET environment: its log receives the trainer's messages, and the model is built in it.</param>
    /// <param name="options">Validated and copied here.</param>
    internal CharacterCnnTrainer(IHostEnvironment environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.environment = environment;
        this.options = options;
    }

    /// <summary>The options this trainer was created with.</summary>
    public Options TrainerOptions => options;

    /// <summary>Trains the network on <paramref name="input"/> and returns the ML.NET model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (ML.NET's schema-error wording).</exception>
    /// <exception cref="InvalidDataException">The data is empty, has one class only, a missing label or a non-finite pixel.</exception>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled; the last checkpoint stays readable.</exception>
    /// <exception cref="TrainingDivergedException">A batch's loss was NaN or infinite (lower the learning rate); the last checkpoint stays as it was.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint directory holds another run's checkpoint (the message lists every difference), or one past <see cref="Options.Epochs"/>.</exception>
    public CharacterCnnModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var host = environment.Register("CharacterCnn");
        using var channel = host.Start("Training");
        var token = options.CancellationToken;
        options.Progress?.Report(new TrainingProgress(TrainingPhase.Preparing, 0, options.Epochs, 0, 0, double.NaN, double.NaN, null));

        string pixelColumn = options.FeatureColumnName;
        LabeledImagesReader.CheckSchema(MLNetInterop.ToShape(input.Schema), options.LabelColumnName, pixelColumn);

        LabeledImages Read(IDataView data, IReadOnlyList<string>? classNames, string role) =>
            LabeledImagesReader.Read(data, options.LabelColumnName, pixelColumn, pixelColumn, classNames, role, token);

        var (baseClasses, baseGraph) = ReadBaseModel();
        LabeledImages all;
        try
        {
            all = Read(input, baseClasses, "training");
        }
        catch (InvalidDataException e) when (baseClasses is not null)
        {
            throw new InvalidDataException($"Fine-tuning keeps the base model's classes ({string.Join(" ", baseClasses)}), so every label must be one of them: {e.Message}", e);
        }

        LabeledImages train = all;
        LabeledImages? validation = null;
        if (options.ValidationData is { } validationData)
        {
            validation = Read(validationData, all.ClassNames, "validation");
        }
        else if (options.ValidationFraction > 0)
        {
            if (all.Count < 2)
                throw new InvalidDataException($"The training data has {all.Count} row; holding out a validation fraction needs at least 2. Add data or set ValidationFraction = 0.");
            (train, validation) = all.Split(options.ValidationFraction, options.Seed);
        }

        channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
            $"Training on {train.Count} images of {train.ClassNames.Count} classes{(validation is null ? "" : $", validating on {validation.Count}")}."));

        TorchBackend.EnsureLoaded();
        NativeMemoryTuning.ApplyForTraining();
        var (network, history) = new TrainingLoop(options, channel).Run(train, validation, baseGraph);
        using (network)
        {
            var last = history.Epochs.Count > 0 ? history.Epochs[^1] : null;
            options.Progress?.Report(new TrainingProgress(TrainingPhase.Exporting, last?.Epoch ?? 0, options.Epochs, 0, 0,
                last?.TrainingLoss ?? double.NaN, last?.TrainingAccuracy ?? double.NaN, null));

            // The activations' ranges travel with the network, so that a CharacterRecognizer can score it in int8.
            byte[] onnx = Int8Quantization.WithActivationRanges(CharacterCnnOnnxExporter.Export(network, train.ClassNames, pixelColumn),
                train.Pixels, LabeledImages.PixelsPerImage);
            return new CharacterCnnModel(ScoringChain.Build(environment, onnx), onnx, train.ClassNames, history, pixelColumn);
        }
    }

    private (IReadOnlyList<string>? ClassNames, Onnx.GraphProto? Graph) ReadBaseModel()
    {
        if (options.BaseModel is not { } open)
            return (null, null);
        using var stream = open() ?? throw new InvalidOperationException($"{nameof(Options.BaseModel)} returned no stream; return the saved model's stream.");
        string name = stream is FileStream file ? file.Name : "the base model";
        return CharacterCnnOnnxExporter.ReadSaved(stream, name);
    }

    /// <summary>
    /// The schema after the model: the input columns plus <c>Score</c> (floats with slot names), <c>PredictedLabel</c> (a key
    /// with key values) and <c>PredictedCharacter</c> (text). Sizes are known only after training.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        LabeledImagesReader.CheckSchema(inputSchema, options.LabelColumnName, options.FeatureColumnName);
        ReadOnlyMemory<char>[] placeholder = ["?".AsMemory()];
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> names = (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(1, placeholder);
        var slotNames = new DataViewSchema.Annotations.Builder();
        slotNames.Add("SlotNames", new VectorDataViewType(TextDataViewType.Instance, 1), names);
        var keyValues = new DataViewSchema.Annotations.Builder();
        keyValues.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, 1), names);
        return MLNetInterop.WithColumns(inputSchema,
            new DataViewSchema.DetachedColumn(CharacterFormat.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, 1), slotNames.ToAnnotations()),
            new DataViewSchema.DetachedColumn(CharacterFormat.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), 1), keyValues.ToAnnotations()),
            new DataViewSchema.DetachedColumn(CharacterFormat.PredictedCharacterColumnName, TextDataViewType.Instance));
    }
}
