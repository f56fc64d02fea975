namespace Ocr.MLNet.Cli;

/// <summary>
/// The MLContext of one CLI command, with its own temporary folder (ML.NET copies ONNX networks there until the model is
/// disposed), deleted when the command ends, passing or failing, so that no run leaves files behind.
/// </summary>
internal sealed class CliContext : IDisposable
{
    private readonly string temporaryFolder;

    private const string FolderPrefix = "ocr-mlnet-";

    public CliContext(int? seed = null)
    {
        temporaryFolder = Path.Combine(Path.GetTempPath(), $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporaryFolder);
        MLContext = new MLContext(seed) { TempFilePath = temporaryFolder };
    }

    public MLContext MLContext { get; }

    /// <summary>
    /// Deletes the temporary folders of runs that were killed before they could (<c>ocr-mlnet-PID-GUID</c> whose process is
    /// gone). A folder whose PID now belongs to another process is left for a later run: only a dead owner's folder goes.
    /// </summary>
    public static void SweepLeftovers()
    {
        IEnumerable<string> folders;
        try
        {
            folders = Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (string folder in folders)
        {
            string[] parts = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-', 2);
            if (parts.Length != 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
                || parts[1].Length != 32 || pid == Environment.ProcessId || IsRunning(pid))
                continue;
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's folder, or one being deleted: not ours to report.
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Runs <paramref name="command"/> with a fresh context and deletes its temporary folder afterwards.</summary>
    public static int Run(Func<MLContext, int> command, int? seed = null)
    {
        using var context = new CliContext(seed);
        return command(context.MLContext);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(temporaryFolder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warning: could not delete the temporary folder '{temporaryFolder}' ({e.Message}); delete it by hand.");
        }
    }
}
