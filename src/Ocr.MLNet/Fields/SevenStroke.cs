namespace Ocr.MLNet.Fields;

/// <summary>Tells a crossed seven from a one written with a long up-stroke, on prepared 32×32 pixels.</summary>
internal static class SevenStroke
{
    private const int Side = CharacterFormat.ImageSide;

    /// <summary>Pixels at least this bright are ink for the character's box.</summary>
    private const float BoxInk = 0.3f;

    /// <summary>Pixels at least this bright are ink for the bar (the blur's fringe is not).</summary>
    private const float BarInk = 0.4f;

    /// <summary>The bar is a horizontal run this long, as a share of the character's width (crossed sevens: 0.56–0.94 on
    /// the ORAND-CAR cheques; flagged ones: a median of 0.31).</summary>
    private const double MinBarShare = 0.45;

    /// <summary>
    /// True when the character has a horizontal bar across its middle (30–75 % of its height from the top) at least
    /// <see cref="MinBarShare"/> of its width long: the bar through a crossed seven's stem, which a one's flag lacks.
    /// </summary>
    /// <param name="pixels">One prepared character, 1×32×32, ink bright.</param>
    public static bool HasCrossbar(ReadOnlySpan<float> pixels)
    {
        int top = -1, bottom = -1, left = Side, right = -1;
        for (int y = 0; y < Side; y++)
        {
            var line = pixels.Slice(y * Side, Side);
            for (int x = 0; x < Side; x++)
            {
                if (line[x] > BoxInk)
                {
                    top = top < 0 ? y : top;
                    bottom = y;
                    left = Math.Min(left, x);
                    right = Math.Max(right, x);
                }
            }
        }

        if (top < 0)
            return false;
        int height = bottom - top + 1, width = right - left + 1, longest = 0;
        for (int y = top + (int)(0.3 * height); y < top + (int)(0.75 * height); y++)
        {
            int run = 0;
            foreach (float value in pixels.Slice(y * Side, Side))
            {
                run = value > BarInk ? run + 1 : 0;
                longest = Math.Max(longest, run);
            }
        }

        return longest >= MinBarShare * width;
    }
}
