using SkiaSharp;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet;

/// <summary>
/// Loads character images into ML.NET: <c>mlContext.Data.LoadFromNistSd19(...)</c>,
/// <c>LoadFromImageFolder(...)</c> and <c>LoadFromImages(...)</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each returns an <see cref="IDataView"/> with the same two columns as <c>LoadFromEmnist</c>, so SD19 scans and
/// EMNIST reach the network in one form:
/// <list type="bullet">
/// <item><c>Label</c> (string): the character ("A", "a", "7"), or for an image folder the class folder's name.</item>
/// <item><c>Pixels</c> (float vector, 1×32×32 = 1024): the image converted by
/// <see cref="CharacterImageConverter.ToEmnistPixels(SKBitmap, InkPolarity)"/> — ink bright on dark in [0, 1],
/// blurred, cropped, centred, down-sampled to 28×28 the way EMNIST prepared SD19, and padded to 32×32 as
/// <c>LoadFromEmnist</c> pads.</item>
/// </list>
/// Files are listed (and by default decoded once to check them) when the method is called, then decoded again per
/// row as a cursor reads it, so memory stays at about 50 bytes per file. Bad files throw a
/// <see cref="CharacterDataException"/> naming them unless <see cref="CharacterImageLoaderOptions.SkipBadFiles"/>
/// is set; the list of skipped files is then <see cref="LoadedImages.GetSkippedFiles"/><c>(view)</c>, and each
/// skipped file is also logged to <c>mlContext.Log</c> as a Warning.
/// </para>
/// </remarks>
public static class CharacterImageCatalog
{
    /// <summary>Loads NIST SD19 <c>by_class</c> images (all partitions found).</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="directory">
    /// SD19's <c>by_class</c> folder, one of its class folders, or any folder above them. Partition folders
    /// <c>train_&lt;hex&gt;</c> and <c>hsf_&lt;n&gt;</c> are found at any depth (<c>by_class/41/train_41/train_41_00000.png</c>,
    /// <c>by_class/41/hsf_0/hsf_0_00000.png</c>, or with an extra parent folder). The class is the hex ASCII code in the
    /// <c>train_&lt;hex&gt;</c> folder name, or for <c>hsf_&lt;n&gt;</c> the name of its parent <c>&lt;hex&gt;</c> folder.
    /// </param>
    /// <returns>A view with columns <c>Label</c> (string) and <c>Pixels</c> (float 1×32×32).</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (the message names it and the fix), or no SD19 partition folder.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromNistSd19("by_class");
    /// </code>
    /// </example>
    public static IDataView LoadFromNistSd19(this DataOperationsCatalog catalog, string directory) =>
        LoadFromNistSd19(catalog, directory, new Sd19LoaderOptions());

    /// <summary>Loads NIST SD19 <c>by_class</c> images, with options (partitions, column names, skipping bad files).</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="directory">SD19's <c>by_class</c> folder, one of its class folders, or any folder above them.</param>
    /// <param name="options">Options; <see langword="null"/> for the defaults.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns named in <paramref name="options"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the message lists every invalid value).</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (and <c>SkipBadFiles</c> is off), or no SD19 partition folder.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromNistSd19("by_class", new Sd19LoaderOptions { SkipBadFiles = true });
    /// var skipped = LoadedImages.GetSkippedFiles(data);
    /// </code>
    /// </example>
    public static IDataView LoadFromNistSd19(this DataOperationsCatalog catalog, string directory, Sd19LoaderOptions? options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        options ??= new Sd19LoaderOptions();
        return AsDataView(catalog, "LoadFromNistSd19", Sd19Loader.Load(directory, options), options);
    }

    /// <summary>Loads a class-per-folder image tree (PNG, JPEG, BMP, GIF, WebP of any size); ink polarity detected per image.</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="directory">The root: each folder directly in it is a class, its name the label; its images may lie in subfolders.</param>
    /// <returns>A view with columns <c>Label</c> (string) and <c>Pixels</c> (float 1×32×32).</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (the message names it and the fix), or no class folder.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromImageFolder("letters");   // letters/A/*.png, letters/B/*.png, …
    /// </code>
    /// </example>
    public static IDataView LoadFromImageFolder(this DataOperationsCatalog catalog, string directory) =>
        LoadFromImageFolder(catalog, directory, new ImageFolderLoaderOptions());

    /// <summary>Loads a class-per-folder image tree, with options (ink polarity, column names, skipping bad files).</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="directory">The root: each folder directly in it is a class, its name the label.</param>
    /// <param name="options">Options; <see langword="null"/> for the defaults.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns named in <paramref name="options"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the message lists every invalid value).</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (and <c>SkipBadFiles</c> is off), or no class folder.</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromImageFolder("scans", new ImageFolderLoaderOptions { InkPolarity = InkPolarity.DarkOnLight });
    /// </code>
    /// </example>
    public static IDataView LoadFromImageFolder(this DataOperationsCatalog catalog, string directory, ImageFolderLoaderOptions? options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        options ??= new ImageFolderLoaderOptions();
        return AsDataView(catalog, "LoadFromImageFolder", ImageFolderLoader.Load(directory, options), options);
    }

    /// <summary>Loads labelled encoded images (PNG, JPEG, … bytes) held in memory; converted once, now.</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="images">Label and encoded image of each row.</param>
    /// <param name="options">Options (ink polarity, column names, skipping bad images); <see langword="null"/> for the defaults.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns.</returns>
    /// <exception cref="CharacterDataException">An image cannot be decoded or has an empty label (and <c>SkipBadFiles</c> is off).</exception>
    /// <example>
    /// <code>
    /// IDataView data = mlContext.Data.LoadFromImages([("A", File.ReadAllBytes("a.png")), ("B", File.ReadAllBytes("b.png"))]);
    /// </code>
    /// </example>
    public static IDataView LoadFromImages(this DataOperationsCatalog catalog, IEnumerable<(string Label, byte[] EncodedImage)> images,
        ImageFolderLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        options ??= new ImageFolderLoaderOptions();
        return AsDataView(catalog, "LoadFromImages", InMemoryImageRows.Create(images, options), options);
    }

    /// <summary>Loads labelled decoded images held in memory; converted once, now (the bitmaps are not kept or disposed).</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="images">Label and image of each row.</param>
    /// <param name="options">Options (ink polarity, column names, skipping bad images); <see langword="null"/> for the defaults.</param>
    /// <returns>A view with the label (string) and pixels (float 1×32×32) columns.</returns>
    /// <exception cref="CharacterDataException">An image is null or empty or has an empty label (and <c>SkipBadFiles</c> is off).</exception>
    /// <example>
    /// <code>
    /// using var bitmap = SKBitmap.Decode("a.png");
    /// IDataView data = mlContext.Data.LoadFromImages([("A", bitmap)]);
    /// </code>
    /// </example>
    public static IDataView LoadFromImages(this DataOperationsCatalog catalog, IEnumerable<(string Label, SKBitmap Image)> images,
        ImageFolderLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        options ??= new ImageFolderLoaderOptions();
        return AsDataView(catalog, "LoadFromImages", InMemoryImageRows.Create(images, options), options);
    }

    /// <summary>The view over a loader's rows; its skipped inputs also go to <c>mlContext.Log</c> as warnings.</summary>
    private static IDataView AsDataView<TRows>(DataOperationsCatalog catalog, string loader, TRows rows, CharacterImageLoaderOptions options)
        where TRows : ILoadedRows
    {
        LoaderLog.WarnSkipped(catalog, loader, rows);
        return new CharacterDataView<TRows>(rows, options.LabelColumnName, options.PixelsColumnName);
    }
}
