using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Training;
using static Ocr.MLNet.Benchmarks.Harness;
using static TorchSharp.torch;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>line-training</c>: training lines/s of the line recognizer's network (<see cref="LineRecognizerNetwork"/>, CTC) in one
/// process, alternating rounds: the library's trainer as it really trains (synthetic field images through LoadImages and
/// <c>mlContext.MulticlassClassification.Trainers.LineRecognizer</c>, 1 epoch, augmentation on and off), a bare TorchSharp loop
/// on the same network and batch, and the same network in PyTorch (benchmarks/peers/pytorch_line_trainer.py, a fresh python
/// process per round). Every row's ratio is to PyTorch's lines/s in the same round.
/// </summary>
internal static class LineTrainingHarness
{
    private const int BatchSize = LineRecognizerTrainer.DefaultBatchSize;
    private const int MinTargetLength = 4, MaxTargetLength = 12;

    public static int Run(string[] args)
    {
        int lines = IntArg(args, "--lines", 1_024);
        int rounds = IntArg(args, "--rounds", 2);
        int? threads = StringArg(args, "--threads") is { } given ? int.Parse(given, CultureInfo.InvariantCulture) : null;
        TorchBackend.EnsureLoaded();
        if (threads is int t)
            set_num_threads(t);
        Console.WriteLine($"line-training: {MachineLine()}; {lines} lines, batch {BatchSize}, 1 epoch per measurement, {rounds} rounds, {get_num_threads()} libtorch threads");

        // The trainer's input: synthetic fields saved as PNGs with labels.tsv, read back as train-fields reads a folder.
        string folder = Directory.CreateTempSubdirectory("ocr-mlnet-line-training-").FullName;
        var clock = Stopwatch.StartNew();
        var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions
        {
            Kind = SyntheticFieldKind.Mixed,
            EmnistFolder = Path.Combine(DataDirectory(args), "emnist-byclass-test"),
        });
        generator.SaveSamples(folder, lines);
        Console.WriteLine($"drew {lines} synthetic fields (EMNIST ByClass test) into {folder} in {F(clock.Elapsed.TotalSeconds, "F1")} s");

        // The bare loop's and PyTorch's input: random sparse lines and random targets (a step's cost does not depend on them).
        var (pixels, targets, targetLengths) = RandomLinesAndTargets(lines);
        string peerFolder = Directory.CreateTempSubdirectory("ocr-mlnet-line-peer-").FullName;
        File.WriteAllBytes(Path.Combine(peerFolder, "pixels.f32"), MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(peerFolder, "targets.i64"), MemoryMarshal.AsBytes(targets.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(peerFolder, "lengths.i64"), MemoryMarshal.AsBytes(targetLengths.AsSpan()).ToArray());
        string? script = PyTorchPeer.FindScriptAndPython("pytorch_line_trainer.py", out string whyNoPeer);
        if (script is null)
            Console.WriteLine($"PyTorch peer skipped: {whyNoPeer}");

        try
        {
            var mlContext = new MLContext(seed: 1);
            var fieldRows = FieldEvaluation.LoadLabels(folder).Select(f => new FieldRow { ImagePath = f.ImagePath, Label = f.Text }).ToList();
            var view = mlContext.Data.LoadFromEnumerable(fieldRows);
            var images = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, nameof(FieldRow.ImagePath)).Fit(view).Transform(view);

            // Each measurement returns (lines/s in training epochs, lines/s over the whole call or process).
            var measurements = new List<(string Name, Func<(double Epochs, double Whole)> Run)>
            {
                ("trainer (LineRecognizer, augmentation on: its default)", () => TrainerRun(mlContext, images, lines, threads, augment: true)),
                ("trainer, augmentation off", () => TrainerRun(mlContext, images, lines, threads, augment: false)),
                ("bare TorchSharp loop (no augmentation)", () => BareLoop(pixels, targets, targetLengths)),
            };
            string peerKernels = "not run";
            if (script is not null)
            {
                measurements.Add(("PyTorch 1.13 eager (Debian python3-torch)", () =>
                {
                    var (epochs, whole, kernels) = PeerRun(script, peerFolder, threads);
                    peerKernels = kernels;
                    return (epochs, whole);
                }));
            }

            // Unmeasured warm-up of libtorch (oneDNN builds its primitives on first use); the PyTorch script warms up the same way.
            int warmLines = Math.Min(2 * BatchSize, lines);
            BareLoop(pixels[..(warmLines * LineImageFormat.PixelCount)], targets[..(warmLines * MaxTargetLength)], targetLengths[..warmLines]);

            var samples = measurements.Select(_ => new List<(double Epochs, double Whole)>()).ToList();
            for (int round = 0; round < rounds; round++)
            {
                // Rotate the order so that no measurement always follows the same one.
                foreach (int i in InferenceHarness.RoundOrder(round, measurements.Count))
                {
                    samples[i].Add(measurements[i].Run());
                    Console.WriteLine($"round {round + 1}: {measurements[i].Name}: {F(samples[i][^1].Epochs, "F1")} lines/s in the epoch, {F(samples[i][^1].Whole, "F1")} over the whole call; load {Load()}");
                }
            }

            int peerIndex = script is null ? -1 : measurements.Count - 1;
            Console.WriteLine();
            Console.WriteLine("| measurement | lines/s, training epoch (median) | ratio to PyTorch (median of rounds) | lines/s, whole call (median) |");
            Console.WriteLine("|---|---:|---:|---:|");
            for (int i = 0; i < measurements.Count; i++)
            {
                string ratio = peerIndex < 0 ? "–" : F(Median(samples[i].Zip(samples[peerIndex], (a, b) => a.Epochs / b.Epochs)), "F3");
                Console.WriteLine($"| {measurements[i].Name} | {F(Median(samples[i].Select(s => s.Epochs)), "F1")} | {ratio} | {F(Median(samples[i].Select(s => s.Whole)), "F1")} |");
            }

            Console.WriteLine();
            Console.WriteLine("The trainer's epoch: synthetic lines prepared once before it, each batch index_select, /255, augmentation (when on), "
                + "forward, CTC, backward, gradient clipping at 5, Adam; its whole call adds reading the images through ML.NET, preparing "
                + "them in ONNX Runtime and the ONNX export. The bare loop and PyTorch do the same step on random lines and random targets of "
                + $"{MinTargetLength}–{MaxTargetLength} characters, batch {BatchSize}, Adam at {LineRecognizerTrainer.DefaultLearningRate}, "
                + "gradient clipping at 5; PyTorch's whole call is its process (start-up, import, reading the files, one warm-up step). "
                + "libtorch and PyTorch each take one unmeasured step first.");
            if (script is not null)
                Console.WriteLine($"PyTorch peer: {peerKernels}. The network has only convolutions (no Linear, no LSTM), so the reference BLAS matters only where a convolution falls back to im2col + GEMM.");
            Console.WriteLine($"load at end: {Load()}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(peerFolder, recursive: true);
        }

        return 0;
    }

    /// <summary>One epoch of the trainer: lines/s of its epoch (from its history) and of the whole Fit.</summary>
    private static (double Epochs, double Whole) TrainerRun(MLContext mlContext, IDataView images, int lines, int? threads, bool augment)
    {
        var options = new LineRecognizerTrainer.Options
        {
            Epochs = 1,
            BatchSize = BatchSize,
            ValidationFraction = 0,
            Augment = augment,
            NumberOfThreads = threads,
        };
        var clock = Stopwatch.StartNew();
        using var model = mlContext.MulticlassClassification.Trainers.LineRecognizer(options).Fit(images);
        double whole = lines / clock.Elapsed.TotalSeconds;
        return (model.History.Epochs.Average(e => e.TrainingImagesPerSecond), whole);
    }

    /// <summary>The plainest TorchSharp loop on the line network: one float tensor of all lines, a permutation, Adam, CTC.</summary>
    private static (double Epochs, double Whole) BareLoop(float[] pixels, long[] targets, long[] targetLengths)
    {
        var whole = Stopwatch.StartNew();
        random.manual_seed(1);
        long count = targetLengths.Length;
        using var network = new LineRecognizerNetwork(1 + LineImageFormat.DefaultAlphabet.Length);
        using var optimizer = optim.Adam(network.parameters(), LineRecognizerTrainer.DefaultLearningRate);
        using var x = tensor(pixels, [count, 1, LineImageFormat.Height, LineImageFormat.Width]);
        using var y = tensor(targets, [count, MaxTargetLength]);
        using var yLengths = tensor(targetLengths, [count]);
        network.train();
        random.manual_seed(1);
        using var order = randperm(count);
        long trained = 0;
        var clock = Stopwatch.StartNew();
        for (long start = 0; start + 2 <= count; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(BatchSize, count - start);
            var rows = order.narrow(0, start, length);
            optimizer.zero_grad();
            var logProbabilities = network.forward(x.index_select(0, rows)).log_softmax(2).permute(1, 0, 2); // T×N×C
            var inputLengths = full([length], LineImageFormat.TimeSteps, int64);
            var loss = nn.functional.ctc_loss(logProbabilities, y.index_select(0, rows), inputLengths, yLengths.index_select(0, rows),
                blank: 0, reduction: nn.Reduction.Mean, zero_infinity: true);
            loss.backward();
            nn.utils.clip_grad_norm_(network.parameters(), 5.0);
            optimizer.step();
            trained += length;
        }

        return (trained / clock.Elapsed.TotalSeconds, trained / whole.Elapsed.TotalSeconds);
    }

    /// <summary>One run of the PyTorch peer in a fresh process: its lines/s, lines over the process's wall time, and the kernels it names.</summary>
    private static (double Epochs, double Whole, string Kernels) PeerRun(string script, string folder, int? threads)
    {
        var clock = Stopwatch.StartNew();
        var (exitCode, output) = PyTorchPeer.RunProcess(PyTorchPeer.FindPython() ?? "python3",
        [
            script, "--pixels", Path.Combine(folder, "pixels.f32"), "--targets", Path.Combine(folder, "targets.i64"),
            "--lengths", Path.Combine(folder, "lengths.i64"), "--classes", (1 + LineImageFormat.DefaultAlphabet.Length).ToString(CultureInfo.InvariantCulture),
            "--batch", BatchSize.ToString(CultureInfo.InvariantCulture), "--learning-rate", LineRecognizerTrainer.DefaultLearningRate.ToString(CultureInfo.InvariantCulture),
            "--threads", (threads ?? 0).ToString(CultureInfo.InvariantCulture),
        ]);
        double seconds = clock.Elapsed.TotalSeconds;
        var outputLines = output.Split('\n');
        string? rate = outputLines.LastOrDefault(l => l.StartsWith("lines/s ", StringComparison.Ordinal));
        if (exitCode != 0 || rate is null)
            throw new InvalidOperationException($"The PyTorch line peer failed (exit code {exitCode}): {output}");
        string torchLine = outputLines.FirstOrDefault(l => l.StartsWith("torch ", StringComparison.Ordinal)) ?? "";
        string kernels = outputLines.FirstOrDefault(l => l.StartsWith("kernels: ", StringComparison.Ordinal)) ?? "kernels: unknown";

        double lines = double.Parse(rate["lines/s ".Length..], CultureInfo.InvariantCulture);
        int count = (int)(new FileInfo(Path.Combine(folder, "lengths.i64")).Length / sizeof(long));
        return (lines, count / seconds, $"{torchLine.Split(',')[0]}, {kernels}");
    }

    /// <summary>Random sparse lines (ink 1 on 0) and random targets over the alphabet, padded with 0 to the longest.</summary>
    private static (float[] Pixels, long[] Targets, long[] Lengths) RandomLinesAndTargets(int count)
    {
        var random = new Random(1);
        var pixels = new float[(long)count * LineImageFormat.PixelCount];
        for (long i = 0; i < pixels.Length; i++)
            pixels[i] = random.NextSingle() < 0.15f ? random.NextSingle() : 0f;
        var targets = new long[count * MaxTargetLength];
        var lengths = new long[count];
        for (int i = 0; i < count; i++)
        {
            lengths[i] = random.Next(MinTargetLength, MaxTargetLength + 1);
            for (int j = 0; j < lengths[i]; j++)
                targets[(i * MaxTargetLength) + j] = 1 + random.Next(LineImageFormat.DefaultAlphabet.Length);
        }

        return (pixels, targets, lengths);
    }

    private sealed class FieldRow
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }
}
