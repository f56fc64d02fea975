using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>
/// Hooks into <see cref="TrainingLoop"/>, in the spirit of Keras' <c>Callback</c> and Lightning's callbacks: the
/// loop owns the order of events and calls every callback, in list order, at each. Every hook does nothing unless
/// implemented.
/// </summary>
/// <remarks>
/// Per epoch: <see cref="OnEpochBegin"/>, <see cref="OnBatchEnd"/> per batch, <see cref="OnTrainingBatchesEnd"/>,
/// <see cref="OnValidationBegin"/> (with validation data only), <see cref="OnEpochEnd"/>; around them
/// <see cref="OnTrainBegin"/> and <see cref="OnTrainEnd"/> (not called when training throws).
/// </remarks>
internal interface ITrainingCallback
{
    /// <summary>Before the first epoch, after any resume.</summary>
    void OnTrainBegin(TrainingState state)
    {
    }

    /// <summary>The epoch's learning rate is set and its generator seeded; no batch has run.</summary>
    void OnEpochBegin(TrainingState state, int epoch)
    {
    }

    /// <summary>After each training batch's optimizer step.</summary>
    void OnBatchEnd(TrainingState state, BatchEnd batch)
    {
    }

    /// <summary>After the epoch's last training batch, before validation; may change the network (BatchNorm statistics).</summary>
    void OnTrainingBatchesEnd(TrainingState state, int epoch)
    {
    }

    /// <summary>Before the validation data is scored; <paramref name="training"/> holds the epoch's training loss and accuracy.</summary>
    void OnValidationBegin(TrainingState state, int epoch, (double Loss, double Accuracy) training)
    {
    }

    /// <summary>The epoch is finished and recorded: <see cref="TrainingState.Epoch"/>, history and learning rate are up to date.</summary>
    void OnEpochEnd(TrainingState state, EpochMetrics metrics)
    {
    }

    /// <summary>After the last epoch, or the one that set <see cref="TrainingState.StopTraining"/>.</summary>
    void OnTrainEnd(TrainingState state)
    {
    }
}

/// <summary>A finished training batch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Batch">Batches done in this epoch (1-based number of this one).</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Running">The epoch's loss and accuracy so far.</param>
internal readonly record struct BatchEnd(int Epoch, int Batch, int Batches, RunningMetrics Running);

/// <summary>
/// The epoch's summed loss and correct count. The loops read each batch's loss on the host anyway (they check it is
/// finite before the step), so the sums are plain numbers.
/// </summary>
internal sealed class RunningMetrics
{
    private double lossSum;
    private long correct;

    /// <summary>Training images of the epoch seen so far.</summary>
    public long Seen { get; private set; }

    /// <summary>Mean loss over the images seen.</summary>
    public double Loss => lossSum / Seen;

    /// <summary>Fraction of the images seen that were classified right (a line recognizer: read exactly).</summary>
    public double Accuracy => correct / (double)Seen;

    /// <summary>Adds a batch of <paramref name="length"/> items with mean loss <paramref name="loss"/>, <paramref name="right"/> of them right.</summary>
    public void Add(double loss, long right, long length, long seen)
    {
        lossSum += loss * length;
        correct += right;
        Seen = seen;
    }
}
