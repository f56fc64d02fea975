using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.Playwright;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// samples/WebDemo as a separate process on a free 127.0.0.1 port, serving a model trained here: its page is
/// driven in real headless Chromium (Debian's /usr/bin/chromium through Playwright), and its endpoint is
/// called directly for bad uploads.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("WebDemo")]
[NonParallelizable]
public sealed class WebDemoTests
{
    /// <summary>More classes than the page lists, so the top five are a real choice.</summary>
    private static readonly string[] Classes = ["-", "|", "/", "\\", "O", "0"];

    private string _directory = "";
    private WebDemoServer? _server;

    private Uri BaseAddress => _server!.BaseAddress;

    [OneTimeSetUp]
    public void TrainAModelAndStartTheWebDemo()
    {
        _directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-webdemo");
        var mlContext = new MLContext(seed: 1);
        var rows = SyntheticGlyphs.Make(perClass: 40, seed: 21, classes: Classes);
        var options = new CharacterCnnTrainer.Options { Epochs = 3, BatchSize = 16, BatchNormMomentum = 0.5, ValidationFraction = 0, Seed = 3, Device = TrainingDevice.Cpu };
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(mlContext.Data.LoadFromEnumerable(rows));
        string zip = ImageFileModel.Save(mlContext, model, Path.Combine(_directory, "model.zip"));

        _server = WebDemoServer.Start(zip, _directory);
    }

    [OneTimeTearDown]
    public void StopTheWebDemo() => WebDemoServer.StopAndDelete(_server, _directory);

    [Test]
    [Category("Browser")]
    public async Task A_character_drawn_in_Chromium_gets_five_classes_with_probabilities()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await WebDemoServer.LaunchChromiumAsync(playwright);
        var errors = new List<string>();
        var page = await WebDemoServer.NewPageAsync(browser, 860, 620, errors);

        await page.GotoAsync(BaseAddress.ToString());
        await Assertions.Expect(page.Locator("#model-info")).ToContainTextAsync($"{Classes.Length} classes");
        // The button is the trigger here, not the end of the stroke.
        await page.Locator("#auto").UncheckAsync();

        var pad = await page.Locator("#pad").BoundingBoxAsync() ?? throw new AssertionException("The drawing pad is not visible.");
        await page.Mouse.MoveAsync(pad.X + (pad.Width * 0.2f), pad.Y + (pad.Height * 0.5f));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(pad.X + (pad.Width * 0.8f), pad.Y + (pad.Height * 0.52f), new MouseMoveOptions { Steps = 15 });
        await page.Mouse.UpAsync();
        await page.Locator("#recognize").ClickAsync();

        await page.Locator("#top[data-state='done']").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        var items = page.Locator("#top li");
        Assert.That(await items.CountAsync(), Is.EqualTo(5), await page.Locator("#status").InnerTextAsync());
        var labels = await items.Locator(".label").AllInnerTextsAsync();
        var probabilities = new List<double>();
        foreach (var probability in await items.Locator(".probability").AllAsync())
            probabilities.Add(double.Parse(await probability.GetAttributeAsync("data-value") ?? "nan", CultureInfo.InvariantCulture));
        string best = await page.Locator("#best").InnerTextAsync();

        string screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "artifacts", "webdemo.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.Out.WriteLine($"screenshot: {screenshot}");
        TestContext.Out.WriteLine($"top 5: {string.Join(", ", labels.Zip(probabilities, (l, p) => string.Create(CultureInfo.InvariantCulture, $"{l} {p:F4}")))}");
        TestContext.AddTestAttachment(screenshot, "the page after recognizing a drawn stroke");

        Assert.Multiple(() =>
        {
            Assert.That(labels, Has.Count.EqualTo(5));
            Assert.That(labels, Is.Unique);
            Assert.That(labels, Is.SubsetOf(Classes), "labels come from the model's classes");
            Assert.That(best, Is.EqualTo("-"), "a horizontal stroke is read as '-'");
            Assert.That(best, Is.EqualTo(labels[0]), "the predicted label is the most probable class");
            Assert.That(probabilities, Is.All.InRange(0.0, 1.0));
            Assert.That(probabilities, Is.Ordered.Descending);
            Assert.That(probabilities.Sum(), Is.LessThanOrEqualTo(1.0 + 1e-5));
            Assert.That(errors, Is.Empty, "the page logged errors");
        });
    }

    [Test]
    public async Task An_upload_that_is_not_an_image_is_answered_400_with_a_clear_message()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress };
        using var text = new ByteArrayContent("this is not a picture"u8.ToArray());
        text.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync("api/recognize", text);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), ServerOutput);
        Assert.That(ErrorOf(await response.Content.ReadAsStringAsync()), Does.Contain("is not an image").And.Contain("PNG or JPEG"));
    }

    [Test]
    public async Task An_empty_upload_is_answered_400_and_an_oversized_one_413_with_a_clear_message()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress };
        using var empty = new ByteArrayContent([]);
        using var emptyResponse = await client.PostAsync("api/recognize", empty);
        Assert.That(emptyResponse.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(ErrorOf(await emptyResponse.Content.ReadAsStringAsync()), Does.Contain("empty"));

        using var large = new ByteArrayContent(new byte[3 * 1024 * 1024]);
        using var largeResponse = await client.PostAsync("api/recognize", large);
        Assert.That(largeResponse.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(ErrorOf(await largeResponse.Content.ReadAsStringAsync()), Does.Contain("larger than the 2,048 KiB limit"));

        // 50 MB sent chunked (no Content-Length): refused once the limit is read past, with the JSON error, not an empty
        // body. The server answers and closes while the client still sends, so a plain socket reads the reply.
        string reply = await PostChunkedAsync(BaseAddress, "/api/recognize", 50);
        Assert.That(reply, Does.StartWith("HTTP/1.1 413"), reply);
        Assert.That(reply, Does.Contain("larger than the 2,048 KiB limit"), reply);
    }

    [Test]
    public async Task A_png_posted_directly_is_classified()
    {
        string png = SyntheticGlyphs.WritePng(Path.Combine(_directory, "bar.png"), SyntheticGlyphs.Draw("|", new Random(5)));
        using var client = new HttpClient { BaseAddress = BaseAddress };
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(png));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync("api/recognize", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        using var json = JsonDocument.Parse(body);
        var top = json.RootElement.GetProperty("top").EnumerateArray().ToList();
        Assert.That(top, Has.Count.EqualTo(5));
        Assert.That(json.RootElement.GetProperty("label").GetString(), Is.EqualTo("|"), body);
        Assert.That(top[0].GetProperty("label").GetString(), Is.EqualTo("|"), body);
    }

    [Test]
    public async Task A_small_png_declaring_a_huge_size_is_answered_400_before_decoding()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress };
        long before = ServerWorkingSet();
        foreach (var (width, height) in new[] { (60000, 60000), (20000, 20000), (5000, 1000) })
        {
            byte[] bomb = PngBomb.Make(width, height);
            using var content = new ByteArrayContent(bomb);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var response = await client.PostAsync("api/recognize", content);
            string body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), $"{width}×{height}: {body}\n{ServerOutput}");
            Assert.That(ErrorOf(body), Does.Contain($"declares {width}×{height} pixels").And.Contain("refused before decoding"));
        }

        Assert.That(_server!.Process.HasExited, Is.False, "the server survives the bombs");
        Assert.That(ServerWorkingSet() - before, Is.LessThan(256L << 20), "nothing of the declared size was allocated");
    }

    /// <summary>
    /// 200 requests, 8 at a time, on 127.0.0.1: 140 good PNGs, 20 oversized bodies (413), 20 bombs (400) and 20 malformed
    /// forms (400), while slow clients hold connections: 4 send a body one byte every 200 ms, 2 send their headers one byte
    /// every 500 ms, 2 connect and send nothing. Every good request gets the right answer; the trickling bodies are cut off
    /// with 408 and the JSON error, and the slow headers and silent connections closed, by Kestrel's limits (8 KiB/s after a
    /// 5 s grace; 10 s for headers and for an idle connection). The server's working set stays under 512 MiB throughout, and
    /// its resident memory (VmRSS) after the load is within 96 MiB of before. Kept under 30 s.
    /// </summary>
    [Test]
    public async Task Under_200_concurrent_requests_with_oversized_malformed_and_slow_ones_answers_stay_correct_and_memory_bounded()
    {
        const long MemoryBound = 512L << 20;   // one 20000×20000 decode alone would take 1.5 GiB
        // What the load may leave behind: the GC's budgets and pooled buffers (about 30 MiB here), not the requests. Keeping
        // half a MiB per request (a decoded image, a read body, a connection's buffers) would exceed it over 200 requests.
        const long GrowthBound = 96L << 20;
        byte[] bar = await File.ReadAllBytesAsync(SyntheticGlyphs.WritePng(Path.Combine(_directory, "load-bar.png"), SyntheticGlyphs.Draw("|", new Random(5))));
        byte[] tooMany = new byte[3 * 1024 * 1024];
        byte[] bomb = PngBomb.Make(60000, 60000);
        (string ContentType, byte[] Body)[] malformed =
        [
            ("multipart/form-data", WebDemoRequests.MultipartImage("unnamed", bar)),
            ("multipart/form-data; boundary=named", WebDemoRequests.MultipartImage("other", bar)),
            ("multipart/form-data; boundary=b", WebDemoRequests.Multipart("b", Enumerable.Range(0, 1_100).Select(i => new WebDemoRequests.Part($"f{i}", null, "x"u8.ToArray())))),
        ];
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(50) };

        // Warm up first, so "before" is a server that has already served: the growth measured is the load's.
        for (int i = 0; i < 16; i++)
            Assert.That((await WebDemoRequests.PostAsync(client, "api/recognize", "image/png", bar)).Status, Is.EqualTo(200));
        long residentBefore = _server!.ResidentBytes();

        long peak = ServerWorkingSet();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ServerWorkingSet());
                await Task.Delay(20);
            }
        });

        var clock = Stopwatch.StartNew();
        // The slow clients start first and are still connected while the good requests run.
        var giveUp = TimeSpan.FromSeconds(20);
        byte[] bodyHead = Encoding.ASCII.GetBytes(
            $"POST /api/recognize HTTP/1.1\r\nHost: {BaseAddress.Authority}\r\nContent-Type: image/png\r\nContent-Length: {bar.Length}\r\n\r\n");
        var trickledBodies = Enumerable.Range(0, 4).Select(_ => WebDemoRequests.SlowClientAsync(BaseAddress, bodyHead, bar, TimeSpan.FromMilliseconds(200), giveUp)).ToList();
        var trickledHeaders = Enumerable.Range(0, 2).Select(_ => WebDemoRequests.SlowClientAsync(BaseAddress, [], bodyHead, TimeSpan.FromMilliseconds(500), giveUp)).ToList();
        var silent = Enumerable.Range(0, 2).Select(_ => WebDemoRequests.SlowClientAsync(BaseAddress, [], [], TimeSpan.Zero, giveUp)).ToList();

        var outcomes = new (int Kind, int Status, string Body)[200];
        TimeSpan goodDone;
        WebDemoRequests.RawOutcome[] slowBodies, slowHeaders, silentOnes;
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellation) =>
            {
                int kind = (i % 10) switch { 3 => 1, 7 => 2, 5 => 3, _ => 0 };   // 0 good, 1 too many bytes, 2 too many pixels, 3 malformed form
                var (contentType, body) = kind switch { 1 => ("image/png", tooMany), 2 => ("image/png", bomb), 3 => malformed[i / 10 % malformed.Length], _ => ("image/png", bar) };
                var reply = await WebDemoRequests.PostAsync(client, "api/recognize", contentType, body);
                outcomes[i] = (kind, reply.Status, reply.Body);
            });
            goodDone = clock.Elapsed;
            slowBodies = await Task.WhenAll(trickledBodies);
            slowHeaders = await Task.WhenAll(trickledHeaders);
            silentOnes = await Task.WhenAll(silent);
        }
        finally
        {
            // Should a request fail, the slow clients still end (within giveUp) before the server is stopped.
            await ((Task)Task.WhenAll([.. trickledBodies, .. trickledHeaders, .. silent])).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        clock.Stop();
        await sampling.CancelAsync();
        await sampler;
        peak = Math.Max(peak, Math.Max(ServerWorkingSet(), ServerPeakResident() ?? 0));
        long residentAfter = _server.ResidentBytes();
        TestContext.Out.WriteLine($"200 requests in {goodDone.TotalSeconds:F1} s, slow clients done at {clock.Elapsed.TotalSeconds:F1} s; "
            + $"trickled bodies closed after {string.Join(", ", slowBodies.Select(o => $"{o.ClosedAfter?.TotalSeconds:F1} s"))}, "
            + $"slow headers after {string.Join(", ", slowHeaders.Select(o => $"{o.ClosedAfter?.TotalSeconds:F1} s"))}, "
            + $"silent connections after {string.Join(", ", silentOnes.Select(o => $"{o.ClosedAfter?.TotalSeconds:F1} s"))}; "
            + $"server working set peak {peak >> 20} MiB (bound {MemoryBound >> 20} MiB), resident {residentBefore >> 20} → {residentAfter >> 20} MiB");

        var good = outcomes.Where(o => o.Kind == 0).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(good, Has.Count.EqualTo(140));
            Assert.That(good.Select(o => o.Status), Is.All.EqualTo(200), string.Join("\n", good.Where(o => o.Status != 200).Select(o => o.Body).Distinct()));
            Assert.That(good.Select(o => LabelOf(o.Body)), Is.All.EqualTo("|"), "every good upload is read as '|'");
            Assert.That(outcomes.Where(o => o.Kind == 1).Select(o => o.Status), Is.All.EqualTo(413));
            Assert.That(outcomes.Where(o => o.Kind is 2 or 3).Select(o => o.Status), Is.All.EqualTo(400));
            Assert.That(outcomes.Where(o => o.Kind != 0).Select(o => WebDemoRequests.ErrorOf(o.Body)), Is.All.Not.Null.And.Not.Empty, "refused requests get the JSON error");

            // Never closed counts as TimeSpan.MaxValue. A 5 s grace, then Kestrel checks the rate once a second; 12 s leaves room for a loaded machine.
            Assert.That(slowBodies.Select(o => o.ClosedAfter ?? TimeSpan.MaxValue), Is.All.LessThan(TimeSpan.FromSeconds(12)), "trickling bodies are cut off");
            Assert.That(slowBodies.Select(o => o.Reply), Is.All.StartsWith("HTTP/1.1 408").And.Contains("arrived too slowly"));
            Assert.That(slowHeaders.Select(o => o.ClosedAfter ?? TimeSpan.MaxValue), Is.All.LessThan(TimeSpan.FromSeconds(15)), "slow headers are cut off");
            Assert.That(silentOnes.Select(o => o.ClosedAfter ?? TimeSpan.MaxValue), Is.All.LessThan(TimeSpan.FromSeconds(15)), "silent connections are closed");

            Assert.That(_server.Process.HasExited, Is.False, ServerOutput);
            Assert.That(peak, Is.LessThan(MemoryBound), $"the server's working set peaked at {peak >> 20} MiB");
            Assert.That(residentAfter - residentBefore, Is.LessThan(GrowthBound), "the server kept memory from the load");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
        });
    }

    private long ServerWorkingSet()
    {
        _server!.Process.Refresh();
        return _server.Process.WorkingSet64;
    }

    /// <summary>The server's peak resident memory since it started (Linux VmHWM), or null where /proc has none.</summary>
    private long? ServerPeakResident()
    {
        string status = $"/proc/{_server!.Process.Id}/status";
        if (!File.Exists(status))
            return null;
        string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    private static string LabelOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("label", out var label) ? label.GetString() ?? "" : body;
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private string ServerOutput => _server!.Output;

    private static async Task<string> PostChunkedAsync(Uri server, string path, int megabytes)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        byte[] head = System.Text.Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(head);
        byte[] chunk = new byte[1024 * 1024];
        byte[] size = System.Text.Encoding.ASCII.GetBytes($"{chunk.Length:X}\r\n");
        byte[] end = "\r\n"u8.ToArray();
        try
        {
            for (int i = 0; i < megabytes; i++)
            {
                await stream.WriteAsync(size);
                await stream.WriteAsync(chunk);
                await stream.WriteAsync(end);
            }

            await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
        }
        catch (IOException)
        {
            // The server stopped reading: its reply is already on the way.
        }

        var reply = new MemoryStream();
        try
        {
            await stream.CopyToAsync(reply);
        }
        catch (IOException)
        {
            // A reset after the reply; what arrived is kept.
        }

        return System.Text.Encoding.UTF8.GetString(reply.ToArray());
    }

    private static string ErrorOf(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("error").GetString() ?? "";
    }
}
