using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class CharacterCnnTrainerTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-trainer";

    /// <summary>Options for the tests' short CPU runs on synthetic glyphs (shared by the other fixtures that train).</summary>
    internal static CharacterCnnTrainer.Options SmallRun(int epochs = 4) => new()
    {
        Epochs = epochs,
        LearningRate = 1e-3,
        ValidationFraction = 0.25,
        Seed = 11,
        Device = TrainingDevice.Cpu,
        BatchNormMomentum = 0.5, // a few dozen batches: let the moving statistics that inference uses keep up
        BatchSize = 16,
    };

    /// <summary>Makes <paramref name="options"/>' run stop (OperationCanceledException) once its first epoch and checkpoint are done.</summary>
    internal static CancellationTokenSource InterruptAfterFirstEpoch(CharacterCnnTrainer.Options options)
    {
        var interrupt = new CancellationTokenSource();
        options.CancellationToken = interrupt.Token;
        options.Progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.EpochCompleted)
                interrupt.Cancel(); // the checkpoint of this epoch is still written; the next epoch does not start
        });
        return interrupt;
    }

    [Test]
    public void Training_learns_well_above_chance_and_the_model_predicts_string_labels()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 60, seed: 1);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        var reports = new List<TrainingProgress>();
        var options = SmallRun(6);
        options.Progress = new SynchronousProgress<TrainingProgress>(reports.Add);

        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);

        var history = model.History;
        Assert.That(history.Epochs, Has.Count.EqualTo(6));
        var last = history.Epochs[^1];
        TestContext.Out.WriteLine(string.Join("\n", history.Epochs.Select(e => e.ToString())));
        Assert.That(last.ValidationAccuracy, Is.GreaterThan(0.8), "4 classes: chance is 0.25");
        Assert.That(last.TrainingLoss, Is.LessThan(history.Epochs[0].TrainingLoss));
        Assert.That(model.ClassNames, Is.EqualTo(new[] { "-", "/", "O", "|" }), "string labels in ordinal order");

        Assert.That(reports.Count(r => r.Phase == TrainingPhase.EpochCompleted), Is.EqualTo(6));
        Assert.That(reports.Any(r => r.Phase == TrainingPhase.Training && r.Batch > 0), Is.True);
        Assert.That(reports[^1].Phase, Is.EqualTo(TrainingPhase.Exporting));
        Assert.That(messages, Has.Some.StartsWith("Epoch 6: loss"), "per-epoch lines reach mlContext.Log");

        using var engine = mlContext.Model.CreatePredictionEngine<GlyphRow, CharacterPrediction>(model);
        var test = SyntheticGlyphs.Make(perClass: 10, seed: 99);
        int correct = test.Count(row => engine.Predict(row).PredictedCharacter == row.Label);
        Assert.That(correct / (double)test.Count, Is.GreaterThan(0.8));
        var one = engine.Predict(test[0]);
        Assert.That(one.Score, Has.Length.EqualTo(4));
        Assert.That(one.Score.Sum(), Is.EqualTo(1f).Within(1e-4));
        Assert.That(one.PredictedCharacter, Is.EqualTo(model.ClassNames[Array.IndexOf(one.Score, one.Score.Max())]));
    }

    [Test]
    public void With_keras_momentum_a_short_run_validates_well_only_with_recalibrated_batch_norm()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 60, seed: 1);
        double Run(bool recalibrate)
        {
            var options = SmallRun(4);
            options.BatchNormMomentum = CharacterCnnNetwork.DefaultBatchNormMomentum; // Keras' 0.99: 60 steps barely move the moving averages
            options.RecalibrateBatchNorm = recalibrate;
            using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
            return model.History.Epochs[^1].ValidationAccuracy!.Value;
        }

        double keras = Run(recalibrate: false), recalibrated = Run(recalibrate: true);
        TestContext.Out.WriteLine($"validation accuracy after 4 short epochs at momentum 0.99: moving averages {keras:F3}, recalibrated {recalibrated:F3}");
        Assert.That(recalibrated, Is.GreaterThan(0.8), "4 classes: chance is 0.25");
        Assert.That(recalibrated, Is.GreaterThanOrEqualTo(keras));
    }

    [Test]
    public void The_same_seed_gives_the_same_model()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, perClass: 20, seed: 2);
        using var first = mlContext.MulticlassClassification.Trainers.CharacterCnn(SmallRun(2)).Fit(data);
        using var second = mlContext.MulticlassClassification.Trainers.CharacterCnn(SmallRun(2)).Fit(data);
        Assert.That(second.History.Epochs.Select(e => e.TrainingLoss), Is.EqualTo(first.History.Epochs.Select(e => e.TrainingLoss)));
        Assert.That(second.OnnxModel.ToArray(), Is.EqualTo(first.OnnxModel.ToArray()));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void A_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(int replicas)
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, perClass: 20, seed: 3);
        CharacterCnnTrainer.Options Run()
        {
            var options = SmallRun(3);
            options.NumberOfReplicas = replicas; // with 2, dropout and augmentation draw from per-replica generators reseeded every epoch
            return options;
        }

        using var straight = mlContext.MulticlassClassification.Trainers.CharacterCnn(Run()).Fit(data);

        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var firstPart = Run();
        firstPart.CheckpointDirectory = checkpoints;
        using var interrupt = InterruptAfterFirstEpoch(firstPart);
        Assert.That(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(firstPart).Fit(data), Throws.InstanceOf<OperationCanceledException>());
        var rest = Run();
        rest.CheckpointDirectory = checkpoints;
        using var resumed = mlContext.MulticlassClassification.Trainers.CharacterCnn(rest).Fit(data);

        Assert.That(resumed.History.ResumedAfterEpoch, Is.EqualTo(1));
        Assert.That(resumed.History.Epochs, Has.Count.EqualTo(3));
        Assert.That(resumed.History.Epochs.Select(e => e.TrainingLoss), Is.EqualTo(straight.History.Epochs.Select(e => e.TrainingLoss)));
        Assert.That(resumed.OnnxModel.ToArray(), Is.EqualTo(straight.OnnxModel.ToArray()));
    }

    [Test]
    public void Cancelling_mid_epoch_keeps_the_last_checkpoint_and_a_rerun_resumes_from_it()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, perClass: 20, seed: 4);
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        using var cancellation = new CancellationTokenSource();
        var options = SmallRun(3);
        options.CheckpointDirectory = checkpoints;
        options.CancellationToken = cancellation.Token;
        options.Progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.Training && p.Epoch == 2)
                cancellation.Cancel();
        });

        Assert.That(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(File.ReadAllText(Path.Combine(checkpoints, "checkpoint", "state.json")), Does.Contain("\"Epoch\": 1,"));

        var again = SmallRun(3);
        again.CheckpointDirectory = checkpoints;
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(again).Fit(data);
        Assert.That(model.History.ResumedAfterEpoch, Is.EqualTo(1));
        Assert.That(model.History.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void Early_stopping_stops_and_restores_the_best_epoch()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, perClass: 20, seed: 5);
        var options = SmallRun(6);
        options.EarlyStoppingPatience = 0;
        options.EarlyStoppingMonitor = TrainingMetric.TrainingLoss;
        options.EarlyStoppingMinDelta = 1e6; // nothing counts as an improvement after the first epoch

        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);

        Assert.That(model.History.StoppedEarly, Is.True);
        Assert.That(model.History.Epochs, Has.Count.EqualTo(2));
        Assert.That(model.History.BestEpoch, Is.EqualTo(1));
    }

    [Test]
    public void TensorBoard_event_files_are_written_per_split()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, perClass: 10, seed: 6);
        var options = SmallRun(2);
        options.LogDirectory = Path.Combine(WorkDirectory, "logs");
        mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data).Dispose();

        foreach (string split in new[] { "train", "validation" })
        {
            var files = Directory.GetFiles(Path.Combine(options.LogDirectory, split), "events.out.tfevents.*", SearchOption.AllDirectories);
            Assert.That(files, Has.Length.EqualTo(1), split);
            string content = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(files[0]));
            Assert.That(content, Does.Contain("epoch_loss").And.Contain("epoch_accuracy"), split);
        }
    }

    [Test]
    public void Key_labels_and_separate_validation_data_train_too()
    {
        var mlContext = new MLContext();
        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label");
        var train = SyntheticGlyphs.Load(mlContext, perClass: 30, seed: 7);
        var mapping = keyed.Fit(train);
        var options = SmallRun(5);
        options.ValidationData = mapping.Transform(SyntheticGlyphs.Load(mlContext, perClass: 10, seed: 8));
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(mapping.Transform(train));

        Assert.That(model.ClassNames, Is.EqualTo(SyntheticGlyphs.Classes), "key labels keep key order");
        Assert.That(model.History.Epochs[^1].ValidationAccuracy, Is.GreaterThan(0.6));
    }

    [Test]
    public void Invalid_options_are_all_named_in_one_message()
    {
        var options = new CharacterCnnTrainer.Options { Epochs = 0, BatchSize = -1, LearningRate = double.NaN, DropoutRate = 1, ValidationFraction = 0, EarlyStoppingPatience = 2 };
        var error = Assert.Throws<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.CharacterCnn(options))!;
        Assert.That(error.Message, Does.Contain("Epochs = 0").And.Contain("BatchSize = -1").And.Contain("LearningRate = NaN")
            .And.Contain("DropoutRate = 1").And.Contain("EarlyStoppingMonitor = ValidationLoss"));
    }

    [Test]
    public void A_missing_label_column_is_reported_in_ml_net_words()
    {
        var mlContext = new MLContext();
        var options = SmallRun();
        options.LabelColumnName = "Character";
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, 2, 1)))!;
        Assert.That(error.Message, Does.StartWith("Could not find label column 'Character'"));
    }

    [Test]
    public void A_missing_pixel_column_is_reported_in_ml_net_words()
    {
        var mlContext = new MLContext();
        var options = SmallRun();
        options.FeatureColumnName = "Features";
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, 2, 1)))!;
        Assert.That(error.Message, Does.StartWith("Could not find feature column 'Features'"));
    }

    [Test]
    public void A_pixel_vector_of_the_wrong_size_is_a_schema_mismatch()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(new[] { new SmallImage { Label = "a" }, new SmallImage { Label = "b" } });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            mlContext.MulticlassClassification.Trainers.CharacterCnn().Fit(data))!;
        Assert.That(error.Message, Does.StartWith("Schema mismatch for feature column 'Pixels': expected Vector<Single, 1024> (1×32×32), got Vector<Single, 784>"));
    }

    [Test]
    public void A_numeric_label_is_a_schema_mismatch()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(new[] { new NumericLabel(), new NumericLabel { Label = 1 } });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            mlContext.MulticlassClassification.Trainers.CharacterCnn().Fit(data))!;
        Assert.That(error.Message, Does.StartWith("Schema mismatch for label column 'Label': expected String or Key, got Single"));
    }

    [Test]
    public void Empty_data_one_class_and_non_finite_pixels_are_clear_errors()
    {
        var mlContext = new MLContext();
        var trainer = mlContext.MulticlassClassification.Trainers.CharacterCnn(SmallRun(1));

        Assert.That(() => trainer.Fit(mlContext.Data.LoadFromEnumerable(new List<GlyphRow>())),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contain("has no rows"));
        Assert.That(() => trainer.Fit(SyntheticGlyphs.Load(mlContext, 5, 1, ["A"])),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contain("only one class ('A')"));

        var rows = SyntheticGlyphs.Make(3, 1);
        rows[5].Pixels[7] = float.NaN;
        Assert.That(() => trainer.Fit(mlContext.Data.LoadFromEnumerable(rows)),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contain("non-finite value NaN at row 5, pixel 7"));

        rows = SyntheticGlyphs.Make(3, 1);
        rows[2].Label = "";
        Assert.That(() => trainer.Fit(mlContext.Data.LoadFromEnumerable(rows)),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contain("empty value in label column 'Label' at row 2"));
    }

    [Test]
    public void A_checkpoint_of_other_classes_is_refused_with_the_fix()
    {
        var mlContext = new MLContext();
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var options = SmallRun(1);
        options.CheckpointDirectory = checkpoints;
        mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, 5, 1)).Dispose();

        var other = SmallRun(2);
        other.CheckpointDirectory = checkpoints;
        Assert.That(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(other).Fit(SyntheticGlyphs.Load(mlContext, 5, 1, ["-", "|"])),
            Throws.InvalidOperationException.With.Message.Contain("belongs to a different run").And.Message.Contain(checkpoints));
    }

    [Test]
    public void A_huge_learning_rate_stops_with_an_error_naming_the_epoch_and_batch_and_writes_no_checkpoint()
    {
        var mlContext = new MLContext();
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var options = SmallRun(2);
        options.LearningRate = 1e30;
        options.LearningRateWarmupEpochs = 0; // the message names the rate in use; without warm-up and decay it is the one set
        options.LearningRateSchedule = LearningRateSchedule.Constant;
        options.CheckpointDirectory = checkpoints;

        var error = Assert.Throws<TrainingDivergedException>(() =>
            mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, 20, 1)))!;

        TestContext.Out.WriteLine(error.Message);
        Assert.That(error, Is.InstanceOf<InvalidOperationException>(), "the CLI reports it as one error line");
        Assert.That(error.Epoch, Is.EqualTo(1));
        Assert.That(error.Message, Does.StartWith($"Training diverged: the loss of epoch 1, batch {error.Batch} of 4 is ")
            .And.Contain("Lower the learning rate (now 1E+30"));
        Assert.That(double.IsFinite(error.Loss), Is.False);
        Assert.That(File.Exists(Path.Combine(checkpoints, "checkpoint", "state.json")), Is.False, "no checkpoint of a diverged epoch");
    }

    [Test]
    public void Weights_left_non_finite_by_an_epochs_last_step_stop_training_before_the_checkpoint()
    {
        var mlContext = new MLContext();
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var options = SmallRun(2);
        options.Optimizer = OptimizerKind.Sgd;
        options.LearningRate = 1e38; // gradient × rate overflows float32: the one step of the epoch leaves infinities in the weights
        options.BatchSize = 1000;    // one batch per epoch, so its loss was finite and only the weights show the divergence
        options.CheckpointDirectory = checkpoints;

        var error = Assert.Throws<TrainingDivergedException>(() =>
            mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, 20, 1)))!;

        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.StartWith("Training diverged: after batch 1 of 1 of epoch 1 the network's parameter '").And.Contain("Lower the learning rate"));
        Assert.That(File.Exists(Path.Combine(checkpoints, "checkpoint", "state.json")), Is.False);
    }

    [Test]
    public void A_run_that_diverges_keeps_the_last_good_checkpoint()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, 20, 1);
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var good = SmallRun(1);
        good.CheckpointDirectory = checkpoints;
        mlContext.MulticlassClassification.Trainers.CharacterCnn(good).Fit(data).Dispose();
        // The same run's checkpoint, continued at a rate that diverges: record that rate as the run's so the resume is accepted.
        string state = Path.Combine(checkpoints, "checkpoint", "state.json");
        File.WriteAllText(state, File.ReadAllText(state).Replace("\"LearningRate\": \"0.001\"", "\"LearningRate\": \"1E+30\"", StringComparison.Ordinal));
        string stateBefore = File.ReadAllText(state);
        byte[] weightsBefore = File.ReadAllBytes(Path.Combine(checkpoints, "checkpoint", "weights.bin"));
        var diverging = SmallRun(2);
        diverging.LearningRate = 1e30;
        diverging.CheckpointDirectory = checkpoints;

        var error = Assert.Throws<TrainingDivergedException>(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(diverging).Fit(data))!;

        Assert.That(error.Epoch, Is.EqualTo(2));
        Assert.That(File.ReadAllText(state), Is.EqualTo(stateBefore), "the epoch-1 checkpoint stays");
        Assert.That(File.ReadAllBytes(Path.Combine(checkpoints, "checkpoint", "weights.bin")), Is.EqualTo(weightsBefore));
    }

    [Test]
    public void A_resume_with_other_options_or_other_data_is_refused_naming_each_difference()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, 10, 1);
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var first = SmallRun(1);
        first.CheckpointDirectory = checkpoints;
        mlContext.MulticlassClassification.Trainers.CharacterCnn(first).Fit(data).Dispose();

        var other = SmallRun(2);
        other.CheckpointDirectory = checkpoints;
        other.LearningRate = 0.01;
        other.BatchSize = 8;
        other.ValidationFraction = 0.5;
        var error = Assert.Throws<InvalidOperationException>(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(other).Fit(data))!;
        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.StartWith($"The checkpoint in '{checkpoints}' belongs to a different run: ")
            .And.Contain("LearningRate: checkpoint 0.001, now 0.01").And.Contain("BatchSize: checkpoint 16, now 8")
            .And.Contain("ValidationFraction: checkpoint 0.25, now 0.5").And.Contain("ValidationData.Rows: checkpoint 10, now 20")
            .And.EndWith("Use another CheckpointDirectory, or delete this one to start afresh."));

        var sameOptions = SmallRun(2);
        sameOptions.CheckpointDirectory = checkpoints;
        Assert.That(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(sameOptions).Fit(SyntheticGlyphs.Load(mlContext, 10, 2)),
            Throws.InvalidOperationException.With.Message.Contain("TrainingData.PixelSampleSha256: checkpoint "), "other images of the same classes and count");

        var fewerEpochs = SmallRun(1);
        fewerEpochs.CheckpointDirectory = checkpoints;
        Assert.That(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(fewerEpochs).Fit(data), Throws.Nothing, "Epochs equal to the checkpoint's");
    }

    [Test]
    public void Epochs_below_the_checkpoints_epoch_are_refused()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, 10, 1);
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var first = SmallRun(2);
        first.CheckpointDirectory = checkpoints;
        mlContext.MulticlassClassification.Trainers.CharacterCnn(first).Fit(data).Dispose();

        var fewer = SmallRun(1);
        fewer.CheckpointDirectory = checkpoints;
        Assert.That(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(fewer).Fit(data), Throws.InvalidOperationException.With.Message.Contain(
            "belongs to a different run: Epochs: checkpoint at epoch 2, now Epochs = 1 (set Epochs to 2 or more to continue it)."));
    }

    [Test]
    public void The_trained_model_lives_in_the_users_context_its_network_copy_in_the_users_temp_folder()
    {
        string temp = Path.Combine(WorkDirectory, "user-temp");
        Directory.CreateDirectory(temp);
        var mlContext = new MLContext(seed: 1) { TempFilePath = temp };
        var options = SmallRun(1);
        options.ValidationFraction = 0;
        var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(SyntheticGlyphs.Load(mlContext, 4, 1));
        // ML.NET's OnnxTransformer keeps a copy of the network in its context's TempFilePath while the model lives.
        Assert.That(Directory.GetFiles(temp), Has.Length.EqualTo(1), "the model was built in the user's context, whose TempFilePath is this folder");
        Assert.That(Directory.GetDirectories(temp), Is.Empty, "the private build folder is gone");
        model.Dispose();
        Assert.That(Directory.GetFileSystemEntries(temp), Is.Empty, "disposing the model deletes the copy");
    }

    [Test]
    public void The_output_schema_adds_score_with_slot_names_a_key_predicted_label_and_the_character_as_text()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, 2, 1);
        var trainer = mlContext.MulticlassClassification.Trainers.CharacterCnn();
        var shape = trainer.GetOutputSchema(MLNetInterop.ToShape(data.Schema));
        var score = shape.Single(c => c.Name == "Score");
        var key = shape.Single(c => c.Name == "PredictedLabel");
        var text = shape.Single(c => c.Name == "PredictedCharacter");
        Assert.That(score.ItemType, Is.EqualTo(NumberDataViewType.Single));
        Assert.That(score.Kind, Is.EqualTo(SchemaShape.Column.VectorKind.Vector));
        Assert.That(score.Annotations.Select(a => a.Name), Does.Contain("SlotNames"));
        Assert.That(key.IsKey, Is.True);
        Assert.That(key.Kind, Is.EqualTo(SchemaShape.Column.VectorKind.Scalar));
        Assert.That(key.Annotations.Select(a => a.Name), Does.Contain("KeyValues"));
        Assert.That(text.ItemType, Is.EqualTo(TextDataViewType.Instance));
        Assert.That(text.Kind, Is.EqualTo(SchemaShape.Column.VectorKind.Scalar));
    }

    private sealed class SmallImage
    {
        public string Label { get; set; } = "";

        [VectorType(784)]
        public float[] Pixels { get; set; } = new float[784];
    }

    private sealed class NumericLabel
    {
        public float Label { get; set; }

        [VectorType(1024)]
        public float[] Pixels { get; set; } = new float[1024];
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread, so tests see every report in order.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
