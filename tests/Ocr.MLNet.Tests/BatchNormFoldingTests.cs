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
        byte[] network = PackagedNetwork.Onnx();
        byte[] folded = BatchNormFolding.Fold(network);

        static int Norms(byte[] onnx) => ModelProto.Parser.ParseFrom(onnx).Graph.Node.Count(n => n.OpType == "BatchNormalization");
        Assert.That(Norms(network), Is.EqualTo(7));
        Assert.That(Norms(folded), Is.EqualTo(2), "the two read by padded convolutions stay");
        Assert.That(BatchNormFolding.Fold(folded), Is.EqualTo(folded), "nothing is left to fold");

        var random = new Random(7);
        var pixels = new float[64 * CharacterFormat.PixelCount];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = random.Next(3) == 0 ? (float)random.NextDouble() : 0f;
        var expected = PackagedNetwork.Score(network, pixels);
        var actual = PackagedNetwork.Score(folded, pixels);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-5));
        for (int image = 0; image < 64; image++)
        {
            Assert.That(PackagedNetwork.ArgMax(actual.AsSpan(image * 47, 47)), Is.EqualTo(PackagedNetwork.ArgMax(expected.AsSpan(image * 47, 47))), $"image {image}");
        }
    }
}
