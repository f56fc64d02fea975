using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Tests;

/// <summary>The ONNX form of the preprocessing, run by ONNX Runtime, against <see cref="CharacterImageConverter"/>.</summary>
[TestFixture]
public sealed class PreprocessingGraphTests
{
    private const int Side = CharacterPreprocessingGraph.DefaultImageSide;

    /// <summary>The A, R, G, B byte planes of a bitmap, as ML.NET's ExtractPixels writes them with <c>outputAsFloatArray: false</c>.</summary>
    internal static byte[] ArgbPlanes(SKBitmap bitmap)
    {
        using var rgba = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Assert.That(bitmap.CopyTo(rgba, SKColorType.Rgba8888), Is.True);
        var bytes = rgba.GetPixelSpan();
        int plane = bitmap.Width * bitmap.Height;
        var result = new byte[4 * plane];
        for (int p = 0; p < plane; p++)
        {
            result[p] = bytes[(4 * p) + 3];
            result[plane + p] = bytes[4 * p];
            result[(2 * plane) + p] = bytes[(4 * p) + 1];
            result[(3 * plane) + p] = bytes[(4 * p) + 2];
        }

        return result;
    }

    /// <summary>
    /// The graph's pixels for byte planes: fed as bytes to a graph of <see cref="CharacterPreprocessingGraph.InputColumnName"/>,
    /// as floats scaled by 1/255 (what ExtractPixels wrote for them) to the earlier graphs of the float input.
    /// </summary>
    internal static float[] RunGraph(InferenceSession session, IReadOnlyList<byte[]> images, int side = Side)
    {
        string inputName = session.InputMetadata.Keys.Single();
        int[] shape = [images.Count, 4, side, side];
        var bytes = images.SelectMany(i => i).ToArray();
        var input = inputName == CharacterPreprocessingGraph.InputColumnName
            ? NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<byte>(bytes, shape))
            : NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(bytes.Select(b => b * (1f / 255f)).ToArray(), shape));
        using var results = session.Run([input]);
        return results.Single().AsEnumerable<float>().ToArray();
    }

    private static SKBitmap[] Glyphs() =>
    [
        DrawnGlyphs.Draw("A", SKColors.Black, SKColors.White),
        DrawnGlyphs.Draw("a", SKColors.White, SKColors.Black),
        DrawnGlyphs.Draw("7", new SKColor(30, 60, 200), new SKColor(250, 240, 200)),
        DrawnGlyphs.Draw("x", SKColors.Black, SKColors.Transparent),
        DrawnGlyphs.Draw("A", new SKColor(0, 0, 0, 128), SKColors.White),
        BlankPage(),
    ];

    private static SKBitmap BlankPage()
    {
        var page = new SKBitmap(new SKImageInfo(Side, Side, SKColorType.Rgba8888, SKAlphaType.Premul));
        page.Erase(SKColors.White);
        return page;
    }

    [Test]
    public void The_graph_gives_the_converters_pixels_for_every_polarity_colour_and_transparency()
    {
        var glyphs = Glyphs();
        using var bitmaps = DisposeAll.Of(glyphs);
        using var session = new InferenceSession(CharacterPreprocessingGraph.Build());
        float[] actual = RunGraph(session, glyphs.Select(ArgbPlanes).ToList());

        Assert.That(actual, Has.Length.EqualTo(glyphs.Length * CharacterImageConverter.PixelCount));
        for (int i = 0; i < glyphs.Length; i++)
        {
            float[] expected = CharacterImageConverter.ToEmnistPixels(glyphs[i]);
            var image = actual.AsSpan(i * CharacterImageConverter.PixelCount, CharacterImageConverter.PixelCount).ToArray();
            double maxDiff = expected.Zip(image, (a, b) => Math.Abs(a - b)).Max();
            TestContext.Out.WriteLine($"image {i}: max |converter − graph| = {maxDiff:E2}, ink sum {expected.Sum():F2}");
            Assert.That(maxDiff, Is.LessThanOrEqualTo(1e-5), $"image {i}");
        }

        Assert.That(actual.AsSpan(5 * CharacterImageConverter.PixelCount).ToArray(), Is.All.EqualTo(0f), "a blank page has no ink");
    }

    [TestCase(8)]
    [TestCase(40)]
    [TestCase(100)]
    [TestCase(200)]
    public void Sides_that_are_not_a_multiple_of_the_blur_block_match_the_converter(int side)
    {
        // The blur works in blocks of 32 lines; other sides pad the last block and cut it off again.
        using var drawn = DrawnGlyphs.Draw("g", SKColors.Black, SKColors.White);
        using var glyph = drawn.Resize(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul), SKFilterQuality.Medium);
        using var session = new InferenceSession(CharacterPreprocessingGraph.Build(side));
        float[] actual = RunGraph(session, [ArgbPlanes(glyph)], side);
        float[] expected = CharacterImageConverter.ToEmnistPixels(glyph);
        Assert.That(expected.Sum(), Is.GreaterThan(1f), "the resized glyph still has ink");
        Assert.That(expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max(), Is.LessThanOrEqualTo(1e-5));
    }

    [TestCase(InkPolarity.DarkOnLight)]
    [TestCase(InkPolarity.LightOnDark)]
    public void A_fixed_polarity_matches_the_converter_with_that_polarity(InkPolarity polarity)
    {
        using var glyph = DrawnGlyphs.Draw("7", SKColors.Black, SKColors.White);
        using var session = new InferenceSession(CharacterPreprocessingGraph.Build(polarity: polarity));
        float[] actual = RunGraph(session, [ArgbPlanes(glyph)]);
        float[] expected = CharacterImageConverter.ToEmnistPixels(glyph, polarity);
        Assert.That(expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max(), Is.LessThanOrEqualTo(1e-5));
    }

    [TestCase(InkPolarity.Detect)]
    [TestCase(InkPolarity.DarkOnLight)]
    [TestCase(InkPolarity.LightOnDark)]
    public void The_graph_gives_the_previous_graphs_pixels_on_glyphs_and_on_random_bytes(InkPolarity polarity)
    {
        var glyphs = Glyphs();
        using var bitmaps = DisposeAll.Of(glyphs);
        var images = glyphs.Select(ArgbPlanes).ToList();
        // Random bytes in every channel, alpha included: every grey level, luminance rounding and compositing case.
        var random = new Random(7);
        for (int n = 0; n < 4; n++)
        {
            var bytes = new byte[4 * Side * Side];
            random.NextBytes(bytes);
            images.Add(bytes);
        }

        images.Add(EdgeInk());
        AssertSameAsPrevious(images, polarity, "drawn glyphs, random bytes and ink on the edges");
    }

    /// <summary>Black ink on white touching the corners and the right edge, where the blur meets the image's border.</summary>
    private static byte[] EdgeInk()
    {
        const int plane = Side * Side;
        var planes = Enumerable.Repeat(byte.MaxValue, 4 * plane).ToArray();
        void Ink(int row, int column)
        {
            for (int channel = 1; channel < 4; channel++)
                planes[(channel * plane) + (row * Side) + column] = 0;
        }

        for (int i = 0; i < 3; i++)
        {
            Ink(i, i);
            Ink(Side - 1 - i, Side - 1 - i);
        }

        for (int row = 20; row < 90; row++)
            Ink(row, Side - 1);
        return planes;
    }

    [Test]
    public void Every_Min_and_Max_node_takes_two_inputs_as_ONNX_Runtimes_CUDA_kernels_need()
    {
        // Three-input Min/Max broadcast wrongly on the GPU for batches of more than one image (benchmarks/README.md, GPU).
        foreach (InkPolarity polarity in Enum.GetValues<InkPolarity>())
        {
            var graph = Onnx.ModelProto.Parser.ParseFrom(CharacterPreprocessingGraph.Build(Side, polarity: polarity)).Graph;
            var variadic = graph.Node.Where(n => n.OpType is "Min" or "Max" or "Sum" or "Mean").ToList();
            Assert.That(variadic, Is.Not.Empty, "the ink box and the scaling use Min and Max");
            Assert.That(variadic.Where(n => n.Input.Count != 2).Select(n => $"{n.OpType} {n.Name} ({n.Input.Count} inputs)"), Is.Empty, polarity.ToString());
        }
    }

    [Test]
    public void The_graph_gives_the_previous_graphs_pixels_on_real_SD19_PNGs()
    {
        string folder = TestEnvironment.RealData("nist-sd19-by_class-vowels");
        var files = Directory.EnumerateFiles(folder, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Where((_, i) => i % 100 == 0).Take(100).ToList();
        var images = new List<byte[]>();
        foreach (string file in files)
        {
            using var image = Microsoft.ML.Data.MLImage.CreateFromFile(file);
            var planes = new byte[4 * Side * Side];
            Ocr.MLNet.Preparation.ArgbPlanes.ExtractBytes(image, Side, planes);
            images.Add(planes);
        }

        AssertSameAsPrevious(images, InkPolarity.Detect, $"{files.Count} SD19 PNGs");
    }

    private static void AssertSameAsPrevious(List<byte[]> images, InkPolarity polarity, string what)
    {
        using var previous = new InferenceSession(PreviousPreprocessingGraph.Build(Side, polarity));
        using var current = new InferenceSession(CharacterPreprocessingGraph.Build(Side, polarity: polarity));
        float[] expected = RunGraph(previous, images);
        float[] actual = RunGraph(current, images);
        double maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"{what}, {polarity}: max |previous − current| = {maxDiff:E2}, ink sum {expected.Sum():F1}");
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        Assert.That(expected.Sum(), Is.GreaterThan(images.Count), "the images have ink, so the comparison covers the crop and scaling");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(1e-5), what);

        // One image per run as well: the graph has no batch-dependent step.
        for (int i = 0; i < Math.Min(images.Count, 12); i++)
        {
            float[] single = RunGraph(current, [images[i]]);
            var batched = expected.AsSpan(i * CharacterImageConverter.PixelCount, CharacterImageConverter.PixelCount).ToArray();
            Assert.That(batched.Zip(single, (a, b) => Math.Abs(a - b)).Max(), Is.LessThanOrEqualTo(1e-5), $"{what}: image {i} alone");
        }
    }
}
