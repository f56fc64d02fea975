using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Ocr.MLNet.Tests;

/// <summary>One labelled 32×32 image as the trainer reads it.</summary>
public sealed class GlyphRow
{
    public string Label { get; set; } = "";

    [VectorType(1, 32, 32)]
    public float[] Pixels { get; set; } = [];
}

/// <summary>
/// Small, deterministic handwriting stand-ins drawn by the tests: strokes of varying position, length and
/// thickness with noise, one stroke shape per class, ink bright on dark like the real data.
/// </summary>
internal static class SyntheticGlyphs
{
    public static readonly string[] Classes = ["-", "|", "/", "O"];

    public static List<GlyphRow> Make(int perClass, int seed, string[]? classes = null)
    {
        classes ??= Classes;
        var random = new Random(seed);
        var rows = new List<GlyphRow>();
        for (int i = 0; i < perClass; i++)
        {
            foreach (string label in classes)
                rows.Add(new GlyphRow { Label = label, Pixels = Draw(label, random) });
        }

        return rows;
    }

    public static float[] Draw(string label, Random random)
    {
        var pixels = new float[32 * 32];
        double cx = 16 + random.Next(-4, 5), cy = 16 + random.Next(-4, 5);
        double half = 6 + random.Next(0, 5);
        double thickness = 1.2 + random.NextDouble();
        for (int r = 0; r < 32; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                double dx = c - cx, dy = r - cy;
                double distance = label switch
                {
                    "-" => Math.Abs(dy) + Math.Max(0, Math.Abs(dx) - half),
                    "|" => Math.Abs(dx) + Math.Max(0, Math.Abs(dy) - half),
                    "/" => (Math.Abs(dx + dy) / Math.Sqrt(2)) + Math.Max(0, (Math.Abs(dx - dy) / Math.Sqrt(2)) - half),
                    "\\" => (Math.Abs(dx - dy) / Math.Sqrt(2)) + Math.Max(0, (Math.Abs(dx + dy) / Math.Sqrt(2)) - half),
                    _ => Math.Abs(Math.Sqrt((dx * dx) + (dy * dy)) - (half * 0.8)),
                };
                double ink = Math.Clamp(thickness - distance + 0.5, 0, 1);
                pixels[(r * 32) + c] = (float)Math.Clamp(ink + (random.NextDouble() * 0.1), 0, 1);
            }
        }

        return pixels;
    }

    public static IDataView Load(MLContext mlContext, int perClass, int seed, string[]? classes = null) =>
        mlContext.Data.LoadFromEnumerable(Make(perClass, seed, classes));

    /// <summary>Writes 1×32×32 pixels (ink bright on dark) as a grey PNG and returns the path.</summary>
    public static string WritePng(string path, float[] pixels)
    {
        using var bitmap = new SKBitmap(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int r = 0; r < 32; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                byte v = (byte)Math.Round(pixels[(r * 32) + c] * 255f);
                bitmap.SetPixel(c, r, new SKColor(v, v, v));
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }
}
