using SkiaSharp;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Decodes image files and encoded bytes with SkiaSharp to 32-bit colour (the platform's RGBA or BGRA order), and
/// says in words what is wrong when it cannot, so that the loaders' errors name the problem. The size an image's
/// header declares is checked against a pixel cap before any pixel memory is allocated, so a small file that
/// declares a huge image (a decompression bomb) is refused rather than decoded.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>
    /// Decodes an image file; null with the problem in words when it cannot be read or decoded.
    /// With <paramref name="full"/> false only the header is read (and an empty bitmap is returned).
    /// </summary>
    /// <param name="path">The image file.</param>
    /// <param name="full">Decode the pixels; false reads only the header.</param>
    /// <param name="maxPixels">The largest width × height accepted; a larger declared size is a problem, found before decoding.</param>
    /// <param name="problem">What is wrong, in words, when null is returned.</param>
    /// <param name="capOption">The option that raises <paramref name="maxPixels"/>, named in the problem; null names none.</param>
    public static SKBitmap? Decode(string path, bool full, long maxPixels, out string? problem, string? capOption = LoaderCapOption)
    {
        byte[] bytes;
        try
        {
            if (BoundedFile.TryReadAllBytes(path, MaxFileBytes(maxPixels), CapReason(maxPixels), out bytes) is string fileProblem)
            {
                problem = fileProblem;
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            problem = $"cannot be read ({e.Message})";
            return null;
        }

        return DecodeBytes(bytes, full, maxPixels, out problem, capOption);
    }

    /// <summary>
    /// The most bytes an image file may hold: four per pixel of <paramref name="maxPixels"/> (more than any PNG, JPEG,
    /// BMP, GIF or WebP of that many pixels takes) and 1 MiB for headers and metadata.
    /// </summary>
    public static long MaxFileBytes(long maxPixels) => maxPixels > (long.MaxValue - (1 << 20)) / 4 ? long.MaxValue : maxPixels * 4 + (1 << 20);

    /// <summary>Why the image file may not be read (missing, a device or a pipe, over <see cref="MaxFileBytes"/>), or null; nothing is opened.</summary>
    public static string? FileProblem(string path, long maxPixels) => BoundedFile.Problem(path, MaxFileBytes(maxPixels), CapReason(maxPixels));

    private static string CapReason(long maxPixels) =>
        $"the most an image of {nameof(CharacterImageLoaderOptions.MaxImagePixels)} = {maxPixels:N0} pixels takes: 4 bytes a pixel and 1 MiB";

    /// <summary>Decodes encoded image bytes; null with the problem in words when they cannot be decoded or declare more than <paramref name="maxPixels"/> pixels.</summary>
    public static SKBitmap? DecodeBytes(byte[] bytes, bool full, long maxPixels, out string? problem, string? capOption = LoaderCapOption)
    {
        problem = null;
        if (bytes.Length == 0)
        {
            problem = "is empty (0 bytes), not an image";
            return null;
        }

        // SKData keeps the decoder in native code (a managed stream would call back into .NET for every read).
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            problem = "is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP)";
            return null;
        }

        // Keep the source's alpha type when it is opaque: asking an opaque PNG for unpremultiplied alpha costs a
        // colour transform per pixel.
        var alpha = codec.Info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Unpremul;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKImageInfo.PlatformColorType, alpha);
        if (info.Width < 1 || info.Height < 1)
        {
            problem = $"has no pixels ({info.Width}×{info.Height})";
            return null;
        }

        // Before any pixel memory: SKBitmap(info) alone allocates width × height × 4 bytes.
        if (TooManyPixelsProblem(info.Width, info.Height, maxPixels, capOption) is string tooLarge)
        {
            problem = tooLarge;
            return null;
        }

        var bitmap = new SKBitmap(info);
        if (!full)
            return bitmap;
        var decoded = codec.GetPixels(info, bitmap.GetPixels());
        if (decoded != SKCodecResult.Success)
        {
            bitmap.Dispose();
            // IncompleteInput is a file cut short: SkiaSharp fills the rest, but a part-image must not be read as a whole one.
            problem = decoded == SKCodecResult.IncompleteInput
                ? $"is damaged: its {codec.EncodedFormat} image data ends before the image does (the file is truncated); copy or export it again"
                : $"is damaged: its {codec.EncodedFormat} image data cannot be decoded (SkiaSharp says {decoded})";
            return null;
        }

        return Upright(bitmap, codec.EncodedOrigin);
    }

    /// <summary>
    /// The image as it is meant to be seen: a phone stores a photo as the sensor saw it and says in its EXIF Orientation
    /// how to turn it. Takes ownership of <paramref name="bitmap"/>.
    /// </summary>
    internal static SKBitmap Upright(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft || !Enum.IsDefined(origin))
            return bitmap;
        int w = bitmap.Width, h = bitmap.Height;
        bool swapsSides = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int uprightWidth = swapsSides ? h : w;
        var upright = new SKBitmap(new SKImageInfo(uprightWidth, swapsSides ? w : h, bitmap.ColorType, bitmap.AlphaType));
        // Pixels are moved, not resampled: every colour type here is 4 bytes a pixel.
        var source = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(bitmap.GetPixelSpan());
        using var pixmap = upright.PeekPixels();
        var target = pixmap.GetPixelSpan<uint>();
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                var (ux, uy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),              // mirrored left–right
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),   // turned 180°
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),            // mirrored top–bottom
                    SKEncodedOrigin.LeftTop => (y, x),                       // transposed
                    SKEncodedOrigin.RightTop => (h - 1 - y, x),              // turned 90° clockwise
                    SKEncodedOrigin.RightBottom => (h - 1 - y, w - 1 - x),   // transverse
                    _ => (y, w - 1 - x),                                     // LeftBottom: turned 90° anticlockwise
                };
                target[uy * uprightWidth + ux] = source[y * w + x];
            }
        }

        bitmap.Dispose();
        return upright;
    }

    /// <summary>The loaders' option that raises the pixel cap, named in their problems.</summary>
    public const string LoaderCapOption = $"{nameof(CharacterImageLoaderOptions)}.{nameof(CharacterImageLoaderOptions.MaxImagePixels)}";

    /// <summary>
    /// Why an image of <paramref name="width"/> × <paramref name="height"/> pixels is refused, or null when it is
    /// within <paramref name="maxPixels"/>: says the size and, when <paramref name="capOption"/> is given, the option that raises the cap.
    /// </summary>
    public static string? TooManyPixelsProblem(int width, int height, long maxPixels, string? capOption = LoaderCapOption)
    {
        long pixels = (long)width * height;
        if (pixels <= maxPixels)
            return null;
        string problem = $"declares {width}×{height} pixels ({pixels:N0}), more than the {maxPixels:N0} allowed "
            + $"(decoding it would take {pixels * 4 / (1024 * 1024):N0} MiB); it is refused before decoding";
        return capOption is null ? problem : $"{problem}. If the image is genuine, raise {capOption}";
    }
}
