using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;
using Onnx;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The character network in int8: the trainer saves its activation ranges, ONNX Runtime fuses the quantized graph into
/// QLinearConv, and on real EMNIST characters the int8 network picks the float network's class for all but a few in a thousand.
/// </summary>
[TestFixture]
public sealed class Int8QuantizationTests
{
    [Test]
    public void The_trainer_saves_the_ranges_of_the_input_and_of_every_activation()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(SyntheticGlyphs.Make(perClass: 4, seed: 1, classes: ["O", "-", "|"]));
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(new CharacterCnnTrainer.Options { Epochs = 1, BatchSize = 8, ValidationFraction = 0 }).Fit(data);

        var saved = ModelProto.Parser.ParseFrom(model.OnnxModel.ToArray());
        var ranges = Int8Quantization.ReadRanges(saved);
        var relus = saved.Graph.Node.Where(n => n.OpType is "Relu" or "BatchNormalization").Select(n => n.Output[0]).ToList();
        Assert.That(relus, Has.Count.EqualTo(14), "seven blocks of ReLU and normalisation");
        Assert.That(ranges.Keys, Is.SupersetOf(relus).And.Contain(saved.Graph.Input[0].Name));
        Assert.That(ranges[saved.Graph.Input[0].Name], Is.EqualTo((0f, 1f)), "the glyphs' pixels span 0 to 1");
        Assert.That(relus.Select(r => ranges[r].Max), Is.All.GreaterThan(0f), "every activation saw a positive value");
        Assert.That(relus.Where(r => r.Contains("relu")).Select(r => ranges[r].Min), Is.All.EqualTo(0f), "a ReLU's output is never negative");
    }

    // 127 levels where the CPU sums uint8 × int8 products in 32 bits (VNNI, Arm64); 63 on other x86 CPUs, where 16-bit sums
    // would saturate. This machine runs both exactly, so both are checked here whichever this CPU picks.
    [TestCase(Int8Quantization.FullWeightLevels, 990)]
    [TestCase(Int8Quantization.ReducedWeightLevels, 985)]
    public void The_packaged_network_in_int8_fuses_into_quantized_convolutions_and_keeps_the_float_networks_classes(int weightLevels, int atLeastSame)
    {
        byte[] network = BatchNormFolding.Fold(PackagedNetwork.Onnx());
        if (!Int8Quantization.TryQuantize(network, out byte[]? int8, weightLevels))
        {
            Assert.Fail("the packaged network carries its activation ranges, so it quantizes");
            return;
        }

        var weights = ModelProto.Parser.ParseFrom(int8).Graph.Initializer.Where(i => i.DataType == (int)TensorProto.Types.DataType.Int8 && i.Dims.Count == 4).ToList();
        Assert.That(weights, Has.Count.EqualTo(7), "one int8 weight tensor per convolution");
        var levels = weights.SelectMany(w => w.RawData.Select(b => Math.Abs((int)(sbyte)b))).ToList();
        Assert.That(levels.Max(), Is.EqualTo(weightLevels), "each output channel's largest weight takes the top level");

        // What ONNX Runtime makes of it: every convolution fused into QLinearConv, none left in float.
        string optimized = Path.Combine(Path.GetTempPath(), $"ocr-mlnet-int8-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var options = new SessionOptions { IntraOpNumThreads = 1, OptimizedModelFilePath = optimized })
            using (new InferenceSession(int8, options))
            {
            }

            var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph.Node.Select(n => n.OpType).ToList();
            Assert.That(ops.Count(o => o == "QLinearConv"), Is.EqualTo(7), string.Join(" ", ops));
            Assert.That(ops, Has.None.EqualTo("Conv"));
        }
        finally
        {
            File.Delete(optimized);
        }

        var mlContext = new MLContext(seed: 1);
        var emnist = mlContext.Data.LoadFromEmnist(TestEnvironment.RealData("emnist-bymerge-dev"), "dev", new Loading.EmnistLoaderOptions { MaxRows = 1000 });
        float[] pixels = emnist.GetColumn<float[]>(CharacterFormat.PixelsColumnName).SelectMany(p => p).ToArray();
        float[] expected = PackagedNetwork.Score(network, pixels), actual = PackagedNetwork.Score(int8, pixels);
        int images = pixels.Length / CharacterFormat.PixelCount, same = 0;
        Assert.That(images, Is.EqualTo(1000));
        for (int i = 0; i < images; i++)
        {
            if (PackagedNetwork.ArgMax(actual.AsSpan(i * 47, 47)) == PackagedNetwork.ArgMax(expected.AsSpan(i * 47, 47)))
                same++;
        }

        TestContext.Out.WriteLine($"{weightLevels} levels: {same} of {images} top classes agree");
        Assert.That(same, Is.GreaterThanOrEqualTo(atLeastSame), $"{same} of {images} top classes agree");
        Assert.That(actual, Is.EqualTo(expected).Within(0.15f), "probabilities move by quantization steps, not more");
        Assert.That(actual, Is.Not.EqualTo(expected).Within(1e-4f), "the int8 network really ran");
    }

    [Test]
    public void The_weight_levels_follow_the_CPUs_VNNI_as_Linux_reports_it()
    {
        if (!OperatingSystem.IsLinux() || !System.Runtime.Intrinsics.X86.X86Base.IsSupported)
            Assert.Ignore("/proc/cpuinfo lists x86 flags on Linux only");
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool vnni = flags.Contains("avx512_vnni") || flags.Contains("avx_vnni");
        TestContext.Out.WriteLine($"VNNI: {vnni}");
        Assert.That(Int8Quantization.WeightLevelsForThisCpu(), Is.EqualTo(vnni ? Int8Quantization.FullWeightLevels : Int8Quantization.ReducedWeightLevels));
    }

    [Test]
    public void A_recognizer_asked_for_int8_uses_it_only_where_the_model_carries_ranges()
    {
        using var int8 = CharacterRecognizer.Load(PretrainedCharacterModel.OpenRead(), new CharacterRecognizerOptions { Int8Network = true });
        using var float32 = CharacterRecognizer.Load(PretrainedCharacterModel.OpenRead());
        Assert.That(int8.UsesInt8, Is.True);
        Assert.That(float32.UsesInt8, Is.False, "float32 is the recognizer's default");

        // The same model without its ranges (as saved before they were measured) scores in float32.
        using var withoutRanges = CharacterRecognizer.Load(new MemoryStream(PackagedModelWithoutRanges.Bytes()), "no-ranges.zip", new CharacterRecognizerOptions { Int8Network = true });
        Assert.That(withoutRanges.UsesInt8, Is.False);
        var pixels = new float[4 * CharacterFormat.PixelCount];
        for (int y = 8; y < 24; y++)
            pixels[(y * CharacterFormat.ImageSide) + 16] = 1f; // an upright stroke
        Assert.That(withoutRanges.ScorePixels(pixels), Is.EqualTo(float32.ScorePixels(pixels)).Within(1e-6f));
    }

    [Test]
    public void Damaged_ranges_are_read_as_none()
    {
        var model = ModelProto.Parser.ParseFrom(PackagedNetwork.Onnx());
        model.MetadataProps.Single(p => p.Key == Int8Quantization.RangesMetadataKey).Value = "Pixels=1,0;features.block0.relu=0,2";
        Assert.That(Int8Quantization.ReadRanges(model), Is.Empty, "a minimum above its maximum");
        Assert.That(Int8Quantization.TryQuantize(model.ToByteArray(), out byte[]? none), Is.False);
        Assert.That(none, Is.Null);
    }
}
