namespace Ocr.MLNet.IO;

/// <summary>
/// Replaces a file all at once: readers, and the next run after a crash, a kill or a full disk, see either the old file or
/// the whole new one, never a partial or empty file.
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> by having <paramref name="writeTemporaryFile"/> write a temporary file beside it,
    /// flushing that file to disk, then renaming it over <paramref name="path"/>. On any failure the temporary file is
    /// deleted and the file at <paramref name="path"/>, if there was one, is left as it was.
    /// </summary>
    /// <param name="path">The file to create or replace; its folder is created when missing.</param>
    /// <param name="writeTemporaryFile">Writes the whole content to the path it is given (a hidden file in the same folder).</param>
    /// <exception cref="IOException">The content could not be written or moved into place (the message names the file; the inner exception says why).</exception>
    /// <example>
    /// <code>
    /// AtomicFile.Write("ocr.history.json", temporary =&gt; history.Save(temporary));
    /// </code>
    /// </example>
    public static void Write(string path, Action<string> writeTemporaryFile)
    {
        WriteCore(path, writeTemporaryFile);
    }

    /// <summary>Writes the rest of <paramref name="content"/> to <paramref name="path"/> atomically, as <see cref="Write(string, Action{string})"/> does.</summary>
    /// <example><code>using var model = PretrainedLineModel.OpenRead(); AtomicFile.Write("lines.zip", model);</code></example>
    public static void Write(string path, Stream content)
    {
        ArgumentNullException.ThrowIfNull(content);
        WriteCore(path, temporary =>
        {
            using var file = File.Create(temporary);
            content.CopyTo(file);
        });
    }

    private static void WriteCore(string path, Action<string> writeTemporaryFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(writeTemporaryFile);
        string target = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        string temporary = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(folder);
            SweepAbandoned(folder, Path.GetFileName(target));
            writeTemporaryFile(temporary);
            if (!File.Exists(temporary))
                throw new InvalidOperationException($"The writer did not create the temporary file '{temporary}'.");

            // fsync before the rename, so that after a power loss the new name never points at unwritten blocks.
            using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                stream.Flush(flushToDisk: true);
            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new IOException($"Could not save '{target}': {e.Message} The previous file, if any, is unchanged; check the free space and permissions of '{folder}' and save again.", e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>How long a temporary file may go unwritten before it counts as a killed save's leftover.</summary>
    internal static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Deletes the temporary files that saves of the same file left when they were killed: a live save writes its file
    /// continuously, so one untouched for <see cref="AbandonedAfter"/> belongs to no running save.
    /// </summary>
    private static void SweepAbandoned(string folder, string name)
    {
        var cutoff = DateTime.UtcNow - AbandonedAfter;
        foreach (string leftover in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
        {
            string guid = Path.GetFileName(leftover)[(name.Length + 2)..^4];
            if (guid.Length == 32 && guid.All(char.IsAsciiHexDigitLower) && File.GetLastWriteTimeUtc(leftover) < cutoff)
                TryDelete(leftover);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing better to do: the original error is the one to report.
        }
    }
}
