using System.Diagnostics;
using Microsoft.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Training;

/// <summary>
/// The TorchSharp training loop: the whole training set lives in one tensor and each batch is an
/// index_select of it, so there is no per-sample managed work. The loop owns the order of events (resume, the
/// epoch's learning rate and seed, batches, validation, metrics) and hands the rest to
/// <see cref="ITrainingCallback"/>s: BatchNorm recalibration, early stopping, the plateau schedule, TensorBoard,
/// progress and log lines, checkpoints.
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

    /// <summary>
    /// Trains a new network (from <paramref name="baseWeights"/>, an exported network's graph, when given; or resumed from the
    /// checkpoint directory) and returns it in evaluation mode on the CPU.
    /// </summary>
    public (CharacterCnnNetwork Network, TrainingHistory History) Run(LabeledImages train, LabeledImages? validation, Onnx.GraphProto? baseWeights = null)
    {
        var device = ResolveDevice(options.Device);
        if (options.NumberOfThreads is int threads)
            set_num_threads(threads);

        var classNames = train.ClassNames.ToArray();
        random.manual_seed(options.Seed);
        var network = new CharacterCnnNetwork(classNames.Length, options.DropoutRate, options.BatchNormMomentum)
        {
            ComputeType = PrecisionSupport.Resolve(options.Precision, device),
            ChannelsLast = options.ChannelsLast,
        };
        if (baseWeights is not null)
        {
            CharacterCnnOnnxExporter.CopyWeights(baseWeights, network, "the base model");
            Info("Starting from the base model's weights.");
        }

        network.to(device);
        Info($"Training in {(network.ComputeType == ScalarType.BFloat16 ? "bfloat16 mixed precision" : "float32")}"
            + $"{(network.ChannelsLast ? ", channels-last" : "")} on {device.type}.");
        var averaging = options.UseExponentialMovingAverage ? new WeightAveraging(network, options.ExponentialMovingAverageDecay, device) : null;
        using var optimizer = CreateOptimizer(network);
        var sampler = options.ClassBalancedSampling ? new ClassBalancedSampler(train.Labels, classNames.Length, options.ImagesPerClassPerEpoch) : null;
        int rowsPerEpoch = sampler?.RowsPerEpoch ?? train.Count;
        int batches = (rowsPerEpoch + options.BatchSize - 1) / options.BatchSize;
        var state = new TrainingState(network, optimizer, classNames, batches, options.LearningRate) { Averaging = averaging };
        int replicaCount = options.NumberOfReplicas
            ?? DataParallelReplicas.ReplicasFor(get_num_threads(), options.BatchSize, onCpu: device.type == DeviceType.CPU);
        using var replicas = new DataParallelReplicas(network, device.type == DeviceType.CPU ? replicaCount : 1, device);
        if (replicas.Count > 1)
            Info($"Training {replicas.Count} replicas side by side, one thread each, on shares of every batch of {options.BatchSize}.");

        if (options.CheckpointDirectory is not null)
        {
            // Only a checkpointed run needs the data hashes: they keep a resume from mixing validation images into training.
            state.DataFingerprint = RunFingerprint.OfData(train, validation);
        }

        if (options.CheckpointDirectory is { } directory && TrainingCheckpoint.TryLoad(directory) is { } loaded)
        {
            loaded.Checkpoint.EnsureSameRun(TrainingCheckpoint.ForRun(classNames, options, state.DataFingerprint), directory, options.Epochs);
            loaded.Checkpoint.RestoreInto(state, loaded.Folder, device, options.BatchNormMomentum);
            Info($"Resuming from the checkpoint of epoch {state.Epoch} in '{directory}'.");
        }

        using var x = tensor(train.Pixels, [train.Count, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize]).to(device);
        using var y = tensor(train.Labels.Select(l => (long)l).ToArray(), [train.Count]).to(device);
        using var xValidation = validation is null ? null
            : tensor(validation.Pixels, [validation.Count, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize]).to(device);
        using var yValidation = validation is null ? null
            : tensor(validation.Labels.Select(l => (long)l).ToArray(), [validation.Count]).to(device);

        var schedule = LearningRateSchedules.Create(options);
        var earlyStopping = options.EarlyStoppingPatience is int patience
            ? new EarlyStopping(options.EarlyStoppingMonitor, patience, options.EarlyStoppingMinDelta, options.RestoreBestWeights, Info)
            : null;
        var reporter = new ProgressReporter(options.Progress, Info, options.Epochs);
        var callbacks = CreateCallbacks(earlyStopping, reporter, x, validation is not null);
        var budget = options.TimeBudget is { } limit ? new TrainingTimeBudget(limit, options.Epochs, Info) : null;
        int epochs = options.Epochs;
        double epochSeconds = 0; // this run's finished epochs, for the budget's corrections

        // The budget's plan: the loop, the progress and the cosine schedule run over it.
        void Plan(int planned)
        {
            epochs = reporter.Epochs = planned;
            if (schedule is CosineAnnealingSchedule cosine)
                cosine.Epochs = planned;
        }

        Notify(callbacks, c => c.OnTrainBegin(state));
        for (int epoch = state.Epoch + 1; epoch <= epochs && !state.StopTraining; epoch++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();

            // Seeding per epoch makes shuffling and dropout of epoch k independent of how the run got there, so a resumed run matches an uninterrupted one.
            random.manual_seed(EpochSeed(options.Seed, epoch));
            network.train();
            Notify(callbacks, c => c.OnEpochBegin(state, epoch));
            var (trainLoss, trainAccuracy, learningRate, baseRate) = TrainEpoch(state, replicas, callbacks, schedule, sampler, x, y, epoch, device,
                budget is null || epoch != state.ResumedAfterEpoch + 1 ? null : batch =>
                {
                    // The probe plans the run's length during its first epoch: the schedule and the progress follow from the next batch.
                    if (budget.AfterFirstEpochBatch(batch, state.BatchesPerEpoch, state.ResumedAfterEpoch) is int planned)
                        Plan(planned);
                });

            EnsureFiniteWeights(network, epoch, state.BatchesPerEpoch, learningRate);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            Notify(callbacks, c => c.OnTrainingBatchesEnd(state, epoch));

            double? validationLoss = null, validationAccuracy = null;
            if (xValidation is not null && yValidation is not null)
            {
                Notify(callbacks, c => c.OnValidationBegin(state, epoch, (trainLoss, trainAccuracy)));
                (validationLoss, validationAccuracy) = Evaluate((CharacterCnnNetwork)state.ModelNetwork, xValidation, yValidation);
            }

            var metrics = new EpochMetrics(epoch, trainLoss, trainAccuracy, validationLoss, validationAccuracy, learningRate,
                clock.Elapsed, rowsPerEpoch / Math.Max(trainSeconds, 1e-9));
            state.History.Add(metrics);
            state.Epoch = epoch;
            state.LearningRate = baseRate;
            Notify(callbacks, c => c.OnEpochEnd(state, metrics));
            if (budget is not null)
            {
                // The first batches run slower than the rest of a run (measured: a plan of 7 epochs where 10 fitted), so the
                // plan is corrected from the finished epochs' mean time, validation included; the schedule stretches with it.
                epochSeconds += clock.Elapsed.TotalSeconds;
                Plan(budget.Correct(epochSeconds / (epoch - state.ResumedAfterEpoch), epoch, epochs));
            }
        }

        Notify(callbacks, c => c.OnTrainEnd(state));
        state.DisposeBestWeights();
        var model = (CharacterCnnNetwork)state.ModelNetwork;
        if (!ReferenceEquals(model, network))
            network.Dispose();
        model.to(CPU);
        model.eval();
        model.ComputeType = ScalarType.Float32;
        model.ChannelsLast = false;
        return (model, state.ToHistory(earlyStopping is { RestoresBestWeights: true } ? state.EarlyStopping.BestEpoch : null));
    }

    /// <summary>A seed for epoch <paramref name="epoch"/> derived from the run's seed.</summary>
    internal static long EpochSeed(int seed, int epoch) => (seed * 1_000_003L) + epoch;

    /// <summary>
    /// The callbacks of these options, in the order the epoch's end needs: early stopping and the plateau update the
    /// state, the logs report it (with the stop reason), and the checkpoint saves it last.
    /// </summary>
    private List<ITrainingCallback> CreateCallbacks(EarlyStopping? earlyStopping, ProgressReporter reporter, Tensor x, bool hasValidation)
    {
        var callbacks = new List<ITrainingCallback>();
        if (options.RecalibrateBatchNorm)
            callbacks.Add(new BatchNormRecalibration(x, options.BatchNormCalibrationImages, options.BatchSize));
        if (earlyStopping is not null)
            callbacks.Add(earlyStopping);
        if (options.LearningRateSchedule == LearningRateSchedule.ReduceOnPlateau)
        {
            callbacks.Add(new ReduceLearningRateOnPlateau(options.LearningRateMonitor, options.LearningRatePlateauPatience,
                options.LearningRateDecay, options.MinimumLearningRate, Info));
        }

        if (options.LogDirectory is { } logDirectory)
            callbacks.Add(new TensorBoardLogger(logDirectory, hasValidation));
        callbacks.Add(reporter);
        if (options.CheckpointDirectory is { } checkpointDirectory)
            callbacks.Add(new CheckpointSaver(checkpointDirectory, options));
        return callbacks;
    }

    private static void Notify(List<ITrainingCallback> callbacks, Action<ITrainingCallback> hook)
    {
        foreach (var callback in callbacks)
            hook(callback);
    }

    /// <summary>
    /// One epoch of optimizer steps, the rate set batch by batch; returns the epoch's loss and accuracy, the rate of its last
    /// batch and the schedule's rate before warm-up (what the plateau schedule carries to the next epoch).
    /// <paramref name="afterBatch"/> runs after each batch's callbacks with the batch's 0-based index (the time budget's probe).
    /// </summary>
    private (double Loss, double Accuracy, double LearningRate, double BaseRate) TrainEpoch(TrainingState state, DataParallelReplicas replicas,
        List<ITrainingCallback> callbacks, ILearningRateSchedule schedule, ClassBalancedSampler? sampler, Tensor x, Tensor y, int epoch, Device device,
        Action<int>? afterBatch)
    {
        var optimizer = state.Optimizer;
        int batches = state.BatchesPerEpoch;
        int batchSize = options.BatchSize;
        using var order = sampler is null ? randperm(x.shape[0], device: device) : tensor(sampler.Draw(EpochSeed(options.Seed, epoch)), device: device);
        long count = order.shape[0];
        var running = new RunningMetrics();
        double warmupBatches = options.LearningRateWarmupEpochs * batches;
        double learningRate = 0, baseRate = 0;
        var shards = new (double Loss, long Correct)[replicas.Count];
        int threads = get_num_threads();
        replicas.SeedEpoch(EpochSeed(options.Seed, epoch));
        replicas.Broadcast();
        if (replicas.Count > 1)
            set_num_threads(1); // the calling thread trains replica 0 beside the others
        try
        {
            for (int batch = 0; batch < batches; batch++)
            {
                if (options.CancellationToken.IsCancellationRequested)
                    options.CancellationToken.ThrowIfCancellationRequested();

                long start = (long)batch * batchSize;
                long length = Math.Min(batchSize, count - start);
                baseRate = schedule.LearningRateFor(epoch, batch / (double)batches, state.LearningRate);
                learningRate = baseRate * LearningRateSchedules.WarmupFactor(state.Step, warmupBatches);
                SetLearningRate(optimizer, learningRate);
                using (var rows = order.narrow(0, start, length))
                {
                    int active = (int)Math.Clamp(length / 2, 1, replicas.Count);
                    replicas.Run(active, replica =>
                    {
                        // Shares differ by at most one image; each loss is weighted by its share so the summed gradients are the batch mean's.
                        long from = length * replica / active, to = length * (replica + 1) / active;
                        shards[replica] = TrainShard(replicas.Network(replica), replicas.Generator(replica), rows.narrow(0, from, to - from), x, y, (to - from) / (double)length);
                    });

                    double loss = 0;
                    long correct = 0;
                    for (int i = 0; i < active; i++)
                    {
                        loss += shards[i].Loss;
                        correct += shards[i].Correct;
                    }

                    // Checked before the step, so diverged weights never reach the network, the model or a checkpoint.
                    if (!double.IsFinite(loss))
                        throw new TrainingDivergedException(epoch, batch + 1, batches, loss, optimizer.ParamGroups.First().LearningRate);
                    if (active > 1)
                        replicas.GatherGradients();
                    optimizer.step();
                    replicas.Broadcast();
                    // The average starts when warm-up ends: averaging the warm-up's first, nearly random steps would hold a short run back.
                    long stepsAfterWarmup = state.Step + 1 - (long)Math.Ceiling(warmupBatches);
                    if (stepsAfterWarmup <= 0)
                        state.Averaging?.CopyFrom((CharacterCnnNetwork)state.Network);
                    else
                        state.Averaging?.Update(stepsAfterWarmup);
                    running.Add(loss, correct, length, Math.Min((long)(batch + 1) * batchSize, count));
                }

                state.Step++;
                var done = new BatchEnd(epoch, batch + 1, batches, running);
                Notify(callbacks, c => c.OnBatchEnd(state, done));
                afterBatch?.Invoke(batch);
            }
        }
        finally
        {
            if (replicas.Count > 1)
                set_num_threads(threads);
        }

        return (running.Loss, running.Accuracy, learningRate, baseRate);
    }

    /// <summary>
    /// Forward and backward of one replica on its share of a batch (one dispose scope, on the replica's thread); the
    /// gradient left in the network is <paramref name="weight"/> × the share's mean loss gradient. Returns the weighted
    /// loss and the share's correct count.
    /// </summary>
    private (double Loss, long Correct) TrainShard(CharacterCnnNetwork network, Generator? generator, Tensor rows, Tensor x, Tensor y, double weight)
    {
        using var scope = NewDisposeScope();
        var images = x.index_select(0, rows);
        if (augmenter is not null)
            images = augmenter.Augment(images, generator); // a fresh perturbation every epoch: the generator is reseeded per epoch
        var labels = y.index_select(0, rows);
        network.zero_grad();
        var logits = network.forward(images);
        var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: options.LabelSmoothing);
        double value = loss.item<float>();
        if (!double.IsFinite(value))
            return (value, 0);
        using Scalar share = weight; // held across the native call (see ImageAugmenter.Augment); × 1 is exact with one replica
        (loss * share).backward();
        using var noGrad = no_grad();
        return (value * weight, logits.argmax(1).eq(labels).sum().item<long>());
    }

    /// <summary>
    /// The batches' losses were checked before each step; the epoch's last step can still leave NaN or infinity in the
    /// weights, which must not reach validation, the checkpoint or the model.
    /// </summary>
    private static void EnsureFiniteWeights(CharacterCnnNetwork network, int epoch, int batches, double learningRate)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in network.named_parameters())
        {
            using var finite = parameter.isfinite().all();
            if (!finite.item<bool>())
                throw TrainingDivergedException.ForWeights(epoch, batches, name, learningRate);
        }
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
        OptimizerKind.AdamW => optim.AdamW(network.parameters(), options.LearningRate, weight_decay: options.WeightDecay),
        _ => optim.Adam(network.parameters(), options.LearningRate, weight_decay: options.WeightDecay),
    };

    private static void SetLearningRate(OptimizerHelper optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = learningRate;
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

    private void Info(string message)
    {
        if (log is not null)
            log.Info(Microsoft.ML.Runtime.MessageSensitivity.None, message);
    }
}
