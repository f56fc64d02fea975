using Microsoft.ML;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;

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

    [Test]
    public void Class_folders_and_their_files_come_in_ordinal_order_and_the_label_is_the_top_folder_name()
    {
        foreach (string relative in new[] { Path.Combine("b", "z.png"), Path.Combine("b", "deep", "a.png"), Path.Combine("B", "x.png"), Path.Combine("a", "y.png") })
            DrawnGlyphs.Write(Path.Combine(Root, relative), DrawnGlyphs.BlackOnWhitePng("A"));

        var files = ImageFileRows.FromDataView(mlContext.Data.LoadFromImageFolder(Root))!;

        Assert.That(Enumerable.Range(0, files.Count).Select(i => Path.GetRelativePath(Root, files.GetPath(i))), Is.EqualTo(new[]
        {
            Path.Combine("B", "x.png"), Path.Combine("a", "y.png"), Path.Combine("b", "deep", "a.png"), Path.Combine("b", "z.png"),
        }));
        Assert.That(Enumerable.Range(0, files.Count).Select(files.GetLabel), Is.EqualTo(new[] { "B", "a", "b", "b" }));
        Assert.That(ImageFolderLoader.LabelOf(Path.Combine(Root, "seven")), Is.EqualTo("seven"));
    }

    [Test]
    public void Nothing_skipped_is_reported_as_an_empty_list_for_folders_and_memory()
    {
        WriteTree();

        Assert.That(LoadedImages.GetSkippedFiles(mlContext.Data.LoadFromImageFolder(Root)), Is.Empty);
        Assert.That(LoadedImages.GetSkippedFiles(mlContext.Data.LoadFromImages([("A", DrawnGlyphs.BlackOnWhitePng("A"))])), Is.Empty);
    }

    [Test]
    public void Skipped_in_memory_images_go_to_the_ML_NET_log_as_one_warning_each()
    {
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add($"{e.Kind}: {e.RawMessage}"); };
        using var empty = new SKBitmap();

        var view = mlContext.Data.LoadFromImages([("A", DrawnGlyphs.Draw("A", SKColors.Black, SKColors.White)), ("B", empty)],
            new ImageFolderLoaderOptions { SkipBadFiles = true });

        Assert.That(LoadedImages.GetSkippedFiles(view).Select(s => s.Path), Is.EqualTo(new[] { "image #1" }));
        Assert.That(messages.Where(m => m.StartsWith("Warning: LoadFromImages skipped", StringComparison.Ordinal)),
            Is.EqualTo(new[] { "Warning: LoadFromImages skipped image #1: has no pixels (0×0)" }));
    }

    [Test]
    public void A_bad_file_policy_throws_the_whole_message_or_lists_the_reason()
    {
        var strict = new BadFiles(skip: false);
        var e = Assert.Throws<CharacterDataException>(() => strict.Bad("/data/x.png", "The file is bad.", "Delete it."));
        Assert.That(e!.Message, Is.EqualTo("The file is bad. Delete it."));
        Assert.That(e.FilePath, Is.EqualTo("/data/x.png"));

        var lenient = new BadFiles(skip: true);
        lenient.Bad("/data/x.png", "The file is bad.", "Delete it.");
        lenient.Report("image #3", "The in-memory image #3 is null. Fix it.", "is null");
        Assert.That(lenient.Skipped, Is.EqualTo(new[] { new SkippedImageFile("/data/x.png", "The file is bad."), new SkippedImageFile("image #3", "is null") }));
    }

    [Test]
    public void A_png_declaring_a_huge_size_is_refused_or_skipped_from_a_folder_and_from_memory()
    {
        WriteTree();
        byte[] bomb = PngBomb.Make(60000, 60000);
        string path = Path.Combine(Root, "A", "bomb.png");
        DrawnGlyphs.Write(path, bomb);
        long peakBefore = PeakWorkingSet();

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromImageFolder(Root));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("60000×60000").And.Contain("MaxImagePixels"));
        var view = mlContext.Data.LoadFromImageFolder(Root, new ImageFolderLoaderOptions { SkipBadFiles = true });
        Assert.That(view.GetRowCount(), Is.EqualTo(2));
        Assert.That(LoadedImages.GetSkippedFiles(view).Select(s => s.Path), Is.EqualTo(new[] { path }));

        (string, byte[])[] images = [("A", DrawnGlyphs.BlackOnWhitePng("A")), ("B", bomb)];
        var fromMemory = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromImages(images));
        Assert.That(fromMemory!.Message, Does.Contain("image #1").And.Contain("60000×60000").And.Contain("MaxImagePixels"));
        var skippedView = mlContext.Data.LoadFromImages(images, new ImageFolderLoaderOptions { SkipBadFiles = true });
        Assert.That(skippedView.GetRowCount(), Is.EqualTo(1));
        Assert.That(LoadedImages.GetSkippedFiles(skippedView).Single().Reason, Does.Contain("60000×60000"));

        Assert.That(PeakWorkingSet() - peakBefore, Is.LessThan(256L << 20), "decoding 60000×60000 would take 13 GiB");
    }

    [Test]
    public void A_symbolic_link_loop_is_an_error_naming_both_folders_or_is_skipped()
    {
        WriteTree();
        string loop = Path.Combine(Root, "seven", "sub", "up");
        Directory.CreateSymbolicLink(loop, Path.Combine(Root, "seven"));

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromImageFolder(Root));
        Assert.That(e!.Message, Does.Contain($"'{loop}'").And.Contain($"'{Path.Combine(Root, "seven")}'").And.Contain("loop").And.Contain("SkipBadFiles"));

        var view = mlContext.Data.LoadFromImageFolder(Root, new ImageFolderLoaderOptions { SkipBadFiles = true });
        Assert.That(view.GetRowCount(), Is.EqualTo(2));
        Assert.That(LoadedImages.GetSkippedFiles(view).Select(s => s.Path), Is.EqualTo(new[] { loop }));
    }

    [Test]
    public void A_file_reached_twice_through_links_is_listed_once()
    {
        WriteTree();
        Directory.CreateSymbolicLink(Path.Combine(Root, "A", "again"), Path.Combine(Root, "A"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "seven", "more"), Path.Combine(Root, "seven", "sub"));
        File.CreateSymbolicLink(Path.Combine(Root, "A", "z-link.png"), Path.Combine(Root, "A", "one.png"));

        // A/again is a loop (A itself); seven/more is a second name of seven/sub; A/z-link.png of A/one.png.
        var view = mlContext.Data.LoadFromImageFolder(Root, new ImageFolderLoaderOptions { SkipBadFiles = true });

        var files = LoadedImages.GetImageFiles(view).Select(f => Path.GetRelativePath(Root, f.ImagePath)).ToList();
        Assert.That(files, Is.EqualTo(new[] { Path.Combine("A", "one.png"), Path.Combine("seven", "more", "two.jpg") }));
    }

    private static long PeakWorkingSet()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
