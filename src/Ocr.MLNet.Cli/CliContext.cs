namespace Ocr.MLNet.Cli;

/// <summary>
/// The MLContext of one CLI command, with its own temporary folder (ML.NET copies ONNX networks there until the model is
/// disposed), deleted when the command ends, passing or failing, so that no run leaves files behind.
/// </summary>
internal sealed class CliContext : IDisposable
{
    private readonly string temporaryFolder;

    public CliContext(int? seed = null)
    {
        temporaryFolder = Path.Combine(Path.GetTempPath(), $"ocr-mlnet-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporaryFolder);
        MLContext = new MLContext(seed) { TempFilePath = temporaryFolder };
    }

    public MLContext MLContext { get; }

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
