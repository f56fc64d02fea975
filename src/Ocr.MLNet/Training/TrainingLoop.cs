using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Training;

/// <summary>
/// The TorchSharp training loop: the whole training set lives in one tensor and each batch is an
/// index_select of it, so there is no per-sample managed work.
/// </summary>
internal sealed class TrainingLoop
{
    private readonly CharacterCnnTrainer.Options options;
    private readonly IChannel? log;
    private readonly ImageAugmenter? augmenter;

    public TrainingLoop(CharacterCnnTrainer.Options options, IChannel? log)
    {
        this.options = options;
        this.log = log;
        augmenter = options.Augmentation is { } augmentation ? new ImageAugmenter(augmentation) : null;
    }

    /// <summary>Trains a new network (or resumes one from the checkpoint directory) and returns it in evaluation mode on the CPU.</summary>
    public (CharacterCnnNetwork Network, TrainingHistory History) Run(LabeledImages train, LabeledImages? validation)
    {
        var device = ResolveDevice(options.Device);
        if (options.NumberOfThreads is int threads)
            set_num_threads(threads);

        var classNames = train.ClassNames.ToArray();
        random.manual_seed(options.Seed);
        var network = new CharacterCnnNetwork(classNames.Length, options.DropoutRate, options.BatchNormMomentum);
        network.to(device);
        using var optimizer = CreateOptimizer(network);

        var state = new TrainingCheckpoint
        {
            ClassNames = classNames,
            DropoutRate = options.DropoutRate,
            Seed = options.Seed,
            Optimizer = options.Optimizer.ToString(),
            LearningRate = options.LearningRate,
        };
        Dictionary<string, Tensor>? bestWeights = null;
        int resumedAfter = 0;

        if (options.CheckpointDirectory is { } checkpointDirectory && TrainingCheckpoint.TryLoad(checkpointDirectory) is { } loaded)
        {
            CheckCompatible(loaded.Checkpoint, state, checkpointDirectory);
            state = loaded.Checkpoint;
            network.load(Path.Combine(loaded.Folder, TrainingCheckpoint.WeightsFile));
            network.to(device);
            optimizer.load_state_dict(Path.Combine(loaded.Folder, TrainingCheckpoint.OptimizerFile));
            if (state.HasBestWeights)
            {
                using var best = new CharacterCnnNetwork(classNames.Length, options.DropoutRate, options.BatchNormMomentum);
                best.load(Path.Combine(loaded.Folder, TrainingCheckpoint.BestWeightsFile));
                bestWeights = CloneWeights(best);
            }

            resumedAfter = state.Epoch;
            Info($"Resuming from the checkpoint of epoch {state.Epoch} in '{checkpointDirectory}'.");
        }

        using var x = tensor(train.Pixels, [train.Count, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize]).to(device);
        using var y = tensor(train.Labels.Select(l => (long)l).ToArray(), [train.Count]).to(device);
        using var xValidation = validation is null ? null
            : tensor(validation.Pixels, [validation.Count, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize]).to(device);
        using var yValidation = validation is null ? null
            : tensor(validation.Labels.Select(l => (long)l).ToArray(), [validation.Count]).to(device);

        using var writers = options.LogDirectory is null ? null : new TensorBoardWriters(options.LogDirectory, validation is not null);
        int batches = (train.Count + options.BatchSize - 1) / options.BatchSize;
        bool earlyStopping = options.EarlyStoppingPatience is not null;

        for (int epoch = state.Epoch + 1; epoch <= options.Epochs && !state.StoppedEarly; epoch++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            double learningRate = LearningRateFor(epoch, state);
            SetLearningRate(optimizer, learningRate);
            var clock = Stopwatch.StartNew();

            // Seeding per epoch makes shuffling and dropout of epoch k independent of how the run got there, so a resumed run matches an uninterrupted one.
            random.manual_seed(EpochSeed(options.Seed, epoch));
            network.train();
            var (trainLoss, trainAccuracy) = TrainEpoch(network, optimizer, x, y, epoch, batches, device);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            if (options.RecalibrateBatchNorm)
                RecalibrateBatchNorm(network, x);

            double? validationLoss = null, validationAccuracy = null;
            if (xValidation is not null && yValidation is not null)
            {
                Report(TrainingPhase.Validating, epoch, batches, batches, trainLoss, trainAccuracy, null);
                (validationLoss, validationAccuracy) = Evaluate(network, xValidation, yValidation);
            }

            var metrics = new EpochMetrics(epoch, trainLoss, trainAccuracy, validationLoss, validationAccuracy, learningRate,
                clock.Elapsed, train.Count / Math.Max(trainSeconds, 1e-9));
            state.History.Add(metrics);
            state.Epoch = epoch;
            state.LearningRate = learningRate;

            if (earlyStopping && metrics.Get(options.EarlyStoppingMonitor) is double monitored)
            {
                if (Improves(monitored, state.BestMonitored, options.EarlyStoppingMonitor, options.EarlyStoppingMinDelta))
                {
                    state.BestMonitored = monitored;
                    state.BestEpoch = epoch;
                    state.EpochsWithoutImprovement = 0;
                    if (options.RestoreBestWeights)
                    {
                        DisposeWeights(bestWeights);
                        bestWeights = CloneWeights(network);
                        state.HasBestWeights = true;
                    }
                }
                else if (++state.EpochsWithoutImprovement > options.EarlyStoppingPatience)
                {
                    state.StoppedEarly = true;
                }
            }

            UpdatePlateau(metrics, state);
            writers?.Write(metrics);
            Info(metrics + (state.StoppedEarly ? $" — early stopping: no improvement of {options.EarlyStoppingMonitor} for {state.EpochsWithoutImprovement} epochs" : ""));
            Report(TrainingPhase.EpochCompleted, epoch, batches, batches, trainLoss, trainAccuracy, metrics);

            if (options.CheckpointDirectory is { } directory)
                SaveCheckpoint(directory, state, network, optimizer, bestWeights);
        }

        if (earlyStopping && options.RestoreBestWeights && bestWeights is not null && state.BestEpoch != state.Epoch)
        {
            network.load_state_dict(bestWeights);
            Info($"Restored the weights of epoch {state.BestEpoch}, the best {options.EarlyStoppingMonitor}.");
        }

        DisposeWeights(bestWeights);
        network.to(CPU);
        network.eval();
        var history = new TrainingHistory(state.History.ToArray(),
            earlyStopping && options.RestoreBestWeights ? state.BestEpoch : null, state.StoppedEarly, resumedAfter);
        return (network, history);
    }

    /// <summary>A seed for epoch <paramref name="epoch"/> derived from the run's seed.</summary>
    internal static long EpochSeed(int seed, int epoch) => (seed * 1_000_003L) + epoch;

    private (double Loss, double Accuracy) TrainEpoch(CharacterCnnNetwork network, OptimizerHelper optimizer, Tensor x, Tensor y,
        int epoch, int batches, Device device)
    {
        long count = x.shape[0];
        int batchSize = options.BatchSize;
        int reportEvery = Math.Max(1, batches / 100);
        using var order = randperm(count, device: device);
        using var lossSum = zeros(1, dtype: float64, device: device);
        using var correct = zeros(1, dtype: int64, device: device);

        for (int batch = 0; batch < batches; batch++)
        {
            if (options.CancellationToken.IsCancellationRequested)
                options.CancellationToken.ThrowIfCancellationRequested();

            using (NewDisposeScope())
            {
                long start = (long)batch * batchSize;
                long length = Math.Min(batchSize, count - start);
                var rows = order.narrow(0, start, length);
                var images = x.index_select(0, rows);
                if (augmenter is not null)
                    images = augmenter.Augment(images); // draws from the per-epoch seeded generator: a fresh perturbation every epoch
                var labels = y.index_select(0, rows);

                optimizer.zero_grad();
                var logits = network.forward(images);
                var loss = nn.functional.cross_entropy(logits, labels);
                loss.backward();
                optimizer.step();

                using (no_grad())
                {
                    lossSum.add_(loss.detach().to(float64) * length);
                    correct.add_(logits.argmax(1).eq(labels).sum());
                }
            }

            if (options.Progress is not null && ((batch + 1) % reportEvery == 0 || batch + 1 == batches))
            {
                double seen = Math.Min((long)(batch + 1) * batchSize, count);
                Report(TrainingPhase.Training, epoch, batch + 1, batches,
                    lossSum.item<double>() / seen, correct.item<long>() / seen, null);
            }
        }

        return (lossSum.item<double>() / count, correct.item<long>() / (double)count);
    }

    /// <summary>BatchNorm statistics averaged over up to <c>BatchNormCalibrationImages</c> training images, every k-th one so all classes are in.</summary>
    private void RecalibrateBatchNorm(CharacterCnnNetwork network, Tensor x)
    {
        using var scope = NewDisposeScope();
        long count = x.shape[0];
        long step = Math.Max(1, (count + options.BatchNormCalibrationImages - 1) / options.BatchNormCalibrationImages);
        var sample = step == 1 ? x : x.index_select(0, arange(0, count, step, dtype: ScalarType.Int64, device: x.device));
        network.RecalibrateBatchNorm(sample, Math.Max(options.BatchSize, 2));
    }

    /// <summary>Mean loss and accuracy in evaluation mode (no dropout, BatchNorm running statistics).</summary>
    internal (double Loss, double Accuracy) Evaluate(CharacterCnnNetwork network, Tensor x, Tensor y)
    {
        network.eval();
        using var noGrad = no_grad();
        long count = x.shape[0];
        double lossSum = 0;
        long correct = 0;
        int batchSize = Math.Max(options.BatchSize, 256);
        for (long start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(batchSize, count - start);
            var labels = y.narrow(0, start, length);
            var logits = network.forward(x.narrow(0, start, length));
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }

        return (lossSum / count, correct / (double)count);
    }

    private OptimizerHelper CreateOptimizer(CharacterCnnNetwork network) => options.Optimizer switch
    {
        OptimizerKind.Sgd => optim.SGD(network.parameters(), options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
        _ => optim.Adam(network.parameters(), options.LearningRate, weight_decay: options.WeightDecay),
    };

    private double LearningRateFor(int epoch, TrainingCheckpoint state)
    {
        double initial = options.LearningRate;
        return options.LearningRateSchedule switch
        {
            LearningRateSchedule.StepDecay => initial * Math.Pow(options.LearningRateDecay, (epoch - 1) / options.LearningRateStepEpochs),
            LearningRateSchedule.ExponentialDecay => initial * Math.Pow(options.LearningRateDecay, epoch - 1),
            LearningRateSchedule.CosineAnnealing => options.MinimumLearningRate
                + ((initial - options.MinimumLearningRate) * 0.5 * (1 + Math.Cos(Math.PI * (epoch - 1) / Math.Max(1, options.Epochs - 1)))),
            LearningRateSchedule.ReduceOnPlateau => state.LearningRate,
            _ => initial,
        };
    }

    private void UpdatePlateau(EpochMetrics metrics, TrainingCheckpoint state)
    {
        if (options.LearningRateSchedule != LearningRateSchedule.ReduceOnPlateau || metrics.Get(options.LearningRateMonitor) is not double value)
            return;
        if (Improves(value, state.PlateauBest, options.LearningRateMonitor, 0))
        {
            state.PlateauBest = value;
            state.PlateauEpochsWithoutImprovement = 0;
        }
        else if (++state.PlateauEpochsWithoutImprovement > options.LearningRatePlateauPatience)
        {
            double reduced = Math.Max(options.MinimumLearningRate, state.LearningRate * options.LearningRateDecay);
            if (reduced < state.LearningRate)
                Info($"Reducing the learning rate to {reduced:G3}: {options.LearningRateMonitor} has not improved for {state.PlateauEpochsWithoutImprovement} epochs.");
            state.LearningRate = reduced;
            state.PlateauEpochsWithoutImprovement = 0;
        }
    }

    private static bool Improves(double value, double? best, TrainingMetric metric, double minDelta) =>
        best is not double b || (CharacterCnnTrainer.Options.LowerIsBetter(metric) ? value < b - minDelta : value > b + minDelta);

    private static void SetLearningRate(OptimizerHelper optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = learningRate;
    }

    private static void SaveCheckpoint(string directory, TrainingCheckpoint state, CharacterCnnNetwork network,
        OptimizerHelper optimizer, Dictionary<string, Tensor>? bestWeights)
    {
        state.HasBestWeights = bestWeights is not null;
        state.Save(directory, folder =>
        {
            network.save(Path.Combine(folder, TrainingCheckpoint.WeightsFile));
            optimizer.save_state_dict(Path.Combine(folder, TrainingCheckpoint.OptimizerFile));
            if (bestWeights is not null)
            {
                using var best = new CharacterCnnNetwork(state.ClassNames.Length, state.DropoutRate);
                best.load_state_dict(bestWeights.ToDictionary(p => p.Key, p => p.Value.cpu()));
                best.save(Path.Combine(folder, TrainingCheckpoint.BestWeightsFile));
            }
        });
    }

    private static void CheckCompatible(TrainingCheckpoint found, TrainingCheckpoint wanted, string directory)
    {
        var problems = new List<string>();
        if (!found.ClassNames.SequenceEqual(wanted.ClassNames, StringComparer.Ordinal))
            problems.Add($"its classes are [{string.Join(" ", found.ClassNames)}], this data's are [{string.Join(" ", wanted.ClassNames)}]");
        if (found.DropoutRate != wanted.DropoutRate)
            problems.Add($"its dropout rate is {found.DropoutRate.ToString(CultureInfo.InvariantCulture)}, the options say {wanted.DropoutRate.ToString(CultureInfo.InvariantCulture)}");
        if (found.Optimizer != wanted.Optimizer)
            problems.Add($"its optimizer is {found.Optimizer}, the options say {wanted.Optimizer}");
        if (found.Seed != wanted.Seed)
            problems.Add($"its seed is {found.Seed}, the options say {wanted.Seed}");
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"The checkpoint in '{directory}' belongs to a different run: {string.Join("; ", problems)}. Use another CheckpointDirectory, or delete this one to start afresh.");
        }
    }

    private static Dictionary<string, Tensor> CloneWeights(CharacterCnnNetwork network)
    {
        using var noGrad = no_grad();
        return network.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());
    }

    private static void DisposeWeights(Dictionary<string, Tensor>? weights)
    {
        if (weights is null)
            return;
        foreach (var tensor in weights.Values)
            tensor.Dispose();
    }

    private static Device ResolveDevice(TrainingDevice device)
    {
        switch (device)
        {
            case TrainingDevice.Cuda when !cuda.is_available():
                throw new InvalidOperationException(
                    "Device = Cuda, but TorchSharp finds no CUDA GPU. Reference a TorchSharp CUDA backend package and check the driver, or use Device = Auto or Cpu.");
            case TrainingDevice.Cuda:
                return CUDA;
            case TrainingDevice.Auto when cuda.is_available():
                return CUDA;
            default:
                return CPU;
        }
    }

    private void Report(TrainingPhase phase, int epoch, int batch, int batches, double loss, double accuracy, EpochMetrics? metrics) =>
        options.Progress?.Report(new TrainingProgress(phase, epoch, options.Epochs, batch, batches, loss, accuracy, metrics));

    private void Info(string message)
    {
        if (log is not null)
            log.Info(Microsoft.ML.Runtime.MessageSensitivity.None, message);
    }

    /// <summary>Two TensorBoard writers laid out as Keras' TensorBoard callback does, so runs compare per epoch.</summary>
    private sealed class TensorBoardWriters : IDisposable
    {
        private readonly SummaryWriter train;
        private readonly SummaryWriter? validation;

        public TensorBoardWriters(string directory, bool hasValidation)
        {
            train = utils.tensorboard.SummaryWriter(Path.Combine(directory, "train"));
            validation = hasValidation ? utils.tensorboard.SummaryWriter(Path.Combine(directory, "validation")) : null;
        }

        public void Write(EpochMetrics m)
        {
            int step = m.Epoch;
            train.add_scalar("epoch_loss", (float)m.TrainingLoss, step);
            train.add_scalar("epoch_accuracy", (float)m.TrainingAccuracy, step);
            train.add_scalar("epoch_learning_rate", (float)m.LearningRate, step);
            if (validation is not null && m.ValidationLoss is double loss && m.ValidationAccuracy is double accuracy)
            {
                validation.add_scalar("epoch_loss", (float)loss, step);
                validation.add_scalar("epoch_accuracy", (float)accuracy, step);
            }
        }

        public void Dispose()
        {
            // SummaryWriter writes each event as it is added; nothing to flush.
        }
    }
}
