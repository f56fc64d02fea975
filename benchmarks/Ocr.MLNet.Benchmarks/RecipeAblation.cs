using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// The recipe ablation: the default trainer, the default without each of its parts, and the library's old defaults, each
/// trained on EMNIST bymerge-dev less a balanced held-out split (100 per class, seed 1) and scored on that split through
/// the exported ONNX model. One process, variants in turn, same budget (epochs × images per class per epoch) for all.
/// </summary>
internal static class RecipeAblation
{
    private static readonly Dictionary<string, Action<CharacterCnnTrainer.Options>> Variants = new(StringComparer.Ordinal)
    {
        ["default"] = _ => { },
        ["old-defaults"] = o =>
        {
            // The trainer's defaults before this recipe: Adam 1e-3 constant, plain shuffling, no augmentation, smoothing or averaging, float32.
            o.LearningRateSchedule = LearningRateSchedule.Constant;
            o.LearningRateWarmupEpochs = 0;
            o.ClassBalancedSampling = false;
            o.Augmentation = null;
            o.LabelSmoothing = 0;
            o.UseExponentialMovingAverage = false;
            o.Precision = TrainingPrecision.Float32;
            o.ChannelsLast = false;
        },
        ["no-balanced-sampling"] = o => o.ClassBalancedSampling = false,
        ["no-augmentation"] = o => o.Augmentation = null,
        ["constant-rate"] = o => { o.LearningRateSchedule = LearningRateSchedule.Constant; o.LearningRateWarmupEpochs = 0; },
        ["no-label-smoothing"] = o => o.LabelSmoothing = 0,
        ["no-ema"] = o => o.UseExponentialMovingAverage = false,
        ["adamw"] = o => { o.Optimizer = OptimizerKind.AdamW; o.WeightDecay = 0.05; },
        ["rate-2e-3"] = o => o.LearningRate = 2e-3,
        ["rate-3e-3"] = o => o.LearningRate = 3e-3,
        ["rate-2e-3-mild-no-smoothing"] = o => { o.LearningRate = 2e-3; o.Augmentation = MildAugmentation; o.LabelSmoothing = 0; },
        ["rate-3e-3-mild-no-smoothing"] = o => { o.LearningRate = 3e-3; o.Augmentation = MildAugmentation; o.LabelSmoothing = 0; },
        ["elastic"] = o => o.Augmentation = new ImageAugmentationOptions { ElasticAlpha = 20 },
        ["mild-augmentation"] = o => o.Augmentation = MildAugmentation,
        ["float32"] = o => o.Precision = TrainingPrecision.Float32,
    };

    private static ImageAugmentationOptions MildAugmentation => new() { RotationDegrees = 5, ShiftFraction = 0.05, ZoomRange = 0.05, ShearDegrees = 5 };

    public static int Run(string[] args)
    {
        string data = Path.Combine(Harness.DataDirectory(args), "emnist-bymerge-dev");
        int epochs = int.Parse(ArgOr(args, "--epochs", "4"), CultureInfo.InvariantCulture);
        string perClassText = ArgOr(args, "--images-per-class", "1000");
        int? perClass = perClassText == "all" ? null : int.Parse(perClassText, CultureInfo.InvariantCulture);
        var names = ArgOr(args, "--variants", string.Join(",", Variants.Keys)).Split(',', StringSplitOptions.RemoveEmptyEntries);
        string? modelOut = args.Contains("--save") ? ArgOr(args, "--save", "") : null;
        TorchBackend.EnsureLoaded();
        Console.WriteLine(Harness.MachineLine());

        var mlContext = new MLContext(seed: 1);
        var loaded = mlContext.Data.LoadFromEmnist(data, "dev");
        var split = mlContext.Data.BalancedTrainTestSplit(loaded, testImagesPerClass: 100, seed: 1);
        if (Harness.StringArg(args, "--export") is { } exportDirectory)
            return Export(split, exportDirectory);

        Console.WriteLine($"{epochs} epochs of {(perClass is null ? "the mean class size" : perClass.ToString())} images per class; "
            + $"evaluation: {split.TestSet.GetRowCount()} held-out images (100 per class)");
        Console.WriteLine();
        var results = new List<string>();
        foreach (string name in names)
        {
            if (!Variants.TryGetValue(name, out var change))
                throw new ArgumentException($"Unknown variant '{name}'. Known: {string.Join(", ", Variants.Keys)}.");
            var options = new CharacterCnnTrainer.Options
            {
                Epochs = epochs,
                ImagesPerClassPerEpoch = perClass,
                ValidationData = split.TestSet,
            };
            change(options);
            var clock = Stopwatch.StartNew();
            using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(split.TrainSet);
            double minutes = clock.Elapsed.TotalMinutes;
            var report = ClassificationReport.Evaluate(mlContext, model.Transform(split.TestSet));
            foreach (var epoch in model.History.Epochs)
                Console.WriteLine($"  {name}: {epoch}");
            string line = string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {report.Accuracy * 100:F2} | {model.History.Epochs[^1].TrainingAccuracy * 100:F2} | {minutes:F1} | {model.History.Epochs.Average(e => e.TrainingImagesPerSecond):F0} | {Harness.Load()} |");
            Console.WriteLine(line);
            results.Add(line);
            if (modelOut is { Length: > 0 })
                mlContext.Model.SaveCharacterModel(model, split.TrainSet.Schema, modelOut.Replace("{name}", name, StringComparison.Ordinal));
            if (name == "default")
                PrintPerClass(report);
        }

        Console.WriteLine();
        Console.WriteLine("| variant | held-out accuracy % | last epoch's training accuracy % | minutes (Fit) | training images/s | load (1, 5, 15 min) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|");
        results.ForEach(Console.WriteLine);
        return 0;
    }

    /// <summary>
    /// Writes the split as the trainer sees it (prepared 32×32 pixels) for the PyTorch recipe search on a GPU
    /// (benchmarks/gpu/recipe_search.py): <c>{train,test}-pixels.u8</c> (N×1024 bytes, pixel × 255 rounded),
    /// <c>{train,test}-labels.u8</c> (class index per row) and <c>classes.txt</c>.
    /// </summary>
    private static int Export(BalancedTrainTestData split, string directory)
    {
        Directory.CreateDirectory(directory);
        var train = LabeledImagesReader.Read(split.TrainSet, CharacterFormat.LabelColumnName, CharacterFormat.PixelsColumnName,
            CharacterFormat.PixelsColumnName, null, "training", CancellationToken.None);
        var test = LabeledImagesReader.Read(split.TestSet, CharacterFormat.LabelColumnName, CharacterFormat.PixelsColumnName,
            CharacterFormat.PixelsColumnName, train.ClassNames, "validation", CancellationToken.None);
        foreach (var (name, images) in new[] { ("train", train), ("test", test) })
        {
            var bytes = images.Pixels.Select(p => (byte)Math.Clamp(Math.Round(p * 255), 0, 255)).ToArray();
            File.WriteAllBytes(Path.Combine(directory, $"{name}-pixels.u8"), bytes);
            File.WriteAllBytes(Path.Combine(directory, $"{name}-labels.u8"), images.Labels.Select(l => (byte)l).ToArray());
            Console.WriteLine($"{name}: {images.Count} images, pixels {images.Pixels.Min()}..{images.Pixels.Max()}");
        }

        File.WriteAllLines(Path.Combine(directory, "classes.txt"), train.ClassNames);
        return 0;
    }

    private static void PrintPerClass(ClassificationReport report)
    {
        Console.WriteLine("  per class (recall %): " + string.Join(" ", report.PerClass.OrderBy(c => c.ClassName, StringComparer.Ordinal)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.ClassName}:{c.Recall * 100:F0}"))));
    }

    private static string ArgOr(string[] args, string name, string fallback) => Harness.StringArg(args, name) ?? fallback;
}
