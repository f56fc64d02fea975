using System.Buffers;
using System.Numerics.Tensors;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// The input of <see cref="CharacterPreprocessingGraph"/> (and the line recognizer's preparation) from a decoded image, computed as the chain in front of the graph
/// computes it (<c>ResizeImages</c> with IsoPad, then <c>ExtractPixels</c> with all colours in ARGB order, planar: bytes for
/// the character graph, floats scaled by 1/255 for the line model and for character graphs saved before), without a data
/// view per image.
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
        CheckDestination(destination.Length, width, height, "floats");
        byte[] bytes = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            var planes = bytes.AsSpan(0, destination.Length);
            ExtractBytes(image, width, height, planes);
            Scale(planes, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>
    /// Writes the A, R, G, B byte planes of <paramref name="image"/>, resized to <paramref name="side"/>×<paramref name="side"/>,
    /// into <paramref name="destination"/>, as <c>ExtractPixels</c> writes them with <c>outputAsFloatArray: false</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold 4·side² bytes.</exception>
    public static void ExtractBytes(MLImage image, int side, Span<byte> destination) => ExtractBytes(image, side, side, destination);

    /// <summary>Writes the A, R, G, B byte planes of <paramref name="image"/>, resized to <paramref name="width"/>×<paramref name="height"/>, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold 4·width·height bytes.</exception>
    public static void ExtractBytes(MLImage image, int width, int height, Span<byte> destination)
    {
        CheckDestination(destination.Length, width, height, "bytes");
        MLImage? resized = ResizedCopy(image, width, height);
        try
        {
            var source = resized ?? image;
            var pixels = source.Pixels;
            bool bgra = source.PixelFormat == MLPixelFormat.Bgra32;
            int planeSize = width * height;
            for (int i = 0, p = 0; i < planeSize; i++, p += 4)
            {
                destination[i] = pixels[p + 3];
                destination[planeSize + i] = pixels[p + (bgra ? 2 : 0)];
                destination[(2 * planeSize) + i] = pixels[p + 1];
                destination[(3 * planeSize) + i] = pixels[p + (bgra ? 0 : 2)];
            }
        }
        finally
        {
            resized?.Dispose();
        }
    }

    /// <summary>Byte planes as the float input of graphs saved before the byte planes took them: ExtractPixels' scaleImage, multiplied as it multiplies, (float)byte × (1/255f).</summary>
    public static void Scale(ReadOnlySpan<byte> planes, Span<float> destination)
    {
        TensorPrimitives.ConvertTruncating(planes, destination);
        TensorPrimitives.Multiply(destination, 1f / 255f, destination);
    }

    private static void CheckDestination(int length, int width, int height, string unit)
    {
        int needed = CharacterPreprocessingGraph.InputChannels * width * height;
        if (length != needed)
            throw new ArgumentException($"The destination holds {length} {unit}; {width}×{height} ARGB planes need {needed}.", "destination");
    }

    /// <summary>The image resized to width×height as <c>ResizeImages</c> with IsoPad resizes it; null when it has that size already (ResizeImages passes it through untouched, and so does this).</summary>
    private static MLImage? ResizedCopy(MLImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Width == width && image.Height == height ? null : MLNetInterop.ResizeIsoPad(image, width, height);
    }
}
