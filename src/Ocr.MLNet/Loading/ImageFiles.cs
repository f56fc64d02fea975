using Microsoft.ML.Data;
using SkiaSharp;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Decodes images the way every reader in this library does, for an app that hands a model an in-memory image: the file's
/// size is capped before reading, the declared pixels before decoding, a truncated or damaged file is refused rather than
/// read in part, and a photo's EXIF orientation is applied. ML.NET's <c>LoadImages</c> and <see cref="MLImage.CreateFromFile"/>
/// do none of these.
/// </summary>
/// <remarks>
/// The image comes back opaque, in BGRA: any transparency is composited over white, as the models' preparation does, so
/// a canvas drawing with a transparent background reads as ink on paper.
/// </remarks>
/// <example>
/// <code>
/// using var image = ImageFiles.Load("photo.jpg");       // upright, whole, within the caps, or a CharacterDataException
/// if (InkCheck.Inspect(image) == ImageContent.Writing)
///     Console.WriteLine(engine.Predict(new CharacterImage { Image = image }).PredictedLabel);
/// </code>
/// </example>
public static class ImageFiles
{
    /// <summary>Reads and decodes an image file (PNG, JPEG, BMP, GIF, WebP).</summary>
    /// <param name="path">The image file.</param>
    /// <param name="maxPixels">The most pixels (width × height) accepted, checked from the header before decoding; the file may
    /// hold at most 4 bytes a pixel and 1 MiB, checked before reading.</param>
    /// <returns>The decoded image, upright and opaque; the caller disposes it.</returns>
    /// <exception cref="CharacterDataException">The file is missing, not a regular file, too large, not an image, declares too
    /// many pixels, or is truncated or damaged (the message names the file, the problem and what to do).</exception>
    public static MLImage Load(string path, long maxPixels = CharacterImageLoaderOptions.DefaultMaxImagePixels)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        using var bitmap = ImageDecoder.Decode(path, full: true, maxPixels, out string? problem, capOption: null)
            ?? throw new CharacterDataException($"The image '{path}' {problem}.", path, null);
        return ToOpaqueImage(bitmap);
    }

    /// <summary>Decodes encoded image bytes (an upload, a database blob).</summary>
    /// <param name="encoded">The bytes of a PNG, JPEG, BMP, GIF or WebP file.</param>
    /// <param name="source">What the bytes are, for messages (e.g. "the upload", a file name).</param>
    /// <param name="maxPixels">The most pixels (width × height) accepted, checked from the header before decoding.</param>
    /// <returns>The decoded image, upright and opaque; the caller disposes it.</returns>
    /// <exception cref="CharacterDataException">The bytes are empty, not an image, declare too many pixels, or are truncated or damaged.</exception>
    public static MLImage Decode(byte[] encoded, string source, long maxPixels = CharacterImageLoaderOptions.DefaultMaxImagePixels)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        using var bitmap = ImageDecoder.DecodeBytes(encoded, full: true, maxPixels, out string? problem, capOption: null)
            ?? throw new CharacterDataException($"The image '{source}' ({encoded.Length:N0} bytes) {problem}.", source, null);
        return ToOpaqueImage(bitmap);
    }

    private static MLImage ToOpaqueImage(SKBitmap bitmap)
    {
        using var bgra = bitmap.ColorType == SKColorType.Bgra8888 && bitmap.AlphaType == SKAlphaType.Opaque
            ? null
            : new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Bgra8888, SKAlphaType.Opaque));
        if (bgra is null)
            return MLImage.CreateFromPixels(bitmap.Width, bitmap.Height, MLPixelFormat.Bgra32, bitmap.GetPixelSpan());

        // Over white, by the unpremultiplied alpha the decoder asked for.
        var source = bitmap.GetPixelSpan();
        using var pixmap = bgra.PeekPixels();
        var target = pixmap.GetPixelSpan<byte>();
        bool sourceIsBgra = bitmap.ColorType == SKColorType.Bgra8888;
        for (int i = 0; i < target.Length; i += 4)
        {
            int alpha = bitmap.AlphaType == SKAlphaType.Opaque ? 255 : source[i + 3];
            byte Over(byte channel) => (byte)((channel * alpha + 255 * (255 - alpha) + 127) / 255);
            target[i] = Over(source[sourceIsBgra ? i : i + 2]);
            target[i + 1] = Over(source[i + 1]);
            target[i + 2] = Over(source[sourceIsBgra ? i + 2 : i]);
            target[i + 3] = 255;
        }

        return MLImage.CreateFromPixels(bgra.Width, bgra.Height, MLPixelFormat.Bgra32, bgra.GetPixelSpan());
    }
}
