using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Evaluation;

/// <summary>Precision, recall and F1 of one class, as scikit-learn's <c>classification_report</c> lists them.</summary>
/// <param name="ClassName">The class.</param>
/// <param name="Support">Images whose true label is the class.</param>
/// <param name="Predicted">Images predicted as the class.</param>
/// <param name="Correct">Images of the class predicted as the class.</param>
/// <param name="Precision">Correct / Predicted; 0 when nothing was predicted as the class.</param>
/// <param name="Recall">Correct / Support (the per-class accuracy); 0 when the class has no images.</param>
/// <param name="F1">The harmonic mean of precision and recall; 0 when both are 0.</param>
public sealed record ClassMetrics(string ClassName, int Support, int Predicted, int Correct, double Precision, double Recall, double F1);

/// <summary>How often images of one class were predicted as another.</summary>
/// <param name="TrueClass">The true label.</param>
/// <param name="PredictedClass">The predicted label.</param>
/// <param name="Count">Images of <paramref name="TrueClass"/> predicted as <paramref name="PredictedClass"/>.</param>
public sealed record ConfusedPair(string TrueClass, string PredictedClass, int Count);

/// <summary>
/// Accuracy, macro precision / recall / F1, per-class metrics and the confusion matrix of a multiclass
/// classifier, computed from ML.NET's <see cref="MulticlassClassificationMetrics"/>.
/// </summary>
/// <remarks>
/// Macro averages are taken over the classes that have images in the evaluated data (support &gt; 0), so a
/// 47-class model scored on 10 digits is averaged over the 10 digits; a class that was predicted but has no
/// images still lowers the precision of the classes it took images from. <see cref="MacroRecall"/> equals
/// ML.NET's <see cref="MulticlassClassificationMetrics.MacroAccuracy"/>.
/// </remarks>
public sealed class ClassificationReport
{
    /// <summary>How many classes <see cref="Evaluate"/> counts a prediction in for <see cref="TopKAccuracy"/> by default.</summary>
    public const int DefaultTopK = 5;

    /// <summary>The default column of true labels.</summary>
    public const string DefaultLabelColumnName = CharacterFormat.LabelColumnName;

    /// <summary>The default column of score vectors.</summary>
    public const string DefaultScoreColumnName = CharacterFormat.ScoreColumnName;

    private readonly int[][] _counts;

    private ClassificationReport(IReadOnlyList<string> classNames, int[][] counts, int unknownLabelCount, double? logLoss, int? topK, double? topKAccuracy)
    {
        ClassNames = classNames;
        _counts = counts;
        UnknownLabelCount = unknownLabelCount;
        LogLoss = logLoss;
        TopK = topK;
        TopKAccuracy = topKAccuracy;

        int n = classNames.Count;
        var perClass = new ClassMetrics[n];
        for (int c = 0; c < n; c++)
        {
            int support = counts[c].Sum();
            int predicted = 0;
            for (int r = 0; r < n; r++)
                predicted += counts[r][c];
            int correct = counts[c][c];
            double precision = predicted == 0 ? 0 : correct / (double)predicted;
            double recall = support == 0 ? 0 : correct / (double)support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[c] = new ClassMetrics(classNames[c], support, predicted, correct, precision, recall, f1);
        }

        PerClass = perClass;
        Count = perClass.Sum(m => m.Support);
        Correct = perClass.Sum(m => m.Correct);
        var present = perClass.Where(m => m.Support > 0).ToArray();
        ClassesPresent = present.Length;
        MacroPrecision = present.Length == 0 ? 0 : present.Average(m => m.Precision);
        MacroRecall = present.Length == 0 ? 0 : present.Average(m => m.Recall);
        MacroF1 = present.Length == 0 ? 0 : present.Average(m => m.F1);

        var pairs = new List<ConfusedPair>();
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                if (r != c && counts[r][c] > 0)
                    pairs.Add(new ConfusedPair(classNames[r], classNames[c], counts[r][c]));
            }
        }

        // Stable sort: ties keep class order, so the list is deterministic.
        ConfusedPairs = pairs.OrderByDescending(p => p.Count).ToArray();
    }

    /// <summary>The classes, in the order of the model's <c>Score</c> vector and of the confusion matrix's rows and columns.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Images evaluated (those whose label is one of <see cref="ClassNames"/>).</summary>
    public int Count { get; }

    /// <summary>Images predicted correctly.</summary>
    public int Correct { get; }

    /// <summary>Images skipped because their label is not one of <see cref="ClassNames"/>.</summary>
    public int UnknownLabelCount { get; }

    /// <summary>Classes with at least one image; the macro averages run over these.</summary>
    public int ClassesPresent { get; }

    /// <summary>Correct / Count (ML.NET's micro accuracy).</summary>
    public double Accuracy => Count == 0 ? 0 : Correct / (double)Count;

    /// <summary>Mean precision over the classes present.</summary>
    public double MacroPrecision { get; }

    /// <summary>Mean recall (per-class accuracy) over the classes present; ML.NET's macro accuracy.</summary>
    public double MacroRecall { get; }

    /// <summary>Mean F1 over the classes present (the mean of per-class F1, as scikit-learn's macro F1).</summary>
    public double MacroF1 { get; }

    /// <summary>ML.NET's mean log loss, or null when the report was built from counts alone.</summary>
    public double? LogLoss { get; }

    /// <summary>The K of <see cref="TopKAccuracy"/>, or null when not computed.</summary>
    public int? TopK { get; }

    /// <summary>Share of images whose true class is among the <see cref="TopK"/> highest scores, or null when not computed.</summary>
    public double? TopKAccuracy { get; }

    /// <summary>Metrics of every class, in <see cref="ClassNames"/> order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>Every pair of different true and predicted classes that occurred, most frequent first (ties in class order).</summary>
    public IReadOnlyList<ConfusedPair> ConfusedPairs { get; }

    /// <summary>Images of class <paramref name="trueClass"/> predicted as class <paramref name="predictedClass"/> (indexes into <see cref="ClassNames"/>).</summary>
    public int this[int trueClass, int predictedClass] => _counts[trueClass][predictedClass];

    /// <summary>
    /// Builds a report from a confusion matrix: <paramref name="counts"/>[true][predicted] image counts, rows and
    /// columns in <paramref name="classNames"/> order.
    /// </summary>
    public static ClassificationReport FromConfusionMatrix(IReadOnlyList<string> classNames, IReadOnlyList<IReadOnlyList<int>> counts)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(counts);
        var problems = new List<string>();
        if (classNames.Count < 2)
            problems.Add($"classNames must hold at least 2 classes; got {classNames.Count}");
        if (counts.Count != classNames.Count || counts.Any(row => row is null || row.Count != classNames.Count))
            problems.Add($"counts must be a {classNames.Count}×{classNames.Count} matrix (one row and one column per class)");
        else if (counts.Any(row => row.Any(v => v < 0)))
            problems.Add("counts must not be negative");
        if (problems.Count > 0)
            throw new ArgumentException(string.Join("; ", problems) + ".", nameof(counts));
        return new ClassificationReport(classNames.ToArray(), counts.Select(row => row.ToArray()).ToArray(), 0, null, null, null);
    }

    /// <summary>
    /// Evaluates data scored by a character model with <c>mlContext.MulticlassClassification.Evaluate</c>. The classes are
    /// the <paramref name="scoreColumnName"/> slot names; true labels may be text (as the loaders give them) or keys, and
    /// rows whose label is not one of the model's classes are counted in <see cref="UnknownLabelCount"/> and left out.
    /// </summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="scored">Data scored by a character model (a <c>Label</c> column and the model's <c>Score</c>).</param>
    /// <param name="labelColumnName">The column of true labels: text, or a key with text key values.</param>
    /// <param name="scoreColumnName">The score vector column, its slot names the class names.</param>
    /// <param name="topK">The K of <see cref="TopKAccuracy"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidDataException">No row has a label among the model's classes.</exception>
    /// <example>
    /// <code>
    /// var report = ClassificationReport.Evaluate(mlContext, model.Transform(testData));
    /// Console.WriteLine($"{report.Accuracy:P2}, macro F1 {report.MacroF1:F3}");
    /// </code>
    /// </example>
    public static ClassificationReport Evaluate(MLContext mlContext, IDataView scored,
        string labelColumnName = DefaultLabelColumnName, string scoreColumnName = DefaultScoreColumnName, int topK = DefaultTopK)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(scored);
        if (topK < 1)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, "topK must be at least 1.");
        var classNames = CharacterScores.GetClassNames(scored.Schema, scoreColumnName);
        if (classNames.Count < 2)
            throw new ArgumentException($"The model must have at least 2 classes; its score column has {classNames.Count}.", nameof(scored));
        var label = scored.Schema.GetColumnOrNull(labelColumnName)
            ?? throw SchemaErrors.NotFound("label", labelColumnName, "Pass the name of the column of true labels.");
        const string textLabelColumn = "Ocr.MLNet.LabelText";
        if (label.Type is KeyDataViewType && label.Annotations.Schema.GetColumnOrNull("KeyValues") is not null)
        {
            scored = mlContext.Transforms.Conversion.MapKeyToValue(textLabelColumn, labelColumnName).Fit(scored).Transform(scored);
            label = scored.Schema[textLabelColumn];
        }
        else if (label.Type is not TextDataViewType)
        {
            throw SchemaErrors.Mismatch("label", labelColumnName, "String or Key with key values", label.Type.ToString() ?? "unknown",
                "Pass text labels, as the loaders give them, or keys from MapValueToKey.");
        }

        // Rows of unknown classes map to the missing key; count them on the label column alone (no scoring).
        var known = new HashSet<string>(classNames, StringComparer.Ordinal);
        int unknown = 0, total = 0;
        using (var cursor = scored.GetRowCursor([label]))
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(label);
            ReadOnlyMemory<char> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                total++;
                if (!known.Contains(value.ToString()))
                    unknown++;
            }
        }

        if (total == 0)
            throw new InvalidDataException("The scored data has no rows: there is nothing to evaluate. Score data that has images.");
        if (total == unknown)
            throw new InvalidDataException($"None of the {unknown} labels is a class of the model ({string.Join(" ", classNames)}). Evaluate on data with the model's classes.");

        // Keys in Score order, so the evaluator's class indices are the score slots.
        const string keyColumn = "Ocr.MLNet.LabelKey";
        var keyData = mlContext.Data.LoadFromEnumerable(classNames.Select(name => new KeyValue { Value = name }));
        var keyed = mlContext.Transforms.Conversion.MapValueToKey(keyColumn, label.Name, keyData: keyData).Fit(scored).Transform(scored);
        var filtered = mlContext.Data.FilterRowsByMissingValues(keyed, keyColumn);
        int k = Math.Min(topK, classNames.Count);
        // The evaluator takes each prediction from the highest score; it only asks that a predicted-label column
        // exists. Naming the label key there keeps the scored data's own PredictedLabel (text, or absent) out of it.
        var metrics = mlContext.MulticlassClassification.Evaluate(filtered, keyColumn, scoreColumnName, predictedLabelColumnName: keyColumn, topKPredictionCount: k);
        var counts = metrics.ConfusionMatrix.Counts;
        var matrix = new int[classNames.Count][];
        for (int r = 0; r < classNames.Count; r++)
        {
            matrix[r] = new int[classNames.Count];
            for (int c = 0; c < classNames.Count; c++)
                matrix[r][c] = r < counts.Count && c < counts[r].Count ? (int)Math.Round(counts[r][c]) : 0;
        }

        return new ClassificationReport(classNames.ToArray(), matrix, unknown, metrics.LogLoss, k, metrics.TopKAccuracy);
    }

    private sealed class KeyValue
    {
        public string Value { get; set; } = "";
    }
}
