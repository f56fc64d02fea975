using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using SkiaSharp;

namespace WebDemo;

/// <summary>A request that carries no usable image; its message is the reply's error, with <see cref="StatusCode"/> (400, 408, or 413 when too large).</summary>
internal sealed class BadUploadException(string message, int statusCode = StatusCodes.Status400BadRequest) : Exception(message)
{
    /// <summary>The HTTP status of the reply: 400 Bad Request, 408 Request Timeout for a body that arrives too slowly, or 413 Content Too Large for too many bytes.</summary>
    public int StatusCode { get; } = statusCode;
}

/// <summary>
/// Reads the uploaded image bytes: the raw request body, or the first file of a <c>multipart/form-data</c> form. Every
/// way a body can be malformed, cut short, too slow or too large ends here as a <see cref="BadUploadException"/>, so the
/// endpoints answer it with the JSON error body and never with a 500.
/// </summary>
/// <remarks>
/// A body sent as <c>application/x-www-form-urlencoded</c> (what <c>curl --data-binary</c> sends when no type is named) is
/// read as the raw image: such a form cannot carry a file, so the only useful reading of it is the bytes themselves.
/// When those bytes are no image, the reply says to send <c>Content-Type: image/png</c> or a multipart file.
/// </remarks>
internal static class UploadReader
{
    /// <summary>The longest multipart boundary accepted: RFC 2046 allows 1 to 70 characters (ASP.NET's default would take 128).</summary>
    public const int MaxBoundaryLength = 70;

    /// <summary>The most parts and keys a multipart form may hold, together (ASP.NET's default, stated here).</summary>
    public const int MaxFormEntries = 1024;

    /// <summary>
    /// The most request body Kestrel reads (its MaxRequestBodySize), twice the image limit: a body over the limit but under
    /// this is read to its end after its 413, so a client that is still sending gets the reply rather than a reset
    /// connection; a larger one is cut off after the reply. It also leaves a form's boundaries and fields room around an image.
    /// </summary>
    public const long MaxRequestBytes = 2L * Recognizer.MaxUploadBytes;

    private const string WhatToSend =
        "Send the image as the request body with its type (curl -H 'Content-Type: image/png' --data-binary @image.png URL), "
        + "or as the file field of a multipart/form-data form (curl -F image=@image.png URL).";

    /// <summary>
    /// ASP.NET's form limits, each stated rather than left to the defaults. The form is read as it arrives (not buffered
    /// whole first); a file part over 64 KiB is buffered in a temporary file that ASP.NET deletes when the request ends.
    /// </summary>
    private static readonly FormOptions FormLimits = new()
    {
        BufferBody = false,
        MultipartBoundaryLengthLimit = MaxBoundaryLength,
        ValueCountLimit = MaxFormEntries,
        // The demo reads no text fields; a page's own fields (a kind, a name) are short.
        KeyLengthLimit = 256,
        ValueLengthLimit = 16 * 1024,
        // These two also bound the preamble: more than 16 KiB before the first boundary is refused.
        MultipartHeadersCountLimit = 16,
        MultipartHeadersLengthLimit = 16 * 1024,
        // A part cannot be longer than the body, whose limit Kestrel enforces first (413); a file over the image limit is refused 413 below.
        MultipartBodyLengthLimit = MaxRequestBytes,
        MemoryBufferThreshold = 64 * 1024,
    };

    /// <summary>
    /// The image bytes of <paramref name="request"/>: its body, or the first file of its multipart form; at most
    /// <paramref name="maxBytes"/>.
    /// </summary>
    /// <exception cref="BadUploadException">
    /// The body is empty, larger than <paramref name="maxBytes"/> (413), arrives too slowly (408), is cut short, or is a
    /// malformed form or a form without a file (400); the message says what was wrong and what to send.
    /// </exception>
    public static async Task<byte[]> ReadImageBytesAsync(HttpRequest request, int maxBytes, CancellationToken cancellation)
    {
        if (request.ContentLength > maxBytes)
            throw TooLarge(request.ContentLength.Value, maxBytes);

        string? boundary = null;
        try
        {
            if (request.ContentType is { } contentType && contentType.TrimStart().StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                boundary = BoundaryOf(contentType);
                return await ReadFormFileAsync(request, maxBytes, cancellation);
            }

            byte[] bytes = await ReadAllAsync(request.Body, maxBytes, cancellation);
            if (request.HasFormContentType && !LooksLikeAnImage(bytes))
            {
                throw new BadUploadException(
                    $"The body ({bytes.Length:N0} bytes) was sent as 'Content-Type: application/x-www-form-urlencoded' (curl --data-binary's default), "
                    + "which cannot carry a file, and is not an image itself. " + WhatToSend);
            }

            return bytes;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(null, maxBytes);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Kestrel's MinRequestBodyDataRate: a trickling client loses its connection instead of holding it.
            throw new BadUploadException($"The body arrived too slowly ({e.Message}); send the whole image at once.", StatusCodes.Status408RequestTimeout);
        }
        catch (BadHttpRequestException e)
        {
            // Before IOException, which it derives from: Kestrel's own refusals (a body cut short of its Content-Length, …) carry their status.
            throw new BadUploadException($"The request body could not be read ({e.Message}). " + WhatToSend, e.StatusCode is >= 400 and < 500 ? e.StatusCode : 400);
        }
        catch (InvalidDataException e)
        {
            // ASP.NET's form reader: a bad part header, too many parts or keys, a preamble over 16 KiB, a part over its limit.
            throw new BadUploadException($"The multipart form is malformed: {e.Message.TrimEnd('.', ' ')}. " + WhatToSend);
        }
        catch (IOException) when (boundary is not null)
        {
            // ASP.NET's form reader says "Unexpected end of Stream, the content may have already been read by another
            // component", which would mislead: the body ended before the form's closing boundary.
            throw new BadUploadException(
                $"The multipart form ends before its closing boundary '--{boundary}--': the body was cut short, or its parts do not start "
                + $"with '--{boundary}', the boundary its Content-Type names. " + WhatToSend);
        }
        catch (IOException e)
        {
            throw new BadUploadException($"The request body could not be read to its end ({e.Message}). " + WhatToSend);
        }
    }

    /// <summary>The boundary a multipart Content-Type names, refused here with a message that says what is wrong (ASP.NET would refuse the same).</summary>
    private static string BoundaryOf(string contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            string shown = contentType.Length > 100 ? contentType[..100] + "…" : contentType;
            throw new BadUploadException(
                $"The Content-Type '{shown}' cannot be parsed; a boundary with spaces or other special characters must be quoted "
                + "(multipart/form-data; boundary=\"a b\"). " + WhatToSend);
        }

        string boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).ToString();
        if (boundary.Length == 0)
            throw new BadUploadException("The multipart/form-data Content-Type names no boundary (e.g. 'multipart/form-data; boundary=XyZ'). " + WhatToSend);
        if (boundary.Length > MaxBoundaryLength)
        {
            throw new BadUploadException(
                $"The multipart boundary is {boundary.Length:N0} characters long; at most {MaxBoundaryLength} are allowed (RFC 2046). " + WhatToSend);
        }

        return boundary;
    }

    private static async Task<byte[]> ReadFormFileAsync(HttpRequest request, int maxBytes, CancellationToken cancellation)
    {
        var form = await request.ReadFormAsync(FormLimits, cancellation);
        var file = form.Files.FirstOrDefault()
            ?? throw new BadUploadException("The form holds no file (a part with a filename). " + WhatToSend);
        if (file.Length > maxBytes)
            throw TooLarge(file.Length, maxBytes);
        return await ReadAllAsync(file.OpenReadStream(), maxBytes, cancellation);
    }

    private static async Task<byte[]> ReadAllAsync(Stream body, int maxBytes, CancellationToken cancellation)
    {
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

    // A codec recognises the bytes (only the header is read; the library decodes them later).
    private static bool LooksLikeAnImage(byte[] bytes)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        return codec is not null;
    }

    private static BadUploadException TooLarge(long? length, int maxBytes) =>
        new($"The upload{(length is { } n ? $" ({n:N0} bytes)" : "")} is larger than the {maxBytes / 1024:N0} KiB limit; send a smaller image.",
            StatusCodes.Status413PayloadTooLarge);
}
