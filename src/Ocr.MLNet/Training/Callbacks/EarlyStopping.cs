namespace Ocr.MLNet.Training;

/// <summary>
/// Keras' <c>EarlyStopping</c>: stops training when the monitored metric has not improved for more than
/// <c>patience</c> epochs, and optionally ends with the weights of the best epoch. Its counters are
/// <see cref="TrainingState.EarlyStopping"/>, so a checkpoint keeps them.
/// </summary>
/// <param name="monitor">The metric watched; an epoch without it (no validation data) is skipped.</param>
/// <param name="patience">Epochs without improvement that are tolerated.</param>
/// <param name="minDelta">The smallest change that counts as an improvement.</param>
/// <param name="restoreBestWeights">Keep a copy of the best epoch's weights and load it when training ends.</param>
/// <param name="info">Receives the log messages; null for none.</param>
internal sealed class EarlyStopping(TrainingMetric monitor, int patience, double minDelta, bool restoreBestWeights, Action<string>? info)
    : ITrainingCallback
{
    /// <summary>True when the network ends with the best epoch's weights.</summary>
    public bool RestoresBestWeights => restoreBestWeights;

    public void OnEpochEnd(TrainingState state, EpochMetrics metrics)
    {
        if (metrics.Get(monitor) is not double monitored)
            return;
        var watched = state.EarlyStopping;
        if (MonitoredMetric.Improves(monitored, watched.Best, monitor, minDelta))
        {
            watched.Best = monitored;
            watched.BestEpoch = metrics.Epoch;
            watched.EpochsWithoutImprovement = 0;
            if (restoreBestWeights)
                state.KeepBestWeights();
        }
        else if (++watched.EpochsWithoutImprovement > patience)
        {
            state.StopTraining = true;
            state.StopReason = $"early stopping: no improvement of {monitor} for {watched.EpochsWithoutImprovement} epochs";
        }
    }

    public void OnTrainEnd(TrainingState state)
    {
        if (restoreBestWeights && state.BestWeights is { } best && state.EarlyStopping.BestEpoch != state.Epoch)
        {
            state.ModelNetwork.load_state_dict(best);
            info?.Invoke($"Restored the weights of epoch {state.EarlyStopping.BestEpoch}, the best {monitor}.");
        }
    }
}
