using Microsoft.ML.Data;
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Turns a character image of any size into the network's input, in EMNIST's convention: 1×32×32 floats, ink
/// bright on dark in [0, 1], prepared the way EMNIST prepared NIST SD19 (Cohen et al., 2017, arXiv:1702.05373).
/// </summary>
/// <remarks>
/// <para>The steps, in order:</para>
/// <list type="number">
/// <item>grey-scale (luminance 0.299 R + 0.587 G + 0.114 B; a transparent pixel counts as white paper), scaled to [0, 1];</item>
/// <item>inverted when the ink is dark on light (see <see cref="InkPolarity"/>), so the ink is bright on dark;</item>
/// <item>Gaussian blur, σ = 1 (kernel radius 3, zero outside the image);</item>
/// <item>cropped to the bounding box of the ink (blurred values above <see cref="InkThreshold"/>);</item>
/// <item>centred in a square frame whose side is the longer side of the box, keeping the aspect ratio;</item>
/// <item>padded by 2 pixels on every side;</item>
/// <item>down-sampled to 28×28 by area averaging (each output pixel is the mean of the source area it covers);</item>
/// <item>scaled so that the brightest pixel is 1;</item>
/// <item>padded by 2 zero pixels on every side to 32×32, exactly as <c>LoadFromEmnist</c> pads EMNIST's 28×28 images.</item>
/// </list>
/// <para>An image without ink comes out all zero. The result is row-major (<c>pixels[r * 32 + c]</c>).</para>
/// </remarks>
internal static class CharacterImageConverter
{
    /// <summary>Side of the output image (32).</summary>
    public const int ImageSide = CharacterFormat.ImageSide;

    /// <summary>Floats per output image: 1 × 32 × 32 = 1024.</summary>
    public const int PixelCount = CharacterFormat.PixelCount;

    /// <summary>Side of the down-sampled character image before the final padding (28, EMNIST's size).</summary>
    public const int CharacterSide = EmnistDataset.SourceImageSide;

    /// <summary>Standard deviation of the Gaussian blur, in source pixels (1).</summary>
    public const double BlurSigma = 1.0;

    /// <summary>Pixels added around the centred square frame before down-sampling (2).</summary>
    public const int FramePadding = 2;

    /// <summary>A blurred pixel brighter than this (on a 0–1 scale) counts as ink for the bounding box: 1/255.</summary>
    public const float InkThreshold = 1f / 255f;

    private const int BlurRadius = 3;

    private static readonly float[] BlurKernel = CreateBlurKernel();

    /// <summary>The blur's 7 weights (radius 3), for the ONNX form of this conversion.</summary>
    internal static float[] BlurKernelValues => (float[])BlurKernel.Clone();

    /// <summary>Converts a decoded image (any colour type, any size).</summary>
    /// <param name="bitmap">The image.</param>
    /// <param name="polarity">Which way round the ink is; <see cref="InkPolarity.Detect"/> decides from the border.</param>
    /// <returns>1024 floats: 1×32×32, ink bright on dark, [0, 1].</returns>
    public static float[] ToEmnistPixels(SKBitmap bitmap, InkPolarity polarity = InkPolarity.Detect)
    {
        var pixels = new float[PixelCount];
        ToEmnistPixels(bitmap, polarity, pixels);
        return pixels;
    }

    /// <summary>Converts a decoded image into <paramref name="destination"/> (at least 1024 floats).</summary>
    /// <param name="bitmap">The image.</param>
    /// <param name="polarity">Which way round the ink is.</param>
    /// <param name="destination">Receives 1×32×32 floats; the rest of it is left alone.</param>
    public static void ToEmnistPixels(SKBitmap bitmap, InkPolarity polarity, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var grey = ToGrey(bitmap);
        ToEmnistPixels(grey, bitmap.Width, bitmap.Height, polarity, destination);
    }

    /// <summary>Converts 8-bit grey pixels (row-major, <paramref name="width"/> × <paramref name="height"/>).</summary>
    /// <param name="grey">The pixels, 0 = black, 255 = white.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="polarity">Which way round the ink is.</param>
    /// <returns>1024 floats: 1×32×32, ink bright on dark, [0, 1].</returns>
    public static float[] ToEmnistPixels(ReadOnlySpan<byte> grey, int width, int height, InkPolarity polarity = InkPolarity.Detect)
    {
        var pixels = new float[PixelCount];
        ToEmnistPixels(grey, width, height, polarity, pixels);
        return pixels;
    }

    /// <summary>Converts 8-bit grey pixels into <paramref name="destination"/> (at least 1024 floats).</summary>
    /// <param name="grey">The pixels, 0 = black, 255 = white, row-major.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="polarity">Which way round the ink is.</param>
    /// <param name="destination">Receives 1×32×32 floats; the rest of it is left alone.</param>
    public static void ToEmnistPixels(ReadOnlySpan<byte> grey, int width, int height, InkPolarity polarity, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (grey.Length < (long)width * height)
            throw new ArgumentException($"The image holds {grey.Length} bytes; {width}×{height} needs {(long)width * height}.", nameof(grey));
        if (destination.Length < PixelCount)
            throw new ArgumentException($"The destination holds {destination.Length} floats; one image needs {PixelCount}.", nameof(destination));
        if (!Enum.IsDefined(polarity))
            throw new ArgumentOutOfRangeException(nameof(polarity), polarity, "Use Detect, DarkOnLight or LightOnDark.");

        bool invert = polarity switch
        {
            InkPolarity.DarkOnLight => true,
            InkPolarity.LightOnDark => false,
            _ => IsDarkOnLight(grey, width, height),
        };

        var output = destination[..PixelCount];
        output.Clear();

        // 1–2: ink bright on dark. Only a window around the non-zero ink matters: the blur of zeros is zero, so the
        // window (the ink's box grown by the blur radius) blurred alone gives exactly the whole image blurred.
        byte background = invert ? (byte)255 : (byte)0;
        int rawTop = height, rawBottom = -1, rawLeft = width, rawRight = -1;
        for (int r = 0; r < height; r++)
        {
            var line = grey.Slice(r * width, width);
            int first = line.IndexOfAnyExcept(background);
            if (first < 0)
                continue;
            rawTop = Math.Min(rawTop, r);
            rawBottom = r;
            rawLeft = Math.Min(rawLeft, first);
            rawRight = Math.Max(rawRight, line.LastIndexOfAnyExcept(background));
        }

        if (rawBottom < 0)
            return;
        int windowTop = Math.Max(0, rawTop - BlurRadius), windowLeft = Math.Max(0, rawLeft - BlurRadius);
        int windowWidth = Math.Min(width - 1, rawRight + BlurRadius) - windowLeft + 1;
        int windowHeight = Math.Min(height - 1, rawBottom + BlurRadius) - windowTop + 1;
        // Scratch rows are whole vectors wide and the window has a zero border of the blur's radius, so every tap and
        // every vector reads a value (zero outside the image, as the blur defines it) and no step needs a scalar tail.
        int stride = RoundUpToVector(windowWidth);
        int paddedStride = stride + (2 * BlurRadius), paddedHeight = windowHeight + (2 * BlurRadius);
        float[] padded = ArrayPool<float>.Shared.Rent(paddedStride * paddedHeight);
        float[] across = ArrayPool<float>.Shared.Rent(stride * paddedHeight);
        float[] blurred = ArrayPool<float>.Shared.Rent(stride * windowHeight);
        try
        {
            padded.AsSpan(0, paddedStride * paddedHeight).Clear();
            for (int r = 0; r < windowHeight; r++)
            {
                var line = grey.Slice(((windowTop + r) * width) + windowLeft, windowWidth);
                var target = padded.AsSpan(((r + BlurRadius) * paddedStride) + BlurRadius, windowWidth);
                for (int c = 0; c < windowWidth; c++)
                    target[c] = (invert ? 255 - line[c] : line[c]) / 255f;
            }

            // 3: separable Gaussian blur, zero outside.
            Blur(padded, paddedStride, across, blurred, stride, windowHeight);
            FrameAndDownsample(blurred, stride, windowWidth, windowHeight, output);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
            ArrayPool<float>.Shared.Return(across);
            ArrayPool<float>.Shared.Return(blurred);
        }
    }

    /// <summary>Steps 4–9 on the blurred window (<paramref name="stride"/> floats a row): crop, frame, down-sample, scale, pad.</summary>
    private static void FrameAndDownsample(float[] blurred, int stride, int windowWidth, int windowHeight, Span<float> output)
    {
        // 4: bounding box of the ink (in window coordinates: only its size and content matter from here on).
        int top = windowHeight, bottom = -1, left = windowWidth, right = -1;
        for (int r = 0; r < windowHeight; r++)
        {
            var line = blurred.AsSpan(r * stride, windowWidth);
            if (TensorPrimitives.Max(line) <= InkThreshold)
                continue;
            top = Math.Min(top, r);
            bottom = r;
            int c = 0;
            while (line[c] <= InkThreshold)
                c++;
            left = Math.Min(left, c);
            c = windowWidth - 1;
            while (line[c] <= InkThreshold)
                c--;
            right = Math.Max(right, c);
        }

        if (bottom < 0)
            return;

        // 5–6: centre the box in a square frame, pad by 2. The frame is not built: its pixels outside the box are zero,
        // and a zero adds nothing to the non-negative sums below, so the down-sampling reads the box in place.
        int boxWidth = right - left + 1, boxHeight = bottom - top + 1;
        int side = Math.Max(boxWidth, boxHeight);
        int frameSide = side + (2 * FramePadding);
        int offsetRow = FramePadding + ((side - boxHeight) / 2);
        int offsetColumn = FramePadding + ((side - boxWidth) / 2);

        // 7: area down-sampling to 28×28, separable (rows first, then columns); every output sums its source pixels in
        // order, as before. The row pass writes rows of whole vectors, so the column pass runs over a row at once.
        var weights = AreaWeights(frameSide, CharacterSide);
        int rowStride = RoundUpToVector(CharacterSide);
        float[] horizontal = ArrayPool<float>.Shared.Rent(frameSide * rowStride);
        try
        {
            horizontal.AsSpan(0, frameSide * rowStride).Clear();
            for (int r = 0; r < boxHeight; r++)
            {
                var line = blurred.AsSpan(((top + r) * stride) + left, boxWidth);
                var target = horizontal.AsSpan((offsetRow + r) * rowStride, CharacterSide);
                for (int c = 0; c < CharacterSide; c++)
                {
                    var weight = weights[c];
                    int from = Math.Max(weight.First, offsetColumn), to = Math.Min(weight.First + weight.Weights.Length, offsetColumn + boxWidth);
                    float sum = 0;
                    for (int k = from; k < to; k++)
                        sum += line[k - offsetColumn] * weight.Weights[k - weight.First];
                    target[c] = sum;
                }
            }

            float max = 0;
            Span<float> small = stackalloc float[CharacterSide * rowStride];
            for (int r = 0; r < CharacterSide; r++)
            {
                var weight = weights[r];
                for (int c = 0; c < rowStride; c += Vector<float>.Count)
                {
                    var sum = Vector<float>.Zero;
                    for (int k = 0; k < weight.Weights.Length; k++)
                        sum += new Vector<float>(horizontal, ((weight.First + k) * rowStride) + c) * weight.Weights[k];
                    sum.CopyTo(small[((r * rowStride) + c)..]);
                }

                max = Math.Max(max, TensorPrimitives.Max(small.Slice(r * rowStride, CharacterSide)));
            }

            // 8–9: brightest pixel 1, pad by 2 to 32×32.
            if (max <= 0)
                return;
            float scale = 1f / max;
            int padding = (ImageSide - CharacterSide) / 2;
            for (int r = 0; r < CharacterSide; r++)
            {
                for (int c = 0; c < CharacterSide; c++)
                    output[((r + padding) * ImageSide) + c + padding] = Math.Min(1f, small[(r * rowStride) + c] * scale);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(horizontal);
        }
    }

    private static int RoundUpToVector(int count) => (count + Vector<float>.Count - 1) / Vector<float>.Count * Vector<float>.Count;

    /// <summary>True when the border of the image is light on average (dark ink on light paper).</summary>
    internal static bool IsDarkOnLight(ReadOnlySpan<byte> grey, int width, int height)
    {
        long sum = 0;
        long count = 0;
        for (int c = 0; c < width; c++)
        {
            sum += grey[c] + grey[((height - 1) * width) + c];
            count += 2;
        }

        for (int r = 1; r < height - 1; r++)
        {
            sum += grey[r * width] + grey[(r * width) + width - 1];
            count += 2;
        }

        return sum > count * 127.5;
    }

    /// <summary>Luminance of every pixel, a transparent pixel counting as white.</summary>
    internal static byte[] ToGrey(SKBitmap bitmap)
    {
        int width = bitmap.Width, height = bitmap.Height;
        if (width < 1 || height < 1)
            throw new ArgumentException($"The image is {width}×{height}; it needs at least one pixel.", nameof(bitmap));
        if (bitmap.ColorType == SKColorType.Gray8)
        {
            var copy = new byte[width * height];
            var span = bitmap.GetPixelSpan();
            for (int r = 0; r < height; r++)
                span.Slice(r * bitmap.RowBytes, width).CopyTo(copy.AsSpan(r * width, width));
            return copy;
        }

        if (bitmap.ColorType is SKColorType.Rgba8888 or SKColorType.Bgra8888 && bitmap.AlphaType is SKAlphaType.Unpremul or SKAlphaType.Opaque)
            return RgbaToGrey(bitmap.GetPixelSpan(), width, height, bitmap.RowBytes, bgra: bitmap.ColorType == SKColorType.Bgra8888);

        using var rgba = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!bitmap.CopyTo(rgba, SKColorType.Rgba8888) && !bitmap.ExtractSubset(rgba, new SKRectI(0, 0, width, height)))
            throw new ArgumentException($"The image's colour type {bitmap.ColorType} cannot be converted to RGBA.", nameof(bitmap));
        return RgbaToGrey(rgba.GetPixelSpan(), width, height, rgba.RowBytes);
    }

    /// <summary>Luminance of every pixel of an ML.NET image (BGRA or RGBA, 4 bytes a pixel), a transparent pixel counting as white.</summary>
    internal static byte[] ToGrey(MLImage image) =>
        RgbaToGrey(image.Pixels, image.Width, image.Height, image.Width * 4, bgra: image.PixelFormat == MLPixelFormat.Bgra32);

    internal static byte[] RgbaToGrey(ReadOnlySpan<byte> rgba, int width, int height, int rowBytes, bool bgra = false)
    {
        int redAt = bgra ? 2 : 0, blueAt = bgra ? 0 : 2;
        var grey = new byte[width * height];
        for (int r = 0; r < height; r++)
        {
            var line = rgba.Slice(r * rowBytes, width * 4);
            for (int c = 0; c < width; c++)
            {
                int red = line[(4 * c) + redAt], green = line[(4 * c) + 1], blue = line[(4 * c) + blueAt], alpha = line[(4 * c) + 3];
                int luminance = ((299 * red) + (587 * green) + (114 * blue) + 500) / 1000;
                grey[(r * width) + c] = (byte)(((luminance * alpha) + (255 * (255 - alpha)) + 127) / 255);
            }
        }

        return grey;
    }

    /// <summary>
    /// The separable blur of <paramref name="padded"/> (the window with a zero border of <see cref="BlurRadius"/> on every
    /// side, <paramref name="paddedStride"/> floats a row) into <paramref name="blurred"/> (<paramref name="stride"/> a row,
    /// <paramref name="height"/> rows); <paramref name="across"/> is scratch. Every pixel sums its taps in kernel order, from
    /// zero, as <see cref="TensorPrimitives.MultiplyAdd(ReadOnlySpan{float}, float, ReadOnlySpan{float}, Span{float})"/> tap by tap did.
    /// </summary>
    private static void Blur(float[] padded, int paddedStride, float[] across, float[] blurred, int stride, int height)
    {
        Span<Vector<float>> kernel = stackalloc Vector<float>[BlurKernel.Length];
        for (int t = 0; t < kernel.Length; t++)
            kernel[t] = new Vector<float>(BlurKernel[t]);
        int taps = kernel.Length;
        // Along the rows, for every padded row (the zero rows stay zero): the vertical pass reads them as the border.
        for (int r = 0; r < height + (2 * BlurRadius); r++)
        {
            var source = padded.AsSpan(r * paddedStride, paddedStride);
            var target = across.AsSpan(r * stride, stride);
            for (int c = 0; c < stride; c += Vector<float>.Count)
            {
                var sum = Vector<float>.Zero;
                for (int t = 0; t < taps; t++)
                    sum = MultiplyAdd(Vector.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)(c + t)), kernel[t], sum);
                sum.StoreUnsafe(ref MemoryMarshal.GetReference(target), (nuint)c);
            }
        }

        for (int r = 0; r < height; r++)
        {
            var source = across.AsSpan(r * stride, taps * stride);
            var target = blurred.AsSpan(r * stride, stride);
            for (int c = 0; c < stride; c += Vector<float>.Count)
            {
                var sum = Vector<float>.Zero;
                for (int t = 0; t < taps; t++)
                    sum = MultiplyAdd(Vector.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)((t * stride) + c)), kernel[t], sum);
                sum.StoreUnsafe(ref MemoryMarshal.GetReference(target), (nuint)c);
            }
        }
    }

    /// <summary>x · k + addend, rounded as <see cref="TensorPrimitives.MultiplyAdd(ReadOnlySpan{float}, float, ReadOnlySpan{float}, Span{float})"/> rounds it.</summary>
    private static Vector<float> MultiplyAdd(Vector<float> x, Vector<float> k, Vector<float> addend) => (x * k) + addend;

    private static float[] CreateBlurKernel()
    {
        var kernel = new float[(2 * BlurRadius) + 1];
        double sum = 0;
        for (int i = -BlurRadius; i <= BlurRadius; i++)
            sum += Math.Exp(-(i * i) / (2 * BlurSigma * BlurSigma));
        for (int i = -BlurRadius; i <= BlurRadius; i++)
            kernel[i + BlurRadius] = (float)(Math.Exp(-(i * i) / (2 * BlurSigma * BlurSigma)) / sum);
        return kernel;
    }

    /// <summary>For each output index, the source indices it covers and their area weights (summing to 1).</summary>
    private static AreaWeight[] AreaWeights(int sourceSide, int targetSide)
    {
        var result = new AreaWeight[targetSide];
        double step = (double)sourceSide / targetSide;
        for (int o = 0; o < targetSide; o++)
        {
            double start = o * step, end = (o + 1) * step;
            int first = (int)Math.Floor(start);
            int last = Math.Min(sourceSide - 1, (int)Math.Ceiling(end) - 1);
            var w = new float[last - first + 1];
            for (int i = first; i <= last; i++)
                w[i - first] = (float)((Math.Min(end, i + 1) - Math.Max(start, i)) / step);
            result[o] = new AreaWeight(first, w);
        }

        return result;
    }

    /// <summary>An output pixel's source pixels: from <paramref name="First"/>, one weight each.</summary>
    [StructLayout(LayoutKind.Auto)]
    private readonly record struct AreaWeight(int First, float[] Weights);
}
