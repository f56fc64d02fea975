using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Text;
using Ocr.MLNet.Training;
using static TorchSharp.torch;

namespace Ocr.MLNet.Tests;

/// <summary>
/// Fine-tuning the character model on a user's fields: a base model's weights are where training starts
/// (<c>CharacterCnnTrainer.Options.BaseModel</c>), and <see cref="FieldCharacters"/> cuts labelled fields into labelled
/// character images the way the reader cuts them.
/// </summary>
[TestFixture]
public sealed class FieldCharactersTests
{
    [OneTimeSetUp]
    public void LoadBackend() => TorchBackend.EnsureLoaded();

    [Test]
    public void Exported_weights_copied_into_a_fresh_network_give_the_same_outputs()
    {
        random.manual_seed(1);
        using var trained = new CharacterCnnNetwork(classCount: 5);
        random.manual_seed(2);
        using var fresh = new CharacterCnnNetwork(classCount: 5);
        var graph = Onnx.ModelProto.Parser.ParseFrom(CharacterCnnOnnxExporter.Export(trained, ["a", "b", "c", "d", "e"])).Graph;
        using var images = rand(4, 1, 32, 32);
        Assert.That(Outputs(fresh, images), Is.Not.EqualTo(Outputs(trained, images)).Within(1e-3f), "two seeds start apart");

        CharacterCnnOnnxExporter.CopyWeights(graph, fresh, "the test's export");

        Assert.That(Outputs(fresh, images), Is.EqualTo(Outputs(trained, images)).Within(1e-5f));
    }

    [Test]
    public void Weights_of_another_network_are_refused_naming_the_weight()
    {
        using var five = new CharacterCnnNetwork(classCount: 5);
        using var three = new CharacterCnnNetwork(classCount: 3);
        var graph = Onnx.ModelProto.Parser.ParseFrom(CharacterCnnOnnxExporter.Export(three, ["a", "b", "c"])).Graph;
        var error = Assert.Throws<InvalidDataException>(() => CharacterCnnOnnxExporter.CopyWeights(graph, five, "three.zip"))!;
        Assert.That(error.Message, Does.Contain("three.zip").And.Contain("dense.weight"));
    }

    [Test]
    public void A_base_model_is_where_training_starts_and_its_classes_are_kept()
    {
        var mlContext = new MLContext(seed: 1);
        // Two shapes the packaged model knows, labelled with two of its 47 classes.
        var rows = SyntheticGlyphs.Make(perClass: 12, seed: 3, classes: ["|", "O"])
            .Select(r => new GlyphRow { Label = r.Label == "|" ? "1" : "O", Pixels = r.Pixels }).ToList();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        using var recognizer = CharacterRecognizer.Load(PretrainedCharacterModel.OpenRead());
        float[] baseScores = recognizer.ScorePixels(rows.SelectMany(r => r.Pixels).ToArray());

        float[] Tuned(bool fromBase)
        {
            var options = new CharacterCnnTrainer.Options
            {
                BaseModel = fromBase ? PretrainedCharacterModel.OpenRead : null,
                Epochs = 1,
                LearningRate = 1e-9, // the weights stay as they start
                BatchSize = 8,
                ValidationFraction = 0,
                TimeBudget = null,
                Augmentation = null,
                RecalibrateBatchNorm = false,
                UseExponentialMovingAverage = false,
                BatchNormMomentum = 0.999, // the running statistics barely move in three batches
                Device = TrainingDevice.Cpu,
            };
            using var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
            if (fromBase)
                Assert.That(model.ClassNames, Is.EqualTo(recognizer.ClassNames), "the base model's 47 classes, in its order");
            else
                Assert.That(model.ClassNames, Is.EqualTo(new[] { "1", "O" }));
            return model.Transform(data).GetColumn<float[]>(CharacterFormat.ScoreColumnName).SelectMany(s => s).ToArray();
        }

        Assert.That(Tuned(fromBase: true), Is.EqualTo(baseScores).Within(0.02f));
        Assert.That(Tuned(fromBase: false).Max(), Is.LessThan(0.9f), "fresh weights at a learning rate of 1e-9 know nothing");
    }

    [Test]
    public void A_label_the_base_model_has_no_class_for_is_refused_naming_the_row()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(SyntheticGlyphs.Make(perClass: 3, seed: 1, classes: ["O", "-"]));
        var options = new CharacterCnnTrainer.Options { BaseModel = PretrainedCharacterModel.OpenRead, Epochs = 1, TimeBudget = null };
        var error = Assert.Throws<InvalidDataException>(() => mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data))!;
        Assert.That(error.Message, Does.Contain("keeps the base model's classes").And.Contain("'-'").And.Contain("row"));
    }

    [Test]
    public void Names_are_cut_into_one_labelled_image_per_letter_where_the_reader_finds_as_many()
    {
        var fields = FieldEvaluation.LoadLabels(TestEnvironment.RealData(Path.Combine("handwritten-fields", "names-dev"))).Take(16).ToList();
        using var reader = HandwrittenFieldReader.LoadPretrained(new FieldReaderOptions { Method = FieldReadingMethod.Segmentation });

        var characters = FieldCharacters.Cut(reader, fields, FieldKind.Upper);

        Assert.That(characters.FieldsUsed + characters.FieldsSkipped.Count, Is.EqualTo(fields.Count));
        Assert.That(characters.FieldsUsed, Is.GreaterThanOrEqualTo(12), string.Join("\n", characters.FieldsSkipped));
        Assert.That(characters.FieldsSkipped, Has.All.Contain("characters cut for"));
        var usedText = string.Concat(fields.Where(f => !characters.FieldsSkipped.Any(s => s.StartsWith(f.ImagePath + ":", StringComparison.Ordinal)))
            .Select(f => string.Concat(f.Text.Where(char.IsLetterOrDigit))));
        Assert.That(string.Concat(characters.Labels), Is.EqualTo(usedText), "each used field's letters, in order");
        Assert.That(characters.Labels.Distinct(), Is.SubsetOf(reader.ClassNames));
        float ink = 0;
        for (int i = 0; i < characters.Count; i++)
            ink = Math.Max(ink, characters.PixelsOf(i).ToArray().Max());
        Assert.That(ink, Is.EqualTo(1f).Within(1e-4f), "prepared as the reader prepares them: scaled to a maximum of 1");

        var (training, validation) = characters.SplitByField(0.25, seed: 3);
        Assert.That(validation.FieldsUsed, Is.EqualTo((int)Math.Ceiling(0.25 * characters.FieldsUsed)));
        Assert.That(training.FieldsUsed + validation.FieldsUsed, Is.EqualTo(characters.FieldsUsed));
        Assert.That(training.Count + validation.Count, Is.EqualTo(characters.Count));
        // Whole fields on each side: each side's letters are whole names of the used fields, in order.
        var usedNames = fields.Where(f => !characters.FieldsSkipped.Any(s => s.StartsWith(f.ImagePath + ":", StringComparison.Ordinal)))
            .Select(f => string.Concat(f.Text.Where(char.IsLetterOrDigit))).ToList();
        Assert.That(IsInterleavingOfWholeNames(string.Concat(training.Labels), string.Concat(validation.Labels), usedNames), Is.True);
        var again = characters.SplitByField(0.25, seed: 3).Validation;
        Assert.That(again.Labels, Is.EqualTo(validation.Labels), "seeded");

        var view = characters.ToDataView(new MLContext());
        Assert.That(view.Schema[CharacterFormat.LabelColumnName].Type, Is.EqualTo(TextDataViewType.Instance));
        Assert.That(((VectorDataViewType)view.Schema[CharacterFormat.PixelsColumnName].Type).Size, Is.EqualTo(CharacterFormat.PixelCount));
        Assert.That(view.GetColumn<string>(CharacterFormat.LabelColumnName), Is.EqualTo(characters.Labels));
    }

    /// <summary>Whether the names split into two ordered groups whose letters are <paramref name="first"/> and <paramref name="second"/>.</summary>
    private static bool IsInterleavingOfWholeNames(string first, string second, IReadOnlyList<string> names)
    {
        int a = 0, b = 0;
        foreach (string name in names)
        {
            if (string.CompareOrdinal(first, a, name, 0, name.Length) == 0 && a + name.Length <= first.Length)
                a += name.Length;
            else if (string.CompareOrdinal(second, b, name, 0, name.Length) == 0 && b + name.Length <= second.Length)
                b += name.Length;
            else
                return false;
        }

        return a == first.Length && b == second.Length;
    }

    private static float[] Outputs(CharacterCnnNetwork network, Tensor images)
    {
        network.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return network.forward(images).data<float>().ToArray();
    }
}
