using SkiaSharp;

namespace Ocr.MLNet.Evaluation;

/// <summary>
/// Drawing shared by the pictures the tools write (contact sheets, evaluation reports): 32×32 pixel images
/// scaled up without smoothing, text in one typeface, and PNG files.
/// </summary>
internal static class PixelDrawing
{
    /// <summary>Side of the square images the loaders produce.</summary>
    public const int Side = CharacterFormat.ImageSide;

    private static readonly Lazy<SKTypeface> Font = new(() =>
        SKFontManager.Default.MatchFamily("DejaVu Sans") ?? SKTypeface.FromFamilyName("Sans") ?? SKTypeface.Default);

    /// <summary>The typeface of captions and axes.</summary>
    public static SKTypeface Typeface => Font.Value;

    /// <summary>A paint for text of <paramref name="size"/> pixels.</summary>
    public static SKPaint TextPaint(float size, SKColor color, SKTextAlign align = SKTextAlign.Left, bool bold = false) => new()
    {
        Typeface = bold ? SKTypeface.FromFamilyName(Typeface.FamilyName, SKFontStyle.Bold) ?? Typeface : Typeface,
        TextSize = size,
        Color = color,
        IsAntialias = true,
        TextAlign = align,
    };

    /// <summary>
    /// Draws a 1×32×32 image (ink bright on dark, values in [0, 1]) with its top-left corner at
    /// (<paramref name="left"/>, <paramref name="top"/>), each pixel as a <paramref name="scale"/>×<paramref name="scale"/> square.
    /// </summary>
    public static void DrawPixels(SKCanvas canvas, ReadOnlySpan<float> pixels, float left, float top, int scale)
    {
        if (pixels.Length != Side * Side)
            throw new ArgumentException($"Expected {Side * Side} pixels; got {pixels.Length}.", nameof(pixels));
        using var image = new SKBitmap(Side, Side, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                byte grey = (byte)Math.Clamp(MathF.Round(pixels[(y * Side) + x] * 255), 0, 255);
                image.SetPixel(x, y, new SKColor(grey, grey, grey));
            }
        }

        // The default paint does not filter: every source pixel stays a sharp square.
        canvas.DrawBitmap(image, SKRect.Create(left, top, Side * scale, Side * scale));
    }

    /// <summary>Writes <paramref name="bitmap"/> to <paramref name="path"/> as PNG, creating its folder.</summary>
    public static void SavePng(SKBitmap bitmap, string path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
            Directory.CreateDirectory(folder);
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }
}
