using System.Text.Json;
using SkiaSharp;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// The WebDemo (a separate process, serving the packaged model) decodes uploads as the CLI does and gives the same
/// verdict on blank and noise images: a truncated image is refused, a sideways phone photo is read upright, a blank or
/// noise image gets no class.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("WebDemo")]
[NonParallelizable]
public sealed class WebDemoImageTests
{
    private string _directory = "";
    private WebDemoServer? _server;

    [OneTimeSetUp]
    public void StartTheWebDemoWithThePretrainedModel()
    {
        _directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-webdemo-images");
        _server = WebDemoServer.StartWithPretrainedModel(_directory);
    }

    [OneTimeTearDown]
    public void StopTheWebDemo() => WebDemoServer.StopAndDelete(_server, _directory);

    [TestCase("api/recognize")]
    [TestCase("api/read?kind=digits")]
    public async Task A_truncated_png_is_refused_as_truncated(string endpoint)
    {
        byte[] png = File.ReadAllBytes(SampleImage("hsf/field-403875.png"));
        using var client = new HttpClient { BaseAddress = _server!.BaseAddress };
        var (status, reply, _) = await WebDemoRequests.PostAsync(client, endpoint, "image/png", png[..(png.Length / 2)]);
        Assert.That(status, Is.EqualTo(400), reply);
        Assert.That(WebDemoRequests.ErrorOf(reply), Does.Contain("truncated"), reply);
    }

    [Test]
    public async Task A_phone_photo_stored_sideways_reads_as_the_upright_field()
    {
        byte[] png = File.ReadAllBytes(SampleImage("hsf/field-403875.png"));
        using var bitmap = SKBitmap.Decode(png);
        using var client = new HttpClient { BaseAddress = _server!.BaseAddress };
        var (uprightStatus, upright, _) = await WebDemoRequests.PostAsync(client, "api/read?kind=digits", "image/png", png);
        var (status, sideways, _) = await WebDemoRequests.PostAsync(client, "api/read?kind=digits", "image/jpeg", ExifJpeg.StoredSideways(bitmap));
        Assert.That((uprightStatus, status), Is.EqualTo((200, 200)), sideways);
        Assert.That(Property(sideways, "text"), Is.EqualTo(Property(upright, "text")).And.EqualTo("403875"));
    }

    [TestCase("white", "blank")]
    [TestCase("black", "blank")]
    [TestCase("noise", "noise")]
    public async Task Blank_and_noise_images_get_no_class_on_either_endpoint(string image, string content)
    {
        var random = new Random(9);
        byte[] png = Png(400, 100, image switch
        {
            "white" => _ => 255,
            "black" => _ => 0,
            _ => _ => (byte)random.Next(256),
        });
        using var client = new HttpClient { BaseAddress = _server!.BaseAddress };
        var (status, recognized, _) = await WebDemoRequests.PostAsync(client, "api/recognize", "image/png", png);
        var (readStatus, read, _) = await WebDemoRequests.PostAsync(client, "api/read", "image/png", png);
        Assert.Multiple(() =>
        {
            Assert.That((status, readStatus), Is.EqualTo((200, 200)), recognized + read);
            Assert.That(Property(recognized, "content"), Is.EqualTo(content));
            Assert.That(Property(recognized, "label"), Is.Empty, "no class for an image without writing");
            Assert.That(Property(read, "content"), Is.EqualTo(content));
            Assert.That(Property(read, "text"), Is.Empty);
        });
    }

    private static string Property(string body, string name)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty(name).GetString() ?? "";
    }

    private static byte[] Png(int width, int height, Func<int, byte> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var bytes = Enumerable.Range(0, width * height).Select(pixel).ToArray();
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        return DrawnGlyphs.Png(bitmap);
    }

    private static string SampleImage(string name) => Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", name);
}
