using Microsoft.ML;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;
using SkiaSharp;
using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Text;
using Ocr.MLNet.Lines;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The field reader's contract on drawn fields with a small model trained here: class masks, blank and bad input,
/// forms, overlays, and <c>ReadHandwrittenText</c> in an ML.NET pipeline and a PredictionEngine.
/// </summary>
[TestFixture]
public sealed class FieldReaderTests
{
    /// <summary>EMNIST ByMerge's 47 classes, in its order.</summary>
    private static readonly string[] ByMerge =
        [.. "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt".Select(c => c.ToString())];

    private string directory = "";
    private string modelPath = "";
    private HandwrittenFieldReader reader = null!;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-field-reader");
        var mlContext = new MLContext(seed: 1) { TempFilePath = directory };
        var pixels = SyntheticGlyphs.Load(mlContext, perClass: 30, seed: 5);
        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(pixels).Transform(pixels);
        var options = CharacterCnnTrainerTests.SmallRun(epochs: 2);
        options.ValidationFraction = 0;
        using var trained = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(keyed);
        modelPath = Path.Combine(directory, "model.zip");
        mlContext.Model.SaveCharacterModel(trained, keyed.Schema, modelPath);
        reader = HandwrittenFieldReader.Load(modelPath);
    }

    [OneTimeTearDown]
    public void Delete()
    {
        reader?.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void Kinds_mask_the_merged_classes_and_write_each_in_the_kinds_case()
    {
        static string Allowed(ClassMask mask) => string.Concat(Enumerable.Range(0, ByMerge.Length).Where(i => mask.Allowed[i]).Select(i => mask.Labels[i]));
        Assert.Multiple(() =>
        {
            Assert.That(Allowed(ClassMask.For(ByMerge, FieldKind.Digits)), Is.EqualTo("0123456789"), "O and I are not digits");
            Assert.That(Allowed(ClassMask.For(ByMerge, FieldKind.Upper)), Is.EqualTo("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
            // c, i, j, k, l, m, o, p, s, u, v, w, x, y, z have no class of their own: their capital's class reads small.
            Assert.That(Allowed(ClassMask.For(ByMerge, FieldKind.Lower)), Is.EqualTo("cijklmopsuvwxyzabdefghnqrt"));
            Assert.That(Allowed(ClassMask.For(ByMerge, FieldKind.Letters)), Is.EqualTo("ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"), "a class keeps its own name");
            Assert.That(Allowed(ClassMask.For(ByMerge, "0123456789abcdef")), Is.EqualTo("0123456789cabdef"));
        });
        var error = Assert.Throws<ArgumentException>(() => ClassMask.For(ByMerge, "12é"));
        Assert.That(error!.Message, Does.Contain("'é'").And.Contain("0 1 2"));
    }

    [Test]
    public void Scores_normalise_to_capitals_and_digits_and_count_edits()
    {
        Assert.Multiple(() =>
        {
            Assert.That(FieldEvaluation.Normalize("Jean-Roch d'Arc"), Is.EqualTo("JEANROCHDARC"));
            Assert.That(FieldEvaluation.Normalize("10,00."), Is.EqualTo("1000"));
            Assert.That(FieldEvaluation.EditDistance("LAUMONIER", "LAUMIONIER"), Is.EqualTo(1));
            Assert.That(FieldEvaluation.EditDistance("", "ABC"), Is.EqualTo(3));
            Assert.That(FieldEvaluation.EditDistance("KITTEN", "SITTING"), Is.EqualTo(3));
            Assert.That(FieldEvaluation.KindOf("43744"), Is.EqualTo(FieldKind.Digits));
            Assert.That(FieldEvaluation.KindOf("denay"), Is.EqualTo(FieldKind.Lower));
            Assert.That(FieldEvaluation.KindOf("FTUJ"), Is.EqualTo(FieldKind.Upper));
        });
        var field = new LabelledField("x.png", "AB-C");
        var result = new FieldEvaluationResult([
            FieldEvaluation.Score(field, new FieldReading("ABC", 0.9f, []), null),
            FieldEvaluation.Score(new LabelledField("y.png", "12"), new FieldReading("1", 0.5f, []), null),
        ]);
        Assert.That(result.CharacterErrorRate, Is.EqualTo(1.0 / 5).Within(1e-12));
        Assert.That(result.ExactRate, Is.EqualTo(0.5));
    }

    [TestCase(1, 1, (byte)255)]
    [TestCase(300, 40, (byte)255)]
    [TestCase(300, 40, (byte)0)]
    [TestCase(2, 500, (byte)128)]
    public void A_field_without_ink_reads_blank(int width, int height, byte value)
    {
        var grey = Enumerable.Repeat(value, width * height).ToArray();
        var reading = reader.Read(grey, width, height);
        Assert.That(reading.IsBlank && reading.Text.Length == 0 && reading.Confidence == 1f, $"read '{reading.Text}'");
    }

    [TestCase(400, 100, 0.5)]
    [TestCase(400, 100, 0.1)]
    [TestCase(1024, 256, 0.3)]
    public void Noise_reads_as_noise_with_confidence_zero_not_as_characters(int width, int height, double blackShare)
    {
        var random = new Random(width + height);
        var grey = Enumerable.Range(0, width * height).Select(_ => random.NextDouble() < blackShare ? (byte)0 : (byte)255).ToArray();
        var reading = reader.Read(grey, width, height);
        Assert.Multiple(() =>
        {
            Assert.That(reading.Content, Is.EqualTo(ImageContent.Noise), $"read '{reading.Text}' at {reading.Confidence:P1}");
            Assert.That(reading.Text, Is.Empty);
            Assert.That(reading.Confidence, Is.Zero);
            Assert.That(reading.IsBlank, Is.False, "noise is not a blank field");
        });
    }

    [Test]
    public void Bad_files_are_refused_before_decoding_with_the_file_named()
    {
        string empty = Path.Combine(directory, "empty.png"), bomb = Path.Combine(directory, "bomb.png");
        File.WriteAllBytes(empty, []);
        File.WriteAllBytes(bomb, PngBomb.Make(50_000, 50_000));
        var emptyError = Assert.Throws<CharacterDataException>(() => reader.Read(empty));
        Assert.That(emptyError!.Message, Does.Contain(empty).And.Contain("empty"));
        var bombError = Assert.Throws<CharacterDataException>(() => reader.Read(bomb));
        Assert.That(bombError!.Message, Does.Contain(bomb).And.Contain("MaxImagePixels"));
        Assert.Throws<CharacterDataException>(() => reader.ReadForm(bomb));
        Assert.Throws<CharacterDataException>(() => reader.Read(Path.Combine(directory, "missing.png")));
    }

    [Test]
    [CancelAfter(20_000)]
    public void A_field_of_hundreds_of_marks_is_refused_quickly_with_the_limit_named()
    {
        // 495 separate bars in one line: more than MaxPieces (400).
        int width = 2000, height = 100;
        var grey = Enumerable.Repeat((byte)255, width * height).ToArray();
        for (int x = 10; x < width - 10; x += 4)
        {
            for (int y = 40; y < 62; y++)
                grey[(y * width) + x] = grey[(y * width) + x + 1] = 0;
        }

        var error = Assert.Throws<ArgumentException>(() => reader.Read(grey, width, height));
        Assert.That(error!.Message, Does.Contain("MaxPieces").And.Contain("Crop the image"));
    }

    [Test]
    public void A_kind_the_model_has_no_class_for_is_refused_with_its_classes_listed()
    {
        var field = DrawField(["O", "|"], box: false);
        var error = Assert.Throws<ArgumentException>(() => reader.Read(field.Grey, field.Width, field.Height, FieldKind.Digits));
        Assert.That(error!.Message, Does.Contain("Digits").And.Contain("O"));
    }

    [Test]
    public void A_fragment_far_smaller_than_a_character_and_apart_from_the_others_is_no_character()
    {
        // A stub 7×18 pixels between characters 56 high (a hyphen's blot, the end of a bar split off), too far from either
        // neighbour to join it: reading it as a character of its own added a letter.
        var field = DrawField(["O", "|", "O"], box: false);
        for (int y = 58; y < 76; y++)
            field.Grey.AsSpan((y * field.Width) + 134, 7).Clear();

        var reading = reader.Read(field.Grey, field.Width, field.Height);

        Assert.That(reading.Characters.Select(c => c.Box.X), Is.EqualTo(field.Characters.Select(c => c.Left)).Within(4), $"read '{reading.Text}'");
    }

    [Test]
    public void Characters_are_found_in_order_inside_a_box_with_boxes_in_field_pixels()
    {
        var field = DrawField(["O", "|", "O"], box: true);
        var reading = reader.Read(field.Grey, field.Width, field.Height);
        Assert.That(reading.Characters, Has.Count.EqualTo(3), $"read '{reading.Text}'");
        for (int k = 0; k < 3; k++)
        {
            Assert.That(reading.Characters[k].Box.X, Is.EqualTo(field.Characters[k].Left).Within(4), $"character {k}");
            Assert.That(reading.Characters[k].Alternatives[0].ClassName, Is.EqualTo(reading.Characters[k].Label));
            Assert.That(reading.Characters[k].Alternatives.Select(a => a.Score), Is.Ordered.Descending);
        }

        Assert.That(reading.Confidence, Is.EqualTo(reading.Characters.Aggregate(1f, (p, c) => p * c.Confidence)).Within(1e-6));
    }

    [Test]
    public void CleanLines_gives_a_line_recognizer_the_writing_inside_the_box_without_the_box_in_field_pixels()
    {
        var field = DrawField(["O", "|", "O"], box: true);

        var lines = reader.CleanLines(field.Grey, field.Width, field.Height);

        Assert.That(lines, Has.Count.EqualTo(1));
        var line = lines[0];
        Assert.Multiple(() =>
        {
            Assert.That(line.Box.X, Is.EqualTo(field.Characters[0].Left).Within(4), "the line starts at the first O, not at the box");
            Assert.That(line.Box.X + line.Box.Width, Is.EqualTo(field.Characters[2].Right).Within(4), "and ends at the last");
            Assert.That(line.Box.Y, Is.InRange(20, 30), "the box's top border is not part of the line");
            Assert.That(line.Ink, Has.Length.EqualTo(line.Width * line.Height));
            Assert.That(line.Width, Is.EqualTo(line.Box.Width * line.Scale).Within(2 * line.Scale), "working pixels are field pixels × Scale");
            Assert.That(line.Ink.Max(), Is.EqualTo((byte)255), "full ink is 255");
            Assert.That(line.Ink[((line.Height / 2) * line.Width) + (line.Width / 4)], Is.Zero, "inside the first O is paper");
        });
        Assert.That(reader.CleanLines(Enumerable.Repeat((byte)255, 200 * 60).ToArray(), 200, 60), Is.Empty, "a blank field has no line");
    }

    [Test]
    public void The_line_recognizer_gets_the_cleaned_line_dark_on_white_at_the_synthetic_fields_character_share()
    {
        var field = DrawField(["O", "|", "O"], box: true);

        var digits = FieldLineImage.Find(field.Grey, field.Width, field.Height, FieldKind.Digits);
        var name = FieldLineImage.Find(field.Grey, field.Width, field.Height, FieldKind.Upper);

        Assert.That(digits, Is.Not.Null);
        Assert.That(name, Is.Not.Null);
        var line = digits!.Line;
        var (amountLow, amountHigh) = SyntheticFieldGenerator.CharacterShare(SyntheticFieldKind.Amount);
        var (nameLow, nameHigh) = SyntheticFieldGenerator.CharacterShare(SyntheticFieldKind.Name);
        Assert.Multiple(() =>
        {
            Assert.That(digits.Height, Is.EqualTo(line.CharacterHeight / ((amountLow + amountHigh) / 2)).Within(1), "an amount's writing fills its share of the line");
            Assert.That(name!.Height, Is.EqualTo(line.CharacterHeight / ((nameLow + nameHigh) / 2)).Within(1), "a name's is written smaller in its line");
            Assert.That(digits.Grey, Has.Length.EqualTo(digits.Width * digits.Height));
            Assert.That(digits.Grey.Min(), Is.LessThan(20), "the ink is dark");
            Assert.That(digits.Grey[0], Is.EqualTo(byte.MaxValue), "on white paper");
            Assert.That(Enumerable.Range(0, digits.Width).Count(x => digits.Grey[x] < 128), Is.Zero, "the box's top border is gone");
            Assert.That(digits.Width, Is.EqualTo(line.Width + (2 * digits.Left)), "the line with a margin each side");
        });

        // The CTC alignment's columns map back to the field: the line's first ink column is the first O's left edge.
        var box = digits.BoxInField(new LineCharacter('0', digits.Left, (int)Math.Round(30 * line.Scale), 1f, []));
        Assert.That(box.X, Is.EqualTo(field.Characters[0].Left).Within(4));
        Assert.That(box.Width, Is.EqualTo(30).Within(3));
        Assert.That(FieldLineImage.Find(Enumerable.Repeat((byte)255, 200 * 60).ToArray(), 200, 60, FieldKind.Digits), Is.Null, "a blank field has no line");
    }

    [Test]
    public void A_form_gives_its_inked_boxes_in_reading_order_and_a_page_without_boxes_gives_none()
    {
        // Two rows: (filled, empty, filled) then (filled); drawn slightly out of order in y within the first row.
        const int Width = 900, Height = 600;
        using var page = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(page))
        {
            canvas.Clear(SKColors.White);
            using var line = new SKPaint { Color = SKColors.Black, StrokeWidth = 3, Style = SKPaintStyle.Stroke };
            using var ink = new SKPaint { Color = SKColors.Black, StrokeWidth = 7, Style = SKPaintStyle.Stroke, IsAntialias = true, StrokeCap = SKStrokeCap.Round };
            (float X, float Y, bool Filled)[] boxes = [(560, 56, true), (40, 50, true), (300, 52, false), (40, 300, true)];
            foreach (var (x, y, filled) in boxes)
            {
                canvas.DrawRect(x, y, 220, 120, line);
                if (filled)
                {
                    canvas.DrawOval(x + 60, y + 60, 25, 35, ink);
                    canvas.DrawLine(x + 140, y + 25, x + 140, y + 95, ink);
                }
            }
        }

        string path = Path.Combine(directory, "form.png");
        File.WriteAllBytes(path, DrawnGlyphs.Png(page));
        var fields = reader.ReadForm(path);
        Assert.That(fields.Select(f => (f.Box.X, f.Box.Y)), Is.EqualTo(new[] { (40, 50), (560, 56), (40, 300) }).Using<(int, int)>((a, b) =>
            Math.Abs(a.Item1 - b.Item1) <= 3 && Math.Abs(a.Item2 - b.Item2) <= 3 ? 0 : 1));
        Assert.That(fields.Select(f => f.Reading.Characters.Count), Is.All.EqualTo(2));

        string overlay = Path.Combine(directory, "form-overlay.png");
        FieldOverlay.Save(path, fields, overlay);
        using var drawn = SKBitmap.Decode(overlay);
        Assert.That(drawn.Pixels.Count(p => p.Blue > 200 && p.Red < 80), Is.GreaterThan(1000), "the field boxes are drawn in blue");

        using var blankPage = new SKBitmap(new SKImageInfo(400, 300, SKColorType.Rgba8888, SKAlphaType.Opaque));
        blankPage.Erase(SKColors.White);
        string blankPath = Path.Combine(directory, "no-boxes.png");
        File.WriteAllBytes(blankPath, DrawnGlyphs.Png(blankPage));
        Assert.That(reader.ReadForm(blankPath), Is.Empty);
    }

    [Test]
    public void The_overlay_is_a_new_png_that_differs_from_the_field()
    {
        var field = DrawField(["O", "|"], box: false);
        string path = Path.Combine(directory, "field.png"), overlay = Path.Combine(directory, "field-overlay.png");
        FieldComposer.WritePng(path, field);
        var reading = reader.Read(path);
        FieldOverlay.Save(path, reading, overlay);
        using var drawn = SKBitmap.Decode(overlay);
        Assert.That(drawn, Is.Not.Null);
        Assert.That(drawn.Pixels.Any(p => p.Red != p.Green || p.Green != p.Blue), "coloured character boxes on a grey field");
        Assert.That(Directory.GetFiles(directory, "field-overlay.png*"), Has.Length.EqualTo(1), "written atomically, no temporary left");
    }

    [Test]
    public void ReadHandwrittenText_reads_in_a_pipeline_and_a_PredictionEngine_as_the_reader_does_and_says_why_it_cannot_be_saved()
    {
        var paths = new List<string>();
        foreach (var (name, labels) in new[] { ("a", new[] { "O", "|" }), ("b", new[] { "|", "O", "|" }) })
        {
            string path = Path.Combine(directory, $"pipeline-{name}.png");
            FieldComposer.WritePng(path, DrawField(labels, box: false));
            paths.Add(path);
        }

        var mlContext = new MLContext(seed: 1) { TempFilePath = directory };
        var data = mlContext.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));
        var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
            .Append(mlContext.Transforms.ReadHandwrittenText(modelPath, outputColumnName: "Field"));
        var shape = pipeline.GetOutputSchema(MLNetInterop.ToShape(data.Schema));
        using var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        Assert.That(shape.Select(c => c.Name), Is.EquivalentTo(scored.Schema.Select(c => c.Name)), "the estimator's schema is the fitted one");
        var rows = mlContext.Data.CreateEnumerable<FieldRow>(scored, reuseRowObject: false).ToList();
        for (int i = 0; i < paths.Count; i++)
        {
            var expected = reader.Read(paths[i]);
            Assert.That(rows[i].Field, Is.EqualTo(expected.Text));
            Assert.That(rows[i].FieldConfidence, Is.EqualTo(expected.Confidence).Within(1e-6));
            Assert.That(rows[i].FieldCharacters, Is.EqualTo(expected.Characters.Select(c => c.Label)));
            Assert.That(rows[i].FieldCharacterBoxes, Has.Length.EqualTo(4 * expected.Characters.Count));
        }

        using var engine = mlContext.Model.CreatePredictionEngine<PathRow, FieldRow>(model, new PredictionEngineOptions { OwnsTransformer = false });
        Assert.That(engine.Predict(new PathRow { ImagePath = paths[1] }).Field, Is.EqualTo(rows[1].Field));

        var error = Assert.Throws<NotSupportedException>(() => mlContext.Model.Save(model, data.Schema, Path.Combine(directory, "pipeline.zip")));
        Assert.That(error!.Message, Does.Contain("Save the character model"));

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.ReadHandwrittenText(modelPath).Fit(data));
        Assert.That(missing!.Message, Does.Contain("Could not find image column 'Image'"));
    }

    /// <summary>A field of drawn strokes ("O" an ellipse, "|" a bar), 60 pixels apart, optionally in a box; the columns of each.</summary>
    private static FieldComposer.Field DrawField(string[] labels, bool box)
    {
        int width = 60 + (60 * labels.Length), height = 100;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var characters = new (int Left, int Right)[labels.Length];
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var ink = new SKPaint { Color = SKColors.Black, StrokeWidth = 6, Style = SKPaintStyle.Stroke, IsAntialias = true };
            for (int k = 0; k < labels.Length; k++)
            {
                float x = 40 + (60 * k);
                if (labels[k] == "O")
                    canvas.DrawOval(x + 15, 50, 15, 25, ink);
                else
                    canvas.DrawLine(x + 15, 25, x + 15, 75, ink);
                characters[k] = labels[k] == "O" ? ((int)x - 3, (int)x + 33) : ((int)x + 12, (int)x + 18);
            }

            if (box)
            {
                using var line = new SKPaint { Color = SKColors.Black, StrokeWidth = 3, Style = SKPaintStyle.Stroke };
                canvas.DrawRect(4, 4, width - 8, height - 8, line);
            }
        }

        return new FieldComposer.Field(Loading.CharacterImageConverter.ToGrey(bitmap), width, height, characters, []);
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class FieldRow
    {
        public string Field { get; set; } = "";

        public float FieldConfidence { get; set; }

        public string[] FieldCharacters { get; set; } = [];

        public float[] FieldCharacterBoxes { get; set; } = [];
    }
}
