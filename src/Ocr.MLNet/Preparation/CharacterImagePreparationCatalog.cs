using Ocr.MLNet.Preparation;

namespace Ocr.MLNet;

/// <summary>Adds <c>PrepareCharacterImages</c> to <c>mlContext.Transforms</c>.</summary>
public static class CharacterImagePreparationCatalog
{
    /// <summary>
    /// Turns character images of any size and either ink polarity into the network's 1×32×32 pixel column, as EMNIST
    /// prepared NIST SD19; saved and reloaded with the model, so the model reads raw images by itself.
    /// </summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="outputColumnName">The pixel column to add (1,024 floats). Default <c>Pixels</c>.</param>
    /// <param name="inputColumnName">The image column (<see cref="MLImage"/>); <see langword="null"/> reads <paramref name="outputColumnName"/>. Default <c>Image</c>.</param>
    /// <returns>An estimator whose transformer is made of ML.NET's own saveable transforms.</returns>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
    ///     .Append(mlContext.Transforms.PrepareCharacterImages())
    ///     .Append(mlContext.MulticlassClassification.Trainers.CharacterCnn());
    /// </code>
    /// </example>
    public static CharacterImagePreparingEstimator PrepareCharacterImages(this TransformsCatalog catalog,
        string outputColumnName = CharacterFormat.PixelsColumnName, string? inputColumnName = CharacterFormat.ImageColumnName) =>
        catalog.PrepareCharacterImages(new CharacterImagePreparingOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName });

    /// <summary>Turns character images into the network's pixel column, with options (columns, ink polarity).</summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="options">The options; invalid values are all reported in one exception.</param>
    /// <returns>An estimator whose transformer is made of ML.NET's own saveable transforms.</returns>
    /// <example>
    /// <code>
    /// var prepare = mlContext.Transforms.PrepareCharacterImages(new CharacterImagePreparingOptions
    /// {
    ///     InputColumnName = "Scan",
    ///     Polarity = InkPolarity.DarkOnLight,
    /// });
    /// </code>
    /// </example>
    public static CharacterImagePreparingEstimator PrepareCharacterImages(this TransformsCatalog catalog, CharacterImagePreparingOptions options) =>
        new(MLNetInterop.EnvironmentOf(catalog), options);
}
