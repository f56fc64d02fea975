using Microsoft.ML.OnnxRuntime;

namespace Ocr.MLNet;

/// <summary>
/// Works around ML.NET's names for the temporary copies of ONNX models: <c>OnnxModel.CreateFromBytes</c> (every
/// <c>ApplyOnnxModel</c> given bytes or a stream, and every <c>mlContext.Model.Load</c> of a chain holding one) writes the model
/// to <c>Path.GetRandomFileName()</c>, an 8.3 name with a random extension. About one name in 32,768 ends in <c>.ort</c>, and
/// ONNX Runtime then reads the ONNX file as its own ORT format and fails with "ORT model verification failed" (seen once in a
/// test run of 2026-12-08). Another attempt draws another name. ML.NET never deletes the refused copy (its model fails
/// before it takes the file over), so the copy is deleted here.
/// </summary>
internal static class OnnxTempFileNames
{
    private const int Attempts = 3;

    /// <summary>
    /// Runs <paramref name="create"/>, again (up to three times in all) when it failed only because of such a name, and then
    /// deletes the refused copies it left in <paramref name="temporaryFolder"/> (the environment's <c>TempFilePath</c>).
    /// </summary>
    public static T RetryWhenReadAsOrtFormat<T>(Func<T> create, string temporaryFolder)
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentException.ThrowIfNullOrWhiteSpace(temporaryFolder);
        for (int attempt = 1; ; attempt++)
        {
            var started = DateTime.UtcNow;
            try
            {
                return create();
            }
            catch (Exception e) when (IsReadAsOrtFormat(e))
            {
                DeleteRefusedCopies(temporaryFolder, started);
                if (attempt == Attempts)
                    throw;
            }
        }
    }

    /// <summary>Deletes the files named as <c>Path.GetRandomFileName()</c> names them, ending in <c>.ort</c>, written since <paramref name="since"/>.</summary>
    private static void DeleteRefusedCopies(string folder, DateTime since)
    {
        if (!Directory.Exists(folder))
            return;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("????????.ort"))
        {
            // The file system's clock may round the write time down by up to a second.
            if (file.LastWriteTimeUtc < since.AddSeconds(-1))
                continue;
            try
            {
                file.Delete();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another process holds it or it is not ours to delete; the load itself went on
            }
        }
    }

    /// <summary>Whether <paramref name="exception"/>, or one inside it, is ONNX Runtime refusing an ONNX file it read as ORT format.</summary>
    internal static bool IsReadAsOrtFormat(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OnnxRuntimeException && e.Message.Contains("ORT model verification failed", StringComparison.Ordinal))
                return true;
        }

        return false;
    }
}
