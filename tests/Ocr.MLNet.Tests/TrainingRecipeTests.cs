using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

/// <summary>The parts of the default recipe: precision and layout, balanced sampling, weight averaging, the held-out split.</summary>
[TestFixture]
public sealed class TrainingRecipeTests
{
    [OneTimeSetUp]
    public void LoadBackend() => TorchBackend.EnsureLoaded();

    [Test]
    public void Channels_last_gives_the_same_logits_as_the_default_layout_up_to_rounding()
    {
        random.manual_seed(3);
        using var network = new CharacterCnnNetwork(classCount: 10, dropoutRate: 0);
        using var images = rand(8, 1, 32, 32);
        network.train();
        using var nchw = network.forward(images);
        network.ChannelsLast = true;
        using var nhwc = network.forward(images);
        float difference = (nhwc - nchw).abs().max().item<float>();
        float scale = nchw.abs().max().item<float>();
        TestContext.Out.WriteLine($"max difference {difference}, max logit {scale}");
        // oneDNN sums in another order for NHWC; a wrong layout would change the logits by their own size.
        Assert.That(difference, Is.LessThan(1e-4 * Math.Max(1, scale)));
    }

    [Test]
    public void Bfloat16_mixed_precision_keeps_float32_weights_and_logits_close_to_float32()
    {
        random.manual_seed(4);
        using var network = new CharacterCnnNetwork(classCount: 10, dropoutRate: 0);
        network.eval();
        using var images = rand(16, 1, 32, 32);
        using var reference = network.forward(images);
        network.ComputeType = ScalarType.BFloat16;
        network.ChannelsLast = true;
        using var mixed = network.forward(images);

        Assert.That(mixed.dtype, Is.EqualTo(ScalarType.Float32), "softmax and the loss see float32 logits");
        Assert.That(network.parameters().All(p => p.dtype == ScalarType.Float32), Is.True, "master weights stay float32");
        double scale = reference.abs().max().item<float>();
        double difference = (mixed - reference).abs().max().item<float>();
        Assert.That(difference, Is.LessThan(0.05 * scale), "bfloat16 keeps 8 bits of mantissa: close, not equal");
        Assert.That(difference, Is.GreaterThan(0), "the convolutions really ran in bfloat16");
        using var agree = mixed.argmax(1).eq(reference.argmax(1)).sum();
        Assert.That(agree.item<long>(), Is.GreaterThanOrEqualTo(14));
        Assert.That(() => network.ComputeType = ScalarType.Float16, Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Auto_precision_follows_the_cpu_flags_and_the_explicit_choices_are_kept()
    {
        Assert.That(PrecisionSupport.Resolve(TrainingPrecision.Float32, CPU), Is.EqualTo(ScalarType.Float32));
        Assert.That(PrecisionSupport.Resolve(TrainingPrecision.BFloat16, CPU), Is.EqualTo(ScalarType.BFloat16));
        if (!File.Exists("/proc/cpuinfo"))
            Assert.Ignore("No /proc/cpuinfo to compare the CPUID answer with.");
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        bool native = flags.Contains("avx512f") && (flags.Contains("avx512_bf16") || flags.Contains("amx_bf16"));
        Assert.That(PrecisionSupport.CpuHasNativeBFloat16(), Is.EqualTo(native), "CPUID and the kernel's flags agree");
        Assert.That(PrecisionSupport.Resolve(TrainingPrecision.Auto, CPU), Is.EqualTo(native ? ScalarType.BFloat16 : ScalarType.Float32));
    }

    [Test]
    public void Balanced_sampling_draws_each_class_equally_and_afresh_every_epoch()
    {
        // Class 0 has 10 rows, class 1 has 3, class 2 has 40: a quota of 8 subsamples 0 and 2 and repeats 1.
        var labels = Enumerable.Repeat(0, 10).Concat(Enumerable.Repeat(1, 3)).Concat(Enumerable.Repeat(2, 40)).ToArray();
        var sampler = new ClassBalancedSampler(labels, classCount: 4, imagesPerClass: 8);
        Assert.That(sampler.RowsPerEpoch, Is.EqualTo(24), "the empty class 3 is skipped");

        long[] epoch1 = sampler.Draw(1), epoch2 = sampler.Draw(2);
        foreach (var rows in new[] { epoch1, epoch2 })
        {
            var perClass = rows.GroupBy(r => labels[r]).ToDictionary(g => g.Key, g => g.ToList());
            Assert.That(perClass.Keys, Is.EquivalentTo(new[] { 0, 1, 2 }));
            Assert.That(perClass.Values.Select(v => v.Count), Is.All.EqualTo(8));
            Assert.That(perClass[0].Distinct().Count(), Is.EqualTo(8), "a class with enough rows repeats none");
            Assert.That(perClass[1].GroupBy(r => r).Select(g => g.Count()), Is.All.InRange(2, 3), "all 3 rows of the small class before any third copy");
        }

        Assert.That(sampler.Draw(1), Is.EqualTo(epoch1), "the same epoch seed draws the same rows");
        Assert.That(epoch2, Is.Not.EqualTo(epoch1), "another epoch draws afresh");
        Assert.That(new ClassBalancedSampler(labels, 3, null).ImagesPerClass, Is.EqualTo(18), "default quota: the mean class size, rounded up");
    }

    [Test]
    public void Weight_averaging_moves_the_average_towards_the_live_weights()
    {
        random.manual_seed(6);
        using var live = new CharacterCnnNetwork(classCount: 5);
        using var averaging = new WeightAveraging(live, decay: 0.9, CPU);
        var liveWeight = live.parameters().First();
        var averageWeight = averaging.Averaged.parameters().First();
        using var before = averageWeight.detach().clone();
        Assert.That(before.allclose(liveWeight.detach(), rtol: 0, atol: 0), Is.True, "starts at the live weights");

        using (no_grad())
            liveWeight.add_(1.0);
        averaging.Update(step: 1_000); // past the decay's warm-up: weight 0.9
        using var expected = before * 0.9 + liveWeight.detach() * 0.1;
        Assert.That(averageWeight.allclose(expected, rtol: 1e-6, atol: 1e-6), Is.True);

        averaging.Update(step: 1); // early steps weigh the live weights more: min(0.9, 2/11)
        using var early = expected * (2.0 / 11) + liveWeight.detach() * (9.0 / 11);
        Assert.That(averageWeight.allclose(early, rtol: 1e-5, atol: 1e-6), Is.True);
    }

    [Test]
    public void The_default_recipe_learns_and_ends_with_the_averaged_weights()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 60, seed: 1);
        var options = CharacterCnnTrainerTests.SmallRun(4);
        Assert.That(options.ClassBalancedSampling && options.UseExponentialMovingAverage && options.Augmentation is not null
            && options.LearningRateSchedule == LearningRateSchedule.CosineAnnealing, Is.True, "the defaults are the recipe");
        var defaults = new CharacterCnnTrainer.Options();
        Assert.That((defaults.LearningRate, defaults.LabelSmoothing, defaults.Augmentation!.RotationDegrees), Is.EqualTo((3e-3, 0.1, 10.0)),
            "peak rate 3e-3 with label smoothing 0.1 and ±10 ranges: the bundled model's recipe");
        using var averaged = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);

        var withoutAverage = CharacterCnnTrainerTests.SmallRun(4);
        withoutAverage.UseExponentialMovingAverage = false;
        using var last = mlContext.MulticlassClassification.Trainers.CharacterCnn(withoutAverage).Fit(data);

        TestContext.Out.WriteLine(string.Join("\n", averaged.History.Epochs.Select(e => e.ToString())));
        Assert.That(averaged.History.Epochs[^1].ValidationAccuracy, Is.GreaterThan(0.7), "4 classes: chance is 0.25");
        Assert.That(averaged.History.Epochs.Select(e => e.TrainingLoss), Is.EqualTo(last.History.Epochs.Select(e => e.TrainingLoss)),
            "averaging does not change the training steps");
        Assert.That(averaged.OnnxModel.ToArray(), Is.Not.EqualTo(last.OnnxModel.ToArray()), "the model is the average, not the last weights");
    }

    [Test]
    public void The_balanced_split_holds_out_the_same_rows_of_every_class_and_trains_on_the_rest()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = SyntheticGlyphs.Make(perClass: 30, seed: 3);
        rows.AddRange(SyntheticGlyphs.Make(perClass: 6, seed: 4, classes: ["X"]));
        var data = mlContext.Data.LoadFromEnumerable(rows);

        var split = mlContext.Data.BalancedTrainTestSplit(data, testImagesPerClass: 10, seed: 1);
        var test = mlContext.Data.CreateEnumerable<GlyphRow>(split.TestSet, reuseRowObject: false).ToList();
        var train = mlContext.Data.CreateEnumerable<GlyphRow>(split.TrainSet, reuseRowObject: false).ToList();
        Assert.That(test.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count()),
            Is.EqualTo(new Dictionary<string, int> { ["-"] = 10, ["|"] = 10, ["/"] = 10, ["O"] = 10, ["X"] = 3 }), "at most half of a small class");
        Assert.That(train.Count + test.Count, Is.EqualTo(rows.Count));
        var testPixels = test.Select(r => string.Join(",", r.Pixels)).ToHashSet();
        Assert.That(train.Count(r => testPixels.Contains(string.Join(",", r.Pixels))), Is.Zero, "no held-out image is trained on");

        var again = mlContext.Data.BalancedTrainTestSplit(data, testImagesPerClass: 10, seed: 1);
        Assert.That(mlContext.Data.CreateEnumerable<GlyphRow>(again.TestSet, false).Select(r => string.Join(",", r.Pixels)),
            Is.EqualTo(test.Select(r => string.Join(",", r.Pixels))), "same data and seed, same split");
        Assert.That(() => mlContext.Data.BalancedTrainTestSplit(data, testImagesPerClass: 0),
            Throws.ArgumentException.With.Message.Contains("testImagesPerClass is 0"));
    }
}
