using Ocr.MLNet.Fields;

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
}
