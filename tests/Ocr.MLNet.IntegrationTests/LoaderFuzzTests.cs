using System.Diagnostics;
using Microsoft.ML;
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
        var outcomes = Fuzzer.Run(originals, seed: 11, count: 150, PerInput, bytes => mlContext.Data.LoadFromImages([("A", bytes)]).Preview(),
            (e, _) => e is CharacterDataException && e.Message.Contains("image #0", StringComparison.Ordinal));
        Fuzzer.Report("SD19 PNG bytes → LoadFromImages", outcomes);
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
        var labelOutcomes = Fuzzer.Run([File.ReadAllBytes(labels)], seed: 21, count: 60, PerInput, bytes =>
        {
            File.WriteAllBytes(target, bytes);
            mlContext.Data.LoadFromEmnist(images, target, mapping, options).Preview();
        }, (e, _) => e is EmnistDataException && e.Message.Contains(target, StringComparison.Ordinal));
        Fuzzer.Report("EMNIST labels (gzip IDX) → LoadFromEmnist", labelOutcomes);

        // The images file's first 64 KiB: its header and first rows, where MaxRows = 64 reads.
        string imageTarget = Path.Combine(WorkDirectory, "images.gz");
        byte[] head = File.ReadAllBytes(images).AsSpan(0, 64 * 1024).ToArray();
        var imageOutcomes = Fuzzer.Run([head], seed: 22, count: 40, PerInput, bytes =>
        {
            File.WriteAllBytes(imageTarget, bytes);
            mlContext.Data.LoadFromEmnist(imageTarget, labels, mapping, options).Preview();
        }, (e, _) => e is EmnistDataException && e.Message.Contains(imageTarget, StringComparison.Ordinal));
        Fuzzer.Report("EMNIST images (gzip IDX, first 64 KiB) → LoadFromEmnist", imageOutcomes);
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
        var outcomes = Fuzzer.Run([File.ReadAllBytes(model)], seed: 31, count: 60, PerInput, bytes =>
        {
            File.WriteAllBytes(target, bytes);
            (mlContext.Model.LoadCharacterModel(target, out _) as IDisposable)?.Dispose();
        }, (e, _) => e is InvalidDataException && e.Message.Contains($"'{target}'", StringComparison.Ordinal));
        Fuzzer.Report("model zip → LoadCharacterModel", outcomes);
    }
}
