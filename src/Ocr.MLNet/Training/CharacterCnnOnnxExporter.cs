using Google.Protobuf;
using Onnx;
using static Ocr.MLNet.OnnxWriting.OnnxGraphBuilder;
using TorchSharp;
using static TorchSharp.torch;
using Ocr.MLNet.OnnxWriting;

namespace Ocr.MLNet.Training;

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
/// <item><description><see cref="PredictedCharacterColumnName"/>: <c>string[N]</c>, the class name with the highest probability
/// (ArgMax, then Gather over the <see cref="ClassNamesInitializerName"/> initializer).</description></item>
/// </list>
/// <para>
/// A constant LabelEncoder node named <c>mlnet.Score.SlotNames</c> carries the class names, which ML.NET's OnnxTransformer
/// turns into the <c>SlotNames</c> of the <c>Score</c> column. The trainer wraps the model in ML.NET transforms that add
/// the key-typed <c>PredictedLabel</c>.
/// </para>
/// </remarks>
public static class CharacterCnnOnnxExporter
{
    /// <summary>Default name of the ONNX input (and of the ML.NET pixel column it is read from).</summary>
    public const string DefaultInputColumnName = CharacterFormat.PixelsColumnName;

    /// <summary>Name of the probabilities output.</summary>
    public const string ScoreColumnName = CharacterFormat.ScoreColumnName;

    /// <summary>Name of the predicted class name output (a string per image).</summary>
    public const string PredictedCharacterColumnName = CharacterFormat.PredictedCharacterColumnName;

    /// <summary>ONNX operator set the graph is written for (accepted by ONNX Runtime 1.31 and ML.NET 5).</summary>
    public const int OpsetVersion = OnnxGraphBuilder.OpsetVersion;

    /// <summary>ONNX IR version written in the model (IR 8 goes with opset 17).</summary>
    public const long IrVersion = OnnxGraphBuilder.IrVersion;

    /// <summary>Name of the symbolic batch dimension (the first axis of the input and of both outputs).</summary>
    public const string BatchDimensionName = OnnxGraphBuilder.BatchDimensionName;

    /// <summary>The ONNX-ML operator domain, for the LabelEncoder that carries the <c>Score</c> slot names.</summary>
    private const string MLOperatorDomain = "ai.onnx.ml";

    /// <summary>ONNX-ML operator set (LabelEncoder with string keys and int64 values).</summary>
    private const int MLOperatorSetVersion = 2;

    /// <summary>Name of the string initializer that holds the class names, in output order.</summary>
    public const string ClassNamesInitializerName = "class_names";

    /// <summary>
    /// Builds the ONNX model of <paramref name="network"/> and returns its serialised bytes.
    /// </summary>
    /// <param name="network">The network to export; it is read, not changed (its mode and device stay as they are).</param>
    /// <param name="classNames">
    /// One name per output unit, in the order of the network's outputs; <see cref="PredictedCharacterColumnName"/>
    /// takes its values from this list. Names must be unique and not empty.
    /// </param>
    /// <param name="inputColumnName">Name of the ONNX input, which ML.NET binds to the pixel column of that name.</param>
    /// <returns>The ONNX model (a serialised <c>ModelProto</c>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="classNames"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="classNames"/> does not have one unique, non-empty name per class (the message lists every
    /// problem), <paramref name="inputColumnName"/> is empty or already names an output, layer or weight of the graph,
    /// or a parameter of <paramref name="network"/> holds NaN or infinity (the message names the first).
    /// </exception>
    public static byte[] Export(CharacterCnnNetwork network, IReadOnlyList<string> classNames,
        string inputColumnName = DefaultInputColumnName)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classNames);
        Validate(network, classNames, inputColumnName);
        return BuildModel(network, classNames, inputColumnName).ToByteArray();
    }

    /// <summary>
    /// Reads a saved character model's network (the ONNX this exporter wrote, inside the zip ML.NET saved): its class names
    /// and its graph, whose weights <see cref="CopyWeights"/> puts back into a network.
    /// </summary>
    /// <exception cref="InvalidDataException">The zip is not a character model of this library (the message names <paramref name="name"/>).</exception>
    internal static (IReadOnlyList<string> ClassNames, GraphProto Graph) ReadSaved(Stream zip, string name)
    {
        var (onnx, _, classNames) = Serving.CharacterModelLoader.ReadNetwork(zip, name);
        return (classNames, ModelProto.Parser.ParseFrom(onnx).Graph);
    }

    /// <summary>
    /// Copies the weights of an exported network (<see cref="ReadSaved"/>) into <paramref name="network"/>: every floating
    /// tensor of its state by name, as the export named them. Fine-tuning starts here.
    /// </summary>
    /// <exception cref="InvalidDataException">A weight is missing or of another size: the graph is not of this network.</exception>
    internal static void CopyWeights(GraphProto graph, CharacterCnnNetwork network, string name)
    {
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        using var noGrad = no_grad();
        foreach (var (weight, target) in network.state_dict())
        {
            if (!target.is_floating_point())
                continue;
            OnnxWeights.CopyInto(initializers, weight, target, $"'{name}'", "a CharacterCnn");
        }
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
        EnsureFiniteWeights(network);
    }

    /// <summary>A diverged network (NaN or infinite weights) would score every image as nonsense: refuse it, naming the first bad tensor.</summary>
    private static void EnsureFiniteWeights(CharacterCnnNetwork network)
    {
        using var noGrad = no_grad();
        foreach (var (name, tensor) in network.state_dict())
        {
            if (!tensor.is_floating_point())
                continue;
            using var finite = tensor.isfinite().all();
            if (!finite.item<bool>())
            {
                throw new ArgumentException(
                    $"Cannot export the network to ONNX: its parameter '{name}' holds non-finite values (NaN or infinity), so training diverged. "
                    + "Train again with a lower learning rate.", nameof(network));
            }
        }
    }

    private static ModelProto BuildModel(CharacterCnnNetwork network, IReadOnlyList<string> classNames, string inputColumnName)
    {
        var graph = new GraphProto { Name = "CharacterCnn" };
        var builder = new OnnxGraphBuilder(graph);

        graph.Input.Add(OnnxGraphBuilder.TensorValue(inputColumnName, TensorProto.Types.DataType.Float,
            [OnnxGraphBuilder.Batch, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize]));

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
        builder.Node("Gather", "label", [ClassNamesInitializerName, index], [PredictedCharacterColumnName], Int("axis", 0));

        graph.Output.Add(OnnxGraphBuilder.TensorValue(ScoreColumnName, TensorProto.Types.DataType.Float, [OnnxGraphBuilder.Batch, classNames.Count]));
        graph.Output.Add(OnnxGraphBuilder.TensorValue(PredictedCharacterColumnName, TensorProto.Types.DataType.String, [Batch]));
        AddScoreSlotNames(graph, classNames);

        var model = builder.ToModel($"Handwritten-character CNN ({classNames.Count} classes), exported from TorchSharp by Ocr.MLNet.");
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MLOperatorDomain, Version = MLOperatorSetVersion });

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
    /// Names the slots of <see cref="ScoreColumnName"/> with the class names the way ML.NET's own ONNX export does: ML.NET's
    /// OnnxTransformer reads the <c>keys_strings</c> of a node called <c>mlnet.Score.SlotNames</c> into the column's
    /// <c>SlotNames</c> annotation, which <c>MulticlassClassification.Evaluate</c> and every ML.NET tool use. The node is a
    /// constant LabelEncoder whose output ML.NET ignores (<c>mlnet.*.unusedOutput</c>); it is a graph output so ONNX
    /// Runtime keeps it.
    /// </summary>
    private static void AddScoreSlotNames(GraphProto graph, IReadOnlyList<string> classNames)
    {
        string node = $"mlnet.{ScoreColumnName}.SlotNames";
        string input = $"mlnet.{ScoreColumnName}.unusedInput";
        string output = $"mlnet.{ScoreColumnName}.unusedOutput";
        var one = new TensorProto { Name = input, DataType = (int)TensorProto.Types.DataType.String };
        one.Dims.AddRange([1, 1]);
        one.StringData.Add(ByteString.CopyFromUtf8("one"));
        graph.Initializer.Add(one);

        var encoder = new NodeProto { OpType = "LabelEncoder", Name = node, Domain = MLOperatorDomain };
        encoder.Input.Add(input);
        encoder.Output.Add(output);
        var keys = new AttributeProto { Name = "keys_strings", Type = AttributeProto.Types.AttributeType.Strings };
        keys.Strings.AddRange(classNames.Select(ByteString.CopyFromUtf8));
        var values = new AttributeProto { Name = "values_int64s", Type = AttributeProto.Types.AttributeType.Ints };
        values.Ints.AddRange(Enumerable.Range(0, classNames.Count).Select(i => (long)i));
        encoder.Attribute.AddRange([keys, values]);
        graph.Node.Add(encoder);
        graph.Output.Add(OnnxGraphBuilder.TensorValue(output, TensorProto.Types.DataType.Int64, [1, 1]));
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
}
