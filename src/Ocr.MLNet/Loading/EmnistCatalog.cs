using Microsoft.ML;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet;

/// <summary>
/// Loads EMNIST IDX files into ML.NET: <c>mlContext.Data.LoadFromEmnist(...)</c>.
/// </summary>
/// <remarks>
/// <para>
/// These extensions live in the <c>Ocr.MLNet</c> namespace (not <c>Microsoft.ML</c>), so they appear on
/// <c>mlContext.Data</c> once <c>using Ocr.MLNet;</c> is in scope, like the rest of this library. The options
/// and the bulk <see cref="EmnistDataset"/> are in <c>Ocr.MLNet.Loading</c>.
/// </para>
/// <para>
/// The returned <see cref="IDataView"/> has two columns, in file order:
/// <list type="bullet">
/// <item><c>Label</c> (string): the character from the split's mapping file, e.g. "A", "a", "7".</item>
/// <item><c>Pixels</c> (float vector, dimensions 1×32×32 = 1024): the image upright (EMNIST stores it transposed,
/// <c>upright[r, c] = stored[c, r]</c>), ink bright on dark scaled to [0, 1] (<c>byte / 255f</c>), the 28×28 image
/// centred in 32×32 by 2 zero pixels on every side, row-major.</item>
/// </list>
/// The files are read and checked once, when the method is called; the raw bytes stay in memory
/// (785 bytes per image) and each row's floats are built as a cursor reaches it. The view can shuffle cheaply
/// (it reports <see cref="IDataView.CanShuffle"/>).
/// </para>
/// </remarks>
public static class EmnistCatalog
{
    /// <summary>Loads an EMNIST split from its images, labels and mapping files.</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="imagesPath">IDX images file (magic 2051, n×28×28 bytes), raw or gzip (detected from the content).</param>
    /// <param name="labelsPath">IDX labels file (magic 2049) of the same split, raw or gzip.</param>
    /// <param name="mappingPath">The split's <c>*-mapping.txt</c> (<c>label ascii</c> per line).</param>
    /// <returns>A view with columns <c>Label</c> (string) and <c>Pixels</c> (float 1×32×32).</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="EmnistDataException">A file is malformed or truncated, the counts disagree, or a label is not in the mapping; the message names the file, offset and fix.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromEmnist("emnist-balanced-train-images-idx3-ubyte.gz",
    ///     "emnist-balanced-train-labels-idx1-ubyte.gz", "emnist-balanced-mapping.txt");
    /// </code>
    /// </example>
    public static IDataView LoadFromEmnist(this DataOperationsCatalog catalog, string imagesPath, string labelsPath, string mappingPath) =>
        LoadFromEmnist(catalog, imagesPath, labelsPath, mappingPath, new EmnistLoaderOptions());

    /// <summary>Loads an EMNIST split from its images, labels and mapping files, with options.</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="imagesPath">IDX images file (magic 2051, n×28×28 bytes), raw or gzip (detected from the content).</param>
    /// <param name="labelsPath">IDX labels file (magic 2049) of the same split, raw or gzip.</param>
    /// <param name="mappingPath">The split's <c>*-mapping.txt</c> (<c>label ascii</c> per line).</param>
    /// <param name="options">Column names and row limit.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns named in <paramref name="options"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the message lists every invalid value).</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="EmnistDataException">A file is malformed or truncated, the counts disagree, or a label is not in the mapping.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromEmnist(images, labels, mapping, new EmnistLoaderOptions { MaxRows = 10_000 });
    /// </code>
    /// </example>
    public static IDataView LoadFromEmnist(this DataOperationsCatalog catalog, string imagesPath, string labelsPath, string mappingPath,
        EmnistLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var dataset = EmnistDataset.Load(imagesPath, labelsPath, mappingPath, options.MaxRows);
        return new CharacterDataView<EmnistDataset>(dataset, options.LabelColumnName, options.PixelsColumnName);
    }

    /// <summary>
    /// Loads the EMNIST split named <paramref name="split"/> from a directory: the files
    /// <c>{prefix}-{split}-images-idx3-ubyte[.gz]</c>, <c>{prefix}-{split}-labels-idx1-ubyte[.gz]</c> and
    /// <c>{prefix}-mapping.txt</c> (e.g. split "dev" in <c>emnist-bymerge-dev/</c> finds
    /// <c>emnist-bymerge-dev-images-idx3-ubyte.gz</c>, its labels and <c>emnist-bymerge-mapping.txt</c>).
    /// </summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="directory">Directory holding the files (e.g. NIST's extracted <c>gzip</c> folder).</param>
    /// <param name="split">The split part of the file names: "test", "train", "dev", ….</param>
    /// <returns>A view with columns <c>Label</c> (string) and <c>Pixels</c> (float 1×32×32).</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">No file, or more than one family of files, matches the split; the message lists what the directory holds.</exception>
    /// <exception cref="EmnistDataException">A file is malformed or truncated, the counts disagree, or a label is not in the mapping.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromEmnist("emnist-bymerge-dev", split: "dev");
    /// </code>
    /// </example>
    public static IDataView LoadFromEmnist(this DataOperationsCatalog catalog, string directory, string split) =>
        LoadFromEmnist(catalog, directory, split, new EmnistLoaderOptions());

    /// <summary>Loads the EMNIST split named <paramref name="split"/> from a directory, with options.</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="directory">Directory holding the files (e.g. NIST's extracted <c>gzip</c> folder).</param>
    /// <param name="split">The split part of the file names: "test", "train", "dev", ….</param>
    /// <param name="options">Column names and row limit.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns named in <paramref name="options"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the message lists every invalid value).</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">No file, or more than one family of files, matches the split; the message lists what the directory holds.</exception>
    /// <exception cref="EmnistDataException">A file is malformed or truncated, the counts disagree, or a label is not in the mapping.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromEmnist("gzip", "test", new EmnistLoaderOptions { MaxRows = 1_000 });
    /// </code>
    /// </example>
    public static IDataView LoadFromEmnist(this DataOperationsCatalog catalog, string directory, string split, EmnistLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var files = EmnistFiles.Find(directory, split);
        return LoadFromEmnist(catalog, files.ImagesPath, files.LabelsPath, files.MappingPath, options);
    }
}
