using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using static Ocr.MLNet.Benchmarks.Harness;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>memory</c>: peak memory of a short training run, each in its own process of this harness (a peak working set
/// cannot be reset within a process): the ML.NET trainer's <c>Fit</c> against the bare TorchSharp loop on the same
/// rows, and a process that only builds the rows and loads libtorch (what neither run can avoid). The children run
/// alternately, <c>--rounds</c> times each.
/// </summary>
internal static class MemoryHarness
{
    private static readonly string[] Modes = ["idle", "bare", "trainer"];

    public static int Run(string[] args)
    {
        int images = IntArg(args, "--images", 6400);
        int epochs = IntArg(args, "--epochs", 1);
        int rounds = IntArg(args, "--rounds", 2);
        int batch = IntArg(args, "--batch", 128);
        Console.WriteLine($"memory: {MachineLine()}; {images} rows, batch {batch}, {epochs} epoch(s), {rounds} rounds, one process per run");
        var results = Modes.ToDictionary(m => m, _ => new List<Dictionary<string, double>>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (string mode in Modes)
            {
                var r = RunChild(mode, images, epochs, batch);
                results[mode].Add(r);
                Console.WriteLine($"round {round + 1} {mode}: peak working set {F(r["peakMiB"], "F0")} MiB, peak managed heap {F(r["peakManagedMiB"], "F0")} MiB, "
                    + $"allocated {F(r["allocatedMiB"], "F0")} MiB, GCs {r["gen0"]}/{r["gen1"]}/{r["gen2"]}, {F(r["seconds"], "F1")} s; load {Load()}");
            }
        }

        double M(string mode, string key) => Median(results[mode].Select(r => r[key]));
        double RatioPerRound(string a, string b, string key) => Median(results[a].Zip(results[b], (x, y) => x[key] / y[key]));
        double IncrementRatio(string key) => Median(Enumerable.Range(0, rounds).Select(i =>
            (results["trainer"][i][key] - results["idle"][i][key]) / (results["bare"][i][key] - results["idle"][i][key])));

        Console.WriteLine();
        Console.WriteLine("| figure | trainer (median) | bare loop (median) | idle process (median) | ratio trainer / bare | ratio of increments over idle |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (key, name) in new[] { ("peakMiB", "peak working set, MiB"), ("peakManagedMiB", "peak managed heap (sampled), MiB"), ("allocatedMiB", "managed bytes allocated, MiB") })
        {
            Console.WriteLine($"| {name} | {F(M("trainer", key), "F0")} | {F(M("bare", key), "F0")} | {F(M("idle", key), "F0")} | {F(RatioPerRound("trainer", "bare", key), "F3")} | {F(IncrementRatio(key), "F3")} |");
        }

        Console.WriteLine($"| gen0/gen1/gen2 collections | {M("trainer", "gen0")}/{M("trainer", "gen1")}/{M("trainer", "gen2")} | {M("bare", "gen0")}/{M("bare", "gen1")}/{M("bare", "gen2")} | {M("idle", "gen0")}/{M("idle", "gen1")}/{M("idle", "gen2")} | | |");
        Console.WriteLine($"load at end: {Load()}");
        return 0;
    }

    private static Dictionary<string, double> RunChild(string mode, int images, int epochs, int batch)
    {
        string self = typeof(MemoryHarness).Assembly.Location;
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            start.ArgumentList.Add(self);
        foreach (string a in new[] { "memory-child", "--mode", mode, "--images", images.ToString(CultureInfo.InvariantCulture),
                     "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--batch", batch.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host}.");
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"The {mode} child failed (exit {child.ExitCode}):\n{output}");
        return line["RESULT ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('='))
            .ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture));
    }

    /// <summary>One run in this process: builds the rows, loads libtorch, then trains (bare or trainer) or stops (idle).</summary>
    public static int Child(string[] args)
    {
        string mode = StringArg(args, "--mode") ?? "idle";
        int images = IntArg(args, "--images", 6400);
        int epochs = IntArg(args, "--epochs", 1);
        int batch = IntArg(args, "--batch", 128);
        long peakManaged = 0;
        using var stop = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(false));
                Thread.Sleep(20);
            }
        }) { IsBackground = true };
        sampler.Start();

        var clock = Stopwatch.StartNew();
        TorchBackend.EnsureLoaded();
        var rows = TrainingThroughput.MakeRows(images);
        switch (mode)
        {
            case "idle":
                using (new CharacterCnnNetwork(47))
                {
                }

                break;
            case "bare":
            {
                var classNames = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                var pixels = rows.SelectMany(r => r.Pixels).ToArray();
                var labels = rows.Select(r => (long)Array.BinarySearch(classNames, r.Label, StringComparer.Ordinal)).ToArray();
                TrainingThroughput.BareLoop(pixels, labels, classNames.Length, epochs, batch);
                break;
            }

            case "trainer":
            {
                var mlContext = new MLContext(seed: 1);
                var data = mlContext.Data.LoadFromEnumerable(rows);
                var options = new CharacterCnnTrainer.Options { Epochs = epochs, BatchSize = batch, ValidationFraction = 0, Device = TrainingDevice.Cpu };
                using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
                break;
            }

            default:
                throw new ArgumentException($"Unknown mode '{mode}'; use idle, bare or trainer.");
        }

        clock.Stop();
        GC.KeepAlive(rows);
        peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(false));
        stop.Cancel();
        sampler.Join();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        const double MiB = 1024 * 1024;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT peakMiB={self.PeakWorkingSet64 / MiB:F1} peakManagedMiB={peakManaged / MiB:F1} allocatedMiB={GC.GetTotalAllocatedBytes() / MiB:F1} "
            + $"gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} seconds={clock.Elapsed.TotalSeconds:F2}"));
        return 0;
    }
}
