using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// Training images/s of the ML.NET trainer against a bare TorchSharp loop on the same images, batches
/// and seeds, measured side by side in one process (alternating, so machine noise hits both).
/// </summary>
internal static class TrainingThroughput
{
    public static int Run(string[] args)
    {
        int images = ArgOr(args, "--images", 12_800);
        int epochs = ArgOr(args, "--epochs", 2);
        int rounds = ArgOr(args, "--rounds", 2);
        int batchSize = ArgOr(args, "--batch", 128);
        TorchBackend.EnsureLoaded();

        var rows = MakeRows(images);
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var classNames = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var pixels = rows.SelectMany(r => r.Pixels).ToArray();
        var labels = rows.Select(r => (long)Array.BinarySearch(classNames, r.Label, StringComparer.Ordinal)).ToArray();

        Console.WriteLine($"{images} images, {classNames.Length} classes, batch {batchSize}, {epochs} epochs per measurement, {rounds} rounds, {get_num_threads()} threads");
        var bare = new List<double>();
        var trainerLoop = new List<double>();
        var trainerFit = new List<double>();
        var trainerDefault = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            bare.Add(BareLoop(pixels, labels, classNames.Length, epochs, batchSize));

            // The bare loop has no BatchNorm recalibration, so the like-for-like trainer run turns it off; a second
            // run with the defaults shows what the recalibration after every epoch costs on top.
            var (loopRate, fitRate) = TrainerRun(mlContext, data, images, epochs, batchSize, recalibrate: false);
            trainerLoop.Add(loopRate);
            trainerFit.Add(fitRate);
            trainerDefault.Add(TrainerRun(mlContext, data, images, epochs, batchSize, recalibrate: true).Fit);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round + 1}: bare {bare[^1]:F0} images/s, trainer epochs {trainerLoop[^1]:F0} images/s, trainer whole Fit {trainerFit[^1]:F0} images/s, "
                + $"whole Fit with BatchNorm recalibration {trainerDefault[^1]:F0} images/s"));
        }

        double bareMean = bare.Average();
        Console.WriteLine();
        Console.WriteLine("| measurement | images/s (mean) | ratio to bare loop |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| bare TorchSharp loop | {bareMean:F0} | 1.00 |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| trainer, training epochs | {trainerLoop.Average():F0} | {trainerLoop.Average() / bareMean:F3} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| trainer, whole Fit (read IDataView, train, export ONNX) | {trainerFit.Average():F0} | {trainerFit.Average() / bareMean:F3} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| trainer, whole Fit with the default BatchNorm recalibration | {trainerDefault.Average():F0} | {trainerDefault.Average() / bareMean:F3} |"));
        return 0;
    }

    /// <summary>The bare loop in float32, channels-last, bfloat16 and both, alternating rounds.</summary>
    public static int Layouts(string[] args)
    {
        int images = ArgOr(args, "--images", 6_400);
        int rounds = ArgOr(args, "--rounds", 2);
        TorchBackend.EnsureLoaded();
        var rows = MakeRows(images);
        var classNames = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var pixels = rows.SelectMany(r => r.Pixels).ToArray();
        var labels = rows.Select(r => (long)Array.BinarySearch(classNames, r.Label, StringComparer.Ordinal)).ToArray();
        var variants = new (string Name, ScalarType Type, bool ChannelsLast)[]
        {
            ("fp32 NCHW", ScalarType.Float32, false), ("fp32 channels-last", ScalarType.Float32, true),
            ("bf16 NCHW", ScalarType.BFloat16, false), ("bf16 channels-last", ScalarType.BFloat16, true),
        };
        var rates = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int v = 0; v < variants.Length; v++)
                rates[v].Add(BareLoop(pixels, labels, classNames.Length, 1, 128, variants[v].Type, variants[v].ChannelsLast));
            Console.WriteLine($"round {round + 1}: " + string.Join(", ", variants.Select((v, i) => $"{v.Name} {rates[i][^1]:F0} img/s")));
        }

        for (int v = 0; v < variants.Length; v++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {variants[v].Name} | {rates[v].Average():F0} | {rates[v].Average() / rates[0].Average():F2} |"));
        return 0;
    }

    private static (double Epochs, double Fit) TrainerRun(MLContext mlContext, IDataView data, int images, int epochs, int batchSize, bool recalibrate)
    {
        var options = new CharacterCnnTrainer.Options
        {
            Epochs = epochs,
            BatchSize = batchSize,
            ValidationFraction = 0,
            Device = TrainingDevice.Cpu,
            RecalibrateBatchNorm = recalibrate,
        };
        var clock = Stopwatch.StartNew();
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
        clock.Stop();
        return (images * (double)epochs / model.History.Epochs.Sum(e => e.Duration.TotalSeconds), images * (double)epochs / clock.Elapsed.TotalSeconds);
    }

    /// <summary>The plainest TorchSharp loop: one tensor of all images, a random permutation per epoch, Adam.</summary>
    internal static double BareLoop(float[] pixels, long[] labels, int classes, int epochs, int batchSize,
        ScalarType computeType = ScalarType.Float32, bool channelsLast = false)
    {
        random.manual_seed(1);
        using var network = new CharacterCnnNetwork(classes) { ComputeType = computeType, ChannelsLast = channelsLast };
        using var optimizer = optim.Adam(network.parameters(), 1e-3);
        long count = labels.Length;
        using var x = tensor(pixels, [count, 1, 32, 32]);
        using var y = tensor(labels, [count]);
        network.train();
        var clock = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            random.manual_seed(epoch);
            using var order = randperm(count);
            for (long start = 0; start < count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var rows = order.narrow(0, start, Math.Min(batchSize, count - start));
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(network.forward(x.index_select(0, rows)), y.index_select(0, rows));
                loss.backward();
                optimizer.step();
            }
        }

        return count * (double)epochs / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Random sparse images in 47 classes: the cost of a training step does not depend on what the pixels show.</summary>
    internal static List<Row> MakeRows(int count)
    {
        var random = new Random(1);
        var rows = new List<Row>(count);
        for (int i = 0; i < count; i++)
        {
            var p = new float[1024];
            for (int j = 0; j < p.Length; j++)
                p[j] = random.NextSingle() < 0.2f ? random.NextSingle() : 0f;
            rows.Add(new Row { Label = ((char)('A' + (i % 47 % 26))).ToString() + (i % 47 / 26), Pixels = p });
        }

        return rows;
    }

    private static int ArgOr(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal sealed class Row
    {
        public string Label { get; set; } = "";

        [VectorType(1024)]
        public float[] Pixels { get; set; } = [];
    }
}
