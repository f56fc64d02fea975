using Microsoft.ML;
using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// Fine-tuning the segmentation reader's character model on real names: <c>train-field-characters</c> on a dev subset,
/// then <c>evaluate-fields</c> with its model on rows it never trained on; fine-tuned on the first 400 names with the
/// default recipe, it reads the last 100 better than the packaged model.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class FieldCharactersRealDataTests
{
    /// <summary>Rows of names-dev that may be trained on (PROVENANCE.md); the rest are the validation rows.</summary>
    private const int TrainingRows = 400;

    private string directory = "";

    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    private static string Names => TestEnvironment.RealData(Path.Combine("handwritten-fields", "names-dev"));

    [OneTimeSetUp]
    public void CreateDirectory() => directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-field-characters");

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    [Test]
    public void Train_field_characters_fine_tunes_on_a_names_subset_and_evaluate_fields_reads_with_its_model()
    {
        string model = Path.Combine(directory, "names-subset.zip");
        var train = Run($"train-field-characters --data \"{Names}\" --first 40 --kind upper --epochs 1 --model \"{model}\"");
        Assert.That(train.ExitCode, Is.Zero, train.Output);
        Assert.That(train.Output, Does.Contain("Cut ").And.Contain("of 40 fields").And.Contain("fields held out whole").And.Contain("Starting from the base model's weights").And.Contain("Epoch 1:"));
        Assert.That(File.Exists(model) && File.Exists(Training.TrainingHistory.PathBeside(model)), Is.True, train.Output);

        var evaluate = Run($"evaluate-fields --data \"{Names}\" --skip {TrainingRows} --first 20 --kind upper --model \"{model}\"");
        Assert.That(evaluate.ExitCode, Is.Zero, evaluate.Output);
        Assert.That(evaluate.Output, Does.Contain("character error rate"));

        // A user's own pair: this character model beside a line model (here the packaged one, written out as a user's would be).
        string lineModel = Path.Combine(directory, "lines.zip");
        using (var packaged = PretrainedLineModel.OpenRead())
        using (var file = File.Create(lineModel))
            packaged.CopyTo(file);
        string report = Path.Combine(directory, "combined-report");
        var combined = Run($"evaluate-fields --data \"{Names}\" --skip {TrainingRows} --first 20 --kind upper --model \"{model}\" --line-model \"{lineModel}\" --method combined --report \"{report}\"");
        Assert.That(combined.ExitCode, Is.Zero, combined.Output);
        Assert.That(combined.Output, Does.Contain("character error rate").And.Not.Contain("Using the pretrained model"));
        Assert.That(File.ReadAllLines(Path.Combine(report, "fields.tsv")), Has.Length.EqualTo(21), "a row per field scored, under the header");

        var absent = Run($"evaluate-fields --data \"{Names}\" --first 2 --kind upper --model \"{model}\" --line-model \"{Path.Combine(directory, "absent.zip")}\"");
        Assert.That(absent.ExitCode, Is.Not.Zero, absent.Output);
        Assert.That(absent.Output, Does.Contain("absent.zip").And.Contain("does not exist").And.Contain("--line-model"));
    }

    [Test]
    public void Train_field_characters_names_a_missing_base_model()
    {
        var run = Run($"train-field-characters --data \"{Names}\" --from \"{Path.Combine(directory, "absent.zip")}\" --model \"{Path.Combine(directory, "never.zip")}\"");
        Assert.That(run.ExitCode, Is.Not.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("absent.zip").And.Contain("no such file"));
        Assert.That(File.Exists(Path.Combine(directory, "never.zip")), Is.False);
    }

    [Test]
    public void Fine_tuned_on_the_first_400_names_the_character_model_reads_the_last_100_names_characters_better()
    {
        var fields = FieldEvaluation.LoadLabels(Names);
        var segmentation = new FieldReaderOptions { Kind = FieldKind.Upper, Method = FieldReadingMethod.Segmentation };
        FieldCharacters training, validation;
        using (var packaged = HandwrittenFieldReader.LoadPretrained(segmentation))
        {
            training = FieldCharacters.Cut(packaged, fields.Take(TrainingRows), FieldKind.Upper);
            validation = FieldCharacters.Cut(packaged, fields.Skip(TrainingRows), FieldKind.Upper);
        }

        var mlContext = new MLContext(seed: 1) { TempFilePath = directory };
        var options = FieldCharacters.FineTuningOptions(PretrainedCharacterModel.OpenRead);
        var (tuning, heldOut) = training.SplitByField(0.1, options.Seed);
        options.ValidationData = heldOut.ToDataView(mlContext);
        var tuned = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(tuning.ToDataView(mlContext));
        var paths = mlContext.Data.LoadFromEnumerable(Array.Empty<CharacterImagePath>());
        string zip = Path.Combine(directory, "names-400.zip");
        using (var chain = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, CharacterFormat.ImagePathColumnName)
            .Append(mlContext.Transforms.PrepareCharacterImages()).Fit(paths).Append((ITransformer)tuned))
        {
            mlContext.Model.SaveCharacterModel(chain, paths.Schema, zip);
        }

        double before = CapitalAccuracy(PretrainedCharacterModel.OpenRead(), validation);
        double after = CapitalAccuracy(File.OpenRead(zip), validation);
        TestContext.Out.WriteLine($"names: {training.Count} characters cut from {training.FieldsUsed} of the first 400 fields; on the {validation.Count} characters of the last 100 "
            + $"the packaged model reads {before:P2} as their capital, the fine-tuned one {after:P2}");
        Assert.That(training.FieldsUsed, Is.GreaterThan(300), "most names are cut into as many characters as they have");
        Assert.That(after, Is.GreaterThan(before));
    }

    /// <summary>The share of the characters whose likeliest capital letter under the model is their label.</summary>
    private static double CapitalAccuracy(Stream model, FieldCharacters characters)
    {
        using (model)
        {
            using var recognizer = CharacterRecognizer.Load(model);
            var capitals = Enumerable.Range(0, recognizer.ClassNames.Count).Where(c => recognizer.ClassNames[c] is [>= 'A' and <= 'Z']).ToArray();
            var pixels = Enumerable.Range(0, characters.Count).SelectMany(i => characters.PixelsOf(i).ToArray()).ToArray();
            float[] scores = recognizer.ScorePixels(pixels);
            int classes = recognizer.ClassNames.Count, right = 0;
            for (int i = 0; i < characters.Count; i++)
            {
                int best = capitals.MaxBy(c => scores[(i * classes) + c]);
                right += recognizer.ClassNames[best] == characters.Labels[i] ? 1 : 0;
            }

            return right / (double)characters.Count;
        }
    }

    private static (int ExitCode, string Output) Run(string arguments) =>
        TestEnvironment.Run("dotnet", $"\"{Cli}\" {arguments}", TestContext.CurrentContext.WorkDirectory, TimeSpan.FromMinutes(8));
}
