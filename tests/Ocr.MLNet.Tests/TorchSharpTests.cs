using TorchSharp;
using static TorchSharp.torch;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class TorchSharpTests
{
    [Test]
    public void Training_fixes_glibcs_malloc_thresholds_once_per_process_on_linux()
    {
        // glibc (Debian's libc.so.6) takes both values; the call is idempotent, whoever trained first in this process.
        Assume.That(OperatingSystem.IsLinux() && File.Exists("/proc/self/maps") && File.ReadAllText("/proc/self/maps").Contains("libc.so.6", StringComparison.Ordinal),
            "glibc is loaded");
        Assert.That(NativeMemoryTuning.ApplyForTraining(), Is.True);
        Assert.That(NativeMemoryTuning.ApplyForTraining(), Is.True, "a second call keeps the first result");
    }

    [OneTimeSetUp]
    public void LoadBackend() => TorchBackend.EnsureLoaded();

    [Test]
    public void Dropout_zeroes_its_rate_scales_the_rest_keeps_channels_last_and_follows_its_generator()
    {
        using var scope = NewDisposeScope();
        // Channels-last strides, as the trainer's activations have them.
        var x = (rand(64, 32, 14, 14) + 0.5).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        using var first = new Generator(11);
        using var second = new Generator(11);
        var dropped = CharacterCnnNetwork.InvertedDropout(x, 0.4, first);
        var again = CharacterCnnNetwork.InvertedDropout(x, 0.4, second);

        var zeroed = dropped.eq(0);
        double share = zeroed.to(float32).mean().item<float>();
        Assert.That(share, Is.EqualTo(0.4).Within(0.005), "401,408 draws: the zeroed share is the rate within 0.005 (about 6 standard errors)");
        var kept = dropped.masked_select(zeroed.logical_not());
        var original = x.masked_select(zeroed.logical_not());
        Assert.That((kept - (original / 0.6)).abs().max().item<float>(), Is.LessThan(1e-6f), "kept values are divided by the keep rate");
        Assert.That(dropped.stride(), Is.EqualTo(x.stride()), "the result keeps the channels-last layout");
        Assert.That(dropped.eq(again).all().item<bool>(), Is.True, "the same generator state gives the same mask");
        Assert.That(CharacterCnnNetwork.InvertedDropout(x, 0.4, first).eq(dropped).all().item<bool>(), Is.False, "the generator moves on");
        Assert.That(ReferenceEquals(CharacterCnnNetwork.InvertedDropout(x, 0, first), x), Is.True, "rate 0 is the identity");
    }

    [Test]
    public void Recalibrated_batch_norm_holds_the_exact_mean_and_variance_of_its_inputs()
    {
        random.manual_seed(5);
        using var network = new CharacterCnnNetwork(classCount: 10);
        using var images = rand(40, 1, 32, 32);
        network.RecalibrateBatchNorm(images, batchSize: 8); // five batches of equal size: their average is the whole set's

        var block = network.named_modules().First(m => m.name.EndsWith("block0", StringComparison.Ordinal)).module;
        var layers = block.named_children().Select(c => c.module).ToList();
        var norm = layers.OfType<TorchSharp.Modules.BatchNorm2d>().Single();
        using var noGrad = no_grad();
        var x = images;
        foreach (var layer in layers.TakeWhile(l => l is not TorchSharp.Modules.BatchNorm2d))
            x = ((nn.Module<Tensor, Tensor>)layer).forward(x);
        using var expectedMean = x.mean([0, 2, 3]);
        using var batchVariances = stack(Enumerable.Range(0, 5).Select(b => x.narrow(0, b * 8, 8).var([0, 2, 3], unbiased: true)));
        using var expectedVariance = batchVariances.mean([0]);

        Assert.That(norm.running_mean!.allclose(expectedMean, rtol: 1e-4, atol: 1e-5), Is.True, "mean");
        Assert.That(norm.running_var!.allclose(expectedVariance, rtol: 1e-4, atol: 1e-5), Is.True, "variance: the average of the batches' unbiased variances");
        Assert.That(norm.momentum, Is.EqualTo(1 - CharacterCnnNetwork.DefaultBatchNormMomentum).Within(1e-12), "the training momentum is restored");
        Assert.That(network.training, Is.False);
    }

    [Test]
    public void Forward_and_backward_run_on_the_cpu_and_an_adam_step_lowers_the_loss()
    {
        random.manual_seed(7);
        using var network = new CharacterCnnNetwork(classCount: 10);
        using var images = rand(16, 1, 32, 32);
        using var labels = randint(0, 10, [16], dtype: int64);
        using var optimizer = optim.Adam(network.parameters(), lr: 1e-3);
        network.train();

        using var logits = network.forward(images);
        Assert.That(logits.shape, Is.EqualTo(new long[] { 16, 10 }));
        Assert.That(logits.device_type, Is.EqualTo(DeviceType.CPU));

        using var loss = nn.functional.cross_entropy(logits, labels);
        double before = loss.item<float>();
        loss.backward();

        foreach (var (name, parameter) in network.named_parameters())
        {
            using var grad = parameter.grad ?? throw new AssertionException($"{name} has no gradient");
            Assert.That(grad.isfinite().all().item<bool>(), Is.True, $"{name} has a non-finite gradient");
        }

        using var firstConvGrad = network.named_parameters().First(p => p.name.EndsWith("conv.weight", StringComparison.Ordinal)).parameter.grad!;
        Assert.That(firstConvGrad.abs().sum().item<float>(), Is.GreaterThan(0f), "the first convolution got no gradient");

        // Fit the same batch for a few steps in eval mode (no dropout): the loss must fall.
        network.eval();
        double after = before;
        for (int step = 0; step < 20; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var stepLoss = nn.functional.cross_entropy(network.forward(images), labels);
            stepLoss.backward();
            optimizer.step();
            after = stepLoss.item<float>();
        }

        Assert.That(after, Is.LessThan(before * 0.5), $"loss went from {before} to {after}");
    }

    [Test]
    public void The_same_seed_gives_the_same_initial_weights()
    {
        random.manual_seed(123);
        using var first = new CharacterCnnNetwork();
        random.manual_seed(123);
        using var second = new CharacterCnnNetwork();
        foreach (var ((name, a), (_, b)) in first.named_parameters().Zip(second.named_parameters()))
            Assert.That(a.allclose(b, rtol: 0, atol: 0), Is.True, $"{name} differs");
    }

    [Test]
    public void Softmax_of_the_output_is_a_probability_distribution()
    {
        random.manual_seed(1);
        using var network = new CharacterCnnNetwork();
        network.eval();
        using var noGrad = no_grad();
        using var probabilities = nn.functional.softmax(network.forward(rand(4, 1, 32, 32)), 1);
        using var sums = probabilities.sum(1);
        Assert.That(sums.allclose(ones(4), rtol: 1e-5, atol: 1e-5), Is.True);
        Assert.That(probabilities.shape, Is.EqualTo(new long[] { 4, CharacterCnnNetwork.DefaultClassCount }));
    }
}
