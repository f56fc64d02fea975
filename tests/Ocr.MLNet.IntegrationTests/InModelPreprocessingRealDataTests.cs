using Microsoft.ML;
using Ocr.MLNet.Loading;
using static Ocr.MLNet.Tests.ImagePixels;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>The saved model's in-model preprocessing against the SD19 loader on real SD19 PNGs from <c>../shared/data</c>.</summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class InModelPreprocessingRealDataTests
{
    [Test]
    public void Real_SD19_PNGs_by_path_give_exactly_the_SD19_loaders_pixels()
    {
        string folder = TestEnvironment.RealData("nist-sd19-by_class-vowels");

        var mlContext = new MLContext(seed: 1);
        var view = mlContext.Data.LoadFromNistSd19(folder, new Sd19LoaderOptions { VerifyImages = false });
        var files = LoadedImages.GetImageFiles(view);
        var rows = DrawnGlyphs.ReadAll(view);
        int[] sample = [.. Enumerable.Range(0, files.Count).Where(i => i % 50 == 7)];
        var actual = PixelsByPath(mlContext, sample.Select(i => files[i].ImagePath));

        double worst = 0;
        for (int k = 0; k < sample.Length; k++)
        {
            double diff = MaxDifference(rows[sample[k]].Pixels, actual[k]);
            worst = Math.Max(worst, diff);
            Assert.That(diff, Is.LessThanOrEqualTo(1e-5), files[sample[k]].ImagePath);
        }

        TestContext.Out.WriteLine($"{sample.Length} SD19 PNGs: max |SD19 loader − saved-model preprocessing| = {worst:E2}");
    }
}
