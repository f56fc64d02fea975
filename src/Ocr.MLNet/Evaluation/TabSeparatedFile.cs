using System.Text;
using Ocr.MLNet.IO;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Evaluation;

/// <summary>
/// Reads the lines of a tab-separated truth file (<c>labels.tsv</c>, <c>reference.tsv</c>) as strict UTF-8: a byte that is
/// not UTF-8 (a file saved as Latin-1 or UTF-16) is refused naming the line, where a lenient reader would turn it into
/// U+FFFD and score a truth nobody wrote.
/// </summary>
internal static class TabSeparatedFile
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file's lines (line 1 first), without line ends or a leading UTF-8 byte order mark.</summary>
    /// <exception cref="CharacterDataException">The file is not a regular file or is over <see cref="BoundedFile.MaxTextBytes"/>, or a line
    /// holds bytes that are not UTF-8 (the message names the file, the line and the byte).</exception>
    private static string[] ReadLines(string path)
    {
        ReadOnlySpan<byte> bytes;
        try
        {
            bytes = BoundedFile.ReadAllBytes(path, BoundedFile.MaxTextBytes, "the most a truth file of fields may hold; split a larger one");
        }
        catch (InvalidDataException e)
        {
            throw new CharacterDataException(e.Message, path, e);
        }

        ReadOnlySpan<byte> byteOrderMark = [0xEF, 0xBB, 0xBF];
        if (bytes.StartsWith(byteOrderMark))
            bytes = bytes[byteOrderMark.Length..];
        var lines = new List<string>();
        while (true)
        {
            int end = bytes.IndexOf((byte)'\n');
            var line = end < 0 ? bytes : bytes[..end];
            if (line.EndsWith("\r"u8))
                line = line[..^1];
            lines.Add(Decode(path, lines.Count + 1, line));
            if (end < 0)
                break;
            bytes = bytes[(end + 1)..];
        }

        // A final line end ends the last line; it does not start an empty one.
        if (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        return [.. lines];
    }

    /// <summary>
    /// Reads a truth file with a header that names <paramref name="columns"/>: each non-empty row after it with its line
    /// number and cells, checked to hold every column and no more cells than the header names.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="columns">The columns every such file has (e.g. image and text).</param>
    /// <param name="shortRowAdvice">What to do about a row with too few cells, appended to its message.</param>
    /// <returns>The header, the index of each of <paramref name="columns"/> in it, and the rows.</returns>
    /// <exception cref="CharacterDataException">The file is missing or unreadable, its header lacks a column, or a row has too few or too many cells (the message names the line).</exception>
    public static (string[] Header, int[] Columns, IReadOnlyList<(int Line, string[] Cells)> Rows) ReadTable(string path, string[] columns, string shortRowAdvice)
    {
        string names = string.Join("' and '", columns);
        if (!File.Exists(path))
            throw new CharacterDataException($"'{path}' does not exist: the folder needs a {Path.GetFileName(path)} with '{names}' columns (tab-separated, a header line first).", path, null);
        var lines = ReadLines(path);
        var header = lines.Length > 0 ? lines[0].Split('	') : [];
        int[] indexes = columns.Select(c => Array.IndexOf(header, c)).ToArray();
        if (indexes.Any(i => i < 0))
            throw new CharacterDataException($"'{path}' has no '{names}' columns in its header (tab-separated); it has: {string.Join(", ", header)}.", path, null);
        var rows = new List<(int Line, string[] Cells)>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
                continue;
            var cells = lines[i].Split('	');
            if (cells.Length <= indexes.Max())
                throw new CharacterDataException($"'{path}' line {i + 1} has {cells.Length} cells; the header names {header.Length} ({string.Join(", ", header)}). {shortRowAdvice}", path, null);
            if (cells.Length > header.Length)
                throw new CharacterDataException($"'{path}' line {i + 1} has {cells.Length} cells, more than the {header.Length} the header names ({string.Join(", ", header)}): a tab inside a text, or a missing header column? Fix the row, or name the extra column in the header.", path, null);
            rows.Add((i + 1, cells));
        }

        return (header, indexes, rows);
    }

    private static string Decode(string path, int lineNumber, ReadOnlySpan<byte> line)
    {
        try
        {
            return StrictUtf8.GetString(line);
        }
        catch (DecoderFallbackException e)
        {
            string shown = Encoding.UTF8.GetString(line); // invalid bytes shown as U+FFFD, to find the row
            string bad = e.BytesUnknown is { Length: > 0 } unknown ? string.Join(" ", unknown.Select(b => $"0x{b:X2}")) : "a byte";
            throw new CharacterDataException(
                $"'{path}' line {lineNumber} ('{shown.Replace('\t', ' ')}') is not UTF-8 text: {bad}{(e.Index >= 0 ? $" at byte {e.Index + 1} of the line" : "")}. "
                + "Save the file as UTF-8 (a file saved as Latin-1 or UTF-16 is not) and run the command again.", path, e);
        }
    }
}
