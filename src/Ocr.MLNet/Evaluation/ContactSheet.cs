using SkiaSharp;

namespace Ocr.MLNet.Evaluation;

/// <summary>A PNG grid of 1×32×32 images as the network sees them, to look at preprocessing and augmentation.</summary>
internal static class ContactSheet
{
    private const int Margin = 4;

    /// <summary>
    /// Writes one row per entry of <paramref name="rows"/>: its first image, a wider gap, then the others (for example an
    /// image and its augmented copies), each pixel drawn as a <paramref name="scale"/>×<paramref name="scale"/> square.
    /// </summary>
    /// <param name="path">The PNG file; its folder is created.</param>
    /// <param name="rows">Images of 1,024 values in [0, 1], ink bright on dark; every row as long as the first.</param>
    /// <param name="scale">Pixels per image pixel, 1 to 16.</param>
    /// <returns>The picture's width and height in pixels.</returns>
    /// <exception cref="ArgumentException">No rows, rows of different lengths, an image of another size, or a scale outside 1..16.</exception>
    /// <example>
    /// <code>
    /// var rows = mlContext.Data.CreateEnumerable&lt;PixelRow&gt;(data, reuseRowObject: false).Take(8).Select(r => new[] { r.Pixels }).ToList();
    /// ContactSheet.Save("sheet.png", rows, scale: 3);
    /// </code>
    /// </example>
    public static (int Width, int Height) Save(string path, IReadOnlyList<IReadOnlyList<float[]>> rows, int scale = 3)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(rows);
        var problems = new List<string>();
        if (rows.Count == 0 || rows[0].Count == 0)
            problems.Add("rows must hold at least one image");
        else if (rows.Any(r => r.Count != rows[0].Count))
            problems.Add($"every row must hold {rows[0].Count} images, as the first does");
        problems.Check(scale is >= 1 and <= 16, nameof(scale), scale, "must be in 1..16");
        problems.ThrowIfAny(nameof(ContactSheet), paramName: nameof(rows));

        int side = CharacterFormat.ImageSide;
        int tile = side * scale;
        int gap = 3 * Margin; // a wider gap sets the first image apart from the others
        int others = rows[0].Count - 1;
        int width = Margin + tile + gap + (others * (tile + Margin));
        int height = Margin + (rows.Count * (tile + Margin));
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(96, 96, 96));
            for (int i = 0; i < rows.Count; i++)
            {
                int top = Margin + (i * (tile + Margin));
                for (int k = 0; k <= others; k++)
                {
                    int left = k == 0 ? Margin : Margin + tile + gap + ((k - 1) * (tile + Margin));
                    PixelDrawing.DrawPixels(canvas, rows[i][k], left, top, scale);
                }
            }
        }

        PixelDrawing.SavePng(bitmap, path);
        return (width, height);
    }
}
