using System.Text.RegularExpressions;
using Ocr.MLNet.Data;

namespace Ocr.MLNet.Cli;

/// <summary>Loads <c>--data DIR</c> as EMNIST IDX files, a NIST SD19 <c>by_class</c> tree, or an image folder tree (label = folder name).</summary>
internal static partial class DataSources
{
    public static (IDataView Data, string Description) Load(MLContext mlContext, string directory, string? split, int? maxRows)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"The data directory '{directory}' does not exist. Pass --data with an EMNIST folder, a NIST SD19 by_class folder or an image folder tree.");

        if (Directory.EnumerateFiles(directory).Any(f => EmnistImagesFile().IsMatch(Path.GetFileName(f))))
        {
            split ??= EmnistSplits.Detect(directory);
            return (mlContext.Data.LoadFromEmnist(directory, split, new EmnistLoaderOptions { MaxRows = maxRows }), $"EMNIST split {split}");
        }

        if (split is not null)
            throw new ArgumentException($"--split {split} applies to EMNIST IDX files, and '{directory}' holds none.");

        if (HasSd19Folders(directory))
            return (mlContext.Data.LoadFromNistSd19(directory, new Sd19LoaderOptions { MaxRows = maxRows }), "NIST SD19 by_class");

        return (mlContext.Data.LoadFromImageFolder(directory, new ImageFolderLoaderOptions { MaxRows = maxRows }), "image folders");
    }

    // SD19 keeps its images in train_<hex> and hsf_<n> folders, possibly below one or two parent folders.
    private static bool HasSd19Folders(string directory) =>
        Directory.EnumerateDirectories(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 2 })
            .Any(d => Sd19Folder().IsMatch(Path.GetFileName(d)));

    [GeneratedRegex(@"^emnist-.+-images-idx3-ubyte(\.gz)?$", RegexOptions.IgnoreCase)]
    private static partial Regex EmnistImagesFile();

    [GeneratedRegex(@"^(train_[0-9a-f]{2}|hsf_[0-7])$", RegexOptions.IgnoreCase)]
    private static partial Regex Sd19Folder();
}
