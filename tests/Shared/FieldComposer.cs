using SkiaSharp;

namespace Ocr.MLNet.Tests;

/// <summary>
/// Composes a field image (dark ink on white paper, 8-bit grey) from 1×32×32 character images (ink bright on dark, as the
/// loaders give them), left to right with known gaps, and records where each character went: the truth for segmentation.
/// </summary>
internal static class FieldComposer
{
    public const int Margin = 12;

    /// <summary>A composed field.</summary>
    /// <param name="Grey">Row-major grey pixels, 0 = black ink, 255 = paper.</param>
    /// <param name="Width">Width.</param>
    /// <param name="Height">Height.</param>
    /// <param name="Characters">Each character's columns [Left, Right) in the field.</param>
    /// <param name="Joins">The column where each pair of neighbours meets (the middle of their gap or overlap).</param>
    public sealed record Field(byte[] Grey, int Width, int Height, (int Left, int Right)[] Characters, int[] Joins);

    /// <summary>Options of a composition.</summary>
    /// <param name="Gap">Columns between neighbours' ink; negative overlaps them (touching characters).</param>
    /// <param name="Scale">Each source pixel becomes Scale × Scale pixels.</param>
    /// <param name="Box">Draw a box border around the field.</param>
    /// <param name="Underline">Draw a guide line under the characters, touching their lowest ink.</param>
    /// <param name="Break">Erase a band across the middle of this character (its index), breaking it in two.</param>
    public sealed record Layout(int Gap = 8, int Scale = 2, bool Box = false, bool Underline = false, int Break = -1);

    public static Field Compose(IReadOnlyList<float[]> glyphs, Layout layout)
    {
        int s = layout.Scale;
        var crops = glyphs.Select(g => Crop(g)).ToArray();
        int inkWidth = crops.Sum(c => c.Width * s) + (layout.Gap * s * (crops.Length - 1));
        int height = (32 * s) + (2 * Margin);
        int width = inkWidth + (2 * Margin);
        var ink = new float[width * height];
        var characters = new (int Left, int Right)[crops.Length];
        int x = Margin;
        int lowest = 0;
        for (int k = 0; k < crops.Length; k++)
        {
            var (pixels, left, w) = crops[k];
            characters[k] = (x, x + (w * s));
            for (int r = 0; r < 32 * s; r++)
            {
                bool erased = k == layout.Break && r >= 15 * s && r < 18 * s;
                for (int c = 0; c < w * s; c++)
                {
                    float v = erased ? 0 : pixels[((r / s) * 32) + left + (c / s)];
                    int at = ((Margin + r) * width) + x + c;
                    ink[at] = Math.Max(ink[at], v);
                    if (v > 0.3f)
                        lowest = Math.Max(lowest, Margin + r);
                }
            }

            x += (w + layout.Gap) * s;
        }

        if (layout.Underline)
        {
            for (int r = lowest; r < lowest + (2 * s); r++)
            {
                for (int c = Margin / 2; c < width - (Margin / 2); c++)
                    ink[(r * width) + c] = 1;
            }
        }

        if (layout.Box)
        {
            for (int c = 2; c < width - 2; c++)
            {
                for (int t = 0; t < 3; t++)
                    ink[((2 + t) * width) + c] = ink[((height - 3 - t) * width) + c] = 1;
            }

            for (int r = 2; r < height - 2; r++)
            {
                for (int t = 0; t < 3; t++)
                    ink[(r * width) + 2 + t] = ink[(r * width) + width - 3 - t] = 1;
            }
        }

        var grey = ink.Select(v => (byte)Math.Round(255 * (1 - Math.Clamp(v, 0, 1)))).ToArray();
        var joins = Enumerable.Range(0, crops.Length - 1).Select(k => (characters[k].Right + characters[k + 1].Left) / 2).ToArray();
        return new Field(grey, width, height, characters, joins);
    }

    /// <summary>The glyph's ink columns (values above 0.2): its pixels, first column and width.</summary>
    private static (float[] Pixels, int Left, int Width) Crop(float[] glyph)
    {
        int left = 32, right = -1;
        for (int r = 0; r < 32; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                if (glyph[(r * 32) + c] > 0.2f)
                {
                    left = Math.Min(left, c);
                    right = Math.Max(right, c);
                }
            }
        }

        if (right < 0)
            throw new ArgumentException("The glyph has no ink.", nameof(glyph));
        // Faint blur outside the kept columns would leave stray marks: keep only the cropped columns.
        return (glyph, left, right - left + 1);
    }

    /// <summary>Writes a field as a PNG file (its grey in all three colour channels).</summary>
    public static void WritePng(string path, Field field)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(field.Width, field.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < field.Height; y++)
        {
            for (int x = 0; x < field.Width; x++)
            {
                byte g = field.Grey[(y * field.Width) + x];
                bitmap.SetPixel(x, y, new SKColor(g, g, g));
            }
        }

        File.WriteAllBytes(path, DrawnGlyphs.Png(bitmap));
    }
}
