using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class AugmentationTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-augment";

    [OneTimeSetUp]
    public void LoadTorch() => TorchBackend.EnsureLoaded();

    private static ImageAugmentationOptions Identity() => new()
    {
        RotationDegrees = 0,
        ShiftFraction = 0,
        ZoomRange = 0,
        ShearDegrees = 0,
        ElasticAlpha = 0,
    };

    /// <summary>An asymmetric "L"-like mark: a vertical bar with a foot to the right and one extra dot, ink 1 on 0.</summary>
    private static float[] Mark()
    {
        var pixels = new float[1024];
        for (int r = 9; r <= 18; r++)
            pixels[(r * 32) + 12] = 1;
        for (int c = 12; c <= 17; c++)
            pixels[(18 * 32) + c] = 1;
        pixels[(10 * 32) + 15] = 0.5f;
        return pixels;
    }

    private static Tensor Batch(params float[][] images) =>
        tensor(images.SelectMany(i => i).ToArray(), [images.Length, 1, 32, 32]);

    private static Tensor Scalars(params float[] values) => tensor(values);

    [Test]
    public void Invalid_options_are_all_named_in_one_message()
    {
        var options = new ImageAugmentationOptions
        {
            RotationDegrees = 200,
            ShiftFraction = -0.1,
            ZoomRange = 1,
            ShearDegrees = double.NaN,
            ElasticAlpha = -1,
            ElasticSigma = 0,
        };
        var error = Assert.Throws<ArgumentException>(options.Validate)!;
        Assert.That(error.Message, Does.Contain("RotationDegrees = 200").And.Contain("ShiftFraction = -0.1").And.Contain("ZoomRange = 1")
            .And.Contain("ShearDegrees = NaN").And.Contain("ElasticAlpha = -1").And.Contain("ElasticSigma = 0"));
        Assert.That(() => new ImageAugmenter(options), Throws.ArgumentException);
        Assert.That(() => new MLContext().Data.AugmentImages(SyntheticGlyphs.Load(new MLContext(), 1, 1), 2, options),
            Throws.ArgumentException.With.Message.Contain("RotationDegrees = 200"));
        Assert.That(() => new MLContext().Data.AugmentImages(SyntheticGlyphs.Load(new MLContext(), 1, 1), -1, null),
            Throws.ArgumentException.With.Message.Contain("copiesPerImage = -1"));
        Assert.DoesNotThrow(new ImageAugmentationOptions().Validate);

        var trainer = new CharacterCnnTrainer.Options { Epochs = 0, Augmentation = new ImageAugmentationOptions { ZoomRange = 2 } };
        var trainerError = Assert.Throws<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.CharacterCnn(trainer))!;
        Assert.That(trainerError.Message, Does.Contain("Epochs = 0").And.Contain("Augmentation.ZoomRange = 2"));
    }

    [Test]
    public void Identity_options_leave_images_unchanged()
    {
        using var scope = NewDisposeScope();
        var glyphs = SyntheticGlyphs.Make(3, 1).Select(g => g.Pixels).ToArray();
        var images = Batch(glyphs);
        var augmented = new ImageAugmenter(Identity()).Augment(images, new Generator(5, CPU));
        Assert.That(augmented.shape, Is.EqualTo(images.shape));
        Assert.That((augmented - images).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void A_shift_by_k_pixels_moves_the_mark_by_k_pixels()
    {
        using var scope = NewDisposeScope();
        var mark = Mark();
        var images = Batch(mark, mark);
        var shifted = ImageAugmenter.Warp(images, Scalars(0, 0), Scalars(3, -2), Scalars(-4, 5), Scalars(1, 1), Scalars(0, 0), null);
        var expected = Batch(mark, mark).clone();
        expected[0] = images[0].roll([-4, 3], [1, 2]); // down -4 (up 4), right 3
        expected[1] = images[1].roll([5, -2], [1, 2]); // down 5, left 2
        Assert.That((shifted - expected).abs().max().item<float>(), Is.LessThan(1e-4f));
    }

    [Test]
    public void A_rotation_by_90_degrees_turns_the_mark_counter_clockwise()
    {
        using var scope = NewDisposeScope();
        var images = Batch(Mark());
        var rotated = ImageAugmenter.Warp(images, Scalars(90), Scalars(0), Scalars(0), Scalars(1), Scalars(0), null);
        var expected = images.rot90(1, (2, 3)); // NumPy/torch rot90: counter-clockwise as displayed
        Assert.That((rotated - expected).abs().max().item<float>(), Is.LessThan(1e-4f));
        Assert.That((rotated - images).abs().max().item<float>(), Is.GreaterThan(0.5f), "the mark is not symmetric");
    }

    [Test]
    public void Random_shift_only_keeps_the_ink_and_moves_it_within_the_range()
    {
        using var scope = NewDisposeScope();
        var mark = Mark();
        var images = Batch(Enumerable.Repeat(mark, 16).ToArray());
        var options = Identity();
        options.ShiftFraction = 0.1;
        var shifted = new ImageAugmenter(options).Augment(images, new Generator(3, CPU));
        var coordinates = arange(32, dtype: float32);
        var inkIn = images.sum([1, 2, 3]);
        var inkOut = shifted.sum([1, 2, 3]);
        Assert.That((inkOut - inkIn).abs().max().item<float>(), Is.LessThan(1e-3f), "a shift inside the frame keeps all ink");
        var dx = ((shifted.sum([1, 2]) * coordinates).sum(1) - (images.sum([1, 2]) * coordinates).sum(1)) / inkIn;
        Assert.That(dx.abs().max().item<float>(), Is.LessThanOrEqualTo(3.2f + 1e-3f));
        Assert.That(dx.abs().max().item<float>(), Is.GreaterThan(0.5f), "16 draws in ±3.2 pixels are not all tiny");
        Assert.That(dx.unique().Item1.numel(), Is.GreaterThan(1), "each image draws its own shift");
    }

    [Test]
    public void The_same_seed_gives_the_same_images_and_another_seed_others()
    {
        using var scope = NewDisposeScope();
        var images = Batch(SyntheticGlyphs.Make(4, 2).Select(g => g.Pixels).ToArray());
        var options = new ImageAugmentationOptions { ElasticAlpha = 34, ElasticSigma = 4 };
        var augmenter = new ImageAugmenter(options);
        var first = augmenter.Augment(images, new Generator(7, CPU));
        var second = augmenter.Augment(images, new Generator(7, CPU));
        var other = augmenter.Augment(images, new Generator(8, CPU));
        Assert.That((first - second).abs().max().item<float>(), Is.Zero);
        Assert.That((first - other).abs().max().item<float>(), Is.GreaterThan(0.1f));
        Assert.That((first - images).abs().max().item<float>(), Is.GreaterThan(0.1f));

        random.manual_seed(21);
        var global = augmenter.Augment(images);
        random.manual_seed(21);
        Assert.That((augmenter.Augment(images) - global).abs().max().item<float>(), Is.Zero, "without a generator it draws from the seeded default one");
    }

    [Test]
    public void Elastic_distortion_alone_moves_pixels_a_little_and_is_off_by_default()
    {
        using var scope = NewDisposeScope();
        Assert.That(new ImageAugmentationOptions().ElasticAlpha, Is.Zero);
        var images = Batch(SyntheticGlyphs.Make(2, 3).Select(g => g.Pixels).ToArray());
        var options = Identity();
        options.ElasticAlpha = 34;
        var distorted = new ImageAugmenter(options).Augment(images, new Generator(1, CPU));
        double change = (distorted - images).abs().mean().item<float>();
        Assert.That(change, Is.GreaterThan(0.005).And.LessThan(0.3), "a smooth displacement of about a pixel or two");
    }

    [Test]
    public void Offline_augmentation_adds_copies_with_the_labels_and_keeps_the_originals()
    {
        var mlContext = new MLContext();
        var rows = SyntheticGlyphs.Make(5, 4);
        var data = mlContext.Data.LoadFromEnumerable(rows);
        const int copies = 3;
        var augmented = mlContext.Data.AugmentImages(data, copies, new ImageAugmentationOptions { Seed = 5 });

        Assert.That(augmented.GetRowCount(), Is.EqualTo(rows.Count * (1 + copies)));
        var result = mlContext.Data.CreateEnumerable<GlyphRow>(augmented, reuseRowObject: false).ToList();
        Assert.That(result, Has.Count.EqualTo(rows.Count * (1 + copies)));
        for (int i = 0; i < rows.Count; i++)
        {
            var original = result[i * (1 + copies)];
            Assert.That(original.Label, Is.EqualTo(rows[i].Label));
            Assert.That(original.Pixels, Is.EqualTo(rows[i].Pixels), "originals keep their exact values");
            for (int k = 1; k <= copies; k++)
            {
                var copy = result[(i * (1 + copies)) + k];
                Assert.That(copy.Label, Is.EqualTo(rows[i].Label));
                Assert.That(copy.Pixels, Has.Length.EqualTo(1024));
                Assert.That(copy.Pixels, Is.Not.EqualTo(rows[i].Pixels));
                Assert.That(copy.Pixels.Min(), Is.GreaterThanOrEqualTo(0f));
                Assert.That(copy.Pixels.Max(), Is.LessThanOrEqualTo(1f));
            }
        }

        var again = mlContext.Data.CreateEnumerable<GlyphRow>(
            mlContext.Data.AugmentImages(data, copies, new ImageAugmentationOptions { Seed = 5 }), reuseRowObject: false).ToList();
        var otherSeed = mlContext.Data.CreateEnumerable<GlyphRow>(
            mlContext.Data.AugmentImages(data, copies, new ImageAugmentationOptions { Seed = 6 }), reuseRowObject: false).ToList();
        Assert.That(again.Select(r => r.Pixels), Is.EqualTo(result.Select(r => r.Pixels)), "same seed, same copies");
        Assert.That(otherSeed[1].Pixels, Is.Not.EqualTo(result[1].Pixels), "another seed, other copies");

        var shuffled = mlContext.Data.ShuffleRows(augmented, seed: 1);
        Assert.That(mlContext.Data.CreateEnumerable<GlyphRow>(shuffled, reuseRowObject: false).Count(), Is.EqualTo(result.Count));
    }

    [Test]
    public void Offline_augmentation_reports_missing_and_mistyped_columns_in_ml_net_words()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, 1, 1);
        Assert.That(() => mlContext.Data.AugmentImages(data, 1, null, pixelsColumnName: "Features"),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartWith("Could not find pixels column 'Features'"));
        Assert.That(() => mlContext.Data.AugmentImages(data, 1, null, labelColumnName: "Character"),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartWith("Could not find label column 'Character'"));
        Assert.That(() => mlContext.Data.AugmentImages(data, 1, null, pixelsColumnName: "Label"),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartWith("Schema mismatch for pixels column 'Label'"));
    }

    private static CharacterCnnTrainer.Options AugmentedRun(int epochs)
    {
        var options = CharacterCnnTrainerTests.SmallRun(epochs);
        options.Augmentation = new ImageAugmentationOptions { RotationDegrees = 8, ShiftFraction = 0.08, ZoomRange = 0.1, ShearDegrees = 8 };
        return options;
    }

    [Test]
    public void Training_with_online_augmentation_learns()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 60, seed: 1);
        using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(AugmentedRun(6)).Fit(data);
        TestContext.Out.WriteLine(string.Join("\n", model.History.Epochs.Select(e => e.ToString())));
        Assert.That(model.History.Epochs[^1].ValidationAccuracy, Is.GreaterThan(0.7), "4 classes: chance is 0.25");
    }

    [Test]
    public void Online_augmentation_is_deterministic_and_resumes_like_an_uninterrupted_run()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, perClass: 20, seed: 2);
        using var first = mlContext.MulticlassClassification.Trainers.CharacterCnn(AugmentedRun(2)).Fit(data);
        using var second = mlContext.MulticlassClassification.Trainers.CharacterCnn(AugmentedRun(2)).Fit(data);
        Assert.That(second.History.Epochs.Select(e => e.TrainingLoss), Is.EqualTo(first.History.Epochs.Select(e => e.TrainingLoss)));
        Assert.That(second.OnnxModel.ToArray(), Is.EqualTo(first.OnnxModel.ToArray()));

        var plain = AugmentedRun(2);
        plain.Augmentation = null;
        using var unaugmented = mlContext.MulticlassClassification.Trainers.CharacterCnn(plain).Fit(data);
        Assert.That(unaugmented.OnnxModel.ToArray(), Is.Not.EqualTo(first.OnnxModel.ToArray()), "the option changes the training batches");

        // Interrupted after epoch 1 of the same 2-epoch run (the cosine schedule depends on the run's length).
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        var firstPart = AugmentedRun(2);
        firstPart.CheckpointDirectory = checkpoints;
        using var interrupt = CharacterCnnTrainerTests.InterruptAfterFirstEpoch(firstPart);
        Assert.That(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(firstPart).Fit(data), Throws.InstanceOf<OperationCanceledException>());
        var rest = AugmentedRun(2);
        rest.CheckpointDirectory = checkpoints;
        using var resumed = mlContext.MulticlassClassification.Trainers.CharacterCnn(rest).Fit(data);
        Assert.That(resumed.History.ResumedAfterEpoch, Is.EqualTo(1));
        Assert.That(resumed.OnnxModel.ToArray(), Is.EqualTo(first.OnnxModel.ToArray()));
    }
}
