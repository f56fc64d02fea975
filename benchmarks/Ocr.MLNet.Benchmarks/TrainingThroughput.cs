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
        int images = ArgOr(args, "--images", 6_400);
        int epochs = ArgOr(args, "--epochs", 1);
        int rounds = ArgOr(args, "--rounds", 2);
        int batchSize = ArgOr(args, "--batch", 128);
        TorchBackend.EnsureLoaded();
        Console.WriteLine(Harness.MachineLine());

        var rows = MakeRows(images);
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var classNames = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var pixels = rows.SelectMany(r => r.Pixels).ToArray();
        var labels = rows.Select(r => (long)Array.BinarySearch(classNames, r.Label, StringComparer.Ordinal)).ToArray();
        using var peer = PyTorchPeer.TryCreate(pixels, labels, classNames.Length, epochs, batchSize);

        // Training epochs only (ML.NET's reading of the data and the ONNX export are the same for every variant). Without
        // native bfloat16 (AVX-512 BF16 or AMX) the bfloat16 variants are emulated at a tenth of float32's speed and only cost minutes.
        bool nativeBFloat16 = PrecisionSupport.CpuHasNativeBFloat16();
        string defaultPrecision = PrecisionSupport.Resolve(TrainingPrecision.Auto, TorchSharp.torch.CPU) == ScalarType.BFloat16 ? "bfloat16" : "float32";
        var measurements = new List<(string Name, Func<double> Run)>
        {
            ("trainer, float32 NCHW, the previous default recipe (the baseline)", () => TrainerRun(mlContext, data, epochs, batchSize, Previous(TrainingPrecision.Float32, channelsLast: false))),
            ("trainer, float32 channels-last, previous recipe", () => TrainerRun(mlContext, data, epochs, batchSize, Previous(TrainingPrecision.Float32, channelsLast: true))),
        };
        if (nativeBFloat16)
        {
            measurements.Add(("trainer, bfloat16 NCHW, previous recipe", () => TrainerRun(mlContext, data, epochs, batchSize, Previous(TrainingPrecision.BFloat16, channelsLast: false))));
            measurements.Add(("trainer, bfloat16 channels-last, previous recipe", () => TrainerRun(mlContext, data, epochs, batchSize, Previous(TrainingPrecision.BFloat16, channelsLast: true))));
        }
        else
        {
            Console.WriteLine("bfloat16 variants skipped: this CPU has no native bfloat16 (Precision.Auto resolves to float32 here).");
        }

        measurements.Add(($"trainer, all defaults but one replica ({defaultPrecision}, channels-last, augmentation, balanced sampling, EMA, ...; every thread on one network)",
            () => TrainerRun(mlContext, data, epochs, batchSize, new CharacterCnnTrainer.Options { NumberOfReplicas = 1 })));
        measurements.Add(($"trainer, all defaults ({defaultPrecision} as Precision.Auto resolved here, one replica per core, channels-last, augmentation, balanced sampling, EMA, ...)",
            () => TrainerRun(mlContext, data, epochs, batchSize, new CharacterCnnTrainer.Options())));
        measurements.Add(($"trainer, all defaults but NCHW ({defaultPrecision}, one replica per core, ...)",
            () => TrainerRun(mlContext, data, epochs, batchSize, new CharacterCnnTrainer.Options { ChannelsLast = false })));
        measurements.Add(("bare TorchSharp loop, float32 NCHW", () => BareLoop(pixels, labels, classNames.Length, epochs, batchSize)));
        if (peer is not null)
        {
            measurements.Add(("PyTorch eager, float32 NCHW", () => peer.Run(channelsLast: false)));
            measurements.Add(("PyTorch eager, float32 channels-last", () => peer.Run(channelsLast: true)));
        }
        else
        {
            Console.WriteLine($"PyTorch peer skipped: {PyTorchPeer.WhyMissing}");
        }

        Console.WriteLine($"{images} images, {classNames.Length} classes, batch {batchSize}, {epochs} epochs per measurement, {rounds} rounds, {get_num_threads()} threads");
        // One unmeasured run first (oneDNN builds its primitives on first use), then each round in a rotated order, so that no
        // measurement always runs first or after the same one.
        TrainerRun(mlContext, data, epochs, batchSize, Previous(TrainingPrecision.Float32, channelsLast: false));
        var samples = measurements.Select(_ => new List<double>()).ToList();
        for (int round = 0; round < rounds; round++)
        {
            foreach (int i in InferenceHarness.RoundOrder(round, measurements.Count))
            {
                samples[i].Add(measurements[i].Run());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: {measurements[i].Name}: {samples[i][^1]:F0} images/s (load {Harness.Load()})"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| measurement | images/s (mean) | ratio to the previous fp32 trainer | ratio to PyTorch eager fp32 (the faster layout) |");
        Console.WriteLine("|---|---:|---:|---:|");
        double baseline = samples[0].Average();
        int pyTorchIndex = measurements.Select((m, i) => (m.Name, i)).Where(m => m.Name.StartsWith("PyTorch eager, float32", StringComparison.Ordinal))
            .OrderByDescending(m => samples[m.i].Average()).Select(m => m.i).DefaultIfEmpty(-1).First();
        for (int i = 0; i < measurements.Count; i++)
        {
            double mean = samples[i].Average();
            string vsPyTorch = pyTorchIndex < 0 ? "–" : (mean / samples[pyTorchIndex].Average()).ToString("F2", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {measurements[i].Name} | {mean:F0} | {mean / baseline:F2} | {vsPyTorch} |"));
        }

        return 0;
    }

    /// <summary>The trainer's defaults before the current recipe, at the given precision and layout.</summary>
    private static CharacterCnnTrainer.Options Previous(TrainingPrecision precision, bool channelsLast) => new()
    {
        Precision = precision,
        ChannelsLast = channelsLast,
        LearningRateSchedule = LearningRateSchedule.Constant,
        LearningRateWarmupEpochs = 0,
        ClassBalancedSampling = false,
        Augmentation = null,
        LabelSmoothing = 0,
        UseExponentialMovingAverage = false,
        NumberOfReplicas = 1,
    };

    /// <summary>Training images per second over the run's epochs (reading the data and exporting excluded).</summary>
    private static double TrainerRun(MLContext mlContext, IDataView data, int epochs, int batchSize, CharacterCnnTrainer.Options options)
    {
        options.Epochs = epochs;
        options.BatchSize = batchSize;
        options.ValidationFraction = 0;
        options.Device = TrainingDevice.Cpu;
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
        return model.History.Epochs.Average(e => e.TrainingImagesPerSecond);
    }

    /// <summary>
    /// <c>dropout</c>: the trainer's dropout masks drawn with libtorch's <c>bernoulli_</c> (what <c>nn.Dropout</c> does) and
    /// with a uniform draw compared with the keep rate (what the trainer does), alternating, on one thread, on the
    /// activations the seed network drops at a replica's share of a batch (64 images, channels-last).
    /// </summary>
    public static int DropoutMasks(string[] args)
    {
        int rounds = ArgOr(args, "--rounds", 5);
        int iterations = ArgOr(args, "--iterations", 50);
        TorchBackend.EnsureLoaded();
        set_num_threads(1);
        NativeMemoryTuning.ApplyForTraining();
        Console.WriteLine(Harness.MachineLine() + ", 1 thread");
        using var generator = new Generator(1);
        using TorchSharp.Scalar keep = 0.6;
        foreach (long[] shape in new[] { new long[] { 64, 32, 14, 14 }, [64, 64, 5, 5] })
        {
            using var x = rand(shape).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            var variants = new (string Name, Action Run)[]
            {
                ("bernoulli_", () => { using var scope = NewDisposeScope(); _ = x * empty_like(x).bernoulli_(0.6, generator).div_(keep); }),
                ("uniform_ < keep", () => { using var scope = NewDisposeScope(); _ = CharacterCnnNetwork.InvertedDropout(x, 0.4, generator); }),
            };
            var times = variants.Select(_ => new List<double>()).ToList();
            for (int round = 0; round < rounds; round++)
            {
                for (int v = 0; v < variants.Length; v++)
                {
                    variants[v].Run();
                    var clock = Stopwatch.StartNew();
                    for (int i = 0; i < iterations; i++)
                        variants[v].Run();
                    times[v].Add(clock.Elapsed.TotalMilliseconds / iterations);
                }
            }

            double bernoulli = Harness.Median(times[0]), uniform = Harness.Median(times[1]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{string.Join(", ", shape)}]: bernoulli_ {bernoulli:F2} ms, uniform_ < keep {uniform:F2} ms, ratio {bernoulli / uniform:F2} (load {Harness.Load()})"));
        }

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
        if (!PrecisionSupport.CpuHasNativeBFloat16())
        {
            Console.WriteLine("bfloat16 variants skipped: this CPU has no native bfloat16.");
            variants = variants.Where(v => v.Type != ScalarType.BFloat16).ToArray();
        }

        if (Harness.StringArg(args, "--variant") is { } only)
            variants = variants.Where(v => v.Name == only).ToArray(); // one variant per process, e.g. for ONEDNN_VERBOSE=1
        var rates = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int v = 0; v < variants.Length; v++)
                rates[v].Add(BareLoop(pixels, labels, classNames.Length, 1, 128, variants[v].Type, variants[v].ChannelsLast));
            Console.WriteLine($"round {round + 1}: " + string.Join(", ", variants.Select((v, i) => $"{v.Name} {rates[i][^1]:F0} img/s")));
        }

        for (int v = 0; v < variants.Length; v++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {variants[v].Name} | {rates[v].Average():F0} | {rates[v].Average() / rates[0].Average():F2} (to {variants[0].Name}) |"));
        return 0;
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
