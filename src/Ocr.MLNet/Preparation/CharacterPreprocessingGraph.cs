using Google.Protobuf;
using Onnx;
using static Ocr.MLNet.Export.OnnxGraphBuilder;
using Ocr.MLNet.Export;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// Writes <see cref="CharacterImageConverter"/>'s preprocessing as an ONNX graph, so a saved model applies it to raw
/// images inside ML.NET (through ONNX Runtime) exactly as the loaders apply it to training images.
/// </summary>
/// <remarks>
/// <para>
/// Input <see cref="InputColumnName"/>: <c>float[N, 4, side, side]</c>, the planar A, R, G, B channels of a
/// <c>side</c>×<c>side</c> image scaled to [0, 1], as ML.NET's <c>ExtractPixels</c> writes them with all colours,
/// ARGB order and a scale of 1/255. Output: <c>float[N, 1, 32, 32]</c>, the network's pixels.
/// </para>
/// <para>
/// Each step is the converter's, in the same arithmetic where it matters: the grey level and the alpha
/// compositing over white are computed in integers (exact in float), the inversion in bytes (the polarity from the
/// border's grey bytes alone), the blur with the converter's kernel, the ink box from the blurred values above <see cref="CharacterImageConverter.InkThreshold"/>,
/// the centred square frame and the area down-sampling as two matrix products whose weights are built from the
/// box, then the scaling to a maximum of 1 and the 2-pixel padding. An image without ink comes out all zero.
/// </para>
/// </remarks>
internal static class CharacterPreprocessingGraph
{
    /// <summary>Default name of the graph's input (the ARGB pixel column).</summary>
    public const string InputColumnName = "Ocr.MLNet.ImagePixels";

    /// <summary>Channels the input carries per pixel: A, R, G, B.</summary>
    public const int InputChannels = 4;

    /// <summary>Side every image is resized to before the graph runs: 128, the size of NIST SD19's PNGs, so they reach it unchanged.</summary>
    public const int DefaultImageSide = 128;

    /// <summary>ONNX operator set the graph is written for (the network's, <see cref="CharacterCnnOnnxExporter.OpsetVersion"/>).</summary>
    public const int OpsetVersion = CharacterCnnOnnxExporter.OpsetVersion;

    /// <summary>Builds the graph and returns the serialised ONNX model.</summary>
    /// <param name="imageSide">Side of the square input images (at least 8).</param>
    /// <param name="outputColumnName">Name of the output: the pixel column the network reads.</param>
    /// <param name="polarity">Which way round the ink is; <see cref="InkPolarity.Detect"/> decides per image from its border, as the converter does.</param>
    /// <returns>The ONNX model (a serialised <c>ModelProto</c>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="imageSide"/> is below 8, or <paramref name="polarity"/> is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="outputColumnName"/> is empty or equals <see cref="InputColumnName"/>.</exception>
    public static byte[] Build(int imageSide = DefaultImageSide, string outputColumnName = CharacterCnnOnnxExporter.DefaultInputColumnName,
        InkPolarity polarity = InkPolarity.Detect)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSide, 8);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        if (outputColumnName == InputColumnName)
            throw new ArgumentException($"The output column name must differ from the input's, '{InputColumnName}'.", nameof(outputColumnName));
        if (!Enum.IsDefined(polarity))
            throw new ArgumentOutOfRangeException(nameof(polarity), polarity, "Use Detect, DarkOnLight or LightOnDark.");
        return BuildModel(imageSide, outputColumnName, polarity).ToByteArray();
    }

    private static ModelProto BuildModel(int side, string output, InkPolarity polarity)
    {
        var graph = new GraphProto { Name = "CharacterPreprocessing" };
        var g = new OnnxGraphBuilder(graph);
        graph.Input.Add(TensorValue(InputColumnName, TensorProto.Types.DataType.Float, [Batch, InputChannels, side, side]));

        string Const(string name, float value) => g.FloatConstant(name, [value]);
        string Op(string op, string name, params string[] inputs) => g.Node(op, name, inputs);
        string zero = Const("zero", 0f), one = Const("one", 1f), two = Const("two", 2f);

        // Grey level in bytes, as CharacterImageConverter.RgbaToGrey: round(0.299 R + 0.587 G + 0.114 B), composited over white
        // by the alpha. The input holds byte/255, so a matrix product over the channels gives the luminance before rounding,
        // (299 R + 587 G + 114 B + 500) / 1000 + 0.0005, within 1e-4; its floor is the converter's integer (here minus 255,
        // folded into the same addition), as the half-step margin (0.0005) is five times the error. The same margin argument
        // makes the compositing exact without rounding the alpha to a byte: floor((α·(L − 255) + 65152) / 255) =
        // floor(A·(L − 255) + 255.5) with A = α/255, the input plane, because A·(L − 255) is a multiple of 1/255 and so never
        // within 1/510 of an integer minus 1/2. (Single-channel Convs would be rewritten by ONNX Runtime into its blocked
        // layout with reorders, far slower here than these products.)
        long plane = (long)side * side;
        string channels = g.Node("Reshape", "channels", [InputColumnName, g.Int64Constant("channels_shape", [0, InputChannels, plane])]);
        string mix = g.FloatConstant("luminance_weights", [0f, 0.299f * 255f, 0.587f * 255f, 0.114f * 255f], 1, InputChannels);
        string luminanceMinusWhite = Op("Floor", "luminance_minus_white",
            Op("Add", "luminance_rounding", Op("MatMul", "luminance_unrounded", mix, channels), Const("luminance_bias", 0.5005f - 255f))); // [N,1,S²]
        string alpha = g.Node("Slice", "alpha", [channels, g.Int64Constant("alpha_start", [0]), g.Int64Constant("alpha_end", [1]), g.Int64Constant("channel_axis", [1])]);
        string darkening = g.Node("Reshape", "alpha_weighted_image", [Op("Mul", "alpha_weighted", alpha, luminanceMinusWhite),
            g.Int64Constant("image_shape", [0, 1, side, side])]); // A·(L − 255): the grey level is floor(this + 255.5)

        // Ink bright on dark, in bytes: the grey level, or 255 − grey when the border is light on average (IsDarkOnLight),
        // in one pass from the compositing: 255 − floor(y) = floor(256 − y) as y is never an integer (margin above), so the
        // ink is floor(s·A·(L − 255) + t) with s = 1, t = 255.5 (kept) or s = −1, t = 0.5 (inverted).
        string inkBytes = polarity switch
        {
            InkPolarity.DarkOnLight => Op("Floor", "ink_bytes", Op("Sub", "ink_unrounded", Const("inverted_half", 0.5f), darkening)),
            InkPolarity.LightOnDark => Op("Floor", "ink_bytes", Op("Add", "ink_unrounded", darkening, Const("white_half", 255.5f))),
            _ => InkBytesDetected(g, darkening, side),
        };

        // Gaussian blur with the converter's kernel, zero outside: across, then down, each as a product with a banded
        // side×side matrix; the first also carries the bytes' 1/255.
        float[] kernel = CharacterImageConverter.BlurKernelValues;
        string across = Op("MatMul", "blur_across", inkBytes, g.FloatConstant("blur_across_matrix",
            BandMatrix(kernel.Select(k => (float)(k / 255.0)).ToArray(), side, transpose: true), side, side));
        string blurred = Op("MatMul", "blurred", g.FloatConstant("blur_down_matrix", BandMatrix(kernel, side, transpose: false), side, side), across);

        // Ink box: the first and last row and column with a blurred value above the threshold, i.e. whose maximum is above it
        // (the comparison on the row and column maxima only, not on every pixel). Rows and columns go through every step below
        // side by side on axis 1 (0: rows, 1: columns), so each step is one node for both: fewer kernels for a single image.
        string threshold = Const("ink_threshold", CharacterImageConverter.InkThreshold);
        string lineShape = g.Int64Constant("line_shape", [0, 1, 1, side]);
        string LineMaxima(string name, long axis) =>
            g.Node("Reshape", name, [g.Node("ReduceMax", $"{name}_max", [blurred], Ints("axes", [axis]), Int("keepdims", 1)), lineShape]);
        string lineMaxima = g.Node("Concat", "line_maxima", [LineMaxima("row_maxima", 3), LineMaxima("column_maxima", 2)], Int("axis", 1)); // [N,2,1,S]
        string inkLines = g.Node("Cast", "ink_lines", [Op("Greater", "ink_lines_above", lineMaxima, threshold)],
            Int("to", (long)TensorProto.Types.DataType.Float));
        string hasInk = g.Node("ReduceMax", "has_ink", [inkLines], Ints("axes", [1, 3]), Int("keepdims", 1)); // [N,1,1,1]
        string Edge(string name, bool last) => g.Node("Cast", name,
            [g.Node("ArgMax", $"{name}_index", [inkLines], Int("axis", 3), Int("keepdims", 1), Int("select_last_index", last ? 1 : 0))],
            Int("to", (long)TensorProto.Types.DataType.Float));
        string first = Edge("first", last: false), last = Edge("last", last: true); // [N,2,1,1]: top and left, bottom and right

        // The box centred in a square frame of side max(height, width) + 2·padding, integer offsets as in the converter.
        string extent = Op("Add", "box_extent", Op("Sub", "box_span", last, first), one);
        string boxSide = g.Node("ReduceMax", "box_side", [extent], Ints("axes", [1]), Int("keepdims", 1)); // [N,1,1,1]
        string framePadding = Const("frame_padding", CharacterImageConverter.FramePadding);
        string frameSide = Op("Add", "frame_side", boxSide, Const("frame_padding_both", 2f * CharacterImageConverter.FramePadding));
        string step = Op("Div", "step", frameSide, Const("character_side", CharacterImageConverter.CharacterSide));
        string offset = Op("Add", "offset", framePadding,
            Op("Floor", "offset_floor", Op("Div", "offset_half", Op("Sub", "offset_slack", boxSide, extent), two)));

        // Area weights [N,2,28,S]: output o covers frame coordinates [o·step, (o+1)·step); source index i sits at frame
        // coordinate i − first + offset. Indices outside the box get weight 0 (the frame holds only the box).
        string positions = g.FloatConstant("positions", Enumerable.Range(0, side).Select(i => (float)i).ToArray(), 1, 1, 1, side);
        string outputs = g.FloatConstant("outputs", Enumerable.Range(0, CharacterImageConverter.CharacterSide).Select(i => (float)i).ToArray(),
            1, 1, CharacterImageConverter.CharacterSide, 1);
        string start = Op("Mul", "window_start", outputs, step);
        string end = Op("Add", "window_end", start, step);
        string frame = Op("Add", "frame", positions, Op("Sub", "frame_shift", offset, first));
        string overlap = Op("Sub", "overlap", Op("Min", "overlap_end", end, Op("Add", "frame_end", frame, one)), Op("Max", "overlap_start", start, frame));
        string inBox = g.Node("Cast", "in_box_float", [Op("And", "in_box",
            Op("GreaterOrEqual", "after_first", positions, first), Op("LessOrEqual", "before_last", positions, last))],
            Int("to", (long)TensorProto.Types.DataType.Float));
        string weights = Op("Mul", "weights", Op("Div", "share", Op("Max", "clipped", overlap, zero), step), inBox);
        string rowWeights = g.Node("Split", "weights_split", [weights, g.Int64Constant("weights_split_sizes", [1, 1])],
            ["row_weights", "column_weights"], Int("axis", 1));
        const string columnWeights = "column_weights";
        string columnWeightsT = g.Node("Transpose", "column_weights_t", [columnWeights], Ints("perm", [0, 1, 3, 2]));
        string small = Op("MatMul", "small", Op("MatMul", "small_rows", rowWeights, blurred), columnWeightsT); // [N,1,28,28]

        // Brightest pixel 1 (at most 1), nothing without ink (a scale of 0), then 2 zero pixels around: 32×32.
        string brightest = g.Node("ReduceMax", "brightest", [small], Ints("axes", [2, 3]), Int("keepdims", 1));
        string scale = Op("Div", "scale", hasInk, Op("Max", "brightest_positive", brightest, Const("tiny", 1e-30f)));
        string normalised = Op("Min", "normalised", Op("Mul", "scaled_small", small, scale), one);
        long pad = (CharacterImageConverter.ImageSide - CharacterImageConverter.CharacterSide) / 2;
        g.Node("Pad", "padded", [normalised, g.Int64Constant("pads", [0, 0, pad, pad, 0, 0, pad, pad])], [output]);

        graph.Output.Add(TensorValue(output, TensorProto.Types.DataType.Float,
            [Batch, 1, CharacterImageConverter.ImageSide, CharacterImageConverter.ImageSide]));
        return g.ToModel($"Ocr.MLNet character preprocessing: {side}×{side} ARGB image → 1×32×32 EMNIST-style pixels.");
    }

    /// <summary>
    /// The side×side matrix M with <c>M[i, j] = kernel[j − i + radius]</c> inside the band (zero elsewhere), so
    /// <c>M · X</c> blurs the rows of X down the columns; its transpose, on the right, blurs across. Zero outside the
    /// image, as the converter's blur.
    /// </summary>
    private static float[] BandMatrix(float[] kernel, int side, bool transpose)
    {
        int radius = kernel.Length / 2;
        var matrix = new float[side * side];
        for (int i = 0; i < side; i++)
        {
            for (int j = Math.Max(0, i - radius); j <= Math.Min(side - 1, i + radius); j++)
                matrix[transpose ? (j * side) + i : (i * side) + j] = kernel[j - i + radius];
        }

        return matrix;
    }

    /// <summary>
    /// The ink bytes with the polarity decided per image from the border (as <c>IsDarkOnLight</c>: the mean of its grey
    /// bytes above 127.5): floor(s·A·(L − 255) + t) with s = 1 − 2d and t = 255.5 − 255d, d = 1 for dark on light.
    /// </summary>
    private static string InkBytesDetected(OnnxGraphBuilder g, string darkening, int side)
    {
        // The border's grey bytes from two strided slices (top and bottom rows; left and right columns between them), so the
        // grey level is rounded on the border only: integers, their sum exact.
        string white = g.FloatConstant("white_half", [255.5f]);
        string Edges(string name, long[] starts, long[] ends, long[] steps)
        {
            string edges = g.Node("Slice", name, [darkening, g.Int64Constant($"{name}_start", starts), g.Int64Constant($"{name}_end", ends),
                g.Int64Constant($"{name}_axes", [2, 3]), g.Int64Constant($"{name}_steps", steps)]);
            string grey = g.Node("Floor", $"{name}_grey", [g.Node("Add", $"{name}_unrounded", [edges, white])]);
            return g.Node("ReduceSum", $"{name}_total", [grey, g.Int64Constant($"{name}_sum_axes", [2, 3])], Int("keepdims", 1));
        }

        string rows = Edges("border_rows", [0, 0], [side, side], [side - 1, 1]);
        string columns = Edges("border_columns", [1, 0], [side - 1, side], [1, side - 1]);
        long borderCount = (4L * side) - 4;
        string darkOnLight = g.Node("Cast", "dark_on_light", [g.Node("Greater", "dark_on_light_bool",
            [g.Node("Add", "border_total", [rows, columns]), g.FloatConstant("border_half_white", [borderCount * 127.5f])])],
            Int("to", (long)TensorProto.Types.DataType.Float)); // [N,1,1,1]: 1 or 0
        string sign = g.Node("Sub", "ink_sign", [g.FloatConstant("one_sign", [1f]), g.Node("Add", "dark_on_light_twice", [darkOnLight, darkOnLight])]);
        string shift = g.Node("Sub", "ink_shift", [white, g.Node("Mul", "inversion", [darkOnLight, g.FloatConstant("byte_max_shift", [255f])])]);
        return g.Node("Floor", "ink_bytes", [g.Node("Add", "ink_unrounded", [g.Node("Mul", "ink_signed", [darkening, sign]), shift])]);
    }
}
