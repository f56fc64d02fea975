using Google.Protobuf;
using Onnx;
using Ocr.MLNet.Preparation;
using static Ocr.MLNet.OnnxWriting.OnnxGraphBuilder;
using Ocr.MLNet.Loading;
using Ocr.MLNet.OnnxWriting;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The preprocessing graph as it was before its speed-up (every channel rounded to bytes, a channel sum, a rounded alpha),
/// frozen here so the tests prove the faster graph gives the same pixels. Not used by the library.
/// </summary>
internal static class PreviousPreprocessingGraph
{
    public const string InputColumnName = CharacterPreprocessingGraph.FloatInputColumnName;

    public static byte[] Build(int imageSide = CharacterPreprocessingGraph.DefaultImageSide, InkPolarity polarity = InkPolarity.Detect) =>
        BuildModel(imageSide, CharacterCnnOnnxExporter.DefaultInputColumnName, polarity).ToByteArray();

    private static ModelProto BuildModel(int side, string output, InkPolarity polarity)
    {
        var graph = new GraphProto { Name = "CharacterPreprocessing" };
        var g = new OnnxGraphBuilder(graph);
        graph.Input.Add(TensorValue(InputColumnName, TensorProto.Types.DataType.Float, [Batch, 4, side, side]));

        string Const(string name, float value) => g.FloatConstant(name, [value]);
        string Op(string op, string name, params string[] inputs) => g.Node(op, name, inputs);
        string zero = Const("zero", 0f), one = Const("one", 1f), two = Const("two", 2f);
        string byteMax = Const("byte_max", 255f);

        // Grey level in bytes, as CharacterImageConverter.RgbaToGrey: round(0.299 R + 0.587 G + 0.114 B), then composited
        // over white by the alpha. All values are integers below 2^24, so float arithmetic is exact.
        string bytes = Op("Round", "bytes", Op("Mul", "scaled", InputColumnName, byteMax));
        // Elementwise products and a channel sum rather than a 1×1 Conv: ONNX Runtime wraps a Conv in layout reorders.
        string luminanceWeights = g.FloatConstant("luminance_weights", [0f, 299f, 587f, 114f], 1, 4, 1, 1);
        string weightedChannels = Op("Mul", "luminance_terms", bytes, luminanceWeights);
        string channelSum = g.Node("ReduceSum", "luminance_terms_sum", [weightedChannels, g.Int64Constant("channel_axes", [1])], Int("keepdims", 1));
        string weighted = Op("Add", "luminance_sum", channelSum, Const("luminance_rounding", 500f));
        string luminance = Op("Floor", "luminance", Op("Div", "luminance_div", weighted, Const("thousand", 1000f)));
        string alpha = g.Node("Slice", "alpha", [bytes, g.Int64Constant("alpha_start", [0]), g.Int64Constant("alpha_end", [1]), g.Int64Constant("channel_axis", [1])]);
        // (luminance·α + 255·(255 − α) + 127) / 255 = (α·(luminance − 255) + 65152) / 255, floored.
        string composited = Op("Add", "composited", Op("Mul", "alpha_weighted", alpha, Op("Sub", "luminance_minus_white", luminance, byteMax)), Const("white_sum", 65152f));
        string grey = Op("Floor", "grey", Op("Div", "grey_div", composited, byteMax));

        // Ink bright on dark: inverted when the border is light on average (IsDarkOnLight), in bytes, then / 255.
        string inverted = Op("Sub", "inverted", byteMax, grey);
        string inkBytes = polarity switch
        {
            InkPolarity.DarkOnLight => inverted,
            InkPolarity.LightOnDark => grey,
            _ => Op("Where", "ink_bytes", DarkOnLight(g, grey, side, byteMax), inverted, grey),
        };
        string ink = Op("Div", "ink", inkBytes, byteMax);

        // Gaussian blur with the converter's kernel, zero outside: across, then down, each as a product with a banded
        // side×side matrix (faster in ONNX Runtime than single-channel Convs with their layout reorders).
        float[] kernel = CharacterImageConverter.BlurKernelValues;
        string across = Op("MatMul", "blur_across", ink, g.FloatConstant("blur_across_matrix", BandMatrix(kernel, side, transpose: true), side, side));
        string blurred = Op("MatMul", "blurred", g.FloatConstant("blur_down_matrix", BandMatrix(kernel, side, transpose: false), side, side), across);

        // Ink box: the first and last row and column with a blurred value above the threshold.
        string isInk = g.Node("Cast", "is_ink", [Op("Greater", "above_threshold", blurred, Const("ink_threshold", CharacterImageConverter.InkThreshold))],
            Int("to", (long)TensorProto.Types.DataType.Float));
        string inkRows = g.Node("ReduceMax", "ink_rows", [isInk], Ints("axes", [3]), Int("keepdims", 1));       // [N,1,S,1]
        string inkColumns = g.Node("ReduceMax", "ink_columns", [isInk], Ints("axes", [2]), Int("keepdims", 1)); // [N,1,1,S]
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
    private static string DarkOnLight(OnnxGraphBuilder g, string grey, int side, string byteMax)
    {
        string imageAxes = g.Int64Constant("image_axes", [1, 2, 3]);
        string total = g.Node("ReduceSum", "grey_total", [grey, imageAxes], Int("keepdims", 1));
        string interior = g.Node("Slice", "grey_interior", [grey, g.Int64Constant("interior_start", [1, 1]),
            g.Int64Constant("interior_end", [side - 1, side - 1]), g.Int64Constant("spatial_axes", [2, 3])]);
        string interiorTotal = g.Node("ReduceSum", "grey_interior_total", [interior, imageAxes], Int("keepdims", 1));
        string border = g.Node("Sub", "grey_border_total", [total, interiorTotal]);
        long borderCount = (4L * side) - 4;
        return g.Node("Greater", "dark_on_light", [border, g.FloatConstant("border_half_white", [borderCount * 127.5f])]);
    }
}
