using Ocr.MLNet.Fields;
using static Ocr.MLNet.Benchmarks.Harness;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>fields</c>: the handwritten field reader on the dev folders of <c>handwritten-fields</c> (names-dev read as capitals,
/// cheque-amounts-dev as digits): fields/s and characters/s on one thread and over every core, the time split between
/// decoding, segmentation and classification (candidate preparation, batched scoring, decoding), CER and exact rate; and
/// Tesseract (<c>tesseract IMG stdout --psm 7</c> with a whitelist, one process per field) as the peer, scored with the
/// same normalisation and timed the same way. The default reader (character network in int8) and the same reader with
/// the network in float32 (<c>Int8CharacterNetwork = false</c>) alternate with their stages round by round in one process.
/// </summary>
internal static class FieldsHarness
{
    private const string Capitals = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Digits = "0123456789";

    private sealed record FieldSet(string Name, string Folder, FieldKind Kind, string Whitelist);

    public static int Run(string[] args)
    {
        int rounds = IntArg(args, "--rounds", 3);
        // The packaged character model unless --model names another: a throw-away model trained on synthetic classes
        // (what the serving harnesses use) holds no letter or digit class a field reader could read with.
        string? model = StringArg(args, "--model");
        string fieldsFolder = Path.Combine(DataDirectory(args), "handwritten-fields");
        var sets = new[]
        {
            new FieldSet("names-dev", Path.Combine(fieldsFolder, "names-dev"), FieldKind.Upper, Capitals),
            new FieldSet("cheque-amounts-dev", Path.Combine(fieldsFolder, "cheque-amounts-dev"), FieldKind.Digits, Digits),
        };
        var method = Enum.Parse<FieldReadingMethod>(StringArg(args, "--method") ?? nameof(FieldReadingMethod.Auto), ignoreCase: true);
        Console.WriteLine($"fields: {MachineLine()}; model {model ?? "packaged"}; method {method}; {rounds} rounds");
        string? tesseract = args.Contains("--no-tesseract") ? null : TesseractPeer.FindOrInstall();

        // The default reader: the character model with the packaged line model beside it (Auto: lines for digits); its
        // float32 twin is the baseline of the int8 network.
        using var reader = HandwrittenFieldReader.Load(model, lineModelPath: null, new FieldReaderOptions { Method = method });
        using var float32 = HandwrittenFieldReader.Load(model, lineModelPath: null, new FieldReaderOptions { Method = method, Int8CharacterNetwork = false });
        foreach (var set in sets)
            Measure([("int8 network (default)", reader), ("float32 network", float32)], set, rounds, tesseract);
        return 0;
    }

    private static void Measure((string Name, HandwrittenFieldReader Reader)[] readers, FieldSet set, int rounds, string? tesseract)
    {
        var reader = readers[0].Reader;
        var fields = FieldEvaluation.LoadLabels(set.Folder);
        long characters = fields.Sum(f => (long)FieldEvaluation.Normalize(f.Text).Length);
        var decoded = fields.Select(f => HandwrittenFieldReader.DecodeGrey(f.ImagePath, reader.Options.MaxImagePixels)).ToArray();
        Console.WriteLine();
        Console.WriteLine($"## {set.Name}: {fields.Count} fields, {characters} characters (truth, letters and digits), kind {set.Kind}");

        // Warm the JIT, OpenCV and ONNX Runtime on a few fields (not timed).
        var results = readers.Select(r => FieldEvaluation.Evaluate(r.Reader, fields.Take(20).ToArray(), set.Kind)).ToArray();

        var names = new[] { "read from file, 1 thread", "decode only", "segmentation only", "read decoded pixels, 1 thread", "read from file, all cores (FieldEvaluation.Evaluate)" };
        var seconds = readers.Select(_ => names.Select(_ => new List<double>()).ToArray()).ToArray();
        var cpu = readers.Select(_ => names.Select(_ => new List<double>()).ToArray()).ToArray();
        void Add(int r, int index, Action action)
        {
            var (wall, processor) = WallAndCpuSeconds(action);
            seconds[r][index].Add(wall);
            cpu[r][index].Add(processor);
        }

        for (int round = 0; round < rounds; round++)
        {
            for (int r = 0; r < readers.Length; r++)
            {
                var current = readers[r].Reader;
                Add(r, 0, () =>
                {
                    foreach (var f in fields)
                        current.Read(f.ImagePath, set.Kind);
                });
                Add(r, 1, () =>
                {
                    foreach (var f in fields)
                        HandwrittenFieldReader.DecodeGrey(f.ImagePath, current.Options.MaxImagePixels);
                });
                Add(r, 2, () =>
                {
                    foreach (var (grey, width, height) in decoded)
                        FieldSegmenter.Segment(grey, width, height, current.Options.MaxPieces);
                });
                Add(r, 3, () =>
                {
                    foreach (var (grey, width, height) in decoded)
                        current.Read(grey, width, height, set.Kind);
                });
                Add(r, 4, () => results[r] = FieldEvaluation.Evaluate(current, fields, set.Kind));
                Console.WriteLine($"round {round + 1}, {readers[r].Name}: {string.Join(", ", seconds[r].Select((s, i) => $"{names[i]} {F(s[^1], "F2")} s ({F(cpu[r][i][^1], "F2")} CPU-s)"))}; load {Load()}");
            }
        }

        Console.WriteLine();
        Console.WriteLine("| reader | fields/s, 1 thread from file | fields/s, all cores | fields per CPU-second, 1 thread | CER | exact |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        for (int r = 0; r < readers.Length; r++)
        {
            Console.WriteLine($"| {readers[r].Name} | {F(fields.Count / Median(seconds[r][0]), "F1")} | {F(fields.Count / Median(seconds[r][4]), "F1")} | "
                + $"{F(fields.Count / Median(cpu[r][0]), "F1")} | {Percent(results[r].CharacterErrorRate)} | {Percent(results[r].ExactRate)} |");
        }

        if (readers.Length > 1)
        {
            Console.WriteLine($"{readers[0].Name} ÷ {readers[1].Name}, fields/s (medians): 1 thread {F(Median(seconds[1][0]) / Median(seconds[0][0]), "F2")}×, "
                + $"all cores {F(Median(seconds[1][4]) / Median(seconds[0][4]), "F2")}×; fields read differently: "
                + $"{results[0].Fields.Zip(results[1].Fields).Count(p => p.First.Read != p.Second.Read)} of {fields.Count}");
        }

        for (int r = 0; r < readers.Length; r++)
        {
            double read = Median(seconds[r][0]), decode = Median(seconds[r][1]), segment = Median(seconds[r][2]), pixels = Median(seconds[r][3]);
            double classify = Math.Max(0, pixels - segment);
            double readCpu = Median(cpu[r][0]), decodeCpu = Median(cpu[r][1]), segmentCpu = Median(cpu[r][2]), classifyCpu = Math.Max(0, Median(cpu[r][3]) - segmentCpu);
            Console.WriteLine();
            Console.WriteLine($"{readers[r].Name}: wall time per field, 1 thread (medians of rounds): decode {Ms(decode, fields.Count)}, segmentation {Ms(segment, fields.Count)}, "
                + $"classification (candidates, batched scoring, decoding; read of decoded pixels minus segmentation) {Ms(classify, fields.Count)}; "
                + $"of a read from file: decode {Percent(decode / read)}, segmentation {Percent(segment / read)}, classification {Percent(classify / read)}");
            Console.WriteLine($"CPU time per field, 1 thread: decode {Ms(decodeCpu, fields.Count)}, segmentation {Ms(segmentCpu, fields.Count)}, classification {Ms(classifyCpu, fields.Count)}; "
                + $"of a read from file: decode {Percent(decodeCpu / readCpu)}, segmentation {Percent(segmentCpu / readCpu)}, classification {Percent(classifyCpu / readCpu)}");
            Console.WriteLine($"errors: {results[r].Fields.Count(f => f.Error is not null)}; blank truths read blank: {results[r].Fields.Count(f => f.Truth.Length == 0 && f.Read.Length == 0)} of {results[r].Fields.Count(f => f.Truth.Length == 0)}");
        }

        double readSeconds = Median(seconds[0][0]), readCpuSeconds = Median(cpu[0][0]);
        if (tesseract is null)
            return;
        FieldEvaluationResult peer = null!;
        var (peerSeconds, peerCpu) = WallAndCpuSeconds(() => peer = TesseractPeer.Read(tesseract, fields, set.Whitelist));
        Console.WriteLine();
        Console.WriteLine($"| peer | fields/s | characters/s | fields per CPU-second | CER | exact | reader ÷ peer, fields/s (1 thread) | reader ÷ peer, per CPU-second |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| Tesseract --psm 7, whitelist {set.Whitelist[0]}–{set.Whitelist[^1]}, one process per field, 1 at a time | {F(fields.Count / peerSeconds, "F1")} | "
            + $"{F(characters / peerSeconds, "F0")} | {F(fields.Count / peerCpu, "F1")} | {Percent(peer.CharacterErrorRate)} | {Percent(peer.ExactRate)} | {F(peerSeconds / readSeconds, "F2")} | {F(peerCpu / readCpuSeconds, "F2")} |");
        Console.WriteLine($"load after the peer: {Load()}");
        int failed = peer.Fields.Count(f => f.Error is not null);
        if (failed > 0)
            Console.WriteLine($"tesseract failed on {failed} fields, e.g. {peer.Fields.First(f => f.Error is not null).Error}");
    }

    private static string Ms(double seconds, int count) => $"{F(1000 * seconds / count, "F2")} ms";

    private static string Percent(double value) => F(100 * value, "F1") + " %";
}
