using System.Runtime.InteropServices;
using Google.Protobuf;
using Ocr.MLNet.Models;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Onnx;

/// <summary>
/// Writes a trained <see cref="CharacterCnnNetwork"/> as an ONNX model that ONNX Runtime and ML.NET's
/// <c>ApplyOnnxModel</c> run without TorchSharp.
/// </summary>
/// <remarks>
/// <para>
/// The graph has evaluation-mode semantics: dropout is the identity and batch normalisation uses the
/// running mean and variance. It is built node by node from the network's weights (copied to the CPU),
/// so exporting needs neither Python nor a tracer. The operators are Conv (the stride-2 convolutions carry
/// TensorFlow's asymmetric "same" padding in their <c>pads</c>), Relu, BatchNormalization, Flatten, Gemm,
/// Softmax, ArgMax and Gather, at opset <see cref="OpsetVersion"/>.
/// </para>
/// <para>Inputs and outputs (their names are ML.NET column names; <c>N</c> is the batch size):</para>
/// <list type="bullet">
/// <item><description><c>&lt;inputColumnName&gt;</c>: <c>float[N, 1, 32, 32]</c>, the pixels as the network was trained on them.
/// ML.NET feeds one row at a time, so any float vector column of 1,024 values (for example the output of
/// <c>ExtractPixels</c>) binds to it.</description></item>
/// <item><description><see cref="ScoreColumnName"/>: <c>float[N, classCount]</c>, softmax probabilities in the order of the class names.</description></item>
/// <item><description><see cref="PredictedLabelColumnName"/>: <c>string[N]</c>, the class name with the highest probability
/// (ArgMax, then Gather over the <see cref="ClassNamesInitializerName"/> initializer).</description></item>
/// </list>
/// <para>
/// In ML.NET the string output surfaces as a one-element vector; <see cref="OnnxModelBuilder"/> wraps the
/// model so that <c>PredictedLabel</c> is a plain string column.
/// </para>
/// </remarks>
public static class CharacterCnnOnnxExporter
{
    /// <summary>Default name of the ONNX input (and of the ML.NET pixel column it is read from).</summary>
    public const string DefaultInputColumnName = "Pixels";

    /// <summary>Name of the probabilities output.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>Name of the predicted class name output.</summary>
    public const string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>ONNX operator set the graph is written for (accepted by ONNX Runtime 1.31 and ML.NET 5).</summary>
    public const int OpsetVersion = 17;

    /// <summary>ONNX IR version written in the model (IR 8 goes with opset 17).</summary>
    public const long IrVersion = 8;

    /// <summary>Name of the symbolic batch dimension (the first axis of the input and of both outputs).</summary>
    public const string BatchDimensionName = "N";

    /// <summary>Name of the string initializer that holds the class names, in output order.</summary>
    public const string ClassNamesInitializerName = "class_names";

    private const long Batch = -1; // marks the symbolic batch dimension in TensorValue

    /// <summary>
    /// Builds the ONNX model of <paramref name="network"/> and returns its serialised bytes.
    /// </summary>
    /// <param name="network">The network to export; it is read, not changed (its mode and device stay as they are).</param>
    /// <param name="classNames">
    /// One name per output unit, in the order of the network's outputs; <see cref="PredictedLabelColumnName"/>
    /// takes its values from this list. Names must be unique and not empty.
    /// </param>
    /// <param name="inputColumnName">Name of the ONNX input, which ML.NET binds to the pixel column of that name.</param>
    /// <returns>The ONNX model (a serialised <c>ModelProto</c>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="classNames"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="classNames"/> does not have one unique, non-empty name per class (the message lists every
    /// problem), or <paramref name="inputColumnName"/> is empty or already names an output, layer or weight of the graph.
    /// </exception>
    public static byte[] Export(CharacterCnnNetwork network, IReadOnlyList<string> classNames,
        string inputColumnName = DefaultInputColumnName)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classNames);
        Validate(network, classNames, inputColumnName);
        return BuildModel(network, classNames, inputColumnName).ToByteArray();
    }

    private static void Validate(CharacterCnnNetwork network, IReadOnlyList<string> classNames, string inputColumnName)
    {
        var problems = new List<string>();
        string? paramName = null;
        if (classNames.Count != network.ClassCount)
        {
            problems.Add($"the network has {network.ClassCount} output classes but {classNames.Count} class names were given "
                + "(pass exactly one name per output unit, in the order of the network's outputs)");
            paramName = nameof(classNames);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < classNames.Count; i++)
        {
            string? name = classNames[i];
            if (string.IsNullOrEmpty(name))
                problems.Add($"class name {i} is empty");
            else if (!seen.Add(name))
                problems.Add($"class name {i} ('{name}') repeats an earlier name");
            else
                continue;
            paramName ??= nameof(classNames);
        }

        if (string.IsNullOrWhiteSpace(inputColumnName))
        {
            problems.Add("the input column name is empty");
            paramName ??= nameof(inputColumnName);
        }

        if (problems.Count > 0)
            throw new ArgumentException($"Cannot export the network to ONNX: {string.Join("; ", problems)}.", paramName);
    }

    private static ModelProto BuildModel(CharacterCnnNetwork network, IReadOnlyList<string> classNames, string inputColumnName)
    {
        var graph = new GraphProto { Name = "CharacterCnn" };
        var builder = new GraphBuilder(graph);

        graph.Input.Add(TensorValue(inputColumnName, TensorProto.Types.DataType.Float,
            [Batch, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize]));

        string x = inputColumnName;
        long[]? pendingPads = null;
        bool sawDense = false;
        foreach (var (name, module) in LayersInForwardOrder(network, prefix: ""))
        {
            switch (module)
            {
                case TorchSharp.Modules.ZeroPad2d pad:
                    pendingPads = OnnxPads(pad);
                    break;
                case TorchSharp.Modules.Conv2d conv:
                    x = builder.Conv(name, x, conv, pendingPads);
                    pendingPads = null;
                    break;
                case TorchSharp.Modules.ReLU:
                    x = builder.Node("Relu", name, [x]);
                    break;
                case TorchSharp.Modules.BatchNorm2d bn:
                    x = builder.BatchNorm(name, x, bn);
                    break;
                case TorchSharp.Modules.Dropout:
                    break; // identity in evaluation mode
                case TorchSharp.Modules.Flatten:
                    x = builder.Node("Flatten", name, [x], Int("axis", 1));
                    break;
                case TorchSharp.Modules.Linear linear:
                    x = builder.Gemm(name, x, linear);
                    sawDense = true;
                    break;
                default:
                    throw new NotSupportedException(
                        $"The ONNX exporter does not know the layer '{name}' ({module.GetType().Name}).");
            }
        }

        if (!sawDense || pendingPads is not null)
            throw new InvalidOperationException("The network's layers do not end in a dense head; it cannot be exported.");

        // Score: probabilities over the classes.
        builder.Node("Softmax", "softmax", [x], [ScoreColumnName], Int("axis", 1));

        // PredictedLabel: the class name at the arg-max of each image's probabilities.
        var names = new TensorProto { Name = ClassNamesInitializerName, DataType = (int)TensorProto.Types.DataType.String };
        names.Dims.Add(classNames.Count);
        foreach (string className in classNames)
            names.StringData.Add(ByteString.CopyFromUtf8(className));
        graph.Initializer.Add(names);
        string index = builder.Node("ArgMax", "argmax", [ScoreColumnName], Int("axis", 1), Int("keepdims", 0));
        builder.Node("Gather", "label", [ClassNamesInitializerName, index], [PredictedLabelColumnName], Int("axis", 0));

        graph.Output.Add(TensorValue(ScoreColumnName, TensorProto.Types.DataType.Float, [Batch, classNames.Count]));
        graph.Output.Add(TensorValue(PredictedLabelColumnName, TensorProto.Types.DataType.String, [Batch]));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Ocr.MLNet",
            ProducerVersion = typeof(CharacterCnnOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            Domain = "ocr.mlnet",
            ModelVersion = 1,
            DocString = $"Handwritten-character CNN ({classNames.Count} classes), exported from TorchSharp by Ocr.MLNet.",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });

        // The input must not share a name with an output, a layer or a weight of the graph.
        if (graph.Node.SelectMany(n => n.Output).Concat(graph.Initializer.Select(i => i.Name)).Contains(inputColumnName))
        {
            throw new ArgumentException(
                $"Cannot export the network to ONNX: the input column name '{inputColumnName}' is already the name of an output, "
                + $"a layer or a weight in the graph; choose another name (the default is '{DefaultInputColumnName}').",
                nameof(inputColumnName));
        }

        return model;
    }

    /// <summary>
    /// The leaf layers depth first, in registration order, which is the order the network's forward runs
    /// them (<c>named_modules</c> lists a module's children before their own children, so it is not).
    /// </summary>
    private static IEnumerable<(string Name, torch.nn.Module Module)> LayersInForwardOrder(torch.nn.Module module, string prefix)
    {
        foreach (var (name, child) in module.named_children())
        {
            string path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            if (child is TorchSharp.Modules.Sequential)
            {
                foreach (var leaf in LayersInForwardOrder(child, path))
                    yield return leaf;
            }
            else
            {
                yield return (path, child);
            }
        }
    }

    /// <summary>TorchSharp pads (left, right, top, bottom) → ONNX pads (top, left, bottom, right).</summary>
    private static long[] OnnxPads(TorchSharp.Modules.ZeroPad2d pad)
    {
        long[] p = pad.padding;
        if (p.Length != 4)
            throw new NotSupportedException($"Unexpected ZeroPad2d padding of {p.Length} values.");
        return [p[2], p[0], p[3], p[1]];
    }

    private static ValueInfoProto TensorValue(string name, TensorProto.Types.DataType type, long[] dims)
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

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>Adds nodes and initializers to a graph, naming them after the network's layers.</summary>
    private sealed class GraphBuilder(GraphProto graph)
    {
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

        public string Int64Constant(string name, long[] values)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.AddRange(values);
            graph.Initializer.Add(tensor);
            return name;
        }

        private string Initializer(string name, Tensor tensor)
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
    }
}
