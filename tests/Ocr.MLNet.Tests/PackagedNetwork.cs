using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Tests;

/// <summary>The packaged model's network graph, and bare ONNX Runtime scoring of a graph, for the tests that rewrite it.</summary>
internal static class PackagedNetwork
{
    /// <summary>The network's ONNX bytes as saved in the packaged zip (the graph with the <c>Score</c> output).</summary>
    public static byte[] Onnx()
    {
        using var stream = PretrainedCharacterModel.OpenRead();
        return CharacterModelLoader.ReadNetwork(stream, "packaged model").Onnx;
    }

    /// <summary>The <c>Score</c> rows of a network graph for N × 1024 pixels, on one thread.</summary>
    public static float[] Score(byte[] onnx, float[] pixels)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        string input = session.InputMetadata.Keys.Single();
        using var value = OrtValue.CreateTensorValueFromMemory(pixels, [pixels.Length / CharacterFormat.PixelCount, 1, CharacterFormat.ImageSide, CharacterFormat.ImageSide]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [input], [value], [CharacterFormat.ScoreColumnName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static int ArgMax(ReadOnlySpan<float> row) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
}
