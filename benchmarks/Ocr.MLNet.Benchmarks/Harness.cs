using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Onnx;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Benchmarks;

/// <summary>What every harness shares: arguments, the machine line, timing, a model to measure, tables.</summary>
internal static class Harness
{
    public static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    public static string? StringArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The shared data folder: <c>--data DIR</c>, else <c>OCR_MLNET_DATA</c>, else <c>/work/shared/data</c>.</summary>
    public static string DataDirectory(string[] args) =>
        StringArg(args, "--data") ?? Environment.GetEnvironmentVariable("OCR_MLNET_DATA") ?? "/work/shared/data";

    /// <summary>One line naming the machine and its load now (the 1-minute load average from /proc/loadavg).</summary>
    public static string MachineLine()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {cpu}, load {Load()}");
    }

    /// <summary>The 1-, 5- and 15-minute load averages.</summary>
    public static string Load()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>Seconds per call of <paramref name="action"/> over <paramref name="iterations"/> calls.</summary>
    public static double SecondsPerCall(int iterations, Action action)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
            action();
        return clock.Elapsed.TotalSeconds / iterations;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static string F(double value, string format = "F2") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>
    /// The model to measure: <c>--model PATH</c>, or a small one trained here (synthetic pixels, 47 classes, 1 epoch;
    /// accuracy does not change the cost of a prediction) and saved to a temporary zip.
    /// </summary>
    public static string ModelPath(string[] args) => ModelPath(args, out _);

    /// <inheritdoc cref="ModelPath(string[])"/>
    /// <param name="args">The command line.</param>
    /// <param name="trainedHere">Whether the model was trained here (a temporary file the caller deletes).</param>
    public static string ModelPath(string[] args, out bool trainedHere)
    {
        trainedHere = false;
        if (StringArg(args, "--model") is { } given)
            return given;
        trainedHere = true;
        string path = Path.Combine(Path.GetTempPath(), $"ocr-mlnet-bench-{Environment.ProcessId}.zip");
        TorchBackend.EnsureLoaded();
        var rows = TrainingThroughput.MakeRows(470);
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var options = new Training.CharacterCnnTrainer.Options { Epochs = 1, BatchSize = 64, ValidationFraction = 0, Device = Training.TrainingDevice.Cpu };
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
        SaveForImageFiles(mlContext, model, path);
        Console.WriteLine($"trained a 1-epoch model on {rows.Count} synthetic images ({model.ClassNames.Count} classes): {path}");
        return path;
    }

    /// <summary>Saves a trained network as 'ocr-mlnet train' saves it: image files in, LoadImages and PrepareCharacterImages in front.</summary>
    public static void SaveForImageFiles(MLContext mlContext, ITransformer model, string path)
    {
        var imagePaths = mlContext.Data.LoadFromEnumerable(Array.Empty<CharacterImagePath>());
        using var forFiles = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, CharacterFormat.ImagePathColumnName)
            .Append(mlContext.Transforms.PrepareCharacterImages())
            .Fit(imagePaths)
            .Append(model);
        mlContext.Model.Save(forFiles, imagePaths.Schema, path);
    }

    /// <summary>The network's ONNX bytes, read from the model zip (the OnnxTransformer entry that carries the class names).</summary>
    public static byte[] NetworkOnnx(string modelPath) =>
        OnnxInModel(modelPath, m => m.Graph.Initializer.Any(i => i.Name == CharacterCnnOnnxExporter.ClassNamesInitializerName), "network");

    /// <summary>The preprocessing graph saved inside an Ocr.MLNet model zip (the one its <c>PrepareCharacterImages</c> step runs).</summary>
    public static byte[] PreprocessingOnnx(string modelPath) =>
        OnnxInModel(modelPath, m => m.Graph.Input.Any(i => i.Name is Preparation.CharacterPreprocessingGraph.InputColumnName
            or Preparation.CharacterPreprocessingGraph.FloatInputColumnName), "preprocessing graph");

    private static byte[] OnnxInModel(string modelPath, Func<ModelProto, bool> isWanted, string what)
    {
        using var zip = ZipFile.OpenRead(modelPath);
        return Serving.CharacterModelLoader.OnnxModels(zip, modelPath).FirstOrDefault(bytes => isWanted(ModelProto.Parser.ParseFrom(bytes)))
            ?? throw new InvalidDataException($"'{modelPath}' holds no Ocr.MLNet {what}.");
    }

    /// <summary>The first <paramref name="count"/> PNGs of the SD19 sample (sorted, so every run uses the same files).</summary>
    public static string[] Sd19Files(string[] args, int count)
    {
        string folder = Path.Combine(DataDirectory(args), "nist-sd19-by_class-vowels");
        var files = Directory.EnumerateFiles(folder, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new DirectoryNotFoundException($"No PNGs under '{folder}'; pass --data DIR (the folder holding nist-sd19-by_class-vowels).");
        // Spread the pick over the classes: every k-th file.
        int step = Math.Max(1, files.Length / count);
        return Enumerable.Range(0, count).Select(i => files[(i * step) % files.Length]).ToArray();
    }

    /// <summary>
    /// Prints a markdown table: per row a figure and its baseline (indices into <paramref name="names"/> and
    /// <paramref name="samples"/>, one sample per round), their medians and the median of the per-round ratios.
    /// </summary>
    public static void PrintRatioTable(string valueHeader, IReadOnlyList<string> names, IReadOnlyList<List<double>> samples,
        params (int Figure, int Baseline, string Target)[] rows)
    {
        static string Value(double v) => F(v, v >= 100 ? "F0" : "F1");
        Console.WriteLine();
        Console.WriteLine($"| figure | {valueHeader} (median) | baseline | baseline {valueHeader} | ratio (median of rounds) | target |");
        Console.WriteLine("|---|---:|---|---:|---:|---|");
        foreach (var (a, b, target) in rows)
        {
            double ratio = Median(samples[a].Zip(samples[b], (x, y) => x / y));
            Console.WriteLine($"| {names[a]} | {Value(Median(samples[a]))} | {names[b]} | {Value(Median(samples[b]))} | {F(ratio, "F3")} | {target} |");
        }
    }

    /// <summary>
    /// Wall seconds and CPU seconds of <paramref name="action"/>: this process's user and system time plus that of the child
    /// processes it waited for (a peer's processes, e.g. Tesseract's), from /proc/self/stat. On a shared machine CPU time is the steadier figure.
    /// </summary>
    public static (double Wall, double Cpu) WallAndCpuSeconds(Action action)
    {
        double before = CpuSeconds();
        var clock = Stopwatch.StartNew();
        action();
        return (clock.Elapsed.TotalSeconds, CpuSeconds() - before);
    }

    private static double CpuSeconds()
    {
        // Fields 14–17 (utime, stime, cutime, cstime) in clock ticks of 1/100 s; the name in field 2 may hold spaces.
        string stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Skip(11).Take(4).Sum(f => long.Parse(f, System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }
}
