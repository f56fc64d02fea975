using Microsoft.ML;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Tests;

/// <summary>
/// A model zip whose zip structure is damaged (a flipped byte in its central directory, which .NET notices only when it
/// lists the entries, or a cut-off end) is refused by every loader with an error that names the file and says what to do,
/// never with the zip reader's bare message. The models are the pretrained ones, so nothing is trained here.
/// </summary>
[TestFixture]
public sealed class DamagedModelZipTests
{
    private string directory = "";

    [SetUp]
    public void Create() => directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-damaged-zip");

    [TearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    public enum Damage
    {
        /// <summary>The last central-directory header's signature flipped: the zip opens, listing its entries fails.</summary>
        FlippedCentralDirectoryByte,

        /// <summary>The last 100 bytes cut off: no end-of-central-directory record, so opening fails.</summary>
        CutOffEnd,
    }

    private static readonly Dictionary<string, Action<string>> CharacterModelLoaders = new()
    {
        ["LoadCharacterModel(path, out schema)"] = path => new MLContext().Model.LoadCharacterModel(path, out _),
        ["LoadCharacterModel(path, input)"] = path => new MLContext().Model.LoadCharacterModel(path, CharacterModelInput.Pixels),
        ["CharacterRecognizer.Load(path)"] = path => CharacterRecognizer.Load(path).Dispose(),
        ["CharacterRecognizer.Load(stream)"] = path =>
        {
            using var stream = File.OpenRead(path);
            CharacterRecognizer.Load(stream).Dispose();
        },
        ["HandwrittenFieldReader.Load(path)"] = path => HandwrittenFieldReader.Load(path).Dispose(),
    };

    private static readonly Dictionary<string, Action<string>> LineModelLoaders = new()
    {
        ["LoadLineModel(path, out schema)"] = path => new MLContext().Model.LoadLineModel(path, out _),
        ["LineRecognizer.Load(path)"] = path => LineRecognizer.Load(path).Dispose(),
        ["HandwrittenFieldReader.Load(path)"] = path => HandwrittenFieldReader.Load(path).Dispose(),
        ["fine-tuning from it (BaseModel)"] = path =>
        {
            using var stream = File.OpenRead(path);
            using var network = new LineRecognizerNetwork(1 + LineImageFormat.DefaultAlphabet.Length);
            LineRecognizerModel.LoadWeights(stream, network);
        },
    };

    [Test]
    public void Every_character_model_loader_names_the_damaged_file_and_what_to_do(
        [ValueSource(nameof(CharacterLoaderNames))] string loader, [Values] Damage damage)
    {
        string path = DamagedCopy(PretrainedCharacterModel.OpenRead, damage);

        AssertRefusedNamingTheFile(() => CharacterModelLoaders[loader](path), path);
    }

    [Test]
    public void Every_line_model_loader_names_the_damaged_file_and_what_to_do(
        [ValueSource(nameof(LineLoaderNames))] string loader, [Values] Damage damage)
    {
        if (!PretrainedLineModel.IsAvailable)
            Assert.Ignore("This build has no pretrained line model to damage.");
        string path = DamagedCopy(PretrainedLineModel.OpenRead, damage);

        AssertRefusedNamingTheFile(() => LineModelLoaders[loader](path), path);
    }

    private static IEnumerable<string> CharacterLoaderNames() => CharacterModelLoaders.Keys;

    private static IEnumerable<string> LineLoaderNames() => LineModelLoaders.Keys;

    private static void AssertRefusedNamingTheFile(TestDelegate load, string path)
    {
        var error = Assert.Throws<InvalidDataException>(load)!;
        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.StartWith($"'{path}' is not a readable Ocr.MLNet model: its zip is damaged ("));
        Assert.That(error.Message, Does.EndWith("Check that the file was copied completely, or train and save the model again."));
    }

    private string DamagedCopy(Func<Stream> openModel, Damage damage)
    {
        using var model = openModel();
        using var buffer = new MemoryStream();
        model.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        if (damage == Damage.CutOffEnd)
        {
            bytes = bytes[..^100];
        }
        else
        {
            int header = bytes.AsSpan().LastIndexOf("PK\u0001\u0002"u8);
            Assert.That(header, Is.GreaterThan(0), "the zip has a central directory");
            bytes[header + 1] ^= 0xFF;
        }

        string path = Path.Combine(directory, $"{damage}.zip");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
