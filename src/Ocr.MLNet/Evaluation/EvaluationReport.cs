using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Evaluation;

/// <summary>What <see cref="EvaluationReport.Write"/> produced.</summary>
/// <param name="Report">The metrics.</param>
/// <param name="Files">Full paths of the files written, in the order written.</param>
/// <param name="HistoryNote">Why the training curves were not drawn, or null when they were.</param>
internal sealed record EvaluationReportResult(ClassificationReport Report, IReadOnlyList<string> Files, string? HistoryNote);

/// <summary>
/// An evaluation report in a folder: <c>report.md</c> (readable, linking the pictures), <c>metrics.json</c>
/// (machine-readable), <c>confusion.png</c>, <c>misclassified.png</c> and, given a training history,
/// <c>training-curves.png</c>. <c>ocr-mlnet evaluate --report DIR</c> writes it.
/// </summary>
/// <example>
/// <code>
/// IDataView scored = model.Transform(testData);
/// var report = ClassificationReport.Evaluate(mlContext, scored);
/// var mistakes = EvaluationReport.CollectMisclassified(mlContext, scored, report.ClassNames);
/// EvaluationReport.Write("report", report, mistakes, model.History, null, "ocr.zip", "test split");
/// </code>
/// </example>
internal static class EvaluationReport
{
    /// <summary>The readable report, linking the pictures.</summary>
    public const string MarkdownFile = "report.md";

    /// <summary>The metrics as JSON.</summary>
    public const string MetricsFile = "metrics.json";

    /// <summary>The row-normalised confusion matrix as a heat map.</summary>
    public const string ConfusionFile = "confusion.png";

    /// <summary>The most confident mistakes, as the network saw them.</summary>
    public const string MisclassifiedFile = "misclassified.png";

    /// <summary>Loss and accuracy per epoch, from the training history.</summary>
    public const string TrainingCurvesFile = "training-curves.png";

    /// <summary>Misclassified images shown in the gallery.</summary>
    public const int DefaultGallerySize = 64;

    /// <summary>Confused pairs listed in the report.</summary>
    public const int ConfusedPairsShown = 20;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// The <paramref name="max"/> misclassified rows with the highest predicted score (ties in row order), with their
    /// pixels (column <c>Pixels</c>); rows whose label is not a class are skipped. The prediction is the highest score, as ML.NET's evaluator takes it.
    /// </summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="scored">Scored rows with text <c>Label</c>, <c>Score</c> and <c>Pixels</c> columns.</param>
    /// <param name="classNames">The classes in <c>Score</c> order (<see cref="ClassificationReport.ClassNames"/>).</param>
    /// <param name="max">How many to keep.</param>
    public static IReadOnlyList<Misclassification> CollectMisclassified(MLContext mlContext, IDataView scored, IReadOnlyList<string> classNames,
        int max = DefaultGallerySize)
    {
        var index = classNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var kept = new List<Misclassification>();
        int row = -1;
        foreach (var r in mlContext.Data.CreateEnumerable<ScoredImage>(scored, reuseRowObject: true))
        {
            row++;
            if (!index.ContainsKey(r.Label))
                continue;
            int best = 0;
            for (int c = 1; c < r.Score.Length; c++)
            {
                if (r.Score[c] > r.Score[best])
                    best = c;
            }

            if (classNames[best] == r.Label)
                continue;
            kept.Add(new Misclassification(row, r.Label, classNames[best], r.Score[best], r.Pixels.ToArray()));
            if (kept.Count >= 4 * Math.Max(max, 16))
                kept = Order(kept).Take(max).ToList();
        }

        return Order(kept).Take(max).ToArray();

        static IEnumerable<Misclassification> Order(List<Misclassification> list) =>
            list.OrderByDescending(m => m.Confidence).ThenBy(m => m.Row);
    }

    /// <summary>
    /// Writes the report for <paramref name="report"/> into <paramref name="directory"/> (created when missing).
    /// Without <paramref name="history"/>, <paramref name="historyNote"/> says why, in report.md and the result.
    /// </summary>
    /// <param name="directory">The report's folder.</param>
    /// <param name="report">The metrics.</param>
    /// <param name="mistakes">The gallery's images (<see cref="CollectMisclassified"/>).</param>
    /// <param name="history">The training history for the curves, or null.</param>
    /// <param name="historyNote">Why there is no history, or null.</param>
    /// <param name="modelDescription">What was evaluated, as the report names it.</param>
    /// <param name="dataDescription">On what data, as the report names it.</param>
    /// <returns>The files written and why curves were skipped.</returns>
    public static EvaluationReportResult Write(string directory, ClassificationReport report, IReadOnlyList<Misclassification> mistakes,
        TrainingHistory? history, string? historyNote, string modelDescription, string dataDescription)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        string Out(string name)
        {
            string path = Path.GetFullPath(Path.Combine(directory, name));
            files.Add(path);
            return path;
        }

        ReportCharts.DrawConfusionMatrix(report, Out(ConfusionFile));
        ReportCharts.DrawMisclassified(mistakes, report.Count - report.Correct, Out(MisclassifiedFile));
        bool curves = false;
        if (history is { Epochs.Count: > 0 })
        {
            ReportCharts.DrawTrainingCurves(history, Out(TrainingCurvesFile));
            curves = true;
            historyNote = null;
        }
        else
        {
            historyNote ??= "The training history has no epochs.";
            // A stale picture from an earlier report must not pass for this model's curves.
            File.Delete(Path.Combine(directory, TrainingCurvesFile));
        }

        File.WriteAllText(Out(MetricsFile), JsonSerializer.Serialize(Metrics(report, mistakes, history, historyNote, modelDescription, dataDescription), Json));
        File.WriteAllText(Out(MarkdownFile), Markdown(report, mistakes, history, historyNote, modelDescription, dataDescription, curves));
        return new EvaluationReportResult(report, files, historyNote);
    }

    private static object Metrics(ClassificationReport report, IReadOnlyList<Misclassification> mistakes, TrainingHistory? history, string? historyNote,
        string model, string data) => new
    {
        model,
        data,
        images = report.Count,
        correct = report.Correct,
        unknownLabelImages = report.UnknownLabelCount,
        classesPresent = report.ClassesPresent,
        accuracy = report.Accuracy,
        macroPrecision = report.MacroPrecision,
        macroRecall = report.MacroRecall,
        macroF1 = report.MacroF1,
        logLoss = report.LogLoss,
        topK = report.TopK,
        topKAccuracy = report.TopKAccuracy,
        perClass = report.PerClass.Select(c => new { @class = c.ClassName, support = c.Support, predicted = c.Predicted, correct = c.Correct, precision = c.Precision, recall = c.Recall, f1 = c.F1 }),
        confusedPairs = report.ConfusedPairs.Take(ConfusedPairsShown).Select(p => new { @true = p.TrueClass, predicted = p.PredictedClass, count = p.Count }),
        confusionMatrix = new
        {
            classes = report.ClassNames,
            counts = Enumerable.Range(0, report.ClassNames.Count).Select(r => Enumerable.Range(0, report.ClassNames.Count).Select(c => report[r, c])),
        },
        misclassifiedShown = mistakes.Select(m => new { row = m.Row, @true = m.Label, predicted = m.Predicted, score = m.Confidence }),
        trainingHistory = history is null ? null : new { epochs = history.Epochs, bestEpoch = history.BestEpoch, stoppedEarly = history.StoppedEarly },
        trainingHistoryNote = historyNote,
    };

    private static string Markdown(ClassificationReport report, IReadOnlyList<Misclassification> mistakes, TrainingHistory? history, string? historyNote,
        string model, string data, bool curves)
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Evaluation report").AppendLine();
        md.AppendLine(c, $"- Model: `{model}`");
        md.AppendLine(c, $"- Data: {Escape(data)}");
        md.AppendLine(c, $"- Images evaluated: {report.Count:N0} in {report.ClassesPresent} classes (the model has {report.ClassNames.Count})");
        if (report.UnknownLabelCount > 0)
            md.AppendLine(c, $"- Left out: {report.UnknownLabelCount:N0} images whose label is not a class of the model");
        md.AppendLine().AppendLine("## Summary").AppendLine();
        md.AppendLine("| metric | value |").AppendLine("|---|---:|");
        md.AppendLine(c, $"| accuracy | {report.Accuracy:F4} ({report.Correct:N0}/{report.Count:N0}) |");
        md.AppendLine(c, $"| macro precision | {report.MacroPrecision:F4} |");
        md.AppendLine(c, $"| macro recall (macro accuracy) | {report.MacroRecall:F4} |");
        md.AppendLine(c, $"| macro F1 | {report.MacroF1:F4} |");
        if (report.TopKAccuracy is double topK)
            md.AppendLine(c, $"| top-{report.TopK} accuracy | {topK:F4} |");
        if (report.LogLoss is double logLoss)
            md.AppendLine(c, $"| log loss | {logLoss:F4} |");
        md.AppendLine().AppendLine("Macro averages run over the classes with images in the data; metrics from ML.NET's multiclass evaluator.").AppendLine();

        md.AppendLine("## Training curves").AppendLine();
        if (curves)
        {
            md.AppendLine(c, $"![Loss and accuracy per epoch]({TrainingCurvesFile})").AppendLine();
            md.AppendLine("| epoch | loss | accuracy | val_loss | val_accuracy | learning rate |").AppendLine("|---:|---:|---:|---:|---:|---:|");
            foreach (var e in history!.Epochs)
                md.AppendLine(c, $"| {e.Epoch} | {e.TrainingLoss:F4} | {e.TrainingAccuracy:F4} | {e.ValidationLoss?.ToString("F4", c) ?? "–"} | {e.ValidationAccuracy?.ToString("F4", c) ?? "–"} | {e.LearningRate:G3} |");
        }
        else
        {
            md.AppendLine(c, $"Not drawn: {Escape(historyNote ?? "no training history")}");
        }

        md.AppendLine().AppendLine("## Confusion matrix").AppendLine();
        md.AppendLine(c, $"![Confusion matrix]({ConfusionFile})").AppendLine();
        md.AppendLine(c, $"Most confused pairs (the {Math.Min(ConfusedPairsShown, report.ConfusedPairs.Count)} most frequent of {report.ConfusedPairs.Count}):").AppendLine();
        md.AppendLine("| true | predicted | images | share of true class |").AppendLine("|---|---|---:|---:|");
        var supportOf = report.PerClass.ToDictionary(m => m.ClassName, m => m.Support, StringComparer.Ordinal);
        foreach (var p in report.ConfusedPairs.Take(ConfusedPairsShown))
            md.AppendLine(c, $"| {Escape(p.TrueClass)} | {Escape(p.PredictedClass)} | {p.Count} | {p.Count / (double)supportOf[p.TrueClass]:P1} |");

        md.AppendLine().AppendLine("## Per class").AppendLine();
        md.AppendLine("| class | support | precision | recall | F1 |").AppendLine("|---|---:|---:|---:|---:|");
        foreach (var m in report.PerClass.Where(m => m.Support > 0 || m.Predicted > 0))
            md.AppendLine(c, $"| {Escape(m.ClassName)} | {m.Support} | {m.Precision:F4} | {m.Recall:F4} | {m.F1:F4} |");

        md.AppendLine().AppendLine("## Misclassified images").AppendLine();
        md.AppendLine(c, $"The {mistakes.Count} most confident mistakes of {report.Count - report.Correct:N0}, captioned \"true → predicted (score)\".").AppendLine();
        md.AppendLine(c, $"![Misclassified images]({MisclassifiedFile})");
        return md.ToString();
    }

    /// <summary>Escapes Markdown's table and emphasis characters (class names such as "|" or "*").</summary>
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text)
        {
            if (ch is '\\' or '|' or '*' or '_' or '`' or '<' or '>' or '[' or ']' or '#')
                sb.Append('\\');
            sb.Append(ch);
        }

        return sb.ToString();
    }

    private sealed class ScoredImage
    {
        public string Label { get; set; } = "";

        public float[] Pixels { get; set; } = [];

        public float[] Score { get; set; } = [];
    }
}
