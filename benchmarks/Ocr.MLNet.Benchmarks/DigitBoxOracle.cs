using Ocr.MLNet.Fields;
using static Ocr.MLNet.Benchmarks.Harness;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>digit-boxes</c>: where the field reader loses cheque digits. The cheque set's <c>digit_boxes</c> column gives every
/// digit's true box; each box is read from the reader's own segmentation (the ink pieces whose centre lies in it, prepared
/// as the reader prepares a candidate) and classified among the digits. Boxes with no piece are lost by segmentation;
/// the rest measure the classifier with perfect cuts, so the gap to the reader's own reading is the cutting's share.
/// </summary>
internal static class DigitBoxOracle
{
    public static int Run(string[] args)
    {
        string model = StringArg(args, "--model") ?? throw new ArgumentException("Pass --model PATH.");
        string folder = Path.Combine(DataDirectory(args), "handwritten-fields", "cheque-amounts-dev");
        using var recognizer = Serving.CharacterRecognizer.Load(model);
        var mask = ClassMask.For(recognizer.ClassNames, FieldKind.Digits);
        var lines = File.ReadAllLines(Path.Combine(folder, "labels.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();
        int boxes = 0, lost = 0, right = 0;
        var confusions = new Dictionary<string, int>();
        var pixels = new List<float>();
        var truths = new List<char>();
        foreach (var columns in lines)
        {
            var (grey, width, height) = HandwrittenFieldReader.DecodeGrey(Path.Combine(folder, columns[0]), long.MaxValue);
            // Segmented as the reader segments a digit field.
            var segmentation = FieldSegmenter.Segment(grey, width, height, FieldReaderOptions.DefaultMaxPieces, digitsOnly: true);
            var pieces = segmentation.Pieces;
            foreach (string box in columns[2].Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                boxes++;
                var parts = box.Split(':');
                int[] xywh = parts[1].Split(',').Select(int.Parse).ToArray();
                double boxLeft = xywh[0] * segmentation.Scale, boxRight = (xywh[0] + xywh[2]) * segmentation.Scale;
                var inside = Enumerable.Range(0, pieces.Count).Where(i => (pieces[i].Left + pieces[i].Right) / 2.0 is var c && c >= boxLeft && c < boxRight).ToArray();
                if (inside.Length == 0 || segmentation.InkBounds(inside[0], inside[^1]) is not { } bounds)
                {
                    lost++;
                    continue;
                }

                var prepared = new float[CharacterFormat.PixelCount];
                segmentation.Prepare(inside[0], inside[^1], bounds, prepared);
                pixels.AddRange(prepared);
                truths.Add(parts[0][0]);
            }
        }

        float[] allPixels = pixels.ToArray();
        float[] scores = recognizer.ScorePixels(allPixels);
        // --dump DIR: the prepared pixels of every misread box and of every tenth box (raw floats, and truth/read per line).
        string? dumpFolder = StringArg(args, "--dump");
        if (dumpFolder is not null)
            Directory.CreateDirectory(dumpFolder);
        using var dump = dumpFolder is null ? null : File.Create(Path.Combine(dumpFolder, "boxes.f32"));
        using var dumpIndex = dumpFolder is null ? null : new StreamWriter(Path.Combine(dumpFolder, "boxes.tsv"));
        int classes = recognizer.ClassNames.Count;
        var reads = new List<char>();
        for (int i = 0; i < truths.Count; i++)
        {
            var row = scores.AsSpan(i * classes, classes);
            mask.Fold(row); // the reader's look-alikes (an O read as 0)
            int best = -1;
            for (int c = 0; c < classes; c++)
            {
                if (mask.Allowed[c] && (best < 0 || row[c] > row[best]))
                    best = c;
            }

            string read = mask.Labels[best];
            reads.Add(read[0]);
            if (read[0] == truths[i])
                right++;
            else
                confusions[$"{truths[i]}→{read}"] = confusions.GetValueOrDefault($"{truths[i]}→{read}") + 1;
            if (dump is not null && (read[0] != truths[i] || i % 10 == 0))
            {
                dump.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(allPixels.AsSpan(i * CharacterFormat.PixelCount, CharacterFormat.PixelCount)));
                dumpIndex!.WriteLine($"{truths[i]}\t{read}");
            }
        }

        Console.WriteLine($"digit-boxes: {MachineLine()}; {lines.Length} cheque amounts, {boxes} true digit boxes");
        Console.WriteLine($"lost by segmentation (no ink piece centred in the box): {lost} ({Percent((double)lost / boxes)})");
        Console.WriteLine($"classified among the digits from the true cuts: {right} of {truths.Count} right ({Percent((double)right / truths.Count)})");
        var perDigit = truths.Select((t, i) => (Truth: t, Index: i)).GroupBy(t => t.Truth).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} {Percent((double)g.Count(t => reads[t.Index] == t.Truth) / g.Count())} of {g.Count()}");
        Console.WriteLine($"per digit: {string.Join(", ", perDigit)}");
        Console.WriteLine($"most frequent confusions: {string.Join(", ", confusions.OrderByDescending(c => c.Value).Take(12).Select(c => $"{c.Key} {c.Value}"))}");
        return 0;
    }

    private static string Percent(double value) => F(100 * value, "F1") + " %";
}
