using Ocr.MLNet.Loading;
using Ocr.MLNet.Serving;
using SkiaSharp;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Text;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Evaluation;

/// <summary>
/// Draws what a reader read onto the image it read, so a person can check it: each character's box coloured by its
/// confidence (green ≥ 80 %, orange ≥ 50 %, red below) with its label, and the field's text and confidence underneath;
/// for a form, each field's box and text.
/// </summary>
/// <example>
/// <code>
/// var reading = reader.Read("name.png", FieldKind.Upper);
/// FieldOverlay.Save("name.png", reading, "name.overlay.png");
/// </code>
/// </example>
public static class FieldOverlay
{
    /// <summary>Small fields are enlarged to at least this height so that labels stay legible.</summary>
    private const int MinFieldHeight = 120;

    /// <summary>Writes <paramref name="imagePath"/> with <paramref name="reading"/> drawn on it as a PNG at <paramref name="outputPath"/> (atomically).</summary>
    /// <param name="imagePath">The image that was read.</param>
    /// <param name="reading">What was read in it.</param>
    /// <param name="outputPath">The PNG to write; its folder is created.</param>
    /// <param name="maxImagePixels">The size cap of the input image, checked before decoding.</param>
    /// <exception cref="CharacterDataException">The image cannot be read or decoded, or is too large.</exception>
    /// <example>
    /// <code>
    /// FieldOverlay.Save("amount.jpg", reader.Read("amount.jpg", FieldKind.Digits), "amount.overlay.png");
    /// </code>
    /// </example>
    public static void Save(string imagePath, FieldReading reading, string outputPath, long maxImagePixels = CharacterImageLoaderOptions.DefaultMaxImagePixels)
    {
        ArgumentNullException.ThrowIfNull(reading);
        var (grey, width, height) = HandwrittenFieldReader.DecodeGrey(imagePath, maxImagePixels);
        float scale = height < MinFieldHeight ? (float)MinFieldHeight / height : 1f;
        float strip = Math.Max(28, 0.25f * height * scale);
        Draw(grey, width, height, scale, strip, outputPath, canvas =>
        {
            DrawCharacters(canvas, reading.Characters, scale);
            using var paint = PixelDrawing.TextPaint(strip * 0.6f, SKColors.Black);
            string text = reading.IsBlank ? "(blank)" : $"{reading.Text}  {reading.Confidence:P0}";
            canvas.DrawText(text, 4, (height * scale) + (strip * 0.75f), paint);
        });
    }

    /// <summary>Writes a form page with each field's box and text drawn on it as a PNG (atomically).</summary>
    /// <param name="pagePath">The page that was read.</param>
    /// <param name="fields">What <see cref="HandwrittenFieldReader.ReadForm(string, IReadOnlyList{FieldKind}?)"/> returned.</param>
    /// <param name="outputPath">The PNG to write; its folder is created.</param>
    /// <param name="maxImagePixels">The size cap of the page, checked before decoding.</param>
    /// <exception cref="CharacterDataException">The image cannot be read or decoded, or is too large.</exception>
    /// <example>
    /// <code>
    /// FieldOverlay.Save("hsf.png", reader.ReadForm("hsf.png"), "hsf.overlay.png");
    /// </code>
    /// </example>
    public static void Save(string pagePath, IReadOnlyList<FormField> fields, string outputPath, long maxImagePixels = CharacterImageLoaderOptions.DefaultMaxImagePixels)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var (grey, width, height) = HandwrittenFieldReader.DecodeGrey(pagePath, maxImagePixels);
        Draw(grey, width, height, 1f, 0, outputPath, canvas =>
        {
            using var border = new SKPaint { Color = SKColors.Blue, Style = SKPaintStyle.Stroke, StrokeWidth = 3 };
            foreach (var field in fields)
            {
                canvas.DrawRect(field.Box.X, field.Box.Y, field.Box.Width, field.Box.Height, border);
                DrawCharacters(canvas, field.Reading.Characters, 1f);
                using var paint = PixelDrawing.TextPaint(Math.Max(14, field.Box.Height * 0.3f), SKColors.Blue, bold: true);
                canvas.DrawText(field.Reading.Text, field.Box.X, field.Box.Bottom + paint.TextSize, paint);
            }
        });
    }

    private static void Draw(byte[] grey, int width, int height, float scale, float strip, string outputPath, Action<SKCanvas> draw)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        using var source = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        nint pixels = source.GetPixels();
        for (int row = 0; row < height; row++)
            System.Runtime.InteropServices.Marshal.Copy(grey, row * width, pixels + (row * source.RowBytes), width);
        int outWidth = Math.Max(1, (int)Math.Ceiling(width * scale)), outHeight = (int)Math.Ceiling((height * scale) + strip);
        using var bitmap = new SKBitmap(outWidth, outHeight, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(source, SKRect.Create(0, 0, width * scale, height * scale));
            draw(canvas);
        }

        AtomicFile.Write(outputPath, temporary => PixelDrawing.SavePng(bitmap, temporary));
    }

    private static void DrawCharacters(SKCanvas canvas, IReadOnlyList<CharacterReading> characters, float scale)
    {
        foreach (var character in characters)
        {
            var colour = character.Confidence >= 0.8f ? SKColors.Green : character.Confidence >= 0.5f ? SKColors.Orange : SKColors.Red;
            using var box = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = 2 };
            var rect = SKRect.Create(character.Box.X * scale, character.Box.Y * scale, character.Box.Width * scale, character.Box.Height * scale);
            canvas.DrawRect(rect, box);
            using var label = PixelDrawing.TextPaint(Math.Max(12, rect.Height * 0.35f), colour, bold: true);
            canvas.DrawText(character.Label, rect.Left + 1, rect.Top + label.TextSize, label);
        }
    }
}
