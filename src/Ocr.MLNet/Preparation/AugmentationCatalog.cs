using static TorchSharp.torch;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet;

/// <summary>
/// Offline augmentation on <c>mlContext.Data</c>: <c>mlContext.Data.AugmentImages(data, copiesPerImage, options)</c>
/// turns a set of character images into a larger one. For a fresh perturbation
/// every epoch instead, set <see cref="Training.CharacterCnnTrainer.Options.Augmentation"/>.
/// </summary>
public static class AugmentationCatalog
{
    /// <summary>
    /// Returns the rows of <paramref name="data"/> each followed by <paramref name="copiesPerImage"/> randomly rotated,
    /// shifted, zoomed, sheared (and, when enabled, elastically distorted) copies with the same label, computed in
    /// tensor batches by <see cref="ImageAugmenter"/> and seeded by <see cref="ImageAugmentationOptions.Seed"/>.
    /// </summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="data">Data with a string label column and a 1×32×32 (1,024 floats) pixels column, ink bright on dark.</param>
    /// <param name="copiesPerImage">Augmented copies per image, 0 or more.</param>
    /// <param name="options">The perturbation ranges and seed; null for the defaults.</param>
    /// <param name="pixelsColumnName">The pixels column.</param>
    /// <param name="labelColumnName">The label column.</param>
    /// <returns>
    /// A view with the label (string) and pixels (float 1×32×32) columns only, <c>N × (1 + copiesPerImage)</c> rows:
    /// original 0, its copies, original 1, its copies, …. The data is read and augmented once, here. Originals keep their
    /// exact values; copies are held as one byte per pixel, quantised linearly over the data's value range (0 included),
    /// which for [0, 1] pixels is a step of 1/255.
    /// </returns>
    /// <exception cref="ArgumentException">An option or <paramref name="copiesPerImage"/> is invalid (the message lists every invalid value).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (ML.NET's schema-error wording).</exception>
    /// <exception cref="InvalidDataException">A row has a missing label, a pixel vector of the wrong size, or a non-finite pixel.</exception>
    /// <example>
    /// <code>
    /// IDataView augmented = mlContext.Data.AugmentImages(data, copiesPerImage: 2, new ImageAugmentationOptions { Seed = 1 });
    /// </code>
    /// </example>
    public static IDataView AugmentImages(this DataOperationsCatalog catalog, IDataView data, int copiesPerImage,
        ImageAugmentationOptions? options, string pixelsColumnName = EmnistLoaderOptions.DefaultPixelsColumnName,
        string labelColumnName = EmnistLoaderOptions.DefaultLabelColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return OfflineAugmentation.Augment(data, copiesPerImage, options, pixelsColumnName, labelColumnName);
    }

    /// <summary>
    /// Returns the rows of <paramref name="data"/> followed by a continental copy of every one (a long up-stroke drawn
    /// from the top of its stem) and of every seven (a bar drawn across its stem), so that a network trained on NIST's
    /// American handwriting also reads digits written the European and Latin American way.
    /// </summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="data">Data with a string label column and a 1×32×32 (1,024 floats) pixels column, ink bright on dark.</param>
    /// <param name="pixelsColumnName">The pixels column.</param>
    /// <param name="labelColumnName">The label column.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns only: the input's rows, then the copies.</returns>
    /// <remarks>
    /// The data is read once, here, and held in memory (4 KiB per image). Meant for digit models (amounts, codes): in a
    /// model that also has letter classes, a bare stem then reads as I or l rather than 1 (benchmarks/README.md).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (ML.NET's schema-error wording).</exception>
    /// <exception cref="InvalidDataException">A row has a missing label, a pixel vector of the wrong size, or a non-finite pixel.</exception>
    /// <example>
    /// <code>
    /// IDataView digits = mlContext.Data.AddContinentalDigits(mlContext.Data.LoadFromEmnist("emnist-mnist-test", split: "test"));
    /// </code>
    /// </example>
    public static IDataView AddContinentalDigits(this DataOperationsCatalog catalog, IDataView data,
        string pixelsColumnName = EmnistLoaderOptions.DefaultPixelsColumnName, string labelColumnName = EmnistLoaderOptions.DefaultLabelColumnName)
        => AddContinentalDigits(catalog, data, new ContinentalDigitOptions(), pixelsColumnName, labelColumnName);

    /// <summary>
    /// Returns the rows of <paramref name="data"/> followed by the continental copies that <paramref name="options"/>
    /// asks for: flagged ones, crossed sevens, or both, with their labels and seed.
    /// </summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="data">Data with a string label column and a 1×32×32 (1,024 floats) pixels column, ink bright on dark.</param>
    /// <param name="options">Which copies, the two labels and the seed.</param>
    /// <param name="pixelsColumnName">The pixels column.</param>
    /// <param name="labelColumnName">The label column.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns only: the input's rows, then the copies.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the message lists every invalid value).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (ML.NET's schema-error wording).</exception>
    /// <exception cref="InvalidDataException">A row has a missing label, a pixel vector of the wrong size, or a non-finite pixel.</exception>
    /// <example>
    /// <code>
    /// IDataView digits = mlContext.Data.AddContinentalDigits(data, new ContinentalDigitOptions { CrossedSevens = false, Seed = 7 });
    /// </code>
    /// </example>
    public static IDataView AddContinentalDigits(this DataOperationsCatalog catalog, IDataView data, ContinentalDigitOptions options,
        string pixelsColumnName = EmnistLoaderOptions.DefaultPixelsColumnName, string labelColumnName = EmnistLoaderOptions.DefaultLabelColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return ContinentalDigits.Add(data, options, pixelsColumnName, labelColumnName);
    }
}
