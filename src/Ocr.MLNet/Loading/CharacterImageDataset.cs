namespace Ocr.MLNet.Loading;

/// <summary>
/// Tells which loader suits a folder before loading it: <c>mlContext.Data.LoadFromEmnist</c> for EMNIST IDX files,
/// <c>LoadFromNistSd19</c> for an SD19 <c>by_class</c> tree, <c>LoadFromImageFolder</c> for a tree of class-named folders.
/// </summary>
/// <remarks>
/// The loaders themselves are the <c>mlContext.Data.LoadFrom…</c> methods; what they skipped is
/// <see cref="LoadedImages.GetSkippedFiles"/>.
/// </remarks>
public static class CharacterImageDataset
{
    /// <summary>
    /// True when <paramref name="directory"/> or a folder below it is an SD19 partition folder (<c>train_&lt;hex&gt;</c> or
    /// <c>hsf_&lt;n&gt;</c>): what tells an SD19 <c>by_class</c> tree from a plain image folder tree.
    /// </summary>
    /// <param name="directory">The folder to look in.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static bool ContainsNistSd19Partitions(string directory) =>
        Sd19Layout.ContainsPartitions(ImageFileList.CheckDirectory(directory, "data", "Pass an existing folder."));

    /// <summary>The EMNIST splits whose IDX files <paramref name="directory"/> holds (e.g. <c>balanced</c>, <c>bymerge</c>), for <c>LoadFromEmnist</c>.</summary>
    /// <param name="directory">The folder to look in.</param>
    public static IReadOnlyList<string> FindEmnistSplits(string directory) => EmnistDataset.FindSplits(directory);
}
