using Ocr.MLNet.Lines;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Text;
using Ocr.MLNet.IO;

namespace Ocr.MLNet;

/// <summary>
/// Adds the line recognizer to ML.NET's catalogs: the trainer on <c>mlContext.MulticlassClassification.Trainers</c> (where
/// ML.NET puts its own sequence trainers), and loading saved line models on <c>mlContext.Model</c>.
/// </summary>
public static class LineRecognizerCatalog
{
    /// <summary>
    /// Trains a line recognizer (a CRNN with CTC, TorchSharp) on field images and their texts. Reads a decoded image column
    /// and a text label column; the model adds <c>Score</c>, <c>Text</c>, <c>TextConfidence</c> and <c>CharacterPositions</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// // rows of (ImagePath, Label): e.g. a folder of cheque amounts and their text
    /// var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: "amounts", "ImagePath")
    ///     .Append(mlContext.MulticlassClassification.Trainers.LineRecognizer(kind: FieldKind.Digits));
    /// var model = pipeline.Fit(rows);
    /// mlContext.Model.Save(model, rows.Schema, "amounts.zip");
    /// </code>
    /// </example>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The text column.</param>
    /// <param name="imageColumnName">The decoded image column.</param>
    /// <param name="kind">What the fields hold.</param>
    /// <param name="epochs">Passes over the rows.</param>
    public static LineRecognizerTrainer LineRecognizer(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = CharacterFormat.LabelColumnName,
        string imageColumnName = CharacterFormat.ImageColumnName,
        FieldKind kind = FieldKind.Alphanumeric,
        int epochs = LineRecognizerTrainer.DefaultEpochs) =>
        catalog.LineRecognizer(new LineRecognizerTrainer.Options
        {
            LabelColumnName = labelColumnName,
            ImageColumnName = imageColumnName,
            Kind = kind,
            Epochs = epochs,
        });

    /// <summary>Trains a line recognizer with every option: fine-tuning from a saved model, synthetic fields, checkpoints, early stopping.</summary>
    /// <example>
    /// <code>
    /// var trainer = mlContext.MulticlassClassification.Trainers.LineRecognizer(new LineRecognizerTrainer.Options
    /// {
    ///     Kind = FieldKind.Digits,
    ///     BaseModel = PretrainedLineModel.OpenRead,   // fine-tune the shipped model
    ///     Epochs = 15,
    /// });
    /// </code>
    /// </example>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The options; invalid values are all reported in one exception.</param>
    public static LineRecognizerTrainer LineRecognizer(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        LineRecognizerTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new LineRecognizerTrainer(MLNetInterop.EnvironmentOf(catalog), options);
    }

    /// <summary>
    /// Loads a saved line model as ML.NET transforms, after registering its decoding step with the context and checking the
    /// zip's checksums. The model reads the image column it was trained on (<c>Image</c> by default).
    /// </summary>
    /// <example>
    /// <code>
    /// ITransformer model = mlContext.Model.LoadLineModel("amounts.zip", out var schema);
    /// var engine = mlContext.Model.CreatePredictionEngine&lt;LineImage, LineText&gt;(model);
    /// </code>
    /// </example>
    /// <exception cref="InvalidDataException">The file is damaged or not a line model (the message names it).</exception>
    public static ITransformer LoadLineModel(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(path);
        using (var stream = BoundedFile.OpenRead(path))
            LineRecognizerModel.ReadOnnx(stream, path);
        var environment = MLNetInterop.EnvironmentOf(catalog);
        LineRecognizerModel.RegisterDecoding(environment);
        return CharacterModelLoader.ReadWithSessionOptions(catalog, (ModelOperationsCatalog c, out DataViewSchema schema) => c.Load(path, out schema), out inputSchema);
    }

    /// <summary>
    /// Loads a saved line model for reading batches of fields: <see cref="Lines.LineRecognizer"/> runs its ONNX graph over many
    /// fields per call and decodes each with a beam search, giving per-character boxes as well.
    /// </summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="path">The zip written by <c>ocr-mlnet train-fields</c> or <c>SaveCharacterModel</c>.</param>
    /// <param name="intraOpThreads">ONNX Runtime's intra-op threads; 0 (the default) for one per processor, the batch policy of README.md's "Serving".</param>
    /// <returns>The recognizer; dispose it to release its ONNX Runtime session.</returns>
    /// <exception cref="InvalidDataException">The file is damaged or holds no line model; the message names it.</exception>
    /// <example>
    /// <code>
    /// using var lines = mlContext.Model.LoadLineRecognizer("amounts.zip");
    /// IReadOnlyList&lt;LineReading&gt; readings = lines.Read(images, FieldKind.Digits);
    /// </code>
    /// </example>
    public static LineRecognizer LoadLineRecognizer(this ModelOperationsCatalog catalog, string path, int intraOpThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentOutOfRangeException.ThrowIfNegative(intraOpThreads);
        return Lines.LineRecognizer.Load(path, intraOpThreads);
    }

    /// <summary>Loads the line model that ships inside Ocr.MLNet (<see cref="PretrainedLineModel"/>) for reading batches of fields.</summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="intraOpThreads">ONNX Runtime's intra-op threads; 0 (the default) for one per processor.</param>
    /// <returns>The recognizer; dispose it to release its ONNX Runtime session.</returns>
    /// <example><code>using var lines = mlContext.Model.LoadPretrainedLineRecognizer();</code></example>
    public static LineRecognizer LoadPretrainedLineRecognizer(this ModelOperationsCatalog catalog, int intraOpThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentOutOfRangeException.ThrowIfNegative(intraOpThreads);
        using var stream = PretrainedLineModel.OpenRead();
        return Lines.LineRecognizer.Load(stream, intraOpThreads);
    }

    /// <summary>Loads the line model that ships inside Ocr.MLNet (<see cref="PretrainedLineModel"/>) as ML.NET transforms.</summary>
    public static ITransformer LoadPretrainedLineModel(this ModelOperationsCatalog catalog, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        LineRecognizerModel.RegisterDecoding(MLNetInterop.EnvironmentOf(catalog));
        using var stream = PretrainedLineModel.OpenRead();
        return CharacterModelLoader.ReadWithSessionOptions(catalog, (ModelOperationsCatalog c, out DataViewSchema schema) => c.Load(stream, out schema), out inputSchema);
    }
}

/// <summary>A row for a line model's <c>PredictionEngine</c>: a decoded field image.</summary>
public sealed class LineImage
{
    /// <summary>The field image.</summary>
    [Microsoft.ML.Transforms.Image.ImageType(LineImageFormat.Height, LineImageFormat.Width)]
    public MLImage? Image { get; set; }
}

/// <summary>A row for a saved line model's <c>PredictionEngine</c> (as <c>train-fields</c> saves it): the path of a field image.</summary>
public sealed class FieldImageFile
{
    /// <summary>The image file.</summary>
    public string ImagePath { get; set; } = "";
}
