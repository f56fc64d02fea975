using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.OnnxWriting;

/// <summary>Adds nodes, constants and TorchSharp weights to an ONNX graph; shared by the network exporter and the preprocessing graph.</summary>
internal sealed class OnnxGraphBuilder(GraphProto graph)
{
    /// <summary>Marks the symbolic batch dimension in <see cref="TensorValue"/>.</summary>
    public const long Batch = -1;

    /// <summary>Name of the symbolic batch dimension (the first axis of inputs and outputs).</summary>
    public const string BatchDimensionName = "N";

    /// <summary>ONNX operator set every graph is written for (accepted by ONNX Runtime 1.31 and ML.NET 5).</summary>
    public const int OpsetVersion = 17;

    /// <summary>ONNX IR version written in every model (IR 8 goes with opset 17).</summary>
    public const long IrVersion = 8;

    /// <summary>The graph as an Ocr.MLNet ONNX model at the network's IR version and opset.</summary>
    public ModelProto ToModel(string docString)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Ocr.MLNet",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Domain = "ocr.mlnet",
            ModelVersion = 1,
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return model;
    }

    public string Node(string opType, string name, string[] inputs, params AttributeProto[] attributes) =>
        Node(opType, name, inputs, [name], attributes);

    public string Node(string opType, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return outputs[0];
    }

    public string Conv(string name, string input, TorchSharp.Modules.Conv2d conv, long[]? extraPads)
    {
        if (conv.groups != 1)
            throw new NotSupportedException($"Grouped convolution '{name}' is not supported.");
        long[] kernel = conv.kernel_size;
        long[] stride = conv.stride;
        long[] dilation = conv.dilation;
        long[] own = conv.padding is { Length: 2 } p
            ? p
            : throw new NotSupportedException($"Convolution '{name}' has no explicit two-value padding; it cannot be exported.");
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros)
            throw new NotSupportedException($"Convolution '{name}' pads with {conv.padding_mode}; only zero padding is supported.");
        long[] pads = extraPads ?? [0, 0, 0, 0];
        pads = [pads[0] + own[0], pads[1] + own[1], pads[2] + own[0], pads[3] + own[1]];

        string weight = Initializer($"{name}.weight", conv.weight!);
        var inputs = new List<string> { input, weight };
        if (conv.bias is not null)
            inputs.Add(Initializer($"{name}.bias", conv.bias));
        return Node("Conv", name, [.. inputs],
            Ints("kernel_shape", kernel), Ints("strides", stride), Ints("dilations", dilation),
            Ints("pads", pads), Int("group", 1));
    }

    public string BatchNorm(string name, string input, TorchSharp.Modules.BatchNorm2d bn)
    {
        if (bn.running_mean is null || bn.running_var is null)
            throw new NotSupportedException($"BatchNorm '{name}' does not track running statistics; it cannot be exported.");
        using var scope = NewDisposeScope();
        long channels = bn.running_mean.shape[0];
        var scale = bn.weight is { } w ? (Tensor)w : ones(channels);
        var bias = bn.bias is { } b ? (Tensor)b : zeros(channels);
        return Node("BatchNormalization", name,
            [
                input,
                Initializer($"{name}.weight", scale),
                Initializer($"{name}.bias", bias),
                Initializer($"{name}.running_mean", bn.running_mean),
                Initializer($"{name}.running_var", bn.running_var),
            ],
            Float("epsilon", (float)bn.eps));
    }

    public string Gemm(string name, string input, TorchSharp.Modules.Linear linear)
    {
        var inputs = new List<string> { input, Initializer($"{name}.weight", linear.weight!) };
        if (linear.bias is not null)
            inputs.Add(Initializer($"{name}.bias", linear.bias));
        return Node("Gemm", name, [.. inputs], Int("transB", 1));
    }

    public string Int64Constant(string name, long[] values, long[]? dims = null)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims ?? [values.Length]);
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>A float constant of shape <paramref name="dims"/> (a scalar when empty).</summary>
    public string FloatConstant(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    public string Initializer(string name, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cpu = tensor.detach().to(DeviceType.CPU).to_type(ScalarType.Float32).contiguous();
        float[] values = cpu.data<float>().ToArray();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(cpu.shape);
        if (BitConverter.IsLittleEndian)
            proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())); // raw_data is little-endian
        else
            proto.FloatData.AddRange(values);
        graph.Initializer.Add(proto);
        return name;
    }

    public static ValueInfoProto TensorValue(string name, TensorProto.Types.DataType type, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(d == Batch
                ? new TensorShapeProto.Types.Dimension { DimParam = BatchDimensionName }
                : new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
