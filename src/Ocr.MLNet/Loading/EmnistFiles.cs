using System.Text.RegularExpressions;

namespace Ocr.MLNet.Loading;

/// <summary>The three files of one EMNIST split, found in a directory by <see cref="Find"/>.</summary>
/// <param name="ImagesPath">The IDX images file.</param>
/// <param name="LabelsPath">The IDX labels file.</param>
/// <param name="MappingPath">The <c>*-mapping.txt</c> file.</param>
internal sealed record EmnistFiles(string ImagesPath, string LabelsPath, string MappingPath)
{
    private const string ImagesSuffix = "-images-idx3-ubyte";
    private const string LabelsSuffix = "-labels-idx1-ubyte";
    private const string MappingSuffix = "-mapping.txt";

    /// <summary>
    /// Finds <c>{prefix}-{split}-images-idx3-ubyte[.gz]</c>, <c>{prefix}-{split}-labels-idx1-ubyte[.gz]</c> and
    /// the mapping <c>{p}-mapping.txt</c> whose <c>p</c> is the longest dash-separated start of <c>prefix</c>
    /// (normally <c>prefix</c> itself, e.g. emnist-bymerge). File names match case-insensitively. When both a
    /// raw and a gzip copy of a file exist, the raw one is used (it is the same data, read faster).
    /// </summary>
    public static EmnistFiles Find(string directory, string split)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(split);
        if (split.IndexOfAny(['/', '\\', '*', '?']) >= 0 || split.StartsWith('-') || split.EndsWith('-'))
            throw new ArgumentException($"The split '{split}' must be the split part of the file names, e.g. \"test\", \"train\" or \"dev\".", nameof(split));

        string fullDirectory = Path.GetFullPath(directory);
        if (!Directory.Exists(fullDirectory))
        {
            throw new DirectoryNotFoundException(
                $"The EMNIST directory '{fullDirectory}' does not exist. Pass the directory that holds the split's "
                + "'*-images-idx3-ubyte.gz', '*-labels-idx1-ubyte.gz' and '*-mapping.txt' files (NIST's EMNIST gzip.zip, extracted).");
        }

        string[] names = [.. Directory.EnumerateFiles(fullDirectory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
        var imagePattern = new Regex($"^(?<prefix>.+)-{Regex.Escape(split)}{ImagesSuffix}(\\.gz)?$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var images = names.Select(n => (Name: n, Match: imagePattern.Match(n))).Where(m => m.Match.Success).ToList();
        string wanted = $"*-{split}{ImagesSuffix}[.gz]";
        if (images.Count == 0)
        {
            throw new FileNotFoundException(
                $"No EMNIST images file '{wanted}' for split '{split}' in '{fullDirectory}'. "
                + $"IDX images files there: {List(names, n => Contains(n, ImagesSuffix))}. "
                + "Pass the split part of one of those names (e.g. \"test\" for emnist-byclass-test-images-idx3-ubyte.gz), "
                + "or the three file paths.", Path.Combine(fullDirectory, wanted));
        }

        var prefixes = images.Select(m => m.Match.Groups["prefix"].Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (prefixes.Count > 1)
        {
            throw new FileNotFoundException(
                $"The split '{split}' is ambiguous in '{fullDirectory}': {images.Count} images files match '{wanted}': "
                + $"{string.Join(", ", images.Select(m => m.Name))}. Pass the images, labels and mapping file paths instead.",
                Path.Combine(fullDirectory, wanted));
        }

        string prefix = prefixes[0];
        string imagesName = PreferRaw(images.Select(m => m.Name));
        string labelsStem = $"{prefix}-{split}{LabelsSuffix}";
        var labels = names.Where(n => n.Equals(labelsStem, StringComparison.OrdinalIgnoreCase)
            || n.Equals(labelsStem + ".gz", StringComparison.OrdinalIgnoreCase)).ToList();
        if (labels.Count == 0)
        {
            throw new FileNotFoundException(
                $"Found the EMNIST images file '{imagesName}' in '{fullDirectory}' but not its labels file '{labelsStem}[.gz]'. "
                + $"IDX labels files there: {List(names, n => Contains(n, LabelsSuffix))}. "
                + "Put the split's labels file beside its images, or pass the three file paths.",
                Path.Combine(fullDirectory, labelsStem + ".gz"));
        }

        string? mappingName = null;
        for (string p = prefix; mappingName is null;)
        {
            mappingName = names.FirstOrDefault(n => n.Equals(p + MappingSuffix, StringComparison.OrdinalIgnoreCase));
            int dash = p.LastIndexOf('-');
            if (mappingName is not null || dash <= 0)
                break;
            p = p[..dash];
        }

        if (mappingName is null)
        {
            throw new FileNotFoundException(
                $"Found the EMNIST images file '{imagesName}' in '{fullDirectory}' but not its mapping file '{prefix}{MappingSuffix}'. "
                + $"Mapping files there: {List(names, n => n.EndsWith(MappingSuffix, StringComparison.OrdinalIgnoreCase))}. "
                + "Put the split's mapping file beside its images (NIST's gzip.zip has one per split family), or pass the three file paths.",
                Path.Combine(fullDirectory, prefix + MappingSuffix));
        }

        return new EmnistFiles(
            Path.Combine(fullDirectory, imagesName),
            Path.Combine(fullDirectory, PreferRaw(labels)),
            Path.Combine(fullDirectory, mappingName));
    }

    /// <summary>
    /// The splits of the EMNIST images files <c>emnist-{set}-{split}-images-idx3-ubyte[.gz]</c> directly in
    /// <paramref name="directory"/>, in ordinal order (empty when there are none).
    /// </summary>
    public static IReadOnlyList<string> FindSplits(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"The EMNIST directory '{Path.GetFullPath(directory)}' does not exist.");
        var pattern = new Regex($"^emnist-[^-]+-(?<split>.+){ImagesSuffix}(\\.gz)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        return Directory.EnumerateFiles(directory)
            .Select(f => pattern.Match(Path.GetFileName(f)))
            .Where(m => m.Success)
            .Select(m => m.Groups["split"].Value)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    private static string PreferRaw(IEnumerable<string> names) =>
        names.OrderBy(n => n.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)).ThenBy(n => n, StringComparer.Ordinal).First();

    private static bool Contains(string name, string part) => name.Contains(part, StringComparison.OrdinalIgnoreCase);

    private static string List(IEnumerable<string> names, Func<string, bool> keep)
    {
        var kept = names.Where(keep).ToList();
        return kept.Count == 0 ? "none" : string.Join(", ", kept);
    }
}
