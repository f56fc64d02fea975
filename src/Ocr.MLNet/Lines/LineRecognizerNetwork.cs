using TorchSharp;
using Ocr.MLNet.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Ocr.MLNet.Lines;

/// <summary>
/// The line recognizer's network, a CRNN for CTC: convolution blocks in CharacterCnn's style (Conv → ReLU → BatchNorm)
/// that halve the height four times and the width twice, a convolution that folds the remaining four rows into one,
/// three residual temporal convolutions (kernel 3, dilations 1, 2 and 4) as the sequence layer, and a 1×1 convolution
/// head over the blank and the alphabet. <see cref="Module{T,TResult}.forward"/> maps <c>N×1×32×256</c> prepared pixels
/// (ink 1 on 0) to <c>N×64×classes</c> logits: one time step per four columns.
/// </summary>
/// <remarks>
/// The sequence layer is convolutional rather than an LSTM: every layer exports to ONNX as a plain <c>Conv</c>, both
/// cores work on every step (an LSTM's steps run one after another), and a context of ±15 steps (60 pixels, three
/// characters of a name) is what telling touching characters apart needs. About 136 M multiply-adds per line.
/// </remarks>
public sealed class LineRecognizerNetwork : Module<Tensor, Tensor>, IRecalibratesBatchNorm
{
    /// <summary>Dropout before the head unless configured.</summary>
    public const double DefaultDropoutRate = 0.2;

    private const double BatchNormEpsilon = 1e-3;

    // PyTorch's default rather than Keras' 0.01: the running statistics follow the weights within tens of steps, so a
    // short fine-tuning run validates and exports with statistics of its own weights.
    private const double BatchNormMomentum = 0.1;
    private const int SequenceChannels = 128;

    private static readonly (int In, int Out, int StrideHeight, int StrideWidth)[] ConvolutionBlocks =
    [
        (1, 32, 1, 1),
        (32, 48, 2, 2),
        (48, 64, 2, 2),
        (64, 96, 1, 1),
        (96, 96, 2, 1),
        (96, 128, 1, 1),
    ];

    private static readonly int[] TemporalDilations = [1, 2, 4];

    private readonly Sequential features;
    private readonly Sequential fold;
    private readonly ModuleList<Sequential> temporal;
    private readonly Dropout head_dropout;
    private readonly Conv2d head;

    /// <summary>Creates the network with fresh weights (seed them with <c>torch.random.manual_seed</c>).</summary>
    /// <param name="classCount">Outputs per time step: the CTC blank (class 0) and one per character of the alphabet.</param>
    /// <param name="dropoutRate">Dropout before the head, in [0, 1).</param>
    public LineRecognizerNetwork(int classCount, double dropoutRate = DefaultDropoutRate)
        : base(nameof(LineRecognizerNetwork))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if (!(dropoutRate >= 0 && dropoutRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropoutRate), dropoutRate, "The dropout rate must be in [0, 1).");
        ClassCount = classCount;
        DropoutRate = dropoutRate;

        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < ConvolutionBlocks.Length; i++)
        {
            var (input, output, strideHeight, strideWidth) = ConvolutionBlocks[i];
            blocks.Add(($"block{i}", Block(Conv2d(input, output, (3, 3), stride: (strideHeight, strideWidth), padding: (1, 1)), output)));
        }

        features = Sequential(blocks);
        fold = Block(Conv2d(128, SequenceChannels, (LineImageFormat.Height / 8, 1)), SequenceChannels);
        temporal = new ModuleList<Sequential>(TemporalDilations
            .Select(d => Block(Conv2d(SequenceChannels, SequenceChannels, (1, 3), padding: (0, d), dilation: (1, d)), SequenceChannels))
            .ToArray());
        head_dropout = Dropout(dropoutRate);
        head = Conv2d(SequenceChannels, classCount, (1, 1));
        RegisterComponents();

        using var noGrad = no_grad();
        foreach (var conv in modules().OfType<Conv2d>())
        {
            init.xavier_uniform_(conv.weight!);
            init.zeros_(conv.bias!);
        }
    }

    /// <summary>Outputs per time step: the blank and the alphabet.</summary>
    public int ClassCount { get; }

    /// <summary>Dropout before the head.</summary>
    public double DropoutRate { get; }

    /// <summary>
    /// The type the convolutions compute in: <see cref="ScalarType.Float32"/> (the default) or <see cref="ScalarType.BFloat16"/>
    /// for mixed precision, as <c>CharacterCnnNetwork.ComputeType</c>: weights stay float32 and are cast for each pass,
    /// BatchNorm keeps float32 statistics, and the logits come back as float32.
    /// </summary>
    public ScalarType ComputeType
    {
        get => computeType;
        set => computeType = PrecisionSupport.ComputeTypeOrThrow(value);
    }

    private ScalarType computeType = ScalarType.Float32;

    /// <summary>Maps <c>N×1×32×256</c> pixels to <c>N×T×ClassCount</c> float32 logits, <c>T = 64</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = computeType == ScalarType.Float32 ? input : input.to(computeType);
        foreach (var (_, block) in features.named_children())
            x = Block((Sequential)block, x);
        x = Block(fold, x);
        foreach (var block in temporal)
            x = x.add(Block(block, x), TorchScalars.One); // residual: the temporal layers refine the column features rather than replace them
        x = Convolve(head, head_dropout.forward(x)).to(ScalarType.Float32); // N×C×1×T
        return x.squeeze(2).permute(0, 2, 1).contiguous().MoveToOuterDisposeScope();
    }

    private Tensor Block(Sequential block, Tensor x)
    {
        foreach (var (_, layer) in block.named_children())
            x = layer is Conv2d conv ? Convolve(conv, x) : ((Module<Tensor, Tensor>)layer).forward(x);
        return x;
    }

    private Tensor Convolve(Conv2d conv, Tensor x) => computeType == ScalarType.Float32
        ? conv.forward(x)
        : nn.functional.conv2d(x, conv.weight!.to(computeType), conv.bias!.to(computeType), strides: conv.stride, padding: conv.padding!, dilation: conv.dilation);

    /// <summary>
    /// Replaces every BatchNorm layer's moving mean and variance by their exact averages over <paramref name="lines"/>
    /// (prepared lines as bytes, as the trainer holds them: <c>LineRows.PixelTensor</c>), with dropout off; left in evaluation mode.
    /// </summary>
    public void RecalibrateBatchNorm(Tensor lines, int batchSize) =>
        BatchNormStatistics.Recompute(this, lines, batchSize, batch => forward(LineRows.NetworkInput(batch)));

    /// <summary>
    /// Puts every BatchNorm layer in evaluation mode inside a training pass: it normalises with its running mean and variance
    /// and leaves them unchanged, while its scale and shift still get gradients. Called after <c>train()</c>, which undoes it.
    /// </summary>
    internal void FreezeBatchNormStatistics()
    {
        foreach (var norm in modules().OfType<BatchNorm2d>())
            norm.eval();
    }

    /// <summary>The layers in call order, for the ONNX export: the convolution blocks, the fold, the temporal blocks and the head.</summary>
    internal IEnumerable<(string Name, Conv2d Conv, BatchNorm2d? Norm, bool Residual)> Layers()
    {
        foreach (var (name, block) in features.named_children())
            yield return (name, Conv(block), Norm(block), false);
        yield return ("fold", Conv(fold), Norm(fold), false);
        int i = 0;
        foreach (var block in temporal)
            yield return ($"temporal{i++}", Conv(block), Norm(block), true);
        yield return ("head", head, null, false);
    }

    /// <summary>Trainable parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    private static Conv2d Conv(Module block) => block.named_children().Select(c => c.module).OfType<Conv2d>().Single();

    private static BatchNorm2d Norm(Module block) => block.named_children().Select(c => c.module).OfType<BatchNorm2d>().Single();

    private static Sequential Block(Conv2d conv, int channels) =>
        Sequential(("conv", conv), ("relu", ReLU()), ("bn", BatchNorm2d(channels, eps: BatchNormEpsilon, momentum: BatchNormMomentum)));
}
