namespace Ocr.MLNet.Serving;

/// <summary>Options of <see cref="CharacterRecognizer"/>.</summary>
public sealed class CharacterRecognizerOptions
{
    /// <summary>The default <see cref="BatchSize"/>: 256 images per ONNX Runtime call.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>Images per ONNX Runtime call (at least 1). Larger batches are faster per image and need more memory: an image
    /// batch holds 256 KiB of planes per image before preprocessing. Default 256.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>
    /// Test-time augmentation: score every image and four copies of it shifted by one pixel (left, right, up, down) and
    /// average the five probability vectors (default false). It costs five network runs per image and usually corrects a
    /// few look-alike decisions near the boundary.
    /// </summary>
    public bool TestTimeAugmentation { get; set; }

    /// <summary>
    /// ONNX Runtime's intra-op threads for the network; 0 (the default) means one per processor
    /// (<see cref="Environment.ProcessorCount"/>). On the CPU the preprocessing graph runs on one thread per 16-image chunk,
    /// with this many chunks side by side.
    /// </summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// The CUDA device to score on, as <see cref="MLContext.GpuDeviceId"/>; null (the default) for the CPU. The app must
    /// reference ONNX Runtime's GPU build (Microsoft.ML.OnnxRuntime.Gpu.Linux, with CUDA 13 and cuDNN 9, or
    /// Microsoft.ML.OnnxRuntime.Gpu.Windows) instead of Microsoft.ML.OnnxRuntime.
    /// </summary>
    /// <example>
    /// <code>
    /// using var recognizer = mlContext.Model.LoadCharacterRecognizer("ocr.zip", new CharacterRecognizerOptions { GpuDeviceId = 0, FallbackToCpu = true });
    /// Console.WriteLine(recognizer.UsesGpu ? "GPU" : "CPU");
    /// </code>
    /// </example>
    public int? GpuDeviceId { get; set; }

    /// <summary>When <see cref="GpuDeviceId"/> is set but the GPU cannot be used (no CUDA provider in this ONNX Runtime, CUDA
    /// libraries missing, no such device): score on the CPU (true) or throw (false, the default), as
    /// <see cref="MLContext.FallbackToCpu"/>.</summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>
    /// Score with the network in 8-bit integers on the CPU (default false): about twice as fast on the field reader's
    /// characters on a CPU with AVX-512 VNNI, with the same top class for all but a few in a thousand. It needs the activation
    /// ranges that the trainer saves with the network (models trained before they were saved score in float32;
    /// <see cref="CharacterRecognizer.UsesInt8"/> tells). Ignored on a GPU. On x86 CPUs without VNNI the weights take 63 levels
    /// either side of zero instead of 127, because ONNX Runtime's kernels there would saturate 16-bit sums of products.
    /// </summary>
    /// <example>
    /// <code>
    /// using var recognizer = mlContext.Model.LoadCharacterRecognizer("ocr.zip", new CharacterRecognizerOptions { Int8Network = true });
    /// Console.WriteLine(recognizer.UsesInt8 ? "int8" : "float32");
    /// </code>
    /// </example>
    public bool Int8Network { get; set; }

    /// <summary>The int8 weights' levels either side of zero; null: <see cref="Int8Quantization.WeightLevelsForThisCpu"/> (tests set the other CPUs' choice).</summary>
    internal int? Int8WeightLevels { get; set; }

    internal CharacterRecognizerOptions Clone() => (CharacterRecognizerOptions)MemberwiseClone();

    internal void Validate()
    {
        var problems = new List<string>();
        problems.Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "at least 1");
        problems.Check(GpuDeviceId is null or >= 0, nameof(GpuDeviceId), GpuDeviceId, "null for the CPU, or a CUDA device number from 0");
        problems.Check(IntraOpThreads >= 0, nameof(IntraOpThreads), IntraOpThreads, "0 for one per processor, or a positive count");
        problems.ThrowIfAny("CharacterRecognizer options");
    }
}
