using Microsoft.ML;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The pretrained model embedded in the library, on the real NIST images committed in samples/images (see their
/// PROVENANCE.md): one call loads it as an ML.NET transformer, the batched recognizer agrees with it, and the field reader
/// reads the NIST form's digit boxes with it.
/// </summary>
[TestFixture]
public sealed class PretrainedModelTests
{
    private static readonly string Samples = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images");

    /// <summary>The SD19 vowel files and their class after the 47-class merge (i, o, u have no lower-case class of their own).</summary>
    private static readonly (string File, string Class)[] Characters =
    [
        ("train_41_00999.png", "A"), ("train_45_00999.png", "E"), ("train_49_00999.png", "I"), ("train_4f_00999.png", "O"), ("train_55_00999.png", "U"),
        ("train_61_00999.png", "a"), ("train_65_00999.png", "e"), ("train_69_00999.png", "I"), ("train_6f_00999.png", "O"), ("train_75_00999.png", "U"),
    ];

    [Test]
    public void One_call_loads_it_as_an_ML_NET_model_with_the_47_classes_that_reads_real_SD19_characters_by_path()
    {
        var mlContext = new MLContext();
        using var model = (IDisposable)mlContext.Model.LoadPretrainedCharacterModel(out DataViewSchema inputSchema);
        var transformer = (ITransformer)model;
        var classes = CharacterScores.GetClassNames(transformer.GetOutputSchema(inputSchema));
        Assert.That(string.Concat(classes), Is.EqualTo("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"));

        using var engine = mlContext.Model.CreatePredictionEngine<ImageFile, CharacterPrediction>(transformer,
            new PredictionEngineOptions { OwnsTransformer = false });
        var predicted = Characters.Select(c => engine.Predict(new ImageFile { ImagePath = Path.Combine(Samples, "sd19", c.File) }).PredictedCharacter).ToList();
        TestContext.Out.WriteLine(string.Join(" ", Characters.Zip(predicted, (c, p) => $"{c.Class}→{p}")));
        // The misses are the confusions the model card names: an upright I or O read as 1 or 0.
        Assert.That(Characters.Zip(predicted).Count(p => p.First.Class == p.Second), Is.GreaterThanOrEqualTo(7));
    }

    [Test]
    public void The_batched_recognizer_on_the_pretrained_model_gives_the_PredictionEngines_scores()
    {
        var mlContext = new MLContext();
        using var model = (IDisposable)mlContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath);
        using var engine = mlContext.Model.CreatePredictionEngine<ImageFile, CharacterPrediction>((ITransformer)model,
            new PredictionEngineOptions { OwnsTransformer = false });
        using var stream = PretrainedCharacterModel.OpenRead();
        using var recognizer = CharacterRecognizer.Load(stream);

        var paths = Characters.Select(c => Path.Combine(Samples, "sd19", c.File)).ToArray();
        float[] batched = recognizer.Score(paths);
        int classCount = recognizer.ClassNames.Count;
        for (int i = 0; i < paths.Length; i++)
        {
            var single = engine.Predict(new ImageFile { ImagePath = paths[i] }).Score;
            Assert.That(batched.AsSpan(i * classCount, classCount).ToArray(), Is.EqualTo(single).Within(1e-5), paths[i]);
        }
    }

    [Test]
    public void The_field_reader_with_the_pretrained_model_reads_the_NIST_forms_digit_boxes()
    {
        using var stream = PretrainedCharacterModel.OpenRead();
        using var reader = HandwrittenFieldReader.Load(stream, new FieldReaderOptions { Kind = FieldKind.Digits });
        var fields = reader.ReadForm(Path.Combine(Samples, "hsf", "digit-boxes.png"));
        // The prompts printed above the 28 boxes, in reading order (nist-hsf-page's reference.tsv, fields 03–30).
        string[] expected =
        [
            "0123456789", "0123456789", "0123456789", "16", "899", "0124", "43744", "403875", "821", "7358", "55925", "116213", "86",
            "4949", "20044", "625502", "80", "681", "79192", "676687", "49", "213", "3055", "803797", "02", "791", "3678", "03536",
        ];
        TestContext.Out.WriteLine(string.Join(" ", fields.Select(f => f.Reading.Text)));
        Assert.That(fields, Has.Count.EqualTo(expected.Length), "one field per printed box, none for loops of ink inside them");
        Assert.That(fields.Select(f => f.Reading.Text).Zip(expected).Count(p => p.First == p.Second), Is.GreaterThanOrEqualTo(26));
        Assert.That(reader.Read(Path.Combine(Samples, "hsf", "field-403875.png")).Text, Is.EqualTo("403875"), "a box cropped with its border and margin");
    }

    [Test]
    public void SaveTo_writes_the_embedded_zip_atomically()
    {
        string directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-pretrained");
        try
        {
            string path = Path.Combine(directory, "model.zip");
            File.WriteAllText(path, "an older file");
            PretrainedCharacterModel.SaveTo(path);
            using var stream = PretrainedCharacterModel.OpenRead();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(copy.ToArray()));
            Assert.That(Directory.GetFiles(directory), Is.EqualTo(new[] { path }), "no temporary file left beside it");
            Assert.That(copy.Length, Is.InRange(1_000_000, 2_000_000), "about 1.3 MB");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
    }
}
