using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Serving;
using static Ocr.MLNet.Benchmarks.Harness;
using static Ocr.MLNet.Benchmarks.InferenceHarness;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>gpu</c>: the saved model's inference on a CUDA GPU against the same on the CPU, in one process, alternating rounds:
/// bare ONNX Runtime's network, the batched <see cref="CharacterRecognizer"/> (<c>GpuDeviceId</c>), and ML.NET's Transform and
/// PredictionEngine (<c>mlContext.GpuDeviceId</c>, <c>FallbackToCpu = false</c>). Needs an app folder with ONNX Runtime's GPU
/// build (benchmarks/gpu/bundle.sh makes one); reads the images in <c>--images DIR</c>, repeated up to <c>--rows</c>.
/// </summary>
internal static class GpuHarness
{
    public static int Run(string[] args)
    {
        int rows = IntArg(args, "--rows", 4096);
        int batch = IntArg(args, "--batch", 256);
        int rounds = IntArg(args, "--rounds", 3);
        int device = IntArg(args, "--device", 0);
        rows = Math.Max(batch, rows / batch * batch);
        // What TrainingPrecision.Auto picks for training on this GPU (the CUDA driver's compute capability; no libtorch needed).
        string autoPrecision = Training.PrecisionSupport.CudaHasNativeBFloat16() ? "bfloat16" : "float32";
        if (args.Contains("--precision-only"))
        {
            Console.WriteLine($"gpu: {MachineLine()}; GPU {GpuName()}; TrainingPrecision.Auto on CUDA: {autoPrecision}");
            return 0;
        }

        string modelPath = StringArg(args, "--model") ?? throw new ArgumentException("Pass --model PATH (a saved character model).");
        string imageFolder = StringArg(args, "--images") ?? throw new ArgumentException("Pass --images DIR (PNG character images).");
        string[] files = Directory.GetFiles(imageFolder, "*.png").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new DirectoryNotFoundException($"No PNGs in '{imageFolder}'.");
        string[] paths = Enumerable.Range(0, rows).Select(i => files[i % files.Length]).ToArray();
        Console.WriteLine($"gpu: {MachineLine()}; GPU {GpuName()}; TrainingPrecision.Auto on CUDA: {autoPrecision}; {rows} images ({files.Length} distinct), batch {batch}, {rounds} rounds");

        var cpuContext = new MLContext(seed: 1);
        var gpuContext = new MLContext(seed: 1) { GpuDeviceId = device, FallbackToCpu = false };
        using var cpuRecognizer = CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { BatchSize = batch });
        using var gpuRecognizer = CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { BatchSize = batch, GpuDeviceId = device });
        Console.WriteLine($"recognizer UsesGpu: CPU {cpuRecognizer.UsesGpu}, GPU {gpuRecognizer.UsesGpu}");
        byte[] networkOnnx = NetworkOnnx(modelPath);
        using var cpuOrt = new OrtBaseline(networkOnnx);
        using var gpuOrt = new OrtBaseline(networkOnnx, gpuDeviceId: device);
        var cpuModel = cpuContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.ImagePath);
        var gpuModel = gpuContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.ImagePath);
        using var cpuEngine = cpuContext.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(cpuModel);
        using var gpuEngine = gpuContext.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(gpuModel);
        var cpuPathData = cpuContext.Data.LoadFromEnumerable(paths.Select(p => new CharacterImagePath { ImagePath = p }).ToList());
        var gpuPathData = gpuContext.Data.LoadFromEnumerable(paths.Select(p => new CharacterImagePath { ImagePath = p }).ToList());
        var images = paths.Select(MLImage.CreateFromFile).ToList();
        var pixels = new float[rows * OrtBaseline.PixelCount];
        cpuRecognizer.Score(paths, pixels);

        // The same scores on both devices, before anything is timed.
        float[] cpuScores = cpuRecognizer.Score(images.Take(batch).ToList());
        float[] gpuScores = gpuRecognizer.Score(images.Take(batch).ToList());
        double engineDifference = files.Max(p => cpuEngine.Predict(new CharacterImagePath { ImagePath = p }).Score
            .Zip(gpuEngine.Predict(new CharacterImagePath { ImagePath = p }).Score, (a, b) => Math.Abs(a - b)).Max());
        double ortDifference = cpuOrt.Scores(pixels[..(batch * OrtBaseline.PixelCount)], batch)
            .Zip(gpuOrt.Scores(pixels[..(batch * OrtBaseline.PixelCount)], batch), (a, b) => Math.Abs(a - b)).Max();
        var cpuPrepared = new float[batch * OrtBaseline.PixelCount];
        var gpuPrepared = new float[batch * OrtBaseline.PixelCount];
        cpuRecognizer.Score(paths[..batch], cpuPrepared);
        gpuRecognizer.Score(paths[..batch], gpuPrepared);
        var argb = new byte[OrtBaseline.ImageBytes * batch];
        for (int j = 0; j < batch; j++)
            OrtBaseline.ExtractArgb(images[j], argb.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
        float[] tf32Prepared = gpuOrt.Preprocess(argb, batch);
        Console.WriteLine($"max |prepared pixel difference| vs CPU, batch {batch}: recognizer on the GPU (fp32) "
            + $"{F(cpuPrepared.Zip(gpuPrepared, (a, b) => Math.Abs(a - b)).Max(), "G3")}, bare ORT on the GPU (provider defaults, TF32) "
            + $"{F(cpuPrepared.Zip(tf32Prepared, (a, b) => Math.Abs(a - b)).Max(), "G3")}");
        Console.WriteLine($"max |Score difference| GPU vs CPU: recognizer {F(cpuScores.Zip(gpuScores, (a, b) => Math.Abs(a - b)).Max(), "G3")}, "
            + $"PredictionEngine {F(engineDifference, "G3")}, bare ORT network {F(ortDifference, "G3")}");

        var pixelBatch = new float[OrtBaseline.PixelCount * batch];
        Action NetworkBatches(OrtBaseline ort) => () =>
        {
            for (int i = 0; i < rows; i += batch)
            {
                Array.Copy(pixels, i * OrtBaseline.PixelCount, pixelBatch, 0, pixelBatch.Length);
                ort.Network(pixelBatch, batch);
            }
        };
        Action Engine(PredictionEngine<CharacterImagePath, CharacterPrediction> engine) => () =>
        {
            foreach (string p in paths)
                engine.Predict(new CharacterImagePath { ImagePath = p });
        };

        var variants = new (string Name, Action Run)[]
        {
            ($"bare ORT network, batch {batch}, CPU", NetworkBatches(cpuOrt)),
            ($"bare ORT network, batch {batch}, GPU", NetworkBatches(gpuOrt)),
            ($"bare ORT network, batch {rows}, GPU", () => gpuOrt.Network(pixels, rows)),
            ($"CharacterRecognizer.ScorePixels, batch {batch}, CPU", () => cpuRecognizer.ScorePixels(pixels)),
            ($"CharacterRecognizer.ScorePixels, batch {batch}, GPU", () => gpuRecognizer.ScorePixels(pixels)),
            ($"CharacterRecognizer.ScoreImages, batch {batch}, CPU", () => cpuRecognizer.Score(images)),
            ($"CharacterRecognizer.ScoreImages, batch {batch}, GPU", () => gpuRecognizer.Score(images)),
            ("Transform, image paths, CPU", () => ReadAll(cpuModel.Transform(cpuPathData), "Score", "PredictedCharacter")),
            ("Transform, image paths, GPU", () => ReadAll(gpuModel.Transform(gpuPathData), "Score", "PredictedCharacter")),
            ("PredictionEngine, image path, CPU", Engine(cpuEngine)),
            ("PredictionEngine, image path, GPU", Engine(gpuEngine)),
        };

        var rates = ThroughputRounds(variants, rows, rounds);
        PrintRatioTable("images/s", variants.Select(v => v.Name).ToList(), rates,
            (1, 0, ""), (2, 0, ""), (4, 3, ""), (6, 5, ""), (8, 7, ""), (10, 9, ""), (4, 1, ""), (6, 1, ""));
        Console.WriteLine($"PredictionEngine from a path: CPU {F(1e6 / Median(rates[9]), "F0")} µs, GPU {F(1e6 / Median(rates[10]), "F0")} µs per image");
        Console.WriteLine($"load at end: {Load()}");
        foreach (var image in images)
            image.Dispose();
        (cpuModel as IDisposable)?.Dispose();
        (gpuModel as IDisposable)?.Dispose();
        return 0;
    }

    /// <summary>
    /// <c>gpu-nodes</c>: every intermediate of the model's preprocessing graph on the GPU against the CPU, at batch 1, 2 and
    /// <c>--batch</c>; prints the nodes whose outputs differ (the first one is where the devices part).
    /// </summary>
    public static int Nodes(string[] args)
    {
        int batch = IntArg(args, "--batch", 256);
        int device = IntArg(args, "--device", 0);
        string modelPath = StringArg(args, "--model") ?? throw new ArgumentException("Pass --model PATH.");
        string imageFolder = StringArg(args, "--images") ?? throw new ArgumentException("Pass --images DIR.");
        string[] files = Directory.GetFiles(imageFolder, "*.png").Order(StringComparer.Ordinal).ToArray();
        var model = Onnx.ModelProto.Parser.ParseFrom(PreprocessingOnnx(modelPath));
        var outputs = new List<(string Name, string Op, bool IsBool)>();
        foreach (var node in model.Graph.Node)
        {
            foreach (string output in node.Output)
            {
                bool isBool = node.OpType is "Greater" or "Less" or "Equal";
                outputs.Add((output, $"{node.OpType} {node.Name}", isBool));
                if (model.Graph.Output.Any(o => o.Name == output))
                    continue;
                model.Graph.Output.Add(new Onnx.ValueInfoProto
                {
                    Name = output,
                    Type = new Onnx.TypeProto
                    {
                        TensorType = new Onnx.TypeProto.Types.Tensor
                        {
                            ElemType = (int)(isBool ? Onnx.TensorProto.Types.DataType.Bool : Onnx.TensorProto.Types.DataType.Float),
                        },
                    },
                });
            }
        }

        byte[] graph = Google.Protobuf.MessageExtensions.ToByteArray(model);
        using var cpuOptions = new Microsoft.ML.OnnxRuntime.SessionOptions();
        using var gpuOptions = new Microsoft.ML.OnnxRuntime.SessionOptions();
        using var cuda = device >= 0 ? new Microsoft.ML.OnnxRuntime.OrtCUDAProviderOptions() : null;
        cuda?.UpdateOptions(new Dictionary<string, string> { ["device_id"] = device.ToString(System.Globalization.CultureInfo.InvariantCulture), ["use_tf32"] = "0" });
        if (device >= 0)
            gpuOptions.AppendExecutionProvider_CUDA(cuda!); // --device -1 compares the CPU with itself (a check of this harness)
        using var cpu = new Microsoft.ML.OnnxRuntime.InferenceSession(graph, cpuOptions);
        using var gpu = new Microsoft.ML.OnnxRuntime.InferenceSession(graph, gpuOptions);
        string[] names = outputs.Select(o => o.Name).ToArray();
        foreach (int n in new[] { 1, 2, batch })
        {
            var argb = new byte[OrtBaseline.ImageBytes * n];
            for (int j = 0; j < n; j++)
            {
                using var image = MLImage.CreateFromFile(files[j % files.Length]);
                OrtBaseline.ExtractArgb(image, argb.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
            }

            string inputName = cpu.InputMetadata.Keys.Single();
            using var input = OrtBaseline.PlanesValue(inputName, argb, n);
            using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
            using var cpuResults = cpu.Run(runOptions, [inputName], [input], names);
            using var gpuResults = gpu.Run(runOptions, [inputName], [input], names);
            int shown = 0;
            for (int i = 0; i < names.Length; i++)
            {
                float[] a = Values(cpuResults[i], outputs[i].IsBool), b = Values(gpuResults[i], outputs[i].IsBool);
                double difference = a.Length != b.Length ? double.PositiveInfinity : a.Zip(b, (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max();
                if (difference > 1e-4 && shown++ < 12)
                    Console.WriteLine($"batch {n}: {outputs[i].Op} -> {names[i]} [{string.Join(",", cpuResults[i].GetTensorTypeAndShape().Shape)}] differs by {F(difference, "G4")}");
            }

            Console.WriteLine($"batch {n}: {shown} of {names.Length} intermediates differ by more than 1e-4");
        }

        return 0;
    }

    private static float[] Values(Microsoft.ML.OnnxRuntime.OrtValue value, bool isBool) =>
        isBool ? value.GetTensorDataAsSpan<bool>().ToArray().Select(v => v ? 1f : 0f).ToArray() : value.GetTensorDataAsSpan<float>().ToArray();

    private static string GpuName()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name,driver_version,memory.total --format=csv,noheader")
            {
                RedirectStandardOutput = true,
            })!;
            string line = smi.StandardOutput.ReadToEnd().Trim();
            smi.WaitForExit();
            return line.Length > 0 ? line : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no nvidia-smi)";
        }
    }
}
