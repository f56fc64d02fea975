using System.Globalization;
using Microsoft.ML;
using SkiaSharp;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;

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
    public void A_separate_process_without_torchsharp_predicts_what_the_trained_pipeline_predicts_with_the_class_names_from_the_schema()
    {
        var mlContext = new MLContext(seed: 1);
        // The pipeline a user writes: image files in, LoadImages → PrepareCharacterImages → CharacterCnn, keyed labels.
        var rows = SyntheticGlyphs.Make(perClass: 60, seed: 21);
        var training = mlContext.Data.LoadFromEnumerable(rows.Select((row, i) =>
            new LabelledPath { Label = row.Label, ImagePath = SyntheticGlyphs.WritePng(Path.Combine(WorkDirectory, $"train{i}.png"), row.Pixels) }).ToList());
        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(training).Transform(training);
        var options = new CharacterCnnTrainer.Options { Epochs = 5, BatchSize = 16, BatchNormMomentum = 0.5, ValidationFraction = 0, Seed = 3, Device = TrainingDevice.Cpu };
        using var model = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
            .Append(mlContext.Transforms.PrepareCharacterImages())
            .Append(mlContext.MulticlassClassification.Trainers.CharacterCnn(options))
            .Fit(keyed);
        string zip = Path.Combine(WorkDirectory, "model.zip");
        mlContext.Model.Save(model, keyed.Schema, zip);

        var test = SyntheticGlyphs.Make(perClass: 3, seed: 77);
        var files = test.Select((row, i) => SyntheticGlyphs.WritePng(Path.Combine(WorkDirectory, $"glyph{i}.png"), row.Pixels)).ToList();
        using var engine = mlContext.Model.CreatePredictionEngine<PathRow, CharacterPrediction>(model, new PredictionEngineOptions { OwnsTransformer = false });
        var expected = files.Select(f => engine.Predict(new PathRow { ImagePath = f })).ToList();
        var classNames = model.LastTransformer.ClassNames;

        string app = Path.Combine(TestEnvironment.OutputOf("samples/PredictPerImage"), "PredictPerImage.dll");
        Assert.That(File.Exists(app), Is.True, $"{app} was not built");
        var output = Path.GetDirectoryName(app)!;
        Assert.That(File.Exists(Path.Combine(output, "TorchSharp.dll")), Is.False, "the app must not carry TorchSharp");
        Assert.That(File.Exists(Path.Combine(output, "Ocr.MLNet.dll")), Is.False, "the app must not carry Ocr.MLNet");

        var run = TestEnvironment.Run("dotnet", $"\"{app}\" \"{zip}\" " + string.Join(" ", files.Select(f => $"\"{f}\"")), WorkDirectory, TimeSpan.FromMinutes(2));
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        TestContext.Out.WriteLine(run.Output);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('\t')).Where(p => p.Length == 4).ToList();
        Assert.That(lines, Has.Count.EqualTo(test.Count), run.Output);
        for (int i = 0; i < test.Count; i++)
        {
            int best = Array.IndexOf(expected[i].Score, expected[i].Score.Max());
            Assert.That(lines[i][0], Is.EqualTo($"glyph{i}.png"));
            Assert.That(lines[i][1], Is.EqualTo(expected[i].PredictedCharacter), $"glyph{i}: PredictedCharacter");
            Assert.That(lines[i][2], Is.EqualTo(expected[i].PredictedLabel.ToString(CultureInfo.InvariantCulture)), $"glyph{i}: the PredictedLabel key");
            Assert.That(expected[i].PredictedLabel, Is.EqualTo((uint)best + 1), $"glyph{i}: the key is 1 + the best slot");
            Assert.That(lines[i][3], Does.StartWith(string.Create(CultureInfo.InvariantCulture, $"{classNames[best]} {expected[i].Score[best]:F6}")),
                $"glyph{i}: the app names the best slot from Score's slot names");
        }

        int correct = test.Where((row, i) => lines[i][1] == row.Label).Count();
        Assert.That(correct, Is.GreaterThanOrEqualTo(test.Count - 2), "the model should read these easy glyphs");
    }

    private sealed class LabelledPath
    {
        public string Label { get; set; } = "";

        public string ImagePath { get; set; } = "";
    }

    [Test]
    public void The_separate_process_reports_a_file_that_is_not_a_model()
    {
        string bogus = Path.Combine(WorkDirectory, "not-a-model.zip");
        File.WriteAllText(bogus, "hello");
        string app = Path.Combine(TestEnvironment.OutputOf("samples/PredictPerImage"), "PredictPerImage.dll");
        // ML.NET leaves an empty folder in its temp path when a file is not a model; the app's own temp folder must not.
        string temp = Path.Combine(WorkDirectory, "not-a-model-temp");
        Directory.CreateDirectory(temp);
        var run = TestEnvironment.Run("dotnet", $"\"{app}\" \"{bogus}\" x.png", WorkDirectory, TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["TMPDIR"] = temp });
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain($"'{bogus}' is not a readable model"));
        Assert.That(Directory.EnumerateFileSystemEntries(temp), Is.Empty, "the temp folder after the run");
    }

    [Test]
    public void The_separate_process_reports_a_file_that_is_not_an_image_and_still_reads_the_others()
    {
        using var pretrained = PretrainedCharacterModel.OpenRead();
        string zip = Path.Combine(WorkDirectory, "pretrained.zip");
        using (var file = File.Create(zip))
            pretrained.CopyTo(file);
        string text = Path.Combine(WorkDirectory, "notes.png");
        File.WriteAllText(text, "not an image");
        var glyph = SyntheticGlyphs.Make(perClass: 1, seed: 3)[0];
        string png = SyntheticGlyphs.WritePng(Path.Combine(WorkDirectory, "glyph.png"), glyph.Pixels);
        string app = Path.Combine(TestEnvironment.OutputOf("samples/PredictPerImage"), "PredictPerImage.dll");

        var run = TestEnvironment.Run("dotnet", $"\"{app}\" \"{zip}\" \"{text}\" \"{png}\"", WorkDirectory, TimeSpan.FromMinutes(1));

        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain($"'{text}' is not an image ML.NET can decode"));
        Assert.That(run.Output, Does.Not.Contain("Unhandled exception"));
        Assert.That(run.Output.Split('\n').Count(l => l.StartsWith("glyph.png\t", StringComparison.Ordinal)), Is.EqualTo(1), run.Output);
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
