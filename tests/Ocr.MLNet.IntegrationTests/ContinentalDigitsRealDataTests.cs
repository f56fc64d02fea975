using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.IntegrationTests;

/// <summary><c>mlContext.Data.AddContinentalDigits</c> on the real EMNIST digits in <c>../shared/data</c>.</summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class ContinentalDigitsRealDataTests
{
    [Test]
    public void Real_sevens_get_the_bar_the_reader_looks_for_and_real_ones_a_wider_top()
    {
        var mlContext = new MLContext(seed: 1);
        var digits = mlContext.Data.TakeRows(mlContext.Data.LoadFromEmnist(TestEnvironment.RealData("emnist-mnist-test"), "test"), 2000);
        var rows = DrawnGlyphs.ReadAll(mlContext.Data.AddContinentalDigits(digits));
        var originals = rows.Take(2000).ToList();
        var copies = rows.Skip(2000).ToList();

        int ones = originals.Count(r => r.Label == "1"), sevens = originals.Count(r => r.Label == "7");
        Assert.That(ones, Is.GreaterThan(150));
        Assert.That(sevens, Is.GreaterThan(150));
        Assert.That(copies.Select(r => r.Label), Is.EqualTo(originals.Where(r => r.Label is "1" or "7").Select(r => r.Label)),
            "one copy of every one and seven, in the input's order");

        static double Crossed(IEnumerable<(string Label, float[] Pixels)> rows) => rows.Average(r => SevenStroke.HasCrossbar(r.Pixels) ? 1.0 : 0.0);
        Assert.Multiple(() =>
        {
            Assert.That(Crossed(originals.Where(r => r.Label == "7")), Is.LessThan(0.2), "NIST's writers rarely cross their sevens");
            Assert.That(Crossed(copies.Where(r => r.Label == "7")), Is.GreaterThan(0.9), "the drawn bar is the bar the field reader looks for");
            // The up-stroke widens a one's box: EMNIST's ones are a bare stem, most of them slanted.
            Assert.That(MedianAspect(copies.Where(r => r.Label == "1")), Is.GreaterThan(MedianAspect(originals.Where(r => r.Label == "1")) + 0.1));
        });
        foreach (var (label, pixels) in copies)
            DrawnGlyphs.AssertEmnistLike(pixels, $"a continental {label}", centroidTolerance: 8, minimumSpan: 20);
    }

    [Test]
    [Category("Cli")]
    public void Train_with_continental_digits_trains_on_the_copies_too_and_validates_on_the_originals()
    {
        string directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-continental");
        try
        {
            string cli = Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");
            string model = Path.Combine(directory, "digits.zip");
            var run = TestEnvironment.Run("dotnet",
                $"\"{cli}\" train --data \"{TestEnvironment.RealData("emnist-mnist-test")}\" --max-rows 1000 --holdout-per-class 10 --epochs 1 --continental-digits --model \"{model}\"",
                directory, TimeSpan.FromMinutes(3));
            Assert.That(run.ExitCode, Is.Zero, run.Output);
            Assert.That(run.Output, Does.Contain("Added a continental copy of every 1 (flagged) and 7 (crossed)."));

            // The held-out 100 are split off first; every one and seven of the other 900 gets a copy.
            var mlContext = new MLContext(seed: 1);
            var first = mlContext.Data.TakeRows(mlContext.Data.LoadFromEmnist(TestEnvironment.RealData("emnist-mnist-test"), "test"), 1000);
            var split = mlContext.Data.BalancedTrainTestSplit(first, 10, 1);
            int copies = split.TrainSet.GetColumn<string>("Label").Count(l => l is "1" or "7");
            Assert.That(run.Output, Does.Contain($"Training on {900 + copies} images of 10 classes, validating on 100."));
            Assert.That(File.Exists(model));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The median width ÷ height of the images' ink boxes (pixels above 0.3).</summary>
    private static double MedianAspect(IEnumerable<(string Label, float[] Pixels)> rows)
    {
        var aspects = rows.Select(r =>
        {
            var ink = Enumerable.Range(0, 1024).Where(i => r.Pixels[i] > 0.3f).ToArray();
            int width = ink.Max(i => i % 32) - ink.Min(i => i % 32) + 1, height = (ink.Max() / 32) - (ink.Min() / 32) + 1;
            return (double)width / height;
        }).Order().ToArray();
        return aspects[aspects.Length / 2];
    }
}
