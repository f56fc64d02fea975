using Ocr.MLNet.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Tests;

/// <summary>The training loop's pieces on their own: schedules, callbacks fed metric sequences, the checkpoint format.</summary>
[TestFixture]
public sealed class TrainingCallbackTests : TemporaryDirectoryTest
{
    private readonly List<IDisposable> disposables = [];

    protected override string Prefix => "ocr-mlnet-callbacks";

    [OneTimeSetUp]
    public void LoadBackend() => TorchBackend.EnsureLoaded();

    [TearDown]
    public void DisposeNetworks()
    {
        foreach (var disposable in disposables)
            disposable.Dispose();
        disposables.Clear();
    }

    [Test]
    public void Constant_schedule_keeps_the_initial_rate()
    {
        var schedule = new ConstantSchedule(0.01);
        Assert.That(Rates(schedule, 4, current: 0.5), Is.EqualTo(new[] { 0.01, 0.01, 0.01, 0.01 }));
    }

    [Test]
    public void Step_decay_multiplies_by_the_decay_once_per_step_epochs()
    {
        var schedule = new StepDecaySchedule(0.1, 0.5, stepEpochs: 2);
        Assert.That(Rates(schedule, 5), Is.EqualTo(new[] { 0.1, 0.1, 0.05, 0.05, 0.025 }).Within(1e-15));
    }

    [Test]
    public void Exponential_decay_multiplies_by_the_decay_every_epoch()
    {
        var schedule = new ExponentialDecaySchedule(1, 0.5);
        Assert.That(Rates(schedule, 4), Is.EqualTo(new[] { 1, 0.5, 0.25, 0.125 }).Within(1e-15));
    }

    [Test]
    public void Cosine_annealing_runs_batch_by_batch_from_the_initial_rate_towards_the_minimum_over_all_epochs()
    {
        var schedule = new CosineAnnealingSchedule(1, 0.1, epochs: 4);
        // Epoch starts at t = 0, 1/4, 2/4, 3/4 of the run.
        double At(double t) => 0.1 + (0.9 * 0.5 * (1 + Math.Cos(Math.PI * t)));
        Assert.That(Rates(schedule, 4), Is.EqualTo(new[] { 1, At(0.25), 0.55, At(0.75) }).Within(1e-12));
        Assert.That(schedule.LearningRateFor(2, 0.5, 1), Is.EqualTo(At(1.5 / 4)).Within(1e-12), "within an epoch the rate keeps falling");
    }

    [Test]
    public void Cosine_annealing_trains_every_batch_of_the_last_epoch_above_the_minimum()
    {
        var schedule = new CosineAnnealingSchedule(0.01, 0, epochs: 3);
        const int batches = 100;
        double lastBatch = schedule.LearningRateFor(3, (batches - 1) / (double)batches, 0.01);
        Assert.That(lastBatch, Is.GreaterThan(0), "the last epoch used to run at exactly the minimum");
        Assert.That(lastBatch, Is.LessThan(1e-5));
        var single = new CosineAnnealingSchedule(0.01, 0, epochs: 1);
        Assert.That(single.LearningRateFor(1, 0, 0.01), Is.EqualTo(0.01));
    }

    [Test]
    public void Warm_up_ramps_linearly_over_its_batches_then_leaves_the_rate_alone()
    {
        Assert.That(LearningRateSchedules.WarmupFactor(0, 100), Is.EqualTo(0.01).Within(1e-15));
        Assert.That(LearningRateSchedules.WarmupFactor(49, 100), Is.EqualTo(0.5).Within(1e-15));
        Assert.That(LearningRateSchedules.WarmupFactor(99, 100), Is.EqualTo(1));
        Assert.That(LearningRateSchedules.WarmupFactor(5_000, 100), Is.EqualTo(1));
        Assert.That(LearningRateSchedules.WarmupFactor(0, 0), Is.EqualTo(1), "no warm-up");
    }

    [Test]
    public void Plateau_schedule_carries_the_current_rate_over()
    {
        var schedule = new ReduceOnPlateauSchedule();
        Assert.That(schedule.LearningRateFor(7, 0.5, 0.003), Is.EqualTo(0.003));
    }

    [TestCase(LearningRateSchedule.Constant, typeof(ConstantSchedule))]
    [TestCase(LearningRateSchedule.StepDecay, typeof(StepDecaySchedule))]
    [TestCase(LearningRateSchedule.ExponentialDecay, typeof(ExponentialDecaySchedule))]
    [TestCase(LearningRateSchedule.CosineAnnealing, typeof(CosineAnnealingSchedule))]
    [TestCase(LearningRateSchedule.ReduceOnPlateau, typeof(ReduceOnPlateauSchedule))]
    public void Each_schedule_value_has_its_schedule_class(LearningRateSchedule value, Type expected)
    {
        var options = new CharacterCnnTrainer.Options { LearningRateSchedule = value };
        Assert.That(LearningRateSchedules.Create(options), Is.InstanceOf(expected));
    }

    [Test]
    public void Early_stopping_stops_after_patience_epochs_without_improvement()
    {
        var state = NewState();
        var stopping = new EarlyStopping(TrainingMetric.ValidationLoss, patience: 2, minDelta: 0, restoreBestWeights: false, info: null);

        var stopped = Feed(state, stopping, validationLosses: [1.0, 0.9, 0.95, 0.92, 0.91]);

        Assert.That(stopped, Is.EqualTo(new[] { false, false, false, false, true }));
        Assert.That(state.EarlyStopping.Best, Is.EqualTo(0.9));
        Assert.That(state.EarlyStopping.BestEpoch, Is.EqualTo(2));
        Assert.That(state.EarlyStopping.EpochsWithoutImprovement, Is.EqualTo(3));
        Assert.That(state.StopReason, Is.EqualTo("early stopping: no improvement of ValidationLoss for 3 epochs"));
        Assert.That(state.BestWeights, Is.Null);
    }

    [Test]
    public void Early_stopping_counts_only_improvements_larger_than_the_minimum_delta()
    {
        var state = NewState();
        var stopping = new EarlyStopping(TrainingMetric.ValidationLoss, patience: 1, minDelta: 0.1, restoreBestWeights: false, info: null);

        var stopped = Feed(state, stopping, validationLosses: [1.0, 0.95, 0.91]);

        Assert.That(stopped, Is.EqualTo(new[] { false, false, true }));
        Assert.That(state.EarlyStopping.BestEpoch, Is.EqualTo(1));
    }

    [Test]
    public void Early_stopping_on_accuracy_takes_higher_as_better()
    {
        var state = NewState();
        var stopping = new EarlyStopping(TrainingMetric.ValidationAccuracy, patience: 0, minDelta: 0, restoreBestWeights: false, info: null);

        var stopped = Feed(state, stopping, validationLosses: [0.5, 0.5, 0.5], validationAccuracies: [0.5, 0.6, 0.6]);

        Assert.That(stopped, Is.EqualTo(new[] { false, false, true }));
        Assert.That(state.EarlyStopping.Best, Is.EqualTo(0.6));
        Assert.That(state.EarlyStopping.BestEpoch, Is.EqualTo(2));
    }

    [Test]
    public void Early_stopping_skips_epochs_without_the_monitored_metric()
    {
        var state = NewState();
        var stopping = new EarlyStopping(TrainingMetric.ValidationLoss, patience: 0, minDelta: 0, restoreBestWeights: true, info: null);

        var stopped = Feed(state, stopping, validationLosses: [null, null, null]);

        Assert.That(stopped, Is.All.False);
        Assert.That(state.EarlyStopping.Best, Is.Null);
        Assert.That(state.BestWeights, Is.Null);
    }

    [Test]
    public void Early_stopping_restores_the_weights_of_the_best_epoch_when_training_ends()
    {
        var state = NewState();
        var messages = new List<string>();
        var stopping = new EarlyStopping(TrainingMetric.ValidationLoss, patience: 5, minDelta: 0, restoreBestWeights: true, messages.Add);
        Feed(state, stopping, validationLosses: [1.0]);
        var best = Snapshot(state.Network);
        using (no_grad())
        {
            foreach (var parameter in state.Network.parameters())
                parameter.add_(1);
        }

        Feed(state, stopping, validationLosses: [2.0], firstEpoch: 2);
        ((ITrainingCallback)stopping).OnTrainEnd(state);

        Assert.That(Equal(Snapshot(state.Network), best), Is.True);
        Assert.That(messages, Is.EqualTo(new[] { "Restored the weights of epoch 1, the best ValidationLoss." }));
        state.DisposeBestWeights();
    }

    [Test]
    public void Early_stopping_keeps_the_last_weights_when_the_last_epoch_was_best()
    {
        var state = NewState();
        var messages = new List<string>();
        var stopping = new EarlyStopping(TrainingMetric.ValidationLoss, patience: 5, minDelta: 0, restoreBestWeights: true, messages.Add);
        Feed(state, stopping, validationLosses: [1.0, 0.5]);
        var last = Snapshot(state.Network);

        ((ITrainingCallback)stopping).OnTrainEnd(state);

        Assert.That(state.EarlyStopping.BestEpoch, Is.EqualTo(2));
        Assert.That(Equal(Snapshot(state.Network), last), Is.True);
        Assert.That(messages, Is.Empty);
        state.DisposeBestWeights();
    }

    [Test]
    [SetCulture("en-US")]
    public void Plateau_reduces_the_rate_after_patience_epochs_without_improvement()
    {
        var state = NewState(learningRate: 1.0);
        var messages = new List<string>();
        var plateau = new ReduceLearningRateOnPlateau(TrainingMetric.ValidationLoss, patience: 1, decay: 0.5, minimum: 0, messages.Add);

        var rates = FeedPlateau(state, plateau, [1.0, 1.1, 1.2, 0.9, 1.0, 1.0]);

        // Epoch 3 is the second without improvement: the rate halves from epoch 4 on and the count starts again.
        Assert.That(rates, Is.EqualTo(new[] { 1.0, 1.0, 1.0, 0.5, 0.5, 0.5 }));
        Assert.That(state.LearningRate, Is.EqualTo(0.25));
        Assert.That(state.Plateau.Best, Is.EqualTo(0.9));
        Assert.That(state.Plateau.EpochsWithoutImprovement, Is.Zero);
        Assert.That(messages, Is.EqualTo(new[]
        {
            "Reducing the learning rate to 0.5: ValidationLoss has not improved for 2 epochs.",
            "Reducing the learning rate to 0.25: ValidationLoss has not improved for 2 epochs.",
        }));
    }

    [Test]
    [SetCulture("en-US")]
    public void Plateau_stops_at_the_minimum_rate_and_says_so_only_while_it_still_lowers()
    {
        var state = NewState(learningRate: 0.5);
        var messages = new List<string>();
        var plateau = new ReduceLearningRateOnPlateau(TrainingMetric.TrainingLoss, patience: 0, decay: 0.5, minimum: 0.4, messages.Add);

        var rates = FeedPlateau(state, plateau, [1.0, 1.0, 1.0], onTrainingLoss: true);

        Assert.That(rates, Is.EqualTo(new[] { 0.5, 0.5, 0.4 }));
        Assert.That(state.LearningRate, Is.EqualTo(0.4));
        Assert.That(messages, Is.EqualTo(new[] { "Reducing the learning rate to 0.4: TrainingLoss has not improved for 1 epochs." }));
    }

    [Test]
    public void A_checkpoint_restores_the_state_it_was_saved_from()
    {
        var options = new CharacterCnnTrainer.Options { DropoutRate = 0.25, Seed = 5 };
        var state = NewState(dropoutRate: 0.25);
        state.Epoch = 3;
        state.Step = 3 * state.BatchesPerEpoch;
        state.LearningRate = 2.5e-4;
        state.History.AddRange([Metrics(1, 0.9, 0.7), Metrics(2, null, null), Metrics(3, 0.8, 0.75)]);
        state.EarlyStopping.Best = 0.8;
        state.EarlyStopping.BestEpoch = 3;
        state.EarlyStopping.EpochsWithoutImprovement = 0;
        state.Plateau.Best = 0.85;
        state.Plateau.EpochsWithoutImprovement = 1;
        state.StopTraining = true;
        state.KeepBestWeights();
        var weights = Snapshot(state.Network);
        string directory = Path.Combine(WorkDirectory, "checkpoints");

        TrainingCheckpoint.Save(directory, state, options);
        var loaded = TrainingCheckpoint.TryLoad(directory);
        Assert.That(loaded, Is.Not.Null);
        var (checkpoint, folder) = loaded!.Value;
        random.manual_seed(99); // other initial weights, so the loaded ones show
        var restored = NewState(dropoutRate: 0.25);
        checkpoint.EnsureSameRun(TrainingCheckpoint.ForRun(restored.ClassNames, options), directory);
        checkpoint.RestoreInto(restored, folder, CPU, options.BatchNormMomentum);

        Assert.That(restored.Epoch, Is.EqualTo(3));
        Assert.That(restored.ResumedAfterEpoch, Is.EqualTo(3));
        Assert.That(restored.Step, Is.EqualTo(state.Step));
        Assert.That(restored.LearningRate, Is.EqualTo(2.5e-4));
        Assert.That(restored.History, Is.EqualTo(state.History));
        Assert.That(restored.EarlyStopping.Best, Is.EqualTo(0.8));
        Assert.That(restored.EarlyStopping.BestEpoch, Is.EqualTo(3));
        Assert.That(restored.EarlyStopping.EpochsWithoutImprovement, Is.Zero);
        Assert.That(restored.Plateau.Best, Is.EqualTo(0.85));
        Assert.That(restored.Plateau.EpochsWithoutImprovement, Is.EqualTo(1));
        Assert.That(restored.StopTraining, Is.True);
        Assert.That(restored.StopReason, Is.Null);
        Assert.That(Equal(Snapshot(restored.Network), weights), Is.True);
        Assert.That(restored.BestWeights, Is.Not.Null);
        Assert.That(Equal(restored.BestWeights!, weights), Is.True);

        string again = Path.Combine(WorkDirectory, "again");
        TrainingCheckpoint.Save(again, restored, options);
        Assert.That(StateJson(again), Is.EqualTo(StateJson(directory)));
        restored.DisposeBestWeights();
        state.DisposeBestWeights();
    }

    [Test]
    public void A_checkpoint_in_the_existing_format_resumes_and_is_written_back_unchanged()
    {
        var options = new CharacterCnnTrainer.Options { DropoutRate = 0.4, Seed = 11 };
        var writer = NewState(dropoutRate: 0.4);
        string directory = Path.Combine(WorkDirectory, "checkpoints");
        string folder = Path.Combine(directory, "checkpoint");
        Directory.CreateDirectory(folder);
        writer.Network.save(Path.Combine(folder, TrainingCheckpoint.WeightsFile));
        writer.Optimizer.save_state_dict(Path.Combine(folder, TrainingCheckpoint.OptimizerFile));
        File.WriteAllText(Path.Combine(folder, "state.json"), ExistingFormat);

        var state = NewState(dropoutRate: 0.4);
        var loaded = TrainingCheckpoint.TryLoad(directory)!.Value;
        loaded.Checkpoint.EnsureSameRun(TrainingCheckpoint.ForRun(state.ClassNames, options), directory);
        loaded.Checkpoint.RestoreInto(state, loaded.Folder, CPU, options.BatchNormMomentum);

        Assert.That(state.Epoch, Is.EqualTo(2));
        Assert.That(state.History.Select(e => e.ValidationLoss), Is.EqualTo(new double?[] { 0.7570624351501465, null }));
        Assert.That(state.LearningRate, Is.EqualTo(0.0005));
        Assert.That(state.EarlyStopping.BestEpoch, Is.EqualTo(1));
        Assert.That(state.Plateau.EpochsWithoutImprovement, Is.EqualTo(1));
        Assert.That(state.BestWeights, Is.Null);

        // Written back with every field unchanged, plus the fingerprint and file hashes that make the next resume checked.
        string again = Path.Combine(WorkDirectory, "again");
        TrainingCheckpoint.Save(again, state, options);
        var written = System.Text.Json.Nodes.JsonNode.Parse(StateJson(again))!.AsObject();
        var existing = System.Text.Json.Nodes.JsonNode.Parse(ExistingFormat)!.AsObject();
        Assert.That(written.Select(p => p.Key), Is.EqualTo(existing.Select(p => p.Key).Concat(["Run", "Files"])));
        foreach (var (name, value) in existing)
            Assert.That(written[name]!.ToJsonString(), Is.EqualTo(value!.ToJsonString()), name);
        Assert.That(written["Run"]!["Seed"]!.GetValue<string>(), Is.EqualTo("11"));
        Assert.That(written["Files"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "optimizer.bin", "weights.bin" }));
    }

    [Test]
    public void A_checkpoint_of_another_run_names_every_difference()
    {
        var found = TrainingCheckpoint.ForRun(["a", "b"], new CharacterCnnTrainer.Options { DropoutRate = 0.25, Seed = 1 });
        var wanted = TrainingCheckpoint.ForRun(["a", "c"], new CharacterCnnTrainer.Options { DropoutRate = 0.5, Seed = 2, Optimizer = OptimizerKind.Sgd });

        Assert.That(() => found.EnsureSameRun(wanted, "dir"), Throws.InvalidOperationException.With.Message.EqualTo(
            "The checkpoint in 'dir' belongs to a different run: ClassNames: checkpoint [a b], now [a c]; DropoutRate: checkpoint 0.25, now 0.5; "
            + "Optimizer: checkpoint Adam, now Sgd; Seed: checkpoint 1, now 2. Use another CheckpointDirectory, or delete this one to start afresh."));
    }

    [Test]
    public void A_checkpoint_with_a_fingerprint_names_every_option_and_data_difference_and_a_lower_epoch_count()
    {
        var data = new Dictionary<string, string> { ["TrainingData.Rows"] = "90", ["TrainingData.LabelsSha256"] = "aa" };
        var found = TrainingCheckpoint.ForRun(["a", "b"], new CharacterCnnTrainer.Options(), data);
        found.Epoch = 3;
        var wanted = TrainingCheckpoint.ForRun(["a", "b"], new CharacterCnnTrainer.Options
        {
            LearningRate = 0.01, BatchSize = 32, ValidationFraction = 0.2, BatchNormMomentum = 0.9, LearningRateSchedule = LearningRateSchedule.Constant,
            Augmentation = null, LabelSmoothing = 0,
        }, new Dictionary<string, string> { ["TrainingData.Rows"] = "80", ["TrainingData.LabelsSha256"] = "aa" });

        var error = Assert.Throws<InvalidOperationException>(() => found.EnsureSameRun(wanted, "dir", epochs: 2))!;

        Assert.That(error.Message, Does.StartWith("The checkpoint in 'dir' belongs to a different run: "));
        Assert.That(error.Message, Does.Contain("LearningRate: checkpoint 0.003, now 0.01; ")
            .And.Contain("BatchSize: checkpoint 128, now 32; ")
            .And.Contain("ValidationFraction: checkpoint 0.1, now 0.2; ")
            .And.Contain("BatchNormMomentum: checkpoint 0.99, now 0.9; ")
            .And.Contain("LearningRateSchedule: checkpoint CosineAnnealing, now Constant; ")
            .And.Contain("LabelSmoothing: checkpoint 0.1, now 0; ")
            .And.Contain("Augmentation: checkpoint on, now off; ")
            .And.Contain("Augmentation.RotationDegrees: checkpoint 10, now (none)")
            .And.Contain("TrainingData.Rows: checkpoint 90, now 80; ")
            .And.Contain("Epochs: checkpoint at epoch 3, now Epochs = 2 (set Epochs to 3 or more to continue it)"));
        Assert.That(error.Message, Does.Not.Contain("LabelsSha256").And.Not.Contain("Seed"), "equal entries are not listed");
        Assert.That(error.Message, Does.EndWith("Use another CheckpointDirectory, or delete this one to start afresh."));
        Assert.That(() => found.EnsureSameRun(found, "dir", epochs: 3), Throws.Nothing, "the same run may resume, and Epochs may equal the checkpoint's");
    }

    [Test]
    public void A_changed_or_truncated_checkpoint_file_is_refused_naming_the_file()
    {
        var options = new CharacterCnnTrainer.Options();
        var state = NewState();
        string directory = Path.Combine(WorkDirectory, "checkpoints");
        TrainingCheckpoint.Save(directory, state, options);
        string weights = Path.Combine(directory, "checkpoint", TrainingCheckpoint.WeightsFile);
        string optimizer = Path.Combine(directory, "checkpoint", TrainingCheckpoint.OptimizerFile);
        Assert.That(StateJson(directory), Does.Contain("\"weights.bin\": \"").And.Contain("\"optimizer.bin\": \""));
        byte[] original = File.ReadAllBytes(weights);

        var noise = new byte[original.Length];
        new Random(1).NextBytes(noise);
        File.WriteAllBytes(weights, noise);
        Assert.That(() => TrainingCheckpoint.TryLoad(directory), Throws.InstanceOf<InvalidDataException>().With.Message.Contain($"The checkpoint file '{weights}' does not match the SHA-256")
            .And.Message.Contain($"Delete the checkpoint directory '{directory}'"));

        File.WriteAllBytes(weights, original);
        byte[] moments = File.ReadAllBytes(optimizer);
        File.WriteAllBytes(optimizer, moments[..(moments.Length / 2)]);
        Assert.That(() => TrainingCheckpoint.TryLoad(directory), Throws.InstanceOf<InvalidDataException>().With.Message.Contain($"'{optimizer}'").And.Message.Contain("truncated?"));

        File.WriteAllBytes(optimizer, moments);
        Assert.That(TrainingCheckpoint.TryLoad(directory), Is.Not.Null, "the intact files load again");
    }

    [Test]
    public void A_truncated_file_of_a_checkpoint_without_hashes_is_refused_naming_the_file()
    {
        var writer = NewState(dropoutRate: 0.4);
        string directory = Path.Combine(WorkDirectory, "checkpoints");
        string folder = Path.Combine(directory, "checkpoint");
        Directory.CreateDirectory(folder);
        string weights = Path.Combine(folder, TrainingCheckpoint.WeightsFile);
        writer.Network.save(weights);
        writer.Optimizer.save_state_dict(Path.Combine(folder, TrainingCheckpoint.OptimizerFile));
        File.WriteAllText(Path.Combine(folder, "state.json"), ExistingFormat);
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);

        var state = NewState(dropoutRate: 0.4);
        var loaded = TrainingCheckpoint.TryLoad(directory)!.Value;
        Assert.That(() => loaded.Checkpoint.RestoreInto(state, loaded.Folder, CPU, CharacterCnnNetwork.DefaultBatchNormMomentum),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartWith($"The checkpoint file '{weights}' cannot be read (")
                .And.Message.Contain($"Delete the checkpoint directory '{directory}'"));
    }

    // state.json as the loop has always written it (format 1): a resumed run must read it and write it back alike.
    private const string ExistingFormat = """
        {
          "Format": 1,
          "Epoch": 2,
          "ClassNames": [
            "a",
            "b"
          ],
          "DropoutRate": 0.4,
          "Seed": 11,
          "Optimizer": "Adam",
          "History": [
            {
              "Epoch": 1,
              "TrainingLoss": 1.8818695280287001,
              "TrainingAccuracy": 0.3611111111111111,
              "ValidationLoss": 0.7570624351501465,
              "ValidationAccuracy": 0.6666666666666666,
              "LearningRate": 0.001,
              "Duration": "00:00:01.2345678",
              "TrainingImagesPerSecond": 301.5
            },
            {
              "Epoch": 2,
              "TrainingLoss": 1.1195323334799872,
              "TrainingAccuracy": 0.5833333333333334,
              "ValidationLoss": null,
              "ValidationAccuracy": null,
              "LearningRate": 0.001,
              "Duration": "00:00:01.5000000",
              "TrainingImagesPerSecond": 299
            }
          ],
          "LearningRate": 0.0005,
          "BestMonitored": 0.7570624351501465,
          "BestEpoch": 1,
          "EpochsWithoutImprovement": 1,
          "PlateauBest": 0.7570624351501465,
          "PlateauEpochsWithoutImprovement": 1,
          "StoppedEarly": false,
          "HasBestWeights": false
        }
        """;

    private TrainingState NewState(double learningRate = 1e-3, double dropoutRate = CharacterCnnNetwork.DefaultDropoutRate)
    {
        var network = new CharacterCnnNetwork(2, dropoutRate);
        var optimizer = optim.Adam(network.parameters(), learningRate);
        disposables.Add(optimizer);
        disposables.Add(network);
        // One step, so the optimizer has moments to save.
        using (NewDisposeScope())
        {
            network.train();
            var loss = nn.functional.cross_entropy(network.forward(rand(4, 1, 32, 32)), tensor(new long[] { 0, 1, 0, 1 }));
            loss.backward();
            optimizer.step();
        }

        return new TrainingState(network, optimizer, ["a", "b"], batchesPerEpoch: 3, learningRate);
    }

    private static double[] Rates(ILearningRateSchedule schedule, int epochs, double current = 1) =>
        Enumerable.Range(1, epochs).Select(epoch => schedule.LearningRateFor(epoch, 0, current)).ToArray();

    private static EpochMetrics Metrics(int epoch, double? validationLoss, double? validationAccuracy, double trainingLoss = 1) =>
        new(epoch, trainingLoss, 0.5, validationLoss, validationAccuracy, 1e-3, TimeSpan.FromSeconds(epoch), 100);

    /// <summary>Records epochs as the loop does and tells the callback; returns the stop flag after each.</summary>
    private static bool[] Feed(TrainingState state, ITrainingCallback callback, double?[] validationLosses,
        double?[]? validationAccuracies = null, int firstEpoch = 1)
    {
        var stopped = new List<bool>();
        for (int i = 0; i < validationLosses.Length; i++)
        {
            var metrics = Metrics(firstEpoch + i, validationLosses[i], validationAccuracies?[i] ?? (validationLosses[i] is null ? null : 0.5));
            state.History.Add(metrics);
            state.Epoch = metrics.Epoch;
            callback.OnEpochEnd(state, metrics);
            stopped.Add(state.StopTraining);
        }

        return [.. stopped];
    }

    /// <summary>Runs the plateau schedule and callback over the metric values as the loop does; returns each epoch's rate.</summary>
    private static double[] FeedPlateau(TrainingState state, ITrainingCallback plateau, double[] values, bool onTrainingLoss = false)
    {
        var schedule = new ReduceOnPlateauSchedule();
        var rates = new List<double>();
        for (int epoch = 1; epoch <= values.Length; epoch++)
        {
            double rate = schedule.LearningRateFor(epoch, 0, state.LearningRate);
            rates.Add(rate);
            var metrics = onTrainingLoss ? Metrics(epoch, null, null, trainingLoss: values[epoch - 1]) : Metrics(epoch, values[epoch - 1], 0.5);
            state.History.Add(metrics);
            state.Epoch = epoch;
            state.LearningRate = rate;
            plateau.OnEpochEnd(state, metrics);
        }

        return [.. rates];
    }

    private Dictionary<string, Tensor> Snapshot(nn.Module network)
    {
        var copy = network.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());
        foreach (var tensor in copy.Values)
            disposables.Add(tensor);
        return copy;
    }

    private static bool Equal(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var other) && p.Value.cpu().eq(other.cpu()).all().item<bool>());

    private static string StateJson(string directory) => File.ReadAllText(Path.Combine(directory, "checkpoint", "state.json"));
}
