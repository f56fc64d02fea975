using Microsoft.ML;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Serving;
using SkiaSharp;
using Ocr.MLNet.Text;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// The field reader on fields composed from real EMNIST characters with known text and known cut points (spaced,
/// touching, broken, inside a box, under a line), read with a digit model trained here on other EMNIST digits; the
/// CLI's read and evaluate-fields on such fields.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class FieldReadingRealDataTests
{
    private const int TrainRows = 16_000;
    // Re-seeded before every test, so each test composes the same fields whichever tests ran before it.
    private Random random = new(7);

    [SetUp]
    public void SeedTheDraws() => random = new Random(7);
    private EmnistDataset emnist = null!;
    private Dictionary<string, List<int>> heldOut = [];
    private string directory = "";
    private string modelPath = "";
    private HandwrittenFieldReader reader = null!;

    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    [OneTimeSetUp]
    public void TrainDigitModel()
    {
        emnist = EmnistDataset.Load(TestEnvironment.RealData("emnist-bymerge-dev"), "dev", maxRows: 24_000);
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-fields");
        // Train on the first rows' digits, compose fields from the rest: no character is both trained on and read.
        var training = new List<GlyphRow>();
        for (int row = 0; row < TrainRows; row++)
        {
            string label = emnist.GetLabel(row);
            if (char.IsAsciiDigit(label[0]))
                training.Add(new GlyphRow { Label = label, Pixels = Pixels(row) });
        }

        heldOut = Enumerable.Range(TrainRows, emnist.Count - TrainRows).GroupBy(emnist.GetLabel).ToDictionary(g => g.Key, g => g.ToList());
        var mlContext = new MLContext(seed: 1) { TempFilePath = directory };
        var data = mlContext.Data.LoadFromEnumerable(training);
        data = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var options = new Training.CharacterCnnTrainer.Options { Epochs = 2, BatchSize = 64, ValidationFraction = 0, Seed = 3, Device = Training.TrainingDevice.Cpu };
        using var trained = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(data);
        modelPath = Path.Combine(directory, "digits.zip");
        mlContext.Model.SaveCharacterModel(trained, data.Schema, modelPath);
        reader = HandwrittenFieldReader.Load(modelPath, new FieldReaderOptions { Kind = FieldKind.Digits });
    }

    [OneTimeTearDown]
    public void Delete()
    {
        reader?.Dispose();
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void Spaced_characters_come_out_as_one_group_each_over_their_own_columns()
    {
        for (int trial = 0; trial < 10; trial++)
        {
            var (text, field) = Compose("0123456789ABDEFGHNQRT", 3 + (trial % 5), new FieldComposer.Layout(Gap: 8));
            var segmentation = Segment(field);
            var groups = Groups(segmentation);
            Assert.That(groups, Has.Count.EqualTo(text.Length), $"'{text}'");
            for (int k = 0; k < text.Length; k++)
            {
                int middle = (field.Characters[k].Left + field.Characters[k].Right) / 2;
                Assert.That(middle, Is.InRange(groups[k].Left, groups[k].Right), $"'{text}' character {k}");
            }
        }
    }

    [Test]
    public void Touching_characters_get_a_candidate_cut_near_every_join()
    {
        int found = 0, joins = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var (text, field) = Compose("0123456789", 4, new FieldComposer.Layout(Gap: -2));
            var segmentation = Segment(field);
            var cuts = segmentation.Pieces.Select(p => p.Left).Skip(1).ToArray();
            double tolerance = 0.2 * segmentation.CharacterHeight;
            foreach (int join in field.Joins)
            {
                joins++;
                if (cuts.Any(c => Math.Abs(c - (join * segmentation.Scale)) <= tolerance))
                    found++;
            }
        }

        // Over-segmentation must offer the true cut almost always; the classifier then chooses among the candidates.
        Assert.That(found, Is.GreaterThanOrEqualTo(0.9 * joins), $"{found} of {joins} joins had a candidate cut");
    }

    [Test]
    public void A_character_broken_in_two_is_joined_again()
    {
        var (text, field) = Compose("0123456789ABDEH", 4, new FieldComposer.Layout(Gap: 8, Break: 1));
        Assert.That(Groups(Segment(field)), Has.Count.EqualTo(text.Length), $"'{text}'");
    }

    [Test]
    public void A_box_border_and_a_guide_line_are_removed()
    {
        foreach (var layout in new[] { new FieldComposer.Layout(Box: true), new FieldComposer.Layout(Underline: true), new FieldComposer.Layout(Box: true, Underline: true) })
        {
            var (text, field) = Compose("0123456789", 5, layout);
            var segmentation = Segment(field);
            var groups = Groups(segmentation);
            Assert.That(groups, Has.Count.EqualTo(text.Length), $"{layout}: '{text}'");
            Assert.That(groups.Max(g => g.Right - g.Left), Is.LessThan(1.5 * segmentation.CharacterHeight), $"{layout}: no group spans the line");
        }
    }

    [Test]
    public void Digit_fields_are_read_spaced_touching_in_a_box_and_under_a_line()
    {
        var layouts = new Dictionary<string, FieldComposer.Layout>
        {
            ["spaced"] = new(Gap: 8),
            ["touching"] = new(Gap: -2),
            ["box"] = new(Gap: 6, Box: true),
            ["line"] = new(Gap: 6, Underline: true),
            ["broken"] = new(Gap: 8, Break: 1),
        };
        foreach (var (name, layout) in layouts)
        {
            int exact = 0, distance = 0, length = 0;
            const int Fields = 20;
            for (int i = 0; i < Fields; i++)
            {
                var (text, field) = Compose("0123456789", 3 + (i % 4), layout);
                var reading = reader.Read(field.Grey, field.Width, field.Height);
                exact += reading.Text == text ? 1 : 0;
                distance += FieldEvaluation.EditDistance(text, FieldEvaluation.Normalize(reading.Text));
                length += text.Length;
                Assert.That(reading.Characters.All(c => c.Alternatives.All(a => char.IsAsciiDigit(a.ClassName[0]))), "the digit mask holds");
            }

            double cer = (double)distance / length;
            TestContext.Out.WriteLine($"{name}: exact {exact}/{Fields}, CER {cer:P1}");
            // The setup's 2-epoch digit model read spaced 12/20 (CER 10–12 %), box 14/20 (10 %), line 10/20 (13 %), touching
            // 6/20 with a CER of 33–64 % from run to run: touching digits are the reader's weak spot, so only their exact rate has a floor.
            double floor = name == "touching" ? 0.2 : 0.4;
            Assert.That(exact, Is.GreaterThanOrEqualTo(floor * Fields), $"{name}: exact {exact}/{Fields}, CER {cer:P1}");
            if (name != "touching")
                Assert.That(cer, Is.LessThanOrEqualTo(0.2), $"{name}: exact {exact}/{Fields}, CER {cer:P1}");
        }
    }

    [Test]
    public void Each_character_reports_its_box_in_field_pixels()
    {
        var (text, field) = Compose("0123456789", 4, new FieldComposer.Layout(Gap: 10));
        var reading = reader.Read(field.Grey, field.Width, field.Height);
        Assert.That(reading.Characters, Has.Count.EqualTo(text.Length), $"'{text}' read '{reading.Text}'");
        for (int k = 0; k < text.Length; k++)
        {
            var box = reading.Characters[k].Box;
            Assert.That(box.X, Is.EqualTo(field.Characters[k].Left).Within(3), $"character {k} left");
            Assert.That(box.Right, Is.EqualTo(field.Characters[k].Right).Within(3), $"character {k} right");
        }
    }

    [Test]
    public void The_hsf_page_comes_out_as_its_30_fields_and_the_digit_boxes_read_with_a_digit_model()
    {
        string folder = TestEnvironment.RealData("handwritten-fields/nist-hsf-page");
        var texts = File.ReadAllLines(Path.Combine(folder, "reference.tsv")).Skip(1).Select(l => l.Split('\t')[1]).ToArray();
        var digits = texts.Where(t => FieldEvaluation.KindOf(t) == FieldKind.Digits).ToArray();
        var (result, fields) = FieldEvaluation.EvaluateForm(reader, Path.Combine(folder, "hsf.png"), digits);
        // The page's three blank boxes and its text frame are not fields; the two alphabet boxes come after the digits.
        Assert.That(fields, Has.Count.EqualTo(30));
        int exact = result.Fields.Count(f => f.Exact);
        TestContext.Out.WriteLine($"HSF digit boxes: {exact} of {digits.Length} exact, CER {result.CharacterErrorRate:P1}");
        Assert.That(exact, Is.GreaterThanOrEqualTo(22), string.Join(", ", result.Fields.Where(f => !f.Exact).Select(f => $"{f.Truth}->{f.Read}")));
    }

    /// <summary>
    /// Names cropped loosely from their forms, with the line above whole (the school's code in digits, or the printed
    /// prompt) and their own line cut by the crop's bottom edge: the reader reads the line above as capitals poorly,
    /// tries the cut line and keeps it. (Before it did, these read NNIUMOYAAAOOB, MENOM and PRENOM; GAUDET, whose line above
    /// reads a little better, KNCIWNUJSASOYU until a poor line was taken to start at −1.2 per character.) GAUDET reads
    /// GAVAFT: its D and E are open (A, F), and English letter pairs take its round U before an A for a V.
    /// </summary>
    [TestCase("VALIDATION_0036.jpg", "FRERE", 1)]
    [TestCase("VALIDATION_0109.jpg", "LEA", 0)]
    [TestCase("VALIDATION_0269.jpg", "HUGO", 0)]
    [TestCase("VALIDATION_0446.jpg", "GAUDET", 3)]
    public void A_name_cropped_with_the_line_above_it_is_read_from_its_own_line(string image, string truth, int maxErrors)
    {
        var reading = ReadName(image, truth);

        Assert.That(FieldEvaluation.EditDistance(truth, reading.Text.Replace(" ", "", StringComparison.Ordinal)), Is.LessThanOrEqualTo(maxErrors), reading.Text);
    }

    /// <summary>
    /// Names a writer wrote in small letters on a form that asks for capitals: the reader sees that a quarter or more of
    /// the characters read best as small letters (b, h, n, t, …), reads the name with them and gives it in capitals.
    /// (With capitals only, these read TVIILJAUIK, CIFIOPIII and CASSACUCA.) The third is labelled CAGGANDRO, as its s
    /// are written like g; English letter pairs read it CASSANDRA, three letters from the label.
    /// </summary>
    [TestCase("VALIDATION_0322.jpg", "THIBAULT", 2)]
    [TestCase("VALIDATION_0452.jpg", "CHOPIN", 1)]
    [TestCase("VALIDATION_0115.jpg", "CAGGANDRO", 3)]
    public void A_name_written_in_small_letters_is_read_in_capitals(string image, string truth, int maxErrors)
    {
        var reading = ReadName(image, truth);

        Assert.That(reading.Text, Is.EqualTo(reading.Text.ToUpperInvariant()), "given in capitals");
        Assert.That(reading.Characters.SelectMany(c => c.Alternatives).Select(a => a.ClassName), Is.All.Matches<string>(l => l == l.ToUpperInvariant()));
        Assert.That(FieldEvaluation.EditDistance(truth, reading.Text.Replace(" ", "", StringComparison.Ordinal)), Is.LessThanOrEqualTo(maxErrors), reading.Text);
    }

    /// <summary>
    /// "PRENOM : RAMY" cropped right under the line, through the colon's lower dot: the prompt is still dropped (it was read
    /// as AMUWMI before the lower dot could touch the edge).
    /// </summary>
    [Test]
    public void A_prompt_whose_colon_the_crop_cuts_is_not_read_as_writing()
    {
        var reading = ReadName("VALIDATION_0339.jpg", "RAMY");

        // Its R is faint and broken (read D): two errors at most, where the prompt's letters added six.
        Assert.That(FieldEvaluation.EditDistance("RAMY", reading.Text.Replace(" ", "", StringComparison.Ordinal)), Is.LessThanOrEqualTo(2), reading.Text);
    }

    /// <summary>Reads one names-dev field as capitals with the pretrained model, after checking its label.</summary>
    private static FieldReading ReadName(string image, string truth)
    {
        string folder = TestEnvironment.RealData(Path.Combine("handwritten-fields", "names-dev"));
        var field = FieldEvaluation.LoadLabels(folder).Single(f => Path.GetFileName(f.ImagePath) == image);
        Assert.That(field.Text, Is.EqualTo(truth), "the labels file");
        using var pretrained = PretrainedCharacterModel.OpenRead();
        using var names = HandwrittenFieldReader.Load(pretrained);
        return names.Read(field.ImagePath, FieldKind.Upper);
    }

    /// <summary>
    /// The names are French: weighing the letters by French letter frequencies reads them better than taking every letter
    /// as likely, and following French letter pairs better still (8.72 → 8.38 → 7.95 % CER when measured: QUENTIN, not
    /// QVENTIN; JULIE, not JULIC); no field fails. The default reader, with English letters and pairs, reads them better
    /// than without a prior too (7.85 % when measured).
    /// </summary>
    [Test]
    public void French_letter_frequencies_and_letter_pairs_read_the_french_names_better()
    {
        string folder = TestEnvironment.RealData(Path.Combine("handwritten-fields", "names-dev"));
        var fields = FieldEvaluation.LoadLabels(folder);
        FieldEvaluationResult Evaluate(LetterFrequencies? frequencies)
        {
            using var pretrained = PretrainedCharacterModel.OpenRead();
            using var reader = HandwrittenFieldReader.Load(pretrained, new FieldReaderOptions { LetterFrequencies = frequencies });
            return FieldEvaluation.Evaluate(reader, fields, FieldKind.Upper);
        }

        var plain = Evaluate(null);
        var letters = Evaluate(new LetterFrequencies(LetterFrequencies.French.Frequencies));
        var french = Evaluate(LetterFrequencies.French);
        var english = Evaluate(new FieldReaderOptions().LetterFrequencies);

        TestContext.Out.WriteLine($"names-dev CER: {plain.CharacterErrorRate:P2} without a prior, {letters.CharacterErrorRate:P2} with French letter frequencies, "
            + $"{french.CharacterErrorRate:P2} with their letter pairs too, {english.CharacterErrorRate:P2} with the default English ones");
        Assert.That(letters.CharacterErrorRate, Is.LessThan(plain.CharacterErrorRate - 0.002));
        Assert.That(letters.ExactRate, Is.GreaterThanOrEqualTo(plain.ExactRate));
        Assert.That(french.CharacterErrorRate, Is.LessThan(letters.CharacterErrorRate - 0.002));
        Assert.That(french.ExactRate, Is.GreaterThan(letters.ExactRate + 0.02));
        Assert.That(french.CharacterErrorRate, Is.LessThanOrEqualTo(0.085), "floor with French");
        Assert.That(french.Fields.Where(f => f.Error is not null), Is.Empty);
        Assert.That(english.CharacterErrorRate, Is.LessThan(plain.CharacterErrorRate - 0.005), "the default reader follows English letters and pairs");
        Assert.That(english.ExactRate, Is.GreaterThan(plain.ExactRate + 0.02));
        Assert.That(french.Fields.Single(f => Path.GetFileName(f.Field.ImagePath) == "VALIDATION_0381.jpg").Read, Is.EqualTo("QUENTIN"), "QVENTIN with letters alone");
        Assert.That(letters.Fields.Single(f => Path.GetFileName(f.Field.ImagePath) == "VALIDATION_0381.jpg").Read, Is.EqualTo("QVENTIN"));
    }

    /// <summary>
    /// The real dev folders with the pretrained model (or the 47-class model at <c>OCR_MLNET_FIELD_MODEL</c>). The floors sit
    /// a little below what it scored with the default options (names CER 7.85 %, exact 76.6 %, which meets the targets of
    /// 8 % and 65 %; amounts CER 23.5 %, exact 38.2 %, short of the target of 15 %), and far above Tesseract's (names CER
    /// 55.5 %, exact 20.7 %).
    /// </summary>
    [TestCase("names-dev", FieldKind.Upper, 0.085, 0.74)]
    [TestCase("cheque-amounts-dev", FieldKind.Digits, 0.26, 0.35)]
    public void The_real_dev_fields_read_above_their_floors(string name, FieldKind kind, double maxCer, double minExact)
    {
        string folder = TestEnvironment.RealData(Path.Combine("handwritten-fields", name));
        string? model = Environment.GetEnvironmentVariable("OCR_MLNET_FIELD_MODEL");
        using var pretrained = string.IsNullOrEmpty(model) ? PretrainedCharacterModel.OpenRead() : null;
        using var letters = pretrained is not null ? HandwrittenFieldReader.Load(pretrained) : HandwrittenFieldReader.Load(model!);
        var result = FieldEvaluation.Evaluate(letters, FieldEvaluation.LoadLabels(folder), kind);
        TestContext.Out.WriteLine($"{name}: CER {result.CharacterErrorRate:P2}, exact {result.ExactRate:P2}");
        Assert.That(result.CharacterErrorRate, Is.LessThanOrEqualTo(maxCer));
        Assert.That(result.ExactRate, Is.GreaterThanOrEqualTo(minExact));
        Assert.That(result.Fields.Where(f => f.Error is not null), Is.Empty);
    }

    /// <summary>
    /// The cheque amounts (Uruguayan writers, who cross their sevens and write their ones with a long up-stroke) read
    /// with <see cref="FieldReaderOptions.CrossedSevens"/>: ones the model took for sevens come back (CER 25.6 → 23.3 %,
    /// exact 34.4 → 40.0 % when last measured), and the ones that were read right stay ones.
    /// </summary>
    [Test]
    public void Cheque_amounts_read_better_when_the_reader_knows_the_writers_cross_their_sevens()
    {
        string folder = TestEnvironment.RealData(Path.Combine("handwritten-fields", "cheque-amounts-dev"));
        var fields = FieldEvaluation.LoadLabels(folder);
        using var plainModel = PretrainedCharacterModel.OpenRead();
        using var plain = HandwrittenFieldReader.Load(plainModel);
        using var crossedModel = PretrainedCharacterModel.OpenRead();
        using var crossed = HandwrittenFieldReader.Load(crossedModel, new FieldReaderOptions { CrossedSevens = true });

        var before = FieldEvaluation.Evaluate(plain, fields, FieldKind.Digits);
        var after = FieldEvaluation.Evaluate(crossed, fields, FieldKind.Digits);
        TestContext.Out.WriteLine($"cheques: CER {before.CharacterErrorRate:P2} → {after.CharacterErrorRate:P2}, exact {before.ExactRate:P2} → {after.ExactRate:P2}");
        Assert.That(after.CharacterErrorRate, Is.LessThan(before.CharacterErrorRate - 0.01));
        Assert.That(after.ExactRate, Is.GreaterThan(before.ExactRate + 0.02));
    }

    [Test]
    public void The_cli_reads_a_field_writes_an_overlay_that_differs_from_the_image_and_evaluates_a_folder()
    {
        string folder = Path.Combine(directory, "cli");
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        var labels = new List<string> { "image\ttext" };
        for (int i = 0; i < 6; i++)
        {
            var (text, field) = Compose("0123456789", 4, new FieldComposer.Layout(Gap: 8));
            string name = $"images/f{i}.png";
            FieldComposer.WritePng(Path.Combine(folder, name), field);
            labels.Add($"{name}\t{text}");
        }

        File.WriteAllLines(Path.Combine(folder, "labels.tsv"), labels);
        string image = Path.Combine(folder, "images", "f0.png"), overlay = Path.Combine(directory, "overlay.png");
        var read = Run($"read \"{image}\" --model \"{modelPath}\" --kind digits --json --overlay \"{overlay}\"");
        Assert.That(read.ExitCode, Is.Zero, read.Output);
        Assert.That(read.Output, Does.Contain("\"characters\""), read.Output);
        Assert.That(File.Exists(overlay), overlay);
        using (var drawn = SKBitmap.Decode(overlay))
        using (var original = SKBitmap.Decode(image))
        {
            // Enlarged and annotated: boxes in colour where the input is grey.
            Assert.That(drawn.Width, Is.GreaterThanOrEqualTo(original.Width));
            Assert.That(drawn.Pixels.Any(p => p.Red != p.Green || p.Green != p.Blue), Is.True, "coloured boxes drawn");
        }

        string report = Path.Combine(directory, "report");
        var evaluate = Run($"evaluate-fields --data \"{folder}\" --model \"{modelPath}\" --kind digits --report \"{report}\"");
        Assert.That(evaluate.ExitCode, Is.Zero, evaluate.Output);
        Assert.That(evaluate.Output, Does.Contain("character error rate"));
        Assert.That(File.Exists(Path.Combine(report, "report.md")) && File.Exists(Path.Combine(report, "fields.tsv")), evaluate.Output);
        Assert.That(File.ReadAllLines(Path.Combine(report, "fields.tsv")), Has.Length.EqualTo(7));
    }

    [Test]
    public void The_cli_reads_without_a_language_when_told_and_refuses_one_it_has_no_letters_for()
    {
        string image = Path.Combine(directory, "language.png");
        FieldComposer.WritePng(image, Compose("0123456789", 4, new FieldComposer.Layout(Gap: 8)).Field);

        var none = Run($"read \"{image}\" --model \"{modelPath}\" --kind digits --language none --json");
        Assert.That(none.ExitCode, Is.Zero, none.Output);
        Assert.That(none.Output, Does.Contain("\"characters\""), none.Output);

        var unknown = Run($"read \"{image}\" --model \"{modelPath}\" --language klingon");
        Assert.That(unknown.ExitCode, Is.Not.Zero, unknown.Output);
        Assert.That(unknown.Output, Does.Contain("--language klingon").And.Contain("english (en), french (fr) or none"), unknown.Output);
    }

    private (string Text, FieldComposer.Field Field) Compose(string alphabet, int length, FieldComposer.Layout layout)
    {
        var text = new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        var glyphs = text.Select(c => Pixels(heldOut[c.ToString()][random.Next(heldOut[c.ToString()].Count)])).ToArray();
        return (text, FieldComposer.Compose(glyphs, layout));
    }

    private float[] Pixels(int row)
    {
        var pixels = new float[CharacterFormat.PixelCount];
        emnist.CopyPixels(row, pixels);
        return pixels;
    }

    private static FieldSegmentation Segment(FieldComposer.Field field) =>
        FieldSegmenter.Segment(field.Grey, field.Width, field.Height, FieldReaderOptions.DefaultMaxPieces);

    /// <summary>The segmentation's groups as source-pixel column ranges, left to right.</summary>
    private static List<(int Left, int Right)> Groups(FieldSegmentation segmentation) =>
        segmentation.Pieces.GroupBy(p => p.Group)
            .Select(g => ((int)(g.Min(p => p.Left) / segmentation.Scale), (int)Math.Ceiling(g.Max(p => p.Right) / segmentation.Scale)))
            .OrderBy(g => g.Item1).ToList();

    private (int ExitCode, string Output) Run(string arguments) =>
        TestEnvironment.Run("dotnet", $"\"{Cli}\" {arguments}", directory, TimeSpan.FromMinutes(3),
            new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" });
}
