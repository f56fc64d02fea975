namespace Ocr.MLNet.Preparation;

/// <summary>
/// The input of <see cref="CharacterPreprocessingGraph"/> (and the line recognizer's preparation) from a decoded image, computed as the chain in front of the graph
/// computes it (<c>ResizeImages</c> with IsoPad, then <c>ExtractPixels</c> with all colours in ARGB order, planar, scaled by
/// 1/255), without a data view per image.
/// </summary>
internal static class ArgbPlanes
{
    /// <summary>Writes the A, R, G, B planes of <paramref name="image"/>, resized to <paramref name="side"/>×<paramref name="side"/>, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold 4·side² floats.</exception>
    public static void Extract(MLImage image, int side, Span<float> destination) => Extract(image, side, side, destination);

    /// <summary>Writes the A, R, G, B planes of <paramref name="image"/>, resized to <paramref name="width"/>×<paramref name="height"/>, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold 4·width·height floats.</exception>
    public static void Extract(MLImage image, int width, int height, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        int planeSize = width * height;
        if (destination.Length != CharacterPreprocessingGraph.InputChannels * planeSize)
            throw new ArgumentException($"The destination holds {destination.Length} floats; {width}×{height} ARGB planes need {CharacterPreprocessingGraph.InputChannels * planeSize}.", nameof(destination));

        // ResizeImages passes an image of the target size through untouched; so does this.
        MLImage? resized = image.Width == width && image.Height == height ? null : MLNetInterop.ResizeIsoPad(image, width, height);
        try
        {
            var source = resized ?? image;
            var pixels = source.Pixels;
            bool bgra = source.PixelFormat == MLPixelFormat.Bgra32;
            const float scale = 1f / 255f; // ExtractPixels' scaleImage, multiplied as it multiplies
            for (int i = 0, p = 0; i < planeSize; i++, p += 4)
            {
                destination[i] = pixels[p + 3] * scale;
                destination[planeSize + i] = pixels[p + (bgra ? 2 : 0)] * scale;
                destination[(2 * planeSize) + i] = pixels[p + 1] * scale;
                destination[(3 * planeSize) + i] = pixels[p + (bgra ? 0 : 2)] * scale;
            }
        }
        finally
        {
            resized?.Dispose();
        }
    }
}
