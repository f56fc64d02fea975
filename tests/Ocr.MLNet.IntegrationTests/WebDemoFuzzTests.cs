using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// Seeded mutations of valid request bodies (a multipart form, a urlencoded body, a raw PNG: bytes changed, cut short,
/// a span or a whole part duplicated, random boundaries) posted to both WebDemo endpoints, as <see cref="LoaderFuzzTests"/> does for the
/// loaders: every request is answered 200 with the JSON reading, or a 4xx with the JSON error body, within a second;
/// never a 500, an empty body, or a reset connection.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("WebDemo")]
[NonParallelizable]
public sealed class WebDemoFuzzTests
{
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(1);

    private static readonly string[] Endpoints = ["api/recognize", "api/read?kind=digits"];

    /// <summary>Characters a boundary may hold (RFC 2046's bchars, quotes and a few that need quoting).</summary>
    private const string BoundaryCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=? \"";

    private string _directory = "";
    private WebDemoServer? _server;
    private HttpClient _client = null!;
    private byte[][] _images = [];

    [OneTimeSetUp]
    public void StartTheWebDemoWithThePretrainedModel()
    {
        _directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-webdemo-fuzz");
        _server = WebDemoServer.StartWithPretrainedModel(_directory);
        _client = new HttpClient { BaseAddress = _server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        string images = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images");
        _images = [File.ReadAllBytes(Path.Combine(images, "hsf", "field-403875.png")), File.ReadAllBytes(Path.Combine(images, "sd19", "train_41_00999.png"))];

        // One good request per endpoint and body kind first: the second a request may take is for the mutation, not for the JIT.
        foreach (string endpoint in Endpoints)
        {
            foreach (var (type, body) in new[] { ("image/png", _images[0]), ("application/x-www-form-urlencoded", _images[0]),
                         ("multipart/form-data; boundary=warm-up", WebDemoRequests.MultipartImage("warm-up", _images[0])) })
            {
                var reply = WebDemoRequests.PostAsync(_client, endpoint, type, body).GetAwaiter().GetResult();
                Assert.That(reply.Status, Is.EqualTo(200), $"warm-up {endpoint} {type}: {reply.Body}");
            }
        }
    }

    [OneTimeTearDown]
    public void StopTheWebDemo()
    {
        _client?.Dispose();
        WebDemoServer.StopAndDelete(_server, _directory);
    }

    [Test]
    public async Task Mutated_multipart_forms_are_answered_200_or_4xx_with_the_JSON_error()
    {
        var random = new Random(41);
        var outcomes = await FuzzAsync(150, i =>
        {
            // A form as a page sends it: a text field and the image file.
            var image = new WebDemoRequests.Part("image", "image.png", _images[i % _images.Length], "image/png");
            var parts = new List<WebDemoRequests.Part> { new("kind", null, "digits"u8.ToArray()), image };
            string boundary = "----fuzz" + random.Next(1_000_000);
            byte[] body;
            switch (i % 5)
            {
                case 3:
                    // Whole parts duplicated, in a random order.
                    for (int k = random.Next(1, 4); k > 0; k--)
                        parts.Insert(random.Next(parts.Count + 1), parts[random.Next(parts.Count)]);
                    body = WebDemoRequests.Multipart(boundary, parts);
                    break;
                case 4:
                    // A random boundary (0–120 characters, some that need quoting), used throughout the body.
                    boundary = RandomBoundary(random);
                    body = WebDemoRequests.Multipart(boundary, parts);
                    break;
                default:
                    body = Mutate(WebDemoRequests.Multipart(boundary, parts), i % 5, random);
                    break;
            }

            string named = random.Next(2) == 0 ? boundary : $"\"{boundary}\"";
            return ($"multipart/form-data; boundary={named}", body);
        });
        Report("multipart/form-data", outcomes);
    }

    [Test]
    public async Task Mutated_urlencoded_bodies_are_answered_200_or_4xx_with_the_JSON_error()
    {
        var random = new Random(42);
        var outcomes = await FuzzAsync(60, i =>
        {
            byte[] image = _images[i % _images.Length];
            // curl --data-binary's way (the raw image under the form type), or a real form that carries the image as text.
            byte[] original = i % 2 == 0 ? image : Encoding.ASCII.GetBytes("kind=digits&image=" + Uri.EscapeDataString(Convert.ToBase64String(image)));
            string type = random.Next(3) == 0 ? "application/x-www-form-urlencoded; charset=utf-8" : "application/x-www-form-urlencoded";
            return (type, Mutate(original, (i / 2) % 3, random));
        });
        Report("application/x-www-form-urlencoded", outcomes);
    }

    [Test]
    public async Task Mutated_png_bodies_are_answered_200_or_4xx_with_the_JSON_error()
    {
        var random = new Random(43);
        string[] types = ["image/png", "image/png", "image/jpeg", "application/octet-stream"];
        var outcomes = await FuzzAsync(120, i => (types[random.Next(types.Length)], Mutate(_images[i % _images.Length], (i / 2) % 3, random)));
        Report("raw PNG", outcomes);
    }

    /// <summary>How the mutated bodies were answered: read (200), or refused, counted by status and the start of the error.</summary>
    private sealed record Outcomes(int Tried, int Read, SortedDictionary<string, int> Refused, TimeSpan Slowest);

    /// <summary>
    /// Posts <paramref name="count"/> bodies from <paramref name="make"/>, alternating the two endpoints, one at a time, and
    /// fails on the first reply that is not 200 with a JSON reading or a 4xx with the JSON error, or that takes over a second.
    /// </summary>
    private async Task<Outcomes> FuzzAsync(int count, Func<int, (string ContentType, byte[] Body)> make)
    {
        int read = 0;
        var refused = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            var (contentType, body) = make(i);
            string endpoint = Endpoints[i % Endpoints.Length];
            string what = $"request {i} to {endpoint} ({contentType}, {body.Length:N0} bytes)";
            (int Status, string Body, TimeSpan Elapsed) reply;
            try
            {
                reply = await WebDemoRequests.PostAsync(_client, endpoint, contentType, body);
            }
            catch (HttpRequestException e)
            {
                Assert.Fail($"{what}: the connection failed ({e.Message})\n{_server!.Output}");
                throw;
            }

            slowest = reply.Elapsed > slowest ? reply.Elapsed : slowest;
            Assert.That(reply.Elapsed, Is.LessThan(PerRequest), $"{what} took {reply.Elapsed.TotalMilliseconds:F0} ms");
            if (reply.Status == 200)
            {
                Assert.That(IsReading(reply.Body), Is.True, $"{what}: 200 without a reading: '{reply.Body}'");
                read++;
                continue;
            }

            Assert.That(reply.Status, Is.InRange(400, 499), $"{what}: {reply.Status} '{reply.Body}'\n{_server!.Output}");
            string? error = WebDemoRequests.ErrorOf(reply.Body);
            Assert.That(error, Is.Not.Null.And.Not.Empty, $"{what}: {reply.Status} without the JSON error: '{reply.Body}'");
            // The error up to its first detail (a number, a quoted value, a colon), so that like refusals count together.
            string gist = Regex.Match(error!, @"^[^\d':;(]{1,60}").Value.TrimEnd();
            string kind = $"{reply.Status} {gist}…";
            refused[kind] = refused.GetValueOrDefault(kind) + 1;
        }

        Assert.That(_server!.Process.HasExited, Is.False, _server.Output);
        return new Outcomes(count, read, refused, slowest);
    }

    /// <summary>A 200 body: the JSON of a character (<c>label</c>) or of a field (<c>text</c>).</summary>
    private static bool IsReading(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && (json.RootElement.TryGetProperty("label", out _) || json.RootElement.TryGetProperty("text", out _));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>One of three mutations: random bytes over a span, a truncation, or a random span copied to a random place.</summary>
    private static byte[] Mutate(byte[] original, int kind, Random random) => Fuzzer.Mutate(original, kind == 2 ? 3 : kind, random);

    private static string RandomBoundary(Random random) =>
        new(Enumerable.Range(0, random.Next(0, 121)).Select(_ => BoundaryCharacters[random.Next(BoundaryCharacters.Length)]).ToArray());

    private static void Report(string bodies, Outcomes outcomes) =>
        TestContext.Out.WriteLine($"{bodies}: {outcomes.Tried} mutated bodies, {outcomes.Read} read (200); slowest {outcomes.Slowest.TotalMilliseconds:F0} ms; refused:\n  "
            + string.Join("\n  ", outcomes.Refused.Select(r => $"{r.Value,3}× {r.Key}")));
}
