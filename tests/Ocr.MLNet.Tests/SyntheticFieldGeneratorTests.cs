using OpenCvSharp;
using Ocr.MLNet.Lines;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The synthetic field generator on glyphs drawn by the test (Hershey capitals and digits), and on EMNIST where
/// <c>../shared/data</c> is present: fields are a function of (seed, index), every character of the text has the box
/// it was drawn in, each kind holds only its characters, sizes stay in the options' ranges, and bad options are all named.
/// </summary>
[TestFixture]
public sealed class SyntheticFieldGeneratorTests
{
    private static readonly DrawnCharacters Drawn = new();

    private static SyntheticFieldGenerator Generator(SyntheticFieldKind kind, int seed = 11, Action<SyntheticFieldOptions>? change = null)
    {
        var options = new SyntheticFieldOptions { Kind = kind, Seed = seed };
        change?.Invoke(options);
        return new SyntheticFieldGenerator(options, Drawn);
    }

    [Test]
    public void The_same_seed_and_index_give_the_same_bytes_text_and_boxes()
    {
        var first = Generator(SyntheticFieldKind.Mixed);
        var second = Generator(SyntheticFieldKind.Mixed);
        for (int i = 0; i < 30; i++)
        {
            var a = first.Generate(i);
            var b = second.Generate(i);
            Assert.That(b.Pixels, Is.EqualTo(a.Pixels), $"field {i}'s pixels");
            Assert.That((b.Text, b.Width, b.Height, b.Kind), Is.EqualTo((a.Text, a.Width, a.Height, a.Kind)), $"field {i}");
            Assert.That(b.Characters, Is.EqualTo(a.Characters), $"field {i}'s boxes");
        }

        // Next() walks the same sequence; field 5 drawn out of order is still field 5.
        Assert.That(second.Next().Pixels, Is.EqualTo(first.Generate(0).Pixels));
        Assert.That(second.Next().Pixels, Is.EqualTo(first.Generate(1).Pixels));
        Assert.That(first.Generate(5).Pixels, Is.EqualTo(second.Generate(5).Pixels));
    }

    [Test]
    public void Fields_drawn_on_several_threads_equal_those_drawn_on_one()
    {
        var generator = Generator(SyntheticFieldKind.Mixed);
        var sequential = Enumerable.Range(0, 40).Select(i => generator.Generate(i).Pixels).ToArray();
        var parallel = new byte[40][];
        Parallel.For(0, 40, i => parallel[i] = generator.Generate(i).Pixels);
        Assert.That(parallel, Is.EqualTo(sequential));
    }

    [Test]
    public void Another_seed_or_index_gives_another_field()
    {
        var a = Generator(SyntheticFieldKind.Mixed, seed: 1);
        var b = Generator(SyntheticFieldKind.Mixed, seed: 2);
        int same = Enumerable.Range(0, 20).Count(i => a.Generate(i).Pixels.SequenceEqual(b.Generate(i).Pixels));
        Assert.That(same, Is.Zero, "fields of seeds 1 and 2 alike");
        Assert.That(a.Generate(0).Pixels, Is.Not.EqualTo(a.Generate(1).Pixels));
    }

    [TestCase(SyntheticFieldKind.Name)]
    [TestCase(SyntheticFieldKind.Amount)]
    [TestCase(SyntheticFieldKind.DigitBoxes)]
    public void Every_character_of_the_text_has_the_box_it_was_drawn_in(SyntheticFieldKind kind)
    {
        var generator = Generator(kind);
        for (int i = 0; i < 60; i++)
        {
            var field = generator.Generate(i);
            Assert.That(field.Characters, Has.Count.EqualTo(field.Text.Length), $"field {i} '{field.Text}'");
            Assert.That(string.Concat(field.Characters.Select(c => c.Character)), Is.EqualTo(field.Text), $"field {i}");
            foreach (var box in field.Characters)
            {
                Assert.That(box.Width > 0 && box.Height > 0 && box.X >= 0 && box.Y >= 0
                    && box.X + box.Width <= field.Width && box.Y + box.Height <= field.Height, Is.True, $"field {i}: {box} inside {field.Width}×{field.Height}");
            }

            // Boxes run left to right (overlap allowed: writers' characters touch).
            for (int c = 1; c < field.Characters.Count; c++)
                Assert.That(field.Characters[c].X, Is.GreaterThanOrEqualTo(field.Characters[c - 1].X - (field.Height / 2)), $"field {i} box {c}");
        }
    }

    [Test]
    public void Each_kind_holds_only_its_characters_and_amounts_leave_their_separators_out()
    {
        var names = Generator(SyntheticFieldKind.Name);
        var amounts = Generator(SyntheticFieldKind.Amount, change: o => o.MaxAmountDigits = 7);
        var boxes = Generator(SyntheticFieldKind.DigitBoxes, change: o => o.MaxBoxDigits = 4);
        var nameTexts = Enumerable.Range(0, 200).Select(i => names.Generate(i).Text).ToList();
        Assert.Multiple(() =>
        {
            foreach (string text in nameTexts)
                Assert.That(text, Does.Match(@"^[A-Z][A-Z' \-]*[A-Z]$").And.Length.InRange(2, 15), "a name");
            for (int i = 0; i < 200; i++)
            {
                Assert.That(amounts.Generate(i).Text, Does.Match("^[0-9]{1,7}$"), "an amount");
                Assert.That(boxes.Generate(i).Text, Does.Match("^[0-9]{1,4}$"), "a digit box");
            }
        });
        Assert.That(nameTexts.Any(t => t.Contains('-') || t.Contains(' ') || t.Contains('\'')), Is.True, "some names have two parts");
    }

    [Test]
    public void Separators_are_drawn_although_the_text_leaves_them_out()
    {
        // Ink beyond the last digit's box: a closing ".-" or "=" is drawn but is not text.
        var amounts = Generator(SyntheticFieldKind.Amount, change: o => o.ClutterProbability = 0);
        int drawnAfter = 0;
        for (int i = 0; i < 100; i++)
        {
            var field = amounts.Generate(i);
            var last = field.Characters[^1];
            int right = last.X + last.Width + 2;
            bool ink = false;
            for (int y = 0; y < field.Height && !ink; y++)
            {
                for (int x = right; x < field.Width && !ink; x++)
                    ink = field.Pixels[(y * field.Width) + x] < 100;
            }

            drawnAfter += ink ? 1 : 0;
        }

        Assert.That(drawnAfter, Is.InRange(25, 85), "amounts with a mark after their last digit, of 100");
    }

    [Test]
    public void Sizes_stay_in_the_options_ranges()
    {
        var generator = Generator(SyntheticFieldKind.Mixed, change: o => (o.MinNameHeight, o.MaxNameHeight, o.MinAmountHeight, o.MaxAmountHeight) = (30, 32, 50, 52));
        for (int i = 0; i < 100; i++)
        {
            var field = generator.Generate(i);
            Assert.That(field.Pixels, Has.Length.EqualTo(field.Width * field.Height));
            Assert.That(field.Height, field.Kind == SyntheticFieldKind.Name ? Is.InRange(30, 32) : Is.InRange(50, 52), $"field {i}, {field.Kind}");
            if (field.Kind == SyntheticFieldKind.Name)
                Assert.That(field.Width, Is.GreaterThanOrEqualTo(280), "names are cut as wide as the forms' boxes");
        }

        var defaults = Generator(SyntheticFieldKind.Mixed);
        var kinds = Enumerable.Range(0, 100).Select(i => defaults.Generate(i).Kind).ToList();
        Assert.That(kinds, Does.Contain(SyntheticFieldKind.Name).And.Contain(SyntheticFieldKind.Amount), "a mixed sequence");
        Assert.That(kinds, Does.Not.Contain(SyntheticFieldKind.Mixed));
    }

    [Test]
    public void Fields_are_dark_ink_on_light_paper()
    {
        var generator = Generator(SyntheticFieldKind.Name, change: o => (o.LabelProbability, o.ClutterProbability) = (0, 0));
        var field = generator.Generate(3);
        var box = field.Characters.First(c => c.Character != ' ' && c.Character != '-' && c.Character != '\'');
        byte darkest = 255;
        for (int y = box.Y; y < box.Y + box.Height; y++)
        {
            for (int x = box.X; x < box.X + box.Width; x++)
                darkest = Math.Min(darkest, field.Pixels[(y * field.Width) + x]);
        }

        byte corner = field.Pixels[(field.Height - 1) * field.Width + field.Width - 1];
        Assert.That(darkest, Is.LessThan(120), "ink in the first character's box");
        Assert.That(corner, Is.GreaterThan(180), "paper at the right end of a name's crop");
    }

    [Test]
    public void Validate_names_every_invalid_value_at_once()
    {
        var options = new SyntheticFieldOptions { MinNameHeight = 50, MaxNameHeight = 40, MaxJpegQuality = 101, LabelProbability = 1.5, MaxAmountDigits = 0 };
        var error = Assert.Throws<ArgumentException>(options.Validate)!;
        Assert.That(error.Message, Does.Contain("MaxNameHeight = 40").And.Contain("MaxJpegQuality = 101")
            .And.Contain("LabelProbability = 1.5").And.Contain("MaxAmountDigits = 0"));
        Assert.That(error.Message, Does.Not.Contain("MinNameHeight = 50"), "the minimum itself is valid");
        Assert.Throws<ArgumentException>(() => new SyntheticFieldGenerator(options, Drawn), "the generator validates too");
        Assert.DoesNotThrow(new SyntheticFieldOptions().Validate, "the defaults");
    }

    [Test]
    public void A_source_without_the_kinds_characters_and_a_missing_folder_are_refused_with_what_to_do()
    {
        var digitsOnly = new DrawnCharacters("0123456789");
        var error = Assert.Throws<ArgumentException>(() => new SyntheticFieldGenerator(new SyntheticFieldOptions { Kind = SyntheticFieldKind.Name }, digitsOnly))!;
        Assert.That(error.Message, Does.Contain("ABCDEFGHIJKLMNOPQRSTUVWXYZ").And.Contain("Name"));
        Assert.DoesNotThrow(() => new SyntheticFieldGenerator(new SyntheticFieldOptions { Kind = SyntheticFieldKind.Amount }, digitsOnly));
        var noFolder = Assert.Throws<ArgumentException>(() => new SyntheticFieldGenerator(new SyntheticFieldOptions()))!;
        Assert.That(noFolder.Message, Does.Contain(nameof(SyntheticFieldOptions.EmnistFolder)));
    }

    [Test]
    public void Changing_the_options_after_making_the_generator_changes_nothing()
    {
        var options = new SyntheticFieldOptions { Kind = SyntheticFieldKind.Amount, Seed = 4 };
        var generator = new SyntheticFieldGenerator(options, Drawn);
        var before = generator.Generate(0).Pixels;
        options.Seed = 5;
        options.Kind = SyntheticFieldKind.Name;
        Assert.That(generator.Generate(0).Pixels, Is.EqualTo(before));
        Assert.That(generator.Options.Seed, Is.EqualTo(4));
    }

    [Test]
    public void SaveSamples_writes_pngs_and_a_labels_table_like_handwritten_fields()
    {
        string folder = TestEnvironment.CreateTemporaryDirectory("synthetic-fields");
        try
        {
            var generator = Generator(SyntheticFieldKind.Mixed);
            generator.SaveSamples(folder, 12);
            var lines = File.ReadAllLines(Path.Combine(folder, "labels.tsv"));
            Assert.That(lines[0], Is.EqualTo("image\ttext"));
            Assert.That(lines, Has.Length.EqualTo(13));
            Assert.That(lines[1], Is.EqualTo($"0000.png\t{generator.Generate(0).Text}"));
            using var image = Cv2.ImRead(Path.Combine(folder, "0011.png"), ImreadModes.Unchanged);
            var field = generator.Generate(11);
            Assert.That((image.Width, image.Height, image.Channels()), Is.EqualTo((field.Width, field.Height, 1)));
            image.GetArray(out byte[] saved);
            Assert.That(saved, Is.EqualTo(field.Pixels), "PNG is lossless");
            Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(13), "no temporary files left");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void EMNIST_fields_are_drawn_from_the_real_characters()
    {
        string emnist = TestEnvironment.RealData("emnist-byclass-test");
        var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions { EmnistFolder = emnist, Seed = 3 });
        var fields = Enumerable.Range(0, 50).Select(i => generator.Generate(i)).ToList();
        Assert.That(fields.All(f => f.Characters.Count == f.Text.Length), Is.True);
        Assert.That(fields.Select(f => f.Kind).Distinct().Count(), Is.GreaterThanOrEqualTo(2));
        var again = new SyntheticFieldGenerator(new SyntheticFieldOptions { EmnistFolder = emnist, Seed = 3 });
        Assert.That(again.Generate(7).Pixels, Is.EqualTo(fields[7].Pixels));
    }
}
