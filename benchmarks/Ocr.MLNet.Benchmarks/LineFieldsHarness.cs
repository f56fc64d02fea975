using Microsoft.ML.Data;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Lines;
using static Ocr.MLNet.Benchmarks.Harness;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>line-fields</c>: the line recognizer (<see cref="LineRecognizer"/>, CTC) against the segmentation reader
/// (<see cref="HandwrittenFieldReader"/>) on the dev folders of <c>handwritten-fields</c> (names-dev read as capitals,
/// cheque-amounts-dev as digits), in one process with alternating rounds: fields/s from the image files over both cores,
/// each line arrangement's ratio to the segmentation reader; CER and exact share of every reader over all rows and over
/// rows 401–500 (the rows no fine-tuning may train on); Tesseract beside them, as <c>fields</c> runs it.
/// </summary>
internal static class LineFieldsHarness
{
    /// <summary>Rows 401 on are the dev sets' validation rows: the first 400 may be used to fine-tune (PROVENANCE.md).</summary>
    private const int FirstValidationRow = 400;

    private sealed record FieldSet(string Name, string Folder, FieldKind Kind, string Whitelist);

    /// <summary>A field of the set and its row (0-based) in labels.tsv.</summary>
    private sealed record Row(int Index, LabelledField Field);

    public static int Run(string[] args)
    {
        int rounds = IntArg(args, "--rounds", 3);
        int maxFields = IntArg(args, "--max-fields", int.MaxValue);
        string linesModel = StringArg(args, "--model")
            ?? throw new ArgumentException("line-fields needs --model LINES.zip (a line model saved by train-fields).");
        string? characterModel = StringArg(args, "--character-model");
        bool characterModelIsTemporary = characterModel is null;
        if (characterModel is null)
        {
            characterModel = Path.Combine(Path.GetTempPath(), $"ocr-mlnet-line-fields-{Environment.ProcessId}.zip");
            PretrainedCharacterModel.SaveTo(characterModel);
        }

        string fieldsFolder = Path.Combine(DataDirectory(args), "handwritten-fields");
        var sets = new[]
        {
            new FieldSet("names-dev", Path.Combine(fieldsFolder, "names-dev"), FieldKind.Upper, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            new FieldSet("cheque-amounts-dev", Path.Combine(fieldsFolder, "cheque-amounts-dev"), FieldKind.Digits, "0123456789"),
        };
        Console.WriteLine($"line-fields: {MachineLine()}; line model {linesModel}; character model {(characterModelIsTemporary ? "the bundled one" : characterModel)}; {rounds} rounds");
        string? tesseract = args.Contains("--no-tesseract") ? null : TesseractPeer.FindOrInstall();

        int workers = Environment.ProcessorCount;
        var perWorker = Enumerable.Range(0, workers).Select(_ => LineRecognizer.Load(linesModel, threads: 1)).ToArray();
        try
        {
            using var sharedRecognizer = LineRecognizer.Load(linesModel, threads: workers);
            using var oneThread = LineRecognizer.Load(linesModel, threads: 1);
            using var segmentationReader = HandwrittenFieldReader.Load(characterModel);
            foreach (var set in sets)
                Measure(set, rounds, maxFields, perWorker, sharedRecognizer, oneThread, segmentationReader, tesseract);
        }
        finally
        {
            foreach (var recognizer in perWorker)
                recognizer.Dispose();
            if (characterModelIsTemporary)
                File.Delete(characterModel);
        }

        Console.WriteLine($"load at end: {Load()}");
        return 0;
    }

    private static void Measure(FieldSet set, int rounds, int maxFields, LineRecognizer[] perWorker, LineRecognizer sharedRecognizer,
        LineRecognizer oneThread, HandwrittenFieldReader segmentationReader, string? tesseract)
    {
        var all = FieldEvaluation.LoadLabels(set.Folder);
        // A subset for smoke checks takes every k-th row, so that it still holds validation rows.
        int step = Math.Max(1, (all.Count + maxFields - 1) / maxFields);
        var rows = all.Select((field, index) => new Row(index, field)).Where(r => r.Index % step == 0).Take(maxFields).ToArray();
        var fields = rows.Select(r => r.Field).ToArray();
        int workers = perWorker.Length;
        Console.WriteLine();
        Console.WriteLine($"## {set.Name}: {fields.Length} of {all.Count} fields (every {step}), {rows.Count(r => r.Index >= FirstValidationRow)} of them in rows {FirstValidationRow + 1}–{all.Count}; kind {set.Kind}");

        FieldScore[] perWorkerScores = [], sharedScores = [], oneThreadScores = [];
        FieldEvaluationResult segmentation = new([]);
        var variants = new (string Name, Action Run)[]
        {
            ($"segmentation reader, all cores (FieldEvaluation.Evaluate, {workers} fields side by side, 1 ONNX thread each)",
                () => segmentation = FieldEvaluation.Evaluate(segmentationReader, fields, set.Kind)),
            ($"line recognizer: {workers} workers side by side over chunks of {LineRecognizer.BatchSize}, one recognizer each with 1 intra-op thread",
                () => perWorkerScores = ReadInParallel(perWorker, fields, set.Kind)),
            ($"line recognizer: one recognizer with {workers} intra-op threads, batches of {LineRecognizer.BatchSize} one after another",
                () => sharedScores = ReadChunk(sharedRecognizer, fields, set.Kind)),
            ($"line recognizer: one recognizer, 1 intra-op thread, one batch after another (one core)",
                () => oneThreadScores = ReadChunk(oneThread, fields, set.Kind)),
        };
        // Each variant decodes its image files inside the timing: fields/s from file, as a caller reads them.
        var rates = InferenceHarness.ThroughputRounds(variants, fields.Length, rounds);
        PrintRatioTable("fields/s", variants.Select(v => v.Name).ToArray(), rates, (1, 0, ""), (2, 0, ""), (3, 0, ""), (2, 1, ""));
        int faster = Median(rates[1]) >= Median(rates[2]) ? 1 : 2;
        Console.WriteLine($"faster over {workers} cores on this machine: {(faster == 1 ? "workers side by side, 1 thread each" : $"one recognizer with {workers} intra-op threads")} "
            + $"({F(Median(rates[1].Zip(rates[2], (a, b) => a / b)), "F3")} = side by side ÷ shared, median of rounds)");

        FieldEvaluationResult? peer = null;
        double peerSeconds = 0, peerCpu = 0;
        if (tesseract is not null)
        {
            Thread.Sleep(250); // the readers' ONNX Runtime threads spin a while after their last run
            (peerSeconds, peerCpu) = WallAndCpuSeconds(() => peer = TesseractPeer.Read(tesseract, fields, set.Whitelist));
        }

        Console.WriteLine();
        Console.WriteLine($"| reader | fields/s (median) | CER, all {fields.Length} | exact, all | CER, rows {FirstValidationRow + 1}–{all.Count} | exact, rows {FirstValidationRow + 1}–{all.Count} | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        AccuracyRow("segmentation reader (character model), all cores", Median(rates[0]), segmentation.Fields, rows);
        AccuracyRow("line recognizer, workers side by side", Median(rates[1]), perWorkerScores, rows);
        if (sharedScores.Zip(perWorkerScores).Any(p => p.First.Read != p.Second.Read) || oneThreadScores.Zip(perWorkerScores).Any(p => p.First.Read != p.Second.Read))
            Console.WriteLine("| (the line arrangements read some fields differently: ONNX Runtime's thread count changed a sum's order) | | | | | | |");
        if (peer is not null)
            AccuracyRow($"Tesseract --psm 7, whitelist {set.Whitelist[0]}–{set.Whitelist[^1]}, one process per field, 1 at a time ({F(fields.Length / peerCpu, "F1")} fields per CPU-second)", fields.Length / peerSeconds, peer.Fields, rows);
        Console.WriteLine($"load after the set: {Load()}");
    }

    /// <summary>
    /// Chunks of <see cref="LineRecognizer.BatchSize"/> fields, one worker per recognizer side by side: worker w reads chunks
    /// w, w + workers, … (a fixed share, so no two workers ever hold one recognizer).
    /// </summary>
    private static FieldScore[] ReadInParallel(LineRecognizer[] recognizers, IReadOnlyList<LabelledField> fields, FieldKind kind)
    {
        var scores = new FieldScore[fields.Count];
        int chunks = (fields.Count + LineRecognizer.BatchSize - 1) / LineRecognizer.BatchSize;
        Parallel.For(0, recognizers.Length, new ParallelOptions { MaxDegreeOfParallelism = recognizers.Length }, worker =>
        {
            for (int chunk = worker; chunk < chunks; chunk += recognizers.Length)
            {
                int start = chunk * LineRecognizer.BatchSize;
                var slice = fields.Skip(start).Take(LineRecognizer.BatchSize).ToArray();
                ReadChunk(recognizers[worker], slice, kind).CopyTo(scores, start);
            }
        });
        return scores;
    }

    /// <summary>Decodes the fields' files and reads them with one recognizer (in its batches); a file that does not decode scores as read empty.</summary>
    private static FieldScore[] ReadChunk(LineRecognizer recognizer, IReadOnlyList<LabelledField> fields, FieldKind kind)
    {
        var scores = new FieldScore[fields.Count];
        var images = new List<MLImage>(fields.Count);
        var decoded = new List<int>(fields.Count);
        try
        {
            for (int i = 0; i < fields.Count; i++)
            {
                try
                {
                    images.Add(MLImage.CreateFromFile(fields[i].ImagePath));
                    decoded.Add(i);
                }
                catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
                {
                    scores[i] = FieldEvaluation.Score(fields[i], null, e.Message);
                }
            }

            var readings = recognizer.Read(images, kind);
            for (int j = 0; j < decoded.Count; j++)
            {
                int i = decoded[j];
                scores[i] = FieldEvaluation.Score(fields[i], new FieldReading(readings[j].Text, readings[j].Confidence, []), null);
            }
        }
        finally
        {
            foreach (var image in images)
                image.Dispose();
        }

        return scores;
    }

    /// <summary>One table row: fields/s, CER and exact share over all measured rows and over the validation rows among them.</summary>
    private static void AccuracyRow(string name, double fieldsPerSecond, IReadOnlyList<FieldScore> scores, IReadOnlyList<Row> rows)
    {
        var allRows = new FieldEvaluationResult(scores);
        var validation = new FieldEvaluationResult(scores.Where((_, i) => rows[i].Index >= FirstValidationRow).ToArray());
        string Or(FieldEvaluationResult result, double value) => result.Fields.Count == 0 ? "–" : Percent(value);
        Console.WriteLine($"| {name} | {F(fieldsPerSecond, "F1")} | {Percent(allRows.CharacterErrorRate)} | {Percent(allRows.ExactRate)} | "
            + $"{Or(validation, validation.CharacterErrorRate)} | {Or(validation, validation.ExactRate)} | {scores.Count(s => s.Error is not null)} |");
    }

    private static string Percent(double value) => F(100 * value, "F1") + " %";
}
