using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>
/// What a run knows while it trains (the character network's or the line recognizer's): the network and optimizer it updates, the epoch and step it has reached,
/// the learning rate, the history so far and the stop flag. The loop and its callbacks share it; a checkpoint is
/// made from it and restored into it (<see cref="TrainingCheckpoint"/>), but it is not the on-disk format.
/// </summary>
internal sealed class TrainingState
{
    public TrainingState(nn.Module<Tensor, Tensor> network, OptimizerHelper optimizer, IReadOnlyList<string> classNames,
        int batchesPerEpoch, double learningRate)
    {
        Network = network;
        Optimizer = optimizer;
        ClassNames = classNames.ToArray();
        BatchesPerEpoch = batchesPerEpoch;
        LearningRate = learningRate;
    }

    /// <summary>The network being trained, on the training device.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>The moving average of <see cref="Network"/>'s weights, when the run keeps one; owned by the loop.</summary>
    public WeightAveraging? Averaging { get; init; }

    /// <summary>The network that becomes the model: the averaged one when the run keeps an average, else <see cref="Network"/>.</summary>
    public nn.Module<Tensor, Tensor> ModelNetwork => Averaging?.Averaged ?? Network;

    /// <summary>The optimizer that updates <see cref="Network"/>.</summary>
    public OptimizerHelper Optimizer { get; }

    /// <summary>The classes, in the order of the network's outputs.</summary>
    public string[] ClassNames { get; }

    /// <summary>Training batches (optimizer steps) in one epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The last finished epoch (0 before the first).</summary>
    public int Epoch { get; set; }

    /// <summary>Optimizer steps taken so far, those of resumed epochs included.</summary>
    public long Step { get; set; }

    /// <summary>The rate of the last epoch, or the one the next epoch starts from under the plateau schedule.</summary>
    public double LearningRate { get; set; }

    /// <summary>Metrics of the finished epochs, resumed ones included.</summary>
    public List<EpochMetrics> History { get; } = [];

    /// <summary>The data part of the run's fingerprint (<see cref="RunFingerprint.OfData"/>), which checkpoints record; null when unknown.</summary>
    public IReadOnlyDictionary<string, string>? DataFingerprint { get; set; }

    /// <summary>The epoch of the checkpoint this run resumed from, or 0.</summary>
    public int ResumedAfterEpoch { get; set; }

    /// <summary>Set by a callback to end training after the current epoch (Keras' <c>model.stop_training</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>Why <see cref="StopTraining"/> was set in this run, for the epoch's log line; null when it was not.</summary>
    public string? StopReason { get; set; }

    // The watched metrics live here, not in their callbacks, so a checkpoint carries them through a run whose
    // options turn the callback off, as the single checkpoint object always did.

    /// <summary>What early stopping has seen of its metric.</summary>
    public MonitoredMetric EarlyStopping { get; } = new();

    /// <summary>What the plateau schedule has seen of its metric.</summary>
    public MonitoredMetric Plateau { get; } = new();

    /// <summary>A copy of the weights of the best epoch so far, when early stopping keeps one; owned by this state.</summary>
    public Dictionary<string, Tensor>? BestWeights { get; private set; }

    /// <summary>Replaces <see cref="BestWeights"/> by a copy of the model network's current weights.</summary>
    public void KeepBestWeights() => KeepBestWeights(ModelNetwork);

    /// <summary>Replaces <see cref="BestWeights"/> by a copy of <paramref name="network"/>'s weights (a checkpoint's best network).</summary>
    public void KeepBestWeights(nn.Module network)
    {
        DisposeBestWeights(); // before the copy, so two copies never coexist
        BestWeights = CloneWeights(network);
    }

    /// <summary>Frees <see cref="BestWeights"/>.</summary>
    public void DisposeBestWeights()
    {
        if (BestWeights is null)
            return;
        foreach (var tensor in BestWeights.Values)
            tensor.Dispose();
        BestWeights = null;
    }

    /// <summary>The public history of the run.</summary>
    /// <param name="bestEpoch">The epoch whose weights the network ends with, when best weights are restored.</param>
    public TrainingHistory ToHistory(int? bestEpoch) => new(History.ToArray(), bestEpoch, StopTraining, ResumedAfterEpoch);

    private static Dictionary<string, Tensor> CloneWeights(nn.Module network)
    {
        using var noGrad = no_grad();
        return network.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());
    }
}

/// <summary>The best value of a watched metric and the epochs since it last improved.</summary>
internal sealed class MonitoredMetric
{
    /// <summary>The best value so far, or null before the first epoch that had the metric.</summary>
    public double? Best { get; set; }

    /// <summary>The epoch of <see cref="Best"/> (kept by early stopping only).</summary>
    public int? BestEpoch { get; set; }

    /// <summary>Epochs since the metric last improved.</summary>
    public int EpochsWithoutImprovement { get; set; }

    /// <summary>True when <paramref name="value"/> beats <paramref name="best"/> by more than <paramref name="minDelta"/> in the metric's direction; the first value always does.</summary>
    public static bool Improves(double value, double? best, TrainingMetric metric, double minDelta) =>
        best is not double b || (CharacterCnnTrainer.Options.LowerIsBetter(metric) ? value < b - minDelta : value > b + minDelta);
}
