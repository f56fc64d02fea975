using System.Globalization;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Training;

public sealed partial class CharacterCnnTrainer
{
    /// <summary>Default number of epochs.</summary>
    public const int DefaultEpochs = 15;

    /// <summary>
    /// Default time budget of the training loop: 28 minutes, so that the default run, with reading the data and
    /// exporting, ends within half an hour on a 2-core CPU without bfloat16 (where an epoch takes 140–170 seconds, so all
    /// <see cref="DefaultEpochs"/> take about 40 minutes; benchmarks/JOURNAL.md). A faster machine trains every epoch within it.
    /// </summary>
    public static readonly TimeSpan DefaultTimeBudget = TimeSpan.FromMinutes(28);

    /// <summary>Default mini-batch size.</summary>
    public const int DefaultBatchSize = 128;

    /// <summary>
    /// Default peak learning rate: 3e-3, three times Keras' Adam default; with warm-up and cosine decay the seed network
    /// under-trains at 1e-3 (ablation in benchmarks/README.md).
    /// </summary>
    public const double DefaultLearningRate = 3e-3;

    /// <summary>Default fraction of the training data held out for validation.</summary>
    public const double DefaultValidationFraction = 0.1;

    /// <summary>Default seed for weights, shuffling, dropout and the validation split.</summary>
    public const int DefaultSeed = 1;

    /// <summary>Default label column name.</summary>
    public const string DefaultLabelColumnName = CharacterFormat.LabelColumnName;

    /// <summary>Default pixel (feature) column name.</summary>
    public const string DefaultFeatureColumnName = CharacterFormat.PixelsColumnName;

    /// <summary>
    /// Everything <see cref="CharacterCnnTrainer"/> can be told, with the defaults Keras' <c>fit</c> and
    /// the published design use. Invalid values are all reported together when the trainer is created.
    /// </summary>
    public sealed class Options
    {
        /// <summary>The label column: string (the class name, e.g. "A") or key type.</summary>
        public string LabelColumnName { get; set; } = DefaultLabelColumnName;

        /// <summary>
        /// The image column: a vector of 1,024 <see cref="float"/> (1×32×32, row-major, ink bright on dark, usually in [0, 1]),
        /// or a 32×32 ML.NET image column (its grey levels are scaled to [0, 1]).
        /// </summary>
        public string FeatureColumnName { get; set; } = DefaultFeatureColumnName;

        /// <summary>Passes over the training data.</summary>
        public int Epochs { get; set; } = DefaultEpochs;

        /// <summary>Images per mini-batch.</summary>
        public int BatchSize { get; set; } = DefaultBatchSize;

        /// <summary>Initial learning rate.</summary>
        public double LearningRate { get; set; } = DefaultLearningRate;

        /// <summary>How the learning rate changes over epochs.</summary>
        public LearningRateSchedule LearningRateSchedule { get; set; } = LearningRateSchedule.CosineAnnealing;

        /// <summary>
        /// Epochs (fractions allowed) over which the rate rises linearly, batch by batch, from almost 0 to the schedule's
        /// rate; 0 turns warm-up off. Default 1: Adam's first steps, with BatchNorm statistics still settling, are the
        /// ones most likely to overshoot.
        /// </summary>
        public double LearningRateWarmupEpochs { get; set; } = 1;

        /// <summary>Factor applied by the step, exponential and plateau schedules, in (0, 1).</summary>
        public double LearningRateDecay { get; set; } = 0.1;

        /// <summary>Epochs between decays of <see cref="LearningRateSchedule.StepDecay"/>.</summary>
        public int LearningRateStepEpochs { get; set; } = 10;

        /// <summary>Epochs without improvement of <see cref="LearningRateMonitor"/> before <see cref="LearningRateSchedule.ReduceOnPlateau"/> decays.</summary>
        public int LearningRatePlateauPatience { get; set; } = 2;

        /// <summary>The metric <see cref="LearningRateSchedule.ReduceOnPlateau"/> watches.</summary>
        public TrainingMetric LearningRateMonitor { get; set; } = TrainingMetric.ValidationLoss;

        /// <summary>Floor of the cosine and plateau schedules.</summary>
        public double MinimumLearningRate { get; set; }

        /// <summary>The optimizer.</summary>
        public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

        /// <summary>
        /// Label smoothing of the cross-entropy loss, in [0, 1): the target puts 1 − ε on the true class and spreads ε over
        /// all classes. Default 0.1: look-alike classes (O/0, l/1/I) are partly ambiguous; with the ±10 augmentation it
        /// trains the model that reads real scans best in the recipe comparison (benchmarks/README.md).
        /// </summary>
        public double LabelSmoothing { get; set; } = 0.1;

        /// <summary>
        /// Draws every epoch afresh from each class equally (default true): <see cref="ImagesPerClassPerEpoch"/> images of
        /// each class, all of a class's images in turn before any repeats, shuffled together. Without it, frequent
        /// classes win the look-alike pairs (EMNIST has 5,000 O's for 200 Q's). False shuffles all rows once per epoch.
        /// </summary>
        public bool ClassBalancedSampling { get; set; } = true;

        /// <summary>Images drawn from each class per epoch with <see cref="ClassBalancedSampling"/>; null (default) takes the mean class size, so an epoch has as many images as the data.</summary>
        public int? ImagesPerClassPerEpoch { get; set; }

        /// <summary>
        /// Keep an exponential moving average of the weights and make it the trained model (default true, as Keras'
        /// <c>use_ema</c>): it averages away the noise of the last steps. The average starts when the learning-rate warm-up
        /// ends (until then it follows the weights). BatchNorm statistics are recomputed for the
        /// averaged weights (<see cref="RecalibrateBatchNorm"/>) before validation and export.
        /// </summary>
        public bool UseExponentialMovingAverage { get; set; } = true;

        /// <summary>Weight of the old average at each step (Keras' <c>ema_momentum</c>), in (0, 1); default 0.999. The first steps use less (min(decay, (1 + step) / (10 + step))), so the average does not start from the random weights.</summary>
        public double ExponentialMovingAverageDecay { get; set; } = 0.999;

        /// <summary>
        /// The number type of the training computation. <see cref="TrainingPrecision.Auto"/> (default) uses bfloat16 mixed
        /// precision where the CPU or GPU computes it natively, about twice as fast as float32 on such CPUs; the model is
        /// float32 either way.
        /// </summary>
        public TrainingPrecision Precision { get; set; } = TrainingPrecision.Auto;

        /// <summary>Run convolutions on channels-last (NHWC) tensors, oneDNN's native layout (default true); the results are the same up to rounding.</summary>
        public bool ChannelsLast { get; set; } = true;

        /// <summary>Momentum of <see cref="OptimizerKind.Sgd"/>, in [0, 1).</summary>
        public double Momentum { get; set; } = 0.9;

        /// <summary>L2 weight decay added by the optimizer (0 = none).</summary>
        public double WeightDecay { get; set; }

        /// <summary>Rate of the network's three dropout layers, in [0, 1).</summary>
        public double DropoutRate { get; set; } = CharacterCnnNetwork.DefaultDropoutRate;

        /// <summary>
        /// Keras-style BatchNormalization momentum in [0, 1) (Keras' default 0.99). Lower values let the moving
        /// statistics that inference uses follow the data faster, which matters for short runs on small data.
        /// </summary>
        public double BatchNormMomentum { get; set; } = CharacterCnnNetwork.DefaultBatchNormMomentum;

        /// <summary>
        /// After every epoch, replace BatchNorm's moving statistics by exact averages over up to
        /// <see cref="BatchNormCalibrationImages"/> training images (default true). Keras keeps the exponential moving
        /// averages; at momentum 0.99 they still carry much of their initial 0 / 1 after a few hundred steps, so a short
        /// run on small data validates and predicts far worse than it trains. Set false for Keras' behaviour exactly.
        /// </summary>
        public bool RecalibrateBatchNorm { get; set; } = true;

        /// <summary>Training images (spread evenly over the training set) that <see cref="RecalibrateBatchNorm"/> averages over; default 4,096.</summary>
        public int BatchNormCalibrationImages { get; set; } = 4096;

        /// <summary>
        /// Fraction of the training data held out (seeded shuffle) to validate on after every epoch, in [0, 1).
        /// Ignored when <see cref="ValidationData"/> is set; 0 trains on everything without validation.
        /// </summary>
        public double ValidationFraction { get; set; } = DefaultValidationFraction;

        /// <summary>Separate validation data with the same columns; when set, all of the training data is trained on.</summary>
        public IDataView? ValidationData { get; set; }

        /// <summary>Epochs without improvement of <see cref="EarlyStoppingMonitor"/> before training stops; null turns early stopping off.</summary>
        public int? EarlyStoppingPatience { get; set; }

        /// <summary>The metric early stopping watches.</summary>
        public TrainingMetric EarlyStoppingMonitor { get; set; } = TrainingMetric.ValidationLoss;

        /// <summary>The smallest change of the monitored metric that counts as an improvement.</summary>
        public double EarlyStoppingMinDelta { get; set; }

        /// <summary>With early stopping on, end with the weights of the best epoch rather than the last.</summary>
        public bool RestoreBestWeights { get; set; } = true;

        /// <summary>
        /// Online augmentation: when set, every training batch is randomly rotated, shifted, zoomed, sheared (and, if
        /// enabled, elastically distorted) on the tensor device before the forward pass, with a fresh perturbation every
        /// epoch drawn from the run's per-epoch seeded generator (so runs stay deterministic and resumable; the options'
        /// own <see cref="ImageAugmentationOptions.Seed"/> is not used). Validation data is never augmented.
        /// On by default with <see cref="ImageAugmentationOptions"/>'s defaults; null turns it off.
        /// </summary>
        public ImageAugmentationOptions? Augmentation { get; set; } = new();

        /// <summary>Seed for weights, validation split, shuffling and dropout: the same seed on the CPU gives the same weights.</summary>
        public int Seed { get; set; } = DefaultSeed;

        /// <summary>Where to train.</summary>
        public TrainingDevice Device { get; set; } = TrainingDevice.Auto;

        /// <summary>CPU threads libtorch may use; null keeps libtorch's choice (one per core).</summary>
        public int? NumberOfThreads { get; set; }

        /// <summary>
        /// Copies of the network that train side by side on the CPU, each with one thread on its share of every batch, their
        /// gradients summed before the one optimizer step (data parallelism, as DistributedDataParallel does across
        /// processes; each share normalises with its own BatchNorm statistics). A small network trains faster this way than
        /// with all threads on one copy. Null: one per thread (<see cref="NumberOfThreads"/>, or one per core), as long as
        /// each share of a batch keeps 32 images; 1 trains one network with all threads, as before; on a GPU always 1.
        /// </summary>
        public int? NumberOfReplicas { get; set; }

        /// <summary>
        /// A limit on the training loop's time (reading the data before it and exporting after it not counted): the
        /// first batches are timed, the epochs that fit are planned from that speed (at most <see cref="Epochs"/>), corrected
        /// after each epoch from the epochs' mean time, and logged, and the learning-rate schedule runs over them, so a user
        /// on any CPU gets a model in a known time. The default is
        /// <see cref="DefaultTimeBudget"/>; where it binds, the number of epochs depends on the machine's speed, so set
        /// null to train exactly <see cref="Epochs"/> epochs on every machine.
        /// </summary>
        /// <example>
        /// <code>
        /// var options = new CharacterCnnTrainer.Options { TimeBudget = TimeSpan.FromMinutes(25) };
        /// var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
        /// Console.WriteLine(model.History.Epochs.Count); // the epochs 25 minutes allowed on this machine
        /// </code>
        /// </example>
        public TimeSpan? TimeBudget { get; set; } = DefaultTimeBudget;

        /// <summary>
        /// A saved character model (zip) whose network weights training starts from instead of fresh ones: fine-tuning, as
        /// Keras' <c>load_weights</c> before <c>fit</c>. The new model keeps the base model's classes, in its order, so every
        /// training label must be one of them. Read when training starts; null (the default) starts from fresh weights.
        /// </summary>
        /// <example>
        /// <code>
        /// var options = new CharacterCnnTrainer.Options { BaseModel = PretrainedCharacterModel.OpenRead, Epochs = 6, LearningRate = 3e-4 };
        /// </code>
        /// </example>
        public Func<Stream>? BaseModel { get; set; }

        /// <summary>
        /// Directory for a checkpoint written after every epoch. When it already holds a checkpoint of the same run
        /// (the same options, <see cref="Epochs"/> aside, which may grow, and the same data, by row counts and hashes),
        /// training resumes after that checkpoint's epoch; a checkpoint of another run, one past <see cref="Epochs"/>, or
        /// one whose files fail their SHA-256 check is refused with a message that says what differs.
        /// </summary>
        public string? CheckpointDirectory { get; set; }

        /// <summary>Directory for TensorBoard event files (<c>train/</c> and <c>validation/</c>, as Keras' TensorBoard callback writes them).</summary>
        public string? LogDirectory { get; set; }

        /// <summary>Receives progress while training: batches, finished epochs, export.</summary>
        public IProgress<TrainingProgress>? Progress { get; set; }

        /// <summary>Cancels training between batches; the last checkpoint stays readable.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>Checks every value and throws one <see cref="ArgumentException"/> that lists all invalid ones.</summary>
        public void Validate()
        {
            var problems = new List<string>();
            void Check(bool valid, string name, object? value, string rule) => problems.Check(valid, name, value, rule);

            Check(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), LabelColumnName, "a column name is required");
            Check(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName, "a column name is required");
            Check(Epochs >= 1, nameof(Epochs), Epochs, "must be at least 1");
            Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
            Check(double.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), LearningRate, "must be a positive number");
            Check(Enum.IsDefined(LearningRateSchedule), nameof(LearningRateSchedule), LearningRateSchedule, "unknown schedule");
            bool decays = LearningRateSchedule is LearningRateSchedule.StepDecay or LearningRateSchedule.ExponentialDecay or LearningRateSchedule.ReduceOnPlateau;
            Check(!decays || (LearningRateDecay > 0 && LearningRateDecay < 1), nameof(LearningRateDecay), LearningRateDecay, "must be in (0, 1)");
            Check(LearningRateStepEpochs >= 1, nameof(LearningRateStepEpochs), LearningRateStepEpochs, "must be at least 1");
            Check(LearningRatePlateauPatience >= 0, nameof(LearningRatePlateauPatience), LearningRatePlateauPatience, "must be 0 or more");
            Check(Enum.IsDefined(LearningRateMonitor), nameof(LearningRateMonitor), LearningRateMonitor, "unknown metric");
            Check(double.IsFinite(MinimumLearningRate) && MinimumLearningRate >= 0 && MinimumLearningRate <= LearningRate,
                nameof(MinimumLearningRate), MinimumLearningRate, "must be in [0, LearningRate]");
            Check(Enum.IsDefined(Optimizer), nameof(Optimizer), Optimizer, "unknown optimizer");
            Check(Momentum >= 0 && Momentum < 1, nameof(Momentum), Momentum, "must be in [0, 1)");
            Check(double.IsFinite(WeightDecay) && WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be 0 or more");
            Check(DropoutRate >= 0 && DropoutRate < 1, nameof(DropoutRate), DropoutRate, "must be in [0, 1)");
            Check(BatchNormMomentum >= 0 && BatchNormMomentum < 1, nameof(BatchNormMomentum), BatchNormMomentum, "must be in [0, 1)");
            Check(BatchNormCalibrationImages >= 2, nameof(BatchNormCalibrationImages), BatchNormCalibrationImages, "must be 2 or more");
            Check(ValidationFraction >= 0 && ValidationFraction < 1, nameof(ValidationFraction), ValidationFraction, "must be in [0, 1)");
            Check(EarlyStoppingPatience is null or >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be 0 or more, or null to turn early stopping off");
            Check(Enum.IsDefined(EarlyStoppingMonitor), nameof(EarlyStoppingMonitor), EarlyStoppingMonitor, "unknown metric");
            Check(double.IsFinite(EarlyStoppingMinDelta) && EarlyStoppingMinDelta >= 0, nameof(EarlyStoppingMinDelta), EarlyStoppingMinDelta, "must be 0 or more");
            Check(Enum.IsDefined(Device), nameof(Device), Device, "unknown device");
            Check(double.IsFinite(LearningRateWarmupEpochs) && LearningRateWarmupEpochs >= 0, nameof(LearningRateWarmupEpochs), LearningRateWarmupEpochs, "must be 0 or more");
            Check(double.IsFinite(LabelSmoothing) && LabelSmoothing >= 0 && LabelSmoothing < 1, nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 1)");
            Check(ImagesPerClassPerEpoch is null or >= 1, nameof(ImagesPerClassPerEpoch), ImagesPerClassPerEpoch, "must be at least 1, or null for the mean class size");
            Check(ExponentialMovingAverageDecay > 0 && ExponentialMovingAverageDecay < 1, nameof(ExponentialMovingAverageDecay), ExponentialMovingAverageDecay, "must be in (0, 1)");
            Check(Enum.IsDefined(Precision), nameof(Precision), Precision, "unknown precision");
            Check(NumberOfThreads is null or >= 1, nameof(NumberOfThreads), NumberOfThreads, "must be at least 1, or null for libtorch's default");
            Check(TimeBudget is null || TimeBudget > TimeSpan.Zero, nameof(TimeBudget), TimeBudget, "must be positive, or null to train every epoch");
            Check(NumberOfReplicas is not { } replicas || (replicas >= 1 && replicas * 2 <= BatchSize), nameof(NumberOfReplicas), NumberOfReplicas,
                "must be at least 1 and at most half the BatchSize (BatchNorm needs two images per share), or null for one per core");

            bool validates = ValidationData is not null || ValidationFraction > 0;
            bool earlyStopsOnValidation = EarlyStoppingPatience is not null && IsValidationMetric(EarlyStoppingMonitor);
            Check(validates || !earlyStopsOnValidation, nameof(EarlyStoppingMonitor), EarlyStoppingMonitor,
                "watches validation data, but ValidationFraction is 0 and ValidationData is null");
            bool plateauOnValidation = LearningRateSchedule == LearningRateSchedule.ReduceOnPlateau && IsValidationMetric(LearningRateMonitor);
            Check(validates || !plateauOnValidation, nameof(LearningRateMonitor), LearningRateMonitor,
                "watches validation data, but ValidationFraction is 0 and ValidationData is null");

            if (Augmentation is not null)
                problems.AddRange(Augmentation.Problems().Select(p => $"{nameof(Augmentation)}.{p}"));

            problems.ThrowIfAny($"{nameof(CharacterCnnTrainer)} options", "Correct these values and create the trainer again.");
        }

        internal bool HasValidation => ValidationData is not null || ValidationFraction > 0;

        internal static bool IsValidationMetric(TrainingMetric metric) =>
            metric is TrainingMetric.ValidationLoss or TrainingMetric.ValidationAccuracy;

        internal static bool LowerIsBetter(TrainingMetric metric) =>
            metric is TrainingMetric.ValidationLoss or TrainingMetric.TrainingLoss;

    }
}
