namespace Ocr.MLNet.Loading;

/// <summary>
/// What the loaders report about the data they loaded, read from the view they returned. One way for every loader:
/// <c>LoadFromNistSd19</c>, <c>LoadFromImageFolder</c>, <c>LoadFromImages</c> and <c>LoadFromEmnist</c>.
/// </summary>
public static class LoadedImages
{
    /// <summary>
    /// The files, folders or in-memory images the loader skipped as bad because
    /// <see cref="CharacterImageLoaderOptions.SkipBadFiles"/> was set, each with its reason, in the order they were
    /// found. Empty when nothing was skipped; always empty for <c>LoadFromEmnist</c>, which throws on a bad file.
    /// </summary>
    /// <param name="view">
    /// The view a loader returned, itself: a view made from it (by a transform, <c>mlContext.Data.Cache</c>, a split or
    /// a filter) does not carry the loader's report, so keep the loader's view to ask.
    /// </param>
    /// <returns>The skipped inputs: full paths, or "image #index" (the position in the input) for in-memory images.</returns>
    /// <exception cref="ArgumentException"><paramref name="view"/> is not a view a loader returned.</exception>
    /// <example>
    /// <code>
    /// var mlContext = new MLContext();
    /// var data = mlContext.Data.LoadFromImageFolder("letters", new ImageFolderLoaderOptions { SkipBadFiles = true });
    /// foreach (var skipped in LoadedImages.GetSkippedFiles(data))
    ///     Console.WriteLine($"skipped {skipped.Path}: {skipped.Reason}");
    /// </code>
    /// </example>
    public static IReadOnlyList<SkippedImageFile> GetSkippedFiles(IDataView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if ((view as ICharacterDataView)?.Rows is ILoadedRows rows)
            return rows.SkippedFiles;
        throw new ArgumentException(
            $"The view ({view.GetType().Name}) is not one that LoadFromNistSd19, LoadFromImageFolder, LoadFromImages or LoadFromEmnist returned. "
            + "Pass the loader's own view, before any transform, cache, split or filter.", nameof(view));
    }

    /// <summary>
    /// The label and full path of every row of a view that <c>LoadFromNistSd19</c> or <c>LoadFromImageFolder</c> returned, in
    /// row order: the files behind the pixels, for example to give a saved model the same images by path.
    /// </summary>
    /// <param name="view">The view the loader returned, itself.</param>
    /// <returns>One (label, path) per row.</returns>
    /// <exception cref="ArgumentException"><paramref name="view"/> is not a view of image files that a loader returned.</exception>
    /// <example>
    /// <code>
    /// var data = mlContext.Data.LoadFromNistSd19("by_class");
    /// var files = LoadedImages.GetImageFiles(data);   // [("A", "/…/train_41_00000.png"), …]
    /// </code>
    /// </example>
    public static IReadOnlyList<(string Label, string ImagePath)> GetImageFiles(IDataView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var files = ImageFileRows.FromDataView(view)
            ?? throw new ArgumentException(
                $"The view ({view.GetType().Name}) is not one that LoadFromNistSd19 or LoadFromImageFolder returned; EMNIST and in-memory images have no files. "
                + "Pass the loader's own view, before any transform, cache, split or filter.", nameof(view));
        return Enumerable.Range(0, files.Count).Select(i => (files.GetLabel(i), files.GetPath(i))).ToArray();
    }
}
