namespace Ocr.MLNet.Training;

/// <summary>The learning rate of each epoch, one implementation per <see cref="LearningRateSchedule"/> value.</summary>
internal interface ILearningRateSchedule
{
    /// <summary>The rate for 1-based <paramref name="epoch"/>.</summary>
    /// <param name="epoch">The epoch about to start.</param>
    /// <param name="current">The state's rate: the previous epoch's, or the initial rate before the first.</param>
    double LearningRateFor(int epoch, double current);
}

/// <summary>Creates the schedule the options name.</summary>
internal static class LearningRateSchedules
{
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
    public double LearningRateFor(int epoch, double current) => initial;
}

/// <summary><see cref="LearningRateSchedule.StepDecay"/>: the initial rate times <c>decay</c> once per <c>stepEpochs</c> finished epochs.</summary>
internal sealed class StepDecaySchedule(double initial, double decay, int stepEpochs) : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double current) => initial * Math.Pow(decay, (epoch - 1) / stepEpochs);
}

/// <summary><see cref="LearningRateSchedule.ExponentialDecay"/>: the initial rate times <c>decay</c> per finished epoch.</summary>
internal sealed class ExponentialDecaySchedule(double initial, double decay) : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double current) => initial * Math.Pow(decay, epoch - 1);
}

/// <summary><see cref="LearningRateSchedule.CosineAnnealing"/>: half a cosine from the initial rate at epoch 1 to <c>minimum</c> at the last epoch.</summary>
internal sealed class CosineAnnealingSchedule(double initial, double minimum, int epochs) : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double current) =>
        minimum + ((initial - minimum) * 0.5 * (1 + Math.Cos(Math.PI * (epoch - 1) / Math.Max(1, epochs - 1))));
}

/// <summary>
/// <see cref="LearningRateSchedule.ReduceOnPlateau"/>: the rate carries over from epoch to epoch; the
/// <see cref="ReduceLearningRateOnPlateau"/> callback lowers it, as Keras' ReduceLROnPlateau does.
/// </summary>
internal sealed class ReduceOnPlateauSchedule : ILearningRateSchedule
{
    public double LearningRateFor(int epoch, double current) => current;
}
