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
/// <param name="Running">The epoch's loss and accuracy so far; reading them waits for the device.</param>
internal readonly record struct BatchEnd(int Epoch, int Batch, int Batches, RunningMetrics Running);

/// <summary>
/// The epoch's summed loss and correct count, kept on the device so a batch costs no host round trip; only a
/// callback that reads <see cref="Loss"/> or <see cref="Accuracy"/> waits for the device.
/// </summary>
internal sealed class RunningMetrics : IDisposable
{
    private readonly Tensor lossSum;
    private readonly Tensor correct;

    public RunningMetrics(Device device)
    {
        lossSum = zeros(1, dtype: float64, device: device);
        correct = zeros(1, dtype: int64, device: device);
    }

    /// <summary>Training images of the epoch seen so far.</summary>
    public long Seen { get; private set; }

    /// <summary>Mean loss over the images seen.</summary>
    public double Loss => lossSum.item<double>() / (double)Seen;

    /// <summary>Fraction of the images seen that were classified right.</summary>
    public double Accuracy => correct.item<long>() / (double)Seen;

    /// <summary>Adds a batch of <paramref name="length"/> images with mean loss <paramref name="loss"/>, <paramref name="right"/> of them classified right.</summary>
    public void Add(double loss, long right, long length, long seen)
    {
        lossSum.add_(loss * length);
        correct.add_(right);
        Seen = seen;
    }

    /// <summary>Adds a batch of <paramref name="length"/> items of which <paramref name="right"/> were read right (a line recognizer's exact fields).</summary>
    public void Add(Tensor loss, long right, long length, long seen)
    {
        using (no_grad())
        {
            lossSum.add_(loss.detach().to(float64) * length);
            correct.add_(right);
        }

        Seen = seen;
    }

    public void Dispose()
    {
        lossSum.Dispose();
        correct.Dispose();
    }
}
