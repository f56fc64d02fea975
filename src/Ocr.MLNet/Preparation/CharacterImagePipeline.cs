using System.Security.Cryptography;
using Microsoft.ML.Transforms.Image;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// ML.NET transforms that turn character images of any size and either ink polarity into the network's 1×32×32
/// pixel column, exactly as the loaders prepare training images, so that a saved model classifies raw image files
/// (a NIST SD19 PNG, a scan, a drawing) or in-memory <see cref="MLImage"/>s by itself.
/// </summary>
/// <remarks>
/// <para>The chain, every step saved and reloaded with the model:</para>
/// <list type="number">
/// <item><description><c>ResizeImages</c> to <see cref="CharacterPreprocessingGraph.DefaultImageSide"/> (128, NIST SD19's size,
/// so SD19 images pass unchanged), keeping the aspect ratio (<c>IsoPad</c>);</description></item>
/// <item><description><c>ExtractPixels</c>: the A, R, G, B planes scaled to [0, 1] in <see cref="ImagePixelsColumnName"/>;</description></item>
/// <item><description><c>ApplyOnnxModel</c> with <see cref="CharacterPreprocessingGraph"/>: grey level, alpha over white, ink
/// polarity from the border, blur, crop to the ink box, centring, area down-sampling to 28×28, padding to 32×32 —
/// <see cref="CharacterImageConverter"/>'s steps, which the SD19, image-folder and in-memory loaders apply.</description></item>
/// </list>
/// </remarks>
public static class CharacterImagePipeline
{
    /// <summary>Input column of image file paths.</summary>
    public const string ImagePathColumnName = "ImagePath";

    /// <summary>The decoded image column.</summary>
    public const string ImageColumnName = "Image";

    /// <summary>The column of A, R, G, B planes the preprocessing graph reads.</summary>
    public const string ImagePixelsColumnName = CharacterPreprocessingGraph.InputColumnName;

    /// <summary>The pixel column the network reads.</summary>
    public const string PixelsColumnName = "Pixels";

    /// <summary>Image (any size) → the network's 1,024 pixels in <paramref name="pixelsColumnName"/>, as the loaders make them.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="imageColumnName">The image column; it is replaced by the resized image.</param>
    /// <param name="pixelsColumnName">The output pixel column.</param>
    /// <param name="polarity">Which way round the ink is; <see cref="InkPolarity.Detect"/> decides per image from its border.</param>
    public static IEstimator<ITransformer> FromImages(MLContext mlContext, string imageColumnName = ImageColumnName,
        string pixelsColumnName = PixelsColumnName, InkPolarity polarity = InkPolarity.Detect)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        const int side = CharacterPreprocessingGraph.DefaultImageSide;
        return mlContext.Transforms.ResizeImages(imageColumnName, side, side, imageColumnName, ImageResizingEstimator.ResizingKind.IsoPad)
            .Append(mlContext.Transforms.ExtractPixels(ImagePixelsColumnName, imageColumnName, ImagePixelExtractingEstimator.ColorBits.All,
                ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, scaleImage: 1f / 255f))
            .Append(mlContext.Transforms.ApplyOnnxModel([pixelsColumnName], [ImagePixelsColumnName],
                PreprocessingModelFile(mlContext, side, pixelsColumnName, polarity)));
    }

    /// <summary>Image file path → decoded image → the pixels of <see cref="FromImages"/>.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="imagePathColumnName">The column of image file paths.</param>
    /// <param name="pixelsColumnName">The output pixel column.</param>
    /// <param name="polarity">Which way round the ink is; <see cref="InkPolarity.Detect"/> decides per image from its border.</param>
    public static IEstimator<ITransformer> FromImagePaths(MLContext mlContext, string imagePathColumnName = ImagePathColumnName,
        string pixelsColumnName = PixelsColumnName, InkPolarity polarity = InkPolarity.Detect)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Transforms.LoadImages(ImageColumnName, imageFolder: null, imagePathColumnName)
            .Append(FromImages(mlContext, ImageColumnName, pixelsColumnName, polarity));
    }

    /// <summary>
    /// Puts <see cref="FromImagePaths"/> in front of a model trained on pixels and returns the chain with the
    /// input schema to save it with, so the saved zip classifies image files given in an <c>ImagePath</c> column.
    /// </summary>
    public static (ITransformer Model, DataViewSchema InputSchema) ForImageFiles(MLContext mlContext, ITransformer pixelModel)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return InFront(FromImagePaths(mlContext), mlContext.Data.LoadFromEnumerable(Array.Empty<ImagePathRow>()), pixelModel);
    }

    /// <summary>
    /// Puts <see cref="FromImages"/> in front of a model trained on pixels, for input rows that carry an
    /// in-memory <see cref="MLImage"/> in an <c>Image</c> column.
    /// </summary>
    /// <remarks>
    /// Give a <c>PredictionEngine</c> a new <see cref="MLImage"/> for every call: ML.NET's <c>ResizeImages</c> passes an
    /// image that already has the target size (128×128) through unchanged and disposes it when the next row arrives.
    /// </remarks>
    public static (ITransformer Model, DataViewSchema InputSchema) ForImages(MLContext mlContext, ITransformer pixelModel)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return InFront(FromImages(mlContext), mlContext.Data.LoadFromEnumerable(Array.Empty<ImageRow>()), pixelModel);
    }

    // One flat chain, so a loading app sees LoadImages first and can drop it to feed in-memory images.
    private static (ITransformer Model, DataViewSchema InputSchema) InFront(IEstimator<ITransformer> preprocessing, IDataView emptyInput, ITransformer pixelModel)
    {
        ArgumentNullException.ThrowIfNull(pixelModel);
        var fitted = preprocessing.Fit(emptyInput);
        return (new TransformerChain<ITransformer>([.. fitted as IEnumerable<ITransformer> ?? [fitted], pixelModel]), emptyInput.Schema);
    }

    /// <summary>
    /// The preprocessing graph as a file named by its content in <see cref="MLContext.TempFilePath"/>. ML.NET's
    /// <c>ApplyOnnxModel</c> copies a model given as bytes to a new temporary file it never deletes; a model given as a
    /// file is read in place, and the same graph always maps to the same file, so nothing accumulates.
    /// </summary>
    private static string PreprocessingModelFile(MLContext mlContext, int side, string pixelsColumnName, InkPolarity polarity)
    {
        byte[] model = CharacterPreprocessingGraph.Build(side, pixelsColumnName, polarity);
        string folder = Path.Combine(mlContext.TempFilePath, "ocr-mlnet");
        string path = Path.Combine(folder, $"preprocessing-{Convert.ToHexStringLower(SHA256.HashData(model))[..32]}.onnx");
        if (File.Exists(path) && new FileInfo(path).Length == model.Length)
            return path;
        Directory.CreateDirectory(folder);
        string partial = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(partial, model);
        File.Move(partial, path, overwrite: true);
        return path;
    }

    private sealed class ImagePathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class ImageRow
    {
        // ML.NET needs a declared size for an image column; ResizeImages comes first, so any size works.
        [ImageType(CharacterPreprocessingGraph.DefaultImageSide, CharacterPreprocessingGraph.DefaultImageSide)]
        public MLImage? Image { get; set; }
    }
}
