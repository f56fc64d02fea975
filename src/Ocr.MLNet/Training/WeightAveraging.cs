using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>
/// The exponential moving average of a network's weights (<see cref="CharacterCnnTrainer.Options.UseExponentialMovingAverage"/>),
/// kept in a second network of the same shape on the same device. BatchNorm's running statistics are averaged too, so the
/// averaged network is usable as it is; the trainer recomputes them for the averaged weights when it recalibrates.
/// </summary>
internal sealed class WeightAveraging : IDisposable
{
    private readonly double decay;
    private readonly List<(Tensor Average, Tensor Live)> pairs;

    public WeightAveraging(CharacterCnnNetwork live, double decay, Device device)
    {
        this.decay = decay;
        Averaged = new CharacterCnnNetwork(live.ClassCount, live.DropoutRate, live.BatchNormMomentum)
        {
            ComputeType = live.ComputeType,
            ChannelsLast = live.ChannelsLast,
        };
        Averaged.to(device);
        Averaged.eval();
        var averages = Averaged.state_dict();
        pairs = live.state_dict()
            .Where(entry => entry.Value.is_floating_point())
            .Select(entry => (averages[entry.Key], entry.Value))
            .ToList();
        CopyFrom(live);
    }

    /// <summary>The averaged network (in evaluation mode); owned by this object.</summary>
    public CharacterCnnNetwork Averaged { get; }

    /// <summary>Starts the average at <paramref name="live"/>'s current weights and statistics.</summary>
    public void CopyFrom(CharacterCnnNetwork live)
    {
        using var noGrad = no_grad();
        foreach (var (average, source) in pairs)
            average.copy_(source);
    }

    /// <summary>Moves the average towards the live weights after optimizer step <paramref name="step"/> (1-based).</summary>
    public void Update(long step)
    {
        // TensorFlow's warm-up of the decay: early averages would otherwise be dominated by the random initial weights.
        double weight = Math.Min(decay, (1.0 + step) / (10.0 + step));
        using var noGrad = no_grad();
        using Scalar keep = weight, blend = 1 - weight; // held across the native calls (see ImageAugmenter.Augment)
        foreach (var (average, live) in pairs)
            average.mul_(keep).add_(live, alpha: blend);
    }

    public void Dispose() => Averaged.Dispose();
}
