using Ocr.MLNet.Training;


namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class ModelSummaryTests
{
    [OneTimeSetUp]
    public void LoadBackend() => TorchBackend.EnsureLoaded();

    // The seed's per-layer rows with its 48-unit head (DESIGN §3).
    private static readonly (string Name, string Kind, long[] Shape, long Params)[] SeedRows =
    [
        ("conv2d", "Conv2D", [32, 30, 30], 320),
        ("batch_normalization", "BatchNormalization", [32, 30, 30], 128),
        ("conv2d_1", "Conv2D", [32, 28, 28], 9_248),
        ("batch_normalization_1", "BatchNormalization", [32, 28, 28], 128),
        ("conv2d_2", "Conv2D", [32, 14, 14], 25_632),
        ("batch_normalization_2", "BatchNormalization", [32, 14, 14], 128),
        ("dropout", "Dropout", [32, 14, 14], 0),
        ("conv2d_3", "Conv2D", [64, 12, 12], 18_496),
        ("batch_normalization_3", "BatchNormalization", [64, 12, 12], 256),
        ("conv2d_4", "Conv2D", [64, 10, 10], 36_928),
        ("batch_normalization_4", "BatchNormalization", [64, 10, 10], 256),
        ("conv2d_5", "Conv2D", [64, 5, 5], 102_464),
        ("batch_normalization_5", "BatchNormalization", [64, 5, 5], 256),
        ("dropout_1", "Dropout", [64, 5, 5], 0),
        ("conv2d_6", "Conv2D", [128, 2, 2], 131_200),
        ("batch_normalization_6", "BatchNormalization", [128, 2, 2], 512),
        ("flatten", "Flatten", [512], 0),
        ("dropout_2", "Dropout", [512], 0),
        ("dense", "Dense", [48], 24_624),
    ];

    [Test]
    public void Summary_with_a_48_unit_head_reproduces_every_row_of_the_seed()
    {
        using var network = new CharacterCnnNetwork(classCount: 48);
        var summary = network.Summarize();

        Assert.That(summary.Layers, Has.Count.EqualTo(SeedRows.Length));
        for (int i = 0; i < SeedRows.Length; i++)
        {
            var (name, kind, shape, parameters) = SeedRows[i];
            var row = summary.Layers[i];
            Assert.Multiple(() =>
            {
                Assert.That(row.Name, Is.EqualTo(name), $"row {i}");
                Assert.That(row.Kind, Is.EqualTo(kind), $"row {i}");
                Assert.That(row.OutputShape, Is.EqualTo(shape), $"{name} output shape");
                Assert.That(row.Parameters, Is.EqualTo(parameters), $"{name} parameters");
            });
        }

        Assert.Multiple(() =>
        {
            Assert.That(summary.TrainableParameters, Is.EqualTo(349_744));
            Assert.That(summary.NonTrainableParameters, Is.EqualTo(832));
            Assert.That(summary.TotalParameters, Is.EqualTo(350_576));
        });
    }

    [Test]
    public void Batch_norm_rows_split_into_trainable_scale_and_shift_and_non_trainable_statistics()
    {
        using var network = new CharacterCnnNetwork(classCount: 48);
        var first = network.Summarize().Layers.Single(l => l.Name == "batch_normalization");
        Assert.That((first.TrainableParameters, first.NonTrainableParameters), Is.EqualTo((64L, 64L)));
    }

    [Test]
    public void The_head_follows_the_class_count()
    {
        using var network = new CharacterCnnNetwork(classCount: 47);
        var summary = network.Summarize();
        var dense = summary.Layers[^1];
        Assert.That(dense.OutputShape, Is.EqualTo(new long[] { 47 }));
        Assert.That(dense.Parameters, Is.EqualTo(512 * 47 + 47));
        Assert.That(summary.ToString(), Does.Contain("Total params: 350,063"));
    }

    [TestCase(1)]
    [TestCase(0)]
    public void Fewer_than_two_classes_is_rejected(int classCount) =>
        Assert.That(() => new CharacterCnnNetwork(classCount), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [TestCase(1.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    public void A_dropout_rate_outside_zero_to_one_is_rejected(double rate) =>
        Assert.That(() => new CharacterCnnNetwork(47, rate), Throws.InstanceOf<ArgumentOutOfRangeException>());
}
