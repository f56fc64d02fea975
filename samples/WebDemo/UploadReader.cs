using SkiaSharp;

namespace WebDemo;

/// <summary>A request that carries no usable image; its message is the reply's error, with <see cref="StatusCode"/> (400, or 413 when too large).</summary>
internal sealed class BadUploadException(string message, int statusCode = StatusCodes.Status400BadRequest) : Exception(message)
{
    /// <summary>The HTTP status of the reply: 400 Bad Request, or 413 Content Too Large for too many bytes.</summary>
    public int StatusCode { get; } = statusCode;
}

/// <summary>Reads the uploaded image bytes: the raw request body, or the first file of a multipart form.</summary>
internal static class UploadReader
{
    public static async Task<byte[]> ReadImageBytesAsync(HttpRequest request, int maxBytes, CancellationToken cancellation)
    {
        if (request.ContentLength > maxBytes)
            throw TooLarge(request.ContentLength.Value, maxBytes);

        Stream body;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellation);
            var file = form.Files.FirstOrDefault()
                ?? throw new BadUploadException("The form holds no file: send the image as the request body, or as a file field of a multipart form.");
            if (file.Length > maxBytes)
                throw TooLarge(file.Length, maxBytes);
            body = file.OpenReadStream();
        }
        else
        {
            body = request.Body;
        }

        await using (body)
        {
            var buffer = new MemoryStream();
            byte[] chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellation)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBytes)
                    throw TooLarge(null, maxBytes);
            }

            if (buffer.Length == 0)
                throw new BadUploadException("The upload is empty: send a PNG or JPEG image as the request body.");
            return buffer.ToArray();
        }
    }

    /// <summary>
    /// Reads only the image header of <paramref name="bytes"/> and says what is wrong (not an image, or more than
    /// <see cref="Recognizer.MaxSide"/> on a side or <see cref="Recognizer.MaxPixels"/> in all), or null when it may be decoded.
    /// Nothing is decoded here, so a file that declares a huge image costs nothing.
    /// </summary>
    public static string? CheckImageHeader(byte[] bytes)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
            return $"The upload ({bytes.Length:N0} bytes) is not an image that can be decoded; send a PNG or JPEG image.";
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width > Recognizer.MaxSide || height > Recognizer.MaxSide || (long)width * height > Recognizer.MaxPixels)
        {
            return $"The image ({bytes.Length:N0} bytes) declares {width}×{height} pixels; the largest accepted side is {Recognizer.MaxSide} pixels "
                + $"and the most pixels {Recognizer.MaxPixels:N0}. It was refused before decoding; send a smaller image.";
        }

        return width < 1 || height < 1 ? $"The image declares {width}×{height} pixels, no pixels at all; send a PNG or JPEG image." : null;
    }

    private static BadUploadException TooLarge(long? length, int maxBytes) =>
        new($"The upload{(length is { } n ? $" ({n:N0} bytes)" : "")} is larger than the {maxBytes / 1024:N0} KiB limit; send a smaller image.",
            StatusCodes.Status413PayloadTooLarge);
}
