using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// Builds <c>mlContext.Data.AddContinentalDigits</c>: NIST's writers make American ones (a bare stem) and sevens
/// without a bar, so a network trained on them reads a continental one, with its long up-stroke, as a seven. This
/// draws the missing strokes onto copies of the ones and sevens, in the prepared 32×32 images.
/// </summary>
internal static class ContinentalDigits
{
    private const int Side = CharacterFormat.ImageSide;

    /// <summary>The prepared content's margin: EMNIST pads its 28×28 content by 2.</summary>
    private const int Margin = 2;

    public static IDataView Add(IDataView data, ContinentalDigitOptions options, string pixelsColumnName, string labelColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        options.Validate();
        var (labels, originals) = OfflineAugmentation.Read(data, labelColumnName, pixelsColumnName);
        var random = new Random(options.Seed);
        var copyLabels = new List<string>();
        var copies = new List<float>();
        var copy = new float[CharacterFormat.PixelCount];
        for (int i = 0; i < labels.Length; i++)
        {
            bool one = options.FlaggedOnes && labels[i] == options.OneLabel;
            bool seven = options.CrossedSevens && labels[i] == options.SevenLabel;
            if (!one && !seven)
                continue;
            originals.AsSpan(i * CharacterFormat.PixelCount, CharacterFormat.PixelCount).CopyTo(copy);
            bool drawn = one ? AddFlag(copy, random) : AddCrossbar(copy, random);
            // An image with no ink has no stem to draw on: it gets no copy rather than a copy that is not continental.
            if (!drawn)
                continue;
            copyLabels.Add(labels[i]);
            copies.AddRange(copy);
        }

        return new CharacterDataView<RowsWithCopies>(new RowsWithCopies(labels, originals, [.. copyLabels], [.. copies]), labelColumnName, pixelsColumnName);
    }

    /// <summary>
    /// Draws a one's up-stroke: from the top of the stem, down to the left, 40–65 % of the digit's height long and
    /// 25–45° below the stem's own direction (at least 25° below the horizontal), as thick as the stem; then centres the
    /// wider digit again, as the preparation would.
    /// </summary>
    /// <returns>False when the image has no ink.</returns>
    internal static bool AddFlag(Span<float> image, Random random)
    {
        if (Measure(image) is not { } ink)
            return false;
        double start = ink.Top + (random.NextDouble() * 0.08 * ink.Height);
        double x = StemCentre(image, (int)start, ink.Threshold);
        // The stem's lean (90° upright, less when its top leans right): the stroke opens 25–45° below it, so a slanted
        // one gets a flatter stroke, as writers make it, not one along its own stem; never flatter than 25°, a seven's bar.
        double upper = ink.Top + (0.15 * ink.Height), lower = ink.Top + (0.85 * ink.Height);
        double lean = Math.Atan2(lower - upper, StemCentre(image, (int)upper, ink.Threshold) - StemCentre(image, (int)lower, ink.Threshold));
        double angle = Math.Max(lean - ((25 + (random.NextDouble() * 20)) * Math.PI / 180), 25 * Math.PI / 180);
        double length = ink.Height * (0.4 + (random.NextDouble() * 0.25));
        // Kept inside the content area, so re-centring never pushes ink out of the frame.
        length = Math.Clamp((x - Margin) / Math.Cos(angle), 0, length);
        var before = InkColumns(image);
        DrawStroke(image, x, start, x - (length * Math.Cos(angle)), start + (length * Math.Sin(angle)), ink.StrokeWidth, ink.Strength);
        Recentre(image, before);
        return true;
    }

    /// <summary>
    /// Draws a seven's bar: across the stem at 45–65 % of the digit's height, 36–64 % of its height long, tilted up to
    /// 8°, as thick as the stroke; then centres the digit again.
    /// </summary>
    /// <returns>False when the image has no ink.</returns>
    internal static bool AddCrossbar(Span<float> image, Random random)
    {
        if (Measure(image) is not { } ink)
            return false;
        double y = ink.Top + (ink.Height * (0.45 + (random.NextDouble() * 0.2)));
        double x = StemCentre(image, (int)y, ink.Threshold);
        double half = ink.Height * (0.18 + (random.NextDouble() * 0.14));
        double tilt = (random.NextDouble() - 0.5) * 16 * Math.PI / 180;
        double dx = half * Math.Cos(tilt), dy = half * Math.Sin(tilt);
        double from = Math.Max(Margin, x - dx), to = Math.Min(Side - Margin - 1, x + dx);
        var before = InkColumns(image);
        DrawStroke(image, from, y + dy, to, y - dy, ink.StrokeWidth, ink.Strength);
        Recentre(image, before);
        return true;
    }

    private sealed record InkMeasure(int Top, int Height, double StrokeWidth, float Strength, float Threshold);

    /// <summary>The ink's top, height, typical stroke width and full strength; null when there is none.</summary>
    private static InkMeasure? Measure(ReadOnlySpan<float> image)
    {
        float strength = 0;
        foreach (float v in image)
            strength = Math.Max(strength, v);
        if (!(strength > 0))
            return null;
        float threshold = strength / 2;
        int top = Side, bottom = -1;
        var widths = new List<int>();
        for (int y = 0; y < Side; y++)
        {
            int inRow = 0;
            for (int x = 0; x < Side; x++)
            {
                if (image[(y * Side) + x] < threshold)
                    continue;
                inRow++;
                (top, bottom) = (Math.Min(top, y), Math.Max(bottom, y));
            }

            if (inRow > 0)
                widths.Add(inRow);
        }

        if (bottom < 0)
            return null;
        widths.Sort();
        // The median row's ink: a stem's width, not a bar's length.
        double strokeWidth = Math.Clamp(widths[widths.Count / 2], 1.5, 5);
        return new InkMeasure(top, bottom - top + 1, strokeWidth, strength, threshold);
    }

    /// <summary>The centre of the ink in row <paramref name="y"/>, or of the nearest row that has ink.</summary>
    private static double StemCentre(ReadOnlySpan<float> image, int y, float threshold)
    {
        for (int step = 0; step < Side; step++)
        {
            foreach (int row in (ReadOnlySpan<int>)[y + step, y - step])
            {
                if (row < 0 || row >= Side)
                    continue;
                double sum = 0;
                int count = 0;
                for (int x = 0; x < Side; x++)
                {
                    if (image[(row * Side) + x] >= threshold)
                    {
                        sum += x;
                        count++;
                    }
                }

                if (count > 0)
                    return sum / count;
            }
        }

        return Side / 2.0;
    }

    /// <summary>An anti-aliased straight stroke: each pixel takes the stroke's coverage where that is the stronger ink.</summary>
    private static void DrawStroke(Span<float> image, double x0, double y0, double x1, double y1, double width, float strength)
    {
        double dx = x1 - x0, dy = y1 - y0, lengthSquared = (dx * dx) + (dy * dy);
        // Inside the content area only: the margin stays blank, as in every prepared image.
        for (int y = Margin; y < Side - Margin; y++)
        {
            for (int x = Margin; x < Side - Margin; x++)
            {
                double t = lengthSquared == 0 ? 0 : Math.Clamp((((x - x0) * dx) + ((y - y0) * dy)) / lengthSquared, 0, 1);
                double distance = Math.Sqrt(Math.Pow(x - (x0 + (t * dx)), 2) + Math.Pow(y - (y0 + (t * dy)), 2));
                float coverage = (float)Math.Clamp((width / 2) + 0.5 - distance, 0, 1) * strength;
                ref float pixel = ref image[(y * Side) + x];
                pixel = Math.Max(pixel, coverage);
            }
        }
    }

    /// <summary>The first and last columns that hold any ink; (0, -1) for a blank.</summary>
    private static (int Left, int Right) InkColumns(ReadOnlySpan<float> image)
    {
        int left = Side, right = -1;
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                if (image[(y * Side) + x] > 0)
                    (left, right) = (Math.Min(left, x), Math.Max(right, x));
            }
        }

        return right < 0 ? (0, -1) : (left, right);
    }

    /// <summary>
    /// Shifts the image sideways so that its ink's columns are centred where <paramref name="before"/>'s were, as the
    /// preparation centres a character's box; never into the 2-pixel margin.
    /// </summary>
    private static void Recentre(Span<float> image, (int Left, int Right) before)
    {
        var (left, right) = InkColumns(image);
        int lowest = Margin - left, highest = Side - Margin - 1 - right;
        int shift = (int)Math.Round(((before.Left + before.Right) - (left + right)) / 2.0);
        shift = lowest > highest ? 0 : Math.Clamp(shift, lowest, highest);
        if (shift == 0)
            return;
        var shifted = new float[CharacterFormat.PixelCount];
        for (int y = 0; y < Side; y++)
        {
            for (int x = Math.Max(0, shift); x < Math.Min(Side, Side + shift); x++)
                shifted[(y * Side) + x] = image[(y * Side) + x - shift];
        }

        shifted.CopyTo(image);
    }

    /// <summary>The input's rows, then the continental copies.</summary>
    private sealed class RowsWithCopies(string[] labels, float[] pixels, string[] copyLabels, float[] copyPixels) : ICharacterRows
    {
        public int Count => labels.Length + copyLabels.Length;

        public string GetLabel(int row) => row < labels.Length ? labels[row] : copyLabels[row - labels.Length];

        public void CopyPixels(int row, Span<float> destination)
        {
            var (source, index) = row < labels.Length ? (pixels, row) : (copyPixels, row - labels.Length);
            source.AsSpan(index * CharacterFormat.PixelCount, CharacterFormat.PixelCount).CopyTo(destination);
        }
    }
}
