using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Ocr.MLNet.Benchmarks.Harness;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>profile</c>: ONNX Runtime's own profiler on the preprocessing graph and the network at batch 1 (and the
/// preprocessing graph batched): kernel time per operator type and the costliest nodes, so a slow graph shows where.
/// </summary>
internal static class OnnxProfile
{
    public static int Run(string[] args)
    {
        int runs = IntArg(args, "--runs", 200);
        int batch = IntArg(args, "--batch", 64);
        int nodes = IntArg(args, "--nodes", 6);
        Console.WriteLine($"profile: {MachineLine()}; {runs} runs");
        string path = ModelPath(args, out bool trainedHere);
        var image = Sd19Files(args, 1)[0];
        using var decoded = Microsoft.ML.Data.MLImage.CreateFromFile(image);
        var argb = new byte[OrtBaseline.ImageBytes];
        OrtBaseline.ExtractArgb(decoded, argb);
        var argbBatch = Enumerable.Repeat(argb, batch).SelectMany(a => a).ToArray();
        var pixels = TrainingThroughput.MakeRows(1)[0].Pixels;

        // --saved-graph profiles the preprocessing graph saved inside the model (a model saved before a graph change holds the previous one).
        bool savedGraph = args.Contains("--saved-graph");
        byte[] graph = savedGraph ? PreprocessingOnnx(path) : CharacterPreprocessingGraph.Build(OrtBaseline.Side, CharacterCnnOnnxExporter.DefaultInputColumnName);
        string which = savedGraph ? "preprocessing graph saved in the model" : "preprocessing graph built now";
        string graphInput = Onnx.ModelProto.Parser.ParseFrom(graph).Graph.Input.Single().Name;
        Profile($"{which}, batch 1", graph, graphInput, () => OrtBaseline.PlanesValue(graphInput, argb, 1), runs, nodes);
        Profile($"{which}, batch {batch}", graph, graphInput, () => OrtBaseline.PlanesValue(graphInput, argbBatch, batch), Math.Max(1, runs / batch * 4), nodes);
        Profile("network, batch 1", NetworkOnnx(path), CharacterCnnOnnxExporter.DefaultInputColumnName, () => OrtValue.CreateTensorValueFromMemory(pixels, [1, 1, 32, 32]),
            runs, nodes);
        if (trainedHere)
            File.Delete(path);
        return 0;
    }

    private static void Profile(string title, byte[] model, string inputName, Func<OrtValue> input, int runs, int listed)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"ocr-mlnet-ort-profile-{Environment.ProcessId}");
        using var options = new SessionOptions { EnableProfiling = true, ProfileOutputPathPrefix = prefix };
        using var session = new InferenceSession(model, options);
        using var value = input();
        using var runOptions = new RunOptions();
        for (int i = 0; i < runs; i++)
        {
            using var _ = session.Run(runOptions, [inputName], [value], session.OutputNames);
        }

        string file = session.EndProfiling();
        using var json = JsonDocument.Parse(File.ReadAllText(file));
        File.Delete(file);
        var nodes = json.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("cat").GetString() == "Node" && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
            .Select(e => (Node: e.GetProperty("name").GetString()![..^"_kernel_time".Length],
                Op: e.GetProperty("args").TryGetProperty("op_name", out var op) ? op.GetString()! : "?",
                Micros: e.GetProperty("dur").GetDouble()))
            .ToList();
        double total = nodes.Sum(n => n.Micros);
        Console.WriteLine();
        Console.WriteLine($"### {title}: {F(total / runs, "F0")} µs of kernel time per run, {nodes.Count / runs} kernels per run");
        Console.WriteLine("| operator | µs per run | share |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var g in nodes.GroupBy(n => n.Op).Select(g => (Op: g.Key, Micros: g.Sum(n => n.Micros))).OrderByDescending(g => g.Micros).Take(8))
            Console.WriteLine($"| {g.Op} | {F(g.Micros / runs, "F0")} | {F(100 * g.Micros / total, "F0")} % |");
        Console.WriteLine("costliest nodes: " + string.Join(", ", nodes.GroupBy(n => n.Node)
            .Select(g => (Node: g.Key, Op: g.First().Op, Micros: g.Sum(n => n.Micros)))
            .OrderByDescending(g => g.Micros).Take(listed)
            .Select(g => $"{g.Node} ({g.Op}) {F(g.Micros / runs, "F0")} µs")));
    }
}
