using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// The bare ONNX Runtime baseline: the network's (and the preprocessing graph's) ONNX in plain
/// <see cref="InferenceSession"/>s with default options (as ML.NET's OnnxTransformer opens them on the CPU),
/// fed and read the ordinary way (<see cref="NamedOnnxValue"/> in, both outputs read out).
/// </summary>
internal sealed class OrtBaseline : IDisposable
{
    public const int Side = CharacterPreprocessingGraph.DefaultImageSide;
    public const int PlaneSize = Side * Side;
    public const int ImageBytes = CharacterPreprocessingGraph.InputChannels * PlaneSize;
    public const int PixelCount = 1024;

    private readonly InferenceSession network;
    private readonly InferenceSession preprocessing;

    /// <param name="networkOnnx">The network's ONNX bytes.</param>
    /// <param name="intraOpThreads">ONNX Runtime's intra-op threads; 0 (the default, as ML.NET opens sessions) lets it choose (one per core).</param>
    /// <param name="preprocessingOnnx">The preprocessing graph to run; null for the one the library builds now.</param>
    /// <param name="gpuDeviceId">The CUDA device to run on (ONNX Runtime's CUDA provider with its defaults); null for the CPU.</param>
    public OrtBaseline(byte[] networkOnnx, int intraOpThreads = 0, byte[]? preprocessingOnnx = null, int? gpuDeviceId = null)
    {
        using var options = new SessionOptions { IntraOpNumThreads = intraOpThreads };
        if (gpuDeviceId is { } device)
            options.AppendExecutionProvider_CUDA(device);
        network = new InferenceSession(networkOnnx, options);
        preprocessing = new InferenceSession(preprocessingOnnx ?? CharacterPreprocessingGraph.Build(Side, CharacterCnnOnnxExporter.DefaultInputColumnName), options);
        preprocessingInputNames = [preprocessing.InputMetadata.Keys.Single()];
    }

    /// <summary>As <see cref="Network"/>, through the <see cref="NamedOnnxValue"/> API (tensors copied out, the outputs ML.NET asks for).</summary>
    public float NetworkNamedOnnxValue(float[] pixels, int count)
    {
        var input = NamedOnnxValue.CreateFromTensor(CharacterCnnOnnxExporter.DefaultInputColumnName, new DenseTensor<float>(pixels, [count, 1, 32, 32]));
        using var results = network.Run([input], OutputNames);
        float best = 0;
        foreach (var result in results)
        {
            if (result.Name == CharacterCnnOnnxExporter.ScoreColumnName)
                best = result.AsTensor<float>().ToArray().Max();
            else
                _ = result.AsTensor<string>().ToArray();
        }

        return best;
    }

    private static readonly string[] InputNames = [CharacterCnnOnnxExporter.DefaultInputColumnName];
    private static readonly string[] OutputNames = [CharacterCnnOnnxExporter.ScoreColumnName, CharacterCnnOnnxExporter.PredictedCharacterColumnName];
    private readonly RunOptions runOptions = new();

    /// <summary>
    /// Scores <paramref name="count"/> images of 1,024 pixels through ONNX Runtime's lean <see cref="OrtValue"/> API, copying the
    /// scores and the first label out as ML.NET does; returns the first image's best score (so nothing is optimised away).
    /// </summary>
    public float Network(float[] pixels, int count)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [count, 1, 32, 32]);
        using var results = network.Run(runOptions, InputNames, [input], OutputNames);
        float[] scores = results[0].GetTensorDataAsSpan<float>().ToArray();
        _ = results[1].GetStringElement(0);
        return scores.Max();
    }

    /// <summary>The <c>Score</c> output for <paramref name="count"/> images (for checking that both sides compute the same thing).</summary>
    public float[] Scores(float[] pixels, int count)
    {
        var input = NamedOnnxValue.CreateFromTensor(CharacterCnnOnnxExporter.DefaultInputColumnName, new DenseTensor<float>(pixels, [count, 1, 32, 32]));
        using var results = network.Run([input], [CharacterCnnOnnxExporter.ScoreColumnName]);
        return results.First().AsTensor<float>().ToArray();
    }

    /// <summary>The preprocessing graph on <paramref name="count"/> A, R, G, B byte plane sets: the network's pixels.</summary>
    public float[] Preprocess(byte[] argb, int count)
    {
        using var input = PlanesValue(preprocessingInputNames[0], argb, count);
        using var results = preprocessing.Run(runOptions, preprocessingInputNames, [input], InputNames);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private readonly string[] preprocessingInputNames;

    /// <summary>
    /// The planes as the graph's input takes them: the bytes themselves, or (for a graph saved before the byte input, whose input is
    /// <see cref="CharacterPreprocessingGraph.FloatInputColumnName"/>) floats scaled by 1/255, the extra pass those models' chains made.
    /// </summary>
    public static OrtValue PlanesValue(string inputName, byte[] argb, int count)
    {
        long[] shape = [count, CharacterPreprocessingGraph.InputChannels, Side, Side];
        if (inputName == CharacterPreprocessingGraph.InputColumnName)
            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, argb.AsMemory(0, count * ImageBytes), shape);
        var floats = new float[count * ImageBytes];
        ArgbPlanes.Scale(argb.AsSpan(0, floats.Length), floats);
        return OrtValue.CreateTensorValueFromMemory(floats, shape);
    }

    /// <summary>Preprocessing graph then network, on <paramref name="count"/> images' planes.</summary>
    public float PreprocessAndScore(byte[] argb, int count) => Network(Preprocess(argb, count), count);

    /// <summary>ExtractPixels' work: the A, R, G, B byte planes of a 128×128 image, into <paramref name="destination"/> (the library's own extraction).</summary>
    public static void ExtractArgb(MLImage image, Span<byte> destination)
    {
        if (image.Width != Side || image.Height != Side)
            throw new ArgumentException($"Expected a {Side}×{Side} image, got {image.Width}×{image.Height}.", nameof(image));
        ArgbPlanes.ExtractBytes(image, Side, destination);
    }

    public void Dispose()
    {
        network.Dispose();
        preprocessing.Dispose();
        runOptions.Dispose();
    }
}
