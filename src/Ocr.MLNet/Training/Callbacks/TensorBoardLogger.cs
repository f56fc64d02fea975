using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>
/// Writes each epoch's metrics as TensorBoard scalars into <c>train/</c> and <c>validation/</c>, laid out as Keras'
/// TensorBoard callback does, so runs compare per epoch.
/// </summary>
/// <param name="directory">The log directory.</param>
/// <param name="hasValidation">Whether to write the <c>validation/</c> run.</param>
internal sealed class TensorBoardLogger(string directory, bool hasValidation) : ITrainingCallback
{
    private SummaryWriter? train;
    private SummaryWriter? validation;

    public void OnTrainBegin(TrainingState state)
    {
        // SummaryWriter writes each event as it is added; there is nothing to flush or close later.
        train = utils.tensorboard.SummaryWriter(Path.Combine(directory, "train"));
        validation = hasValidation ? utils.tensorboard.SummaryWriter(Path.Combine(directory, "validation")) : null;
    }

    public void OnEpochEnd(TrainingState state, EpochMetrics metrics)
    {
        if (train is null)
            return;
        int step = metrics.Epoch;
        train.add_scalar("epoch_loss", (float)metrics.TrainingLoss, step);
        train.add_scalar("epoch_accuracy", (float)metrics.TrainingAccuracy, step);
        train.add_scalar("epoch_learning_rate", (float)metrics.LearningRate, step);
        if (validation is not null && metrics.ValidationLoss is double loss && metrics.ValidationAccuracy is double accuracy)
        {
            validation.add_scalar("epoch_loss", (float)loss, step);
            validation.add_scalar("epoch_accuracy", (float)accuracy, step);
        }
    }
}
