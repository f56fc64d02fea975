using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Ocr.MLNet.Tests;

/// <summary>Glyphs the tests draw with SkiaSharp lines (no fonts needed) and helpers to read views.</summary>
internal static class DrawnGlyphs
{
    /// <summary>
    /// A 128×128 glyph drawn with thick lines, deliberately off-centre (upper left), ink
    /// <paramref name="ink"/> on <paramref name="paper"/>.
    /// </summary>
    public static SKBitmap Draw(string label, SKColor ink, SKColor paper, int size = 128)
    {
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(paper);
        using var paint = new SKPaint { Color = ink, StrokeWidth = size / 16f, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round };
        float s = size / 128f;
        // Glyph box: x 12..62, y 14..94 (50 × 80 of 128), upper left of the image.
        (float, float, float, float)[] lines = label switch
        {
            "A" => [(12, 94, 37, 14), (37, 14, 62, 94), (22, 62, 52, 62)],
            "a" => [(62, 54, 62, 94), (62, 54, 12, 54), (12, 54, 12, 94), (12, 94, 62, 94), (37, 14, 62, 54)],
            "7" => [(12, 14, 62, 14), (62, 14, 30, 94)],
            _ => [(12, 14, 62, 94), (12, 94, 62, 14)],
        };
        foreach (var (x0, y0, x1, y1) in lines)
            canvas.DrawLine(x0 * s, y0 * s, x1 * s, y1 * s, paint);
        canvas.Flush();
        return bitmap;
    }

    public static byte[] Png(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] Jpeg(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    public static byte[] BlackOnWhitePng(string label)
    {
        using var bitmap = Draw(label, SKColors.Black, SKColors.White);
        return Png(bitmap);
    }

    public static void Write(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    public static List<(string Label, float[] Pixels)> ReadAll(IDataView view, string label = "Label", string pixels = "Pixels")
    {
        var rows = new List<(string, float[])>();
        using var cursor = view.GetRowCursor(view.Schema);
        var labelGetter = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema[label]);
        var pixelsGetter = cursor.GetGetter<VBuffer<float>>(view.Schema[pixels]);
        ReadOnlyMemory<char> text = default;
        VBuffer<float> vector = default;
        while (cursor.MoveNext())
        {
            labelGetter(ref text);
            pixelsGetter(ref vector);
            rows.Add((text.ToString(), vector.DenseValues().ToArray()));
        }

        return rows;
    }

    public static Dictionary<string, int> Counts(IEnumerable<(string Label, float[] Pixels)> rows) =>
        rows.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>
    /// Checks EMNIST's convention: ink bright on dark, max 1, zero 2-pixel border, the ink's bounding box centred
    /// (within 1.5 px) with its longer side about 28 px, and the ink's centroid near the centre (within
    /// <paramref name="centroidTolerance"/> px: a "7" has most of its ink high, so its centroid is legitimately off).
    /// Real scans may carry faint specks that widen the box EMNIST's method crops to, so they pass a smaller
    /// <paramref name="minimumSpan"/>.
    /// </summary>
    public static void AssertEmnistLike(float[] pixels, string what, double centroidTolerance = 5, int minimumSpan = 24)
    {
        Assert.That(pixels, Has.Length.EqualTo(1024), what);
        double mass = 0, rowSum = 0, columnSum = 0;
        int top = 32, bottom = -1, left = 32, right = -1;
        for (int r = 0; r < 32; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                float v = pixels[(r * 32) + c];
                if (r < 2 || r >= 30 || c < 2 || c >= 30)
                    Assert.That(v, Is.Zero, $"{what}: the 2-pixel padding at ({r}, {c}) must be zero");
                mass += v;
                rowSum += v * r;
                columnSum += v * c;
                if (v > 0.05f)
                {
                    top = Math.Min(top, r);
                    bottom = Math.Max(bottom, r);
                    left = Math.Min(left, c);
                    right = Math.Max(right, c);
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(pixels.Max(), Is.EqualTo(1f).Within(1e-6), $"{what}: brightest pixel scaled to 1");
            Assert.That(pixels.Min(), Is.GreaterThanOrEqualTo(0f), what);
            Assert.That(mass / 1024, Is.LessThan(0.5), $"{what}: mostly dark background (white-on-black)");
            Assert.That(pixels[0], Is.Zero, what);
            Assert.That(rowSum / mass, Is.EqualTo(15.5).Within(centroidTolerance), $"{what}: ink centroid row near the centre");
            Assert.That(columnSum / mass, Is.EqualTo(15.5).Within(centroidTolerance), $"{what}: ink centroid column near the centre");
            int span = Math.Max(bottom - top + 1, right - left + 1);
            Assert.That(span, Is.InRange(minimumSpan, 28), $"{what}: the longer side of the ink's bounding box spans about 28 px");
            Assert.That((top + bottom) / 2.0, Is.EqualTo(15.5).Within(1.5), $"{what}: box centred vertically");
            Assert.That((left + right) / 2.0, Is.EqualTo(15.5).Within(1.5), $"{what}: box centred horizontally");
        });
    }
}
