using Ocr.MLNet.Fields;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Tests;

/// <summary>How a field kind's mask treats letters that look like digits.</summary>
[TestFixture]
public sealed class ClassMaskTests
{
    private static readonly string[] Classes = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt".Select(c => c.ToString()).ToArray();

    private static float[] Scores(params (string Class, float Score)[] scores)
    {
        var row = new float[Classes.Length];
        foreach (var (name, score) in scores)
            row[Array.IndexOf(Classes, name)] = score;
        return row;
    }

    [TestCase("O")]
    [TestCase("D")]
    [TestCase("a")]
    public void In_a_digit_field_a_zero_read_best_as_a_round_letter_is_a_zero(string letter)
    {
        var mask = ClassMask.For(Classes, FieldKind.Digits);
        var row = Scores((letter, 0.6f), ("8", 0.25f), ("0", 0.1f));
        mask.Fold(row);
        Assert.That(row[Array.IndexOf(Classes, "0")], Is.EqualTo(0.7f).Within(1e-6));
        Assert.That(row[Array.IndexOf(Classes, letter)], Is.Zero);
    }

    [TestCase("e", "E")]
    [TestCase("a", "A")]
    [TestCase("1", "I")]
    public void In_a_capitals_field_a_lower_case_e_or_a_and_a_bar_read_as_1_are_capitals(string read, string meant)
    {
        var mask = ClassMask.For(Classes, FieldKind.Upper);
        var row = Scores((read, 0.5f), ("C", 0.3f), (meant, 0.1f));
        mask.Fold(row);
        Assert.That(row[Array.IndexOf(Classes, meant)], Is.EqualTo(0.6f).Within(1e-6));
        Assert.That(mask.Labels[Array.IndexOf(Classes, meant)], Is.EqualTo(meant));
    }

    [Test]
    public void A_look_alike_that_is_not_the_networks_best_moves_nothing()
    {
        var mask = ClassMask.For(Classes, FieldKind.Digits);
        var row = Scores(("8", 0.5f), ("O", 0.3f), ("0", 0.1f));
        float[] before = [.. row];
        mask.Fold(row);
        Assert.That(row, Is.EqualTo(before));
    }

    [TestCase(FieldKind.Upper)]
    [TestCase(FieldKind.Alphanumeric)]
    public void Fields_that_may_hold_letters_keep_them(FieldKind kind)
    {
        var mask = ClassMask.For(Classes, kind);
        var row = Scores(("O", 0.6f), ("0", 0.3f));
        float[] before = [.. row];
        mask.Fold(row);
        Assert.That(row, Is.EqualTo(before));
    }

    [Test]
    public void Letter_frequencies_tip_a_letter_the_shape_leaves_in_doubt_and_leave_digits_alone()
    {
        // A thin E the network scores just under C: in French an E is about four times as frequent, so it wins.
        var mask = ClassMask.For(Classes, FieldKind.Alphanumeric).WeighedBy(LetterFrequencies.French);
        var row = Scores(("C", 0.40f), ("E", 0.36f), ("7", 0.2f));
        mask.Weigh(row);

        float e = row[Array.IndexOf(Classes, "E")], c = row[Array.IndexOf(Classes, "C")];
        Assert.That(e, Is.GreaterThan(c));
        Assert.That(e / c, Is.EqualTo(0.36 / 0.40 * Math.Pow(12.10 / 3.18, 0.25)).Within(1e-5), "the prior's ratio at a quarter power");
        Assert.That(row[Array.IndexOf(Classes, "7")], Is.EqualTo(0.2f), "digits are not weighed");
        Assert.That(mask.Weights![Array.IndexOf(Classes, "e")], Is.EqualTo(mask.Weights[Array.IndexOf(Classes, "E")]), "both cases of a letter");
    }

    [Test]
    public void A_mask_without_letter_frequencies_weighs_nothing()
    {
        var mask = ClassMask.For(Classes, FieldKind.Upper).WeighedBy(null);
        var row = Scores(("C", 0.4f), ("E", 0.36f));
        float[] before = [.. row];
        mask.Weigh(row);
        Assert.That(row, Is.EqualTo(before));
    }

    [Test]
    public void A_letter_frequency_table_refuses_what_is_not_a_letter_or_a_frequency_and_names_it()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new LetterFrequencies(new Dictionary<char, double> { ['A'] = 5, ['1'] = 2 }),
                Throws.ArgumentException.With.Message.Contains("'1' is not a letter"));
            Assert.That(() => new LetterFrequencies(new Dictionary<char, double> { ['A'] = 5, ['B'] = double.NaN }),
                Throws.ArgumentException.With.Message.Contains("frequency of 'B' is NaN"));
            Assert.That(() => new LetterFrequencies(new Dictionary<char, double> { ['A'] = 5 }),
                Throws.ArgumentException.With.Message.Contains("at least two"));
            Assert.That(() => LetterFrequencies.ForLanguage("klingon"), Throws.ArgumentException.With.Message.Contains("french (fr) or english (en)"));
            Assert.That(LetterFrequencies.ForLanguage("FR"), Is.SameAs(LetterFrequencies.French));
            Assert.That(new LetterFrequencies(new Dictionary<char, double> { ['a'] = 1, ['A'] = 2, ['b'] = 1 }).Frequencies['A'], Is.EqualTo(3), "cases added together");
        });
    }

    [Test]
    public void Letter_pairs_favour_what_the_language_writes_and_leave_other_classes_alone()
    {
        // The shipped French table: U after Q, a word ending in E; V after Q and a word ending in C are rare.
        var pairs = ClassMask.For(Classes, FieldKind.Alphanumeric).WeighedBy(LetterFrequencies.French).PairBonus!;
        float Pair(string first, string next) => pairs[first == " " ? 0 : Array.IndexOf(Classes, first) + 1, next == " " ? 0 : Array.IndexOf(Classes, next) + 1];

        Assert.Multiple(() =>
        {
            Assert.That(Pair("Q", "U"), Is.GreaterThan(0.5f), "QU");
            Assert.That(Pair("Q", "V"), Is.LessThan(-0.5f), "QV");
            Assert.That(Pair("E", " "), Is.GreaterThan(Pair("C", " ") + 0.5f), "a final E over a final C");
            Assert.That(Pair("q", "U"), Is.EqualTo(Pair("Q", "U")), "both cases of a letter");
            Assert.That(Pair("Q", "7"), Is.Zero, "digits follow no pairs");
            Assert.That(Pair("7", "U"), Is.Zero);
            Assert.That(Pair(" ", " "), Is.Zero, "an empty field");
            Assert.That(ClassMask.For(Classes, FieldKind.Upper).WeighedBy(new LetterFrequencies(LetterFrequencies.French.Frequencies)).PairBonus, Is.Null,
                "a table without pairs");
        });
    }

    [Test]
    public void A_pair_table_of_ones_own_is_counted_as_given_and_refuses_what_is_not_a_pair()
    {
        var letters = new Dictionary<char, double> { ['A'] = 5, ['B'] = 5 };
        var own = new LetterFrequencies(letters, new Dictionary<string, double> { ["AB"] = 8, ["ab"] = 2, [" A"] = 10, ["B "] = 10 });
        var pairs = ClassMask.For(["A", "B"], FieldKind.Upper).WeighedBy(own).PairBonus!;
        Assert.Multiple(() =>
        {
            Assert.That(own.Pairs!["AB"], Is.EqualTo(10), "cases added together");
            // Add-one smoothing over 27 symbols: P(B | A) = 11 / 37, P(B) = 11 / 57 as the second of a pair.
            Assert.That(pairs[1, 2], Is.EqualTo((float)(0.3 * Math.Log((11.0 / 37) / (11.0 / 57)))).Within(1e-6), "AB");
            Assert.That(pairs[2, 1], Is.LessThan(0f), "BA, never seen");
            Assert.That(() => new LetterFrequencies(letters, new Dictionary<string, double> { ["Q"] = 1 }),
                Throws.ArgumentException.With.Message.Contains("The letter pair 'Q' is not two letters"));
            Assert.That(() => new LetterFrequencies(letters, new Dictionary<string, double> { ["1U"] = 1 }),
                Throws.ArgumentException.With.Message.Contains("'1U'"));
            Assert.That(() => new LetterFrequencies(letters, new Dictionary<string, double> { ["  "] = 1 }),
                Throws.ArgumentException.With.Message.Contains("a space for a word's edge"));
            Assert.That(() => new LetterFrequencies(letters, new Dictionary<string, double> { ["QU"] = -1 }),
                Throws.ArgumentException.With.Message.Contains("frequency of 'QU' is -1"));
        });
    }

    [Test]
    public void A_capitals_mask_carries_every_letter_for_writers_of_small_letters_and_other_kinds_do_not()
    {
        var capitals = ClassMask.For(Classes, FieldKind.Upper);
        var small = capitals.SmallLetters;
        Assert.That(small, Is.Not.Null);
        Assert.That(Enumerable.Range(0, Classes.Length).Where(c => small!.Allowed[c] && !capitals.Allowed[c]).Select(c => Classes[c]),
            Is.EqualTo("abdefghnqrt".Select(c => c.ToString())), "the small letters with classes of their own");
        Assert.That(capitals.WeighedBy(LetterFrequencies.French).SmallLetters!.Weights, Is.Not.Null, "weighed alike");
        Assert.That(ClassMask.For(Classes, FieldKind.Digits).SmallLetters, Is.Null);
        Assert.That(ClassMask.For(Classes, FieldKind.Letters).SmallLetters, Is.Null);
    }
}
