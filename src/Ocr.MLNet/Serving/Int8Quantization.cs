using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.OnnxWriting;
using Onnx;

namespace Ocr.MLNet.Serving;

/// <summary>
/// The character network in 8-bit integers for scoring on the CPU, as ONNX Runtime's static quantization lays it out.
/// The trainer measures each activation's range on training images and saves the ranges in the network's ONNX metadata
/// (<see cref="WithActivationRanges"/>); <see cref="TryQuantize"/> then stores the convolutions' weights as int8 per output
/// channel and their biases as int32, and puts a QuantizeLinear → DequantizeLinear pair on the network's input and on every
/// ReLU's and BatchNormalization's output. ONNX Runtime fuses each DequantizeLinear → Conv → ReLU → QuantizeLinear into one
/// QLinearConv; the dense layer stays in float.
/// </summary>
/// <remarks>
/// Ranges are the minimum and maximum over the calibration images (not a percentile): the packaged network in int8 keeps
/// the float network's top class for 996 of the first 1,000 bymerge-dev images and scores 89.23 % on the held-out split
/// against 89.28 % (see the benchmarks journal). On x86 CPUs without VNNI the weights take <see cref="ReducedWeightLevels"/>,
/// so that ONNX Runtime's 16-bit sums of products there cannot saturate.
/// </remarks>
internal static class Int8Quantization
{
    /// <summary>The ONNX metadata key under which the activation ranges are saved: <c>tensor=min,max</c> pairs joined by <c>;</c>.</summary>
    internal const string RangesMetadataKey = "ocr-mlnet.activation-ranges";

    /// <summary>Training images the ranges are measured on (spread evenly over the set); more move the maxima little.</summary>
    internal const int CalibrationImages = 2048;

    private const int CalibrationBatch = 256;

    /// <summary>
    /// The network with the ranges of its input and of every ReLU and BatchNormalization output, measured by ONNX Runtime on up
    /// to <see cref="CalibrationImages"/> of <paramref name="pixels"/>, saved in its metadata. The graph itself is unchanged.
    /// </summary>
    /// <param name="onnx">The exported network (one float input of N × 1 × side × side).</param>
    /// <param name="pixels">Training images as the network reads them, N × <paramref name="imagePixels"/> floats.</param>
    /// <param name="imagePixels">Floats per image.</param>
    public static byte[] WithActivationRanges(byte[] onnx, ReadOnlySpan<float> pixels, int imagePixels)
    {
        int available = pixels.Length / imagePixels;
        if (available == 0)
            return onnx;
        var model = ModelProto.Parser.ParseFrom(onnx);
        var graph = model.Graph;
        string input = graph.Input.Single(i => graph.Initializer.All(init => init.Name != i.Name)).Name;
        var dims = graph.Input.Single(i => i.Name == input).Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue).ToArray();
        string[] tensors = graph.Node.Where(n => n.Domain.Length == 0 && n.OpType is "Relu" or "BatchNormalization").Select(n => n.Output[0]).ToArray();

        int count = Math.Min(available, CalibrationImages);
        var sample = new float[count * imagePixels];
        for (int i = 0; i < count; i++)
            pixels.Slice((int)((long)i * available / count) * imagePixels, imagePixels).CopyTo(sample.AsSpan(i * imagePixels));

        var ranges = new Dictionary<string, (float Min, float Max)>
        {
            [input] = (Math.Min(0f, MinOf(sample)), Math.Max(1f, MaxOf(sample))),
        };
        var measuring = model.Clone();
        foreach (string tensor in tensors)
            measuring.Graph.Output.Add(new ValueInfoProto { Name = tensor });
        using (var options = new SessionOptions { IntraOpNumThreads = 1 })
        using (var session = new InferenceSession(measuring.ToByteArray(), options))
        using (var runOptions = new RunOptions())
        {
            for (int start = 0; start < count; start += CalibrationBatch)
            {
                int n = Math.Min(CalibrationBatch, count - start);
                using var batch = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, sample.AsMemory(start * imagePixels, n * imagePixels),
                    [n, .. dims]);
                using var outputs = session.Run(runOptions, [input], [batch], tensors);
                for (int t = 0; t < tensors.Length; t++)
                {
                    var values = outputs[t].GetTensorDataAsSpan<float>();
                    var (low, high) = ranges.GetValueOrDefault(tensors[t], (0f, 0f));
                    ranges[tensors[t]] = (Math.Min(low, MinOf(values)), Math.Max(high, MaxOf(values)));
                }
            }
        }

        foreach (var stale in model.MetadataProps.Where(p => p.Key == RangesMetadataKey).ToList())
            model.MetadataProps.Remove(stale);
        model.MetadataProps.Add(new StringStringEntryProto
        {
            Key = RangesMetadataKey,
            Value = string.Join(';', ranges.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}={r.Value.Min:R},{r.Value.Max:R}"))),
        });
        return model.ToByteArray();
    }

    /// <summary>The ranges saved in a network's metadata; empty when it has none (models saved before they were measured).</summary>
    internal static Dictionary<string, (float Min, float Max)> ReadRanges(ModelProto model)
    {
        var ranges = new Dictionary<string, (float Min, float Max)>();
        if (model.MetadataProps.FirstOrDefault(p => p.Key == RangesMetadataKey) is not { } saved)
            return ranges;
        foreach (string pair in saved.Value.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.LastIndexOf('=');
            string[] bounds = pair[(equals + 1)..].Split(',');
            if (equals <= 0 || bounds.Length != 2
                || !float.TryParse(bounds[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float low)
                || !float.TryParse(bounds[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float high)
                || !float.IsFinite(low) || !float.IsFinite(high) || low > high)
                return [];
            ranges[pair[..equals]] = (low, high);
        }

        return ranges;
    }

    /// <summary>Weight levels either side of zero where the CPU multiplies uint8 by int8 without intermediate saturation.</summary>
    internal const int FullWeightLevels = 127;

    /// <summary>
    /// Weight levels either side of zero on x86 CPUs without VNNI: ONNX Runtime's kernels there add pairs of uint8 × int8
    /// products in 16 bits with saturation (<c>VPMADDUBSW</c>), which 255 × 127 × 2 overflows and 255 × 63 × 2 does not
    /// (ONNX Runtime's quantizer calls this <c>reduce_range</c>).
    /// </summary>
    internal const int ReducedWeightLevels = 63;

    /// <summary>
    /// The weight levels for this CPU: <see cref="FullWeightLevels"/> where ONNX Runtime's uint8 × int8 products cannot
    /// saturate (x86 with AVX-512 VNNI or AVX-VNNI, which sum in 32 bits; Arm64), <see cref="ReducedWeightLevels"/> on other x86 CPUs.
    /// </summary>
    internal static int WeightLevelsForThisCpu()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported)
            return FullWeightLevels;
        // CPUID leaf 7, sub-leaf 0, ECX bit 11: AVX512_VNNI (usable only where the OS enabled AVX-512).
        bool avx512Vnni = System.Runtime.Intrinsics.X86.Avx512F.IsSupported && (System.Runtime.Intrinsics.X86.X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;
        return avx512Vnni || System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? FullWeightLevels : ReducedWeightLevels;
    }

    /// <summary>
    /// The int8 form of a float network whose metadata holds its activation ranges; false (and null) when it holds none, or
    /// when no convolution can be quantized.
    /// </summary>
    /// <param name="onnx">The float network (after <see cref="BatchNormFolding.Fold"/>, or not).</param>
    /// <param name="quantized">The int8 network: same input, outputs and class names.</param>
    /// <param name="weightLevels">Levels either side of zero for the convolutions' weights (per output channel, symmetric):
    /// <see cref="WeightLevelsForThisCpu"/> for the CPU that will run it.</param>
    public static bool TryQuantize(byte[] onnx, [NotNullWhen(true)] out byte[]? quantized, int weightLevels = FullWeightLevels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(weightLevels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weightLevels, FullWeightLevels);
        quantized = null;
        var model = ModelProto.Parser.ParseFrom(onnx);
        var ranges = ReadRanges(model);
        if (ranges.Count == 0)
            return false;
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet();

        // Dequantized copies of the activations, by the float tensor's name; every consumer but the QuantizeLinear reads the copy.
        var dequantized = new Dictionary<string, string>();
        var added = new List<NodeProto>();
        string Dequantized(string tensor)
        {
            if (dequantized.TryGetValue(tensor, out string? copy))
                return copy;
            var (scale, zeroPoint) = ActivationScale(ranges[tensor]);
            graph.Initializer.Add(FloatTensor($"{tensor}_scale", [scale], scalar: true));
            graph.Initializer.Add(new TensorProto { Name = $"{tensor}_zero_point", DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(zeroPoint) });
            added.Add(Node("QuantizeLinear", [tensor, $"{tensor}_scale", $"{tensor}_zero_point"], $"{tensor}_quantized"));
            added.Add(Node("DequantizeLinear", [$"{tensor}_quantized", $"{tensor}_scale", $"{tensor}_zero_point"], $"{tensor}_dequantized"));
            return dequantized[tensor] = $"{tensor}_dequantized";
        }

        int convolutions = 0;
        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv" && n.Domain.Length == 0).ToList())
        {
            if (!ranges.ContainsKey(conv.Input[0]) || !initializers.TryGetValue(conv.Input[1], out var weight) || weight.DataType != (int)TensorProto.Types.DataType.Float
                || (conv.Input.Count > 2 && (!initializers.TryGetValue(conv.Input[2], out var b) || b.DataType != (int)TensorProto.Types.DataType.Float)))
                continue;
            float inputScale = ActivationScale(ranges[conv.Input[0]]).Scale;
            float[] w = OnnxWeights.Floats(weight);
            int outputs = (int)weight.Dims[0], perOutput = w.Length / outputs;
            var weightScales = new float[outputs];
            var weightBytes = new byte[w.Length];
            for (int o = 0; o < outputs; o++)
            {
                float largest = 0;
                for (int j = 0; j < perOutput; j++)
                    largest = Math.Max(largest, Math.Abs(w[(o * perOutput) + j]));
                weightScales[o] = largest > 0 ? largest / weightLevels : 1f;
                for (int j = 0; j < perOutput; j++)
                    weightBytes[(o * perOutput) + j] = (byte)(sbyte)Math.Clamp(MathF.Round(w[(o * perOutput) + j] / weightScales[o]), -weightLevels, weightLevels);
            }

            graph.Initializer.Remove(weight);
            graph.Initializer.Add(Tensor($"{weight.Name}_quantized", TensorProto.Types.DataType.Int8, weight.Dims, weightBytes));
            graph.Initializer.Add(FloatTensor($"{weight.Name}_scale", weightScales));
            graph.Initializer.Add(Tensor($"{weight.Name}_zero_point", TensorProto.Types.DataType.Int8, [outputs], new byte[outputs]));
            added.Add(PerChannel(Node("DequantizeLinear", [$"{weight.Name}_quantized", $"{weight.Name}_scale", $"{weight.Name}_zero_point"], $"{weight.Name}_dequantized")));
            conv.Input[1] = $"{weight.Name}_dequantized";

            if (conv.Input.Count > 2)
            {
                // ONNX Runtime's QLinearConv takes the bias in int32 at the input's scale times the weight's.
                var bias = initializers[conv.Input[2]];
                float[] values = OnnxWeights.Floats(bias);
                var biasScales = new float[outputs];
                var biasInts = new int[outputs];
                for (int o = 0; o < outputs; o++)
                {
                    biasScales[o] = inputScale * weightScales[o];
                    biasInts[o] = (int)Math.Clamp(Math.Round(values[o] / biasScales[o]), int.MinValue, int.MaxValue);
                }

                graph.Initializer.Remove(bias);
                graph.Initializer.Add(Tensor($"{bias.Name}_quantized", TensorProto.Types.DataType.Int32, [outputs], MemoryMarshal.AsBytes(biasInts.AsSpan()).ToArray()));
                graph.Initializer.Add(FloatTensor($"{bias.Name}_scale", biasScales));
                graph.Initializer.Add(Tensor($"{bias.Name}_zero_point", TensorProto.Types.DataType.Int32, [outputs], new byte[outputs * sizeof(int)]));
                added.Add(PerChannel(Node("DequantizeLinear", [$"{bias.Name}_quantized", $"{bias.Name}_scale", $"{bias.Name}_zero_point"], $"{bias.Name}_dequantized")));
                conv.Input[2] = $"{bias.Name}_dequantized";
            }

            Dequantized(conv.Input[0]);
            convolutions++;
        }

        if (convolutions == 0)
            return false;

        // A convolution fuses only when its output (after the ReLU, which ONNX Runtime folds into the quantization) is quantized too.
        foreach (var node in graph.Node.Where(n => n.Domain.Length == 0 && n.OpType is "Relu" or "BatchNormalization"))
        {
            if (ranges.ContainsKey(node.Output[0]) && !graphOutputs.Contains(node.Output[0]))
                Dequantized(node.Output[0]);
        }

        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (dequantized.TryGetValue(node.Input[i], out string? copy))
                    node.Input[i] = copy;
            }
        }

        var nodes = graph.Node.Concat(added).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(TopologicalOrder(nodes, graph.Input.Select(i => i.Name).Concat(graph.Initializer.Select(i => i.Name))));
        quantized = model.ToByteArray();
        return true;
    }

    /// <summary>uint8 scale and zero point of a range widened to hold 0 (as ONNX Runtime's quantizer does, so padding's zeros are exact).</summary>
    private static (float Scale, byte ZeroPoint) ActivationScale((float Min, float Max) range)
    {
        float low = Math.Min(range.Min, 0f), high = Math.Max(range.Max, 0f);
        float scale = high > low ? (high - low) / 255f : 1f;
        return (scale, (byte)Math.Clamp(MathF.Round(-low / scale), 0f, 255f));
    }

    private static List<NodeProto> TopologicalOrder(List<NodeProto> nodes, IEnumerable<string> available)
    {
        var known = new HashSet<string>(available) { string.Empty };
        var ordered = new List<NodeProto>(nodes.Count);
        var waiting = new List<NodeProto>(nodes);
        while (waiting.Count > 0)
        {
            int ready = waiting.FindIndex(n => n.Input.All(known.Contains));
            if (ready < 0)
                throw new InvalidOperationException("The quantized graph has a cycle or an input nothing produces.");
            var node = waiting[ready];
            waiting.RemoveAt(ready);
            ordered.Add(node);
            known.UnionWith(node.Output);
        }

        return ordered;
    }

    private static NodeProto Node(string opType, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    private static NodeProto PerChannel(NodeProto dequantize)
    {
        dequantize.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        return dequantize;
    }

    private static TensorProto FloatTensor(string name, float[] values, bool scalar = false)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        if (!scalar)
            tensor.Dims.Add(values.Length);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    private static TensorProto Tensor(string name, TensorProto.Types.DataType type, IEnumerable<long> dims, byte[] raw)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static float MinOf(ReadOnlySpan<float> values) => values.IsEmpty ? 0f : System.Numerics.Tensors.TensorPrimitives.Min(values);

    private static float MaxOf(ReadOnlySpan<float> values) => values.IsEmpty ? 0f : System.Numerics.Tensors.TensorPrimitives.Max(values);
}
