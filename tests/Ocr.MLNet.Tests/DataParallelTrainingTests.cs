using Microsoft.ML;
using Ocr.MLNet.Training;
using static TorchSharp.torch;

namespace Ocr.MLNet.Tests;

/// <summary>Replicas that train side by side on the CPU's cores, and the time budget that fixes a run's epochs.</summary>
[TestFixture]
public sealed class DataParallelTrainingTests
{
    private static CharacterCnnTrainer.Options ReplicatedRun(int epochs)
    {
        var options = CharacterCnnTrainerTests.SmallRun(epochs);
        options.NumberOfReplicas = 2; // two shares of 8 images per batch of 16
        return options;
    }

    [Test]
    public void Gathered_gradients_of_the_shares_are_the_gradient_of_the_whole_batch()
    {
        random.manual_seed(5);
        using var master = new CharacterCnnNetwork(classCount: 5);
        using var whole = new CharacterCnnNetwork(classCount: 5);
        whole.load_state_dict(master.state_dict());
        using var replicas = new DataParallelReplicas(master, 2, CPU);
        replicas.Broadcast();
        // Evaluation mode: BatchNorm uses its moving statistics, so each image's loss depends on that image alone and the
        // shares' weighted gradients must add up to the batch's exactly (up to rounding); training-mode BatchNorm would not.
        master.eval();
        replicas.Network(1).eval();
        whole.eval();
        using var images = rand(10, 1, 32, 32);
        using var labels = tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 3, 4 });

        replicas.Run(2, replica =>
        {
            using var scope = NewDisposeScope();
            long from = replica * 6, length = replica == 0 ? 6 : 4; // unequal shares: the weights must follow them
            var network = replicas.Network(replica);
            network.zero_grad();
            var loss = nn.functional.cross_entropy(network.forward(images.narrow(0, from, length)), labels.narrow(0, from, length));
            (loss * (length / 10.0)).backward();
        });
        replicas.GatherGradients();
        whole.zero_grad();
        nn.functional.cross_entropy(whole.forward(images), labels).backward();

        var gathered = master.named_parameters().ToList();
        var expected = whole.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(gathered, Has.Count.EqualTo(expected.Count));
        foreach (var (name, parameter) in gathered)
        {
            double difference = (parameter.grad! - expected[name].grad!).abs().max().item<float>();
            double scale = expected[name].grad!.abs().max().item<float>();
            Assert.That(difference, Is.LessThanOrEqualTo((1e-5 * scale) + 1e-7), name);
        }
    }

    [Test]
    public void Broadcast_copies_the_master_weights_and_statistics_into_every_replica()
    {
        random.manual_seed(6);
        using var master = new CharacterCnnNetwork(classCount: 4);
        using var replicas = new DataParallelReplicas(master, 3, CPU);
        var before = replicas.Network(2).state_dict()["dense.weight"].clone();
        Assert.That(before.eq(master.state_dict()["dense.weight"]).all().item<bool>(), Is.False, "the copies start with their own initialisation");

        replicas.Broadcast();

        for (int i = 1; i < replicas.Count; i++)
        {
            var copy = replicas.Network(i).state_dict();
            foreach (var (name, value) in master.state_dict())
                Assert.That(copy[name].eq(value).all().item<bool>(), Is.True, $"replica {i}: {name}");
        }
    }

    [Test]
    public void Replicas_learn_and_the_same_seed_gives_the_same_model()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 60, seed: 1);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };

        using var first = mlContext.MulticlassClassification.Trainers.CharacterCnn(ReplicatedRun(5)).Fit(data);
        using var second = mlContext.MulticlassClassification.Trainers.CharacterCnn(ReplicatedRun(5)).Fit(data);

        Assert.That(messages, Has.Some.StartsWith("Training 2 replicas side by side"));
        Assert.That(first.History.Epochs[^1].ValidationAccuracy, Is.GreaterThan(0.8), "4 classes: chance is 0.25");
        Assert.That(second.History.Epochs.Select(e => e.TrainingLoss), Is.EqualTo(first.History.Epochs.Select(e => e.TrainingLoss)));
        Assert.That(second.OnnxModel.ToArray(), Is.EqualTo(first.OnnxModel.ToArray()), "dropout and augmentation draw from per-replica generators seeded by the run");
    }

    [Test]
    public void Replicas_are_one_per_core_while_every_share_keeps_32_images_and_one_on_a_GPU()
    {
        Assert.That(DataParallelReplicas.ReplicasFor(cores: 2, batchSize: 128, onCpu: true), Is.EqualTo(2));
        Assert.That(DataParallelReplicas.ReplicasFor(cores: 16, batchSize: 128, onCpu: true), Is.EqualTo(4));
        Assert.That(DataParallelReplicas.ReplicasFor(cores: 2, batchSize: 16, onCpu: true), Is.EqualTo(1));
        Assert.That(DataParallelReplicas.ReplicasFor(cores: 1, batchSize: 128, onCpu: true), Is.EqualTo(1));
        Assert.That(DataParallelReplicas.ReplicasFor(cores: 8, batchSize: 128, onCpu: false), Is.EqualTo(1));
    }

    [Test]
    public void Replicas_and_time_budget_are_validated_with_their_names()
    {
        var options = new CharacterCnnTrainer.Options { NumberOfReplicas = 0, TimeBudget = TimeSpan.Zero };
        var error = Assert.Throws<ArgumentException>(options.Validate)!;
        Assert.That(error.Message, Does.Contain("NumberOfReplicas = 0"));
        Assert.That(error.Message, Does.Contain("TimeBudget = 00:00:00 (must be positive"));
        Assert.That(() => new CharacterCnnTrainer.Options { BatchSize = 16, NumberOfReplicas = 9 }.Validate(),
            Throws.ArgumentException.With.Message.Contains("at most half the BatchSize"));
    }

    [Test]
    public void A_time_budget_plans_the_epochs_from_the_first_batches_corrects_them_and_the_schedule_runs_over_them()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 150, seed: 4); // 450 training images: 29 batches, enough for the probe
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        var reports = new List<TrainingProgress>();
        var options = CharacterCnnTrainerTests.SmallRun(epochs: 1000);
        options.TimeBudget = TimeSpan.FromSeconds(4);
        options.Progress = new SynchronousProgress<TrainingProgress>(reports.Add);

        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);

        var decisions = messages.Where(m => m.StartsWith("Time budget 00:00:04:", StringComparison.Ordinal)).ToList();
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, decisions));
        Assert.That(decisions[0], Does.Match(@"so \d+ epoch\(s\) of the 1000 asked"), "the probe's plan comes first");
        // Later lines correct the plan from the finished epochs' time: the last one is the run's length.
        int planned = int.Parse(System.Text.RegularExpressions.Regex.Match(decisions[^1], @"so (\d+) epoch\(s\)").Groups[1].Value);
        Assert.That(planned, Is.InRange(1, 999), "a 4-second budget cannot hold 1,000 epochs of 29 batches");
        Assert.That(model.History.Epochs, Has.Count.EqualTo(planned));
        Assert.That(reports.Last(r => r.Phase == TrainingPhase.EpochCompleted).Epochs, Is.EqualTo(planned), "progress reports the planned total");
        // Cosine annealing over the planned epochs ends near zero; over the 1,000 asked it would still be near the peak.
        Assert.That(model.History.Epochs[^1].LearningRate, Is.LessThan(0.1 * options.LearningRate));
    }
}
