using System.Globalization;

namespace Ocr.MLNet.Training;

/// <summary>
/// Training stopped because a batch's loss was not finite (NaN or infinity): the weights have diverged, usually from
/// a learning rate that is too high. The network was not updated with that batch, and no checkpoint of the diverged
/// state was written, so a checkpoint directory keeps the last finished epoch.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception for the batch whose loss was <paramref name="loss"/>.</summary>
    /// <param name="epoch">The epoch (from 1) of the batch.</param>
    /// <param name="batch">The batch (from 1) within the epoch.</param>
    /// <param name="batches">Batches in one epoch.</param>
    /// <param name="loss">The non-finite loss.</param>
    /// <param name="learningRate">The learning rate of the epoch.</param>
    public TrainingDivergedException(int epoch, int batch, int batches, double loss, double learningRate)
        : this(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged: the loss of epoch {epoch}, batch {batch} of {batches} is {loss}. The network was not updated with it and no checkpoint of it was written. ")
            + Advice(learningRate), epoch, batch, loss)
    {
    }

    private TrainingDivergedException(string message, int epoch, int batch, double loss)
        : base(message)
    {
        Epoch = epoch;
        Batch = batch;
        Loss = loss;
    }

    /// <summary>The exception for weights that became NaN or infinite in the last step of an epoch, whose losses were all finite.</summary>
    internal static TrainingDivergedException ForWeights(int epoch, int batches, string parameter, double learningRate) => new(
        string.Create(CultureInfo.InvariantCulture,
            $"Training diverged: after batch {batches} of {batches} of epoch {epoch} the network's parameter '{parameter}' holds NaN or infinity. No checkpoint of it was written. ")
            + Advice(learningRate), epoch, batches, double.NaN);

    private static string Advice(double learningRate) => string.Create(CultureInfo.InvariantCulture,
        $"Lower the learning rate (now {learningRate}; e.g. ten times lower) and train again; a checkpoint directory still holds the last finished epoch.");

    /// <summary>The epoch (from 1) of the batch whose loss was not finite.</summary>
    public int Epoch { get; }

    /// <summary>The batch (from 1) within <see cref="Epoch"/> whose loss was not finite.</summary>
    public int Batch { get; }

    /// <summary>The non-finite loss (NaN or infinity); NaN when the loss was finite but the step left non-finite weights.</summary>
    public double Loss { get; }
}
