using System.Globalization;

namespace Ocr.MLNet.IO;

/// <summary>
/// Reads a file only after checking, from its size alone, that it is a regular file within a cap: a link to
/// <c>/dev/zero</c> would otherwise be read until memory runs out, and a pipe without a writer would block forever.
/// Every reader of a user's file goes through here, so each such refusal names the file and the cap.
/// </summary>
internal static class BoundedFile
{
    /// <summary>The cap for text files a user hands over (labels, references, mappings, saved JSON): 64 MiB.</summary>
    public const long MaxTextBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Why <paramref name="path"/> may not be read, or null when it may: it is missing, empty or not a regular file (a
    /// device or a pipe report no size), or larger than <paramref name="maxBytes"/>. The problem is worded to follow
    /// "The file 'path' ".
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The cap.</param>
    /// <param name="capReason">Why the cap is what it is, for the message (e.g. "the most an image of 16,777,216 pixels takes").</param>
    public static string? Problem(string path, long maxBytes, string capReason)
    {
        var file = new FileInfo(path);
        // A link's own size is its target's name: judge what it points at.
        if (file.LinkTarget is not null)
        {
            try
            {
                file = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
            }
            catch (IOException e)
            {
                return $"is a link that cannot be followed ({e.Message})";
            }
        }

        if (!file.Exists)
            return Directory.Exists(path) ? "is a folder, not a file" : "does not exist";
        // A device (/dev/zero), a pipe or /proc file reports 0 bytes whatever it yields; opening a pipe may block.
        if (file.Length == 0)
            return "is empty (0 bytes) or not a regular file (a device or a pipe reports no size); pass a regular file";
        if (file.Length > maxBytes)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"is {Size(file.Length)}, more than the {Size(maxBytes)} cap ({capReason}); it was refused before reading");
        }

        return null;
    }

    /// <summary>Reads the whole file, at most <paramref name="maxBytes"/>, after <see cref="Problem"/> found nothing.</summary>
    /// <exception cref="InvalidDataException">The file is missing, empty, not a regular file or over the cap (the message names it and the cap).</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string capReason) =>
        TryReadAllBytes(path, maxBytes, capReason, out byte[] bytes) is string problem
            ? throw new InvalidDataException($"The file '{path}' {problem}.")
            : bytes;

    /// <summary>
    /// Reads the whole file as <see cref="ReadAllBytes"/> does, but returns what <see cref="Problem"/> found (worded to
    /// follow "The file 'path' ") instead of throwing, for readers that report problems in their own sentence.
    /// </summary>
    /// <exception cref="InvalidDataException">The file grew past the cap while it was read.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    public static string? TryReadAllBytes(string path, long maxBytes, string capReason, out byte[] bytes)
    {
        bytes = [];
        if (Problem(path, maxBytes, capReason) is string problem)
            return problem;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        bytes = ReadCapped(stream, path, maxBytes, capReason);
        return null;
    }

    /// <summary>Reads the whole of <paramref name="stream"/>, refusing more than <paramref name="maxBytes"/> even when the file grows while read.</summary>
    private static byte[] ReadCapped(Stream stream, string path, long maxBytes, string capReason)
    {
        var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw new InvalidDataException($"The file '{path}' grew past the {Size(maxBytes)} cap ({capReason}) while it was read; it was refused.");
            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Reads the file as UTF-8 text, within <see cref="MaxTextBytes"/>.</summary>
    /// <exception cref="InvalidDataException">The file is missing, empty, not a regular file or over the cap.</exception>
    public static string ReadAllText(string path) =>
        System.Text.Encoding.UTF8.GetString(ReadAllBytes(path, MaxTextBytes, "the most a text file of this kind may hold"));

    /// <summary>Opens the file for reading after <see cref="Problem"/> found nothing (for zips, read by seeking).</summary>
    /// <exception cref="InvalidDataException">The file is missing, empty, not a regular file or over the cap.</exception>
    public static FileStream OpenRead(string path, long maxBytes, string capReason)
    {
        if (Problem(path, maxBytes, capReason) is string problem)
            throw new InvalidDataException($"The file '{path}' {problem}.");
        return File.OpenRead(path);
    }

    /// <summary>Opens a regular file of any size for reading (a model zip, an IDX file), refusing a device or a pipe before opening it.</summary>
    /// <exception cref="InvalidDataException">The file is missing, empty or not a regular file.</exception>
    public static FileStream OpenRead(string path) => OpenRead(path, long.MaxValue, "");

    /// <summary>A byte count in the unit that reads best: "812 bytes", "3.4 MiB", "4.0 GiB".</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):F1} GiB"),
    };
}
