using Ocr.MLNet.Fields;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Tests;

/// <summary>
/// <see cref="FieldReadingMethod.Combined"/> with the packaged models: each field read by segmentation, by the line
/// recognizer and by both, on synthetic fields drawn with a font (so both readers sometimes agree and sometimes do not).
/// </summary>
[TestFixture]
public sealed class CombinedReadingTests
{
    [TestCase(SyntheticFieldKind.Amount, FieldKind.Digits, false)]
    [TestCase(SyntheticFieldKind.Name, FieldKind.Upper, true)]
    public void Combined_keeps_one_readers_text_scored_by_both_and_disagreement_lowers_its_confidence(
        SyntheticFieldKind fieldKind, FieldKind kind, bool withLanguage)
    {
        if (!PretrainedLineModel.IsAvailable)
            Assert.Ignore("This build has no packaged line model (bash tools/train-pretrained-lines.sh).");
        var language = withLanguage ? LetterFrequencies.English : null;
        FieldReaderOptions Options(FieldReadingMethod method) => new() { Kind = kind, Method = method, LetterFrequencies = language };
        using var segmentation = HandwrittenFieldReader.LoadPretrained(Options(FieldReadingMethod.Segmentation));
        using var lines = HandwrittenFieldReader.LoadPretrained(Options(FieldReadingMethod.Lines));
        using var combined = HandwrittenFieldReader.LoadPretrained(Options(FieldReadingMethod.Combined));
        var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions { Kind = fieldKind, Seed = 7 }, new DrawnCharacters());
        int agreed = 0, disagreed = 0;
        for (int i = 0; i < 24; i++)
        {
            var field = generator.Generate(i);
            var bySegmentation = segmentation.Read(field.Pixels, field.Width, field.Height);
            var byLines = lines.Read(field.Pixels, field.Width, field.Height);
            var both = combined.Read(field.Pixels, field.Width, field.Height);
            string where = $"field {i} ('{field.Text}'): segmentation '{bySegmentation.Text}' {bySegmentation.Confidence:F4}, lines '{byLines.Text}' {byLines.Confidence:F4}, combined '{both.Text}' {both.Confidence:F4}";
            Assert.That(both.Text, Is.AnyOf(bySegmentation.Text, byLines.Text), where);
            Assert.That(both.Confidence, Is.InRange(0f, 1f), where);
            if (bySegmentation.Text == byLines.Text)
            {
                agreed++;
                // The segmentation's text scored by the line recognizer is the line recognizer's own confidence; with no
                // letter prior the segmentation's best cut into that text is the one it decoded, so both factors are the
                // readers' own confidences.
                double geometricMean = Math.Sqrt(bySegmentation.Confidence * (double)byLines.Confidence);
                if (withLanguage)
                    Assert.That(both.Confidence, Is.GreaterThanOrEqualTo(geometricMean - 1e-4), where);
                else
                    Assert.That(both.Confidence, Is.EqualTo(geometricMean).Within(1e-4), where);
            }
            else if (both.Text == bySegmentation.Text && !byLines.IsBlank)
            {
                disagreed++;
                // Texts that differ share the line recognizer's probability, so the segmentation's text gets at most what the
                // line recognizer's own reading leaves.
                Assert.That(both.Confidence, Is.LessThanOrEqualTo(Math.Sqrt((1 - byLines.Confidence) * (double)bySegmentation.Confidence) + 1e-4), where);
            }
            else if (both.Text == byLines.Text)
            {
                disagreed++;
                Assert.That(both.Confidence, Is.LessThanOrEqualTo(Math.Sqrt(byLines.Confidence) + 1e-4), where);
            }
        }

        TestContext.Out.WriteLine($"{agreed} fields read alike, {disagreed} differently");
        Assert.That(agreed, Is.GreaterThan(0), "some fields both readers read alike");
        Assert.That(disagreed, Is.GreaterThan(0), "some fields the readers read differently");
    }

    [Test]
    public void The_segmentations_probability_of_its_own_reading_is_that_readings_confidence_and_an_unfit_text_gets_none()
    {
        // Without a letter prior the decoder's best cut is also the best cut into the text it read, so scoring its own
        // text must give back its confidence exactly (amounts are drawn with touching and overlapping digits, which give the cut a choice).
        using var segmentation = HandwrittenFieldReader.LoadPretrained(
            new FieldReaderOptions { Kind = FieldKind.Digits, Method = FieldReadingMethod.Segmentation, LetterFrequencies = null });
        var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions { Kind = SyntheticFieldKind.Amount, Seed = 11 }, new DrawnCharacters("0123456789"));
        int read = 0;
        for (int i = 0; i < 24; i++)
        {
            var field = generator.Generate(i);
            var reading = segmentation.Read(field.Pixels, field.Width, field.Height);
            if (reading.IsBlank)
                continue;
            read++;
            string where = $"field {i} ('{field.Text}') read '{reading.Text}' at {reading.Confidence:F5}";
            Assert.That(segmentation.SegmentationProbability(field.Pixels, field.Width, field.Height, FieldKind.Digits, reading.Text),
                Is.EqualTo(reading.Confidence).Within(1e-5 + (1e-4 * reading.Confidence)), where);
            Assert.That(segmentation.SegmentationProbability(field.Pixels, field.Width, field.Height, FieldKind.Digits, new string('1', 40)),
                Is.Zero, $"{where}: forty characters fit no cut of the line");
        }

        Assert.That(read, Is.GreaterThan(20));
    }

    [Test]
    public void Combined_needs_a_line_recognizer_and_says_so()
    {
        using var recognizer = CharacterRecognizer.Load(PretrainedCharacterModel.OpenRead());
        var e = Assert.Throws<ArgumentException>(() => new HandwrittenFieldReader(recognizer, new FieldReaderOptions { Method = FieldReadingMethod.Combined }));
        Assert.That(e!.Message, Does.Contain("Combined").And.Contain("no line recognizer"));
    }
}
