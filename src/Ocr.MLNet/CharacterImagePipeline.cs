using Microsoft.ML.Transforms.Image;
using Ocr.MLNet.Models;

namespace Ocr.MLNet;

/// <summary>
/// ML.NET's built-in image transforms that turn character images into the network's 1×32×32 pixel column,
/// so that a saved model classifies image files (or in-memory <see cref="MLImage"/>s) by itself.
/// </summary>
/// <remarks>
/// The images are expected in EMNIST's convention, white ink on a black background; the image is resized
/// to 32×32, made grey and scaled to [0, 1]. Each transform saves and reloads with the model.
/// </remarks>
public static class CharacterImagePipeline
{
    /// <summary>Input column of image file paths.</summary>
    public const string ImagePathColumnName = "ImagePath";

    /// <summary>The decoded image column.</summary>
    public const string ImageColumnName = "Image";

    /// <summary>The pixel column the network reads.</summary>
    public const string PixelsColumnName = "Pixels";

    /// <summary>Image → 32×32 grey → 1,024 floats in [0, 1] in <paramref name="pixelsColumnName"/>.</summary>
    public static IEstimator<ITransformer> FromImages(MLContext mlContext, string imageColumnName = ImageColumnName, string pixelsColumnName = PixelsColumnName)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Transforms.ResizeImages(imageColumnName, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize, imageColumnName)
            .Append(GreyPixels(mlContext, imageColumnName, pixelsColumnName));
    }

    /// <summary>A 32×32 image → its grey levels scaled to [0, 1], 1,024 floats in <paramref name="pixelsColumnName"/>; the image column is left as it is.</summary>
    internal static IEstimator<ITransformer> GreyPixels(MLContext mlContext, string imageColumnName, string pixelsColumnName) =>
        mlContext.Transforms.ConvertToGrayscale(pixelsColumnName, imageColumnName)
            .Append(mlContext.Transforms.ExtractPixels(pixelsColumnName, pixelsColumnName,
                colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255f));

    /// <summary>Image file path → decoded image → the pixels of <see cref="FromImages"/>.</summary>
    public static IEstimator<ITransformer> FromImagePaths(MLContext mlContext, string imagePathColumnName = ImagePathColumnName, string pixelsColumnName = PixelsColumnName)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Transforms.LoadImages(ImageColumnName, imageFolder: null, imagePathColumnName)
            .Append(FromImages(mlContext, ImageColumnName, pixelsColumnName));
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

    private sealed class ImagePathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class ImageRow
    {
        // ML.NET needs a declared size for an image column; ResizeImages comes first, so any size works.
        [ImageType(CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize)]
        public MLImage? Image { get; set; }
    }
}
