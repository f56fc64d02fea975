using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The EMNIST IDX loader on tiny files the tests write (asymmetric marks catch a missing or doubled transpose),
/// and every bad-input error (the real EMNIST files: Ocr.MLNet.IntegrationTests, EmnistLoaderRealDataTests).
/// </summary>
[TestFixture]
public sealed class EmnistLoaderTests
{
    private const int Side = 28;
    private const string Mapping = "0 48\r\n1 65\r\n2 97\r\n\r\n\r\n"; // 0 → "0", 1 → "A", 2 → "a"; CRLF, blank trailing lines
    private static readonly byte[] Labels = [1, 0, 2];

    private string directory = "";
    private MLContext mlContext = null!;

    [SetUp]
    public void CreateDirectory()
    {
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-emnist");
        mlContext = new MLContext(seed: 1);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    // ---------------------------------------------------------------- test data

    /// <summary>
    /// The upright image the tests draw for row <paramref name="image"/>: a horizontal bar across the top,
    /// a short vertical bar at the left and one dim dot that moves with the row, so a transposed, mirrored
    /// or shifted image differs.
    /// </summary>
    private static byte Upright(int image, int r, int c)
    {
        if (r == 3 && c is >= 5 and <= 20)
            return 255;
        if (c == 2 && r is >= 10 and <= 13)
            return 128;
        if (r == 24 && c == 6 + image)
            return (byte)(10 + image);
        return 0;
    }

    /// <summary>The images as EMNIST stores them: transposed, stored[c, r] = upright[r, c].</summary>
    private static byte[] StoredPixels(int count)
    {
        var data = new byte[count * Side * Side];
        for (int i = 0; i < count; i++)
        {
            for (int r = 0; r < Side; r++)
            {
                for (int c = 0; c < Side; c++)
                    data[(i * Side * Side) + (c * Side) + r] = Upright(i, r, c);
            }
        }

        return data;
    }

    private static float[] ExpectedPixels(int image)
    {
        var expected = new float[1024];
        for (int r = 0; r < Side; r++)
        {
            for (int c = 0; c < Side; c++)
                expected[((r + 2) * 32) + c + 2] = Upright(image, r, c) / 255f;
        }

        return expected;
    }

    private static byte[] Idx(int magic, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + (4 * dimensions.Length) + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dimensions[i]);
        data.CopyTo(bytes, 4 + (4 * dimensions.Length));
        return bytes;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }

    private string Write(string name, byte[] content, bool gzip)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, gzip ? Gzip(content) : content);
        return path;
    }

    private static byte[] ImagesIdx(int declared, byte[] pixels) => Idx(0x803, [declared, Side, Side], pixels);

    private static byte[] LabelsIdx(int declared, byte[] labels) => Idx(0x801, [declared], labels);

    /// <summary>Writes a valid three-image split; returns the three paths.</summary>
    private (string Images, string Labels, string Mapping) WriteSplit(bool gzipImages = true, bool gzipLabels = true,
        string prefix = "emnist-tiny", string split = "test")
    {
        string images = Write($"{prefix}-{split}-images-idx3-ubyte{(gzipImages ? ".gz" : "")}", ImagesIdx(3, StoredPixels(3)), gzipImages);
        string labels = Write($"{prefix}-{split}-labels-idx1-ubyte{(gzipLabels ? ".gz" : "")}", LabelsIdx(3, Labels), gzipLabels);
        string mapping = Path.Combine(directory, $"{prefix}-mapping.txt");
        File.WriteAllText(mapping, Mapping);
        return (images, labels, mapping);
    }

    // ---------------------------------------------------------------- good input

    [TestCase(true, true)]
    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    public void Rows_come_out_in_file_order_with_character_labels_and_upright_padded_scaled_pixels(bool gzipImages, bool gzipLabels)
    {
        var (images, labels, mapping) = WriteSplit(gzipImages, gzipLabels);

        var view = mlContext.Data.LoadFromEmnist(images, labels, mapping);
        var rows = DrawnGlyphs.ReadAll(view);

        Assert.That(rows.Select(r => r.Label), Is.EqualTo(new[] { "A", "0", "a" }));
        for (int i = 0; i < rows.Count; i++)
            Assert.That(rows[i].Pixels, Is.EqualTo(ExpectedPixels(i)), $"row {i}: upright, padded by 2, byte/255");
        Assert.Multiple(() =>
        {
            // The top bar lands on output row 3 + 2 = 5, columns 7..22; nothing in the 2-pixel border.
            Assert.That(rows[0].Pixels[(5 * 32) + 7], Is.EqualTo(1f));
            Assert.That(rows[0].Pixels[(7 * 32) + 5], Is.Zero, "a transposed image would have the bar in column 5");
            Assert.That(rows[0].Pixels[(26 * 32) + 8], Is.EqualTo(10 / 255f));
            Assert.That(rows.SelectMany(r => Border(r.Pixels)), Is.All.Zero);
            Assert.That(view.GetRowCount(), Is.EqualTo(3));
        });
    }

    private static IEnumerable<float> Border(float[] pixels)
    {
        for (int r = 0; r < 32; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                if (r < 2 || r >= 30 || c < 2 || c >= 30)
                    yield return pixels[(r * 32) + c];
            }
        }
    }

    [Test]
    public void Gzip_is_detected_from_the_content_not_the_file_name()
    {
        string images = Write("images-named-raw", ImagesIdx(3, StoredPixels(3)), gzip: true);
        string labels = Write("labels-named.gz", LabelsIdx(3, Labels), gzip: false);
        string mapping = Path.Combine(directory, "m.txt");
        File.WriteAllText(mapping, Mapping);

        var rows = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(rows.Select(r => r.Label), Is.EqualTo(new[] { "A", "0", "a" }));
        Assert.That(rows[2].Pixels, Is.EqualTo(ExpectedPixels(2)));
    }

    [Test]
    public void Schema_is_a_string_label_and_a_1x32x32_float_vector()
    {
        var (images, labels, mapping) = WriteSplit();
        var view = mlContext.Data.LoadFromEmnist(images, labels, mapping);

        Assert.That(view.Schema.Select(c => c.Name), Is.EqualTo(new[] { "Label", "Pixels" }));
        Assert.That(view.Schema["Label"].Type, Is.EqualTo(TextDataViewType.Instance));
        var pixels = view.Schema["Pixels"].Type as VectorDataViewType;
        Assert.That(pixels, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(pixels!.ItemType, Is.EqualTo(NumberDataViewType.Single));
            Assert.That(pixels.Size, Is.EqualTo(1024));
            Assert.That(pixels.Dimensions.ToArray(), Is.EqualTo(new[] { 1, 32, 32 }));
            Assert.That(view.CanShuffle, Is.True);
        });
    }

    private sealed class Row
    {
        public string Label { get; set; } = "";

        [VectorType(1024)]
        public float[] Pixels { get; set; } = [];
    }

    [Test]
    public void Rows_bind_to_classes_and_feed_ordinary_ml_net_transforms()
    {
        var (images, labels, mapping) = WriteSplit();
        var view = mlContext.Data.LoadFromEmnist(images, labels, mapping);

        var rows = mlContext.Data.CreateEnumerable<Row>(view, reuseRowObject: false).ToList();
        Assert.That(rows.Select(r => r.Label), Is.EqualTo(new[] { "A", "0", "a" }));
        Assert.That(rows[1].Pixels, Is.EqualTo(ExpectedPixels(1)));

        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
        var preview = keyed.Preview();
        Assert.That(preview.RowView, Has.Length.EqualTo(3));
        Assert.That(keyed.Schema["Label"].Type, Is.InstanceOf<KeyDataViewType>());
    }

    [Test]
    public void Options_rename_columns_and_limit_rows()
    {
        var (images, labels, mapping) = WriteSplit();
        var options = new EmnistLoaderOptions { LabelColumnName = "Character", PixelsColumnName = "Features", MaxRows = 2 };

        var view = mlContext.Data.LoadFromEmnist(images, labels, mapping, options);
        var rows = DrawnGlyphs.ReadAll(view, "Character", "Features");

        Assert.That(view.Schema.Select(c => c.Name), Is.EqualTo(new[] { "Character", "Features" }));
        Assert.That(rows.Select(r => r.Label), Is.EqualTo(new[] { "A", "0" }));
        Assert.That(rows[1].Pixels, Is.EqualTo(ExpectedPixels(1)));
    }

    [Test]
    public void Invalid_options_are_reported_together_in_one_message()
    {
        var (images, labels, mapping) = WriteSplit();
        var options = new EmnistLoaderOptions { LabelColumnName = "", PixelsColumnName = " ", MaxRows = 0 };

        var e = Assert.Throws<ArgumentException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping, options));

        Assert.That(e!.Message, Does.Contain("LabelColumnName").And.Contain("PixelsColumnName").And.Contain("MaxRows").And.Contain("got 0"));
        options = new EmnistLoaderOptions { LabelColumnName = "X", PixelsColumnName = "X" };
        e = Assert.Throws<ArgumentException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping, options));
        Assert.That(e!.Message, Does.Contain("must differ"));
    }

    [Test]
    public void Bulk_dataset_gives_the_same_pixels_class_indices_and_counts()
    {
        var (images, labels, mapping) = WriteSplit();
        var dataset = EmnistDataset.Load(images, labels, mapping);

        Assert.Multiple(() =>
        {
            Assert.That(dataset.Count, Is.EqualTo(3));
            Assert.That(dataset.ClassNames, Is.EqualTo(new[] { "0", "A", "a" }));
            Assert.That(dataset.Mapping.LabelValues, Is.EqualTo(new[] { 0, 1, 2 }));
            Assert.That(Enumerable.Range(0, 3).Select(dataset.GetClassIndex), Is.EqualTo(new[] { 1, 0, 2 }));
            Assert.That(Enumerable.Range(0, 3).Select(dataset.GetLabelValue), Is.EqualTo(new[] { 1, 0, 2 }));
            Assert.That(Enumerable.Range(0, 3).Select(dataset.GetLabel), Is.EqualTo(new[] { "A", "0", "a" }));
            Assert.That(dataset.CountRowsPerClass(), Is.EqualTo(new[] { 1, 1, 1 }));
        });

        // A batch gathered in any order, with a repeat, into N×1×32×32 — over a dirty buffer.
        int[] batch = [2, 0, 2];
        var buffer = Enumerable.Repeat(7f, batch.Length * 1024).ToArray();
        dataset.CopyPixels(batch, buffer);
        for (int i = 0; i < batch.Length; i++)
            Assert.That(buffer.AsSpan(i * 1024, 1024).ToArray(), Is.EqualTo(ExpectedPixels(batch[i])), $"batch slot {i}");

        var one = new float[1024];
        dataset.CopyPixels(1, one);
        Assert.That(one, Is.EqualTo(ExpectedPixels(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.CopyPixels(3, one));
        Assert.Throws<ArgumentException>(() => dataset.CopyPixels(0, new float[1023]));
        Assert.Throws<ArgumentException>(() => dataset.CopyPixels([0, 1], new float[1024]));

        var view = dataset.AsDataView();
        Assert.That(DrawnGlyphs.ReadAll(view).Select(r => r.Label), Is.EqualTo(new[] { "A", "0", "a" }));
    }

    [Test]
    public void Cursors_are_deterministic_and_a_shuffled_cursor_visits_every_row_once()
    {
        var (images, labels, mapping) = WriteSplit();
        var view = mlContext.Data.LoadFromEmnist(images, labels, mapping);

        var first = DrawnGlyphs.ReadAll(view);
        var second = DrawnGlyphs.ReadAll(view);
        Assert.That(second.Select(r => r.Label), Is.EqualTo(first.Select(r => r.Label)));
        Assert.That(second.Select(r => r.Pixels), Is.EqualTo(first.Select(r => r.Pixels)));

        using var cursor = view.GetRowCursor(view.Schema, new Random(5));
        var idGetter = cursor.GetIdGetter();
        var ids = new List<ulong>();
        DataViewRowId id = default;
        while (cursor.MoveNext())
        {
            idGetter(ref id);
            ids.Add(id.Low);
        }

        Assert.That(ids, Is.EquivalentTo(new ulong[] { 0, 1, 2 }));
        var shuffled = mlContext.Data.ShuffleRows(view, seed: 3);
        Assert.That(DrawnGlyphs.ReadAll(shuffled).Select(r => r.Label), Is.EquivalentTo(new[] { "A", "0", "a" }));
    }

    [Test]
    public void Mapping_accepts_lf_and_the_three_column_letters_form_and_orders_by_label()
    {
        string path = Path.Combine(directory, "letters-mapping.txt");
        File.WriteAllText(path, "2 66 98\n1 65 97\n\n");

        var mapping = EmnistMapping.Load(path);

        Assert.Multiple(() =>
        {
            Assert.That(mapping.LabelValues, Is.EqualTo(new[] { 1, 2 }));
            Assert.That(mapping.ClassNames, Is.EqualTo(new[] { "A", "B" }));
            Assert.That(mapping.TryGetClassIndex(2, out int index), Is.True);
            Assert.That(index, Is.EqualTo(1));
            Assert.That(mapping.TryGetClassIndex(0, out _), Is.False);
            Assert.That(mapping.SourcePath, Is.EqualTo(path));
        });
    }

    // ---------------------------------------------------------------- bad input

    [TestCase("images")]
    [TestCase("labels")]
    [TestCase("mapping")]
    public void A_missing_file_is_named_with_the_fix(string which)
    {
        var (images, labels, mapping) = WriteSplit();
        string missing = Path.Combine(directory, "no-such-file");
        var e = Assert.Throws<FileNotFoundException>(() => mlContext.Data.LoadFromEmnist(
            which == "images" ? missing : images, which == "labels" ? missing : labels, which == "mapping" ? missing : mapping));

        Assert.That(e!.Message, Does.Contain($"'{missing}' does not exist").And.Contain(which).And.Contain("Pass"));
        Assert.That(e.FileName, Is.EqualTo(missing));
    }

    [Test]
    public void A_missing_file_points_at_its_gz_twin()
    {
        var (images, labels, mapping) = WriteSplit();
        string withoutGz = images[..^3];

        var e = Assert.Throws<FileNotFoundException>(() => mlContext.Data.LoadFromEmnist(withoutGz, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}' exists"));
    }

    [Test]
    public void Swapped_images_and_labels_are_reported_as_a_wrong_magic_number_at_offset_0()
    {
        var (images, labels, mapping) = WriteSplit();

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(labels, images, mapping));

        Assert.That(e!.Message, Does.Contain($"'{labels}'").And.Contain("byte offset 0 of the decompressed data")
            .And.Contain("2051").And.Contain("0x00000801").And.Contain("swapped"));
        Assert.Multiple(() =>
        {
            Assert.That(e.FilePath, Is.EqualTo(labels));
            Assert.That(e.ByteOffset, Is.Zero);
        });
    }

    [Test]
    public void A_file_that_is_not_idx_is_reported_with_what_was_found()
    {
        var (_, labels, mapping) = WriteSplit();
        string text = Path.Combine(directory, "notes.txt");
        File.WriteAllText(text, "hello, world, this is not IDX");

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(text, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{text}'").And.Contain("byte offset 0").And.Contain("found 0x68656C6C")
            .And.Contain("neither IDX nor gzip"));
    }

    [Test]
    public void A_zip_archive_is_reported_as_one_to_extract()
    {
        var (_, labels, mapping) = WriteSplit();
        string zip = Path.Combine(directory, "gzip.zip");
        File.WriteAllBytes(zip, [(byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0]);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(zip, labels, mapping));

        Assert.That(e!.Message, Does.Contain("zip archive").And.Contain("extract"));
    }

    [Test]
    public void Images_that_are_not_28x28_are_reported_at_offset_8()
    {
        var (_, labels, mapping) = WriteSplit();
        string images = Write("small-images", Idx(0x803, [3, 20, 20], new byte[3 * 400]), gzip: false);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}'").And.Contain("20×20").And.Contain("byte offset 8").And.Contain("28×28"));
    }

    [TestCase(false, "byte offset 1976,")]
    [TestCase(true, "byte offset 1976 of the decompressed data")]
    public void Truncated_pixel_data_is_reported_with_the_offset_where_it_ends(bool gzip, string where)
    {
        var (_, labels, mapping) = WriteSplit();
        // Header declares 3 images; only 2.5 follow: 16 + 2 × 784 + 392 = 1976 bytes.
        string images = Write("cut-images", ImagesIdx(3, StoredPixels(3)[..(2 * 784 + 392)]), gzip);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}' is truncated").And.Contain("declares 3 images")
            .And.Contain("should end at byte offset 2368").And.Contain($"ends at {where}").And.Contain("after 2 whole images")
            .And.Contain("SHA-256"));
        Assert.That(e.ByteOffset, Is.EqualTo(1976));
    }

    [Test]
    public void Truncated_labels_are_reported_too()
    {
        var (images, _, mapping) = WriteSplit();
        string labels = Write("cut-labels", LabelsIdx(3, [1, 0]), gzip: false);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{labels}' is truncated").And.Contain("declares 3 labels").And.Contain("ends at byte offset 10"));
    }

    [Test]
    public void A_header_cut_short_is_reported()
    {
        var (_, labels, mapping) = WriteSplit();
        string images = Write("stub", ImagesIdx(3, [])[..10], gzip: false);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}' is truncated").And.Contain("byte offset 10").And.Contain("16-byte IDX header"));
    }

    [Test]
    public void A_cut_gzip_file_is_reported_with_the_file_and_offset()
    {
        var (_, labels, mapping) = WriteSplit();
        // Incompressible pixels so the gzip stream is long; cut it in the middle.
        var random = new Random(1);
        var pixels = new byte[3 * 784];
        random.NextBytes(pixels);
        byte[] whole = Gzip(ImagesIdx(3, pixels));
        string images = Path.Combine(directory, "cut.gz");
        File.WriteAllBytes(images, whole[..(whole.Length / 2)]);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}'").And.Contain("of the decompressed data"));
        TestContext.Out.WriteLine(e.Message);
    }

    [Test]
    public void Damaged_gzip_data_is_reported_with_the_file_and_offset()
    {
        var (_, labels, mapping) = WriteSplit();
        var random = new Random(2);
        var pixels = new byte[3 * 784];
        random.NextBytes(pixels);
        byte[] gzip = Gzip(ImagesIdx(3, pixels));
        for (int i = gzip.Length / 3; i < gzip.Length / 2; i++)
            gzip[i] ^= 0x5A;
        string images = Path.Combine(directory, "damaged.gz");
        File.WriteAllBytes(images, gzip);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}'").And.Contain("of the decompressed data"));
        TestContext.Out.WriteLine(e.Message);
    }

    [Test]
    public void Data_beyond_the_declared_count_is_reported()
    {
        var (_, labels, mapping) = WriteSplit();
        string images = Write("long-images", ImagesIdx(3, [.. StoredPixels(3), 1, 2, 3]), gzip: true);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}' holds more data than its header declares")
            .And.Contain("byte offset 2368 of the decompressed data"));
    }

    [Test]
    public void Image_and_label_counts_that_disagree_name_both_files_and_both_counts()
    {
        var (images, _, mapping) = WriteSplit();
        string labels = Write("two-labels", LabelsIdx(2, [1, 0]), gzip: false);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{images}' declares 3 images").And.Contain($"'{labels}' declares 2 labels")
            .And.Contain("byte offset 4").And.Contain("same split"));
    }

    [Test]
    public void A_label_the_mapping_lacks_names_the_value_the_first_row_and_both_files()
    {
        var (images, _, mapping) = WriteSplit();
        string labels = Write("odd-labels", LabelsIdx(3, [1, 7, 9]), gzip: false);

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"Label 7 at row 1 of the labels file '{labels}' (byte offset 9)")
            .And.Contain($"mapping file '{mapping}'").And.Contain("defines labels 0-2")
            .And.Contain("2 row(s) in all carry unmapped label value(s) 7, 9"));
        Assert.Multiple(() =>
        {
            Assert.That(e.FilePath, Is.EqualTo(labels));
            Assert.That(e.ByteOffset, Is.EqualTo(9));
        });
    }

    [TestCase("10 x", "not 'label ascii'")]
    [TestCase("10", "not 'label ascii'")]
    [TestCase("-1 65", "not 'label ascii'")]
    [TestCase("300 66", "label 300 is out of range")]
    [TestCase("0 66", "label 0 is mapped a second time (first on line 1)")]
    [TestCase("3 65", "which label 1 on line 2 already maps to")]
    [TestCase("3 9", "not a printable character")]
    public void A_malformed_mapping_line_is_reported_with_file_and_line_number(string line, string why)
    {
        var (images, labels, _) = WriteSplit();
        string mapping = Path.Combine(directory, "bad-mapping.txt");
        File.WriteAllText(mapping, $"0 48\r\n1 65\r\n{line}\r\n2 97\r\n");

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{mapping}' is malformed at line 3").And.Contain(why));
        Assert.That(e.LineNumber, Is.EqualTo(3));
    }

    [Test]
    public void An_empty_mapping_file_is_reported()
    {
        var (images, labels, _) = WriteSplit();
        string mapping = Path.Combine(directory, "empty-mapping.txt");
        File.WriteAllText(mapping, "\r\n\r\n");

        var e = Assert.Throws<EmnistDataException>(() => mlContext.Data.LoadFromEmnist(images, labels, mapping));

        Assert.That(e!.Message, Does.Contain($"'{mapping}' defines no class"));
    }

    // ---------------------------------------------------------------- directory + split

    [Test]
    public void A_split_is_found_by_name_in_a_directory()
    {
        WriteSplit(prefix: "emnist-tiny", split: "dev");

        var rows = DrawnGlyphs.ReadAll(mlContext.Data.LoadFromEmnist(directory, "dev"));

        Assert.That(rows.Select(r => r.Label), Is.EqualTo(new[] { "A", "0", "a" }));
    }

    [Test]
    public void With_both_a_raw_and_a_gzip_copy_the_raw_file_is_used()
    {
        WriteSplit(gzipImages: true, gzipLabels: true);
        WriteSplit(gzipImages: false, gzipLabels: false);

        var files = EmnistFiles.Find(directory, "test");

        Assert.That(files.ImagesPath, Does.EndWith("emnist-tiny-test-images-idx3-ubyte"));
        Assert.That(files.LabelsPath, Does.EndWith("emnist-tiny-test-labels-idx1-ubyte"));
        Assert.That(files.MappingPath, Does.EndWith("emnist-tiny-mapping.txt"));
    }

    [Test]
    public void A_missing_split_lists_the_images_files_that_are_there()
    {
        WriteSplit(split: "test");

        var e = Assert.Throws<FileNotFoundException>(() => mlContext.Data.LoadFromEmnist(directory, "train"));

        Assert.That(e!.Message, Does.Contain("'*-train-images-idx3-ubyte[.gz]'").And.Contain(directory)
            .And.Contain("IDX images files there: emnist-tiny-test-images-idx3-ubyte.gz"));
    }

    [Test]
    public void An_ambiguous_split_lists_every_match()
    {
        WriteSplit(prefix: "emnist-one");
        WriteSplit(prefix: "emnist-two");

        var e = Assert.Throws<FileNotFoundException>(() => mlContext.Data.LoadFromEmnist(directory, "test"));

        Assert.That(e!.Message, Does.Contain("ambiguous").And.Contain("emnist-one-test-images-idx3-ubyte.gz")
            .And.Contain("emnist-two-test-images-idx3-ubyte.gz").And.Contain("Pass the images, labels and mapping file paths"));
    }

    [Test]
    public void A_split_without_labels_or_mapping_lists_what_is_there()
    {
        var (_, labels, mapping) = WriteSplit();
        File.Delete(labels);
        var e = Assert.Throws<FileNotFoundException>(() => mlContext.Data.LoadFromEmnist(directory, "test"));
        Assert.That(e!.Message, Does.Contain("not its labels file 'emnist-tiny-test-labels-idx1-ubyte[.gz]'")
            .And.Contain("IDX labels files there: none"));

        WriteSplit();
        File.Move(mapping, Path.Combine(directory, "other-mapping.txt"));
        e = Assert.Throws<FileNotFoundException>(() => mlContext.Data.LoadFromEmnist(directory, "test"));
        Assert.That(e!.Message, Does.Contain("not its mapping file 'emnist-tiny-mapping.txt'")
            .And.Contain("Mapping files there: other-mapping.txt"));
    }

    [Test]
    public void A_missing_directory_is_reported()
    {
        string missing = Path.Combine(directory, "nope");

        var e = Assert.Throws<DirectoryNotFoundException>(() => mlContext.Data.LoadFromEmnist(missing, "test"));

        Assert.That(e!.Message, Does.Contain($"'{missing}' does not exist"));
    }

    [Test]
    public void Skipped_files_are_reported_the_same_way_and_are_always_none()
    {
        var (images, labels, mapping) = WriteSplit();

        var view = mlContext.Data.LoadFromEmnist(images, labels, mapping);

        Assert.That(LoadedImages.GetSkippedFiles(view), Is.Empty, "EMNIST throws on a bad file, so it never skips one");
    }
}
