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
    public static string[] ReadLines(string path)
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
