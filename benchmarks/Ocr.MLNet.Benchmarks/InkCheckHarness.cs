using System.Globalization;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using SkiaSharp;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// <c>ink-check</c>: the blank/noise check's measurements over real writing (every field and character image in the data
/// folder) and over generated noise, so the margins of <see cref="InkCheck"/>'s two thresholds can be read off.
/// </summary>
internal static class InkCheckHarness
{
    public static int Run(string[] args)
    {
        string data = Harness.DataDirectory(args);
        int emnistRows = Harness.IntArg(args, "--emnist", 20_000);
        Console.WriteLine($"# ink-check — {Harness.MachineLine()}");
        Console.WriteLine($"thresholds: ink contrast {InkCheck.InkContrast} grey levels, stroke correlation {InkCheck.MinimumStrokeCorrelation}\n");
        Console.WriteLine("| set | images | writing | blank | noise | stroke correlation min / 1st pct / median / max | ink share max | µs per image |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---:|---:|");

        string fields = Path.Combine(data, "handwritten-fields");
        foreach (string set in new[] { "names-dev", "cheque-amounts-dev" })
            Report(set, Files(Path.Combine(fields, set, "images")).Select(Decode));
        Report("nist-hsf-page", [Decode(Path.Combine(fields, "nist-hsf-page", "hsf.png"))]);
        Report("nist-sd19-by_class-vowels", Files(Path.Combine(data, "nist-sd19-by_class-vowels")).Select(Decode));
        string emnistFolder = Path.Combine(data, "emnist-bymerge-dev");
        var emnist = EmnistDataset.Load(Path.Combine(emnistFolder, "emnist-bymerge-dev-images-idx3-ubyte.gz"),
            Path.Combine(emnistFolder, "emnist-bymerge-dev-labels-idx1-ubyte.gz"), Path.Combine(emnistFolder, "emnist-bymerge-mapping.txt"), emnistRows);
        Report($"emnist-bymerge-dev (first {emnist.Count:N0})", Enumerable.Range(0, emnist.Count).Select(i => EmnistGrey(emnist, i)));

        var random = new Random(7);
        foreach (double density in new[] { 0.02, 0.1, 0.3, 0.5 })
            Report($"random black/white 400×100, {density:P0} black", Enumerable.Range(0, 50).Select(_ => BlackWhite(random, 400, 100, density)));
        Report("random black/white 2048×2048, 50 % black", Enumerable.Range(0, 3).Select(_ => BlackWhite(random, 2048, 2048, 0.5)));
        Report("uniform random grey 400×100", Enumerable.Range(0, 50).Select(_ => UniformGrey(random, 400, 100)));
        Report("uniform random grey 400×100, JPEG q75", Enumerable.Range(0, 50).Select(_ => Jpeg(UniformGrey(random, 400, 100), 75)));
        Report("Gaussian noise σ 40 on white 400×100", Enumerable.Range(0, 50).Select(_ => GaussianOnPaper(random, 400, 100, 40)));
        Report("Gaussian noise σ 8 on white 400×100 (paper)", Enumerable.Range(0, 50).Select(_ => GaussianOnPaper(random, 400, 100, 8)));
        return 0;
    }

    private static IEnumerable<string> Files(string folder) => Directory.Exists(folder)
        ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
        : [];

    private static (byte[] Grey, int Width, int Height) Decode(string path)
    {
        using var bitmap = ImageDecoder.Decode(path, full: true, CharacterImageLoaderOptions.DefaultMaxImagePixels, out string? problem)
            ?? throw new InvalidDataException($"{path} {problem}");
        return (CharacterImageConverter.ToGrey(bitmap), bitmap.Width, bitmap.Height);
    }

    private static (byte[] Grey, int Width, int Height) EmnistGrey(EmnistDataset emnist, int row)
    {
        var pixels = new float[CharacterFormat.PixelCount];
        emnist.CopyPixels(row, pixels);
        return (pixels.Select(p => (byte)Math.Clamp(p * 255f + 0.5f, 0f, 255f)).ToArray(), CharacterFormat.ImageSide, CharacterFormat.ImageSide);
    }

    private static (byte[], int, int) BlackWhite(Random random, int width, int height, double density) =>
        (Enumerable.Range(0, width * height).Select(_ => random.NextDouble() < density ? (byte)0 : (byte)255).ToArray(), width, height);

    private static (byte[], int, int) UniformGrey(Random random, int width, int height)
    {
        var grey = new byte[width * height];
        random.NextBytes(grey);
        return (grey, width, height);
    }

    private static (byte[], int, int) GaussianOnPaper(Random random, int width, int height, double sigma) =>
        (Enumerable.Range(0, width * height).Select(_ =>
        {
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return (byte)Math.Clamp(235 + sigma * normal, 0, 255);
        }).ToArray(), width, height);

    private static (byte[], int, int) Jpeg((byte[] Grey, int Width, int Height) image, int quality)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(image.Grey, 0, bitmap.GetPixels(), image.Grey.Length);
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        using var decoded = ImageDecoder.DecodeBytes(encoded.ToArray(), full: true, CharacterImageLoaderOptions.DefaultMaxImagePixels, out _)!;
        return (CharacterImageConverter.ToGrey(decoded), decoded.Width, decoded.Height);
    }

    private static void Report(string set, IEnumerable<(byte[] Grey, int Width, int Height)> images)
    {
        var decoded = images.ToList();
        if (decoded.Count == 0)
        {
            Console.WriteLine($"| {set} | 0 (not found) | | | | | | |");
            return;
        }

        // The check's own time (decoding excluded): what it adds to every read.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var measured = decoded.Select(i => InkCheck.Measure(i.Grey, i.Width, i.Height)).ToList();
        double microseconds = clock.Elapsed.TotalMicroseconds / decoded.Count;

        var correlations = measured.Where(m => m.Content != ImageContent.Blank).Select(m => m.StrokeCorrelation).Order().ToArray();
        string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        string spread = correlations.Length == 0 ? "–"
            : $"{F(correlations[0])} / {F(correlations[correlations.Length / 100])} / {F(correlations[correlations.Length / 2])} / {F(correlations[^1])}";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {set} | {measured.Count:N0} | {measured.Count(m => m.Content == ImageContent.Writing):N0} | {measured.Count(m => m.Content == ImageContent.Blank):N0} "
            + $"| {measured.Count(m => m.Content == ImageContent.Noise):N0} | {spread} | {measured.Max(m => m.InkShare):F2} | {microseconds:F0} |"));
    }
}
