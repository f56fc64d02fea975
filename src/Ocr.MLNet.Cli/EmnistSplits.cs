using System.Text.RegularExpressions;

namespace Ocr.MLNet.Cli;

/// <summary>Finds the split name when a directory holds exactly one EMNIST images file.</summary>
internal static partial class EmnistSplits
{
    public static string Detect(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"The data directory '{directory}' does not exist.");
        var splits = Directory.EnumerateFiles(directory)
            .Select(f => ImagesFile().Match(Path.GetFileName(f)))
            .Where(m => m.Success)
            .Select(m => m.Groups["split"].Value)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        return splits.Count switch
        {
            1 => splits[0],
            0 => throw new FileNotFoundException($"'{directory}' holds no EMNIST images file (emnist-<set>-<split>-images-idx3-ubyte[.gz]). Pass --data with the folder of an EMNIST split."),
            _ => throw new ArgumentException($"'{directory}' holds several EMNIST splits ({string.Join(", ", splits)}); choose one with --split."),
        };
    }

    [GeneratedRegex(@"^emnist-[^-]+-(?<split>.+)-images-idx3-ubyte(\.gz)?$", RegexOptions.IgnoreCase)]
    private static partial Regex ImagesFile();
}
