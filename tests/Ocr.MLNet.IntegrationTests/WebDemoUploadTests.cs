using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// The WebDemo (a separate process, serving the packaged model) against malformed multipart forms and a raw image posted
/// with curl's default form type: each malformed form on either endpoint gets a 4xx with the JSON error body saying what
/// was wrong and what to send, never a 500 with an empty body.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("WebDemo")]
[NonParallelizable]
public sealed class WebDemoUploadTests
{
    private static readonly string[] Endpoints = ["api/recognize", "api/read?kind=digits"];

    private string _directory = "";
    private WebDemoServer? _server;

    [OneTimeSetUp]
    public void StartTheWebDemoWithThePretrainedModel()
    {
        _directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-webdemo-uploads");
        _server = WebDemoServer.StartWithPretrainedModel(_directory);
    }

    [OneTimeTearDown]
    public void StopTheWebDemo() => WebDemoServer.StopAndDelete(_server, _directory);

    /// <summary>Each malformed form the tester posted (they were answered 500 with an empty body), on both endpoints.</summary>
    private static IEnumerable<TestCaseData> MalformedForms()
    {
        byte[] png = File.ReadAllBytes(SampleImage("sd19/train_41_00999.png"));
        var image = new WebDemoRequests.Part("image", "image.png", png, "image/png");
        string longBoundary = new('b', 200);
        byte[] cut = WebDemoRequests.MultipartImage("cut-short", png);
        var fields = Enumerable.Range(0, 1_025).Select(i => new WebDemoRequests.Part($"field{i}", null, "x"u8.ToArray()));
        var files = Enumerable.Range(0, 1_025).Select(i => new WebDemoRequests.Part($"file{i}", $"f{i}.png", png, "image/png"));
        var cases = new (string Name, string ContentType, byte[] Body, string Says)[]
        {
            ("no boundary", "multipart/form-data", WebDemoRequests.MultipartImage("unnamed", png), "names no boundary"),
            ("a wrong boundary", "multipart/form-data; boundary=named-boundary", WebDemoRequests.MultipartImage("other-boundary", png),
                "ends before its closing boundary '--named-boundary--'"),
            ("a 200-character boundary", $"multipart/form-data; boundary={longBoundary}", WebDemoRequests.MultipartImage(longBoundary, png),
                "boundary is 200 characters long; at most 70"),
            ("a body cut short", "multipart/form-data; boundary=cut-short", cut[..(cut.Length / 2)], "ends before its closing boundary '--cut-short--'"),
            ("a part header without a colon", "multipart/form-data; boundary=b",
                Encoding.ASCII.GetBytes("--b\r\nContent-Disposition form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n").Concat(png)
                    .Concat("\r\n--b--\r\n"u8.ToArray()).ToArray(), "Invalid header line"),
            ("1,025 fields and a file", "multipart/form-data; boundary=b", WebDemoRequests.Multipart("b", fields.Append(image)), "Form value count limit 1024 exceeded"),
            ("1,025 files", "multipart/form-data; boundary=b", WebDemoRequests.Multipart("b", files), "Form value count limit 1024 exceeded"),
            ("17 KiB before the first boundary", "multipart/form-data; boundary=b",
                [.. new byte[17 * 1024], .. "\r\n"u8, .. WebDemoRequests.MultipartImage("b", png)], "Too much data before the first boundary"),
            ("a form without a file", "multipart/form-data; boundary=b", WebDemoRequests.Multipart("b", [new("kind", null, "digits"u8.ToArray())]),
                "The form holds no file"),
            ("a urlencoded form (no image)", "application/x-www-form-urlencoded", "kind=digits&image=abc"u8.ToArray(),
                "was sent as 'Content-Type: application/x-www-form-urlencoded'"),
        };
        foreach (string endpoint in Endpoints)
        {
            foreach (var (name, contentType, body, says) in cases)
                yield return new TestCaseData(endpoint, contentType, body, says).SetArgDisplayNames(endpoint, name);
        }
    }

    [TestCaseSource(nameof(MalformedForms))]
    public async Task A_malformed_form_is_answered_400_with_a_JSON_error_saying_what_was_wrong_and_what_to_send(
        string endpoint, string contentType, byte[] body, string says)
    {
        using var client = new HttpClient { BaseAddress = _server!.BaseAddress };
        var (status, reply, _) = await WebDemoRequests.PostAsync(client, endpoint, contentType, body);
        Assert.That(status, Is.EqualTo(400), $"{reply}\n{_server.Output}");
        string? error = WebDemoRequests.ErrorOf(reply);
        Assert.That(error, Is.Not.Null, $"not the JSON error body: '{reply}'");
        Assert.That(error, Does.Contain(says));
        // What to send instead: the image with its type, or a multipart file.
        Assert.That(error, Does.Contain("Content-Type: image/png").And.Contain("curl -F"));
    }

    /// <summary>
    /// <c>curl --data-binary @field.png URL</c> without a type sends <c>application/x-www-form-urlencoded</c>; the tester's
    /// 117 KB PNG made the form reader fail ("Form key length limit 2048 exceeded"). Such a body is read as the image.
    /// </summary>
    [TestCase("api/recognize", "label")]
    [TestCase("api/read?kind=digits", "text")]
    public async Task A_117_KB_png_posted_with_curls_default_form_type_is_read_as_the_image(string endpoint, string answer)
    {
        // A real field, padded with a 115 KB text chunk of letters: no '=' or '&', so read as a form it is one 117 KB key.
        byte[] png = WithTextChunk(File.ReadAllBytes(SampleImage("hsf/field-403875.png")), 115 * 1024);
        Assert.That(png, Has.Length.InRange(116 * 1024, 118 * 1024));
        using var client = new HttpClient { BaseAddress = _server!.BaseAddress };

        var (status, reply, _) = await WebDemoRequests.PostAsync(client, endpoint, "application/x-www-form-urlencoded", png);
        var (typedStatus, typedReply, _) = await WebDemoRequests.PostAsync(client, endpoint, "image/png", png);

        Assert.That(typedStatus, Is.EqualTo(200), typedReply);
        Assert.That(status, Is.EqualTo(200), $"{reply}\n{_server.Output}");
        Assert.That(AnswerOf(reply, answer), Is.EqualTo(AnswerOf(typedReply, answer)).And.Not.Empty, "the same reading as with Content-Type: image/png");
    }

    private static string AnswerOf(string body, string property)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty(property).GetString() ?? "";
    }

    private static string SampleImage(string name) => Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", name);

    /// <summary><paramref name="png"/> with a <c>tEXt</c> chunk of <paramref name="length"/> letters after its header (decoders skip it).</summary>
    private static byte[] WithTextChunk(byte[] png, int length)
    {
        const int AfterHeader = 8 + 4 + 4 + 13 + 4;   // signature, then IHDR's length, type, data and CRC
        byte[] typeAndData = [.. "tEXt"u8, .. "Comment"u8, 0, .. Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26)))];
        var chunk = new byte[4 + typeAndData.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(chunk, typeAndData.Length - 4);
        typeAndData.CopyTo(chunk, 4);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(4 + typeAndData.Length), Crc32.HashToUInt32(typeAndData));
        return [.. png.AsSpan(0, AfterHeader), .. chunk, .. png.AsSpan(AfterHeader)];
    }
}
