using Microsoft.ML.Data;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Preparation;

/// <summary>What an image holds, as <see cref="InkCheck"/> tells it before anything is classified.</summary>
public enum ImageContent
{
    /// <summary>Marks that may be writing: strokes, whose ink pixels lie next to other ink pixels far more often than chance.</summary>
    Writing = 0,

    /// <summary>No ink: no pixels differ enough from the paper (an empty box, a blank page, an all-black or all-white image).</summary>
    Blank = 1,

    /// <summary>Ink without strokes: dark and light pixels scattered as in random noise or a texture, not writing.</summary>
    Noise = 2,
}

/// <summary>
/// Tells blank images and noise from writing, the same way for every reader (the CLI's <c>predict</c> and <c>read</c>, the
/// field reader, the WebDemo), so that none of them answers a confident character for an image that holds none.
/// </summary>
/// <remarks>
/// <para>
/// The paper is the median grey level. An image is <see cref="ImageContent.Blank"/> when fewer than
/// <see cref="MinimumInkPixels"/> pixels (or one in 20,000) differ from the paper by <see cref="InkContrast"/> grey levels
/// or more: JPEG noise and scanner dust stay below that, the faintest real fields measured are far above it.
/// </para>
/// <para>
/// Otherwise the image is binarised at Otsu's threshold, the ink being the side the paper is not on. In writing, an ink
/// pixel's neighbours are ink far more often than the share of ink in the whole image (strokes are connected); in noise,
/// no more often. The stroke correlation is that ratio: the share of ink among the 8 neighbours of ink pixels
/// divided by the share of ink in the image. Independent noise gives 1 at any density; the real fields and characters
/// measured give 3 or more (benchmarks/README.md). An image whose ratio is below <see cref="MinimumStrokeCorrelation"/> is
/// <see cref="ImageContent.Noise"/>.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var image = ImageFiles.Load("upload.png");
/// if (InkCheck.Inspect(image) != ImageContent.Writing)
///     return "nothing written";
/// var prediction = engine.Predict(new CharacterImage { Image = image });
/// </code>
/// </example>
public static class InkCheck
{
    /// <summary>How far, in grey levels (0–255), a pixel must differ from the paper to count as ink for the blank check.</summary>
    public const int InkContrast = 40;

    /// <summary>The fewest pixels of ink (or one in 20,000 of the image, if more) that make an image more than blank.</summary>
    public const int MinimumInkPixels = 4;

    /// <summary>The stroke correlation below which ink is noise rather than writing (independent noise gives 1).</summary>
    public const double MinimumStrokeCorrelation = 1.4;

    /// <summary>What <paramref name="image"/> holds: writing, nothing (blank), or noise.</summary>
    /// <param name="image">A decoded image (BGRA or RGBA, as ML.NET's <see cref="MLImage"/> holds it); transparent pixels count as white paper.</param>
    /// <returns>The verdict.</returns>
    public static ImageContent Inspect(MLImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width < 1 || image.Height < 1)
            return ImageContent.Blank;
        var grey = CharacterImageConverter.ToGrey(image);
        return Inspect(grey, image.Width, image.Height);
    }

    /// <summary>What the 8-bit grey image (row-major, 0 = black) holds: writing, nothing (blank), or noise.</summary>
    /// <param name="grey">The pixels, at least <paramref name="width"/> × <paramref name="height"/>.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <returns>The verdict.</returns>
    public static ImageContent Inspect(ReadOnlySpan<byte> grey, int width, int height) => Measure(grey, width, height).Content;

    /// <summary>The measurements behind the verdict, for tests and the benchmarks' distribution over real data.</summary>
    internal static InkMeasurement Measure(ReadOnlySpan<byte> grey, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        int count = checked(width * height);
        if (grey.Length < count)
            throw new ArgumentException($"The image holds {grey.Length} bytes; {width}×{height} grey pixels need {count}.", nameof(grey));
        grey = grey[..count];

        Span<int> histogram = stackalloc int[256];
        foreach (byte g in grey)
            histogram[g]++;
        int paper = Percentile(histogram, count, 0.5);
        int contrasting = 0;
        for (int level = 0; level < 256; level++)
        {
            if (Math.Abs(level - paper) >= InkContrast)
                contrasting += histogram[level];
        }

        if (contrasting < Math.Max(MinimumInkPixels, count / 20_000))
            return new InkMeasurement(ImageContent.Blank, paper, contrasting, 0, double.NaN);

        // Ink is the side of Otsu's threshold the paper is not on.
        int threshold = OtsuThreshold(histogram, count);
        bool inkIsDark = paper > threshold;
        int inkPixels = 0;
        long inkNeighbours = 0, neighbours = 0;
        for (int y = 0; y < height; y++)
        {
            int top = Math.Max(0, y - 1), bottom = Math.Min(height - 1, y + 1);
            for (int x = 0; x < width; x++)
            {
                if (!IsInk(grey[y * width + x], threshold, inkIsDark))
                    continue;
                inkPixels++;
                int left = Math.Max(0, x - 1), right = Math.Min(width - 1, x + 1);
                for (int ny = top; ny <= bottom; ny++)
                {
                    int row = ny * width;
                    for (int nx = left; nx <= right; nx++)
                    {
                        if (nx == x && ny == y)
                            continue;
                        neighbours++;
                        if (IsInk(grey[row + nx], threshold, inkIsDark))
                            inkNeighbours++;
                    }
                }
            }
        }

        double inkShare = (double)inkPixels / count;
        double correlation = neighbours == 0 ? 0 : (double)inkNeighbours / neighbours / inkShare;
        var content = correlation < MinimumStrokeCorrelation ? ImageContent.Noise : ImageContent.Writing;
        return new InkMeasurement(content, paper, contrasting, inkShare, correlation);
    }

    private static bool IsInk(byte grey, int threshold, bool inkIsDark) => inkIsDark ? grey <= threshold : grey > threshold;

    private static int Percentile(ReadOnlySpan<int> histogram, int count, double share)
    {
        long target = (long)Math.Ceiling(count * share), seen = 0;
        for (int level = 0; level < 256; level++)
        {
            seen += histogram[level];
            if (seen >= target)
                return level;
        }

        return 255;
    }

    /// <summary>Otsu's threshold: the level t that maximises the between-class variance of (≤ t, &gt; t).</summary>
    private static int OtsuThreshold(ReadOnlySpan<int> histogram, int count)
    {
        double total = 0;
        for (int level = 0; level < 256; level++)
            total += (double)level * histogram[level];
        double belowSum = 0, best = -1;
        long below = 0;
        int threshold = 0;
        for (int level = 0; level < 255; level++)
        {
            below += histogram[level];
            belowSum += (double)level * histogram[level];
            long above = count - below;
            if (below == 0 || above == 0)
                continue;
            double difference = belowSum / below - (total - belowSum) / above;
            double variance = (double)below * above * difference * difference;
            if (variance > best)
            {
                best = variance;
                threshold = level;
            }
        }

        return threshold;
    }
}

/// <summary>What <see cref="InkCheck"/> measured on one image.</summary>
/// <param name="Content">The verdict.</param>
/// <param name="Paper">The paper's grey level (the median).</param>
/// <param name="ContrastingPixels">Pixels at least <see cref="InkCheck.InkContrast"/> from the paper.</param>
/// <param name="InkShare">The share of pixels on the ink side of Otsu's threshold (0 when blank).</param>
/// <param name="StrokeCorrelation">The share of ink among ink pixels' neighbours over <paramref name="InkShare"/> (NaN when blank).</param>
internal readonly record struct InkMeasurement(ImageContent Content, int Paper, int ContrastingPixels, double InkShare, double StrokeCorrelation);
