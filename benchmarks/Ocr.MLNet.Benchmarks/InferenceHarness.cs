using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using static Ocr.MLNet.Benchmarks.Harness;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>latency</c>: single-image <see cref="PredictionEngine{TSrc, TDst}"/> latency against bare ONNX Runtime on the
/// same input. <c>transform</c>: <c>Transform</c> throughput over an IDataView of N images against bare ONNX Runtime
/// at batch 1 and at a large batch, and the cost of each transformer of the chain (growing prefixes).
/// Every measurement alternates with its baseline in rounds; ratios are per round, the median reported.
/// </summary>
internal static class InferenceHarness
{
    public static int Latency(string[] args)
    {
        int rounds = IntArg(args, "--rounds", 7);
        int iterations = IntArg(args, "--iterations", 300);
        Console.WriteLine($"latency: {MachineLine()}");
        using var setup = new Setup(args);
        string png = Sd19Files(args, 1)[0];
        using var image = MLImage.CreateFromFile(png);
        // ML.NET's ResizeImages disposes the MLImage it reads, so every prediction gets a fresh one, made from the
        // decoded pixels (a 64 KB copy); the baseline makes one the same way.
        byte[] rawPixels = image.Pixels.ToArray();
        var format = image.PixelFormat;
        var pixels = TrainingThroughput.MakeRows(1)[0].Pixels;
        var argb = new byte[OrtBaseline.ImageBytes];

        var ctx = setup.MLContext;
        var noOwn = new PredictionEngineOptions { OwnsTransformer = false };
        using var pePixels = ctx.Model.CreatePredictionEngine<CharacterPixels, CharacterPrediction>(setup.PixelScorer, noOwn);
        using var peOnnxOnly = ctx.Model.CreatePredictionEngine<CharacterPixels, ScoreOnly>(setup.PixelChain[0], noOwn);
        using var peImage = ctx.Model.CreatePredictionEngine<CharacterImage, CharacterPrediction>(setup.ImageModel, noOwn);
        using var pePath = ctx.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(setup.PathModel, noOwn);
        var pixelInput = new CharacterPixels { Pixels = pixels };
        var pathInput = new CharacterImagePath { ImagePath = png };
        var ort = setup.Ort;
        using var ortOneThread = new OrtBaseline(NetworkOnnx(setup.ModelPath), intraOpThreads: 1);
        // The same saved chain loaded by plain ML.NET, whose sessions get ONNX Runtime's default threads (LoadCharacterModel's
        // run on one intra-op thread each unless the context sets ONNX session options).
        var plainContext = new MLContext(seed: 1);
        var plainPathModel = plainContext.Model.Load(setup.ModelPath, out _);
        using var pePathPlain = plainContext.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(plainPathModel);
        // ONNX Runtime's default is one thread per physical core where it can count them, and one here where it cannot: the
        // same chain with a thread per core stands for that default on such machines.
        var perCoreContext = new MLContext(seed: 1);
        perCoreContext.SetOnnxSessionOption(new OnnxSessionOptions { IntraOpNumThreads = Environment.ProcessorCount });
        var perCorePathModel = perCoreContext.Model.Load(setup.ModelPath, out _);
        using var pePathPerCore = perCoreContext.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(perCorePathModel);

        var variants = new (string Name, Action Run)[]
        {
            ("bare ORT network, 1×1×32×32 (OrtValue API)", () => ort.Network(pixels, 1)),
            ("PredictionEngine, pixels (LoadCharacterModel Pixels)", () => pePixels.Predict(pixelInput)),
            ("PredictionEngine, ApplyOnnxModel only (Score)", () => peOnnxOnly.Predict(pixelInput)),
            ("bare ORT network, 1×1×32×32, 1 intra-op thread", () => ortOneThread.Network(pixels, 1)),
            ("bare ORT network, 1×1×32×32, NamedOnnxValue API", () => ort.NetworkNamedOnnxValue(pixels, 1)),
            ("bare ORT: ARGB planes + preprocessing graph + network", () =>
            {
                using var fresh = MLImage.CreateFromPixels(OrtBaseline.Side, OrtBaseline.Side, format, rawPixels);
                OrtBaseline.ExtractArgb(fresh, argb);
                ort.PreprocessAndScore(argb, 1);
            }),
            ("PredictionEngine, in-memory MLImage (LoadCharacterModel Image)", () => peImage.Predict(new CharacterImage { Image = MLImage.CreateFromPixels(OrtBaseline.Side, OrtBaseline.Side, format, rawPixels) })),
            ("bare ORT: decode PNG + ARGB planes + preprocessing graph + network", () =>
            {
                using var decoded = MLImage.CreateFromFile(png);
                OrtBaseline.ExtractArgb(decoded, argb);
                ort.PreprocessAndScore(argb, 1);
            }),
            ("PredictionEngine, image path (the saved chain)", () => pePath.Predict(pathInput)),
            // The engines' sessions run on one intra-op thread each (ServingThreads.PerImage); so do these two sessions.
            ("bare ORT, 1 intra-op thread: ARGB planes + preprocessing graph + network", () =>
            {
                using var fresh = MLImage.CreateFromPixels(OrtBaseline.Side, OrtBaseline.Side, format, rawPixels);
                OrtBaseline.ExtractArgb(fresh, argb);
                ortOneThread.PreprocessAndScore(argb, 1);
            }),
            ("bare ORT, 1 intra-op thread: decode PNG + ARGB planes + preprocessing graph + network", () =>
            {
                using var decoded = MLImage.CreateFromFile(png);
                OrtBaseline.ExtractArgb(decoded, argb);
                ortOneThread.PreprocessAndScore(argb, 1);
            }),
            ("PredictionEngine, image path, plain Model.Load (ONNX Runtime's default threads)", () => pePathPlain.Predict(pathInput)),
            ($"PredictionEngine, image path, plain Model.Load, {Environment.ProcessorCount} intra-op threads (one per core)", () => pePathPerCore.Predict(pathInput)),
        };

        // Both sides compute the same scores from the same input.
        using (var decoded = MLImage.CreateFromFile(png))
        {
            OrtBaseline.ExtractArgb(decoded, argb);
            float[] barePath = ort.Scores(ort.Preprocess(argb, 1), 1);
            float[] bareScores = ort.Scores(pixels, 1);
            Console.WriteLine("max |Score difference|, PredictionEngine vs bare ORT: pixels "
                + F(pePixels.Predict(pixelInput).Score.Zip(bareScores, (a, b) => Math.Abs(a - b)).Max(), "G3")
                + ", image path " + F(pePath.Predict(pathInput).Score.Zip(barePath, (a, b) => Math.Abs(a - b)).Max(), "G3")
                + ", in-memory image " + F(peImage.Predict(new CharacterImage { Image = MLImage.CreateFromPixels(OrtBaseline.Side, OrtBaseline.Side, format, rawPixels) })
                    .Score.Zip(barePath, (a, b) => Math.Abs(a - b)).Max(), "G3")
                + ", image path through plain Model.Load " + F(pePathPlain.Predict(pathInput).Score.Zip(barePath, (a, b) => Math.Abs(a - b)).Max(), "G3"));
        }

        // Warm up every variant (JIT, ORT's first run), then alternate.
        foreach (var v in variants)
            SecondsPerCall(20, v.Run);
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            // Each round starts at a different variant, so none always follows the same neighbour.
            foreach (int i in RoundOrder(round, variants.Length))
            {
                Thread.Sleep(VariantPause);
                times[i].Add(SecondsPerCall(iterations, variants[i].Run) * 1e6);
            }
            Console.WriteLine($"round {round + 1}: " + string.Join(", ", times.Select(t => F(t[^1], "F0"))) + $" µs; load {Load()}");
        }

        PrintRatioTable("µs per image", variants.Select(v => v.Name).ToList(), times,
            (1, 0, "≤ 1.5"), (2, 0, ""), (3, 0, ""), (4, 0, ""), (1, 4, ""), (6, 5, "≤ 1.5"), (8, 7, "≤ 1.5"), (6, 0, ""), (8, 0, ""), (8, 11, ""), (8, 12, ""), (8, 3, ""), (9, 3, ""), (10, 3, ""), (6, 9, ""), (8, 10, ""));
        Console.WriteLine($"load at end: {Load()}");
        return 0;
    }

    public static int Transform(string[] args)
    {
        int rows = IntArg(args, "--rows", 1024);
        int batch = IntArg(args, "--batch", 256);
        int rounds = IntArg(args, "--rounds", 5);
        rows = Math.Max(batch, rows / batch * batch);
        Console.WriteLine($"transform: {MachineLine()}; {rows} rows, bare batch {batch}, {rounds} rounds");
        using var setup = new Setup(args);
        var ctx = setup.MLContext;
        var ort = setup.Ort;

        var pixelRows = TrainingThroughput.MakeRows(rows);
        var pixelData = ctx.Data.LoadFromEnumerable(pixelRows.Select(r => new CharacterPixels { Pixels = r.Pixels }).ToList());
        var allPixels = pixelRows.SelectMany(r => r.Pixels).ToArray();
        var paths = Sd19Files(args, rows);
        var pathData = ctx.Data.LoadFromEnumerable(paths.Select(p => new CharacterImagePath { ImagePath = p }).ToList());
        var one = new float[OrtBaseline.PixelCount];
        var argbOne = new byte[OrtBaseline.ImageBytes];
        var argbBatch = new byte[OrtBaseline.ImageBytes * batch];
        var pixelBatch = new float[OrtBaseline.PixelCount * batch];

        var variants = new (string Name, Action Run)[]
        {
            ("bare ORT network, batch 1", () =>
            {
                for (int i = 0; i < rows; i++)
                {
                    Array.Copy(allPixels, i * OrtBaseline.PixelCount, one, 0, OrtBaseline.PixelCount);
                    ort.Network(one, 1);
                }
            }),
            ($"bare ORT network, batch {batch}", () =>
            {
                for (int i = 0; i < rows; i += batch)
                {
                    Array.Copy(allPixels, i * OrtBaseline.PixelCount, pixelBatch, 0, pixelBatch.Length);
                    ort.Network(pixelBatch, batch);
                }
            }),
            ("Transform, pixels (LoadCharacterModel Pixels)", () => ReadAll(setup.PixelScorer.Transform(pixelData), "Score", "PredictedCharacter")),
            ("bare ORT: decode + planes + preprocessing + network, batch 1", () =>
            {
                foreach (string p in paths)
                {
                    using var image = MLImage.CreateFromFile(p);
                    OrtBaseline.ExtractArgb(image, argbOne);
                    ort.PreprocessAndScore(argbOne, 1);
                }
            }),
            ($"bare ORT: decode + planes + preprocessing + network, batch {batch}", () =>
            {
                for (int i = 0; i < rows; i += batch)
                {
                    for (int j = 0; j < batch; j++)
                    {
                        using var image = MLImage.CreateFromFile(paths[i + j]);
                        OrtBaseline.ExtractArgb(image, argbBatch.AsSpan(j * OrtBaseline.ImageBytes, OrtBaseline.ImageBytes));
                    }

                    ort.PreprocessAndScore(argbBatch, batch);
                }
            }),
            ("Transform, image paths (the saved chain)", () => ReadAll(setup.PathModel.Transform(pathData), "Score", "PredictedCharacter")),
            ("bare ORT network, batch 1, NamedOnnxValue API", () =>
            {
                for (int i = 0; i < rows; i++)
                {
                    Array.Copy(allPixels, i * OrtBaseline.PixelCount, one, 0, OrtBaseline.PixelCount);
                    ort.NetworkNamedOnnxValue(one, 1);
                }
            }),
        };

        var rates = ThroughputRounds(variants, rows, rounds);

        PrintRatioTable("images/s", variants.Select(v => v.Name).ToList(), rates,
            (2, 0, "≥ 0.8"), (2, 1, "≥ 0.8"), (5, 3, "≥ 0.8"), (5, 4, "≥ 0.8"), (2, 6, ""));

        Console.WriteLine();
        Console.WriteLine("Cost of each transformer, from the time of growing prefixes of the chain (Transform + cursor, row by row):");
        Breakdown(pathData, setup.PathChain, rows, rounds);

        // The label mapping after the network, alone: its input is what the network's ApplyOnnxModel writes (Score, a
        // one-element PredictedCharacter vector), here from memory, so ONNX Runtime's noise does not drown its few µs.
        int tailRows = 20 * rows;
        var names = NetworkClassNames(setup);
        var tailInput = ctx.Data.LoadFromEnumerable(Enumerable.Range(0, tailRows)
            .Select(i => new NetworkOutput { Score = new float[names.Length], PredictedCharacter = [names[i % names.Length]] }).ToList());
        Console.WriteLine();
        Console.WriteLine($"The label mapping alone ({tailRows} rows of network output from memory; prefix 0 reads Score and PredictedCharacter of the input):");
        Breakdown(tailInput, setup.PixelChain.Skip(1).ToList(), tailRows, rounds, includeEmptyPrefix: true);
        Console.WriteLine($"load at end: {Load()}");
        return 0;
    }

    /// <summary>Times Transform over every prefix of <paramref name="chain"/> (interleaved in rounds) and prints µs per row and per transformer.</summary>
    private static void Breakdown(IDataView input, IReadOnlyList<ITransformer> chain, int rows, int rounds, bool includeEmptyPrefix = false)
    {
        int first = includeEmptyPrefix ? 0 : 1;
        var prefixes = Enumerable.Range(first, chain.Count + 1 - first).Select(k => (ITransformer)new TransformerChain<ITransformer>(chain.Take(k).ToArray())).ToArray();
        var read = new string[prefixes.Length][];
        DataViewSchema previous = input.Schema;
        for (int k = 0; k < prefixes.Length; k++)
        {
            if (includeEmptyPrefix && k == 0)
            {
                read[0] = ["Score", "PredictedCharacter"];
                continue;
            }

            var schema = prefixes[k].GetOutputSchema(input.Schema);
            // The columns the last transformer added or replaced (a new name, or a new type under an old name); from the network on, Score too.
            var added = schema.Where(c => !c.IsHidden && (previous.GetColumnOrNull(c.Name) is not { IsHidden: false } old || !old.Type.Equals(c.Type)))
                .Select(c => c.Name).ToList();
            if (schema.GetColumnOrNull("Score") is { IsHidden: false } && !added.Contains("Score"))
                added.Add("Score");
            if (added.Count == 1 && added[0] == "Score" && schema.GetColumnOrNull("PredictedCharacter") is { IsHidden: false })
                added.Add("PredictedCharacter");
            read[k] = [.. added];
            previous = schema;
        }

        foreach (var p in prefixes)
            ReadAll(p.Transform(input), read[Array.IndexOf(prefixes, p)]);
        var times = prefixes.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < prefixes.Length; k++)
            {
                var clock = Stopwatch.StartNew();
                ReadAll(prefixes[k].Transform(input), read[k]);
                times[k].Add(clock.Elapsed.TotalSeconds * 1e6 / rows);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| prefix ends with | columns read | µs per row (median) | added by this transformer (µs) |");
        Console.WriteLine("|---|---|---:|---:|");
        double before = 0;
        for (int k = 0; k < prefixes.Length; k++)
        {
            double t = Median(times[k]);
            int length = k + first;
            string name = length == 0 ? "0. (input only)" : $"{length}. {TransformerName(chain[length - 1])}";
            Console.WriteLine($"| {name} | {string.Join(", ", read[k])} | {F(t, "F2")} | {F(t - before, "F2")} |");
            before = t;
        }
    }

    /// <summary>
    /// Runs every variant once (warm-up), then <paramref name="rounds"/> rounds in rotating order; images/s per variant per round.
    /// Each measured variant starts after a pause: an ONNX Runtime session's intra-op threads keep spinning for a while after
    /// its last run and took a fifth of the cores' time from the next variant's session (ScorePixels after the bare network
    /// at batch 1: 7,000 images/s; after its own run or a 200 ms pause: 8,800, as the bare network).
    /// </summary>
    public static List<double>[] ThroughputRounds((string Name, Action Run)[] variants, int rows, int rounds)
    {
        foreach (var v in variants)
            v.Run();
        var rates = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            foreach (int i in RoundOrder(round, variants.Length))
            {
                Thread.Sleep(VariantPause);
                var clock = Stopwatch.StartNew();
                variants[i].Run();
                rates[i].Add(rows / clock.Elapsed.TotalSeconds);
            }

            Console.WriteLine($"round {round + 1}: " + string.Join(", ", rates.Select(t => F(t[^1], "F0"))) + $" images/s; load {Load()}");
        }

        return rates;
    }

    /// <summary>The pause before each measured variant (see <see cref="ThroughputRounds"/>).</summary>
    private static readonly TimeSpan VariantPause = TimeSpan.FromMilliseconds(250);

    /// <summary>The variants' order in round <paramref name="round"/>: all of them, starting one further each round.</summary>
    public static IEnumerable<int> RoundOrder(int round, int count) => Enumerable.Range(0, count).Select(i => (i + round) % count);

    public static string TransformerName(ITransformer t)
    {
        string name = t.GetType().Name;
        return name.EndsWith("Transformer", StringComparison.Ordinal) ? name[..^"Transformer".Length] : name;
    }

    /// <summary>Cursors over <paramref name="view"/> reading <paramref name="columns"/> of every row; returns the rows read.</summary>
    public static int ReadAll(IDataView view, params string[] columns)
    {
        var cols = columns.Select(c => view.Schema[c]).ToArray();
        using var cursor = view.GetRowCursor(cols);
        var readers = cols.Select(c => Reader(cursor, c)).ToArray();
        int n = 0;
        while (cursor.MoveNext())
        {
            foreach (var r in readers)
                r();
            n++;
        }

        return n;
    }

    private static Action Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        switch (column.Type)
        {
            case VectorDataViewType { ItemType: TextDataViewType }:
            {
                var g = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
                VBuffer<ReadOnlyMemory<char>> b = default;
                return () => g(ref b);
            }

            case VectorDataViewType:
            {
                var g = cursor.GetGetter<VBuffer<float>>(column);
                VBuffer<float> b = default;
                return () => g(ref b);
            }

            case TextDataViewType:
            {
                var g = cursor.GetGetter<ReadOnlyMemory<char>>(column);
                ReadOnlyMemory<char> b = default;
                return () => g(ref b);
            }

            case KeyDataViewType:
            {
                var g = cursor.GetGetter<uint>(column);
                uint b = 0;
                return () => g(ref b);
            }

            case Microsoft.ML.Transforms.Image.ImageDataViewType:
            {
                var g = cursor.GetGetter<MLImage>(column);
                MLImage b = null!;
                return () => g(ref b);
            }

            default:
            {
                var g = cursor.GetGetter<uint>(column);
                uint b = 0;
                return () => g(ref b);
            }
        }
    }

    /// <summary>The model under test, loaded as an app loads it, with the image chains in front and a bare ORT baseline.</summary>
    private sealed class Setup : IDisposable
    {
        public Setup(string[] args)
        {
            path = Harness.ModelPath(args, out trainedHere);
            MLContext = new MLContext(seed: 1);
            PixelScorer = MLContext.Model.LoadCharacterModel(path, CharacterModelInput.Pixels);
            PixelChain = Flatten(PixelScorer);
            ImageModel = MLContext.Model.LoadCharacterModel(path, CharacterModelInput.Image);
            PathModel = MLContext.Model.LoadCharacterModel(path, CharacterModelInput.ImagePath);
            PathChain = Flatten(PathModel);
            Ort = new OrtBaseline(NetworkOnnx(path));
            Console.WriteLine("pixel chain: " + string.Join(" → ", PixelChain.Select(TransformerName)));
            Console.WriteLine("path chain:  " + string.Join(" → ", PathChain.Select(TransformerName)));
        }

        public MLContext MLContext { get; }

        public string ModelPath => path;

        public ITransformer PixelScorer { get; }

        public IReadOnlyList<ITransformer> PixelChain { get; }

        public ITransformer ImageModel { get; }

        public ITransformer PathModel { get; }

        public IReadOnlyList<ITransformer> PathChain { get; }

        public OrtBaseline Ort { get; }

        private readonly string path;
        private readonly bool trainedHere;

        public void Dispose()
        {
            Ort.Dispose();
            (PathModel as IDisposable)?.Dispose();
            (ImageModel as IDisposable)?.Dispose();
            (PixelScorer as IDisposable)?.Dispose();
            if (trainedHere)
                File.Delete(path);
        }

        private static List<ITransformer> Flatten(ITransformer t) =>
            t is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten).ToList() : [t];
    }

    private static string[] NetworkClassNames(Setup setup)
    {
        var model = global::Onnx.ModelProto.Parser.ParseFrom(NetworkOnnx(setup.ModelPath));
        return model.Graph.Initializer.First(i => i.Name == Training.CharacterCnnOnnxExporter.ClassNamesInitializerName).StringData.Select(s => s.ToStringUtf8()).ToArray();
    }

    public sealed class NetworkOutput
    {
        [VectorType(47)]
        public float[] Score { get; set; } = [];

        [VectorType(1)]
        public string[] PredictedCharacter { get; set; } = [];
    }

    public sealed class ScoreOnly
    {
        public float[] Score { get; set; } = [];
    }
}
