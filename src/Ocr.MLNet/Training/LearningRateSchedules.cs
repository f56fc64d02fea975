namespace Ocr.MLNet.Training;

/// <summary>The learning rate of each batch, one implementation per <see cref="LearningRateSchedule"/> value.</summary>
internal interface ILearningRateSchedule
{
    /// <summary>The rate for the batch at <paramref name="epochProgress"/> of 1-based <paramref name="epoch"/>.</summary>
    /// <param name="epoch">The epoch the batch belongs to.</param>
    /// <param name="epochProgress">Batches of the epoch done before this one, over the epoch's batches: in [0, 1).</param>
    /// <param name="current">The state's rate: the previous epoch's, or the initial rate before the first.</param>
    double LearningRateFor(int epoch, double epochProgress, double current);
}

/// <summary>Creates the schedule the options name.</summary>
internal static class LearningRateSchedules
{
    /// <summary>
    /// The linear warm-up factor of the batch after <paramref name="batchesDone"/> batches, over
    /// <paramref name="warmupBatches"/> batches: (done + 1) / warm-up, so the first batch trains at a small positive rate; 1 after warm-up.
    /// </summary>
    public static double WarmupFactor(long batchesDone, double warmupBatches) =>
        warmupBatches <= 0 ? 1 : Math.Min(1, (batchesDone + 1) / warmupBatches);

    public static ILearningRateSchedule Create(CharacterCnnTrainer.Options options) => options.LearningRateSchedule switch
    {
        LearningRateSchedule.StepDecay => new StepDecaySchedule(options.LearningRate, options.LearningRateDecay, options.LearningRateStepEpochs),
        LearningRateSchedule.ExponentialDecay => new ExponentialDecaySchedule(options.LearningRate, options.LearningRateDecay),
        LearningRateSchedule.CosineAnnealing => new CosineAnnealingSchedule(options.LearningRate, options.MinimumLearningRate, options.Epochs),
        LearningRateSchedule.ReduceOnPlateau => new ReduceOnPlateauSchedule(),
        _ => new ConstantSchedule(options.LearningRate),
    };
}

/// <summary><see cref="LearningRateSchedule.Constant"/>: the initial rate every epoch.</summary>
internal sealed class ConstantSchedule(double initial) : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double epochProgress, double current) => initial;
}

/// <summary><see cref="LearningRateSchedule.StepDecay"/>: the initial rate times <c>decay</c> once per <c>stepEpochs</c> finished epochs.</summary>
internal sealed class StepDecaySchedule(double initial, double decay, int stepEpochs) : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double epochProgress, double current) => initial * Math.Pow(decay, (epoch - 1) / stepEpochs);
}

/// <summary><see cref="LearningRateSchedule.ExponentialDecay"/>: the initial rate times <c>decay</c> per finished epoch.</summary>
internal sealed class ExponentialDecaySchedule(double initial, double decay) : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double epochProgress, double current) => initial * Math.Pow(decay, epoch - 1);
}

/// <summary>
/// <see cref="LearningRateSchedule.CosineAnnealing"/>: half a cosine over the whole run, batch by batch, from the initial rate
/// at the first batch towards <c>minimum</c>, which it would reach just after the last batch.
/// </summary>
internal sealed class CosineAnnealingSchedule(double initial, double minimum, int epochs) : ILearningRateSchedule
{
    /// <summary>The run's length; a time budget sets it once the first batches are timed.</summary>
    public int Epochs { get; set; } = epochs;

    public double LearningRateFor(int epoch, double epochProgress, double current) =>
        minimum + ((initial - minimum) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, (epoch - 1 + epochProgress) / Epochs))));
}

/// <summary>
/// <see cref="LearningRateSchedule.ReduceOnPlateau"/>: the rate carries over from epoch to epoch; the
/// <see cref="ReduceLearningRateOnPlateau"/> callback lowers it, as Keras' ReduceLROnPlateau does.
/// </summary>
internal sealed class ReduceOnPlateauSchedule : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double epochProgress, double current) => current;
}
