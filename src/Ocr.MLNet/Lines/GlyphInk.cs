namespace Ocr.MLNet.Lines;

/// <summary>Measures the ink of a grey image stored row-major as floats (ink high).</summary>
internal static class GlyphInk
{
    /// <summary>The box around every pixel above <paramref name="threshold"/>; all zero when there is none.</summary>
    public static (int X, int Y, int Width, int Height) Bounds(ReadOnlySpan<float> image, int width, int height, float threshold)
    {
        int left = width, top = height, right = -1, bottom = -1;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (image[(y * width) + x] > threshold)
                    (left, top, right, bottom) = (Math.Min(left, x), Math.Min(top, y), Math.Max(right, x), Math.Max(bottom, y));
            }
        }

        return right < 0 ? (0, 0, 0, 0) : (left, top, right - left + 1, bottom - top + 1);
    }
}
