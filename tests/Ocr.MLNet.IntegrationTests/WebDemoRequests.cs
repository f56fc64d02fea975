using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// Requests to the WebDemo as a client could write them, well-formed or not: multipart bodies built byte by byte, the
/// JSON error of a reply, and raw sockets for clients that send slowly or not at all.
/// </summary>
internal static class WebDemoRequests
{
    /// <summary>One part of a multipart form: a field (no file name) or a file.</summary>
    public sealed record Part(string Name, string? FileName, byte[] Content, string? ContentType = null);

    /// <summary>A <c>multipart/form-data</c> body with <paramref name="boundary"/>, its parts, and the closing boundary.</summary>
    public static byte[] Multipart(string boundary, IEnumerable<Part> parts)
    {
        var body = new MemoryStream();
        foreach (var part in parts)
        {
            string disposition = part.FileName is null
                ? $"form-data; name=\"{part.Name}\""
                : $"form-data; name=\"{part.Name}\"; filename=\"{part.FileName}\"";
            string type = part.ContentType is null ? "" : $"Content-Type: {part.ContentType}\r\n";
            body.Write(Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: {disposition}\r\n{type}\r\n"));
            body.Write(part.Content);
            body.Write("\r\n"u8);
        }

        body.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return body.ToArray();
    }

    /// <summary>A form whose one part is <paramref name="image"/> as the file <c>image.png</c>, as a browser or <c>curl -F</c> sends it.</summary>
    public static byte[] MultipartImage(string boundary, byte[] image) =>
        Multipart(boundary, [new Part("image", "image.png", image, "image/png")]);

    /// <summary>Posts <paramref name="body"/> with exactly <paramref name="contentType"/> (not validated, so malformed types go as they are).</summary>
    public static async Task<(int Status, string Body, TimeSpan Elapsed)> PostAsync(HttpClient client, string path, string contentType, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.Remove("Content-Type");
        Assert.That(content.Headers.TryAddWithoutValidation("Content-Type", contentType), Is.True, contentType);
        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text, clock.Elapsed);
    }

    /// <summary>The <c>error</c> of a JSON error reply; null when <paramref name="body"/> is not a JSON object with a string <c>error</c>.</summary>
    public static string? ErrorOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String ? error.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What a raw client saw: everything the server sent, and when the server closed the connection (null: still open at the end).</summary>
    public sealed record RawOutcome(string Reply, TimeSpan? ClosedAfter);

    /// <summary>
    /// Connects to <paramref name="server"/>, sends <paramref name="head"/> at once and then <paramref name="trickle"/> one byte
    /// every <paramref name="interval"/>, while reading whatever the server answers, until the server closes the connection
    /// or <paramref name="giveUp"/> has passed. With both empty, the client connects and sends nothing.
    /// </summary>
    public static async Task<RawOutcome> SlowClientAsync(Uri server, byte[] head, byte[] trickle, TimeSpan interval, TimeSpan giveUp)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        var clock = Stopwatch.StartNew();
        var received = new MemoryStream();
        var reading = Task.Run(async () =>
        {
            byte[] buffer = new byte[4096];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                    received.Write(buffer, 0, read);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // A reset is a close too (and this client closes the socket itself when it gives up); what arrived is kept.
            }

            return clock.Elapsed;
        });

        try
        {
            if (head.Length > 0)
                await stream.WriteAsync(head);
            foreach (byte b in trickle)
            {
                if (reading.IsCompleted || clock.Elapsed > giveUp)
                    break;
                await stream.WriteAsync(new[] { b });
                await Task.Delay(interval);
            }
        }
        catch (IOException)
        {
            // The server closed the connection while this client was still sending.
        }

        var left = giveUp - clock.Elapsed;
        TimeSpan? closedAfter = await Task.WhenAny(reading, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero)) == reading ? reading.Result : null;
        tcp.Close();
        await reading.WaitAsync(TimeSpan.FromSeconds(5));
        return new RawOutcome(Encoding.UTF8.GetString(received.ToArray()), closedAfter);
    }
}
