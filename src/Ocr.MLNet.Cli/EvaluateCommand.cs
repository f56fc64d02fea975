using System.CommandLine;
using System.Globalization;
using Microsoft.ML.Data;
using Spectre.Console;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Training;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Cli;

/// <summary>
/// <c>ocr-mlnet evaluate</c>: accuracy, macro precision / recall / F1 and per-class metrics of a model zip on
/// EMNIST, SD19 or image-folder data; with <c>--report DIR</c> also a Markdown/JSON report with pictures.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = CliModels.ModelOption();
        var data = new Option<DirectoryInfo>("--data") { Description = "EMNIST IDX files, a NIST SD19 by_class tree, or an image folder tree.", Required = true };
        var split = new Option<string?>("--split") { Description = "Split part of the file names; found automatically when the directory holds one." };
        var maxRows = new Option<int?>("--max-rows") { Description = "Use only the first N images." };
        var merge = new Option<bool>("--merge") { Description = "Merge EMNIST's look-alike classes in the data first (to score a 47-class model on 62-class data)." };
        var report = new Option<DirectoryInfo?>("--report")
        {
            Description = "Also write report.md, metrics.json, confusion.png, misclassified.png and training-curves.png into this folder (created when missing).",
        };
        var history = new Option<FileInfo?>("--history")
        {
            Description = $"Training history for the report's curves (default: the model's name with {TrainingHistory.FileExtension}, as 'train' writes it).",
        };
        var byPath = new Option<bool>("--by-path")
        {
            Description = "Give the model the image files' paths, as an app does (decoding and preprocessing inside the saved model), instead of the loader's pixels. NIST SD19 and image folders only.",
        };
        var holdout = new Option<int>("--holdout-per-class")
        {
            Description = "Score only the balanced held-out split that 'train --holdout-per-class N --seed S' validated on (never trained on): N images per class.",
        };
        var seed = new Option<int>("--seed") { Description = "The seed of that split (train's --seed).", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultSeed };
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: average the scores of each image and four copies shifted by one pixel (5× the network's cost)." };
        var skipBadFiles = DataSources.SkipBadFilesOption();
        var command = new Command("evaluate", "Print accuracy, macro precision/recall/F1 and per-class metrics of a model on EMNIST, NIST SD19 or image-folder data; --report writes a report with pictures.")
        {
            model, data, split, maxRows, merge, byPath, report, history, skipBadFiles, holdout, seed, tta,
        };
        command.SetAction(result => CliErrors.Guard(() =>
            Evaluate(result.GetValue(model), result.GetValue(data)!, result.GetValue(split),
                new DataPreparation(result.GetValue(maxRows), result.GetValue(merge), null) { HoldoutPerClass = result.GetValue(holdout), Seed = result.GetValue(seed) },
                result.GetValue(byPath), result.GetValue(report), result.GetValue(history), result.GetValue(skipBadFiles), result.GetValue(tta))));
        return command;
    }

    private static int Evaluate(FileInfo? modelFile, DirectoryInfo dataDirectory, string? split, DataPreparation preparation, bool byPath,
        DirectoryInfo? reportDirectory, FileInfo? historyFile, bool skipBadFiles, bool testTimeAugmentation)
    {
        if (historyFile is not null && reportDirectory is null)
            throw new ArgumentException("--history is only read for --report; add --report DIR.");
        preparation.Validate();
        return CliContext.Run(mlContext => Evaluate(mlContext, modelFile, dataDirectory, split, preparation, byPath, reportDirectory, historyFile, skipBadFiles, testTimeAugmentation));
    }

    private static int Evaluate(MLContext mlContext, FileInfo? modelFile, DirectoryInfo dataDirectory, string? split, DataPreparation preparation, bool byPath,
        DirectoryInfo? reportDirectory, FileInfo? historyFile, bool skipBadFiles, bool testTimeAugmentation)
    {
        string modelPath = CliModels.Describe(modelFile);
        // Batched ONNX Runtime calls: ML.NET's Transform runs the network once per image.
        var options = new CharacterRecognizerOptions { TestTimeAugmentation = testTimeAugmentation };
        using var recognizer = CliModels.LoadRecognizer(mlContext, modelFile, options);
        var (loadedData, description) = DataSources.Load(mlContext, dataDirectory.FullName, split, preparation.MaxRows, skipBadFiles);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        IDataView scored;
        if (byPath)
        {
            scored = ScoreByPath(mlContext, recognizer, loadedData, dataDirectory.FullName, preparation);
            description += ", by file path through the saved model";
        }
        else
        {
            var prepared = mlContext.Data.CreateEnumerable<LabelledPixels>(preparation.Apply(mlContext, loadedData, seed: 0), reuseRowObject: false);
            scored = ScoredView(mlContext, recognizer, Chunks(prepared, chunk =>
                (recognizer.ScorePixels(chunk.SelectMany(row => row.Pixels).ToArray()), chunk.Select(row => row.Pixels).ToArray())));
        }

        if (preparation.HoldoutPerClass > 0)
            description += string.Create(CultureInfo.InvariantCulture, $", the balanced held-out split ({preparation.HoldoutPerClass} per class, seed {preparation.Seed})");
        if (testTimeAugmentation)
            description += ", with test-time augmentation (5 shifts)";
        AnsiConsole.MarkupLineInterpolated($"Evaluating {modelPath} on [bold]{description}[/] in {dataDirectory.FullName}");

        var metrics = ClassificationReport.Evaluate(mlContext, scored);

        var table = new Table().AddColumns("class", "images", "correct", "accuracy", "precision", "F1");
        foreach (var m in metrics.PerClass.Where(m => m.Support > 0).OrderBy(m => m.ClassName, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(m.ClassName), m.Support.ToString(CultureInfo.InvariantCulture), m.Correct.ToString(CultureInfo.InvariantCulture),
                m.Recall.ToString("P2", CultureInfo.InvariantCulture), m.Precision.ToString("P2", CultureInfo.InvariantCulture), m.F1.ToString("F4", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"accuracy {metrics.Accuracy:P2} ({metrics.Correct}/{metrics.Count}), macro accuracy {metrics.MacroRecall:P2}, {metrics.ClassesPresent} classes"));
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"macro precision {metrics.MacroPrecision:F4}, macro recall {metrics.MacroRecall:F4}, macro F1 {metrics.MacroF1:F4}, top-{metrics.TopK} accuracy {metrics.TopKAccuracy:P2}, log loss {metrics.LogLoss:F4}"));
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scored {metrics.Count + metrics.UnknownLabelCount} images in {watch.Elapsed.TotalSeconds:F1} s"));
        if (metrics.UnknownLabelCount > 0)
            CliConsole.WriteWarning($"{metrics.UnknownLabelCount} images have labels the model does not know and were not counted.");

        if (reportDirectory is not null)
            WriteReport(mlContext, scored, modelPath, metrics, reportDirectory, historyFile, $"{description} in {dataDirectory.FullName}");
        return 0;
    }

    /// <summary>The saved model's preprocessing and network on the files behind an SD19 or image-folder view: one row per file.</summary>
    private static IDataView ScoreByPath(MLContext mlContext, CharacterRecognizer recognizer, IDataView loadedData, string directory, DataPreparation preparation)
    {
        IReadOnlyList<(string Label, string ImagePath)> files;
        try
        {
            files = LoadedImages.GetImageFiles(loadedData);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--by-path reads image files, and '{directory}' holds EMNIST IDX files; evaluate EMNIST without --by-path.", e);
        }

        var rows = files.Select(f => new PathRow { Label = f.Label, ImagePath = f.ImagePath }).ToList();
        var data = preparation.Apply(mlContext, mlContext.Data.LoadFromEnumerable(rows), seed: 0);
        return ScoredView(mlContext, recognizer, Chunks(mlContext.Data.CreateEnumerable<PathRow>(data, reuseRowObject: false), chunk =>
        {
            var pixels = new float[chunk.Length * CharacterFormat.PixelCount];
            float[] scores = recognizer.Score(chunk.Select(row => row.ImagePath).ToArray(), pixels);
            return (scores, pixels.Chunk(CharacterFormat.PixelCount).ToArray());
        }));
    }

    /// <summary>
    /// Rows scored per chunk, lazily, as Transform scores them: a pass that reads only the labels scores nothing, and every
    /// pass that reads the scores (or the pixels) scores each chunk once, on its first row.
    /// </summary>
    private static IEnumerable<ScoredRow> Chunks<TRow>(IEnumerable<TRow> rows, Func<TRow[], (float[] Scores, float[][] Pixels)> score)
        where TRow : ILabelled
    {
        foreach (var chunk in rows.Chunk(ScoringChunk))
        {
            var scored = new Lazy<(float[] Scores, float[][] Pixels)>(() => score(chunk));
            for (int i = 0; i < chunk.Length; i++)
                yield return new ScoredRow(chunk[i].Label, scored, i);
        }
    }

    /// <summary>Label, Pixels and Score (with the class names as slot names), as the model's Transform gives them to the report.</summary>
    private static IDataView ScoredView(MLContext mlContext, CharacterRecognizer recognizer, IEnumerable<ScoredRow> rows)
    {
        int classes = recognizer.ClassNames.Count;
        var definition = SchemaDefinition.Create(typeof(ScoredRow));
        definition[nameof(ScoredRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, classes);
        definition[nameof(ScoredRow.Score)].AddAnnotation("SlotNames",
            new VBuffer<ReadOnlyMemory<char>>(classes, recognizer.ClassNames.Select(name => name.AsMemory()).ToArray()),
            new VectorDataViewType(TextDataViewType.Instance, classes));
        return mlContext.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>Images per scoring call: a few of the recognizer's batches, so memory stays small on large test sets.</summary>
    private const int ScoringChunk = 16 * CharacterRecognizerOptions.DefaultBatchSize;

    private interface ILabelled
    {
        string Label { get; }
    }

    private sealed class PathRow : ILabelled
    {
        public string Label { get; set; } = "";

        public string ImagePath { get; set; } = "";
    }

    private sealed class LabelledPixels : ILabelled
    {
        public string Label { get; set; } = "";

        public float[] Pixels { get; set; } = [];
    }

    private sealed class ScoredRow(string label, Lazy<(float[] Scores, float[][] Pixels)> chunk, int index)
    {
        public string Label => label;

        [VectorType(CharacterFormat.PixelCount)]
        public float[] Pixels => chunk.Value.Pixels[index];

        public float[] Score
        {
            get
            {
                var scores = chunk.Value.Scores;
                int classes = scores.Length / chunk.Value.Pixels.Length;
                return scores[(index * classes)..((index + 1) * classes)];
            }
        }
    }

    private static void WriteReport(MLContext mlContext, IDataView scored, string modelPath, ClassificationReport metrics,
        DirectoryInfo reportDirectory, FileInfo? historyFile, string dataDescription)
    {
        string historyPath = historyFile?.FullName ?? TrainingHistory.PathBeside(modelPath);
        TrainingHistory? history = null;
        string? historyNote = null;
        if (File.Exists(historyPath))
        {
            history = TrainingHistory.Load(historyPath);
        }
        else
        {
            historyNote = historyFile is null
                ? $"no training history beside the model ({historyPath}); 'ocr-mlnet train' writes one there, or pass --history FILE."
                : $"the training history {historyPath} does not exist.";
        }

        var mistakes = EvaluationReport.CollectMisclassified(mlContext, scored, metrics.ClassNames);
        var result = EvaluationReport.Write(reportDirectory.FullName, metrics, mistakes, history, historyNote, modelPath, dataDescription);
        if (result.HistoryNote is not null)
            CliConsole.WriteWarning($"Training curves skipped: {result.HistoryNote}");
        AnsiConsole.MarkupLineInterpolated($"Wrote the report [bold]{Path.Combine(reportDirectory.FullName, EvaluationReport.MarkdownFile)}[/]:");
        foreach (string file in result.Files)
            AnsiConsole.WriteLine("  " + file);
    }
}
