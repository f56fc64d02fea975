using Onnx;
using static TorchSharp.torch;

namespace Ocr.MLNet.OnnxWriting;

/// <summary>Reads weights back from an exported ONNX graph into a TorchSharp network (fine-tuning starts there), and float initializers for graph rewrites.</summary>
internal static class OnnxWeights
{
    /// <summary>A float initializer's values, from <c>raw_data</c> (little-endian) or <c>float_data</c>, whichever it uses.</summary>
    public static float[] Floats(TensorProto tensor) =>
        tensor.RawData.Length > 0 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : tensor.FloatData.ToArray();

    /// <summary>
    /// Copies the float initializer <paramref name="weight"/> into <paramref name="target"/> (call under <c>no_grad</c>).
    /// <paramref name="source"/> names the saved model and <paramref name="network"/> what it should hold, in messages.
    /// </summary>
    /// <exception cref="InvalidDataException">The weight is missing or has another number of values.</exception>
    public static void CopyInto(IReadOnlyDictionary<string, TensorProto> initializers, string weight, Tensor target, string source, string network)
    {
        if (!initializers.TryGetValue(weight, out var proto))
            throw new InvalidDataException($"{source} has no weight '{weight}': it is not {network} of this version's network.");
        float[] values = Floats(proto);
        if (values.Length != target.numel())
            throw new InvalidDataException($"{source}'s weight '{weight}' has {values.Length} values; this network's has {target.numel()}.");
        using var copied = tensor(values).reshape(target.shape);
        target.copy_(copied);
    }
}
