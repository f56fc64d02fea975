namespace WebDemo;

/// <summary>A request that carries no usable image; its message is the 400 reply.</summary>
internal sealed class BadUploadException(string message) : Exception(message);

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

    private static BadUploadException TooLarge(long? length, int maxBytes) =>
        new($"The upload{(length is { } n ? $" ({n:N0} bytes)" : "")} is larger than the {maxBytes / 1024:N0} KiB limit; send a smaller image.");
}
