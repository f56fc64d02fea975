using Microsoft.ML.OnnxRuntime;

namespace Ocr.MLNet;

/// <summary>
/// Works around ML.NET's names for the temporary copies of ONNX models: <c>OnnxModel.CreateFromBytes</c> (every
/// <c>ApplyOnnxModel</c> given bytes or a stream, and every <c>mlContext.Model.Load</c> of a chain holding one) writes the model
/// to <c>Path.GetRandomFileName()</c>, an 8.3 name with a random extension. About one name in 32,768 ends in <c>.ort</c>, and
/// ONNX Runtime then reads the ONNX file as its own ORT format and fails with "ORT model verification failed" (seen once in a
/// test run of 2026-12-08). Another attempt draws another name.
/// </summary>
internal static class OnnxTempFileNames
{
    private const int Attempts = 3;

    /// <summary>Runs <paramref name="create"/>, again (up to three times in all) when it failed only because of such a name.</summary>
    public static T RetryWhenReadAsOrtFormat<T>(Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return create();
            }
            catch (Exception e) when (attempt < Attempts && IsReadAsOrtFormat(e))
            {
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
