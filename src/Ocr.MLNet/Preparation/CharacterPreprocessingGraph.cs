using Google.Protobuf;
using Onnx;
using static Ocr.MLNet.OnnxWriting.OnnxGraphBuilder;
using Ocr.MLNet.Loading;
using Ocr.MLNet.OnnxWriting;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// Writes <see cref="CharacterImageConverter"/>'s preprocessing as an ONNX graph, so a saved model applies it to raw
/// images inside ML.NET (through ONNX Runtime) exactly as the loaders apply it to training images.
/// </summary>
/// <remarks>
/// <para>
/// Input <see cref="InputColumnName"/>: <c>byte[N, 4, side, side]</c>, the planar A, R, G, B bytes of a
/// <c>side</c>×<c>side</c> image, as ML.NET's <c>ExtractPixels</c> writes them with all colours, ARGB order and
/// <c>outputAsFloatArray: false</c>. Output: <c>float[N, 1, 32, 32]</c>, the network's pixels. Bytes rather than floats
/// scaled by 1/255 (the input of graphs saved before, <see cref="FloatInputColumnName"/>, which the recognizer still reads):
/// ML.NET's pixel extraction and its copy of the row into ONNX Runtime move a quarter of the memory, 64 KiB per 128×128
/// image instead of 256 KiB, which is below the .NET large-object heap's threshold.
/// </para>
/// <para>
/// Each step is the converter's, in the same arithmetic where it matters: the grey level and the alpha
/// compositing over white are computed in integers (exact in float), the inversion in bytes (the polarity from the
/// border's grey bytes alone), the blur with the converter's kernel (block-banded products), the ink box from the blurred
/// values above <see cref="CharacterImageConverter.InkThreshold"/>, the centred square frame, the area down-sampling and
/// the 2-pixel padding as two matrix products whose weights are built from the box, then the scaling to a maximum of 1.
/// An image without ink comes out all zero. The graph is written for few kernels, as a single image pays a fixed cost for each.
/// </para>
/// </remarks>
internal static class CharacterPreprocessingGraph
{
    /// <summary>Default name of the graph's input (the ARGB byte planes).</summary>
    public const string InputColumnName = "Ocr.MLNet.ImageBytes";

    /// <summary>The input of the graphs saved before the byte input: the ARGB planes as floats scaled by 1/255.</summary>
    public const string FloatInputColumnName = "Ocr.MLNet.ImagePixels";

    /// <summary>Channels the input carries per pixel: A, R, G, B.</summary>
    public const int InputChannels = 4;

    /// <summary>Side every image is resized to before the graph runs: 128, the size of NIST SD19's PNGs, so they reach it unchanged.</summary>
    public const int DefaultImageSide = 128;

    /// <summary>Lines per block of the blur's block-banded products: 32, so a 128-pixel side is four blocks.</summary>
    private const int BlurBlock = 32;

    /// <summary>ONNX operator set the graph is written for (the network's, <see cref="OnnxGraphBuilder.OpsetVersion"/>).</summary>
    public const int OpsetVersion = OnnxGraphBuilder.OpsetVersion;

    /// <summary>Builds the graph and returns the serialised ONNX model.</summary>
    /// <param name="imageSide">Side of the square input images (at least 8).</param>
    /// <param name="outputColumnName">Name of the output: the pixel column the network reads.</param>
    /// <param name="polarity">Which way round the ink is; <see cref="InkPolarity.Detect"/> decides per image from its border, as the converter does.</param>
    /// <returns>The ONNX model (a serialised <c>ModelProto</c>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="imageSide"/> is below 8, or <paramref name="polarity"/> is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="outputColumnName"/> is empty or equals <see cref="InputColumnName"/>.</exception>
    public static byte[] Build(int imageSide = DefaultImageSide, string outputColumnName = CharacterFormat.PixelsColumnName,
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
        graph.Input.Add(TensorValue(InputColumnName, TensorProto.Types.DataType.Uint8, [Batch, InputChannels, side, side]));

        string Const(string name, float value) => g.FloatConstant(name, [value]);
        string Op(string op, string name, params string[] inputs) => g.Node(op, name, inputs);
        string zero = Const("zero", 0f), one = Const("one", 1f), two = Const("two", 2f);

        // Grey level in bytes, as CharacterImageConverter.RgbaToGrey: round(0.299 R + 0.587 G + 0.114 B), composited over white
        // by the alpha. A matrix product of the bytes over the channels gives the luminance before rounding,
        // (299 R + 587 G + 114 B + 500) / 1000 + 0.0005, within 1e-4; its floor is the converter's integer (here minus 255,
        // folded into the same addition), as the half-step margin (0.0005) is five times the error. The same margin argument
        // makes the compositing exact without rounding: floor((α·(L − 255) + 65152) / 255) = floor(A·(L − 255) + 255.5) with
        // A = α/255, because A·(L − 255) is a multiple of 1/255 and so never within 1/510 of an integer minus 1/2. Only the
        // alpha plane is scaled by 1/255 (as ExtractPixels scaled every plane for the float input). (Single-channel Convs
        // would be rewritten by ONNX Runtime into its blocked layout with reorders, far slower here than these products.)
        long plane = (long)side * side;
        string channels = g.Node("Reshape", "channels", [g.Node("Cast", "planes", [InputColumnName], Int("to", (long)TensorProto.Types.DataType.Float)),
            g.Int64Constant("channels_shape", [0, InputChannels, plane])]);
        string mix = g.FloatConstant("luminance_weights", [0f, 0.299f, 0.587f, 0.114f], 1, InputChannels);
        string luminanceMinusWhite = Op("Floor", "luminance_minus_white",
            Op("Add", "luminance_rounding", Op("MatMul", "luminance_unrounded", mix, channels), Const("luminance_bias", 0.5005f - 255f))); // [N,1,S²]
        string alpha = Op("Mul", "alpha", g.Node("Slice", "alpha_bytes", [channels, g.Int64Constant("alpha_start", [0]), g.Int64Constant("alpha_end", [1]),
            g.Int64Constant("channel_axis", [1])]), Const("byte_scale", 1f / 255f));
        string darkening = Op("Mul", "alpha_weighted", alpha, luminanceMinusWhite); // [N,1,S²] A·(L − 255): the grey level is floor(this + 255.5)

        // Ink bright on dark, in bytes: the grey level, or 255 − grey when the border is light on average (IsDarkOnLight),
        // in one pass from the compositing: 255 − floor(y) = floor(256 − y) as y is never an integer (margin above), so the
        // ink is floor(s·A·(L − 255) + t) with s = 1, t = 255.5 (kept) or s = −1, t = 0.5 (inverted).
        string inkFlat = polarity switch
        {
            InkPolarity.DarkOnLight => Op("Floor", "ink_flat", Op("Sub", "ink_unrounded", Const("inverted_half", 0.5f), darkening)),
            InkPolarity.LightOnDark => Op("Floor", "ink_flat", Op("Add", "ink_unrounded", darkening, Const("white_half", 255.5f))),
            _ => InkBytesDetected(g, darkening, side),
        };
        string inkBytes = g.Node("Reshape", "ink_bytes", [inkFlat, g.Int64Constant("image_shape", [0, 1, side, side])]);

        // Gaussian blur with the converter's kernel, zero outside. A 7-tap kernel in a dense side×side product would spend
        // 18× more multiply-adds than it has taps, so each pass works on blocks of BlurBlock lines: one Gather takes every
        // block's window of whole lines (the block and 3 lines either side; a line outside the image is taken as its nearest
        // line and given weight 0) and one product with the blocks' small [block × window] band matrices blurs them all.
        // Gathering whole lines is a copy of rows; gathering columns is not, so the second pass blurs the transpose, and the
        // graph goes on with the blurred image transposed: T[c, r] = blurred[r, c]. The first pass also carries the bytes' 1/255.
        float[] kernel = CharacterImageConverter.BlurKernelValues;
        int block = Math.Min(BlurBlock, side);
        int blocks = (side + block - 1) / block;
        int window = block + kernel.Length - 1;
        long blockedSide = (long)blocks * block;
        string windows = g.Int64Constant("blur_windows", BlurWindowIndices(side, blocks, block, window), [blocks, window]);
        string BlurDown(string name, string image, float[] weights, long columns) => g.Node("Reshape", name,
        [
            Op("MatMul", $"{name}_blocks", g.FloatConstant($"{name}_band", BlockBands(weights, side, blocks, block), blocks, block, window),
                g.Node("Gather", $"{name}_windows", [image, windows], Int("axis", 2))), // [N,1,B,b,columns]
            g.Int64Constant($"{name}_shape", [0, 1, blockedSide, columns]),
        ]);
        string down = BlurDown("blur_down", inkBytes, kernel.Select(k => (float)(k / 255.0)).ToArray(), side); // [N,1,Bb,S]
        string downTransposed = g.Node("Transpose", "blur_down_t", [down], Ints("perm", [0, 1, 3, 2])); // [N,1,S,Bb]
        string blurredT = BlurDown(blockedSide == side ? "blurred_t" : "blurred_t_blocks", downTransposed, kernel, blockedSide); // [N,1,Bb,Bb]
        if (blockedSide != side)
        {
            blurredT = g.Node("Slice", "blurred_t", [blurredT, g.Int64Constant("blurred_start", [0, 0]), g.Int64Constant("blurred_end", [side, side]),
                g.Int64Constant("blurred_axes", [2, 3])]);
        }

        // Ink box: the first and last row and column with a blurred value above the threshold, i.e. whose maximum is above it
        // (the comparison on the row and column maxima only, not on every pixel). Rows and columns go through every step below
        // side by side on axis 1 (0: rows, 1: columns), so each step is one node for both: fewer kernels for a single image.
        string threshold = Const("ink_threshold", CharacterImageConverter.InkThreshold);
        string lineShape = g.Int64Constant("line_shape", [0, 1, 1, side]);
        string rowMaxima = g.Node("ReduceMax", "row_maxima", [blurredT], Ints("axes", [2]), Int("keepdims", 1)); // [N,1,1,S]
        string columnMaxima = g.Node("Reshape", "column_maxima", [g.Node("ReduceMax", "column_maxima_max", [blurredT], Ints("axes", [3]), Int("keepdims", 1)), lineShape]);
        string lineMaxima = g.Node("Concat", "line_maxima", [rowMaxima, columnMaxima], Int("axis", 1)); // [N,2,1,S]
        string inkLines = Op("Greater", "ink_lines", lineMaxima, threshold);
        // One Where and one ReduceMax give −first and last + 1 of both axes: the maxima of −i and i + 1 over the ink lines
        // ([N,2,2,1]: axis 1 rows or columns, axis 2 the two edges). Without ink they are −side and 0: the box is empty,
        // every weight below comes out 0 and so does the image.
        var edgeValues = Enumerable.Range(0, side).Select(i => (float)-i).Concat(Enumerable.Range(1, side).Select(i => (float)i)).ToArray();
        string edges = g.Node("ReduceMax", "box_edges", [Op("Where", "box_edge_candidates", inkLines,
            g.FloatConstant("edge_values", edgeValues, 1, 1, 2, side), g.FloatConstant("edge_none", [-side, 0f], 1, 1, 2, 1))],
            Ints("axes", [3]), Int("keepdims", 1));
        string extent = g.Node("ReduceSum", "box_extent", [edges, g.Int64Constant("edge_axis", [2])], Int("keepdims", 1)); // [N,2,1,1]
        string negativeFirst = g.Node("Slice", "negative_first", [edges, g.Int64Constant("first_start", [0]), g.Int64Constant("first_end", [1]),
            g.Int64Constant("first_axis", [2])]); // [N,2,1,1]

        // The box centred in a square frame of side max(height, width) + 2·padding, integer offsets as in the converter.
        string boxSide = g.Node("ReduceMax", "box_side", [extent], Ints("axes", [1]), Int("keepdims", 1)); // [N,1,1,1]
        string framePadding = Const("frame_padding", CharacterImageConverter.FramePadding);
        string frameSide = Op("Add", "frame_side", boxSide, Const("frame_padding_both", 2f * CharacterImageConverter.FramePadding));
        string step = Op("Div", "step", frameSide, Const("character_side", CharacterImageConverter.CharacterSide));
        string offset = Op("Add", "offset", framePadding,
            Op("Floor", "offset_floor", Op("Div", "offset_half", Op("Sub", "offset_slack", boxSide, extent), two)));

        // Area weights [N,2,32,S]: output o covers frame coordinates [o·step, (o+1)·step) for o = −2 … 29, so the 2-pixel
        // padding around the 28×28 character comes out as rows and columns of zero weights; source index i sits at frame
        // coordinate i − first + offset. Only the box is in the frame: clipping each overlap to the box's frame coordinates
        // [offset, offset + extent) gives every index outside it weight 0.
        long pad = (CharacterImageConverter.ImageSide - CharacterImageConverter.CharacterSide) / 2;
        string outputs = g.FloatConstant("outputs", Enumerable.Range((int)-pad, CharacterImageConverter.ImageSide).Select(i => (float)i).ToArray(),
            1, 1, CharacterImageConverter.ImageSide, 1);
        string start = Op("Mul", "window_start", outputs, step);
        string end = Op("Add", "window_end", start, step);
        string positions = g.FloatConstant("positions", Enumerable.Range(0, side).Select(i => (float)i).ToArray(), 1, 1, 1, side);
        string frame = Op("Add", "frame", positions, Op("Add", "frame_shift", offset, negativeFirst));
        string boxEnd = Op("Add", "box_end", offset, extent);
        // Two-input Min and Max only: ONNX Runtime's CUDA kernels broadcast three inputs of these shapes wrongly for more than
        // one image (whole weights off; the CPU and a batch of one are right).
        string overlap = Op("Sub", "overlap",
            Op("Min", "overlap_end", Op("Min", "overlap_end_frame", end, Op("Add", "frame_end", frame, one)), boxEnd),
            Op("Max", "overlap_start", Op("Max", "overlap_start_frame", start, frame), offset));
        // The overlaps, not divided by the step: the scaling below to a brightest pixel of 1 takes the step out.
        string weights = Op("Max", "weights", overlap, zero);
        string rowWeights = g.Node("Split", "weights_split", [weights, g.Int64Constant("weights_split_sizes", [1, 1])],
            ["row_weights", "column_weights"], Int("axis", 1));
        // rowWeights · blurred · columnWeightsᵀ = rowWeights · (columnWeights · T)ᵀ: the large product reads T as it is, and
        // ONNX Runtime folds the small Transpose into the second product.
        string columnsFirst = Op("MatMul", "small_columns", "column_weights", blurredT); // [N,1,32,S]
        string small = Op("MatMul", "small", rowWeights, g.Node("Transpose", "small_columns_t", [columnsFirst], Ints("perm", [0, 1, 3, 2]))); // [N,1,32,32]

        // Brightest pixel 1 (at most 1); an image without ink is all zero already.
        string brightest = g.Node("ReduceMax", "brightest", [small], Ints("axes", [2, 3]), Int("keepdims", 1));
        g.Node("Min", "normalised", [Op("Div", "scaled_small", small, Op("Max", "brightest_positive", brightest, Const("tiny", 1e-30f))), one], [output]);

        graph.Output.Add(TensorValue(output, TensorProto.Types.DataType.Float,
            [Batch, 1, CharacterImageConverter.ImageSide, CharacterImageConverter.ImageSide]));
        return g.ToModel($"Ocr.MLNet character preprocessing: {side}×{side} ARGB image → 1×32×32 EMNIST-style pixels.");
    }

    /// <summary>
    /// The blocks' [block × window] band matrices, <c>M[k, o, j] = kernel[j − o]</c> inside the band: output line o of block
    /// k is the kernel over window lines o … o + 2·radius, the window starting <c>radius</c> lines before the block. A window
    /// line outside the image gets weight 0 (the blur is zero outside).
    /// </summary>
    private static float[] BlockBands(float[] kernel, int side, int blocks, int block)
    {
        int radius = kernel.Length / 2, window = block + kernel.Length - 1;
        var bands = new float[blocks * block * window];
        for (int k = 0; k < blocks; k++)
        {
            for (int o = 0; o < block; o++)
            {
                for (int t = 0; t < kernel.Length; t++)
                {
                    int line = (k * block) + o + t - radius;
                    if (line >= 0 && line < side)
                        bands[(((k * block) + o) * window) + o + t] = kernel[t];
                }
            }
        }

        return bands;
    }

    /// <summary>The image line each block's window line reads: block k's window starts <c>radius</c> lines before the block; lines outside the image read the nearest one.</summary>
    private static long[] BlurWindowIndices(int side, int blocks, int block, int window)
    {
        int radius = (window - block) / 2;
        var indices = new long[blocks * window];
        for (int k = 0; k < blocks; k++)
        {
            for (int j = 0; j < window; j++)
                indices[(k * window) + j] = Math.Clamp((k * block) + j - radius, 0, side - 1);
        }

        return indices;
    }

    /// <summary>
    /// The ink bytes ([N,1,S²]) with the polarity decided per image from the border (as <c>IsDarkOnLight</c>: the mean of its
    /// grey bytes above 127.5): floor(s·A·(L − 255) + t) with s = −1, t = 0.5 for dark on light, else s = 1, t = 255.5.
    /// </summary>
    private static string InkBytesDetected(OnnxGraphBuilder g, string darkening, int side)
    {
        // The border's grey bytes through one Gather of its 4·side − 4 pixels, so the grey level is rounded on the border
        // only: integers, their sum exact.
        string white = g.FloatConstant("white_half", [255.5f]);
        var border = Enumerable.Range(0, side).SelectMany(x => new[] { x, ((side - 1) * side) + x })
            .Concat(Enumerable.Range(1, side - 2).SelectMany(y => new[] { y * side, (y * side) + side - 1 }))
            .Select(i => (long)i).ToArray();
        string edges = g.Node("Gather", "border", [darkening, g.Int64Constant("border_indices", border)], Int("axis", 2));
        string grey = g.Node("Floor", "border_grey", [g.Node("Add", "border_unrounded", [edges, white])]);
        string total = g.Node("ReduceSum", "border_total", [grey, g.Int64Constant("border_sum_axes", [2])], Int("keepdims", 1)); // [N,1,1]
        string darkOnLight = g.Node("Greater", "dark_on_light", [total, g.FloatConstant("border_half_white", [border.Length * 127.5f])]);
        string sign = g.Node("Where", "ink_sign", [darkOnLight, g.FloatConstant("inverted_sign", [-1f]), g.FloatConstant("kept_sign", [1f])]);
        string shift = g.Node("Where", "ink_shift", [darkOnLight, g.FloatConstant("inverted_half", [0.5f]), white]);
        return g.Node("Floor", "ink_flat", [g.Node("Add", "ink_unrounded", [g.Node("Mul", "ink_signed", [darkening, sign]), shift])]);
    }
}
