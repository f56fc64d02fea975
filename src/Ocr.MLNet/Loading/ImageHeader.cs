using SkiaSharp;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Checks an image file's declared size from its header, before anything decodes it: the guard an app puts in front
/// of a saved model (whose <c>LoadImages</c> decodes whatever it is given) against small files that declare huge images.
/// </summary>
public static class ImageHeader
{
    /// <summary>Reads the width and height the file's header declares and refuses more than <paramref name="maxPixels"/> pixels.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="maxPixels">The largest width × height accepted. Default <see cref="CharacterImageLoaderOptions.DefaultMaxImagePixels"/>.</param>
    /// <returns>The declared width and height.</returns>
    /// <exception cref="CharacterDataException">The file cannot be read, is not an image, or declares too many pixels (the message names it, its size and the fix).</exception>
    /// <example>
    /// <code>
    /// ImageHeader.Check("upload.png");                       // throws before a 60000×60000 "PNG" is decoded
    /// var prediction = engine.Predict(new Input { ImagePath = "upload.png" });
    /// </code>
    /// </example>
    public static (int Width, int Height) Check(string path, long maxPixels = CharacterImageLoaderOptions.DefaultMaxImagePixels)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        // From the file's size first (missing, a device or a pipe, larger than any image of maxPixels): SKCodec would
        // open a pipe and wait for a writer.
        string? problem = ImageDecoder.FileProblem(path, maxPixels);
        int width = 0, height = 0;
        if (problem is null)
        {
            try
            {
                // SKCodec reads the header only; no pixel memory is allocated here.
                using var codec = SKCodec.Create(path);
                if (codec is null)
                {
                    problem = "is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP)";
                }
                else
                {
                    (width, height) = (codec.Info.Width, codec.Info.Height);
                    problem = ImageDecoder.TooManyPixelsProblem(width, height, maxPixels);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot be read ({e.Message})";
            }
        }

        if (problem is not null)
            throw new CharacterDataException($"The image '{path}' {problem}.", path, null);
        return (width, height);
    }
}
