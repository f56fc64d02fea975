using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;
using Ocr.MLNet.IO;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Cli;

/// <summary>
/// <c>ocr-mlnet train-fields</c>: trains or fine-tunes the line recognizer on a folder of field images with a
/// <c>labels.tsv</c> (the handwritten-fields format), on synthetic fields, or on both, and saves a model zip.
/// </summary>
internal static class TrainFieldsCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "A folder with labels.tsv (columns image, text) and the images it names. Optional with --synthetic." };
        var kind = new Option<string>("--kind") { Description = "What the fields hold: digits, upper, lower, letters or alnum.", DefaultValueFactory = _ => "alnum" };
        var model = new Option<FileInfo>("--model") { Description = "Where to write the line model zip.", Required = true };
        var from = new Option<string?>("--from") { Description = "Fine-tune: 'pretrained' (the line model in the package) or a line model zip. Default: fresh weights." };
        var epochs = new Option<int?>("--epochs") { Description = $"Passes over the training fields (default {LineRecognizerTrainer.DefaultEpochs}, or {LineRecognizerTrainer.DefaultFineTuningEpochs} with --from)." };
        var synthetic = new Option<int>("--synthetic") { Description = "Synthetic fields of the kind to draw from EMNIST (../shared/data or --emnist) and add to the training fields.", DefaultValueFactory = _ => 0 };
        var emnist = new Option<DirectoryInfo?>("--emnist") { Description = "The EMNIST ByClass folder the synthetic fields draw their characters from (default: ../shared/data/emnist-byclass-test beside the working folder or the repository)." };
        var first = new Option<int?>("--first") { Description = "Use only the first N rows of labels.tsv (keep the rest for evaluation: evaluate-fields --skip N)." };
        var batch = new Option<int>("--batch-size") { Description = "Fields per batch.", DefaultValueFactory = _ => LineRecognizerTrainer.DefaultBatchSize };
        var learningRate = new Option<double?>("--learning-rate") { Description = $"Peak learning rate (Adam, warm-up then cosine; default {LineRecognizerTrainer.DefaultLearningRate}, or {LineRecognizerTrainer.DefaultFineTuningLearningRate} with --from)." };
        var validation = new Option<double>("--validation-fraction") { Description = "Share of the folder's rows held out to validate on (seeded).", DefaultValueFactory = _ => LineRecognizerTrainer.DefaultValidationFraction };
        var seed = new Option<int>("--seed") { Description = "Seed for weights, split, order, augmentation and the synthetic fields.", DefaultValueFactory = _ => 1 };
        var patience = new Option<int?>("--patience") { Description = "Early stopping after N epochs without improvement of --monitor (keeps the best epoch)." };
        var monitor = new Option<string>("--monitor")
        {
            Description = "What --patience watches: val_loss (the validation CTC loss, the default) or val_exact (the share of validation fields read exactly).",
            DefaultValueFactory = _ => "val_loss",
        };
        monitor.AcceptOnlyFromAmong("val_loss", "val_exact");
        var threads = new Option<int?>("--threads") { Description = "CPU threads for libtorch (default: one per core)." };
        var checkpoints = new Option<DirectoryInfo?>("--checkpoint-dir") { Description = "Write a checkpoint every epoch here, and resume from it when present." };
        var logs = new Option<DirectoryInfo?>("--log-dir") { Description = "Write TensorBoard event files here." };
        var budget = TimeBudgetOption.Create();
        var precision = new Option<TrainingPrecision>("--precision") { Description = "Auto (bfloat16 mixed precision where the CPU has it natively), Float32 or BFloat16.", DefaultValueFactory = _ => TrainingPrecision.Auto };
        var language = new Option<string?>("--language") { Description = "Letter frequencies and pairs the model decodes with: english (default), french or none." };
        var freezeNorms = new Option<bool?>("--freeze-batch-norm") { Description = "Keep the BatchNorm statistics while training (true) or re-estimate them on these fields (false). Default: true with --from, false otherwise." };
        var input = new Option<LineTrainingInput>("--input") { Description = "What the network learns on: Both (the default: every other field as the line of writing the field reader finds in it and hands the model, the rest as they are), FoundLines or Fields (the images as they are).", DefaultValueFactory = _ => LineTrainingInput.Both };

        var command = new Command("train-fields", "Train or fine-tune the line recognizer (CTC) on labelled field images and/or synthetic fields, and save a model zip that read and evaluate-fields take with --model.")
        {
            data, kind, model, from, epochs, synthetic, emnist, first, batch, learningRate, validation, seed, patience, monitor, threads, checkpoints, logs, budget, precision, language, input, freezeNorms,
        };
        command.SetAction((result, cancellationToken) =>
        {
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var signals = TrainCommand.CancelOnSignals(cancellation);
            return Task.FromResult(CliErrors.Guard(() =>
            {
                var fieldKind = FieldCommands.ParseKind(result.GetValue(kind) ?? "")!.Value;
                var options = new LineRecognizerTrainer.Options
                {
                    Kind = fieldKind,
                    Epochs = result.GetValue(epochs) ?? (result.GetValue(from) is null ? LineRecognizerTrainer.DefaultEpochs : LineRecognizerTrainer.DefaultFineTuningEpochs),
                    BatchSize = result.GetValue(batch),
                    LearningRate = result.GetValue(learningRate) ?? (result.GetValue(from) is null ? LineRecognizerTrainer.DefaultLearningRate : LineRecognizerTrainer.DefaultFineTuningLearningRate),
                    ValidationFraction = result.GetValue(validation),
                    Seed = result.GetValue(seed),
                    EarlyStoppingPatience = result.GetValue(patience),
                    EarlyStoppingMonitor = result.GetValue(monitor) == "val_exact" ? TrainingMetric.ValidationAccuracy : TrainingMetric.ValidationLoss,
                    NumberOfThreads = result.GetValue(threads),
                    CheckpointDirectory = result.GetValue(checkpoints)?.FullName,
                    LogDirectory = result.GetValue(logs)?.FullName,
                    CancellationToken = cancellation.Token,
                    SyntheticFields = result.GetValue(synthetic),
                    Precision = result.GetValue(precision),
                    Input = result.GetValue(input),
                    FreezeBatchNormStatistics = result.GetValue(freezeNorms),
                    TimeBudget = TimeBudgetOption.Parse(result.GetValue(budget)),
                    LetterFrequencies = result.GetValue(language) is { } name ? LetterFrequencies.ForLanguage(name) : LetterFrequencies.English,
                };
                if (options.SyntheticFields > 0)
                {
                    options.Synthetic = new SyntheticFieldOptions
                    {
                        Kind = LineRecognizerTrainer.SyntheticKindFor(fieldKind),
                        Seed = options.Seed,
                        EmnistFolder = (result.GetValue(emnist) ?? DefaultEmnistFolder()).FullName,
                    };
                }

                options.BaseModel = result.GetValue(from) switch
                {
                    null => null,
                    "pretrained" => PretrainedLineModel.OpenRead,
                    string path when File.Exists(path) => () => BoundedFile.OpenRead(path),
                    string path => throw new FileNotFoundException($"--from {path}: no such file. Give 'pretrained' or a line model zip written by train-fields.", path),
                };
                CliOptionErrors.Validate(options.Validate, OptionNames);
                return Train(result.GetValue(data), result.GetValue(first), result.GetValue(model)!, options);
            }));
        });
        return command;
    }

    internal static readonly IReadOnlyDictionary<string, string> OptionNames = new Dictionary<string, string>
    {
        [nameof(LineRecognizerTrainer.Options.Epochs)] = "--epochs",
        [nameof(LineRecognizerTrainer.Options.BatchSize)] = "--batch-size",
        [nameof(LineRecognizerTrainer.Options.LearningRate)] = "--learning-rate",
        [nameof(LineRecognizerTrainer.Options.ValidationFraction)] = "--validation-fraction",
        [nameof(LineRecognizerTrainer.Options.EarlyStoppingPatience)] = "--patience",
        [nameof(LineRecognizerTrainer.Options.NumberOfThreads)] = "--threads",
        [nameof(LineRecognizerTrainer.Options.SyntheticFields)] = "--synthetic",
        [nameof(LineRecognizerTrainer.Options.TimeBudget)] = "--time-budget",
    };

    private static DirectoryInfo DefaultEmnistFolder()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var candidate = new DirectoryInfo(Path.Combine(folder.FullName, "..", "shared", "data", "emnist-byclass-test"));
                if (candidate.Exists)
                    return candidate;
            }
        }

        throw new DirectoryNotFoundException("--synthetic draws characters from EMNIST ByClass, which is not at ../shared/data/emnist-byclass-test: give its folder with --emnist.");
    }

    private static int Train(DirectoryInfo? data, int? first, FileInfo modelFile, LineRecognizerTrainer.Options options)
    {
        if (data is null && options.SyntheticFields == 0)
            throw new ArgumentException("Give --data FOLDER (labelled fields), --synthetic N, or both.");
        if (first is < 1)
            throw new ArgumentException($"--first {first}: give a positive number of rows.");
        return CliContext.Run(mlContext =>
        {
            mlContext.Log += (_, e) =>
            {
                if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Source.StartsWith(nameof(LineRecognizerTrainer), StringComparison.Ordinal))
                    AnsiConsole.WriteLine(e.RawMessage);
            };
            var rows = data is null ? [] : FieldEvaluation.LoadLabels(data.FullName).Take(first ?? int.MaxValue)
                .Select(f => new FieldRow { ImagePath = f.ImagePath, Label = f.Text }).ToList();
            if (data is not null)
                AnsiConsole.MarkupLineInterpolated($"Training on [bold]{rows.Count}[/] fields of {data.FullName}{(options.SyntheticFields > 0 ? $" and {options.SyntheticFields:N0} synthetic fields" : "")}.");
            var view = mlContext.Data.LoadFromEnumerable(rows);
            var pipeline = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, nameof(FieldRow.ImagePath));
            var images = pipeline.Fit(view).Transform(view);
            using var trained = mlContext.MulticlassClassification.Trainers.LineRecognizer(options).Fit(images);
            AtomicFile.Write(modelFile.FullName, temporary => mlContext.Model.Save(pipeline.Fit(view).Append(trained.Scorer), view.Schema, temporary));
            AtomicFile.Write(TrainingHistory.PathBeside(modelFile.FullName), trained.History.Save);
            var last = trained.History.Epochs[^1];
            AnsiConsole.MarkupLineInterpolated($"Saved [bold]{modelFile.FullName}[/] ({trained.History.Epochs.Count} epochs, last validation exact {last.ValidationAccuracy?.ToString("P1", CultureInfo.InvariantCulture) ?? "n/a"}).");
            return 0;
        }, options.Seed);
    }

    private sealed class FieldRow
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }
}
