using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Serving;
using static Ocr.MLNet.Benchmarks.Harness;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>ensemble --models A.zip,B.zip[,…]</c>: what averaging saved models' probabilities would earn, on the balanced
/// held-out split of bymerge-dev (100 per class, seed 1: the split <c>ocr-mlnet train</c> holds out). Each model alone,
/// then the mean of all; the networks run in ONNX Runtime through <see cref="CharacterRecognizer"/>.
/// </summary>
internal static class EnsembleHarness
{
    public static int Run(string[] args)
    {
        string[] models = (StringArg(args, "--models") ?? throw new ArgumentException("Pass --models A.zip,B.zip (saved Ocr.MLNet models)."))
            .Split(',', StringSplitOptions.RemoveEmptyEntries);
        Console.WriteLine($"ensemble: {MachineLine()}");
        var mlContext = new MLContext(seed: 1);
        var loaded = mlContext.Data.LoadFromEmnist(Path.Combine(DataDirectory(args), "emnist-bymerge-dev"), "dev");
        var heldOut = mlContext.Data.BalancedTrainTestSplit(loaded, testImagesPerClass: 100, seed: 1).TestSet;

        string[] truth = heldOut.GetColumn<string>(CharacterFormat.LabelColumnName).ToArray();
        float[] pixels = heldOut.GetColumn<float[]>(CharacterFormat.PixelsColumnName).SelectMany(p => p).ToArray();

        double[,]? sum = null;
        string[]? classes = null;
        foreach (string path in models)
        {
            using var recognizer = CharacterRecognizer.Load(path);
            float[] scores = recognizer.ScorePixels(pixels);
            int count = recognizer.ClassNames.Count;
            classes ??= [.. recognizer.ClassNames];
            if (!classes.SequenceEqual(recognizer.ClassNames))
                throw new InvalidDataException($"'{path}' has other classes than '{models[0]}'; only models of the same classes average.");
            sum ??= new double[truth.Length, count];
            for (int i = 0; i < truth.Length; i++)
            {
                for (int c = 0; c < count; c++)
                    sum[i, c] += scores[(i * count) + c];
            }

            Console.WriteLine($"| {Path.GetFileName(path)} alone | {F(100 * Accuracy(truth, i => Best(scores.AsSpan(i * count, count)), classes), "F2")} % |");
        }

        int n = classes!.Length;
        Console.WriteLine($"| mean of the {models.Length} models' probabilities | {F(100 * Accuracy(truth, i => Best(Row(sum!, i, n)), classes), "F2")} % |");
        return 0;
    }

    private static double[] Row(double[,] values, int row, int columns) => Enumerable.Range(0, columns).Select(c => values[row, c]).ToArray();

    private static int Best(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int c = 1; c < scores.Length; c++)
            best = scores[c] > scores[best] ? c : best;
        return best;
    }

    private static int Best(double[] scores) => Array.IndexOf(scores, scores.Max());

    private static double Accuracy(string[] truth, Func<int, int> predicted, string[] classes) =>
        Enumerable.Range(0, truth.Length).Count(i => classes[predicted(i)] == truth[i]) / (double)truth.Length;
}
