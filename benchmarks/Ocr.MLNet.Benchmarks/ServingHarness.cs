using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Serving;
using static Ocr.MLNet.Benchmarks.Harness;
using static Ocr.MLNet.Benchmarks.InferenceHarness;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>serving</c>: in one process, alternating rounds, the batched <see cref="CharacterRecognizer"/> against bare ONNX
/// Runtime at the same batch and against ML.NET's per-row Transform; the preprocessing graph against the network per image;
/// and the PredictionEngine from an image path.
/// </summary>
internal static class ServingHarness
{
    public static int Run(string[] args)
    {
        int rows = IntArg(args, "--rows", 1024);
        int batch = IntArg(args, "--batch", 256);
        int rounds = IntArg(args, "--rounds", 5);
        rows = Math.Max(batch, rows / batch * batch);
        Console.WriteLine($"serving: {MachineLine()}; {rows} images, batch {batch}, {rounds} rounds");
        string modelPath = ModelPath(args, out bool trainedHere);
        var ctx = new MLContext(seed: 1);
        using var recognizer = CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { BatchSize = batch });
        using var ort = new OrtBaseline(NetworkOnnx(modelPath));
        var pixelScorer = ctx.Model.LoadCharacterModel(modelPath, CharacterModelInput.Pixels);
        var pathModel = ctx.Model.LoadCharacterModel(modelPath, CharacterModelInput.ImagePath);
        using var disposeModels = new Disposables(pixelScorer, pathModel);
        using var engine = ctx.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(pathModel, new PredictionEngineOptions { OwnsTransformer = false });

        var pixelRows = TrainingThroughput.MakeRows(rows);
        float[] allPixels = pixelRows.SelectMany(r => r.Pixels).ToArray();
        var pixelData = ctx.Data.LoadFromEnumerable(pixelRows.Select(r => new CharacterPixels { Pixels = r.Pixels }).ToList());
        string[] paths = Sd19Files(args, rows);
        var pathData = ctx.Data.LoadFromEnumerable(paths.Select(p => new CharacterImagePath { ImagePath = p }).ToList());
        var images = paths.Select(MLImage.CreateFromFile).ToList();
        using var disposeImages = new Disposables([.. images]);
        var argb = new byte[OrtBaseline.ImageBytes * batch];
        var argbOne = new byte[OrtBaseline.ImageBytes];
        var pixelBatch = new float[OrtBaseline.PixelCount * batch];
        for (int j = 0; j < batch; j++)
            OrtBaseline.ExtractArgb(images[j], argb.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
        float[] preparedBatch = ort.Preprocess(argb, batch);
        OrtBaseline.ExtractArgb(images[0], argbOne);

        // The same scores on both sides, before anything is timed.
        float[] bare = ort.Scores(preparedBatch, batch);
        float[] mine = recognizer.Score(images.Take(batch).ToList());
        float[] engineScores = engine.Predict(new CharacterImagePath { ImagePath = paths[0] }).Score;
        Console.WriteLine($"max |Score difference|: recognizer vs bare ORT (images) {F(bare.Zip(mine, (a, b) => Math.Abs(a - b)).Max(), "G3")}, "
            + $"recognizer vs PredictionEngine (first path) {F(engineScores.Zip(mine, (a, b) => Math.Abs(a - b)).Max(), "G3")}");

        var variants = new (string Name, Action Run)[]
        {
            ($"bare ORT network, batch {batch}", () => Batches(rows, batch, i =>
            {
                Array.Copy(allPixels, i * OrtBaseline.PixelCount, pixelBatch, 0, pixelBatch.Length);
                ort.Network(pixelBatch, batch);
            })),
            ($"CharacterRecognizer.ScorePixels, batch {batch}", () => recognizer.ScorePixels(allPixels)),
            ("Transform, pixels (LoadCharacterModel Pixels)", () => ReadAll(pixelScorer.Transform(pixelData), "Score", "PredictedCharacter")),
            ($"bare ORT: ARGB planes + preprocessing + network, batch {batch}", () => Batches(rows, batch, i =>
            {
                for (int j = 0; j < batch; j++)
                    OrtBaseline.ExtractArgb(images[i + j], argb.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
                ort.PreprocessAndScore(argb, batch);
            })),
            ($"CharacterRecognizer.ScoreImages, batch {batch}", () => recognizer.Score(images)),
            ($"bare ORT: decode + planes + preprocessing + network, batch {batch}", () => Batches(rows, batch, i =>
            {
                for (int j = 0; j < batch; j++)
                {
                    using var image = MLImage.CreateFromFile(paths[i + j]);
                    OrtBaseline.ExtractArgb(image, argb.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
                }

                ort.PreprocessAndScore(argb, batch);
            })),
            ($"CharacterRecognizer.ScoreImageFiles, batch {batch}", () => recognizer.Score(paths)),
            ("Transform, image paths (the saved chain)", () => ReadAll(pathModel.Transform(pathData), "Score", "PredictedCharacter")),
            ("PredictionEngine, image path (one call per image)", () =>
            {
                foreach (string p in paths)
                    engine.Predict(new CharacterImagePath { ImagePath = p });
            }),
            ("bare ORT: decode + planes + preprocessing + network, batch 1", () =>
            {
                foreach (string p in paths)
                {
                    using var image = MLImage.CreateFromFile(p);
                    OrtBaseline.ExtractArgb(image, argbOne);
                    ort.PreprocessAndScore(argbOne, 1);
                }
            }),
            ($"bare ORT preprocessing graph alone, batch {batch}", () => Batches(rows, batch, _ => ort.Preprocess(argb, batch))),
            ("bare ORT preprocessing graph alone, batch 1", () => Batches(rows, 1, _ => ort.Preprocess(argbOne, 1))),
            ("bare ORT network, batch 1", () => Batches(rows, 1, i => ort.Network(allPixels[(i * OrtBaseline.PixelCount)..((i + 1) * OrtBaseline.PixelCount)], 1))),
        };

        var rates = ThroughputRounds(variants, rows, rounds);

        PrintRatioTable("images/s", variants.Select(v => v.Name).ToList(), rates,
            (1, 0, "≥ 0.9"), (2, 0, ""), (4, 3, "≥ 0.9"), (6, 5, "≥ 0.9"), (7, 5, ""), (6, 7, ""), (8, 9, ""));
        // Cost per image is 1 / rate: preprocessing per image over network per image = network rate / preprocessing rate.
        Console.WriteLine();
        Console.WriteLine("| preprocessing graph per image ÷ network per image | ratio (median of rounds) | target |");
        Console.WriteLine("|---|---:|---|");
        Console.WriteLine($"| batch {batch} | {F(Median(rates[0].Zip(rates[10], (n, p) => n / p)), "F3")} | ≤ 0.4 |");
        Console.WriteLine($"| batch 1 | {F(Median(rates[12].Zip(rates[11], (n, p) => n / p)), "F3")} | ≤ 0.4 |");
        Console.WriteLine($"PredictionEngine from a path: {F(1e6 / Median(rates[8]), "F0")} µs per image (target ≤ 700)");
        Console.WriteLine($"load at end: {Load()}");
        if (trainedHere)
            File.Delete(modelPath);
        return 0;
    }

    private static void Batches(int rows, int batch, Action<int> run)
    {
        for (int i = 0; i < rows; i += batch)
            run(i);
    }

    private sealed class Disposables(params object[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
                (item as IDisposable)?.Dispose();
        }
    }
}
