using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;

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

        var rows = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { Partitions = partitions }));

        string actual = string.Join(" ", DrawnGlyphs.Counts(rows).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}:{c.Value}"));
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
        var skipped = LoadedImages.GetSkippedFiles(view);

        Assert.That(skipped, Has.Count.EqualTo(1), what);
        Assert.That(skipped[0].Path, Is.EqualTo(path), what);
        Assert.That(skipped[0].Reason, Does.Contain(reason), what);
        Assert.That(view.GetRowCount(), Is.EqualTo(7), $"{what}: the good files all load");
        Assert.That(DrawnGlyphs.ReadAll(view), Has.Count.EqualTo(7));
        Assert.Throws<ArgumentException>(() => LoadedImages.GetSkippedFiles(mlContext.Data.Cache(view)), "only the loaders' own views");
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
    // ---------------------------------------------------------------- the pieces

    [TestCase("train_41", "train", "41")]
    [TestCase("train_4a", "train", "4a")]
    [TestCase("hsf_4", "hsf_4", "61")]
    public void Sd19Layout_reads_the_partition_and_class_code_of_a_partition_folder(string name, string partition, string code)
    {
        string folder = Path.Combine("by_class", "61", name);

        Assert.That(Sd19Layout.IsPartitionFolder(folder), Is.True);
        Assert.That(Sd19Layout.TryReadPartitionFolder(folder, out string p, out string c), Is.True);
        Assert.That((p, c), Is.EqualTo((partition, code)));
    }

    [TestCase("61")]
    [TestCase("by_class")]
    [TestCase("Train_41")]
    [TestCase("hsf0")]
    public void Sd19Layout_other_folders_are_no_partition_folders(string name)
    {
        Assert.That(Sd19Layout.IsPartitionFolder(Path.Combine("by_class", name)), Is.False);
        Assert.That(Sd19Layout.TryReadPartitionFolder(Path.Combine("by_class", name), out _, out _), Is.False);
    }

    [TestCase("30", "0")]
    [TestCase("39", "9")]
    [TestCase("41", "A")]
    [TestCase("5a", "Z")]
    [TestCase("5A", "Z")]
    [TestCase("61", "a")]
    [TestCase("7a", "z")]
    [TestCase("2f", null)]
    [TestCase("5b", null)]
    [TestCase("7b", null)]
    [TestCase("", null)]
    [TestCase("041", null)]
    [TestCase("zz", null)]
    public void Sd19Layout_a_class_is_the_hex_code_of_a_digit_or_an_English_letter(string code, string? expected)
    {
        bool ok = Sd19Layout.TryCharacterFromHex(code, out string character);

        Assert.That(ok, Is.EqualTo(expected is not null));
        Assert.That(character, Is.EqualTo(expected ?? ""));
    }

    [TestCase("train", "train_41_00000.png", null)]
    [TestCase("train", "TRAIN_41_00000.png", null)]
    [TestCase("train", "train_41.png", null)]
    [TestCase("train", "scan.png", null)]
    [TestCase("hsf_0", "train_42_00000.png", null)]
    [TestCase("train", "train_42_00000.png", "class 42")]
    [TestCase("train", "train_zz_00000.png", "'zz'")]
    public void Sd19Layout_a_train_file_name_must_carry_its_folders_code(string partition, string fileName, string? problem)
    {
        string? actual = Sd19Layout.FileNameProblem(partition, "41", "A", fileName);

        if (problem is null)
            Assert.That(actual, Is.Null);
        else
            Assert.That(actual, Does.Contain(problem));
    }

    [Test]
    public void Sd19Layout_walks_folders_depth_first_in_ordinal_order_without_entering_partition_folders()
    {
        foreach (string folder in new[] { "b/train_41/inner", "a/hsf_0", "B", "a/A" })
            Directory.CreateDirectory(Path.Combine(Root, folder));

        var walked = Sd19Layout.WalkFolders(Root).Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/')).ToList();

        Assert.That(walked, Is.EqualTo(new[] { ".", "B", "a", "a/A", "a/hsf_0", "b", "b/train_41" }));
        Assert.That(CharacterImageDataset.ContainsNistSd19Partitions(Root), Is.True);
        Assert.That(CharacterImageDataset.ContainsNistSd19Partitions(Path.Combine(Root, "B")), Is.False);
    }

    [Test]
    public void ImageFileList_keeps_the_order_files_were_added_and_drops_only_what_is_not_kept()
    {
        string a = Path.Combine(Root, "a"), b = Path.Combine(Root, "b");
        var builder = new ImageFileList.Builder(maxFiles: null);
        builder.Add(Path.Combine(b, "2.png"), "B", InkPolarity.DarkOnLight);
        builder.Add(Path.Combine(a, "1.png"), "A", InkPolarity.LightOnDark);
        builder.Add(Path.Combine(a, "0.png"), "A", InkPolarity.LightOnDark);
        builder.Add(Path.Combine(a, "x.png"), "X", InkPolarity.Detect);

        var list = builder.Build();
        var kept = list.Keep([0, 2, 3]);

        Assert.That(Enumerable.Range(0, list.Count).Select(list.GetPath), Is.EqualTo(new[]
        {
            Path.Combine(b, "2.png"), Path.Combine(a, "1.png"), Path.Combine(a, "0.png"), Path.Combine(a, "x.png"),
        }));
        Assert.That(Enumerable.Range(0, list.Count).Select(list.GetLabel), Is.EqualTo(new[] { "B", "A", "A", "X" }));
        Assert.That(Enumerable.Range(0, kept.Count).Select(kept.GetPath), Is.EqualTo(new[] { Path.Combine(b, "2.png"), Path.Combine(a, "0.png"), Path.Combine(a, "x.png") }));
        Assert.That(Enumerable.Range(0, kept.Count).Select(kept.GetPolarity),
            Is.EqualTo(new[] { InkPolarity.DarkOnLight, InkPolarity.LightOnDark, InkPolarity.Detect }));
    }

    [Test]
    public void ImageFileList_stops_at_its_maximum()
    {
        var builder = new ImageFileList.Builder(maxFiles: 1);
        Assert.That(builder.IsFull, Is.False);
        builder.Add(Path.Combine(Root, "a.png"), "A", InkPolarity.Detect);
        Assert.That(builder.IsFull, Is.True);
    }

    [Test]
    public void Rows_come_in_ordinal_file_order_whatever_order_the_files_were_written()
    {
        foreach (string name in new[] { "train_41_00010.png", "train_41_00002.png", "train_41_00001.png" })
            DrawnGlyphs.Write(Path.Combine(Root, "41", "train_41", name), DrawnGlyphs.BlackOnWhitePng("A"));
        DrawnGlyphs.Write(Path.Combine(Root, "30", "hsf_0", "b.png"), DrawnGlyphs.BlackOnWhitePng("0"));
        DrawnGlyphs.Write(Path.Combine(Root, "30", "hsf_0", "B.png"), DrawnGlyphs.BlackOnWhitePng("0"));

        var files = ImageFileRows.FromDataView(mlContext.Data.LoadFromNistSd19(Root))!;
        var names = Enumerable.Range(0, files.Count).Select(i => Path.GetFileName(files.GetPath(i)));

        Assert.That(names, Is.EqualTo(new[] { "B.png", "b.png", "train_41_00001.png", "train_41_00002.png", "train_41_00010.png" }));
        Assert.That(Enumerable.Range(0, files.Count).Select(files.GetLabel), Is.EqualTo(new[] { "0", "0", "A", "A", "A" }));
    }

    [Test]
    public void Skipped_files_go_to_the_ML_NET_log_as_one_warning_each()
    {
        WriteTree();
        Directory.CreateDirectory(Path.Combine(Root, "by_class", "zz", "hsf_2"));
        File.WriteAllText(Path.Combine(Root, "A_u", "train_41", "notes.txt"), "not an image");
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add($"{e.Kind}: {e.RawMessage}"); };

        var view = mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { SkipBadFiles = true });

        var skipped = LoadedImages.GetSkippedFiles(view);
        Assert.That(skipped, Has.Count.EqualTo(2));
        var warnings = messages.Where(m => m.StartsWith("Warning: LoadFromNistSd19 skipped", StringComparison.Ordinal)).ToList();
        Assert.That(warnings, Is.EqualTo(skipped.Select(s => $"Warning: LoadFromNistSd19 skipped {s.Path}: {s.Reason}")));
    }

    [Test]
    public void Only_a_loaders_own_view_reports_skipped_files()
    {
        WriteTree();
        var view = mlContext.Data.LoadFromNistSd19(Root);

        Assert.That(LoadedImages.GetSkippedFiles(view), Is.Empty);
        var transformed = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
        var e = Assert.Throws<ArgumentException>(() => LoadedImages.GetSkippedFiles(transformed));
        Assert.That(e!.Message, Does.Contain("loader's own view"));
        Assert.Throws<ArgumentException>(() => LoadedImages.GetSkippedFiles(mlContext.Data.Cache(view)));
        Assert.Throws<ArgumentNullException>(() => LoadedImages.GetSkippedFiles(null!));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void A_png_declaring_a_huge_size_is_refused_from_its_header_without_allocating_it(bool verifyImages)
    {
        WriteTree();
        string bomb = Path.Combine(Root, "A_u", "train_41", "train_41_00009.png");
        DrawnGlyphs.Write(bomb, PngBomb.Make(20000, 20000));
        Assert.That(new FileInfo(bomb).Length, Is.LessThan(2000), "the bomb is a small file");
        long peakBefore = PeakWorkingSet();

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { VerifyImages = verifyImages }));
        var view = mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { VerifyImages = verifyImages, SkipBadFiles = true });

        long grown = PeakWorkingSet() - peakBefore;
        Assert.That(e!.Message, Does.Contain(bomb).And.Contain("20000×20000").And.Contain("MaxImagePixels").And.Contain("SkipBadFiles"));
        Assert.That(e.FilePath, Is.EqualTo(bomb));
        var skipped = LoadedImages.GetSkippedFiles(view);
        Assert.That(skipped.Select(s => s.Path), Is.EqualTo(new[] { bomb }));
        Assert.That(skipped[0].Reason, Does.Contain("20000×20000").And.Contain("MaxImagePixels"));
        Assert.That(view.GetRowCount(), Is.EqualTo(7));
        Assert.That(grown, Is.LessThan(256L << 20), "decoding 20000×20000 would take 1.5 GiB; the header alone must refuse it");
    }

    [Test]
    public void MaxImagePixels_is_the_cap_and_is_validated()
    {
        WriteTree();

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { MaxImagePixels = 100 * 100 }));
        Assert.That(e!.Message, Does.Contain("128×128").And.Contain("10,000").And.Contain("MaxImagePixels"));
        Assert.That(mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { MaxImagePixels = 128 * 128 }).GetRowCount(), Is.EqualTo(7));
        var invalid = Assert.Throws<ArgumentException>(() => mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { MaxImagePixels = 0 }));
        Assert.That(invalid!.Message, Does.Contain("MaxImagePixels must be at least 1"));
        Assert.That(new Sd19LoaderOptions().MaxImagePixels, Is.EqualTo(4096L * 4096));
    }

    [Test]
    public void A_symbolic_link_loop_is_an_error_naming_both_folders_or_is_skipped_and_no_file_is_read_twice()
    {
        WriteTree();
        string loop = Path.Combine(Root, "by_class", "61", "back");
        Directory.CreateSymbolicLink(loop, Root);

        var e = Assert.Throws<CharacterDataException>(() => mlContext.Data.LoadFromNistSd19(Root));
        Assert.That(e!.Message, Does.Contain($"'{loop}'").And.Contain($"'{Root}'").And.Contain("loop").And.Contain("SkipBadFiles"));

        var view = mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { SkipBadFiles = true });
        Assert.That(view.GetRowCount(), Is.EqualTo(7), "each file once");
        Assert.That(LoadedImages.GetSkippedFiles(view).Select(s => s.Path), Is.EqualTo(new[] { loop }));
        Assert.That(Sd19Layout.ContainsPartitions(Root), Is.True, "the layout check ends on a loop too");
    }

    [Test]
    public void Folders_and_files_reached_twice_through_links_are_listed_once()
    {
        WriteTree();
        // A second name for a partition folder, for a class folder, and for one file.
        Directory.CreateSymbolicLink(Path.Combine(Root, "by_class", "61", "hsf_5"), Path.Combine(Root, "by_class", "61", "hsf_0"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "zz_copy"), Path.Combine(Root, "by_class"));
        File.CreateSymbolicLink(Path.Combine(Root, "A_u", "train_41", "train_41_00009.png"), Path.Combine(Root, "A_u", "train_41", "train_41_00000.png"));

        var view = mlContext.Data.LoadFromNistSd19(Root);

        var files = LoadedImages.GetImageFiles(view).Select(f => Path.GetRelativePath(Root, f.ImagePath)).ToList();
        Assert.That(files, Is.Unique);
        Assert.That(files, Has.Count.EqualTo(7), string.Join("\n", files));
        Assert.That(LoadedImages.GetSkippedFiles(view), Is.Empty);
    }

    private static long PeakWorkingSet()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
