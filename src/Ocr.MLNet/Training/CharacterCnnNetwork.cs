using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Ocr.MLNet.Training;

/// <summary>
/// CharacterCnn, a published Keras convolutional network for NIST SD19's 32×32 grey-scale characters: seven convolution
/// blocks (Conv → ReLU → BatchNorm, dropout after blocks 2 and 5), then Flatten → Dropout → Dense.
/// <see cref="Module{T,TResult}.forward"/> returns logits; apply softmax for probabilities.
/// </summary>
/// <remarks>
/// Matches Keras where the published design relies on its defaults: Glorot-uniform kernels with zero biases,
/// BatchNorm epsilon 1e-3 and momentum 0.99 (PyTorch momentum 0.01) unless configured, and "same" padding for the
/// stride-2 5×5 convolutions padded as TensorFlow does (one row/column before, two after).
/// </remarks>
public sealed class CharacterCnnNetwork : Module<Tensor, Tensor>, IRecalibratesBatchNorm
{
    /// <summary>Side of the square input image, in pixels.</summary>
    public const int InputSize = CharacterFormat.ImageSide;

    /// <summary>Number of classes after EMNIST's 62 → 47 merge.</summary>
    public const int DefaultClassCount = 47;

    /// <summary>Dropout rate at the three dropout layers unless configured.</summary>
    public const double DefaultDropoutRate = 0.4;

    /// <summary>Keras' BatchNormalization epsilon.</summary>
    public const double BatchNormEpsilon = 1e-3;

    /// <summary>Keras' BatchNormalization momentum: the weight of the old moving mean and variance at each step.</summary>
    public const double DefaultBatchNormMomentum = 0.99;

    private static readonly BlockSpec[] Blocks =
    [
        new(1, 32, 3, 1, false),
        new(32, 32, 3, 1, false),
        new(32, 32, 5, 2, true),
        new(32, 64, 3, 1, false),
        new(64, 64, 3, 1, false),
        new(64, 64, 5, 2, true),
        new(64, 128, 4, 1, false),
    ];

    private const int FlattenedFeatures = 128 * 2 * 2;

    private readonly Sequential features;
    private readonly Flatten flatten;
    private readonly Dropout head_dropout;
    private readonly Linear dense;

    /// <summary>Creates the network with freshly initialised weights (seed them with <c>torch.manual_seed</c>).</summary>
    /// <param name="classCount">Width of the dense head: one unit per class (at least 2).</param>
    /// <param name="dropoutRate">Rate of the three dropout layers, in [0, 1).</param>
    /// <param name="batchNormMomentum">
    /// Keras-style BatchNormalization momentum in [0, 1): moving statistics become
    /// <c>momentum × old + (1 − momentum) × batch</c> (PyTorch's momentum is 1 − this).
    /// </param>
    public CharacterCnnNetwork(int classCount = DefaultClassCount, double dropoutRate = DefaultDropoutRate,
        double batchNormMomentum = DefaultBatchNormMomentum)
        : base(nameof(CharacterCnnNetwork))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if (!(dropoutRate >= 0 && dropoutRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropoutRate), dropoutRate, "The dropout rate must be in [0, 1).");
        if (!(batchNormMomentum >= 0 && batchNormMomentum < 1))
            throw new ArgumentOutOfRangeException(nameof(batchNormMomentum), batchNormMomentum, "The BatchNorm momentum must be in [0, 1).");

        ClassCount = classCount;
        DropoutRate = dropoutRate;
        BatchNormMomentum = batchNormMomentum;

        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < Blocks.Length; i++)
            blocks.Add(($"block{i}", Blocks[i].Create(dropoutRate, 1 - batchNormMomentum)));
        features = Sequential(blocks);
        flatten = Flatten();
        head_dropout = Dropout(dropoutRate);
        dense = Linear(FlattenedFeatures, classCount);

        RegisterComponents();
        InitializeLikeKeras();
    }

    /// <summary>Number of output units (classes).</summary>
    public int ClassCount { get; }

    /// <summary>Rate of the three dropout layers.</summary>
    public double DropoutRate { get; }

    /// <summary>Keras-style BatchNormalization momentum.</summary>
    public double BatchNormMomentum { get; }

    /// <summary>
    /// The type the convolutions and the dense layer compute in: <see cref="ScalarType.Float32"/> (the default) or
    /// <see cref="ScalarType.BFloat16"/> for mixed precision. Weights stay float32 (the optimizer updates them; checkpoints
    /// and the ONNX export read them) and are cast for each pass; BatchNorm keeps float32 statistics and parameters, and the
    /// logits come back as float32, so softmax and the loss run in float32 — what PyTorch's autocast does.
    /// </summary>
    public ScalarType ComputeType
    {
        get => computeType;
        set => computeType = PrecisionSupport.ComputeTypeOrThrow(value);
    }

    /// <summary>
    /// Runs the convolutions on channels-last (NHWC-strided) activations and weights, the layout oneDNN computes in, so
    /// libtorch does not reorder every tensor before and after each convolution. The results are the same up to rounding.
    /// </summary>
    public bool ChannelsLast { get; set; }

    private ScalarType computeType = ScalarType.Float32;

    /// <summary>
    /// When set, dropout draws its masks from this generator instead of libtorch's default one, so replicas that train
    /// side by side on their own threads each keep a reproducible stream (see <see cref="DataParallelReplicas"/>).
    /// </summary>
    internal Generator? DropoutGenerator { get; set; }

    /// <summary>Maps a batch <c>N×1×32×32</c> of pixels to <c>N×ClassCount</c> float32 logits.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = ForwardFeatures(input);
        x = flatten.forward(x);
        x = Drop(head_dropout, x);
        x = computeType == ScalarType.Float32
            ? dense.forward(x)
            : nn.functional.linear(x, dense.weight!.to(computeType), dense.bias!.to(computeType)).to(ScalarType.Float32);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The seven convolution blocks, in <see cref="ComputeType"/> and <see cref="ChannelsLast"/> layout.</summary>
    private Tensor ForwardFeatures(Tensor input)
    {
        if (computeType == ScalarType.Float32 && !ChannelsLast && !training)
            return features.forward(input);

        var x = Layout(input.to(computeType));
        int blockIndex = 0;
        foreach (var (_, block) in features.named_children())
        {
            var spec = Blocks[blockIndex++];
            foreach (var (_, layer) in block.named_children())
            {
                x = layer switch
                {
                    Conv2d conv => nn.functional.conv2d(x, Layout(conv.weight!.to(computeType)), conv.bias!.to(computeType), strides: [spec.Stride, spec.Stride]),
                    Dropout dropout => Drop(dropout, x),
                    _ => ((Module<Tensor, Tensor>)layer).forward(x),
                };
            }
        }

        return x;
    }

    /// <summary>Inverted dropout as <paramref name="layer"/> does it, in training mode, with <see cref="DropoutGenerator"/>.</summary>
    private Tensor Drop(Dropout layer, Tensor x) => layer.training ? InvertedDropout(x, DropoutRate, DropoutGenerator) : x;

    /// <summary>
    /// Inverted dropout: each value is zeroed with probability <paramref name="rate"/> and the others are divided by
    /// 1 − rate, as <c>nn.Dropout</c> does in training, drawing from <paramref name="generator"/> (libtorch's default when
    /// null); the result keeps <paramref name="x"/>'s layout. The mask is a uniform draw compared with the keep rate,
    /// since libtorch's CPU <c>bernoulli_</c> draws several times slower than <c>uniform_</c> (benchmarks/JOURNAL.md).
    /// </summary>
    internal static Tensor InvertedDropout(Tensor x, double rate, Generator? generator)
    {
        if (rate == 0)
            return x;
        using Scalar keep = 1 - rate; // held across the native calls (see ImageAugmenter.Augment)
        return x * empty_like(x).uniform_(0, 1, generator).lt_(keep).div_(keep);
    }

    /// <summary>The same values with NHWC strides (TorchSharp has no memory_format; this permute round trip is its equivalent).</summary>
    private Tensor Layout(Tensor x) => ChannelsLast ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;

    /// <summary>
    /// Replaces every BatchNorm layer's moving mean and variance by their exact averages over <paramref name="images"/>:
    /// the statistics are reset, then accumulated as a cumulative average (PyTorch's <c>momentum = None</c>) over
    /// batches of <paramref name="batchSize"/> with dropout off, as inference will see the layers' inputs. Weights are
    /// not changed; the network is left in evaluation mode.
    /// </summary>
    /// <param name="images">Pixels, <c>N×1×32×32</c>, on the network's device.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    public void RecalibrateBatchNorm(Tensor images, int batchSize) =>
        BatchNormStatistics.Recompute(this, images, batchSize, batch => ForwardFeatures(batch));

    /// <summary>
    /// Lists every layer with its output shape and parameter count, like Keras' <c>model.summary()</c>,
    /// by running one zero image through the network in evaluation mode.
    /// </summary>
    public ModelSummary Summarize()
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var device = dense.weight!.device;
            var x = zeros([1, 1, InputSize, InputSize], device: device);
            var rows = new List<LayerSummary>();
            var counters = new Dictionary<string, int>();

            foreach (var (_, block) in features.named_children())
            {
                foreach (var (_, layer) in block.named_children())
                {
                    x = ((Module<Tensor, Tensor>)layer).forward(x);
                    string? kind = layer switch
                    {
                        TorchSharp.Modules.Conv2d => "Conv2D",
                        TorchSharp.Modules.BatchNorm2d => "BatchNormalization",
                        TorchSharp.Modules.Dropout => "Dropout",
                        _ => null, // padding and ReLU belong to the convolution row, as in Keras
                    };
                    if (kind is not null)
                        rows.Add(Row(kind, layer, x, counters));
                }
            }

            x = flatten.forward(x);
            rows.Add(Row("Flatten", flatten, x, counters));
            x = head_dropout.forward(x);
            rows.Add(Row("Dropout", head_dropout, x, counters));
            x = dense.forward(x);
            rows.Add(Row("Dense", dense, x, counters));
            return new ModelSummary(rows);
        }
        finally
        {
            train(wasTraining);
        }
    }

    private static LayerSummary Row(string kind, Module layer, Tensor output, Dictionary<string, int> counters)
    {
        string baseName = kind switch
        {
            "Conv2D" => "conv2d",
            "BatchNormalization" => "batch_normalization",
            "Dropout" => "dropout",
            "Flatten" => "flatten",
            _ => "dense",
        };
        counters.TryGetValue(baseName, out int index);
        counters[baseName] = index + 1;
        string name = index == 0 ? baseName : $"{baseName}_{index}";

        long trainable = layer.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        // Keras counts BatchNorm's moving mean and variance; PyTorch's num_batches_tracked has no Keras twin.
        long nonTrainable = layer.named_buffers()
            .Where(b => b.name is "running_mean" or "running_var")
            .Sum(b => b.buffer.numel());
        long[] shape = output.shape.Skip(1).ToArray();
        return new LayerSummary(name, kind, shape, trainable, nonTrainable);
    }

    private void InitializeLikeKeras()
    {
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    init.xavier_uniform_(conv.weight!);
                    init.zeros_(conv.bias!);
                    break;
                case Linear linear:
                    init.xavier_uniform_(linear.weight!);
                    init.zeros_(linear.bias!);
                    break;
            }
        }
    }

    private sealed record BlockSpec(int InChannels, int OutChannels, int Kernel, int Stride, bool PaddedAndDropped)
    {
        public Sequential Create(double dropoutRate, double torchMomentum)
        {
            var layers = new List<(string, Module<Tensor, Tensor>)>();
            if (PaddedAndDropped)
            {
                // TensorFlow's "same" for a 5×5 kernel at stride 2 on even input: 1 before, 2 after.
                layers.Add(("pad", ZeroPad2d((1, 2, 1, 2))));
            }

            layers.Add(("conv", Conv2d(InChannels, OutChannels, Kernel, stride: Stride)));
            layers.Add(("relu", ReLU(inplace: true))); // in place on the convolution's output, which its backward does not need
            layers.Add(("bn", BatchNorm2d(OutChannels, eps: BatchNormEpsilon, momentum: torchMomentum)));
            if (PaddedAndDropped)
                layers.Add(("dropout", Dropout(dropoutRate)));
            return Sequential(layers);
        }
    }
}
