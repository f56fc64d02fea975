using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>Runs the built <c>samples/TrainAndSave</c> on a few thousand real EMNIST images, as a separate process.</summary>
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
        // Enough data and epochs that the metrics mean something (chance is 1/47 ≈ 0.02): about 20 s on an idle machine.
        // 10 epochs of 11 batches: the default recipe warms up for one epoch and anneals to 0, so 3 tiny epochs learn little.
        var (exit, output) = TestEnvironment.Run("dotnet",
            $"\"{app}\" --data \"{data}\" --max-rows 2400 --epochs 10 --balance 30 --augment-copies 0 --test-fraction 0.2 --examples 3 --model \"{zip}\"",
            WorkDirectory, TimeSpan.FromMinutes(5));
        TestContext.Out.WriteLine(output);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Loaded EMNIST split 'dev'"));
        Assert.That(output, Does.Contain("Balanced 47 classes: 2–110 images per class → 30 (1410 images)"));
        Assert.That(output, Does.Match(@"Epoch 10: loss \d+\.\d{4}, accuracy \d\.\d{4}"));
        Assert.That(output, Does.Contain("Test split (506 images):"));
        // A run with the default recipe printed MicroAccuracy 0.4704, MacroAccuracy 0.4916, LogLoss 1.8410,
        // LogLossReduction 0.4690, TopKAccuracy(3) 0.7628; the floors leave room for another CPU's arithmetic.
        Assert.Multiple(() =>
        {
            Assert.That(Metric(output, "MicroAccuracy"), Is.GreaterThan(0.35));
            Assert.That(Metric(output, "MacroAccuracy"), Is.GreaterThan(0.33));
            Assert.That(Metric(output, "LogLoss"), Is.LessThan(2.3), "ln 47 = 3.85 would be a uniform guess");
            Assert.That(Metric(output, "LogLossReduction"), Is.GreaterThan(0.3));
            Assert.That(Metric(output, @"TopKAccuracy\(3\)"), Is.GreaterThan(0.6));
        });
        var trained = Regex.Match(output, "Trained 47 classes: (.+)");
        Assert.That(trained.Success, Is.True, output);
        string[] classes = trained.Groups[1].Value.Trim().Split(' ');
        Assert.That(string.Concat(classes), Is.EqualTo("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"));

        Assert.That(File.Exists(zip), Is.True, output);
        var examples = Regex.Matches(output, @"test\d\.png  label \S+  predicted (\S+) \(key (\d+) = slot '(\S+)'\)  p=");
        Assert.That(examples, Has.Count.EqualTo(3), output);
        foreach (Match example in examples)
            Assert.That(example.Groups[1].Value, Is.EqualTo(example.Groups[3].Value), "PredictedCharacter names the PredictedLabel key's Score slot");

        // The zip is ML.NET's own: it loads without Ocr.MLNet and classifies an image file.
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(zip, out var inputSchema);
        Assert.That(inputSchema.GetColumnOrNull("ImagePath")?.Type, Is.EqualTo(Microsoft.ML.Data.TextDataViewType.Instance));
        string png = Path.Combine(WorkDirectory, "blank.png");
        using (var bitmap = new SkiaSharp.SKBitmap(28, 28))
        {
            bitmap.Erase(SkiaSharp.SKColors.Black);
            using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
            using var encoded = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(png, encoded.ToArray());
        }

        using (model as IDisposable)
        using (var engine = mlContext.Model.CreatePredictionEngine<ImageFile, Prediction>(model))
        {
            var prediction = engine.Predict(new ImageFile { ImagePath = png });
            Assert.That(prediction.Score, Has.Length.EqualTo(47));
            Assert.That(prediction.Score.Sum(), Is.EqualTo(1f).Within(1e-3));
            int best = Array.IndexOf(prediction.Score, prediction.Score.Max());
            Assert.That(prediction.PredictedCharacter, Is.EqualTo(classes[best]), "the predicted character is the class of the highest score");
            Assert.That(prediction.PredictedLabel, Is.EqualTo((uint)best + 1), "the PredictedLabel key is 1 + the best score's slot");
        }
    }

    private static double Metric(string output, string name)
    {
        var match = Regex.Match(output, $@"  {name} +(-?\d+\.\d{{4}})");
        Assert.That(match.Success, Is.True, $"no {name} line\n{output}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }

        public string PredictedCharacter { get; set; } = "";
    }
}
