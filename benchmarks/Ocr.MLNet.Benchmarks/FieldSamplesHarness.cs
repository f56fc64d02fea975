using OpenCvSharp;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Text;
using static Ocr.MLNet.Benchmarks.Harness;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>field-samples --out DIR [--count 5]</c>: real dev fields next to generated ones, to look at before training on the
/// generator (issue: "look at the real dev fields next to what you generate"). For names and cheque amounts, writes
/// <c>DIR/{kind}.png</c>: the first N real fields (left) and N synthetic fields of the kind (right), each above the
/// cleaned line the field reader hands the line recognizer (<c>FieldLineImage</c>). The real fields are read from the
/// data folder and the sheets are for looking at only: they are written outside the repository.
/// </summary>
internal static class FieldSamplesHarness
{
    private const int Gap = 6;

    public static int Run(string[] args)
    {
        string output = StringArg(args, "--out") ?? throw new ArgumentException("field-samples needs --out DIR (outside the repository: the sheets hold real dev fields).");
        int count = IntArg(args, "--count", 5);
        string data = DataDirectory(args);
        Directory.CreateDirectory(output);
        foreach (var (name, folder, kind, synthetic) in new[]
        {
            ("names", "names-dev", FieldKind.Upper, SyntheticFieldKind.Name),
            ("amounts", "cheque-amounts-dev", FieldKind.Digits, SyntheticFieldKind.Amount),
        })
        {
            var real = FieldEvaluation.LoadLabels(Path.Combine(data, "handwritten-fields", folder)).Take(count)
                .Select(f => (HandwrittenFieldReader.DecodeGrey(f.ImagePath, CharacterImageLoaderOptions.DefaultMaxImagePixels), f.Text)).ToList();
            var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions { Kind = synthetic, Seed = 1, EmnistFolder = Path.Combine(data, "emnist-byclass-test") });
            var drawn = Enumerable.Range(0, count).Select(i => generator.Generate(i)).Select(f => ((f.Pixels, f.Width, f.Height), f.Text)).ToList();
            using var left = Column(real, kind);
            using var right = Column(drawn, kind);
            using var sheet = SideBySide(left, right);
            string path = Path.Combine(output, $"{name}.png");
            Cv2.ImWrite(path, sheet);
            Console.WriteLine($"{path}: {count} real {folder} fields (left: {string.Join(", ", real.Select(r => r.Text))}) and {count} synthetic {synthetic} fields (right: {string.Join(", ", drawn.Select(d => d.Text))}), each above its found line");
        }

        return 0;
    }

    /// <summary>Each field above the line the reader finds in it, stacked.</summary>
    private static Mat Column(List<((byte[] Grey, int Width, int Height) Image, string Text)> fields, FieldKind kind)
    {
        var parts = new List<Mat>();
        foreach (var ((grey, width, height), _) in fields)
        {
            parts.Add(Mat.FromPixelData(height, width, MatType.CV_8UC1, grey).Clone());
            var line = FieldLineImage.Find(grey, width, height, kind);
            parts.Add(line is null ? new Mat(8, 8, MatType.CV_8UC1, Scalar.All(128)) : Mat.FromPixelData(line.Height, line.Width, MatType.CV_8UC1, line.Grey).Clone());
            parts.Add(new Mat(Gap, 8, MatType.CV_8UC1, Scalar.All(128)));
        }

        int widest = parts.Max(p => p.Width);
        var padded = parts.Select(p =>
        {
            var wide = new Mat();
            Cv2.CopyMakeBorder(p, wide, 0, 0, 0, widest - p.Width, BorderTypes.Constant, Scalar.All(128));
            p.Dispose();
            return wide;
        }).ToArray();
        var column = new Mat();
        Cv2.VConcat(padded, column);
        foreach (var p in padded)
            p.Dispose();
        return column;
    }

    private static Mat SideBySide(Mat left, Mat right)
    {
        int height = Math.Max(left.Height, right.Height);
        using var a = new Mat();
        using var b = new Mat();
        Cv2.CopyMakeBorder(left, a, 0, height - left.Height, 0, Gap, BorderTypes.Constant, Scalar.All(128));
        Cv2.CopyMakeBorder(right, b, 0, height - right.Height, 0, 0, BorderTypes.Constant, Scalar.All(128));
        var sheet = new Mat();
        Cv2.HConcat([a, b], sheet);
        return sheet;
    }
}
