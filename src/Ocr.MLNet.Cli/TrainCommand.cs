using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Spectre.Console;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Serving;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Cli;

/// <summary><c>ocr-mlnet train</c>: trains the CNN on EMNIST, SD19 or image-folder data and saves a model zip that reads image files.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "EMNIST IDX files, a NIST SD19 by_class tree, or an image folder tree (label = folder name).", Required = true };
        var split = new Option<string?>("--split") { Description = "Split part of the file names (e.g. train, test, dev); found automatically when the directory holds one." };
        var model = new Option<FileInfo>("--model") { Description = "Where to write the model zip.", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training data.", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultEpochs };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultBatchSize };
        var learningRate = new Option<double>("--learning-rate") { Description = "Initial learning rate.", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultLearningRate };
        var schedule = new Option<LearningRateSchedule>("--schedule") { Description = "Learning-rate schedule (after the warm-up).", DefaultValueFactory = _ => LearningRateSchedule.CosineAnnealing };
        var optimizer = new Option<OptimizerKind>("--optimizer") { Description = "Adam or Sgd.", DefaultValueFactory = _ => OptimizerKind.Adam };
        var validation = new Option<double>("--validation-fraction") { Description = "Fraction held out for validation.", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultValidationFraction };
        var patience = new Option<int?>("--patience") { Description = "Early stopping: epochs without val_loss improvement before stopping (off when omitted)." };
        var seed = new Option<int>("--seed") { Description = "Seed for weights, split, shuffling and dropout.", DefaultValueFactory = _ => CharacterCnnTrainer.DefaultSeed };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for libtorch (default: one per core)." };
        var replicas = new Option<int?>("--replicas") { Description = "Copies of the network trained side by side on the CPU, one thread each, on shares of every batch (default: one per thread while each share keeps 32 images; 1 puts every thread on one network)." };
        var budget = TimeBudgetOption.Create(CharacterCnnTrainer.DefaultTimeBudget);
        var device = new Option<TrainingDevice>("--device") { Description = "Auto, Cpu or Cuda.", DefaultValueFactory = _ => TrainingDevice.Auto };
        var checkpoints = new Option<DirectoryInfo?>("--checkpoint-dir") { Description = "Write a checkpoint every epoch here, and resume from it when present." };
        var logs = new Option<DirectoryInfo?>("--log-dir") { Description = "Write TensorBoard event files here." };
        var maxRows = new Option<int?>("--max-rows") { Description = "Use only the first N images (quick runs)." };
        var merge = new Option<bool>("--merge") { Description = "Merge EMNIST's look-alike classes (c i j k l m o p s u v w x y z join their upper case: 62 → 47) before training." };
        var balance = new Option<string?>("--balance") { Description = "Balance the classes before training: min, max, or a number of images per class." };
        var augment = new Option<bool>("--augment") { Description = "Online augmentation: a fresh random rotation, shift, zoom and shear of every training batch, every epoch (on by default; --augment false turns it off).", DefaultValueFactory = _ => true };
        var holdout = new Option<int>("--holdout-per-class")
        {
            Description = "Hold out this many images of every class (seeded by --seed) to validate on, never trained on; 'evaluate --holdout-per-class' scores exactly them. 0 validates on a random --validation-fraction instead.",
            DefaultValueFactory = _ => DefaultHoldoutPerClass,
        };
        var precision = new Option<TrainingPrecision>("--precision") { Description = "Auto (bfloat16 mixed precision where the CPU or GPU has it natively), Float32 or BFloat16.", DefaultValueFactory = _ => TrainingPrecision.Auto };
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing of the loss, in [0, 1).", DefaultValueFactory = _ => new CharacterCnnTrainer.Options().LabelSmoothing };
        var warmup = new Option<double>("--warmup-epochs") { Description = "Epochs of linear learning-rate warm-up.", DefaultValueFactory = _ => 1 };
        var balancedSampling = new Option<bool>("--balanced-sampling") { Description = "Draw every epoch equally from each class, afresh (on by default; --balanced-sampling false shuffles all rows).", DefaultValueFactory = _ => true };
        var ema = new Option<bool>("--ema") { Description = "Make an exponential moving average of the weights the model (on by default; --ema false keeps the last weights).", DefaultValueFactory = _ => true };
        var weightDecay = new Option<double>("--weight-decay") { Description = "Weight decay of the optimizer.", DefaultValueFactory = _ => 0 };
        var augmentCopies = new Option<int>("--augment-copies") { Description = "Offline augmentation: add N augmented copies of every image before training.", DefaultValueFactory = _ => 0 };
        var continentalDigits = new Option<bool>("--continental-digits") { Description = "Add a copy of every 1 with a continental up-stroke and of every 7 with a bar, so the model also reads digits written the European way (for digit models: with letter classes, a bare stem then reads as I or l)." };
        var skipBadFiles = DataSources.SkipBadFilesOption();

        var command = new Command("train", "Train the CNN on EMNIST, NIST SD19 or image-folder data and save a model zip that classifies image files of any size and ink polarity (the preprocessing is inside the model).")
        {
            data, split, model, epochs, batch, learningRate, schedule, optimizer, validation, patience, seed, threads, device, checkpoints, logs, maxRows, merge, balance, augment, augmentCopies, skipBadFiles,
            holdout, precision, labelSmoothing, warmup, balancedSampling, ema, weightDecay, continentalDigits, replicas, budget,
        };
        command.SetAction((result, cancellationToken) =>
        {
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var signals = CancelOnSignals(cancellation);
            int holdoutPerClass = result.GetValue(holdout);
            var preparation = new DataPreparation(result.GetValue(maxRows), result.GetValue(merge), result.GetValue(balance), result.GetValue(augmentCopies))
            {
                ContinentalDigits = result.GetValue(continentalDigits),
            };
            bool skip = result.GetValue(skipBadFiles);
            return Task.FromResult(CliErrors.Guard(() =>
            {
                var options = new CharacterCnnTrainer.Options
                {
                    Epochs = result.GetValue(epochs),
                    BatchSize = result.GetValue(batch),
                    LearningRate = result.GetValue(learningRate),
                    LearningRateSchedule = result.GetValue(schedule),
                    Optimizer = result.GetValue(optimizer),
                    ValidationFraction = result.GetValue(validation),
                    EarlyStoppingPatience = result.GetValue(patience),
                    Seed = result.GetValue(seed),
                    NumberOfThreads = result.GetValue(threads),
                    NumberOfReplicas = result.GetValue(replicas),
                    TimeBudget = TimeBudgetOption.Parse(result.GetValue(budget)),
                    Device = result.GetValue(device),
                    CheckpointDirectory = result.GetValue(checkpoints)?.FullName,
                    LogDirectory = result.GetValue(logs)?.FullName,
                    CancellationToken = cancellation.Token,
                    Augmentation = result.GetValue(augment) ? new Preparation.ImageAugmentationOptions() : null,
                    Precision = result.GetValue(precision),
                    LabelSmoothing = result.GetValue(labelSmoothing),
                    LearningRateWarmupEpochs = result.GetValue(warmup),
                    ClassBalancedSampling = result.GetValue(balancedSampling),
                    UseExponentialMovingAverage = result.GetValue(ema),
                    WeightDecay = result.GetValue(weightDecay),
                };
                return Train(result.GetValue(data)!, result.GetValue(split), result.GetValue(model)!, preparation, options, holdoutPerClass, skip);
            }));
        });
        return command;
    }

    /// <summary>The library's option names and the CLI's, for errors that name what the user typed.</summary>
    internal static readonly IReadOnlyDictionary<string, string> OptionNames = new Dictionary<string, string>
    {
        [nameof(CharacterCnnTrainer.Options.Epochs)] = "--epochs",
        [nameof(CharacterCnnTrainer.Options.BatchSize)] = "--batch-size",
        [nameof(CharacterCnnTrainer.Options.LearningRate)] = "--learning-rate",
        [nameof(CharacterCnnTrainer.Options.LearningRateSchedule)] = "--schedule",
        [nameof(CharacterCnnTrainer.Options.Optimizer)] = "--optimizer",
        [nameof(CharacterCnnTrainer.Options.ValidationFraction)] = "--validation-fraction",
        [nameof(CharacterCnnTrainer.Options.EarlyStoppingPatience)] = "--patience",
        [nameof(CharacterCnnTrainer.Options.Seed)] = "--seed",
        [nameof(CharacterCnnTrainer.Options.NumberOfThreads)] = "--threads",
        [nameof(CharacterCnnTrainer.Options.NumberOfReplicas)] = "--replicas",
        [nameof(CharacterCnnTrainer.Options.TimeBudget)] = "--time-budget",
        [nameof(CharacterCnnTrainer.Options.Device)] = "--device",
        [nameof(CharacterCnnTrainer.Options.Precision)] = "--precision",
        [nameof(CharacterCnnTrainer.Options.LabelSmoothing)] = "--label-smoothing",
        [nameof(CharacterCnnTrainer.Options.LearningRateWarmupEpochs)] = "--warmup-epochs",
        [nameof(CharacterCnnTrainer.Options.WeightDecay)] = "--weight-decay",
    };

    /// <summary>Images per class that <c>train</c> holds out for validation unless told otherwise (and <c>evaluate --holdout-per-class</c> selects).</summary>
    public const int DefaultHoldoutPerClass = 100;

    /// <summary>
    /// Turns the first Ctrl-C (SIGINT) or SIGTERM into a cancellation of the trainer, which finishes its batch, keeps the
    /// last epoch's checkpoint and throws, so the "Cancelled." line and exit code 130 come from <see cref="CliErrors"/>.
    /// A second Ctrl-C ends the process at once, as usual.
    /// </summary>
    internal static IDisposable CancelOnSignals(CancellationTokenSource cancellation)
    {
        void Cancel() => cancellation.Cancel();
        ConsoleCancelEventHandler onCancelKey = (_, e) =>
        {
            if (cancellation.IsCancellationRequested)
                return; // the second Ctrl-C: let the runtime end the process
            e.Cancel = true;
            Cancel();
        };
        Console.CancelKeyPress += onCancelKey;
        var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true; // keep the process alive until training has stopped
            Cancel();
        });
        return new Unregister(() =>
        {
            Console.CancelKeyPress -= onCancelKey;
            sigterm.Dispose();
        });
    }

    private sealed class Unregister(Action unregister) : IDisposable
    {
        public void Dispose() => unregister();
    }


    private static int Train(DirectoryInfo dataDirectory, string? split, FileInfo modelFile, DataPreparation preparation, CharacterCnnTrainer.Options options,
        int holdoutPerClass, bool skipBadFiles)
    {
        // Every option is checked before the data is loaded, with the names the user typed.
        if (holdoutPerClass < 0)
            throw new ArgumentException($"--holdout-per-class {holdoutPerClass}: use 0 (validate on --validation-fraction) or a positive number of images per class.");
        ValidateTrainerOptions(options, holdoutPerClass);
        preparation.Validate();
        return CliContext.Run(mlContext => Train(mlContext, dataDirectory, split, modelFile, preparation, options, holdoutPerClass, skipBadFiles), options.Seed);
    }

    /// <summary>
    /// The trainer's checks with the CLI's names. The held-out split (<c>--holdout-per-class</c>) becomes the trainer's
    /// ValidationData only once the data is loaded, so the library cannot see it yet; the CLI checks the options that need
    /// validation data itself, in its own words.
    /// </summary>
    private static void ValidateTrainerOptions(CharacterCnnTrainer.Options options, int holdoutPerClass)
    {
        // An empty view stands in for the validation data while the library checks the other options.
        options.ValidationData = new MLContext().Data.LoadFromEnumerable(Array.Empty<ValidationStandIn>());
        try
        {
            CliOptionErrors.Validate(options.Validate, OptionNames);
        }
        finally
        {
            options.ValidationData = null;
        }

        if (holdoutPerClass > 0 || options.ValidationFraction > 0)
            return;
        string noValidation = "but --validation-fraction 0 and --holdout-per-class 0 hold out no validation data. Give either a positive value";
        if (options.EarlyStoppingPatience is { } patience)
            throw new ArgumentException($"--patience {patience}: early stopping watches the validation loss, {noValidation}, or leave out --patience.");
        if (options.LearningRateSchedule == LearningRateSchedule.ReduceOnPlateau)
            throw new ArgumentException($"--schedule {options.LearningRateSchedule}: it watches the validation loss, {noValidation}, or choose another --schedule.");
    }

    private sealed class ValidationStandIn
    {
        public string Label { get; set; } = "";
    }

    private static int Train(MLContext mlContext, DirectoryInfo dataDirectory, string? split, FileInfo modelFile, DataPreparation preparation,
        CharacterCnnTrainer.Options options, int holdoutPerClass, bool skipBadFiles)
    {
        // The trainer's own messages (data sizes, resuming, early stopping); epoch lines come from Progress below.
        mlContext.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Source.StartsWith("CharacterCnn", StringComparison.Ordinal)
                && !e.RawMessage.StartsWith("Epoch ", StringComparison.Ordinal))
            {
                AnsiConsole.WriteLine(e.RawMessage);
            }
        };
        var (loaded, description) = DataSources.Load(mlContext, dataDirectory.FullName, split, preparation.MaxRows, skipBadFiles);
        AnsiConsole.MarkupLineInterpolated($"Training on [bold]{description}[/] in {dataDirectory.FullName}");
        var data = preparation.MergeClasses(mlContext, loaded);
        if (holdoutPerClass > 0)
        {
            // Split before balancing or copying, so no held-out image reaches training as a copy.
            var holdout = mlContext.Data.BalancedTrainTestSplit(data, holdoutPerClass, options.Seed);
            options.ValidationData = holdout.TestSet;
            data = holdout.TrainSet;
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Held out {holdout.TestSet.GetRowCount()} images ({holdoutPerClass} per class, seed {options.Seed}) to validate on; 'evaluate --holdout-per-class {holdoutPerClass} --seed {options.Seed}' scores them."));
        }

        data = preparation.Resample(mlContext, data, options.Seed);

        CharacterCnnModel? trained = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("preparing", maxValue: 1);
                options.Progress = new ConsoleProgress(update =>
                {
                    switch (update.Phase)
                    {
                        case TrainingPhase.Training:
                            task.Description = string.Create(CultureInfo.InvariantCulture,
                                $"epoch {update.Epoch}/{update.Epochs} loss {update.RunningLoss:F4} acc {update.RunningAccuracy:F4}");
                            task.MaxValue = update.Batches;
                            task.Value = update.Batch;
                            break;
                        case TrainingPhase.Validating:
                            task.Description = $"epoch {update.Epoch}/{update.Epochs} validating";
                            break;
                        case TrainingPhase.EpochCompleted when update.Metrics is { } m:
                            AnsiConsole.WriteLine(m.ToString());
                            break;
                        case TrainingPhase.Exporting:
                            task.Description = "exporting to ONNX";
                            task.Value = task.MaxValue;
                            break;
                    }
                });
                var trainer = mlContext.MulticlassClassification.Trainers.CharacterCnn(options);
                trained = trainer.Fit(data);
            });

        // Trained on the loaders' pixels; the saved zip reads image files. Atomic: a kill or a full disk while saving leaves
        // the previous model (and history) as they were.
        var history = trained!.History;
        int classCount = trained.ClassNames.Count;
        CliModels.SaveForImageFiles(mlContext, trained, modelFile.FullName);
        // The zip holds no history; keep it beside the model for 'evaluate --report'.
        string historyFile = TrainingHistory.PathBeside(modelFile.FullName);
        AtomicFile.Write(historyFile, history.Save);
        var last = history.Epochs[^1];
        AnsiConsole.MarkupLineInterpolated($"Saved [bold]{modelFile.FullName}[/] ({classCount} classes, {history.Epochs.Count} epochs, last val_accuracy {last.ValidationAccuracy?.ToString("F4", CultureInfo.InvariantCulture) ?? "n/a"}) and its training history {historyFile}.");
        return 0;
    }

    internal sealed class ConsoleProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
