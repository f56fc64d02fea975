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
/// compositing over white are computed in integers (exact in float), the inversion in bytes, the blur with the
/// converter's kernel, the ink box from the blurred values above <see cref="CharacterImageConverter.InkThreshold"/>,
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
        string byteMax = Const("byte_max", 255f);

        // Grey level in bytes, as CharacterImageConverter.RgbaToGrey: round(0.299 R + 0.587 G + 0.114 B), composited over white
        // by the alpha. The input holds byte/255, so a matrix product over the channels gives the luminance before rounding,
        // (299 R + 587 G + 114 B + 500) / 1000 + 0.0005, within 1e-4; its floor is the converter's integer, as the half-step
        // margin (0.0005) is five times the error. The same margin argument makes the compositing exact without rounding the
        // alpha to a byte: floor((α·(L − 255) + 65152) / 255) = floor(A·(L − 255) + 255.5) with A = α/255, the input plane.
        // This replaces rounding four full planes to bytes and summing them, the costliest part of the graph.
        long plane = (long)side * side;
        string channels = g.Node("Reshape", "channels", [InputColumnName, g.Int64Constant("channels_shape", [0, InputChannels, plane])]);
        string mix = g.FloatConstant("luminance_weights", [0f, 0.299f * 255f, 0.587f * 255f, 0.114f * 255f], 1, InputChannels);
        string luminance = Op("Floor", "luminance",
            Op("Add", "luminance_rounding", Op("MatMul", "luminance_unrounded", mix, channels), Const("luminance_half", 0.5005f))); // [N,1,S²]
        string alpha = g.Node("Slice", "alpha", [channels, g.Int64Constant("alpha_start", [0]), g.Int64Constant("alpha_end", [1]), g.Int64Constant("channel_axis", [1])]);
        string composited = Op("Add", "composited", Op("Mul", "alpha_weighted", alpha, Op("Sub", "luminance_minus_white", luminance, byteMax)),
            Const("white_half", 255.5f));
        string grey = g.Node("Reshape", "grey", [Op("Floor", "grey_flat", composited), g.Int64Constant("image_shape", [0, 1, side, side])]);

        // Ink bright on dark, in bytes, then / 255: inverted (255 − grey) when the border is light on average (IsDarkOnLight).
        // |grey − 255·d| with d = 1 or 0 per image inverts or keeps it in one broadcast pass, exactly (integers).
        string inkBytes = polarity switch
        {
            InkPolarity.DarkOnLight => Op("Sub", "inverted", byteMax, grey),
            InkPolarity.LightOnDark => grey,
            _ => Op("Abs", "ink_bytes", Op("Sub", "ink_bytes_signed", grey, Op("Mul", "inversion",
                g.Node("Cast", "dark_on_light_float", [DarkOnLight(g, grey, side)], Int("to", (long)TensorProto.Types.DataType.Float)), byteMax))),
        };
        string ink = Op("Div", "ink", inkBytes, byteMax);

        // Gaussian blur with the converter's kernel, zero outside: across, then down, each as a product with a banded
        // side×side matrix (faster in ONNX Runtime than single-channel Convs with their layout reorders).
        float[] kernel = CharacterImageConverter.BlurKernelValues;
        string across = Op("MatMul", "blur_across", ink, g.FloatConstant("blur_across_matrix", BandMatrix(kernel, side, transpose: true), side, side));
        string blurred = Op("MatMul", "blurred", g.FloatConstant("blur_down_matrix", BandMatrix(kernel, side, transpose: false), side, side), across);

        // Ink box: the first and last row and column with a blurred value above the threshold, i.e. whose maximum is above it
        // (the comparison on the row and column maxima only, not on every pixel).
        string threshold = Const("ink_threshold", CharacterImageConverter.InkThreshold);
        string InkLines(string name, long axis) => g.Node("Cast", name,
            [Op("Greater", $"{name}_above", g.Node("ReduceMax", $"{name}_max", [blurred], Ints("axes", [axis]), Int("keepdims", 1)), threshold)],
            Int("to", (long)TensorProto.Types.DataType.Float));
        string inkRows = InkLines("ink_rows", 3);    // [N,1,S,1]
        string inkColumns = InkLines("ink_columns", 2); // [N,1,1,S]
        string hasInk = g.Node("ReduceMax", "has_ink", [inkRows], Ints("axes", [2]), Int("keepdims", 1));      // [N,1,1,1]
        string Edge(string name, string lines, long axis, bool last) => g.Node("Cast", name,
            [g.Node("ArgMax", $"{name}_index", [lines], Int("axis", axis), Int("keepdims", 1), Int("select_last_index", last ? 1 : 0))],
            Int("to", (long)TensorProto.Types.DataType.Float));
        string top = Edge("top", inkRows, 2, last: false), bottom = Edge("bottom", inkRows, 2, last: true);
        string left = Edge("left", inkColumns, 3, last: false), right = Edge("right", inkColumns, 3, last: true);

        // The box centred in a square frame of side max(height, width) + 2·padding, integer offsets as in the converter.
        string boxHeight = Op("Add", "box_height", Op("Sub", "box_height_span", bottom, top), one);
        string boxWidth = Op("Add", "box_width", Op("Sub", "box_width_span", right, left), one);
        string boxSide = Op("Max", "box_side", boxHeight, boxWidth);
        string framePadding = Const("frame_padding", CharacterImageConverter.FramePadding);
        string frameSide = Op("Add", "frame_side", boxSide, Op("Mul", "frame_padding_both", framePadding, two));
        string step = Op("Div", "step", frameSide, Const("character_side", CharacterImageConverter.CharacterSide));
        string Offset(string name, string extent) => Op("Add", name, framePadding,
            Op("Floor", $"{name}_floor", Op("Div", $"{name}_half", Op("Sub", $"{name}_slack", boxSide, extent), two)));
        string rowOffset = Offset("row_offset", boxHeight), columnOffset = Offset("column_offset", boxWidth);

        // Area weights [N,1,28,S]: output o covers frame coordinates [o·step, (o+1)·step); source index i sits at frame
        // coordinate i − first + offset. Indices outside the box get weight 0 (the frame holds only the box).
        string positions = g.FloatConstant("positions", Enumerable.Range(0, side).Select(i => (float)i).ToArray(), 1, 1, 1, side);
        string outputs = g.FloatConstant("outputs", Enumerable.Range(0, CharacterImageConverter.CharacterSide).Select(i => (float)i).ToArray(),
            1, 1, CharacterImageConverter.CharacterSide, 1);
        string start = Op("Mul", "window_start", outputs, step);
        string end = Op("Add", "window_end", start, step);
        string Weights(string name, string first, string last, string offset)
        {
            string frame = Op("Add", $"{name}_frame", Op("Sub", $"{name}_from_first", positions, first), offset);
            string overlap = Op("Sub", $"{name}_overlap",
                Op("Min", $"{name}_overlap_end", end, Op("Add", $"{name}_frame_end", frame, one)),
                Op("Max", $"{name}_overlap_start", start, frame));
            string inBox = g.Node("Cast", $"{name}_in_box_float", [Op("And", $"{name}_in_box",
                Op("GreaterOrEqual", $"{name}_after_first", positions, first), Op("LessOrEqual", $"{name}_before_last", positions, last))],
                Int("to", (long)TensorProto.Types.DataType.Float));
            return Op("Mul", name, Op("Div", $"{name}_share", Op("Max", $"{name}_clipped", overlap, zero), step), inBox);
        }

        string rowWeights = Weights("row_weights", top, bottom, rowOffset);
        string columnWeights = Weights("column_weights", left, right, columnOffset);
        string columnWeightsT = g.Node("Transpose", "column_weights_t", [columnWeights], Ints("perm", [0, 1, 3, 2]));
        string small = Op("MatMul", "small", Op("MatMul", "small_rows", rowWeights, blurred), columnWeightsT); // [N,1,28,28]

        // Brightest pixel 1 (at most 1), nothing without ink, then 2 zero pixels around: 32×32.
        string brightest = g.Node("ReduceMax", "brightest", [small], Ints("axes", [2, 3]), Int("keepdims", 1));
        string scale = Op("Reciprocal", "scale", Op("Max", "brightest_positive", brightest, Const("tiny", 1e-30f)));
        string normalised = Op("Mul", "normalised", Op("Min", "capped", Op("Mul", "scaled_small", small, scale), one), hasInk);
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

    /// <summary>True per image when the mean of its border bytes is above 127.5 (as <c>IsDarkOnLight</c>): [N,1,1,1] bool.</summary>
    private static string DarkOnLight(OnnxGraphBuilder g, string grey, int side)
    {
        // The border's sum from its four edges (whole top and bottom rows, the left and right columns between them): integers, exact.
        string Edge(string name, long[] starts, long[] ends) => g.Node("ReduceSum", $"{name}_total",
            [g.Node("Slice", name, [grey, g.Int64Constant($"{name}_start", starts), g.Int64Constant($"{name}_end", ends), g.Int64Constant($"{name}_axes", [2, 3])]),
                g.Int64Constant($"{name}_sum_axes", [2, 3])], Int("keepdims", 1));
        string top = Edge("border_top", [0, 0], [1, side]), bottom = Edge("border_bottom", [side - 1, 0], [side, side]);
        string left = Edge("border_left", [1, 0], [side - 1, 1]), right = Edge("border_right", [1, side - 1], [side - 1, side]);
        string border = g.Node("Add", "border_total", [g.Node("Add", "border_rows", [top, bottom]), g.Node("Add", "border_columns", [left, right])]);
        long borderCount = (4L * side) - 4;
        return g.Node("Greater", "dark_on_light", [border, g.FloatConstant("border_half_white", [borderCount * 127.5f])]);
    }
}
