using Microsoft.ML.Transforms.Image;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Fields;

/// <summary>
/// Reads the handwritten field in each row's image (<c>mlContext.Transforms.ReadHandwrittenText</c>): adds the text, its
/// confidence, and per character its label, confidence and box. Fitting loads the character model.
/// </summary>
/// <example>
/// <code>
/// var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
///     .Append(mlContext.Transforms.ReadHandwrittenText("ocr.zip", FieldKind.Upper));
/// using var model = pipeline.Fit(data);
/// </code>
/// </example>
public sealed class HandwrittenTextEstimator : IEstimator<HandwrittenTextTransformer>
{
    private readonly TransformsCatalog catalog;
    private readonly HandwrittenTextOptions options;

    internal HandwrittenTextEstimator(TransformsCatalog catalog, HandwrittenTextOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.catalog = catalog;
        this.options = options.Clone();
    }

    /// <summary>Loads the character model and returns the transformer that reads the images (dispose it to release the model).</summary>
    /// <param name="input">Data with the image column.</param>
    /// <returns>The transformer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or is not an image column (ML.NET's wording).</exception>
    /// <example>
    /// <code>
    /// using HandwrittenTextTransformer reader = mlContext.Transforms.ReadHandwrittenText("ocr.zip").Fit(images);
    /// </code>
    /// </example>
    public HandwrittenTextTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(MLNetInterop.ToShape(input.Schema));
        var reader = HandwrittenFieldReader.Load(options.ModelPath, options.Reader);
        try
        {
            return new HandwrittenTextTransformer(catalog, reader, options.InputColumnName, options.OutputColumnName, input.Schema[options.InputColumnName].Type);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>The input's columns and the five reading columns.</summary>
    /// <param name="inputSchema">The input's shape.</param>
    /// <returns>The output's shape.</returns>
    /// <example>
    /// <code>
    /// SchemaShape shape = pipeline.GetOutputSchema(inputShape);
    /// </code>
    /// </example>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        CheckInput(inputSchema);
        return MLNetInterop.WithColumns(inputSchema, HandwrittenTextTransformer.OutputColumns(options.OutputColumnName));
    }

    private void CheckInput(SchemaShape inputSchema)
    {
        var column = MLNetInterop.FindColumn(inputSchema, options.InputColumnName)
            ?? throw SchemaErrors.NotFound("image", options.InputColumnName, "Load the images first with mlContext.Transforms.LoadImages.");
        if (column.ItemType is not ImageDataViewType || column.Kind != SchemaShape.Column.VectorKind.Scalar)
        {
            throw SchemaErrors.Mismatch("image", options.InputColumnName, "Image", MLNetInterop.Describe(column),
                "Load the images first with mlContext.Transforms.LoadImages.");
        }
    }
}

/// <summary>
/// The fitted <c>ReadHandwrittenText</c>: reads each row's image with a <see cref="HandwrittenFieldReader"/>. It works in
/// pipelines, <c>Transform</c> and <c>PredictionEngine</c>.
/// </summary>
/// <remarks>
/// It cannot be saved with <c>mlContext.Model.Save</c>: ML.NET writes only transformers whose classes it can construct
/// again on load (<c>LoadableClassAttribute</c>, <c>ModelSaveContext</c> and <c>ModelLoadContext</c> are internal to ML.NET),
/// and its saveable <c>CustomMapping</c> is re-created on load by a parameterless factory, with no character model.
/// Its <c>Save</c> therefore throws and says what to do instead: save the character model (it is one zip) and add
/// <c>ReadHandwrittenText</c> after loading it.
/// </remarks>
/// <example>
/// <code>
/// using var model = pipeline.Fit(data);
/// using var engine = mlContext.Model.CreatePredictionEngine&lt;Input, Output&gt;(model);
/// string text = engine.Predict(new Input { ImagePath = "name.png" }).Text;
/// </code>
/// </example>
public sealed class HandwrittenTextTransformer : ITransformer, IDisposable
{
    private readonly ITransformer mapping;
    private readonly HandwrittenFieldReader reader;

    static HandwrittenTextTransformer()
    {
        // ML.NET maps MLImage members to an image column only when told: an image of any size, as LoadImages gives.
        try
        {
            DataViewTypeManager.Register(new ImageDataViewType(), typeof(MLImage));
        }
        catch (ArgumentException)
        {
            // Already registered (by another part of the app): the same mapping.
        }
    }

    internal HandwrittenTextTransformer(TransformsCatalog catalog, HandwrittenFieldReader reader, string inputColumnName, string outputColumnName, DataViewType imageType)
    {
        this.reader = reader;
        var input = SchemaDefinition.Create(typeof(ImageRow), SchemaDefinition.Direction.Read);
        input[0].ColumnName = inputColumnName;
        input[0].ColumnType = imageType;
        var output = SchemaDefinition.Create(typeof(TextRow), SchemaDefinition.Direction.Write);
        foreach (var column in output)
            column.ColumnName = column.ColumnName == nameof(TextRow.Text) ? outputColumnName : outputColumnName + column.ColumnName[nameof(TextRow.Text).Length..];
        mapping = catalog.CustomMapping<ImageRow, TextRow>(Map, contractName: null, input, output)
            .Fit(new EmptyDataView(inputColumnName, imageType));
    }

    /// <summary>The reader it reads with.</summary>
    public HandwrittenFieldReader Reader => reader;

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => mapping.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => mapping.GetRowToRowMapper(inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => mapping.Transform(input);

    /// <summary>Always throws: see the remarks of <see cref="HandwrittenTextTransformer"/> for why and what to do.</summary>
    /// <param name="ctx">ML.NET's save context.</param>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException(
        "ReadHandwrittenText cannot be saved in an ML.NET model zip: ML.NET re-creates only its own transformers on load "
        + "(its LoadableClass and ModelSaveContext APIs are internal), and a saveable CustomMapping comes back without the character model. "
        + "Save the character model instead (it is one zip) and add mlContext.Transforms.ReadHandwrittenText(modelPath) to the pipeline after loading.");

    /// <summary>Releases the character model.</summary>
    public void Dispose() => reader.Dispose();

    internal static DataViewSchema.DetachedColumn[] OutputColumns(string name)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(name, TextDataViewType.Instance);
        builder.AddColumn(name + "Confidence", NumberDataViewType.Single);
        builder.AddColumn(name + "Characters", new VectorDataViewType(TextDataViewType.Instance));
        builder.AddColumn(name + "CharacterConfidences", new VectorDataViewType(NumberDataViewType.Single));
        builder.AddColumn(name + "CharacterBoxes", new VectorDataViewType(NumberDataViewType.Single));
        return builder.ToSchema().Select(c => new DataViewSchema.DetachedColumn(c)).ToArray();
    }

    private void Map(ImageRow row, TextRow result)
    {
        var reading = row.Image is null ? FieldReading.Blank : reader.Read(row.Image);
        result.Text = reading.Text;
        result.TextConfidence = reading.Confidence;
        result.TextCharacters = reading.Characters.Select(c => c.Label).ToArray();
        result.TextCharacterConfidences = reading.Characters.Select(c => c.Confidence).ToArray();
        result.TextCharacterBoxes = reading.Characters.SelectMany(c => new float[] { c.Box.X, c.Box.Y, c.Box.Width, c.Box.Height }).ToArray();
    }

    /// <summary>The mapping's input row.</summary>
    private sealed class ImageRow
    {
        public MLImage? Image { get; set; }
    }

    /// <summary>The mapping's output row; every name but Text is renamed to the output column's name plus its suffix.</summary>
    private sealed class TextRow
    {
        public string Text { get; set; } = "";

        public float TextConfidence { get; set; }

        public string[] TextCharacters { get; set; } = [];

        public float[] TextCharacterConfidences { get; set; } = [];

        public float[] TextCharacterBoxes { get; set; } = [];
    }

    /// <summary>A view with one column and no rows: CustomMapping's Fit needs only the schema.</summary>
    private sealed class EmptyDataView(string name, DataViewType type) : IDataView
    {
        public bool CanShuffle => false;

        public DataViewSchema Schema { get; } = Build(name, type);

        public long? GetRowCount() => 0;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            throw new NotSupportedException("The schema-only view has no rows.");

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            throw new NotSupportedException("The schema-only view has no rows.");

        private static DataViewSchema Build(string name, DataViewType type)
        {
            var builder = new DataViewSchema.Builder();
            builder.AddColumn(name, type);
            return builder.ToSchema();
        }
    }
}
