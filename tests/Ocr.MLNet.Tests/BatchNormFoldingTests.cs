using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.Serving;
using Onnx;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The serving fold of the network's batch normalisations: on the packaged model it removes the five that a
/// convolution without padding or the dense layer reads, keeps the two in front of padded convolutions, and scores as the
/// saved graph does up to rounding.
/// </summary>
[TestFixture]
public sealed class BatchNormFoldingTests
{
    [Test]
    public void Folding_the_packaged_network_keeps_its_scores_and_drops_the_normalisations_it_can()
    {
        byte[] network = PackagedNetwork();
        byte[] folded = BatchNormFolding.Fold(network);

        static int Norms(byte[] onnx) => ModelProto.Parser.ParseFrom(onnx).Graph.Node.Count(n => n.OpType == "BatchNormalization");
        Assert.That(Norms(network), Is.EqualTo(7));
        Assert.That(Norms(folded), Is.EqualTo(2), "the two read by padded convolutions stay");
        Assert.That(BatchNormFolding.Fold(folded), Is.EqualTo(folded), "nothing is left to fold");

        var random = new Random(7);
        var pixels = new float[64 * CharacterFormat.PixelCount];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = random.Next(3) == 0 ? (float)random.NextDouble() : 0f;
        var expected = Score(network, pixels);
        var actual = Score(folded, pixels);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-5));
        for (int image = 0; image < 64; image++)
        {
            Assert.That(ArgMax(actual.AsSpan(image * 47, 47)), Is.EqualTo(ArgMax(expected.AsSpan(image * 47, 47))), $"image {image}");
        }
    }

    private static byte[] PackagedNetwork()
    {
        using var stream = PretrainedCharacterModel.OpenRead();
        using var zip = new System.IO.Compression.ZipArchive(stream);
        return CharacterModelLoader.OnnxModels(zip, "packaged model").Single(bytes =>
            ModelProto.Parser.ParseFrom(bytes).Graph.Output.Any(o => o.Name == CharacterFormat.ScoreColumnName));
    }

    private static float[] Score(byte[] onnx, float[] pixels)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        string input = session.InputMetadata.Keys.Single();
        using var value = OrtValue.CreateTensorValueFromMemory(pixels, [pixels.Length / CharacterFormat.PixelCount, 1, CharacterFormat.ImageSide, CharacterFormat.ImageSide]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [input], [value], [CharacterFormat.ScoreColumnName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static int ArgMax(ReadOnlySpan<float> row) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
}
