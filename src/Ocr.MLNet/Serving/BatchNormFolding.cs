using System.Runtime.InteropServices;
using Google.Protobuf;
using Ocr.MLNet.OnnxWriting;
using Onnx;

namespace Ocr.MLNet.Serving;

/// <summary>
/// Folds a network's BatchNormalization nodes into the layer that reads them, for serving. The network applies batch
/// normalisation after the ReLU (the published design), where ONNX Runtime cannot fuse it into the convolution before and
/// runs it as a layer of its own (about 8 % of the network's time on the CPU, measured on the field reader's candidates).
/// A per-channel affine map <c>s·x + t</c> read by a convolution without padding (or by Flatten → Gemm) is the same as
/// that layer with its weights scaled by <c>s</c> and <c>t</c> added through its bias, so the node goes. A convolution
/// with padding would see <c>t</c> at the border where it saw zeros; its normalisation stays.
/// </summary>
/// <remarks>The scores change only by rounding (at most about 1e-6 on the packaged model's field candidates).</remarks>
internal static class BatchNormFolding
{
    /// <summary>The network with every foldable BatchNormalization folded; the bytes unchanged when none is.</summary>
    /// <param name="onnx">An ONNX model.</param>
    public static byte[] Fold(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        bool folded = false;
        foreach (var norm in graph.Node.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0).ToList())
        {
            if (Reader(graph, norm) is not { } reader || !Foldable(norm, initializers)
                || !initializers.TryGetValue(reader.Input[1], out var weight) || !initializers.TryGetValue(reader.Input[2], out var bias)
                || Uses(graph, weight.Name) != 1 || Uses(graph, bias.Name) != 1
                || norm.Input.Skip(1).Select(i => initializers[i]).Append(weight).Append(bias).Any(t => t.DataType != (int)TensorProto.Types.DataType.Float))
                continue;

            double epsilon = norm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5;
            float[] gamma = OnnxWeights.Floats(initializers[norm.Input[1]]), beta = OnnxWeights.Floats(initializers[norm.Input[2]]);
            float[] mean = OnnxWeights.Floats(initializers[norm.Input[3]]), variance = OnnxWeights.Floats(initializers[norm.Input[4]]);
            float[] w = OnnxWeights.Floats(weight), b = OnnxWeights.Floats(bias);
            int channels = gamma.Length, outputs = b.Length;
            if (outputs == 0 || w.Length % outputs != 0 || (w.Length / outputs) % channels != 0)
                continue;

            // Weights are [outputs, channels × inner] in both readers (Conv's kernel taps, Flatten's positions per channel).
            int perOutput = w.Length / outputs, inner = perOutput / channels;
            for (int o = 0; o < outputs; o++)
            {
                double sum = b[o];
                for (int j = 0; j < perOutput; j++)
                {
                    int c = j / inner;
                    double scale = gamma[c] / Math.Sqrt(variance[c] + epsilon);
                    double shift = beta[c] - (mean[c] * scale);
                    sum += w[(o * perOutput) + j] * shift;
                    w[(o * perOutput) + j] = (float)(w[(o * perOutput) + j] * scale);
                }

                b[o] = (float)sum;
            }

            SetFloats(weight, w);
            SetFloats(bias, b);
            foreach (var node in graph.Node)
            {
                for (int i = 0; i < node.Input.Count; i++)
                {
                    if (node.Input[i] == norm.Output[0])
                        node.Input[i] = norm.Input[0];
                }
            }

            graph.Node.Remove(norm);
            folded = true;
        }

        if (!folded)
            return onnx;
        // The normalisations' parameters are read by nothing now; ONNX Runtime warns about unused initializers.
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet();
        foreach (var unused in graph.Initializer.Where(i => !used.Contains(i.Name) && graph.Output.All(o => o.Name != i.Name)).ToList())
            graph.Initializer.Remove(unused);
        return model.ToByteArray();
    }

    /// <summary>The node whose weights absorb the normalisation: its only reader, a Conv without padding, or Gemm behind Flatten.</summary>
    private static NodeProto? Reader(GraphProto graph, NodeProto norm)
    {
        if (graph.Output.Any(o => o.Name == norm.Output[0]) || Readers(graph, norm.Output[0]) is not [var next])
            return null;
        if (next.OpType == "Conv" && next.Input.Count == 3 && next.Input[0] == norm.Output[0]
            && next.Attribute.All(a => a.Name switch
            {
                "pads" => a.Ints.All(p => p == 0),
                "group" => a.I == 1,
                "auto_pad" => a.S.ToStringUtf8() is "NOTSET" or "VALID",
                _ => true,
            }))
        {
            return next;
        }

        if (next.OpType == "Flatten" && next.Attribute.All(a => a.Name != "axis" || a.I == 1) && !graph.Output.Any(o => o.Name == next.Output[0])
            && Readers(graph, next.Output[0]) is [{ OpType: "Gemm" } gemm] && gemm.Input.Count == 3 && gemm.Input[0] == next.Output[0]
            && gemm.Attribute.All(a => a.Name switch
            {
                "transA" => a.I == 0,
                "transB" => a.I == 1,
                "alpha" or "beta" => a.F == 1f,
                _ => true,
            }))
        {
            return gemm;
        }

        return null;
    }

    /// <summary>Inference-mode BatchNormalization (one output) whose four parameters are constants.</summary>
    private static bool Foldable(NodeProto norm, Dictionary<string, TensorProto> initializers) =>
        norm.Output.Count == 1 && norm.Input.Count == 5 && norm.Input.Skip(1).All(initializers.ContainsKey)
        && norm.Attribute.All(a => a.Name is "epsilon" or "momentum" || (a.Name == "training_mode" && a.I == 0));

    private static List<NodeProto> Readers(GraphProto graph, string value) => graph.Node.Where(n => n.Input.Contains(value)).ToList();

    private static int Uses(GraphProto graph, string value) => graph.Node.Sum(n => n.Input.Count(i => i == value));

    private static void SetFloats(TensorProto tensor, float[] values)
    {
        tensor.FloatData.Clear();
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())); // raw_data is little-endian
    }
}
