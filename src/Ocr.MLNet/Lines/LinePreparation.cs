using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Lines;

/// <summary>
/// Prepares field images for the line network with the saved model's own preparation graph (<see cref="LineOnnxExporter"/>)
/// in ONNX Runtime, after the same IsoPad resize and ARGB extraction as ML.NET's chain: training and the reader see the
/// pixels a saved model computes.
/// </summary>
internal sealed class LinePreparation : IDisposable
{
    private const int ImagesPerRun = 64;
    private readonly InferenceSession session;

    public LinePreparation()
    {
        using var options = new SessionOptions { IntraOpNumThreads = ServingThreads.PerImage };
        session = new InferenceSession(LineOnnxExporter.ExportPreparation(), options);
    }

    /// <summary>The A, R, G, B byte planes of <paramref name="image"/> as ML.NET's chain extracts them (256×32, IsoPad).</summary>
    public static void ExtractArgb(MLImage image, Span<byte> destination) =>
        ArgbPlanes.ExtractBytes(image, LineImageFormat.Width, LineImageFormat.Height, destination);

    /// <summary>A BGRA image of 8-bit grey pixels (row-major, <paramref name="width"/>×<paramref name="height"/>).</summary>
    public static MLImage FromGrey(ReadOnlySpan<byte> grey, int width, int height)
    {
        if (grey.Length != width * height)
            throw new ArgumentException($"{grey.Length} grey pixels do not make a {width}×{height} image.", nameof(grey));
        var bgra = new byte[grey.Length * 4];
        for (int i = 0, p = 0; i < grey.Length; i++, p += 4)
        {
            bgra[p] = bgra[p + 1] = bgra[p + 2] = grey[i];
            bgra[p + 3] = 255;
        }

        return MLImage.CreateFromPixels(width, height, MLPixelFormat.Bgra32, bgra);
    }

    /// <summary>Prepared pixels (<see cref="LineImageFormat.PixelCount"/> per image, ink 1 on 0) of <paramref name="count"/> images given as ARGB planes.</summary>
    public float[] PrepareArgb(byte[] argb, int count)
    {
        int planes = 4 * LineImageFormat.PixelCount;
        if (argb.Length != count * planes)
            throw new ArgumentException($"{argb.Length} bytes are not {count} images of ARGB planes.", nameof(argb));
        var prepared = new float[count * LineImageFormat.PixelCount];
        for (int start = 0; start < count; start += ImagesPerRun)
        {
            int length = Math.Min(ImagesPerRun, count - start);
            var input = new DenseTensor<byte>(argb.AsMemory(start * planes, length * planes), [length, 4, LineImageFormat.Height, LineImageFormat.Width]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(LineOnnxExporter.InputColumnName, input)]);
            var output = results[0].AsTensor<float>();
            if (output is DenseTensor<float> dense)
                dense.Buffer.Span.CopyTo(prepared.AsSpan(start * LineImageFormat.PixelCount));
            else
                output.ToArray().CopyTo(prepared, start * LineImageFormat.PixelCount);
        }

        return prepared;
    }

    /// <summary>Prepared pixels of decoded images.</summary>
    public float[] Prepare(IReadOnlyList<MLImage> images)
    {
        int planes = 4 * LineImageFormat.PixelCount;
        var argb = new byte[images.Count * planes];
        for (int i = 0; i < images.Count; i++)
            ExtractArgb(images[i], argb.AsSpan(i * planes, planes));
        return PrepareArgb(argb, images.Count);
    }

    public void Dispose() => session.Dispose();
}
