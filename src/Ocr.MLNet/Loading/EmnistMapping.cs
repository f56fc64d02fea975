using System.Globalization;
using System.Text;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Loading;

/// <summary>
/// The label mapping of an EMNIST split, read from its <c>*-mapping.txt</c> file: one line per class,
/// <c>label ascii</c> (e.g. <c>10 65</c> for 'A'), LF or CRLF line endings; blank lines are skipped.
/// The Letters mapping's three-column form (<c>label upper lower</c>, e.g. <c>1 65 97</c>) is accepted:
/// the class is named by its first character (upper case).
/// </summary>
/// <remarks>
/// Classes are ordered by label value, whatever the line order: <see cref="ClassNames"/>[i] is the
/// character of <see cref="LabelValues"/>[i]. IDX labels are bytes, so label values are 0-255; class
/// names must be distinct.
/// </remarks>
internal sealed class EmnistMapping
{
    private const long MaxFileBytes = 1 << 20;

    private readonly int[] classIndexByLabel;
    private readonly int[] labelValues;

    private EmnistMapping(string sourcePath, int[] labelValues, string[] classNames)
    {
        SourcePath = sourcePath;
        this.labelValues = labelValues;
        LabelValues = Array.AsReadOnly(labelValues);
        ClassNames = Array.AsReadOnly(classNames);
        classIndexByLabel = new int[256];
        Array.Fill(classIndexByLabel, -1);
        for (int i = 0; i < labelValues.Length; i++)
            classIndexByLabel[labelValues[i]] = i;
    }

    /// <summary>The file the mapping was read from (full path).</summary>
    public string SourcePath { get; }

    /// <summary>The label values the mapping defines, ascending.</summary>
    public IReadOnlyList<int> LabelValues { get; }

    /// <summary>The class names (one character each, e.g. "A", "a", "7"), in <see cref="LabelValues"/> order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes the mapping defines.</summary>
    public int Count => ClassNames.Count;

    /// <summary>Reads a mapping file.</summary>
    /// <param name="path">A <c>*-mapping.txt</c> file of EMNIST.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="EmnistDataException">A line is malformed, a label repeats, or the file defines no class; the message names the file and line.</exception>
    public static EmnistMapping Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException(
                $"The EMNIST mapping file '{fullPath}' does not exist. Pass the '*-mapping.txt' file of the same split as the "
                + "images and labels (e.g. emnist-bymerge-mapping.txt for emnist-bymerge-*), from NIST's EMNIST gzip.zip.",
                fullPath);
        }

        if (BoundedFile.TryReadAllBytes(fullPath, MaxFileBytes, "a mapping file has at most 256 short lines", out byte[] bytes) is string problem)
            throw new EmnistDataException($"The EMNIST mapping file '{fullPath}' {problem}. Pass the '*-mapping.txt' file of the split.", fullPath);

        return Parse(Encoding.UTF8.GetString(bytes), fullPath);
    }

    /// <summary>Whether the mapping defines <paramref name="labelValue"/>; if so, its class index and name.</summary>
    /// <param name="labelValue">A label value from an IDX labels file.</param>
    /// <param name="classIndex">Index into <see cref="ClassNames"/>, or -1.</param>
    public bool TryGetClassIndex(int labelValue, out int classIndex)
    {
        classIndex = labelValue is >= 0 and <= 255 ? classIndexByLabel[labelValue] : -1;
        return classIndex >= 0;
    }

    /// <summary>Class index per byte label value, -1 where the mapping has none (256 entries).</summary>
    internal ReadOnlySpan<int> ClassIndexByLabel => classIndexByLabel;

    /// <summary>Describes the label values compactly, e.g. "0-46" or "1-26".</summary>
    internal string DescribeLabelValues()
    {
        var parts = new List<string>();
        var values = labelValues;
        for (int i = 0; i < values.Length;)
        {
            int j = i;
            while (j + 1 < values.Length && values[j + 1] == values[j] + 1)
                j++;
            parts.Add(i == j ? values[i].ToString(CultureInfo.InvariantCulture) : $"{values[i]}-{values[j]}");
            i = j + 1;
        }

        return string.Join(", ", parts);
    }

    internal static EmnistMapping Parse(string text, string sourcePath)
    {
        var entries = new SortedDictionary<int, (string Name, int Line)>();
        var lineOfName = new Dictionary<string, (int Label, int Line)>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            string line = rawLine.TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
                continue;

            string[] fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !fields.All(IsNonNegativeInteger))
            {
                throw Malformed(sourcePath, lineNumber,
                    $"'{line.Trim()}' is not 'label ascii' (two or more non-negative integers, e.g. '10 65' for 'A').");
            }

            if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int label) || label > 255)
            {
                throw Malformed(sourcePath, lineNumber,
                    $"label {fields[0]} is out of range: IDX labels are bytes, 0-255.");
            }

            if (!int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int code)
                || code < 0x20 || code is >= 0x7F and < 0xA0 || code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
            {
                throw Malformed(sourcePath, lineNumber,
                    $"character code {fields[1]} is not a printable character (expected an ASCII code such as 65 for 'A').");
            }

            if (entries.TryGetValue(label, out var previous))
            {
                throw Malformed(sourcePath, lineNumber,
                    $"label {label} is mapped a second time (first on line {previous.Line}). Each label appears once.");
            }

            string name = char.ConvertFromUtf32(code);
            if (lineOfName.TryGetValue(name, out var other))
            {
                throw Malformed(sourcePath, lineNumber,
                    $"label {label} maps to '{name}', which label {other.Label} on line {other.Line} already maps to. Class names must be distinct.");
            }

            entries.Add(label, (name, lineNumber));
            lineOfName.Add(name, (label, lineNumber));
        }

        if (entries.Count == 0)
        {
            throw new EmnistDataException(
                $"The EMNIST mapping file '{sourcePath}' defines no class (it is empty or blank). Pass the '*-mapping.txt' "
                + "file of the split: one 'label ascii' line per class.", sourcePath);
        }

        return new EmnistMapping(sourcePath, [.. entries.Keys], [.. entries.Values.Select(e => e.Name)]);
    }

    private static bool IsNonNegativeInteger(string field) => field.All(char.IsAsciiDigit);

    private static EmnistDataException Malformed(string path, int line, string what) =>
        new($"The EMNIST mapping file '{path}' is malformed at line {line}: {what} Fix that line or pass the official "
            + "'*-mapping.txt' file of the split.", path, lineNumber: line);
}
