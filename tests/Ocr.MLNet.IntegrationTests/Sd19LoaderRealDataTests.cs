using System.Diagnostics;
using Microsoft.ML;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.IntegrationTests;

/// <summary><c>mlContext.Data.LoadFromNistSd19</c> on the real SD19 vowels in <c>../shared/data</c>.</summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class Sd19LoaderRealDataTests
{
    private readonly MLContext mlContext = new(seed: 1);

    [Test]
    public void Real_SD19_vowels_load_1000_per_class_with_the_right_labels()
    {
        string folder = TestEnvironment.RealData("nist-sd19-by_class-vowels");

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
}
