using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>Runs the built <c>samples/TrainAndSave</c> on a few hundred real EMNIST images, as a separate process.</summary>
[TestFixture]
[Category("Integration")]
[Category("Sample")]
public sealed class TrainAndSaveSampleTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-train-and-save";

    [Test]
    [Category("RealData")]
    public void The_sample_prints_mlnet_metrics_and_writes_a_zip_that_loads_and_predicts()
    {
        string? shared = TestEnvironment.SharedData;
        string data = Path.Combine(shared ?? "", "emnist-bymerge-dev");
        if (shared is null || !Directory.Exists(data))
        {
            Assert.Ignore($"Skipped: real EMNIST data not found at {data} (put ../shared/data beside the repository to run this test).");
            return;
        }

        string app = Path.Combine(TestEnvironment.OutputOf("samples/TrainAndSave"), "TrainAndSave.dll");
        Assert.That(File.Exists(app), Is.True, $"{app} was not built");
        string zip = Path.Combine(WorkDirectory, "model", "ocr.zip");
        var (exit, output) = TestEnvironment.Run("dotnet",
            $"\"{app}\" --data \"{data}\" --max-rows 600 --epochs 1 --balance 5 --examples 3 --model \"{zip}\"",
            WorkDirectory, TimeSpan.FromMinutes(2));
        TestContext.Out.WriteLine(output);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Loaded EMNIST split 'dev'"));
        Assert.That(output, Does.Match(@"Balanced \d+ classes: \d+–\d+ images per class → 5 \(\d+ images\)"));
        Assert.That(output, Does.Match(@"Epoch 1: loss \d+\.\d{4}, accuracy \d\.\d{4}"));
        foreach (string metric in new[] { "MicroAccuracy", "MacroAccuracy", "LogLoss" })
        {
            var match = Regex.Match(output, $@"  {metric} +(-?\d+\.\d{{4}})");
            Assert.That(match.Success, Is.True, $"no {metric} line\n{output}");
            double value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.That(double.IsFinite(value), Is.True, $"{metric} {value}");
            if (metric != "LogLoss")
                Assert.That(value, Is.InRange(0.0, 1.0), metric);
        }

        Assert.That(File.Exists(zip), Is.True, output);
        Assert.That(Regex.Matches(output, @"test\d\.png  label \S+  predicted \S+  p="), Has.Count.EqualTo(3), output);

        // The zip is ML.NET's own: it loads without Ocr.MLNet and classifies an image file.
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(zip, out var inputSchema);
        Assert.That(inputSchema.GetColumnOrNull("ImagePath"), Is.Not.Null);
        string png = Path.Combine(WorkDirectory, "blank.png");
        using (var bitmap = new SkiaSharp.SKBitmap(28, 28))
        {
            bitmap.Erase(SkiaSharp.SKColors.Black);
            using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
            using var encoded = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(png, encoded.ToArray());
        }

        var engine = mlContext.Model.CreatePredictionEngine<ImageFile, Prediction>(model);
        var prediction = engine.Predict(new ImageFile { ImagePath = png });
        Assert.That(prediction.PredictedLabel, Is.Not.Empty);
        Assert.That(prediction.Score.Sum(), Is.EqualTo(1f).Within(1e-3));
    }

    public sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedLabel { get; set; } = "";
    }
}
