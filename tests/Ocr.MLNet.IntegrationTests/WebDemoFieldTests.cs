using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.Playwright;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using SkiaSharp;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// The WebDemo's field mode: a digit model trained here on real EMNIST digits serves the page; a number is written on the
/// wide canvas in headless Chromium with strokes traced from other (held-out) EMNIST digits, read through
/// <c>POST /api/read</c>, and its text, character boxes and the boxes drawn over the strokes are checked. The endpoint is
/// also called directly with a composed field and with bad kinds.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("WebDemo")]
[Category("RealData")]
[NonParallelizable]
public sealed class WebDemoFieldTests
{
    /// <summary>EMNIST rows searched for the glyphs of <see cref="Number"/>.</summary>
    private const int GlyphRows = 2_000;

    /// <summary>The number written on the page.</summary>
    private const string Number = "2749";

    /// <summary>Canvas pixels per glyph pixel when tracing, and the glyphs' placement on the 840×200 canvas.</summary>
    private const int Scale = 4;
    private const int FirstLeft = 60;
    private const int Top = 36;
    private const int Advance = (32 * Scale) + 40;

    private string _directory = "";
    private WebDemoServer? _server;
    private EmnistDataset _emnist = null!;
    private readonly Dictionary<char, float[]> _glyphs = [];

    [OneTimeSetUp]
    public void StartTheWebDemoWithThePretrainedModel()
    {
        _emnist = EmnistDataset.Load(TestEnvironment.RealData("emnist-bymerge-dev"), "dev", maxRows: GlyphRows);
        _directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-webdemo-fields");
        string zip = Path.Combine(_directory, "pretrained.zip");
        PretrainedCharacterModel.SaveTo(zip); // the WebDemo takes a model file, as an app deploys one

        // For each digit of the number, the first real glyph the model reads alone as that digit: the test is about
        // segmenting and serving a written number, not about the few glyphs the model gets wrong.
        using (var reader = HandwrittenFieldReader.Load(zip, new FieldReaderOptions { Kind = FieldKind.Digits }))
        {
            foreach (char digit in Number.Distinct())
            {
                _glyphs[digit] = Enumerable.Range(0, _emnist.Count)
                    .Where(row => _emnist.GetLabel(row) == digit.ToString())
                    .Select(Pixels)
                    .First(glyph =>
                    {
                        var field = FieldComposer.Compose([glyph], new FieldComposer.Layout());
                        return reader.Read(field.Grey, field.Width, field.Height).Text == digit.ToString();
                    });
            }
        }

        _server = WebDemoServer.Start(zip, _directory);
    }

    [OneTimeTearDown]
    public void StopTheWebDemo() => WebDemoServer.StopAndDelete(_server, _directory);

    [Test]
    [Category("Browser")]
    public async Task A_number_written_on_the_wide_canvas_is_read_with_a_box_over_each_digit()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await WebDemoServer.LaunchChromiumAsync(playwright);
        var errors = new List<string>();
        var page = await WebDemoServer.NewPageAsync(browser, 960, 760, errors);
        await page.GotoAsync(_server!.BaseAddress.ToString());
        await page.Locator("#mode-field").ClickAsync();
        await page.Locator("#field-kind").SelectOptionAsync("digits");

        var pad = await page.Locator("#field-pad").BoundingBoxAsync() ?? throw new AssertionException("The wide pad is not visible.");
        var canvasSize = await page.EvaluateAsync<int[]>("() => { const c = document.getElementById('field-pad'); return [c.width, c.height]; }");
        Assert.That(canvasSize, Is.EqualTo(new[] { 840, 200 }));
        float toClientX = pad.Width / canvasSize[0], toClientY = pad.Height / canvasSize[1];
        for (int k = 0; k < Number.Length; k++)
        {
            // Trace the glyph row by row: one pen stroke over each run of ink, as a pen filling the shape would.
            foreach (var (row, first, last) in InkRuns(_glyphs[Number[k]]))
            {
                float y = pad.Y + ((Top + (row * Scale) + (Scale / 2f)) * toClientY);
                float x0 = pad.X + ((FirstLeft + (k * Advance) + (first * Scale) + (Scale / 2f)) * toClientX);
                float x1 = pad.X + ((FirstLeft + (k * Advance) + (last * Scale) + (Scale / 2f)) * toClientX);
                await page.Mouse.MoveAsync(x0, y);
                await page.Mouse.DownAsync();
                await page.Mouse.MoveAsync(x1, y);
                await page.Mouse.UpAsync();
            }
        }

        await page.Locator("#field-read").ClickAsync();
        await page.Locator("#field-characters[data-state='done']").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        string text = await page.Locator("#field-text").InnerTextAsync();
        var items = await page.Locator("#field-characters li").AllAsync();
        var boxes = new List<(int X, int Y, int Width, int Height)>();
        foreach (var item in items)
        {
            boxes.Add((await IntAttribute(item, "data-x"), await IntAttribute(item, "data-y"),
                await IntAttribute(item, "data-width"), await IntAttribute(item, "data-height")));
        }

        // What the overlay canvas holds where each box's left and right edges are (alpha > 0: something was drawn there).
        var edgesDrawn = await page.EvaluateAsync<bool[]>(
            @"boxes => { const c = document.getElementById('field-overlay').getContext('2d');
                return boxes.map(([x, y, w, h]) => [x, x + w].every(ex => c.getImageData(Math.round(ex), Math.round(y + h / 2), 1, 1).data[3] > 0)); }",
            boxes.Select(b => new[] { b.X, b.Y, b.Width, b.Height }).ToArray());
        string drawnCount = await page.Locator("#field-overlay").GetAttributeAsync("data-boxes") ?? "";

        string screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "artifacts", "webdemo-field.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.Out.WriteLine($"screenshot: {screenshot}");
        TestContext.Out.WriteLine($"read '{text}', boxes {string.Join(" ", boxes)}; status: {await page.Locator("#field-status").InnerTextAsync()}");
        TestContext.AddTestAttachment(screenshot, "the page after reading a written number");

        Assert.Multiple(() =>
        {
            Assert.That(text, Is.EqualTo(Number), "the number written is read");
            Assert.That(boxes, Has.Count.EqualTo(Number.Length), "one character per digit");
            for (int k = 0; k < Math.Min(boxes.Count, Number.Length); k++)
            {
                // Each box lies over its own digit's strokes (the pen adds half its width around the traced glyph).
                int left = FirstLeft + (k * Advance) - 8, right = FirstLeft + (k * Advance) + (32 * Scale) + 8;
                Assert.That(boxes[k].X, Is.GreaterThanOrEqualTo(left), $"digit {k} box {boxes[k]}");
                Assert.That(boxes[k].X + boxes[k].Width, Is.LessThanOrEqualTo(right), $"digit {k} box {boxes[k]}");
                Assert.That(boxes[k].Width, Is.GreaterThan(8 * Scale / 2), $"digit {k} box {boxes[k]}");
                Assert.That(boxes[k].Y, Is.InRange(Top - 8, Top + (32 * Scale)), $"digit {k} box {boxes[k]}");
            }

            Assert.That(drawnCount, Is.EqualTo(Number.Length.ToString(CultureInfo.InvariantCulture)), "the overlay drew every box");
            Assert.That(edgesDrawn, Is.All.True, "each box's edges are drawn on the overlay over the strokes");
            Assert.That(errors, Is.Empty, "the page logged errors");
        });
    }

    [Test]
    public async Task A_field_image_posted_to_api_read_comes_back_as_text_with_a_box_per_character()
    {
        var glyphs = Number.Select(c => _glyphs[c]).ToArray();
        var field = FieldComposer.Compose(glyphs, new FieldComposer.Layout(Gap: 10));
        using var client = new HttpClient { BaseAddress = _server!.BaseAddress };
        using var content = new ByteArrayContent(Png(field));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync("api/read?kind=digits", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var characters = root.GetProperty("characters").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("text").GetString(), Is.EqualTo(Number), body);
            Assert.That(root.GetProperty("kind").GetString(), Is.EqualTo("digits"));
            Assert.That(root.GetProperty("width").GetInt32(), Is.EqualTo(field.Width));
            Assert.That(root.GetProperty("height").GetInt32(), Is.EqualTo(field.Height));
            Assert.That(root.GetProperty("confidence").GetSingle(), Is.InRange(0f, 1f));
            Assert.That(characters, Has.Count.EqualTo(Number.Length), body);
            for (int k = 0; k < Math.Min(characters.Count, Number.Length); k++)
            {
                // The composer knows each character's columns: the box's middle lies in them.
                int middle = characters[k].GetProperty("x").GetInt32() + (characters[k].GetProperty("width").GetInt32() / 2);
                Assert.That(middle, Is.InRange(field.Characters[k].Left, field.Characters[k].Right), body);
                Assert.That(characters[k].GetProperty("label").GetString(), Is.EqualTo(Number[k].ToString()));
            }
        });
    }

    [Test]
    public async Task An_unknown_kind_is_answered_400_with_what_to_do()
    {
        var field = FieldComposer.Compose([_glyphs[Number[0]]], new FieldComposer.Layout());
        using var client = new HttpClient { BaseAddress = _server!.BaseAddress };
        foreach (var (kind, expected) in new[] { ("roman", "Unknown field kind 'roman'; use one of digits, upper, lower, letters, alnum") })
        {
            using var content = new ByteArrayContent(Png(field));
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var response = await client.PostAsync($"api/read?kind={kind}", content);
            string body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), body);
            using var json = JsonDocument.Parse(body);
            Assert.That(json.RootElement.GetProperty("error").GetString(), Does.Contain(expected));
        }
    }

    /// <summary>Each row's runs of ink (values above 0.5) as (row, first column, last column).</summary>
    private static IEnumerable<(int Row, int First, int Last)> InkRuns(float[] glyph)
    {
        for (int r = 0; r < 32; r++)
        {
            int c = 0;
            while (c < 32)
            {
                if (glyph[(r * 32) + c] <= 0.5f)
                {
                    c++;
                    continue;
                }

                int first = c;
                while (c < 32 && glyph[(r * 32) + c] > 0.5f)
                    c++;
                yield return (r, first, c - 1);
            }
        }
    }

    private static async Task<int> IntAttribute(ILocator item, string name) =>
        int.Parse(await item.GetAttributeAsync(name) ?? "-1", CultureInfo.InvariantCulture);

    private static byte[] Png(FieldComposer.Field field)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(field.Width, field.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        Assert.That(bitmap.RowBytes, Is.EqualTo(field.Width), "a grey bitmap's rows are packed");
        System.Runtime.InteropServices.Marshal.Copy(field.Grey, 0, bitmap.GetPixels(), field.Grey.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private float[] Pixels(int row)
    {
        var pixels = new float[CharacterFormat.PixelCount];
        _emnist.CopyPixels(row, pixels);
        return pixels;
    }
}
