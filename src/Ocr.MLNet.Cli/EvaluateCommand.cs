using System.CommandLine;
using System.Globalization;
using Microsoft.ML.Data;
using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary><c>ocr-mlnet evaluate</c>: accuracy and per-class accuracy of a model zip on EMNIST, SD19 or image-folder data.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The model zip.", Required = true };
        var data = new Option<DirectoryInfo>("--data") { Description = "EMNIST IDX files, a NIST SD19 by_class tree, or an image folder tree.", Required = true };
        var split = new Option<string?>("--split") { Description = "Split part of the file names; found automatically when the directory holds one." };
        var maxRows = new Option<int?>("--max-rows") { Description = "Use only the first N images." };
        var merge = new Option<bool>("--merge") { Description = "Merge EMNIST's look-alike classes in the data first (to score a 47-class model on 62-class data)." };
        var command = new Command("evaluate", "Print accuracy and per-class accuracy of a model on EMNIST, NIST SD19 or image-folder data.") { model, data, split, maxRows, merge };
        command.SetAction(result => CliErrors.Guard(() =>
            Evaluate(result.GetValue(model)!, result.GetValue(data)!, result.GetValue(split), new DataPreparation(result.GetValue(maxRows), result.GetValue(merge), null))));
        return command;
    }

    private static int Evaluate(FileInfo modelFile, DirectoryInfo dataDirectory, string? split, DataPreparation preparation)
    {
        var mlContext = new MLContext();
        var loaded = CharacterModelFile.Load(mlContext, modelFile.FullName);
        var (loadedData, description) = DataSources.Load(mlContext, dataDirectory.FullName, split, preparation.MaxRows);
        AnsiConsole.MarkupLineInterpolated($"Evaluating on [bold]{description}[/] in {dataDirectory.FullName}");
        var data = preparation.Apply(mlContext, loadedData, seed: 0);
        var scored = loaded.PixelScorer.Transform(data);

        var totals = new Dictionary<string, (int Correct, int Count)>(StringComparer.Ordinal);
        int correct = 0, count = 0, unknown = 0;
        foreach (var row in mlContext.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: true))
        {
            if (!loaded.ClassNames.Contains(row.Label))
            {
                unknown++;
                continue;
            }

            bool hit = row.PredictedLabel == row.Label;
            totals.TryGetValue(row.Label, out var t);
            totals[row.Label] = (t.Correct + (hit ? 1 : 0), t.Count + 1);
            correct += hit ? 1 : 0;
            count++;
        }

        if (count == 0)
            throw new InvalidDataException($"None of the {unknown} labels in '{dataDirectory.FullName}' is a class of the model ({string.Join(" ", loaded.ClassNames)}). Evaluate on data with the model's classes.");

        var table = new Table().AddColumns("class", "images", "correct", "accuracy");
        foreach (var (label, (hits, n)) in totals.OrderBy(t => t.Key, StringComparer.Ordinal))
            table.AddRow(label, n.ToString(CultureInfo.InvariantCulture), hits.ToString(CultureInfo.InvariantCulture), (hits / (double)n).ToString("P2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        double macro = totals.Values.Average(t => t.Correct / (double)t.Count);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"accuracy {correct / (double)count:P2} ({correct}/{count}), macro accuracy {macro:P2}, {totals.Count} classes"));
        if (unknown > 0)
            AnsiConsole.MarkupLineInterpolated($"[yellow]{unknown} images have labels the model does not know and were not counted.[/]");
        return 0;
    }

    private sealed class ScoredRow
    {
        public string Label { get; set; } = "";

        public string PredictedLabel { get; set; } = "";
    }
}
