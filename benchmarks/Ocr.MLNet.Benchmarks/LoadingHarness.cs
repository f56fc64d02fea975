using System.Diagnostics;
using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using static Ocr.MLNet.Benchmarks.Harness;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>loading</c>: images/s of the EMNIST and SD19 loaders (load + a cursor over every row's pixels) against reading
/// and decompressing/decoding the same files and nothing else, and of the two preprocessing implementations
/// (<see cref="CharacterImageConverter"/> in C#, the ONNX graph in ONNX Runtime at batch 1 and batched) against
/// decoding alone. Alternating rounds in one process.
/// </summary>
internal static class LoadingHarness
{
    public static int Run(string[] args)
    {
        int rounds = IntArg(args, "--rounds", 3);
        int preprocessCount = IntArg(args, "--images", 1024);
        int batch = IntArg(args, "--batch", 256);
        preprocessCount = Math.Max(batch, preprocessCount / batch * batch);
        string data = DataDirectory(args);
        string emnistDir = Path.Combine(data, "emnist-byclass-test");
        string sd19Dir = Path.Combine(data, "nist-sd19-by_class-vowels");
        string emnistImages = Directory.GetFiles(emnistDir, "*-images-idx3-ubyte*").Single();
        string emnistLabels = Directory.GetFiles(emnistDir, "*-labels-idx1-ubyte*").Single();
        var sd19Files = Directory.EnumerateFiles(sd19Dir, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var mlContext = new MLContext(seed: 1);
        Console.WriteLine($"loading: {MachineLine()}; {rounds} rounds");

        int emnistCount = 0;
        var loading = new (string Name, Func<int> Run)[]
        {
            ("EMNIST byclass test: read + gunzip images and labels (baseline)", () => Gunzip(emnistImages, 16, 28 * 28) + (0 * Gunzip(emnistLabels, 8, 1))),
            ("EMNIST byclass test: LoadFromEmnist + cursor over Label, Pixels", () =>
                emnistCount = InferenceHarness.ReadAll(mlContext.Data.LoadFromEmnist(emnistDir, "test"), "Label", "Pixels")),
            ("SD19 vowels: read + decode every PNG with SkiaSharp (baseline)", () =>
            {
                foreach (string f in sd19Files)
                {
                    using var bitmap = SKBitmap.Decode(f);
                }

                return sd19Files.Length;
            }),
            ("SD19 vowels: LoadFromNistSd19 + cursor over Label, Pixels", () =>
                InferenceHarness.ReadAll(mlContext.Data.LoadFromNistSd19(sd19Dir), "Label", "Pixels")),
        };

        // Warm the page cache and the JIT once (not timed).
        foreach (var v in loading)
            v.Run();
        var loadRates = Measure(loading, rounds);
        Console.WriteLine($"EMNIST rows: {emnistCount}, SD19 files: {sd19Files.Length}");

        // Preprocessing on images decoded up front: the C# converter, the ONNX graph at batch 1 and batched.
        var picked = Sd19Files(args, preprocessCount);
        var bitmaps = picked.Select(f => SKBitmap.Decode(f)).ToArray();
        var images = picked.Select(MLImage.CreateFromFile).ToArray();
        var pixels = new float[CharacterImageConverter.PixelCount];
        var argbOne = new byte[OrtBaseline.ImageBytes];
        var argbBatch = new byte[OrtBaseline.ImageBytes * batch];
        using var ort = new OrtBaseline(NetworkOnnxForPreprocessingOnly());
        var preprocessing = new (string Name, Func<int> Run)[]
        {
            ($"decode {preprocessCount} SD19 PNGs only (baseline)", () =>
            {
                foreach (string f in picked)
                {
                    using var bitmap = SKBitmap.Decode(f);
                }

                return picked.Length;
            }),
            ("CharacterImageConverter.ToEmnistPixels (C#)", () =>
            {
                foreach (var b in bitmaps)
                    CharacterImageConverter.ToEmnistPixels(b, InkPolarity.Detect, pixels);
                return bitmaps.Length;
            }),
            ("ONNX preprocessing graph in ORT, batch 1 (incl. ARGB planes)", () =>
            {
                foreach (var image in images)
                {
                    OrtBaseline.ExtractArgb(image, argbOne);
                    ort.Preprocess(argbOne, 1);
                }

                return images.Length;
            }),
            ($"ONNX preprocessing graph in ORT, batch {batch} (incl. ARGB planes)", () =>
            {
                for (int i = 0; i < images.Length; i += batch)
                {
                    for (int j = 0; j < batch; j++)
                        OrtBaseline.ExtractArgb(images[i + j], argbBatch.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
                    ort.Preprocess(argbBatch, batch);
                }

                return images.Length;
            }),
        };
        foreach (var v in preprocessing)
            v.Run();
        var preRates = Measure(preprocessing, rounds);

        // One table over both sets: the preprocessing variants follow the loading ones.
        int pre = loading.Length;
        PrintRatioTable("images/s", [.. loading.Select(v => v.Name), .. preprocessing.Select(v => v.Name)], [.. loadRates, .. preRates],
            (1, 0, ""), (3, 2, ""), (pre + 1, pre, ""), (pre + 2, pre, ""), (pre + 3, pre, ""), (pre + 3, pre + 1, ""));
        Console.WriteLine($"load at end: {Load()}");
        foreach (var b in bitmaps)
            b.Dispose();
        foreach (var i in images)
            i.Dispose();
        return 0;
    }

    /// <summary>Alternates the variants in rounds; images/s per variant per round.</summary>
    private static List<double>[] Measure((string Name, Func<int> Run)[] variants, int rounds)
    {
        var rates = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < variants.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                int n = variants[i].Run();
                rates[i].Add(n / clock.Elapsed.TotalSeconds);
            }

            Console.WriteLine($"round {round + 1}: " + string.Join(", ", rates.Select(t => F(t[^1], "F0"))) + $" images/s; load {Load()}");
        }

        return rates;
    }

    /// <summary>Reads and decompresses an IDX file; returns the item count (bytes after the header / item size).</summary>
    private static int Gunzip(string path, int headerBytes, int itemSize)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return (int)((buffer.Length - headerBytes) / itemSize);
    }

    /// <summary>The preprocessing measurements need no trained network: a fresh one, exported, fills the baseline's second session.</summary>
    private static byte[] NetworkOnnxForPreprocessingOnly()
    {
        TorchBackend.EnsureLoaded();
        using var network = new CharacterCnnNetwork(10);
        return Training.CharacterCnnOnnxExporter.Export(network, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    }
}
