using Ocr.MLNet.Loading;
using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary>Loads <c>--data DIR</c> as EMNIST IDX files, a NIST SD19 <c>by_class</c> tree, or an image folder tree (label = folder name).</summary>
internal static class DataSources
{
    /// <summary>The option that skips unreadable image files and empty class folders, listing them, instead of stopping at the first.</summary>
    public static System.CommandLine.Option<bool> SkipBadFilesOption() => new("--skip-bad-files")
    {
        Description = "Skip unreadable image files and empty class folders instead of stopping at the first; each is listed with why on standard error, then how many. NIST SD19 and image folders only.",
    };

    public static (IDataView Data, string Description) Load(MLContext mlContext, string directory, string? split, int? maxRows, bool skipBadFiles = false)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"The data directory '{directory}' does not exist. Pass --data with an EMNIST folder, a NIST SD19 by_class folder or an image folder tree.");

        var splits = EmnistDataset.FindSplits(directory);
        if (splits.Count > 0)
        {
            if (skipBadFiles)
                throw new ArgumentException($"--skip-bad-files applies to image files, and '{directory}' holds EMNIST IDX files; run without it.");
            split ??= splits.Count == 1
                ? splits[0]
                : throw new ArgumentException($"'{directory}' holds several EMNIST splits ({string.Join(", ", splits)}); choose one with --split.");
            return (mlContext.Data.LoadFromEmnist(directory, split, new EmnistLoaderOptions { MaxRows = maxRows }), $"EMNIST split {split}");
        }

        if (split is not null)
            throw new ArgumentException($"--split {split} applies to EMNIST IDX files, and '{directory}' holds none.");

        var (data, description) = CharacterImageDataset.ContainsNistSd19Partitions(directory)
            ? (mlContext.Data.LoadFromNistSd19(directory, new Sd19LoaderOptions { MaxRows = maxRows, SkipBadFiles = skipBadFiles }), "NIST SD19 by_class")
            : (mlContext.Data.LoadFromImageFolder(directory, new ImageFolderLoaderOptions { MaxRows = maxRows, SkipBadFiles = skipBadFiles }), "image folders");
        if (skipBadFiles)
            ListSkipped(LoadedImages.GetSkippedFiles(data));
        return (data, description);
    }

    /// <summary>Lists every file or folder the loader skipped, with why, on standard error, then how many: nothing is dropped unseen.</summary>
    private static void ListSkipped(IReadOnlyList<SkippedImageFile> skipped)
    {
        foreach (var file in skipped)
            CliConsole.WriteWarning($"skipped '{file.Path}': {file.Reason}");
        CliConsole.Error.WriteLine(skipped.Count == 1
            ? "--skip-bad-files: skipped 1 bad file or folder."
            : $"--skip-bad-files: skipped {skipped.Count} bad files or folders.");
    }
}
