using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Fields;
using Ocr.MLNet.IO;
using Ocr.MLNet.Text;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Cli;

/// <summary>
/// <c>ocr-mlnet train-field-characters</c>: fine-tunes the character model the segmentation reader uses on the characters
/// cut from a folder of labelled fields (<see cref="FieldCharacters"/>), and saves a character model zip that
/// <c>read</c> and <c>evaluate-fields</c> take with <c>--model</c>.
/// </summary>
internal static class TrainFieldCharactersCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "A folder with labels.tsv (columns image, text) and the images it names.", Required = true };
        var kind = new Option<string>("--kind") { Description = "What the fields hold: digits, upper, lower, letters or alnum.", DefaultValueFactory = _ => "upper" };
        var model = new Option<FileInfo>("--model") { Description = "Where to write the character model zip.", Required = true };
        var from = new Option<string>("--from") { Description = "The character model to start from: 'pretrained' (the one in the package) or a character model zip.", DefaultValueFactory = _ => "pretrained" };
        var first = new Option<int?>("--first") { Description = "Use only the first N rows of labels.tsv (keep the rest for evaluation: evaluate-fields --skip N)." };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the fields' characters.", DefaultValueFactory = _ => FieldCharacters.DefaultFineTuningEpochs };
        var learningRate = new Option<double>("--learning-rate") { Description = "Peak learning rate (Adam, warm-up then cosine).", DefaultValueFactory = _ => FieldCharacters.DefaultFineTuningLearningRate };
        var validation = new Option<double>("--validation-fraction") { Description = "Share of the fields held out whole to validate on (seeded); 0 for none.", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultValidationFraction };
        var seed = new Option<int>("--seed") { Description = "Seed for the split, order, augmentation and dropout.", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultSeed };
        var command = new Command("train-field-characters", "Fine-tune the character model the segmentation reader uses on labelled fields (image and text, no box per character): each field is cut as the reader cuts it, and where it finds as many characters as the text has, each piece learns its character. Saves a character model zip that read and evaluate-fields take with --model.")
        {
            data, kind, model, from, first, epochs, learningRate, validation, seed,
        };
        command.SetAction((result, cancellationToken) =>
        {
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var signals = TrainCommand.CancelOnSignals(cancellation);
            return Task.FromResult(CliErrors.Guard(() =>
            {
                var fieldKind = FieldCommands.ParseKind(result.GetValue(kind) ?? "")!.Value;
                string baseName = result.GetValue(from)!;
                Func<Stream> baseModel = baseName == "pretrained" ? PretrainedCharacterModel.OpenRead
                    : File.Exists(baseName) ? () => BoundedFile.OpenRead(baseName)
                    : throw new FileNotFoundException($"--from {baseName}: no such file. Give 'pretrained' or a character model zip written by ocr-mlnet train or train-field-characters.", baseName);
                var options = FieldCharacters.FineTuningOptions(baseModel);
                options.Epochs = result.GetValue(epochs);
                options.LearningRate = result.GetValue(learningRate);
                options.ValidationFraction = result.GetValue(validation);
                options.Seed = result.GetValue(seed);
                options.CancellationToken = cancellation.Token;
                CliOptionErrors.Validate(options.Validate, OptionNames);
                if (result.GetValue(first) is < 1)
                    throw new ArgumentException($"--first {result.GetValue(first)}: give a positive number of rows.");
                return Train(result.GetValue(data)!, result.GetValue(first), fieldKind, baseName, result.GetValue(model)!, options);
            }));
        });
        return command;
    }

    private static readonly IReadOnlyDictionary<string, string> OptionNames = new Dictionary<string, string>
    {
        [nameof(CharacterCnnTrainer.Options.Epochs)] = "--epochs",
        [nameof(CharacterCnnTrainer.Options.LearningRate)] = "--learning-rate",
        [nameof(CharacterCnnTrainer.Options.ValidationFraction)] = "--validation-fraction",
    };

    private static int Train(DirectoryInfo data, int? first, FieldKind kind, string baseName, FileInfo modelFile, CharacterCnnTrainer.Options options) =>
        CliContext.Run(mlContext =>
        {
            mlContext.Log += (_, e) =>
            {
                if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Source.StartsWith("CharacterCnn", StringComparison.Ordinal))
                    AnsiConsole.WriteLine(e.RawMessage);
            };
            var fields = FieldEvaluation.LoadLabels(data.FullName).Take(first ?? int.MaxValue).ToList();
            FieldCharacters characters;
            using (var reader = baseName == "pretrained"
                ? HandwrittenFieldReader.LoadPretrained(new FieldReaderOptions { Method = FieldReadingMethod.Segmentation })
                : HandwrittenFieldReader.Load(baseName, new FieldReaderOptions { Method = FieldReadingMethod.Segmentation }))
            {
                characters = FieldCharacters.Cut(reader, fields, kind);
            }

            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Cut {characters.Count:N0} characters from {characters.FieldsUsed} of {fields.Count} fields of {data.FullName}; {characters.FieldsSkipped.Count} skipped (the reader cut another number of characters than the text has)."));
            if (characters.Count < 2 || (options.ValidationFraction > 0 && characters.FieldsUsed < 2))
                throw new ArgumentException($"The fields of {data.FullName} gave {characters.Count} character(s) from {characters.FieldsUsed} field(s) to train and validate on; give more labelled fields of the kind {kind}.");
            options.Progress = new TrainCommand.ConsoleProgress(update =>
            {
                if (update.Phase == TrainingPhase.EpochCompleted && update.Metrics is { } m)
                    AnsiConsole.WriteLine(m.ToString());
            });
            // Whole fields are held out, so the validation accuracy is that of writing the model did not train on.
            var training = characters;
            if (options.ValidationFraction > 0)
            {
                (training, var validation) = characters.SplitByField(options.ValidationFraction, options.Seed);
                options.ValidationData = validation.ToDataView(mlContext);
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Validating on {validation.Count:N0} characters of {validation.FieldsUsed} fields held out whole (seed {options.Seed})."));
            }

            var trained = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(training.ToDataView(mlContext));
            // Saving owns the model from here (the chain it is appended to disposes it).
            var history = trained.History;
            CliModels.SaveForImageFiles(mlContext, trained, modelFile.FullName);
            AtomicFile.Write(TrainingHistory.PathBeside(modelFile.FullName), history.Save);
            var last = history.Epochs[^1];
            AnsiConsole.MarkupLineInterpolated($"Saved [bold]{modelFile.FullName}[/] ({history.Epochs.Count} epochs, last val_accuracy {last.ValidationAccuracy?.ToString("F4", CultureInfo.InvariantCulture) ?? "n/a"}).");
            return 0;
        }, options.Seed);
}
