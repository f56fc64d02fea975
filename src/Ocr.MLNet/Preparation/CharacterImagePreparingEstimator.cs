using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// Turns an image column (any size, dark ink on light paper or the reverse, with or without transparency) into the
/// network's 1×32×32 pixel column, the way EMNIST prepared NIST SD19 and the loaders prepare training images.
/// Create it with <c>mlContext.Transforms.PrepareCharacterImages(...)</c>.
/// </summary>
/// <remarks>
/// <para>The fitted transformer is a chain of ML.NET's own saveable transforms, so a saved model needs no Ocr.MLNet:</para>
/// <list type="number">
/// <item><description><c>ResizeImages</c> to 128×128 (NIST SD19's size), keeping the aspect ratio;</description></item>
/// <item><description><c>ExtractPixels</c>: the A, R, G, B planes scaled to [0, 1];</description></item>
/// <item><description><c>ApplyOnnxModel</c> with the preprocessing graph: grey level, alpha over white, ink polarity from
/// the border, blur, crop to the ink box, centring, area down-sampling to 28×28, padding to 32×32;</description></item>
/// <item><description><c>DropColumns</c>: the two intermediate columns, so only the pixel column is added.</description></item>
/// </list>
/// <para>
/// The input column is left as it is. Give a <c>PredictionEngine</c> a new <see cref="MLImage"/> for every call: ML.NET's
/// <c>ResizeImages</c> passes an image that already has the target size through and disposes it with the next row.
/// </para>
/// </remarks>
public sealed class CharacterImagePreparingEstimator : IEstimator<ITransformer>
{
    /// <summary>Side of the square image the preprocessing graph reads (NIST SD19's 128, so SD19 images pass unresized).</summary>
    internal const int GraphImageSide = CharacterPreprocessingGraph.DefaultImageSide;

    // Intermediate columns, dropped at the end of the chain; named so they cannot shadow a user's column by accident.
    private const string ResizedImageColumnName = "Ocr.MLNet.ResizedImage";
    private const string ImagePixelsColumnName = CharacterPreprocessingGraph.InputColumnName;

    private readonly IHostEnvironment environment;
    private readonly CharacterImagePreparingOptions options;

    internal CharacterImagePreparingEstimator(IHostEnvironment environment, CharacterImagePreparingOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.environment = environment;
        this.options = options.Clone();
    }

    /// <summary>Builds the chain for <paramref name="input"/>'s schema; nothing is learned from the rows.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or not an image column.</exception>
    public ITransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(MLNetInterop.ToShape(input.Schema));
        var imageType = (ImageDataViewType)input.Schema[options.InputColumn].Type;
        byte[] graph = CharacterPreprocessingGraph.Build(GraphImageSide, options.OutputColumnName, options.Polarity);
        return SelfContainedChain.Build(environment,
            context => context.Transforms.ResizeImages(ResizedImageColumnName, GraphImageSide, GraphImageSide, options.InputColumn,
                    ImageResizingEstimator.ResizingKind.IsoPad)
                .Append(context.Transforms.ExtractPixels(ImagePixelsColumnName, ResizedImageColumnName, ImagePixelExtractingEstimator.ColorBits.All,
                    ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, outputAsFloatArray: false))
                .Append(context.Transforms.ApplyOnnxModel([options.OutputColumnName], [ImagePixelsColumnName], new MemoryStream(graph, writable: false)))
                .Append(context.Transforms.DropColumns(ResizedImageColumnName, ImagePixelsColumnName)),
            context => EmptyImageView(context, options.InputColumn, imageType));
    }

    /// <summary>The input columns plus the pixel column (a known-size vector of floats).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or not an image column.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        string input = options.InputColumn;
        if (MLNetInterop.FindColumn(inputSchema, input) is not { } column)
        {
            throw SchemaErrors.NotFound("image", input,
                "Load images first, e.g. mlContext.Transforms.LoadImages(\"Image\", imageFolder: null, \"ImagePath\"), or name the image column with inputColumnName.");
        }

        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not ImageDataViewType)
        {
            throw SchemaErrors.Mismatch("image", input, "Image", MLNetInterop.Describe(column),
                "PrepareCharacterImages reads decoded images; pixels that are already 1×32×32 go to the trainer directly.");
        }

        return MLNetInterop.WithColumns(inputSchema, new DataViewSchema.DetachedColumn(options.OutputColumnName,
            new VectorDataViewType(NumberDataViewType.Single, 1, 1, CharacterFormat.ImageSide, CharacterFormat.ImageSide)));
    }

    private static IDataView EmptyImageView(MLContext context, string columnName, ImageDataViewType type)
    {
        var definition = SchemaDefinition.Create(typeof(ImageRow));
        definition[0].ColumnName = columnName;
        definition[0].ColumnType = type;
        return context.Data.LoadFromEnumerable(Array.Empty<ImageRow>(), definition);
    }

    private sealed class ImageRow
    {
        // ML.NET needs a declared image type to build the schema; the input column's own type replaces it.
        [ImageType(GraphImageSide, GraphImageSide)]
        public MLImage? Image { get; set; }

        // ML.NET saves a model with its input schema and cannot save an image column; one saveable column lets it.
        public float Unused { get; set; }
    }
}
