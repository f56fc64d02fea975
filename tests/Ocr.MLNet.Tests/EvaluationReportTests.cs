using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using Ocr.MLNet.Training;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class EvaluationReportTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-report";

    private static readonly string[] Abcd = ["A", "B", "C", "D"];

    // Rows true, columns predicted. D has no images and no predictions.
    private static readonly int[][] HandMade =
    [
        [8, 2, 0, 0],
        [1, 4, 0, 0],
        [0, 3, 2, 0],
        [0, 0, 0, 0],
    ];

    [Test]
    public void A_confusion_matrix_gives_precision_recall_F1_and_macro_averages_over_the_classes_present()
    {
        var report = ClassificationReport.FromConfusionMatrix(Abcd, HandMade);

        Assert.That(report.Count, Is.EqualTo(20));
        Assert.That(report.Correct, Is.EqualTo(14));
        Assert.That(report.Accuracy, Is.EqualTo(0.7).Within(1e-12));
        Assert.That(report.ClassesPresent, Is.EqualTo(3));
        Assert.That(report.PerClass.Select(m => m.Support), Is.EqualTo(new[] { 10, 5, 5, 0 }));
        Assert.That(report.PerClass.Select(m => m.Predicted), Is.EqualTo(new[] { 9, 9, 2, 0 }));
        Assert.That(report.PerClass.Select(m => m.Precision), Is.EqualTo(new[] { 8 / 9.0, 4 / 9.0, 1.0, 0 }).Within(1e-12));
        Assert.That(report.PerClass.Select(m => m.Recall), Is.EqualTo(new[] { 0.8, 0.8, 0.4, 0 }).Within(1e-12));
        double f1A = 2 * (8 / 9.0) * 0.8 / ((8 / 9.0) + 0.8), f1B = 2 * (4 / 9.0) * 0.8 / ((4 / 9.0) + 0.8), f1C = 2 * 0.4 / 1.4;
        Assert.That(report.PerClass.Select(m => m.F1), Is.EqualTo(new[] { f1A, f1B, f1C, 0 }).Within(1e-12));
        Assert.That(f1A, Is.EqualTo(0.842105).Within(1e-6), "the hand calculation itself");
        Assert.That(report.MacroPrecision, Is.EqualTo(0.777778).Within(1e-6));
        Assert.That(report.MacroRecall, Is.EqualTo(0.666667).Within(1e-6));
        Assert.That(report.MacroF1, Is.EqualTo(0.661654).Within(1e-6));
        Assert.That(report.ConfusedPairs, Is.EqualTo(new[] { new ConfusedPair("C", "B", 3), new ConfusedPair("A", "B", 2), new ConfusedPair("B", "A", 1) }));
        Assert.That(report.LogLoss, Is.Null);
    }

    [Test]
    public void A_bad_confusion_matrix_lists_every_problem()
    {
        Assert.That(() => ClassificationReport.FromConfusionMatrix(["A"], [[1, -1]]),
            Throws.ArgumentException.With.Message.Contains("at least 2 classes").And.Message.Contains("1×1 matrix"));
    }

    [Test]
    public void Evaluate_uses_mlnet_on_scored_rows_and_agrees_with_the_confusion_matrix()
    {
        var mlContext = new MLContext(seed: 1);
        string[] classes = ["A", "B", "C"];
        // The hand-made matrix's first three classes as scored rows, plus two rows of a class the model lacks.
        var rows = new List<ScoredRow>();
        for (int t = 0; t < 3; t++)
        {
            for (int p = 0; p < 3; p++)
            {
                for (int k = 0; k < HandMade[t][p]; k++)
                    rows.Add(new ScoredRow { Label = classes[t], Score = OneHot(p, 3) });
            }
        }

        rows.Add(new ScoredRow { Label = "Z", Score = OneHot(0, 3) });
        rows.Add(new ScoredRow { Label = "Z", Score = OneHot(1, 3) });
        var schema = SchemaDefinition.Create(typeof(ScoredRow));
        schema[nameof(ScoredRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        // The class names reach the report as the score column's slot names, as a character model writes them.
        schema[nameof(ScoredRow.Score)].AddAnnotation("SlotNames",
            new VBuffer<ReadOnlyMemory<char>>(3, classes.Select(c => c.AsMemory()).ToArray()), new VectorDataViewType(TextDataViewType.Instance, 3));
        var scored = mlContext.Data.LoadFromEnumerable(rows, schema);

        var report = ClassificationReport.Evaluate(mlContext, scored, topK: 2);

        Assert.That(report.UnknownLabelCount, Is.EqualTo(2));
        Assert.That(report.Count, Is.EqualTo(20));
        for (int t = 0; t < 3; t++)
        {
            for (int p = 0; p < 3; p++)
                Assert.That(report[t, p], Is.EqualTo(HandMade[t][p]), $"count of {classes[t]} → {classes[p]}");
        }

        Assert.That(report.Accuracy, Is.EqualTo(0.7).Within(1e-12));
        Assert.That(report.MacroF1, Is.EqualTo(0.661654).Within(1e-6));
        Assert.That(report.TopK, Is.EqualTo(2));
        // Top 2: a miss still counts when the true class ranks second. ML.NET breaks the tie of the two 0.05 scores
        // by class index, so A→B (2 rows) and B→A (1 row) count and C→B (3 rows) does not: (14 + 3) / 20.
        Assert.That(report.TopKAccuracy, Is.EqualTo(0.85).Within(1e-12));
        // Mean of −ln(score of the true class): 14 rows at 0.9, 6 at 0.05; the unknown class Z is left out.
        Assert.That(report.LogLoss, Is.EqualTo(((14 * -Math.Log(0.9)) + (6 * -Math.Log(0.05))) / 20).Within(1e-5));
    }

    [Test]
    public void Evaluate_on_no_rows_is_an_error_not_an_accuracy_of_zero()
    {
        var mlContext = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(ScoredRow));
        schema[nameof(ScoredRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
        schema[nameof(ScoredRow.Score)].AddAnnotation("SlotNames",
            new VBuffer<ReadOnlyMemory<char>>(2, ["A".AsMemory(), "B".AsMemory()]), new VectorDataViewType(TextDataViewType.Instance, 2));
        var empty = mlContext.Data.LoadFromEnumerable(Array.Empty<ScoredRow>(), schema);
        Assert.That(() => ClassificationReport.Evaluate(mlContext, empty),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartWith("The scored data has no rows"));
    }

    [Test]
    public void Evaluate_names_a_wrong_score_column()
    {
        var mlContext = new MLContext(seed: 1);
        var scored = mlContext.Data.LoadFromEnumerable([new GlyphRow { Label = "A", Pixels = new float[1024] }]);
        Assert.That(() => ClassificationReport.Evaluate(mlContext, scored),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Could not find score column 'Score'"));
    }

    [Test]
    public void A_training_history_saved_and_loaded_round_trips()
    {
        var history = new TrainingHistory(
            [
                new EpochMetrics(1, 1.25, 0.5, 1.5, 0.4375, 1e-3, TimeSpan.FromSeconds(12.5), 300),
                new EpochMetrics(2, 0.75, 0.75, null, null, 5e-4, TimeSpan.FromMinutes(1), 310.5),
            ],
            bestEpoch: 1, stoppedEarly: true, resumedAfterEpoch: 0);
        string path = TrainingHistory.PathBeside(Path.Combine(WorkDirectory, "models", "m.zip"));
        Assert.That(Path.GetFileName(path), Is.EqualTo("m.history.json"));

        history.Save(path);
        var loaded = TrainingHistory.Load(path);

        Assert.That(loaded.Epochs, Is.EqualTo(history.Epochs));
        Assert.That(loaded.BestEpoch, Is.EqualTo(1));
        Assert.That(loaded.StoppedEarly, Is.True);
        Assert.That(loaded.ResumedAfterEpoch, Is.Zero);
        Assert.That(() => TrainingHistory.Load(Path.Combine(WorkDirectory, "none.history.json")), Throws.InstanceOf<FileNotFoundException>());
        File.WriteAllText(path, "{ not json");
        Assert.That(() => TrainingHistory.Load(path), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not valid JSON"));
    }

    [Test]
    public void Write_ForATinyModel_WritesPicturesAndTheComputedNumbers()
    {
        var mlContext = new MLContext(seed: 1);
        var options = CharacterCnnTrainerTests.SmallRun(epochs: 2);
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, perClass: 20, seed: 1));
        var scored = model.Transform(SyntheticGlyphs.Load(mlContext, perClass: 15, seed: 99));

        var report = ClassificationReport.Evaluate(mlContext, scored);
        var mistakes = EvaluationReport.CollectMisclassified(mlContext, scored, model.ClassNames, max: 16);
        string folder = Path.Combine(WorkDirectory, "report");
        var result = EvaluationReport.Write(folder, report, mistakes, model.History, null, "tiny.zip", "synthetic glyphs");

        Assert.That(report.Count, Is.EqualTo(60));
        int errors = report.Count - report.Correct;
        Assert.That(mistakes, Has.Count.EqualTo(Math.Min(16, errors)));
        Assert.That(mistakes.Select(m => m.Confidence), Is.Ordered.Descending);
        Assert.That(mistakes.All(m => m.Label != m.Predicted && m.Pixels.Length == 1024), Is.True);
        Assert.That(result.HistoryNote, Is.Null);
        Assert.That(result.Files.Select(Path.GetFileName), Is.EquivalentTo(new[] { "confusion.png", "misclassified.png", "training-curves.png", "metrics.json", "report.md" }));

        var (confusionWidth, confusionHeight) = DecodedSize(Path.Combine(folder, "confusion.png"));
        Assert.That(confusionWidth, Is.GreaterThan(4 * 48));
        Assert.That(confusionHeight, Is.GreaterThan(4 * 48));
        int galleryRows = Math.Max(1, (mistakes.Count + 7) / 8);
        Assert.That(DecodedSize(Path.Combine(folder, "misclassified.png")), Is.EqualTo((8 * 112, 36 + (galleryRows * (8 + 64 + 22)) + 8)));
        Assert.That(DecodedSize(Path.Combine(folder, "training-curves.png")), Is.EqualTo((1040, 436)));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
        Assert.That(json.RootElement.GetProperty("accuracy").GetDouble(), Is.EqualTo(report.Accuracy));
        Assert.That(json.RootElement.GetProperty("macroF1").GetDouble(), Is.EqualTo(report.MacroF1));
        Assert.That(json.RootElement.GetProperty("perClass").GetArrayLength(), Is.EqualTo(4));
        Assert.That(json.RootElement.GetProperty("trainingHistory").GetProperty("epochs").GetArrayLength(), Is.EqualTo(2));

        string markdown = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.That(markdown, Does.Contain(string.Create(CultureInfo.InvariantCulture, $"| accuracy | {report.Accuracy:F4} ({report.Correct}/{report.Count}) |")));
        Assert.That(markdown, Does.Contain(string.Create(CultureInfo.InvariantCulture, $"| macro F1 | {report.MacroF1:F4} |")));
        Assert.That(markdown, Does.Contain("![Confusion matrix](confusion.png)").And.Contain("(training-curves.png)").And.Contain("(misclassified.png)"));
        Assert.That(markdown, Does.Contain("| \\| |"), "the class '|' is escaped in the tables");

        // Without a history the curves are skipped with the reason, and a stale picture is removed.
        var again = EvaluationReport.Write(folder, report, mistakes, null, "no training history beside the model", "tiny.zip", "synthetic glyphs");
        Assert.That(again.HistoryNote, Is.EqualTo("no training history beside the model"));
        Assert.That(File.Exists(Path.Combine(folder, "training-curves.png")), Is.False);
        Assert.That(File.ReadAllText(Path.Combine(folder, "report.md")), Does.Contain("Not drawn: no training history beside the model"));
    }

    private static (int Width, int Height) DecodedSize(string path)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, path);
        return (bitmap.Width, bitmap.Height);
    }

    private static float[] OneHot(int index, int count)
    {
        var score = Enumerable.Repeat(0.1f / (count - 1), count).ToArray();
        score[index] = 0.9f;
        return score;
    }

    private sealed class ScoredRow
    {
        public string Label { get; set; } = "";

        public float[] Score { get; set; } = [];
    }
}
