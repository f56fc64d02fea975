using Ocr.MLNet.IO;

namespace Ocr.MLNet;

/// <summary>
/// The line recognizer that ships inside Ocr.MLNet: trained only on synthetic fields (names, amounts, digit boxes) composed
/// from EMNIST characters (<c>tools/train-pretrained-lines.sh</c>); its decoding allows every character of the alphabet, and
/// readers mask it to a field's kind. See the line model card in the README for its figures.
/// </summary>
/// <example>
/// <code>
/// using var lines = mlContext.Model.LoadPretrainedLineRecognizer();
/// ITransformer model = mlContext.Model.LoadPretrainedLineModel();   // the same model as ML.NET transforms
/// </code>
/// </example>
public static class PretrainedLineModel
{
    /// <summary>The model's name in messages and the manifest resource it is stored in.</summary>
    public const string Name = "ocr-mlnet-lines.zip";

    /// <summary>True when this build carries the model.</summary>
    public static bool IsAvailable => typeof(PretrainedLineModel).Assembly.GetManifestResourceInfo(Name) is not null;

    /// <summary>Opens the model zip for reading; the caller disposes the stream.</summary>
    /// <exception cref="InvalidOperationException">The assembly was built without the model.</exception>
    public static Stream OpenRead() =>
        typeof(PretrainedLineModel).Assembly.GetManifestResourceStream(Name)
        ?? throw new InvalidOperationException($"This build of Ocr.MLNet has no embedded '{Name}'. Use the NuGet package, or build from a checkout that has src/Ocr.MLNet/Pretrained/{Name} (bash tools/train-pretrained-lines.sh).");

    /// <summary>Writes the model zip to <paramref name="path"/> (atomically), for tools that take a model file.</summary>
    public static void SaveTo(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var model = OpenRead();
        AtomicFile.Write(path, model);
    }
}
