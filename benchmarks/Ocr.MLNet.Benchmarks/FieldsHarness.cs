using Ocr.MLNet.Fields;
using static Ocr.MLNet.Benchmarks.Harness;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>fields</c>: the handwritten field reader on the dev folders of <c>handwritten-fields</c> (names-dev read as capitals,
/// cheque-amounts-dev as digits): fields/s and characters/s on one thread and over every core, the time split between
/// decoding, segmentation and classification (candidate preparation, batched scoring, decoding), CER and exact rate; and
/// Tesseract (<c>tesseract IMG stdout --psm 7</c> with a whitelist, one process per field) as the peer, scored with the
/// same normalisation and timed the same way. Rounds alternate the reader and its stages in one process.
/// </summary>
internal static class FieldsHarness
{
    private const string Capitals = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Digits = "0123456789";

    private sealed record FieldSet(string Name, string Folder, FieldKind Kind, string Whitelist);

    public static int Run(string[] args)
    {
        int rounds = IntArg(args, "--rounds", 3);
        string model = ModelPath(args, out bool trainedHere);
        string fieldsFolder = Path.Combine(DataDirectory(args), "handwritten-fields");
        var sets = new[]
        {
            new FieldSet("names-dev", Path.Combine(fieldsFolder, "names-dev"), FieldKind.Upper, Capitals),
            new FieldSet("cheque-amounts-dev", Path.Combine(fieldsFolder, "cheque-amounts-dev"), FieldKind.Digits, Digits),
        };
        var method = Enum.Parse<FieldReadingMethod>(StringArg(args, "--method") ?? nameof(FieldReadingMethod.Auto), ignoreCase: true);
        Console.WriteLine($"fields: {MachineLine()}; model {model}; method {method}; {rounds} rounds");
        string? tesseract = args.Contains("--no-tesseract") ? null : TesseractPeer.FindOrInstall();

        try
        {
            // The default reader: the character model with the packaged line model beside it (Auto: lines for digits).
            using var reader = HandwrittenFieldReader.Load(model, lineModelPath: null, new FieldReaderOptions { Method = method });
            foreach (var set in sets)
                Measure(reader, set, rounds, tesseract);
        }
        finally
        {
            if (trainedHere)
                File.Delete(model);
        }

        return 0;
    }

    private static void Measure(HandwrittenFieldReader reader, FieldSet set, int rounds, string? tesseract)
    {
        var fields = FieldEvaluation.LoadLabels(set.Folder);
        long characters = fields.Sum(f => (long)FieldEvaluation.Normalize(f.Text).Length);
        var decoded = fields.Select(f => HandwrittenFieldReader.DecodeGrey(f.ImagePath, reader.Options.MaxImagePixels)).ToArray();
        Console.WriteLine();
        Console.WriteLine($"## {set.Name}: {fields.Count} fields, {characters} characters (truth, letters and digits), kind {set.Kind}");

        // Warm the JIT, OpenCV and ONNX Runtime on a few fields (not timed).
        var result = FieldEvaluation.Evaluate(reader, fields.Take(20).ToArray(), set.Kind);

        var names = new[] { "read from file, 1 thread", "decode only", "segmentation only", "read decoded pixels, 1 thread", "read from file, all cores (FieldEvaluation.Evaluate)" };
        var seconds = names.Select(_ => new List<double>()).ToArray();
        var cpu = names.Select(_ => new List<double>()).ToArray();
        void Add(int index, Action action)
        {
            var (wall, processor) = WallAndCpuSeconds(action);
            seconds[index].Add(wall);
            cpu[index].Add(processor);
        }

        for (int round = 0; round < rounds; round++)
        {
            Add(0, () =>
            {
                foreach (var f in fields)
                    reader.Read(f.ImagePath, set.Kind);
            });
            Add(1, () =>
            {
                foreach (var f in fields)
                    HandwrittenFieldReader.DecodeGrey(f.ImagePath, reader.Options.MaxImagePixels);
            });
            Add(2, () =>
            {
                foreach (var (grey, width, height) in decoded)
                    FieldSegmenter.Segment(grey, width, height, reader.Options.MaxPieces);
            });
            Add(3, () =>
            {
                foreach (var (grey, width, height) in decoded)
                    reader.Read(grey, width, height, set.Kind);
            });
            Add(4, () => result = FieldEvaluation.Evaluate(reader, fields, set.Kind));
            Console.WriteLine($"round {round + 1}: {string.Join(", ", seconds.Select((s, i) => $"{names[i]} {F(s[^1], "F2")} s ({F(cpu[i][^1], "F2")} CPU-s)"))}; load {Load()}");
        }

        double read = Median(seconds[0]), decode = Median(seconds[1]), segment = Median(seconds[2]), pixels = Median(seconds[3]);
        double classify = Math.Max(0, pixels - segment);
        double readCpu = Median(cpu[0]), decodeCpu = Median(cpu[1]), segmentCpu = Median(cpu[2]), classifyCpu = Math.Max(0, Median(cpu[3]) - segmentCpu);
        Console.WriteLine();
        Console.WriteLine("| reader | fields/s | characters/s | fields per CPU-second | CER | exact |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| {names[0]} | {F(fields.Count / read, "F1")} | {F(characters / read, "F0")} | {F(fields.Count / readCpu, "F1")} | {Percent(result.CharacterErrorRate)} | {Percent(result.ExactRate)} |");
        Console.WriteLine($"| {names[4]} | {F(fields.Count / Median(seconds[4]), "F1")} | {F(characters / Median(seconds[4]), "F0")} | {F(fields.Count / Median(cpu[4]), "F1")} | | |");
        Console.WriteLine();
        Console.WriteLine($"wall time per field, 1 thread (medians of rounds): decode {Ms(decode, fields.Count)}, segmentation {Ms(segment, fields.Count)}, "
            + $"classification (candidates, batched scoring, decoding; read of decoded pixels minus segmentation) {Ms(classify, fields.Count)}; "
            + $"of a read from file: decode {Percent(decode / read)}, segmentation {Percent(segment / read)}, classification {Percent(classify / read)}");
        Console.WriteLine($"CPU time per field, 1 thread: decode {Ms(decodeCpu, fields.Count)}, segmentation {Ms(segmentCpu, fields.Count)}, classification {Ms(classifyCpu, fields.Count)}; "
            + $"of a read from file: decode {Percent(decodeCpu / readCpu)}, segmentation {Percent(segmentCpu / readCpu)}, classification {Percent(classifyCpu / readCpu)}");
        Console.WriteLine($"errors: {result.Fields.Count(f => f.Error is not null)}; blank truths read blank: {result.Fields.Count(f => f.Truth.Length == 0 && f.Read.Length == 0)} of {result.Fields.Count(f => f.Truth.Length == 0)}");

        if (tesseract is null)
            return;
        FieldEvaluationResult peer = null!;
        var (peerSeconds, peerCpu) = WallAndCpuSeconds(() => peer = TesseractPeer.Read(tesseract, fields, set.Whitelist));
        Console.WriteLine();
        Console.WriteLine($"| peer | fields/s | characters/s | fields per CPU-second | CER | exact | reader ÷ peer, fields/s (1 thread) | reader ÷ peer, per CPU-second |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| Tesseract --psm 7, whitelist {set.Whitelist[0]}–{set.Whitelist[^1]}, one process per field, 1 at a time | {F(fields.Count / peerSeconds, "F1")} | "
            + $"{F(characters / peerSeconds, "F0")} | {F(fields.Count / peerCpu, "F1")} | {Percent(peer.CharacterErrorRate)} | {Percent(peer.ExactRate)} | {F(peerSeconds / read, "F2")} | {F(peerCpu / readCpu, "F2")} |");
        Console.WriteLine($"load after the peer: {Load()}");
        int failed = peer.Fields.Count(f => f.Error is not null);
        if (failed > 0)
            Console.WriteLine($"tesseract failed on {failed} fields, e.g. {peer.Fields.First(f => f.Error is not null).Error}");
    }

    private static string Ms(double seconds, int count) => $"{F(1000 * seconds / count, "F2")} ms";

    private static string Percent(double value) => F(100 * value, "F1") + " %";
}
