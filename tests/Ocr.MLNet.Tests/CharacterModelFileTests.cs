using Microsoft.ML;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class CharacterModelFileTests
{
    private static string directory = "";
    private static string modelPath = "";
    private static string[] classNames = [];
    private static GlyphPrediction[] expected = [];

    [OneTimeSetUp]
    public void TrainOnce()
    {
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-model-file");
        var mlContext = new MLContext(seed: 1);
        var options = new CharacterCnnTrainer.Options { Epochs = 1, BatchSize = 16, ValidationFraction = 0, Device = TrainingDevice.Cpu };
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, 8, 1));
        classNames = model.ClassNames.ToArray();
        // What the trained model itself predicts for the rows the pixel scorer test scores.
        expected = [.. mlContext.Data.CreateEnumerable<GlyphPrediction>(model.Transform(SyntheticGlyphs.Load(mlContext, 2, 5)), reuseRowObject: false)];
        modelPath = Path.Combine(directory, "model.zip");
        var (forFiles, schema) = CharacterImagePipeline.ForImageFiles(mlContext, model);
        mlContext.Model.Save(forFiles, schema, modelPath);
    }

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    [Test]
    public void Loading_returns_the_class_names_from_inside_the_zip()
    {
        var loaded = CharacterModelFile.Load(new MLContext(), modelPath);
        Assert.That(loaded.ClassNames, Is.EqualTo(classNames));
        Assert.That(loaded.InputSchema.Select(c => c.Name), Does.Contain(CharacterImagePipeline.ImagePathColumnName));
    }

    [Test]
    public void The_pixel_scorer_of_a_loaded_model_scores_pixel_rows()
    {
        var mlContext = new MLContext();
        var loaded = CharacterModelFile.Load(mlContext, modelPath);
        var scored = loaded.PixelScorer.Transform(SyntheticGlyphs.Load(mlContext, 2, 5));
        var predictions = mlContext.Data.CreateEnumerable<GlyphPrediction>(scored, reuseRowObject: false).ToList();
        Assert.That(predictions, Has.Count.EqualTo(8));
        Assert.That(predictions.Select(p => p.PredictedLabel), Is.EqualTo(expected.Select(p => p.PredictedLabel)), "the trained model's predictions");
        for (int i = 0; i < predictions.Count; i++)
            Assert.That(predictions[i].Score, Is.EqualTo(expected[i].Score).Within(1e-5), $"row {i}: the trained model's scores");
    }

    [Test]
    public void A_truncated_zip_is_a_clear_error_naming_the_file()
    {
        string truncated = Path.Combine(directory, "truncated.zip");
        byte[] bytes = File.ReadAllBytes(modelPath);
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Assert.That(() => CharacterModelFile.Load(new MLContext(), truncated),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartWith($"'{truncated}' is not a readable Ocr.MLNet model"));
    }

    [Test]
    public void A_zip_that_is_not_a_model_is_a_clear_error()
    {
        string other = Path.Combine(directory, "other.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(other, System.IO.Compression.ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open());
            writer.Write("not a model");
        }

        Assert.That(() => CharacterModelFile.Load(new MLContext(), other),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contain("holds no ONNX network"));
    }

    [Test]
    public void A_missing_file_names_the_path_and_the_fix()
    {
        string missing = Path.Combine(directory, "missing.zip");
        Assert.That(() => CharacterModelFile.Load(new MLContext(), missing),
            Throws.InstanceOf<FileNotFoundException>().With.Message.Contain(missing).And.Message.Contain("ocr-mlnet train"));
    }
}
