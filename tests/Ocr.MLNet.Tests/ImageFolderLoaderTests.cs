using Microsoft.ML;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Tests;

/// <summary><c>LoadFromImageFolder</c> and <c>LoadFromImages</c> on glyphs the tests draw, with their bad-input errors.</summary>
[TestFixture]
public sealed class ImageFolderLoaderTests : TemporaryDirectoryTest
{
    private MLContext mlContext = null!;

    protected override string Prefix => "ocr-mlnet-imagefolder";

    private string Root => Path.Combine(WorkDirectory, "images");

    [SetUp]
    public void CreateContext() => mlContext = new MLContext(seed: 1);

    /// <summary>class "A": a black-on-white PNG; class "seven": a white-on-black JPEG of 60×60 in a subfolder.</summary>
    private void WriteTree()
    {
        DrawnGlyphs.Write(Path.Combine(Root, "A", "one.png"), DrawnGlyphs.BlackOnWhitePng("A"));
        using var seven = DrawnGlyphs.Draw("7", SKColors.White, SKColors.Black, size: 60);
        DrawnGlyphs.Write(Path.Combine(Root, "seven", "sub", "two.jpg"), DrawnGlyphs.Jpeg(seven));
    }

    [Test]
    public void Labels_are_folder_names_and_both_polarities_come_out_white_on_black()
    {
        WriteTree();

        var rows = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromImageFolder(Root));

        Assert.That(rows.Select(r => r.Label), Is.EqualTo(new[] { "A", "seven" }));
        foreach (var (label, pixels) in rows)
            DrawnGlyphs.AssertEmnistLike(pixels, label);
    }

    [Test]
    public void A_forced_polarity_is_used_for_every_image()
    {
        WriteTree();

        var rows = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromImageFolder(Root, new ImageFolderLoaderOptions { InkPolarity = InkPolarity.LightOnDark }));

        DrawnGlyphs.AssertEmnistLike(rows[1].Pixels, "light-on-dark image read as light-on-dark");
        Assert.That(rows[0].Pixels.Average(), Is.GreaterThan(rows[1].Pixels.Average()), "the black-on-white image read the wrong way round is mostly bright");
    }

    [Test]
    public void In_memory_images_load_from_bytes_and_bitmaps()
    {
        using var bitmap = DrawnGlyphs.Draw("a", SKColors.Black, SKColors.White);
        var fromBytes = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromImages([("a", DrawnGlyphs.Png(bitmap)), ("A", DrawnGlyphs.BlackOnWhitePng("A"))]));
        var fromBitmaps = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromImages([("a", bitmap)]));

        Assert.That(fromBytes.Select(r => r.Label), Is.EqualTo(new[] { "a", "A" }));
        Assert.That(fromBitmaps[0].Pixels, Is.EqualTo(fromBytes[0].Pixels).Within(1e-6));
        Assert.That(fromBitmaps[0].Pixels, Is.EqualTo(CharacterImageConverter.ToEmnistPixels(bitmap)).Within(1e-6));
        DrawnGlyphs.AssertEmnistLike(fromBytes[1].Pixels, "in-memory A");
    }

    [Test]
    public void Bad_in_memory_images_are_named_by_index_or_skipped_and_reported()
    {
        var good = DrawnGlyphs.BlackOnWhitePng("A");
        (string, byte[])[] images = [("A", good), ("B", [1, 2, 3, 4]), ("", good)];

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromImages(images));
        Assert.That(e!.Message, Does.Contain("image #1").And.Contain("\"B\"").And.Contain("SkipBadFiles"));

        var view = mlContext.Data.LoadFromImages(images, new ImageFolderLoaderOptions { SkipBadFiles = true });
        var skipped = LoadedImages.GetSkippedFiles(view);
        Assert.That(view.GetRowCount(), Is.EqualTo(1));
        Assert.That(skipped.Select(s => s.Path), Is.EqualTo(new[] { "image #1", "image #2" }));
        Assert.That(skipped[1].Reason, Does.Contain("empty label"));
    }

    [Test]
    public void A_missing_folder_is_named()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => mlContext.Data.LoadFromImageFolder(Root));
        Assert.That(e!.Message, Does.Contain(Root).And.Contain("one folder per class"));
    }

    [Test]
    public void A_folder_without_class_folders_is_an_error()
    {
        Directory.CreateDirectory(Root);
        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromImageFolder(Root));
        Assert.That(e!.Message, Does.Contain(Root).And.Contain("no class folders"));
    }

    private static IEnumerable<TestCaseData> BadInputs()
    {
        yield return new TestCaseData((Action<string>)(root => Directory.CreateDirectory(Path.Combine(root, "empty"))),
            "empty", "holds no image files").SetName("ImageFolder_bad_input_empty_class_folder");
        yield return new TestCaseData((Action<string>)(root => File.WriteAllText(Path.Combine(root, "A", "readme.txt"), "text")),
            Path.Combine("A", "readme.txt"), "not an image").SetName("ImageFolder_bad_input_non_image_file");
        yield return new TestCaseData((Action<string>)(root =>
            {
                var png = DrawnGlyphs.BlackOnWhitePng("A");
                File.WriteAllBytes(Path.Combine(root, "A", "broken.png"), png[..(png.Length / 2)]);
            }),
            Path.Combine("A", "broken.png"), "damaged").SetName("ImageFolder_bad_input_corrupt_png");
        yield return new TestCaseData((Action<string>)(root => File.WriteAllText(Path.Combine(root, "labels.csv"), "x")),
            "labels.csv", "no label").SetName("ImageFolder_bad_input_file_outside_class_folders");
    }

    [TestCaseSource(nameof(BadInputs))]
    public void Bad_input_throws_naming_the_file_or_is_skipped_and_reported(Action<string> spoil, string relativePath, string reason)
    {
        WriteTree();
        spoil(Root);
        string path = Path.Combine(Root, relativePath);

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromImageFolder(Root));
        Assert.That(e!.Message, Does.Contain(path).And.Contain(reason).And.Contain("SkipBadFiles"));

        var view = mlContext.Data.LoadFromImageFolder(Root, new ImageFolderLoaderOptions { SkipBadFiles = true });
        var skipped = LoadedImages.GetSkippedFiles(view);
        Assert.That(skipped.Select(s => s.Path), Is.EqualTo(new[] { path }));
        Assert.That(skipped[0].Reason, Does.Contain(reason));
        Assert.That(view.GetRowCount(), Is.EqualTo(2));
    }
}
