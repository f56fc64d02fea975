namespace Ocr.MLNet.Training;

/// <summary>
/// Keras' <c>ReduceLROnPlateau</c>: multiplies <see cref="TrainingState.LearningRate"/> by <c>decay</c> (not below
/// <c>minimum</c>) when the monitored metric has not improved for more than <c>patience</c> epochs; the
/// <see cref="ReduceOnPlateauSchedule"/> then hands the lowered rate to the next epoch. Its counters are
/// <see cref="TrainingState.Plateau"/>, so a checkpoint keeps them.
/// </summary>
/// <param name="monitor">The metric watched; an epoch without it is skipped.</param>
/// <param name="patience">Epochs without improvement that are tolerated.</param>
/// <param name="decay">Factor in (0, 1).</param>
/// <param name="minimum">Floor of the rate.</param>
/// <param name="info">Receives the log messages; null for none.</param>
internal sealed class ReduceLearningRateOnPlateau(TrainingMetric monitor, int patience, double decay, double minimum, Action<string>? info)
    : ITrainingCallback
{
    public void OnEpochEnd(TrainingState state, EpochMetrics metrics)
    {
        if (metrics.Get(monitor) is not double value)
            return;
        var watched = state.Plateau;
        if (MonitoredMetric.Improves(value, watched.Best, monitor, 0))
        {
            watched.Best = value;
            watched.EpochsWithoutImprovement = 0;
        }
        else if (++watched.EpochsWithoutImprovement > patience)
        {
            double reduced = Math.Max(minimum, state.LearningRate * decay);
            if (reduced < state.LearningRate)
                info?.Invoke($"Reducing the learning rate to {reduced:G3}: {monitor} has not improved for {watched.EpochsWithoutImprovement} epochs.");
            state.LearningRate = reduced;
            watched.EpochsWithoutImprovement = 0;
        }
    }
}
