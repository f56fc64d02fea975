using Google.Protobuf;
using Onnx;
using Ocr.MLNet.Preparation;
using static Ocr.MLNet.OnnxWriting.OnnxGraphBuilder;
using Ocr.MLNet.OnnxWriting;

namespace Ocr.MLNet.Lines;

/// <summary>
/// Writes the line recognizer as one ONNX model: the line preparation (grey, polarity, contrast) and the network, so
/// ML.NET's <c>ApplyOnnxModel</c> and ONNX Runtime read a resized field image without TorchSharp.
/// </summary>
/// <remarks>
/// <para>Input <see cref="InputColumnName"/>: <c>byte[N, 4, 32, 256]</c>, the planar A, R, G, B bytes of a field resized to
/// 256×32 keeping its aspect ratio (ML.NET's <c>ResizeImages</c> with IsoPad, then <c>ExtractPixels</c> with all colours in
/// ARGB order and <c>outputAsFloatArray: false</c>, as <c>PrepareCharacterImages</c> does); line models saved before read
/// the same planes as floats scaled by 1/255 (<see cref="FloatInputColumnName"/>). Outputs:</para>
/// <list type="bullet">
/// <item><description><see cref="LineImageFormat.ScoreColumnName"/>: <c>float[N, 64, classes]</c>, softmax probabilities per time step, class 0 the CTC blank.</description></item>
/// <item><description><see cref="DecodingColumnName"/>: <c>string[1]</c>, the decoding settings (alphabet, allowed characters, beam, language) as JSON,
/// which the saved model's decoding step reads.</description></item>
/// </list>
/// <para>The preparation: grey = 0.299 R + 0.587 G + 0.114 B; ink = 1 − grey, or grey where the field is mostly dark
/// (light ink on dark paper); the paper level is the mean ink over the image (transparent padding excluded), and ink is
/// stretched so the paper is 0 and the darkest stroke 1; the padding is 0.</para>
/// </remarks>
internal static class LineOnnxExporter
{
    /// <summary>The ARGB byte planes the model reads (as ML.NET's <c>ExtractPixels</c> writes them with <c>outputAsFloatArray: false</c>).</summary>
    public const string InputColumnName = CharacterPreprocessingGraph.InputColumnName;

    /// <summary>The input of line models saved before the byte planes: the ARGB planes as floats scaled by 1/255.</summary>
    public const string FloatInputColumnName = CharacterPreprocessingGraph.FloatInputColumnName;

    /// <summary>The prepared pixels, <c>float[N, 1, 32, 256]</c>: the preparation graph's output and the network's input.</summary>
    public const string PixelsColumnName = "LinePixels";

    /// <summary>The decoding settings output.</summary>
    public const string DecodingColumnName = "Ocr.MLNet.LineDecoding";

    /// <summary>The smallest ink range the contrast stretch divides by, so a blank field stays faint instead of turning noise into strokes.</summary>
    internal const float MinimumInkRange = 0.25f;

    /// <summary>A field whose mean ink is above this is light writing on dark paper.</summary>
    private const float DarkPaperMeanInk = 0.5f;

    /// <summary>The recognizer as one ONNX model (preparation, network, softmax, decoding settings).</summary>
    /// <param name="network">The trained network (evaluation mode is what is exported: BatchNorm statistics, no dropout).</param>
    /// <param name="decodingJson">The decoding settings the saved model carries.</param>
    public static byte[] Export(LineRecognizerNetwork network, string decodingJson)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(decodingJson);
        var graph = new GraphProto { Name = "ocr_mlnet_line_recognizer" };
        var g = new OnnxGraphBuilder(graph);
        graph.Input.Add(TensorValue(InputColumnName, TensorProto.Types.DataType.Uint8, [Batch, 4, LineImageFormat.Height, LineImageFormat.Width]));
        string pixels = AddPreparation(g);
        string logits = AddNetwork(g, network, pixels);
        g.Node("Softmax", LineImageFormat.ScoreColumnName, [logits], Int("axis", -1));
        graph.Output.Add(TensorValue(LineImageFormat.ScoreColumnName, TensorProto.Types.DataType.Float,
            [Batch, LineImageFormat.TimeSteps, network.ClassCount]));

        var settings = new TensorProto { Name = "decoding_settings", DataType = (int)TensorProto.Types.DataType.String };
        settings.Dims.Add(1);
        settings.StringData.Add(ByteString.CopyFromUtf8(decodingJson));
        graph.Initializer.Add(settings);
        g.Node("Identity", DecodingColumnName, ["decoding_settings"]);
        graph.Output.Add(TensorValue(DecodingColumnName, TensorProto.Types.DataType.String, [1]));
        return g.ToModel("Ocr.MLNet line recognizer: ARGB 256×32 field → per-step character probabilities (CTC)").ToByteArray();
    }

    /// <summary>The preparation alone: ARGB planes → <see cref="PixelsColumnName"/>; training prepares its images with it, so they match serving.</summary>
    internal static byte[] ExportPreparation()
    {
        var graph = new GraphProto { Name = "ocr_mlnet_line_preparation" };
        var g = new OnnxGraphBuilder(graph);
        graph.Input.Add(TensorValue(InputColumnName, TensorProto.Types.DataType.Uint8, [Batch, 4, LineImageFormat.Height, LineImageFormat.Width]));
        string pixels = AddPreparation(g);
        g.Node("Identity", PixelsColumnName, [pixels]);
        graph.Output.Add(TensorValue(PixelsColumnName, TensorProto.Types.DataType.Float, [Batch, 1, LineImageFormat.Height, LineImageFormat.Width]));
        return g.ToModel("Ocr.MLNet line preparation: ARGB 256×32 field → ink 1 on 0").ToByteArray();
    }

    /// <summary>
    /// A line model saved before the byte planes (input <see cref="FloatInputColumnName"/>) with the byte input instead: a Cast
    /// and the scaling by 1/255 that ExtractPixels did, in front of its unchanged graph, so it scores exactly as before. A model
    /// that reads bytes already is returned as it is.
    /// </summary>
    internal static byte[] WithBytePlanes(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var graph = model.Graph;
        if (graph.Input.SingleOrDefault(i => i.Name == FloatInputColumnName) is not { } input)
            return onnx;
        input.Name = InputColumnName;
        input.Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Uint8;
        AddScaledPlanes(new OnnxGraphBuilder(graph), FloatInputColumnName);
        // The two new nodes were appended; they feed everything else, so they go first.
        var nodes = graph.Node.ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes.TakeLast(2).Concat(nodes.SkipLast(2)));
        return model.ToByteArray();
    }

    /// <summary>The input bytes as ExtractPixels scaled them for the float input, (float)byte × (1/255), into <paramref name="output"/>: two nodes, a Cast and a Mul.</summary>
    private static string AddScaledPlanes(OnnxGraphBuilder g, string output) =>
        g.Node("Mul", output, [g.Node("Cast", "planes_unscaled", [InputColumnName], Int("to", (long)TensorProto.Types.DataType.Float)),
            g.FloatConstant("byte_scale", [1f / 255f])]);

    private static string AddPreparation(OnnxGraphBuilder g)
    {
        string planes = AddScaledPlanes(g, "planes");
        string alpha = g.Node("Slice", "alpha", [planes, g.Int64Constant("alpha_start", [0]), g.Int64Constant("alpha_end", [1]), g.Int64Constant("channel_axis", [1])]);
        string colour = g.Node("Slice", "colour", [planes, g.Int64Constant("colour_start", [1]), g.Int64Constant("colour_end", [4]), "channel_axis"]);
        // A 1×1 convolution is the weighted sum of the three planes.
        string grey = g.Node("Conv", "grey", [colour, g.FloatConstant("grey_weights", [0.299f, 0.587f, 0.114f], 1, 3, 1, 1)]);
        string one = g.FloatConstant("one", [1f]);
        string dark = g.Node("Sub", "dark", [one, grey]);
        string imageAxes = g.Int64Constant("image_axes", [1, 2, 3]);
        string area = g.Node("Max", "area", [g.Node("ReduceSum", "alpha_sum", [alpha, imageAxes], Int("keepdims", 1)), one]);
        string meanDark = g.Node("Div", "mean_dark", [g.Node("ReduceSum", "dark_sum", [g.Node("Mul", "dark_seen", [dark, alpha]), imageAxes], Int("keepdims", 1)), area]);
        string lightOnDark = g.Node("Cast", "light_on_dark", [g.Node("Greater", "is_dark_paper", [meanDark, g.FloatConstant("dark_paper_mean", [DarkPaperMeanInk])])],
            Int("to", (long)TensorProto.Types.DataType.Float));
        // ink = dark, or 1 − dark (the grey) on dark paper: dark + flip·(1 − 2·dark).
        string two = g.FloatConstant("two", [2f]);
        string flipped = g.Node("Sub", "one_minus_two_dark", [one, g.Node("Mul", "two_dark", [two, dark])]);
        string ink = g.Node("Mul", "ink_seen", [g.Node("Add", "ink", [dark, g.Node("Mul", "flip", [lightOnDark, flipped])]), alpha]);
        string paper = g.Node("Div", "paper", [g.Node("ReduceSum", "ink_sum", [ink, imageAxes], Int("keepdims", 1)), area]);
        string peak = g.Node("ReduceMax", "peak", [ink], Ints("axes", [1, 2, 3]), Int("keepdims", 1));
        string range = g.Node("Max", "range", [g.Node("Sub", "peak_minus_paper", [peak, paper]), g.FloatConstant("minimum_range", [MinimumInkRange])]);
        string stretched = g.Node("Div", "stretched", [g.Node("Sub", "ink_minus_paper", [ink, paper]), range]);
        string clipped = g.Node("Clip", "clipped", [stretched, g.FloatConstant("zero", [0f]), one]);
        return g.Node("Mul", "line_pixels", [clipped, alpha]);
    }

    private static string AddNetwork(OnnxGraphBuilder g, LineRecognizerNetwork network, string input)
    {
        string x = input;
        foreach (var (name, conv, norm, residual) in network.Layers())
        {
            string y = g.Conv(name, x, conv, extraPads: null);
            if (norm is not null)
                y = g.BatchNorm($"{name}.bn", g.Node("Relu", $"{name}.relu", [y]), norm);
            x = residual ? g.Node("Add", $"{name}.residual", [x, y]) : y;
        }

        // N×C×1×T → N×T×C
        string squeezed = g.Node("Squeeze", "squeeze_height", [x, g.Int64Constant("height_axis", [2])]);
        return g.Node("Transpose", "steps_first", [squeezed], Ints("perm", [0, 2, 1]));
    }
}
