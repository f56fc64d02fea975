using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Tests;

/// <summary>Glyphs the tests draw with SkiaSharp lines (no fonts needed) and helpers to read views.</summary>
internal static class DrawnGlyphs
{
    /// <summary>
    /// A 128×128 glyph drawn with thick lines, deliberately off-centre (upper left), ink
    /// <paramref name="ink"/> on <paramref name="paper"/>.
    /// </summary>
    public static SKBitmap Draw(string label, SKColor ink, SKColor paper, int size = 128)
    {
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(paper);
        using var paint = new SKPaint { Color = ink, StrokeWidth = size / 16f, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round };
        float s = size / 128f;
        // Glyph box: x 12..62, y 14..94 (50 × 80 of 128), upper left of the image.
        (float, float, float, float)[] lines = label switch
        {
            "A" => [(12, 94, 37, 14), (37, 14, 62, 94), (22, 62, 52, 62)],
            "a" => [(62, 54, 62, 94), (62, 54, 12, 54), (12, 54, 12, 94), (12, 94, 62, 94), (37, 14, 62, 54)],
            "7" => [(12, 14, 62, 14), (62, 14, 30, 94)],
            _ => [(12, 14, 62, 94), (12, 94, 62, 14)],
        };
        foreach (var (x0, y0, x1, y1) in lines)
            canvas.DrawLine(x0 * s, y0 * s, x1 * s, y1 * s, paint);
        canvas.Flush();
        return bitmap;
    }

    public static byte[] Png(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] Jpeg(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    public static byte[] BlackOnWhitePng(string label)
    {
        using var bitmap = Draw(label, SKColors.Black, SKColors.White);
        return Png(bitmap);
    }

    public static void Write(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    public static List<(string Label, float[] Pixels)> ReadAll(IDataView view)
    {
        var rows = new List<(string, float[])>();
        using var cursor = view.GetRowCursor(view.Schema);
        var labelGetter = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Label"]);
        var pixelsGetter = cursor.GetGetter<VBuffer<float>>(view.Schema["Pixels"]);
        ReadOnlyMemory<char> text = default;
        VBuffer<float> vector = default;
        while (cursor.MoveNext())
        {
            labelGetter(ref text);
            pixelsGetter(ref vector);
            rows.Add((text.ToString(), vector.DenseValues().ToArray()));
        }

        return rows;
    }

    public static Dictionary<string, int> Counts(IEnumerable<(string Label, float[] Pixels)> rows) =>
        rows.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>
    /// Checks EMNIST's convention: ink bright on dark, max 1, zero 2-pixel border, the ink's bounding box centred
    /// (within 1.5 px) with its longer side about 28 px, and the ink's centroid near the centre (within
    /// <paramref name="centroidTolerance"/> px: a "7" has most of its ink high, so its centroid is legitimately off).
    /// Real scans may carry faint specks that widen the box EMNIST's method crops to, so they pass a smaller
    /// <paramref name="minimumSpan"/>.
    /// </summary>
    public static void AssertEmnistLike(float[] pixels, string what, double centroidTolerance = 5, int minimumSpan = 24)
    {
        Assert.That(pixels, Has.Length.EqualTo(1024), what);
        double mass = 0, rowSum = 0, columnSum = 0;
        int top = 32, bottom = -1, left = 32, right = -1;
        for (int r = 0; r < 32; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                float v = pixels[(r * 32) + c];
                if (r < 2 || r >= 30 || c < 2 || c >= 30)
                    Assert.That(v, Is.Zero, $"{what}: the 2-pixel padding at ({r}, {c}) must be zero");
                mass += v;
                rowSum += v * r;
                columnSum += v * c;
                if (v > 0.05f)
                {
                    top = Math.Min(top, r);
                    bottom = Math.Max(bottom, r);
                    left = Math.Min(left, c);
                    right = Math.Max(right, c);
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(pixels.Max(), Is.EqualTo(1f).Within(1e-6), $"{what}: brightest pixel scaled to 1");
            Assert.That(pixels.Min(), Is.GreaterThanOrEqualTo(0f), what);
            Assert.That(mass / 1024, Is.LessThan(0.5), $"{what}: mostly dark background (white-on-black)");
            Assert.That(pixels[0], Is.Zero, what);
            Assert.That(rowSum / mass, Is.EqualTo(15.5).Within(centroidTolerance), $"{what}: ink centroid row near the centre");
            Assert.That(columnSum / mass, Is.EqualTo(15.5).Within(centroidTolerance), $"{what}: ink centroid column near the centre");
            int span = Math.Max(bottom - top + 1, right - left + 1);
            Assert.That(span, Is.InRange(minimumSpan, 28), $"{what}: the longer side of the ink's bounding box spans about 28 px");
            Assert.That((top + bottom) / 2.0, Is.EqualTo(15.5).Within(1.5), $"{what}: box centred vertically");
            Assert.That((left + right) / 2.0, Is.EqualTo(15.5).Within(1.5), $"{what}: box centred horizontally");
        });
    }
}

/// <summary>
/// <c>LoadFromNistSd19</c> on an SD19-like tree of glyphs the tests draw (train_&lt;hex&gt; and by_class/&lt;hex&gt;/hsf_&lt;n&gt;
/// folders, an extra parent folder), every bad-input error, <c>SkipBadFiles</c>, and the real SD19 vowels where
/// <c>../shared/data</c> exists.
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
    public void SkipBadFiles_skips_and_reports_the_bad_input(string what, Action<string> spoil, string relativePath, string reason)
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
    public void MaxRows_limits_the_rows()
    {
        WriteTree();
        var view = mlContext.Data.LoadFromNistSd19(Root, new Sd19LoaderOptions { MaxRows = 2 });
        Assert.That(view.GetRowCount(), Is.EqualTo(2));
    }

    // ---------------------------------------------------------------- real data

    [Test]
    public void Real_SD19_vowels_load_1000_per_class_with_the_right_labels()
    {
        string? shared = TestEnvironment.SharedData;
        string folder = shared is null ? Path.GetFullPath(Path.Combine(TestEnvironment.RepositoryRoot, "..", "shared", "data", "nist-sd19-by_class-vowels"))
            : Path.Combine(shared, "nist-sd19-by_class-vowels");
        if (!Directory.Exists(folder))
            Assert.Ignore($"The real SD19 vowels are not on this machine (looked for '{folder}'); skipped.");

        var watch = Stopwatch.StartNew();
        var view = mlContext.Data.LoadFromNistSd19(folder);
        var dataset = ImageFileRows.FromDataView(view)!;
        var loaded = watch.Elapsed;
        watch.Restart();
        var rows = DrawnGlyphs.ReadAll(view);
        var read = watch.Elapsed;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        watch.Restart();
        var unverified = Sd19Loader.Load(folder, new Sd19LoaderOptions { VerifyImages = false });
        var listed = watch.Elapsed;
        long retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(unverified);

        TestContext.Out.WriteLine($"SD19 vowels, {dataset.Count} PNGs on {Environment.ProcessorCount} cores: "
            + $"LoadNistSd19 (list + decode every file once to verify, parallel) {loaded.TotalSeconds:F2} s; "
            + $"one full cursor pass (decode + convert each row, one thread) {read.TotalSeconds:F2} s "
            + $"({read.TotalMilliseconds * 1000 / rows.Count:F0} µs per image); "
            + $"VerifyImages = false (list + read headers) {listed.TotalSeconds:F2} s; "
            + $"managed memory kept by the loaded data set {retained / 1024.0:F0} KiB ({(double)retained / unverified.Count:F0} bytes per file).");

        Assert.That(dataset.Count, Is.EqualTo(10_000));
        Assert.That(unverified.Count, Is.EqualTo(10_000));
        Assert.That((double)retained / unverified.Count, Is.LessThan(200), "files are listed compactly, not decoded and kept");
        Assert.That(LoadedImages.GetSkippedFiles(view), Is.Empty);
        var expected = "A E I O U a e i o u".Split(' ').ToDictionary(c => c, _ => 1000);
        Assert.That(DrawnGlyphs.Counts(rows), Is.EquivalentTo(expected));
        for (int i = 0; i < rows.Count; i += 997)
            DrawnGlyphs.AssertEmnistLike(rows[i].Pixels, $"row {i} ('{rows[i].Label}', {dataset.GetPath(i)})", minimumSpan: 16);
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
}
