using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Training;

/// <summary>
/// Trains the seed's CNN (<see cref="CharacterCnnNetwork"/>) with TorchSharp on a label column and a
/// 1×32×32 pixel (or 32×32 image) column, and returns a <see cref="CharacterCnnModel"/> built from ML.NET's
/// own saveable transformers: the trained network as ONNX in ML.NET's OnnxTransformer, class names inside it.
/// </summary>
/// <remarks>
/// Create it with <c>mlContext.MulticlassClassification.Trainers.CharacterCnn(...)</c>. The model adds
/// <c>Score</c> (one probability per class, in <see cref="CharacterCnnModel.ClassNames"/> order: ordinal order
/// of string labels, key order of key labels) and <c>PredictedLabel</c> (the class name, a string).
/// </remarks>
public sealed partial class CharacterCnnTrainer : IEstimator<CharacterCnnModel>
{
    /// <summary>Name of the probabilities column the model adds.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>Name of the predicted-class column the model adds.</summary>
    public const string PredictedLabelColumnName = "PredictedLabel";

    private readonly IHostEnvironment environment;
    private readonly MLContext mlContext;
    private readonly Options options;

    /// <param name="environment">The user's ML.NET environment (its log receives the trainer's messages); null for a private one.</param>
    /// <param name="options">Validated here.</param>
    internal CharacterCnnTrainer(IHostEnvironment? environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // Transforms are built in an MLContext; a catalog hands out only its environment, so use a private context then.
        mlContext = environment as MLContext ?? new MLContext(options.Seed);
        this.environment = environment ?? mlContext;
        this.options = options;
    }

    /// <summary>The options this trainer was created with.</summary>
    public Options TrainerOptions => options;

    /// <summary>Trains the network on <paramref name="input"/> and returns the ML.NET model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (ML.NET's schema-error wording).</exception>
    /// <exception cref="InvalidDataException">The data is empty, has one class only, a missing label or a non-finite pixel.</exception>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled; the last checkpoint stays readable.</exception>
    public CharacterCnnModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var host = environment.Register("CharacterCnn");
        using var channel = host.Start("Training");
        var token = options.CancellationToken;
        options.Progress?.Report(new TrainingProgress(TrainingPhase.Preparing, 0, options.Epochs, 0, 0, double.NaN, double.NaN, null));

        var kind = LabeledImagesReader.CheckSchema(MLNetInterop.ToShape(input.Schema), options.LabelColumnName, options.FeatureColumnName);

        // An image column becomes pixels through ML.NET's own transforms, fitted once: the same transformer reads the
        // training and validation data and goes in front of the network in the model.
        string pixelColumn = options.FeatureColumnName;
        ITransformer? extractor = null;
        if (kind == ImageColumnKind.Image)
        {
            pixelColumn = LabeledImagesReader.ExtractedPixelsColumnName;
            extractor = CharacterImagePipeline.FromImages(mlContext, options.FeatureColumnName, pixelColumn).Fit(input);
        }

        LabeledImages Read(IDataView data, IReadOnlyList<string>? classNames, string role) =>
            LabeledImagesReader.Read(extractor?.Transform(data) ?? data, options.LabelColumnName, pixelColumn, options.FeatureColumnName, classNames, role, token);

        var all = Read(input, null, "training");
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

        MLNetInterop.Info(channel, string.Create(CultureInfo.InvariantCulture,
            $"Training on {train.Count} images of {train.ClassNames.Count} classes{(validation is null ? "" : $", validating on {validation.Count}")}."));

        TorchBackend.EnsureLoaded();
        var (network, history) = new TrainingLoop(options, channel).Run(train, validation);
        using (network)
        {
            var last = history.Epochs.Count > 0 ? history.Epochs[^1] : null;
            options.Progress?.Report(new TrainingProgress(TrainingPhase.Exporting, last?.Epoch ?? 0, options.Epochs, 0, 0,
                last?.TrainingLoss ?? double.NaN, last?.TrainingAccuracy ?? double.NaN, null));

            byte[] onnx = CharacterCnnOnnxExporter.Export(network, train.ClassNames, pixelColumn);
            var scorer = OnnxModelBuilder.Build(mlContext, onnx);
            if (extractor is not null)
                scorer = new TransformerChain<ITransformer>(extractor, scorer);
            return new CharacterCnnModel(scorer, onnx, train.ClassNames, history, options.FeatureColumnName);
        }
    }

    /// <summary>The schema after the model: the input columns plus <c>Score</c> and <c>PredictedLabel</c>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        LabeledImagesReader.CheckSchema(inputSchema, options.LabelColumnName, options.FeatureColumnName);
        var builder = new DataViewSchema.Builder();
        foreach (var column in inputSchema)
        {
            if (column.Name is ScoreColumnName or PredictedLabelColumnName)
                continue;
            DataViewType type = column.Kind switch
            {
                SchemaShape.Column.VectorKind.Scalar => column.ItemType,
                SchemaShape.Column.VectorKind.Vector => new VectorDataViewType((PrimitiveDataViewType)column.ItemType, 1),
                _ => new VectorDataViewType((PrimitiveDataViewType)column.ItemType),
            };
            builder.AddColumn(column.Name, type);
        }

        builder.AddColumn(ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
        builder.AddColumn(PredictedLabelColumnName, TextDataViewType.Instance);
        return MLNetInterop.ToShape(builder.ToSchema());
    }
}
