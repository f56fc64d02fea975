using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Training;
using static Ocr.MLNet.Benchmarks.Harness;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>digit-model --model OUT.zip [--continental-digits] [--seed N]</c>: trains a digits-only model with the default
/// recipe on bymerge-dev's digits (100 per class held out), with or without <c>AddContinentalDigits</c>, and saves it
/// to read image files, as <c>ocr-mlnet train</c> does. Score it on the cheques with
/// <c>ocr-mlnet evaluate-fields --kind digits --model OUT.zip</c> and <c>digit-boxes --model OUT.zip</c>.
/// </summary>
internal static class DigitModelHarness
{
    public static int Run(string[] args)
    {
        string model = StringArg(args, "--model") ?? throw new ArgumentException("Pass --model OUT.zip.");
        bool continental = args.Contains("--continental-digits");
        int seed = IntArg(args, "--seed", 1);
        var mlContext = new MLContext(seed);
        var all = mlContext.Data.LoadFromEmnist(Path.Combine(DataDirectory(args), "emnist-bymerge-dev"), "dev");
        var digits = mlContext.Data.FilterByCustomPredicate<LabelRow>(all, row => row.Label is not [>= '0' and <= '9']);
        // Materialised once: the predicate filter re-reads every row on every pass.
        digits = mlContext.Data.LoadFromEnumerable(mlContext.Data.CreateEnumerable<PixelRow>(digits, reuseRowObject: false).ToList());
        var parts = mlContext.Data.BalancedTrainTestSplit(digits, testImagesPerClass: 100, seed);
        var train = continental ? mlContext.Data.AddContinentalDigits(parts.TrainSet) : parts.TrainSet;
        Console.WriteLine($"digit-model: {MachineLine()}; {train.GetRowCount()} training images{(continental ? " (with continental copies)" : "")}, seed {seed}");

        using var trained = mlContext.MulticlassClassification.Trainers.CharacterCnn(
            new CharacterCnnTrainer.Options { Seed = seed, ValidationData = parts.TestSet }).Fit(train);
        var last = trained.History.Epochs[^1];
        Console.WriteLine($"held-out accuracy {F(100 * (last.ValidationAccuracy ?? double.NaN), "F2")} %");

        SaveForImageFiles(mlContext, trained, model);
        Console.WriteLine($"saved {model}");
        return 0;
    }

    private sealed class LabelRow
    {
        public string Label { get; set; } = "";
    }

    private sealed class PixelRow
    {
        public string Label { get; set; } = "";

        [VectorType(1, CharacterFormat.ImageSide, CharacterFormat.ImageSide)]
        public float[] Pixels { get; set; } = [];
    }
}
