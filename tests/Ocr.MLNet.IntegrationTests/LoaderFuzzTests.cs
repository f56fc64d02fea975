using System.Diagnostics;
using Microsoft.ML;
using Ocr.MLNet.Export;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// Random bytes, truncations and bit flips of real files (SD19 PNGs, EMNIST IDX files from <c>../shared/data</c>) and of a
/// saved model, through the loaders and the model loader: every input either loads or fails with the documented, typed
/// exception naming the file; never a native crash, a hang, a <see cref="NullReferenceException"/> or another type.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class LoaderFuzzTests : TemporaryDirectoryTest
{
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(20);

    protected override string Prefix => "ocr-mlnet-fuzz";


    [Test]
    public void Mutated_SD19_PNGs_load_or_fail_with_a_CharacterDataException_naming_the_image()
    {
        string vowels = TestEnvironment.RealData("nist-sd19-by_class-vowels");
        var originals = Directory.EnumerateFiles(vowels, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(5).Select(File.ReadAllBytes).ToList();
        var mlContext = new MLContext(seed: 1);
        var outcomes = Fuzz(originals, seed: 11, count: 150, bytes => mlContext.Data.LoadFromImages([("A", bytes)]).Preview(),
            (e, _) => e is CharacterDataException && e.Message.Contains("image #0", StringComparison.Ordinal));
        Report("SD19 PNG bytes → LoadFromImages", outcomes);
    }

    [Test]
    public void Mutated_EMNIST_label_and_image_files_load_or_fail_with_an_EmnistDataException_naming_the_file()
    {
        string mnist = TestEnvironment.RealData("emnist-mnist-test");
        string images = Path.Combine(mnist, "emnist-mnist-test-images-idx3-ubyte.gz");
        string labels = Path.Combine(mnist, "emnist-mnist-test-labels-idx1-ubyte.gz");
        string mapping = Path.Combine(mnist, "emnist-mnist-mapping.txt");
        var mlContext = new MLContext(seed: 1);
        var options = new EmnistLoaderOptions { MaxRows = 64 };
        string target = Path.Combine(WorkDirectory, "labels.gz");
        var labelOutcomes = Fuzz([File.ReadAllBytes(labels)], seed: 21, count: 60, bytes =>
        {
            File.WriteAllBytes(target, bytes);
            mlContext.Data.LoadFromEmnist(images, target, mapping, options).Preview();
        }, (e, _) => e is EmnistDataException && e.Message.Contains(target, StringComparison.Ordinal));
        Report("EMNIST labels (gzip IDX) → LoadFromEmnist", labelOutcomes);

        // The images file's first 64 KiB: its header and first rows, where MaxRows = 64 reads.
        string imageTarget = Path.Combine(WorkDirectory, "images.gz");
        byte[] head = File.ReadAllBytes(images).AsSpan(0, 64 * 1024).ToArray();
        var imageOutcomes = Fuzz([head], seed: 22, count: 40, bytes =>
        {
            File.WriteAllBytes(imageTarget, bytes);
            mlContext.Data.LoadFromEmnist(imageTarget, labels, mapping, options).Preview();
        }, (e, _) => e is EmnistDataException && e.Message.Contains(imageTarget, StringComparison.Ordinal));
        Report("EMNIST images (gzip IDX, first 64 KiB) → LoadFromEmnist", imageOutcomes);
    }

    [Test]
    public void Mutated_model_zips_load_or_fail_with_an_InvalidDataException_naming_the_file()
    {
        var mlContext = new MLContext(seed: 1);
        string model = Path.Combine(WorkDirectory, "model.zip");
        TorchSharp.torch.random.manual_seed(3);
        using (var network = new CharacterCnnNetwork(classCount: 4))
        using (var scorer = (IDisposable)ScoringChain.Build(mlContext, CharacterCnnOnnxExporter.Export(network, ["a", "b", "c", "d"])))
        {
            var pixels = SyntheticGlyphs.Load(mlContext, 1, 1);
            mlContext.Model.Save((ITransformer)scorer, pixels.Schema, model);
        }

        string target = Path.Combine(WorkDirectory, "mutated.zip");
        var outcomes = Fuzz([File.ReadAllBytes(model)], seed: 31, count: 60, bytes =>
        {
            File.WriteAllBytes(target, bytes);
            (mlContext.Model.LoadCharacterModel(target, out _) as IDisposable)?.Dispose();
        }, (e, _) => e is InvalidDataException && e.Message.Contains($"'{target}'", StringComparison.Ordinal));
        Report("model zip → LoadCharacterModel", outcomes);
    }

    private sealed record Outcomes(int Tried, int Loaded, int Refused, TimeSpan Slowest);

    /// <summary>
    /// Runs <paramref name="load"/> on <paramref name="count"/> mutations of the originals (a third each: random bytes over
    /// a random span, a truncation, 1–8 flipped bits), each bounded in time; fails on any exception <paramref name="expected"/> rejects.
    /// </summary>
    private static Outcomes Fuzz(IReadOnlyList<byte[]> originals, int seed, int count, Action<byte[]> load, Func<Exception, byte[], bool> expected)
    {
        var random = new Random(seed);
        int loaded = 0, refused = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            byte[] original = originals[i % originals.Count];
            byte[] mutated = Mutate(original, i % 3, random);
            var clock = Stopwatch.StartNew();
            var attempt = Task.Run(() => load(mutated));
            try
            {
                attempt.Wait(PerInput);
            }
            catch (AggregateException)
            {
                // Examined below.
            }

            Assert.That(attempt.IsCompleted, Is.True, $"input {i} (mutation {i % 3}) did not finish within {PerInput.TotalSeconds} s");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            if (attempt.Exception?.InnerException is not { } error)
            {
                loaded++;
                continue;
            }

            Assert.That(expected(error, mutated), Is.True, $"input {i} (mutation {i % 3}) failed with {error.GetType().Name}: {error.Message}\n{error}");
            refused++;
        }

        return new Outcomes(count, loaded, refused, slowest);
    }

    private static byte[] Mutate(byte[] original, int kind, Random random)
    {
        byte[] bytes = (byte[])original.Clone();
        switch (kind)
        {
            case 0:
                int start = random.Next(bytes.Length), length = Math.Min(bytes.Length - start, 1 + random.Next(64));
                random.NextBytes(bytes.AsSpan(start, length));
                return bytes;
            case 1:
                return bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
            default:
                for (int flips = 1 + random.Next(8); flips > 0; flips--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
        }
    }

    private static void Report(string what, Outcomes outcomes)
    {
        TestContext.Out.WriteLine($"{what}: {outcomes.Tried} inputs, {outcomes.Loaded} loaded, {outcomes.Refused} refused with the documented exception, slowest {outcomes.Slowest.TotalMilliseconds:F0} ms");
        Assert.That(outcomes.Refused, Is.GreaterThan(0), $"{what}: no mutation was refused, so the check proved nothing");
    }
}
