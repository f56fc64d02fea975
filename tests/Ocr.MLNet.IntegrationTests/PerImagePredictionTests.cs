using System.Globalization;
using Microsoft.ML;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// A model trained here, saved as a zip, is used by a separate process that has ML.NET but neither
/// TorchSharp nor Ocr.MLNet (samples/PredictPerImage), per image from a path and from an in-memory MLImage.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("Sample")]
public sealed class PerImagePredictionTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-per-image";

    [Test]
    public void A_separate_process_without_torchsharp_predicts_what_the_trained_model_predicts()
    {
        var mlContext = new MLContext(seed: 1);
        // Training images go through the image loader, which prepares them as the saved model prepares image files.
        var rows = SyntheticGlyphs.Make(perClass: 60, seed: 21);
        var training = mlContext.Data.LoadFromImages(rows.Select((row, i) =>
            (row.Label, File.ReadAllBytes(WritePng(Path.Combine(WorkDirectory, $"train{i}.png"), row.Pixels)))).ToList());
        var options = new CharacterCnnTrainer.Options { Epochs = 5, BatchSize = 16, BatchNormMomentum = 0.5, ValidationFraction = 0, Seed = 3, Device = TrainingDevice.Cpu };
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(training);

        var (forFiles, inputSchema) = CharacterImagePipeline.ForImageFiles(mlContext, model);
        string zip = Path.Combine(WorkDirectory, "model.zip");
        mlContext.Model.Save(forFiles, inputSchema, zip);

        var test = SyntheticGlyphs.Make(perClass: 3, seed: 77);
        var files = test.Select((row, i) => WritePng(Path.Combine(WorkDirectory, $"glyph{i}.png"), row.Pixels)).ToList();

        using var engine = mlContext.Model.CreatePredictionEngine<PathRow, GlyphPrediction>(forFiles, new PredictionEngineOptions { OwnsTransformer = false });
        var expected = files.Select(f => engine.Predict(new PathRow { ImagePath = f })).ToList();
        Assert.That(expected.Count(p => p.PredictedLabel != ""), Is.EqualTo(test.Count));

        string app = Path.Combine(TestEnvironment.OutputOf("samples/PredictPerImage"), "PredictPerImage.dll");
        Assert.That(File.Exists(app), Is.True, $"{app} was not built");
        var output = Path.GetDirectoryName(app)!;
        Assert.That(File.Exists(Path.Combine(output, "TorchSharp.dll")), Is.False, "the app must not carry TorchSharp");
        Assert.That(File.Exists(Path.Combine(output, "Ocr.MLNet.dll")), Is.False, "the app must not carry Ocr.MLNet");

        var run = TestEnvironment.Run("dotnet", $"\"{app}\" \"{zip}\" " + string.Join(" ", files.Select(f => $"\"{f}\"")), WorkDirectory, TimeSpan.FromMinutes(2));
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('\t')).Where(p => p.Length == 4).ToList();
        Assert.That(lines, Has.Count.EqualTo(test.Count), run.Output);
        for (int i = 0; i < test.Count; i++)
        {
            Assert.That(lines[i][0], Is.EqualTo($"glyph{i}.png"));
            Assert.That(lines[i][1], Is.EqualTo(expected[i].PredictedLabel), $"glyph{i} from its path");
            Assert.That(lines[i][2], Is.EqualTo(expected[i].PredictedLabel), $"glyph{i} from an in-memory MLImage");
            Assert.That(double.Parse(lines[i][3], CultureInfo.InvariantCulture), Is.EqualTo(expected[i].Score.Max()).Within(1e-5), $"glyph{i} score");
        }

        int correct = test.Where((row, i) => lines[i][1] == row.Label).Count();
        Assert.That(correct, Is.GreaterThanOrEqualTo(test.Count - 2), "the model should read these easy glyphs");
    }

    [Test]
    public void The_separate_process_reports_a_file_that_is_not_a_model()
    {
        string bogus = Path.Combine(WorkDirectory, "not-a-model.zip");
        File.WriteAllText(bogus, "hello");
        string app = Path.Combine(TestEnvironment.OutputOf("samples/PredictPerImage"), "PredictPerImage.dll");
        var run = TestEnvironment.Run("dotnet", $"\"{app}\" \"{bogus}\" x.png", WorkDirectory, TimeSpan.FromMinutes(1));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain($"'{bogus}' is not a readable model"));
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    internal static string WritePng(string path, float[] pixels)
    {
        using var bitmap = new SKBitmap(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int r = 0; r < 32; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                byte v = (byte)Math.Round(pixels[(r * 32) + c] * 255f);
                bitmap.SetPixel(c, r, new SKColor(v, v, v));
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }
}
