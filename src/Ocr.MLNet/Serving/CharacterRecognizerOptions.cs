namespace Ocr.MLNet.Serving;

/// <summary>Options of <see cref="CharacterRecognizer"/>.</summary>
public sealed class CharacterRecognizerOptions
{
    /// <summary>The default <see cref="BatchSize"/>: 256 images per ONNX Runtime call.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>Images per ONNX Runtime call (at least 1). Larger batches are faster per image and need more memory: an image
    /// batch holds 256 KiB of planes per image before preprocessing. Default 256.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>ONNX Runtime's intra-op threads; 0 (the default) lets ONNX Runtime choose, one per core.</summary>
    public int IntraOpThreads { get; set; }

    internal CharacterRecognizerOptions Clone() => (CharacterRecognizerOptions)MemberwiseClone();

    internal void Validate()
    {
        var problems = new List<string>();
        problems.Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "at least 1");
        problems.Check(IntraOpThreads >= 0, nameof(IntraOpThreads), IntraOpThreads, "0 for ONNX Runtime's choice, or a positive count");
        problems.ThrowIfAny("CharacterRecognizer options");
    }
}
