using Microsoft.ML.Data;
using static Ocr.MLNet.Benchmarks.Harness;
using static Ocr.MLNet.Benchmarks.InferenceHarness;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>preprocessing</c>: the preprocessing graph's cost per image over the network's, in bare ONNX Runtime at batch 1 and
/// batched, for the graph the library builds now and for the graph saved inside the model given (the baseline: a model
/// saved before a graph change carries the previous graph). One process, alternating rounds, SD19 PNGs as input. Also the
/// graph as <see cref="Serving.CharacterRecognizer"/> runs it on the CPU: chunks of 16 images, each on one intra-op thread,
/// as many side by side as there are cores.
/// </summary>
internal static class PreprocessingHarness
{
    public static int Run(string[] args)
    {
        int batch = IntArg(args, "--batch", 256);
        int rows = IntArg(args, "--rows", 1024);
        int rounds = IntArg(args, "--rounds", 5);
        rows = Math.Max(batch, rows / batch * batch);
        Console.WriteLine($"preprocessing: {MachineLine()}; {rows} images, batch {batch} and 1, {rounds} rounds");
        string modelPath = ModelPath(args, out bool trainedHere);
        byte[] networkOnnx = NetworkOnnx(modelPath);
        using var current = new OrtBaseline(networkOnnx);
        using var saved = new OrtBaseline(networkOnnx, preprocessingOnnx: PreprocessingOnnx(modelPath));
        using var oneThread = new OrtBaseline(networkOnnx, intraOpThreads: 1);
        // ONNX Runtime's default is a thread per physical core where it can count them (one on a machine where it cannot):
        // a thread per core stands for that default everywhere.
        int cores = Environment.ProcessorCount;
        using var perCore = new OrtBaseline(networkOnnx, intraOpThreads: cores);

        string[] paths = Sd19Files(args, batch);
        var argb = new byte[OrtBaseline.ImageBytes * batch];
        for (int j = 0; j < batch; j++)
        {
            using var image = MLImage.CreateFromFile(paths[j]);
            OrtBaseline.ExtractArgb(image, argb.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
        }

        var argbOne = argb[..OrtBaseline.ImageBytes];
        float[] pixels = current.Preprocess(argb, batch);
        float[] savedPixels = saved.Preprocess(argb, batch);
        Console.WriteLine($"max |pixel difference| current graph vs saved graph on {batch} SD19 PNGs: {F(pixels.Zip(savedPixels, (a, b) => Math.Abs(a - b)).Max(), "G3")}");
        var pixelsOne = pixels[..OrtBaseline.PixelCount];
        const int Chunk = 16;
        if (batch % Chunk != 0)
            throw new ArgumentException($"--batch {batch}: use a multiple of {Chunk}, the recognizer's preprocessing chunk.");
        byte[][] chunks = Enumerable.Range(0, batch / Chunk).Select(c => argb[(c * Chunk * OrtBaseline.ImageBytes)..((c + 1) * Chunk * OrtBaseline.ImageBytes)]).ToArray();

        void Batches(int size, Action run)
        {
            for (int i = 0; i < rows; i += size)
                run();
        }

        var variants = new (string Name, Action Run)[]
        {
            ($"network, batch {batch}", () => Batches(batch, () => current.Network(pixels, batch))),
            ($"preprocessing graph built now, batch {batch}", () => Batches(batch, () => current.Preprocess(argb, batch))),
            ($"preprocessing graph saved in the model, batch {batch}", () => Batches(batch, () => saved.Preprocess(argb, batch))),
            ("network, batch 1", () => Batches(1, () => current.Network(pixelsOne, 1))),
            ("preprocessing graph built now, batch 1", () => Batches(1, () => current.Preprocess(argbOne, 1))),
            ("preprocessing graph saved in the model, batch 1", () => Batches(1, () => saved.Preprocess(argbOne, 1))),
            ("preprocessing graph built now, batch 1, one intra-op thread", () => Batches(1, () => oneThread.Preprocess(argbOne, 1))),
            ("network, batch 1, one intra-op thread", () => Batches(1, () => oneThread.Network(pixelsOne, 1))),
            ($"preprocessing graph built now, batch {batch}, one intra-op thread", () => Batches(batch, () => oneThread.Preprocess(argb, batch))),
            ($"preprocessing graph built now, {batch} images in chunks of {Chunk}, one intra-op thread each, {cores} side by side",
                () => Batches(batch, () => Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = cores },
                    c => oneThread.Preprocess(chunks[c], Chunk)))),
            ($"preprocessing graph built now, batch 1, {cores} intra-op threads", () => Batches(1, () => perCore.Preprocess(argbOne, 1))),
            ($"network, batch 1, {cores} intra-op threads", () => Batches(1, () => perCore.Network(pixelsOne, 1))),
        };
        var rates = ThroughputRounds(variants, rows, rounds);
        PrintRatioTable("images/s", variants.Select(v => v.Name).ToList(), rates, (1, 2, ""), (4, 5, ""), (6, 4, ""), (8, 1, ""), (9, 1, ""), (6, 10, ""));

        // Cost per image is 1 / rate, so preprocessing ÷ network per image = network rate ÷ preprocessing rate.
        double Ratio(int network, int graph) => Median(rates[network].Zip(rates[graph], (n, p) => n / p));
        Console.WriteLine();
        Console.WriteLine("| preprocessing ÷ network per image | graph built now | graph saved in the model | target |");
        Console.WriteLine("|---|---:|---:|---|");
        Console.WriteLine($"| batch {batch} | {F(Ratio(0, 1), "F3")} | {F(Ratio(0, 2), "F3")} | ≤ 0.4 |");
        Console.WriteLine($"| batch 1 | {F(Ratio(3, 4), "F3")} | {F(Ratio(3, 5), "F3")} | ≤ 0.4 |");
        Console.WriteLine($"| batch 1, one intra-op thread for both | {F(Ratio(7, 6), "F3")} | | ≤ 0.4 |");
        Console.WriteLine($"| batch 1, the graph on one intra-op thread, the network on the default | {F(Ratio(3, 6), "F3")} | | ≤ 0.4 |");
        Console.WriteLine($"| batch 1, {cores} intra-op threads for both (one per core) | {F(Ratio(11, 10), "F3")} | | ≤ 0.4 |");
        Console.WriteLine($"| batch {batch}, the graph as CharacterRecognizer runs it (chunks of {Chunk} side by side, one thread each) | {F(Ratio(0, 9), "F3")} | | ≤ 0.4 |");
        Console.WriteLine($"load at end: {Load()}");
        if (trainedHere)
            File.Delete(modelPath);
        return 0;
    }
}
