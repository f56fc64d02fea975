using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Tests;

/// <summary>
/// <c>LoadFromNistSd19</c> on an SD19-like tree of glyphs the tests draw (train_&lt;hex&gt; and by_class/&lt;hex&gt;/hsf_&lt;n&gt;
/// folders, an extra parent folder), every bad-input error, and <c>SkipBadFiles</c> (the real SD19 vowels: Ocr.MLNet.IntegrationTests, Sd19LoaderRealDataTests).
/// </summary>
[TestFixture]
public sealed class Sd19LoaderTests : TemporaryDirectoryTest
{
    private MLContext mlContext = null!;

    protected override string Prefix => "ocr-mlnet-sd19";

    private string Root => Path.Combine(WorkDirectory, "sd19");

    [SetUp]
    public void CreateContext() => mlContext = new MLContext(seed: 1);

    /// <summary>A: 3 in A_u/train_41; a: 1 in by_class/61/train_61 and 2 in by_class/61/hsf_0; 7: 1 in by_class/37/hsf_1.</summary>
    private void WriteTree()
    {
        for (int i = 0; i < 3; i++)
            DrawnGlyphs.Write(Path.Combine(Root, "A_u", "train_41", $"train_41_{i:00000}.png"), DrawnGlyphs.BlackOnWhitePng("A"));
        DrawnGlyphs.Write(Path.Combine(Root, "by_class", "61", "train_61", "train_61_00000.png"), DrawnGlyphs.BlackOnWhitePng("a"));
        for (int i = 0; i < 2; i++)
            DrawnGlyphs.Write(Path.Combine(Root, "by_class", "61", "hsf_0", $"hsf_0_{i:00000}.png"), DrawnGlyphs.BlackOnWhitePng("a"));
        DrawnGlyphs.Write(Path.Combine(Root, "by_class", "37", "hsf_1", "hsf_1_00000.png"), DrawnGlyphs.BlackOnWhitePng("7"));
        File.WriteAllText(Path.Combine(Root, "by_class", "61", "hsf_0.mis"), "SD19 keeps .mis files beside the partition folders; they are not images of a partition");
    }

    [Test]
    public void Labels_come_from_the_hex_codes_of_train_and_hsf_folders_with_an_extra_parent_folder()
    {
        WriteTree();

        var view = mlContext.Data.LoadFromNistSd19(Root);
        var rows = DrawnGlyphs.ReadAll(view);

        Assert.That(DrawnGlyphs.Counts(rows), Is.EquivalentTo(new Dictionary<string, int> { ["A"] = 3, ["a"] = 3, ["7"] = 1 }));
        Assert.That(view.GetRowCount(), Is.EqualTo(7));
        Assert.That(view.Schema.Select(c => c.Name), Is.EqualTo(new[] { "Label", "Pixels" }));
        Assert.That(view.Schema["Label"].Type, Is.EqualTo(TextDataViewType.Instance));
        var type = (VectorDataViewType)view.Schema["Pixels"].Type;
        Assert.That(type.Dimensions.ToArray(), Is.EqualTo(new[] { 1, 32, 32 }));
    }

    [TestCase(new[] { "train" }, "A:3 a:1")]
    [TestCase(new[] { "hsf_0" }, "a:2")]
    [TestCase(new[] { "hsf_0", "hsf_1" }, "7:1 a:2")]
    [TestCase(new string[0], "7:1 A:3 a:3")]
    public void Partitions_choose_the_folders(string[] partitions, string expected)
    {
        WriteTree();

        var dataset = CharacterImageDataset.LoadNistSd19(Root, new Sd19LoaderOptions { Partitions = partitions });
        var counts = dataset.CountRowsPerClass();

        string actual = string.Join(" ", dataset.ClassNames.Select((c, i) => $"{c}:{counts[i]}"));
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void Pixels_are_white_on_black_centred_and_scaled_like_EMNIST()
    {
        WriteTree();

        var rows = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromNistSd19(Root));

        foreach (var (label, pixels) in rows)
            DrawnGlyphs.AssertEmnistLike(pixels, $"'{label}'");
    }

    [Test]
    public void The_converter_gives_the_same_pixels_for_a_bitmap_its_grey_bytes_and_its_inverse()
    {
        using var dark = DrawnGlyphs.Draw("A", SKColors.Black, SKColors.White);
        using var light = DrawnGlyphs.Draw("A", SKColors.White, SKColors.Black);

        var fromBitmap = CharacterImageConverter.ToEmnistPixels(dark);
        var grey = Enumerable.Range(0, 128 * 128).Select(i => dark.GetPixel(i % 128, i / 128).Red).ToArray();
        var fromGrey = CharacterImageConverter.ToEmnistPixels(grey, 128, 128, InkPolarity.DarkOnLight);
        var fromInverse = CharacterImageConverter.ToEmnistPixels(light, InkPolarity.Detect);

        Assert.That(fromGrey, Is.EqualTo(fromBitmap).Within(1e-6));
        Assert.That(fromInverse, Is.EqualTo(fromBitmap).Within(1e-2));
        // The drawn A lies in the upper left of its 128×128 image; converted, its centroid is near the centre.
        DrawnGlyphs.AssertEmnistLike(fromBitmap, "converted bitmap", centroidTolerance: 2.5);
        // Forcing the wrong polarity makes the paper the "ink": not EMNIST-like.
        var wrong = CharacterImageConverter.ToEmnistPixels(dark, InkPolarity.LightOnDark);
        Assert.That(wrong.Average(), Is.GreaterThan(fromBitmap.Average()));
    }

    [Test]
    public void A_blank_image_converts_to_zeros()
    {
        var blank = Enumerable.Repeat((byte)255, 64 * 64).ToArray();
        Assert.That(CharacterImageConverter.ToEmnistPixels(blank, 64, 64), Is.All.Zero);
    }

    // ---------------------------------------------------------------- bad input

    [Test]
    public void A_missing_folder_is_named()
    {
        string missing = Path.Combine(WorkDirectory, "no-such-folder");
        var e = Assert.Throws<DirectoryNotFoundException>(() => mlContext.Data.LoadFromNistSd19(missing));
        Assert.That(e!.Message, Does.Contain(missing).And.Contain("by_class"));
    }

    [Test]
    public void A_folder_without_partition_folders_is_an_error_saying_the_layout()
    {
        DrawnGlyphs.Write(Path.Combine(Root, "A", "x.png"), DrawnGlyphs.BlackOnWhitePng("A"));
        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromNistSd19(Root));
        Assert.That(e!.Message, Does.Contain(Root).And.Contain("train_<hex>").And.Contain("LoadFromImageFolder"));
    }

    [Test]
    public void Partitions_not_present_are_an_error_listing_those_present()
    {
        WriteTree();
        var e = Assert.Throws<CharacterDataException>(() =>
            mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { Partitions = ["hsf_4"] }));
        Assert.That(e!.Message, Does.Contain("hsf_4").And.Contain("hsf_0, hsf_1, train"));
    }

    [Test]
    public void Invalid_options_are_listed_together()
    {
        WriteTree();
        var e = Assert.Throws<ArgumentException>(() => mlContext.Data.LoadFromNistSd19(Root,
            new Sd19LoaderOptions { Partitions = ["hsf_9", "test"], LabelColumnName = "", MaxRows = 0 }));
        Assert.That(e!.Message, Does.Contain("\"hsf_9\"").And.Contain("\"test\"").And.Contain("LabelColumnName").And.Contain("MaxRows"));
    }

    private static IEnumerable<TestCaseData> BadInputs()
    {
        yield return new TestCaseData("empty class folder", (Action<string>)(root => Directory.CreateDirectory(Path.Combine(root, "E_u", "train_45"))),
            Path.Combine("E_u", "train_45"), "holds no image files").SetName("Bad_input_empty_class_folder");
        yield return new TestCaseData("corrupt PNG", (Action<string>)(root =>
            {
                var png = DrawnGlyphs.BlackOnWhitePng("A");
                DrawnGlyphs.Write(Path.Combine(root, "A_u", "train_41", "train_41_00009.png"), png[..(png.Length * 6 / 10)]);
            }),
            Path.Combine("A_u", "train_41", "train_41_00009.png"), "damaged").SetName("Bad_input_corrupt_png");
        yield return new TestCaseData("non-image file", (Action<string>)(root =>
                File.WriteAllText(Path.Combine(root, "A_u", "train_41", "notes.txt"), "not an image")),
            Path.Combine("A_u", "train_41", "notes.txt"), "not an image").SetName("Bad_input_non_image_file");
        yield return new TestCaseData("empty file", (Action<string>)(root =>
                File.WriteAllBytes(Path.Combine(root, "A_u", "train_41", "train_41_00008.png"), [])),
            Path.Combine("A_u", "train_41", "train_41_00008.png"), "empty").SetName("Bad_input_empty_file");
        yield return new TestCaseData("unknown hex code", (Action<string>)(root =>
                DrawnGlyphs.Write(Path.Combine(root, "x", "train_5f", "train_5f_00000.png"), DrawnGlyphs.BlackOnWhitePng("A"))),
            Path.Combine("x", "train_5f"), "not the hex ASCII code").SetName("Bad_input_unknown_hex_code_in_train_folder");
        yield return new TestCaseData("unknown hex parent of hsf", (Action<string>)(root =>
                DrawnGlyphs.Write(Path.Combine(root, "by_class", "zz", "hsf_2", "hsf_2_00000.png"), DrawnGlyphs.BlackOnWhitePng("A"))),
            Path.Combine("by_class", "zz", "hsf_2"), "by_class/<hex>/hsf_<n>").SetName("Bad_input_unknown_hex_code_above_hsf_folder");
        yield return new TestCaseData("file of another class", (Action<string>)(root =>
                DrawnGlyphs.Write(Path.Combine(root, "A_u", "train_41", "train_42_00000.png"), DrawnGlyphs.BlackOnWhitePng("A"))),
            Path.Combine("A_u", "train_41", "train_42_00000.png"), "class 42").SetName("Bad_input_file_name_of_another_class");
    }

    [TestCaseSource(nameof(BadInputs))]
    public void Bad_input_throws_naming_the_file_and_the_fix(string what, Action<string> spoil, string relativePath, string reason)
    {
        WriteTree();
        spoil(Root);
        string path = Path.Combine(Root, relativePath);

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromNistSd19(Root), what);

        Assert.That(e!.Message, Does.Contain(path).And.Contain(reason).And.Contain("SkipBadFiles"), what);
        Assert.That(e.FilePath, Is.EqualTo(path), what);
    }

    [TestCaseSource(nameof(BadInputs))]
    public void The_SkipBadFiles_option_skips_and_reports_the_bad_input(string what, Action<string> spoil, string relativePath, string reason)
    {
        WriteTree();
        spoil(Root);
        string path = Path.Combine(Root, relativePath);

        var view = mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { SkipBadFiles = true });
        var dataset = CharacterImageDataset.FromDataView(view)!;

        Assert.That(dataset.SkippedFiles, Has.Count.EqualTo(1), what);
        Assert.That(dataset.SkippedFiles[0].Path, Is.EqualTo(path), what);
        Assert.That(dataset.SkippedFiles[0].Reason, Does.Contain(reason), what);
        Assert.That(dataset.Count, Is.EqualTo(7), $"{what}: the good files all load");
        Assert.That(DrawnGlyphs.ReadAll(view), Has.Count.EqualTo(7));
        Assert.That(CharacterImageDataset.FromDataView(mlContext.Data.Cache(view)), Is.Null, "only the loaders' own views");
    }

    [Test]
    public void Without_VerifyImages_a_damaged_file_throws_from_the_cursor_naming_it()
    {
        WriteTree();
        string path = Path.Combine(Root, "A_u", "train_41", "train_41_00001.png");
        var png = File.ReadAllBytes(path);
        File.WriteAllBytes(path, png[..(png.Length * 6 / 10)]);

        var view = mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { VerifyImages = false });
        var e = Assert.Throws<CharacterDataException>(() => DrawnGlyphs.ReadAll(view));

        Assert.That(e!.Message, Does.Contain(path).And.Contain("damaged"));
    }

    [Test]
    public void The_MaxRows_option_limits_the_rows()
    {
        WriteTree();
        var view = mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { MaxRows = 2 });
        Assert.That(view.GetRowCount(), Is.EqualTo(2));
    }
}
