using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;
using static Ocr.MLNet.Tests.ImagePixels;

namespace Ocr.MLNet.Tests;

/// <summary>
/// <c>LoadImages</c> and <see cref="CharacterImagePreparingEstimator"/> in ML.NET (decode, resize, ExtractPixels, the ONNX preprocessing graph)
/// against the loaders' <see cref="CharacterImageConverter"/> on the same image files.
/// </summary>
[TestFixture]
public sealed class InModelPreprocessingTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-in-model";

    [Test]
    public void Drawn_128_pixel_PNGs_of_either_polarity_come_out_as_the_loaders_pixels()
    {
        var mlContext = new MLContext(seed: 1);
        (string Name, SKBitmap Bitmap)[] glyphs =
        [
            ("black-on-white", DrawnGlyphs.Draw("A", SKColors.Black, SKColors.White)),
            ("white-on-black", DrawnGlyphs.Draw("a", SKColors.White, SKColors.Black)),
            ("blue-on-cream", DrawnGlyphs.Draw("7", new SKColor(30, 60, 200), new SKColor(250, 240, 200))),
            ("black-on-transparent", DrawnGlyphs.Draw("x", SKColors.Black, SKColors.Transparent)),
        ];
        using var bitmaps = DisposeAll.Of(glyphs.Select(g => g.Bitmap));
        var paths = new List<string>();
        foreach (var (name, bitmap) in glyphs)
        {
            string path = Path.Combine(WorkDirectory, $"{name}.png");
            File.WriteAllBytes(path, DrawnGlyphs.Png(bitmap));
            paths.Add(path);
        }

        var actual = PixelsByPath(mlContext, paths);
        for (int i = 0; i < glyphs.Length; i++)
        {
            using var decoded = SKBitmap.Decode(paths[i]);
            float[] expected = CharacterImageConverter.ToEmnistPixels(decoded);
            double diff = MaxDifference(expected, actual[i]);
            TestContext.Out.WriteLine($"{glyphs[i].Name}: max |loader − model| = {diff:E2}");
            Assert.That(diff, Is.LessThanOrEqualTo(1e-5), glyphs[i].Name);
            DrawnGlyphs.AssertEmnistLike(actual[i], glyphs[i].Name);
        }
    }

    [Test]
    public void Images_of_other_sizes_keep_their_aspect_ratio_and_land_centred_like_the_loaders()
    {
        var mlContext = new MLContext(seed: 1);
        var cases = new List<(string Name, SKBitmap Bitmap)>
        {
            ("wide 200×100", Wide(DrawnGlyphs.Draw("7", SKColors.Black, SKColors.White, size: 100), 200)),
            ("small 28×28", DrawnGlyphs.Draw("A", SKColors.White, SKColors.Black, size: 28)),
            ("large 300×300", DrawnGlyphs.Draw("a", SKColors.Black, SKColors.White, size: 300)),
        };
        using var bitmaps = DisposeAll.Of(cases.Select(c => c.Bitmap));
        var paths = cases.Select((c, i) =>
        {
            string path = Path.Combine(WorkDirectory, $"case{i}.png");
            File.WriteAllBytes(path, DrawnGlyphs.Png(c.Bitmap));
            return path;
        }).ToList();

        var actual = PixelsByPath(mlContext, paths);
        for (int i = 0; i < cases.Count; i++)
        {
            float[] expected = CharacterImageConverter.ToEmnistPixels(cases[i].Bitmap);
            double cosine = BestShiftedCosine(expected, actual[i]);
            TestContext.Out.WriteLine($"{cases[i].Name}: loader at native size vs model after resizing, cosine similarity {cosine:F4} (best of ±1 pixel shifts)");
            DrawnGlyphs.AssertEmnistLike(actual[i], cases[i].Name);
            Assert.That(cosine, Is.GreaterThan(0.85), $"{cases[i].Name}: the resized image must give the loader's pixels up to resampling and a one-pixel shift");
        }
    }

    /// <summary>Cosine similarity of two 32×32 images, the best over shifts of <paramref name="b"/> by up to one pixel each way (resampling moves the ink box by a pixel).</summary>
    private static double BestShiftedCosine(float[] a, float[] b)
    {
        double best = -1;
        for (int dy = -1; dy <= 1; dy++)
        {
            for (int dx = -1; dx <= 1; dx++)
            {
                double dot = 0, aa = 0, bb = 0;
                for (int r = 0; r < 32; r++)
                {
                    for (int c = 0; c < 32; c++)
                    {
                        int rr = r + dy, cc = c + dx;
                        double y = rr is >= 0 and < 32 && cc is >= 0 and < 32 ? b[(rr * 32) + cc] : 0;
                        double x = a[(r * 32) + c];
                        dot += x * y;
                        aa += x * x;
                        bb += y * y;
                    }
                }

                best = Math.Max(best, dot / Math.Sqrt(aa * bb));
            }
        }

        return best;
    }

    /// <summary><paramref name="square"/> centred on a white page <paramref name="width"/> wide; disposes <paramref name="square"/>.</summary>
    private static SKBitmap Wide(SKBitmap square, int width)
    {
        using var source = square;
        var bitmap = new SKBitmap(new SKImageInfo(width, square.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        canvas.DrawBitmap(square, (width - square.Width) / 2f, 0);
        return bitmap;
    }
}
