using System.Diagnostics;
using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>The EMNIST IDX loader on the real EMNIST files in <c>../shared/data</c>.</summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class EmnistLoaderRealDataTests
{
    private MLContext mlContext = null!;

    [SetUp]
    public void CreateContext() => mlContext = new MLContext(seed: 1);


    private static void AssertProvenanceStates(string folder, params string[] facts)
    {
        string text = File.ReadAllText(Path.Combine(TestEnvironment.RealData(folder), "PROVENANCE.md"));
        foreach (var fact in facts)
            Assert.That(text, Does.Contain(fact), $"{folder}/PROVENANCE.md");
    }

    [Test]
    public void Real_bymerge_dev_has_106923_rows_and_47_labels()
    {
        string folder = TestEnvironment.RealData("emnist-bymerge-dev");
        AssertProvenanceStates("emnist-bymerge-dev", "106,923", "**47 classes**", "215 to 6,200 images per class");

        var view = mlContext.Data.LoadFromEmnist(folder, "dev");
        // The view's rows come from this data set (the data view type is internal to Ocr.MLNet): load it directly.
        var dataset = EmnistDataset.Load(folder, "dev");
        var counts = dataset.CountRowsPerClass();

        Assert.Multiple(() =>
        {
            Assert.That(view.GetRowCount(), Is.EqualTo(106_923));
            Assert.That(dataset.ClassNames, Has.Count.EqualTo(47));
            Assert.That(string.Concat(dataset.ClassNames), Is.EqualTo("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"));
            Assert.That(counts.Min(), Is.EqualTo(215));
            Assert.That(counts.Max(), Is.EqualTo(6_200));
        });
        var labels = mlContext.Data.CreateEnumerable<LabelOnly>(view, reuseRowObject: true).Select(r => r.Label).ToHashSet();
        Assert.That(labels, Has.Count.EqualTo(47));
    }

    private sealed class LabelOnly
    {
        public string Label { get; set; } = "";
    }

    [Test]
    public void Real_byclass_test_has_116323_rows_and_62_labels_and_its_load_time_is_printed()
    {
        string folder = TestEnvironment.RealData("emnist-byclass-test");
        AssertProvenanceStates("emnist-byclass-test", "**116,323**", "**62 classes**", "317 to 6,330 per class");
        string imagesFile = Path.Combine(folder, "emnist-byclass-test-images-idx3-ubyte.gz");

        // Baseline in the same run: only decompressing the images file.
        var clock = Stopwatch.StartNew();
        using (var gzip = new GZipStream(File.OpenRead(imagesFile), CompressionMode.Decompress))
            gzip.CopyTo(Stream.Null);
        double gunzip = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var view = mlContext.Data.LoadFromEmnist(folder, "test");
        double load = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        long rows = 0;
        double ink = 0;
        var labels = new HashSet<string>();
        using (var cursor = view.GetRowCursor(view.Schema))
        {
            var labelGetter = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Label"]);
            var pixelsGetter = cursor.GetGetter<VBuffer<float>>(view.Schema["Pixels"]);
            ReadOnlyMemory<char> label = default;
            VBuffer<float> pixels = default;
            while (cursor.MoveNext())
            {
                labelGetter(ref label);
                pixelsGetter(ref pixels);
                labels.Add(label.ToString());
                ink += pixels.GetValues()[(16 * 32) + 16];
                rows++;
            }
        }

        double enumerate = clock.Elapsed.TotalMilliseconds;

        var dataset = EmnistDataset.Load(folder, "test");
        clock.Restart();
        var batch = new float[128 * CharacterFormat.PixelCount];
        var indices = new int[128];
        for (int start = 0; start < dataset.Count; start += 128)
        {
            int n = Math.Min(128, dataset.Count - start);
            for (int i = 0; i < n; i++)
                indices[i] = start + i;
            dataset.CopyPixels(indices.AsSpan(0, n), batch);
        }

        double bulk = clock.Elapsed.TotalMilliseconds;

        TestContext.Out.WriteLine(
            $"EMNIST ByClass test, {rows:N0} images: LoadFromEmnist (read, gunzip, check) {load:F0} ms "
            + $"= {load / gunzip:F2}× a bare gunzip of the images file ({gunzip:F0} ms); enumerating every row's Label and Pixels "
            + $"through an ML.NET cursor {enumerate:F0} ms ({rows / (enumerate / 1000):N0} rows/s); load + enumerate {load + enumerate:F0} ms; "
            + $"bulk CopyPixels in batches of 128 {bulk:F0} ms.");

        var counts = dataset.CountRowsPerClass();
        Assert.Multiple(() =>
        {
            Assert.That(rows, Is.EqualTo(116_323));
            Assert.That(labels, Has.Count.EqualTo(62));
            Assert.That(string.Concat(dataset.ClassNames), Is.EqualTo("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"));
            Assert.That(counts.Min(), Is.EqualTo(317));
            Assert.That(counts.Max(), Is.EqualTo(6_330));
            Assert.That(ink, Is.GreaterThan(0));
        });
    }

    [Test]
    public void Real_ones_come_out_upright_taller_than_wide()
    {
        string folder = TestEnvironment.RealData("emnist-mnist-test");
        AssertProvenanceStates("emnist-mnist-test", "**10,000**", "**10 classes**");
        var dataset = EmnistDataset.Load(folder, "test");
        Assert.That(dataset.Count, Is.EqualTo(10_000));
        Assert.That(dataset.CountRowsPerClass(), Is.All.EqualTo(1_000));

        // Mean image of the 1,000 ones: an upright '1' spreads its ink down the rows far more than across the columns.
        var sum = new double[1024];
        var pixels = new float[1024];
        for (int row = 0; row < dataset.Count; row++)
        {
            if (dataset.GetLabel(row) != "1")
                continue;
            dataset.CopyPixels(row, pixels);
            for (int i = 0; i < 1024; i++)
                sum[i] += pixels[i];
        }

        double Spread(Func<int, int> coordinate)
        {
            double total = sum.Sum();
            double mean = Enumerable.Range(0, 1024).Sum(i => sum[i] * coordinate(i)) / total;
            return Enumerable.Range(0, 1024).Sum(i => sum[i] * Math.Pow(coordinate(i) - mean, 2)) / total;
        }

        double vertical = Spread(i => i / 32);
        double horizontal = Spread(i => i % 32);
        TestContext.Out.WriteLine($"mean '1': vertical variance {vertical:F1}, horizontal variance {horizontal:F1}");
        Assert.That(vertical, Is.GreaterThan(3 * horizontal), "a transposed '1' would lie on its side");
    }

    [Test]
    public void Real_partial_balanced_and_truncated_letters_load_by_split_name()
    {
        string balanced = TestEnvironment.RealData("emnist-balanced-partial");
        var test = EmnistDataset.Load(balanced, "test-18496-18799");
        var train = EmnistDataset.Load(balanced, "train-103680-112799");
        Assert.Multiple(() =>
        {
            Assert.That(test.Count, Is.EqualTo(304));
            Assert.That(test.CountRowsPerClass(), Has.Length.EqualTo(47).And.All.GreaterThanOrEqualTo(2));
            Assert.That(train.Count, Is.EqualTo(9_120));
            Assert.That(Path.GetFileName(train.Mapping.SourcePath), Is.EqualTo("emnist-balanced-mapping.txt"));
        });

        // "test" names the complete labels file but no complete images file: the error lists what is there.
        var e = Assert.Throws<FileNotFoundException>(() => EmnistDataset.Load(balanced, "test"));
        Assert.That(e!.Message, Does.Contain("emnist-balanced-test-18496-18799-images-idx3-ubyte.gz"));

        string letters = TestEnvironment.RealData("emnist-letters-test-truncated");
        var subset = EmnistDataset.Load(letters, "test-first14800");
        var counts = subset.CountRowsPerClass();
        Assert.Multiple(() =>
        {
            Assert.That(subset.Count, Is.EqualTo(14_800));
            Assert.That(subset.ClassNames, Has.Count.EqualTo(26), "the letters mapping defines A-Z (upper-case names)");
            Assert.That(counts.Count(c => c > 0), Is.EqualTo(19));
            Assert.That(subset.GetLabel(0), Is.EqualTo("A"));
        });
    }
}
