using System.Diagnostics;
using System.Globalization;

namespace Ocr.MLNet.Training;

/// <summary>
/// Turns a training time budget into a number of epochs: the first batches of the run's first epoch are timed (after a
/// few untimed ones, while oneDNN builds its kernels and the allocator warms up), and the epochs that fit are fixed from
/// that speed, with each epoch's validation and end-of-epoch work counted as a tenth more. The schedule then runs over
/// those epochs. Both training loops also correct the plan from the finished epochs' mean time (<see cref="Correct"/>):
/// the first batches of a run are slower than the rest, so the probe alone plans too few.
/// </summary>
/// <param name="budget">The time the run may take, counted from this object's creation.</param>
/// <param name="maximumEpochs">The options' epochs: a budget never trains more.</param>
/// <param name="info">Receives the decision as a log line.</param>
internal sealed class TrainingTimeBudget(TimeSpan budget, int maximumEpochs, Action<string> info)
{
    /// <summary>Batches left untimed at the start before the probe.</summary>
    public const int WarmupBatches = 5;

    /// <summary>Batches timed to fix the number of epochs.</summary>
    public const int ProbeBatches = 20;

    /// <summary>Validation, BatchNorm recalibration and checkpoints, as a share of an epoch's training batches.</summary>
    private const double EpochOverhead = 0.1;

    private readonly Stopwatch probe = new();
    private readonly Stopwatch run = Stopwatch.StartNew();

    /// <summary>The budget.</summary>
    public TimeSpan Budget => budget;

    /// <summary>
    /// Call after every batch of the first epoch this run trains (0-based <paramref name="batch"/>); returns the epochs in
    /// all once the probe's last batch is done, null before and after it.
    /// </summary>
    /// <param name="batch">The batch just finished, 0-based.</param>
    /// <param name="batchesPerEpoch">Batches in an epoch.</param>
    /// <param name="epochsDone">Epochs already trained before this run (a resumed checkpoint's), 0 for a new run.</param>
    public int? AfterFirstEpochBatch(int batch, int batchesPerEpoch, int epochsDone)
    {
        if (batch == WarmupBatches - 1)
            probe.Restart();
        if (batch != WarmupBatches + ProbeBatches - 1)
            return null;
        double perEpoch = probe.Elapsed.TotalSeconds / ProbeBatches * batchesPerEpoch * (1 + EpochOverhead);
        int epochs = Math.Clamp(epochsDone + (int)((budget - run.Elapsed).TotalSeconds / perEpoch), epochsDone + 1, maximumEpochs);
        info(string.Create(CultureInfo.InvariantCulture,
            $"Time budget {budget}: about {perEpoch:F0} s per epoch at the first batches' speed, so {epochs} epoch(s) of the {maximumEpochs} asked."));
        return epochs;
    }

    /// <summary>
    /// The epochs the budget still allows at <paramref name="secondsPerEpoch"/> (never fewer than are done): the probe's
    /// guess corrected by whole epochs, against the time since this object was made.
    /// </summary>
    /// <param name="secondsPerEpoch">The mean time of this run's finished epochs.</param>
    /// <param name="epochsDone">Epochs finished in all.</param>
    /// <param name="planned">The epochs planned so far.</param>
    public int Correct(double secondsPerEpoch, int epochsDone, int planned)
    {
        var elapsed = run.Elapsed;
        int epochs = Math.Clamp(epochsDone + (int)Math.Floor((budget - elapsed).TotalSeconds / secondsPerEpoch), epochsDone, maximumEpochs);
        if (epochs != planned)
        {
            info(string.Create(CultureInfo.InvariantCulture,
                $"Time budget {budget}: {elapsed.TotalSeconds:F0} s so far, so {epochs} epoch(s) in all (was {planned})."));
        }

        return epochs;
    }
}
