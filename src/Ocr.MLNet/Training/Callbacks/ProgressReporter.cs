namespace Ocr.MLNet.Training;

/// <summary>
/// Reports the run to <see cref="CharacterCnnTrainer.Options.Progress"/> (about a hundred times per epoch, before
/// validation, and per finished epoch) and logs each epoch's line as Keras prints it.
/// </summary>
/// <param name="progress">Receives the reports; null for none.</param>
/// <param name="info">Receives the epoch lines; null for none.</param>
/// <param name="epochs">Epochs planned.</param>
internal sealed class ProgressReporter(IProgress<TrainingProgress>? progress, Action<string>? info, int epochs) : ITrainingCallback
{
    /// <summary>Epochs planned; a time budget changes it once the first batches are timed.</summary>
    public int Epochs { get; set; } = epochs;

    public void OnBatchEnd(TrainingState state, BatchEnd batch)
    {
        if (progress is null)
            return;
        int reportEvery = Math.Max(1, batch.Batches / 100);
        if (batch.Batch % reportEvery == 0 || batch.Batch == batch.Batches)
            Report(TrainingPhase.Training, batch.Epoch, batch.Batch, batch.Batches, batch.Running.Loss, batch.Running.Accuracy, null);
    }

    public void OnValidationBegin(TrainingState state, int epoch, (double Loss, double Accuracy) training) =>
        Report(TrainingPhase.Validating, epoch, state.BatchesPerEpoch, state.BatchesPerEpoch, training.Loss, training.Accuracy, null);

    public void OnEpochEnd(TrainingState state, EpochMetrics metrics)
    {
        info?.Invoke(metrics + (state.StopReason is { } reason ? $" — {reason}" : ""));
        Report(TrainingPhase.EpochCompleted, metrics.Epoch, state.BatchesPerEpoch, state.BatchesPerEpoch,
            metrics.TrainingLoss, metrics.TrainingAccuracy, metrics);
    }

    private void Report(TrainingPhase phase, int epoch, int batch, int batches, double loss, double accuracy, EpochMetrics? metrics) =>
        progress?.Report(new TrainingProgress(phase, epoch, Epochs, batch, batches, loss, accuracy, metrics));
}
