using System.Diagnostics;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Tests;

/// <summary>The CTC decoder on hand-made score matrices whose best readings are known.</summary>
[TestFixture]
public sealed class CtcDecoderTests
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -'";

    private static readonly CtcDecoderOptions ShapeOnly = new() { LetterFrequencies = null };

    /// <summary>
    /// Log-probabilities for one line: per time step the probabilities of a few characters ('_' the blank), the rest of
    /// the mass shared evenly by the other classes.
    /// </summary>
    private static float[] Line(string alphabet, params (char Character, double Probability)[][] steps)
    {
        int classes = alphabet.Length + 1;
        var scores = new float[steps.Length * classes];
        for (int t = 0; t < steps.Length; t++)
        {
            var row = new double[classes];
            foreach (var (character, probability) in steps[t])
                row[character == '_' ? 0 : alphabet.IndexOf(character) + 1] = probability;
            int unset = row.Count(p => p == 0);
            double rest = Math.Max(1e-6, 1 - row.Sum()) / Math.Max(1, unset);
            for (int c = 0; c < classes; c++)
                scores[t * classes + c] = (float)Math.Log(row[c] == 0 ? rest : row[c]);
        }

        return scores;
    }

    /// <summary>A step where one character (or the blank, '_') is all but certain.</summary>
    private static (char, double)[] Sure(char character) => [(character, 0.98)];

    private static CtcDecoding Decode(string alphabet, CtcDecoderOptions options, params (char, double)[][] steps) =>
        new CtcDecoder(alphabet, options).Decode(Line(alphabet, steps), steps.Length);

    [Test]
    public void Repeats_collapse()
    {
        var read = Decode(Alphabet, ShapeOnly, Sure('A'), Sure('A'), Sure('A'));
        Assert.That(read.Text, Is.EqualTo("A"));
    }

    [Test]
    public void A_blank_separates_a_doubled_letter()
    {
        var read = Decode(Alphabet, ShapeOnly, Sure('A'), Sure('_'), Sure('A'));
        Assert.That(read.Text, Is.EqualTo("AA"));
    }

    [TestCase(8)]
    [TestCase(1)]
    public void All_blanks_read_as_empty_text_with_the_probability_of_the_blanks(int beamWidth)
    {
        var read = Decode("AB", new CtcDecoderOptions { BeamWidth = beamWidth, LetterFrequencies = null }, [('_', 0.9)], [('_', 0.9)], [('_', 0.9)]);
        Assert.That(read.Text, Is.Empty);
        Assert.That(read.Characters, Is.Empty);
        Assert.That(read.Confidence, Is.EqualTo(0.9 * 0.9 * 0.9).Within(1e-5));
    }

    [Test]
    public void No_time_steps_read_as_empty_text()
    {
        var read = new CtcDecoder(Alphabet).Decode([], 0);
        Assert.That(read, Is.SameAs(CtcDecoding.Empty));
    }

    [Test]
    public void A_digit_field_never_yields_a_letter_even_where_a_letter_scores_highest()
    {
        var options = new CtcDecoderOptions { AllowedCharacters = CtcDecoder.AllowedCharactersFor(FieldKind.Digits, Alphabet) };
        var read = Decode(Alphabet, options, [('B', 0.6), ('8', 0.3), ('3', 0.05)], Sure('_'), [('O', 0.7), ('0', 0.1), ('6', 0.15)]);
        Assert.That(read.Text, Is.EqualTo("86"));
        // Renormalised over the digits and the blank: 0.3 of what the mask left (8 and 3, 9 × the shared rest).
        Assert.That(read.Characters[0].Confidence, Is.EqualTo(0.3 / (0.3 + 0.05 + (9 * 0.05 / 63))).Within(1e-4));
        Assert.That(read.Characters[0].Alternatives.Select(a => a.Character), Has.All.Matches<char>(char.IsAsciiDigit));
    }

    [Test]
    public void The_beam_finds_the_most_probable_text_where_the_best_path_misses_it()
    {
        // Best path: blank, blank (0.36) reads "". But "A" sums three paths: AA, A_, _A = 0.16 + 0.24 + 0.24 = 0.64.
        (char, double)[] step = [('_', 0.6), ('A', 0.4)];
        var greedy = Decode("A", new CtcDecoderOptions { BeamWidth = 1, LetterFrequencies = null }, step, step);
        var beam = Decode("A", ShapeOnly, step, step);
        Assert.That(greedy.Text, Is.Empty);
        Assert.That(greedy.Confidence, Is.EqualTo(0.36).Within(1e-5));
        Assert.That(beam.Text, Is.EqualTo("A"));
        Assert.That(beam.Confidence, Is.EqualTo(0.64).Within(1e-5));
    }

    [Test]
    public void Letter_pairs_decide_an_ambiguous_step_after_a_Q()
    {
        // The network leans to V; English puts a U after a Q. The prior is off, so only the pair decides.
        (char, double)[][] steps = [Sure('Q'), Sure('_'), [('V', 0.48), ('U', 0.46)], Sure('_')];
        var english = new CtcDecoderOptions { LetterFrequencies = LetterFrequencies.English, PriorWeight = 0 };
        Assert.That(Decode(Alphabet, ShapeOnly, steps).Text, Is.EqualTo("QV"));
        Assert.That(Decode(Alphabet, english, steps).Text, Is.EqualTo("QU"));
        Assert.That(Decode(Alphabet, new CtcDecoderOptions { LetterFrequencies = LetterFrequencies.English, PriorWeight = 0, PairWeight = 0 }, steps).Text,
            Is.EqualTo("QV"));
    }

    [Test]
    public void Confidence_is_a_probability_higher_for_a_clear_line_than_an_ambiguous_one()
    {
        var decoder = new CtcDecoder(Alphabet, ShapeOnly);
        (char, double)[][] clear = [Sure('C'), Sure('_'), Sure('A'), Sure('_'), Sure('T')];
        (char, double)[][] doubtful = [[('C', 0.5), ('G', 0.45)], Sure('_'), [('A', 0.55), ('H', 0.4)], Sure('_'), Sure('T')];
        var sure = decoder.Decode(Line(Alphabet, clear), clear.Length);
        var unsure = decoder.Decode(Line(Alphabet, doubtful), doubtful.Length);
        Assert.That(sure.Text, Is.EqualTo("CAT"));
        Assert.That(unsure.Text, Is.EqualTo("CAT"));
        Assert.That(sure.Confidence, Is.InRange(0.85f, 1f));
        Assert.That(unsure.Confidence, Is.InRange(0f, 0.35f));
        Assert.That(unsure.Characters[0].Confidence, Is.EqualTo(0.5).Within(1e-4));
        Assert.That(unsure.Characters[0].Alternatives[0], Is.EqualTo(new CtcAlternative('G', 0.45f)).Using<CtcAlternative>(
            (a, b) => a.Character == b.Character && Math.Abs(a.Probability - b.Probability) < 1e-4));
    }

    [Test]
    public void The_probability_of_any_text_sums_every_alignment_and_matches_the_decoded_confidence()
    {
        // Two characters, two steps: the texts a line can hold are "", a, b, aa, ab, ba, bb, and their probabilities are all there is.
        var decoder = new CtcDecoder("ab", ShapeOnly);
        var line = Line("ab", [('a', 0.5), ('b', 0.3)], [('_', 0.2), ('a', 0.6)]);
        string[] texts = ["", "a", "b", "aa", "ab", "ba", "bb"];
        var probabilities = texts.Select(t => decoder.Probability(line, 2, t)).ToArray();
        Assert.That(probabilities.Sum(), Is.EqualTo(1).Within(1e-5));
        // "a": a-blank, blank-a, a-a → 0.5·0.2 + 0.2·0.6 + 0.5·0.6.
        Assert.That(probabilities[1], Is.EqualTo((0.5 * 0.2) + (0.2 * 0.6) + (0.5 * 0.6)).Within(1e-5));
        Assert.That(probabilities[3], Is.Zero, "a doubled letter needs a blank between, which two steps cannot hold");
        Assert.That(decoder.Probability(line, 2, "abb"), Is.Zero, "longer than the line");
        Assert.That(decoder.Probability(line, 2, "c"), Is.Zero, "not in the alphabet");

        var digits = new CtcDecoder(Alphabet, new CtcDecoderOptions { LetterFrequencies = null, AllowedCharacters = "0123456789" });
        var read = digits.Decode(Line(Alphabet, Sure('4'), Sure('_'), [('2', 0.6), ('Z', 0.3)]), 3);
        Assert.That(digits.Probability(Line(Alphabet, Sure('4'), Sure('_'), [('2', 0.6), ('Z', 0.3)]), 3, read.Text), Is.EqualTo(read.Confidence).Within(1e-6));
        Assert.That(digits.Probability(Line(Alphabet, Sure('4'), Sure('_'), [('2', 0.6), ('Z', 0.3)]), 3, "4Z"), Is.Zero, "a character the mask forbids");
    }

    [Test]
    public void Each_character_spans_the_time_steps_its_best_alignment_gives_it()
    {
        var read = Decode(Alphabet, ShapeOnly,
            Sure('_'), Sure('A'), [('A', 0.9)], Sure('_'), Sure('B'), [('B', 0.6), ('_', 0.3)], Sure('B'), Sure('_'), Sure('C'));
        Assert.That(read.Text, Is.EqualTo("ABC"));
        Assert.That(read.Characters.Select(c => (c.Character, c.FirstTimeStep, c.LastTimeStep)),
            Is.EqualTo(new[] { ('A', 1, 2), ('B', 4, 6), ('C', 8, 8) }));
        Assert.That(read.Characters[1].Confidence, Is.EqualTo(0.98).Within(1e-4));
        Assert.That(read.Characters[1].Alternatives, Has.Count.EqualTo(CtcDecoderOptions.DefaultAlternatives));
    }

    [Test]
    public void Options_validation_lists_every_bad_value_at_once()
    {
        var options = new CtcDecoderOptions { BeamWidth = 0, AllowedCharacters = "AZ!", PairWeight = -1, PriorWeight = double.NaN, Alternatives = -2 };
        var error = Assert.Throws<ArgumentException>(() => _ = new CtcDecoder("ABC", options))!;
        Assert.That(error.Message, Does.Contain("BeamWidth = 0").And.Contain("'Z!' not in the alphabet 'ABC'").And.Contain("PairWeight = -1")
            .And.Contain("PriorWeight = NaN").And.Contain("Alternatives = -2"));
    }

    [TestCase("ABA", "'A'")]
    [TestCase("0123456789 -'-", "'-'")]
    public void An_alphabet_with_a_repeated_character_is_refused(string alphabet, string repeated)
    {
        Assert.That(() => new CtcDecoder(alphabet), Throws.ArgumentException.With.Message.Contain(repeated).And.Message.Contain("more than once"));
    }

    [Test]
    public void Field_kinds_give_their_characters_a_capitals_field_keeping_name_marks()
    {
        Assert.That(CtcDecoder.AllowedCharactersFor(FieldKind.Digits, Alphabet), Is.EqualTo("0123456789"));
        Assert.That(CtcDecoder.AllowedCharactersFor(FieldKind.Upper, Alphabet), Is.EqualTo("ABCDEFGHIJKLMNOPQRSTUVWXYZ -'"));
        Assert.That(CtcDecoder.AllowedCharactersFor(FieldKind.Lower, Alphabet), Is.EqualTo("abcdefghijklmnopqrstuvwxyz -'"));
        Assert.That(CtcDecoder.AllowedCharactersFor(FieldKind.Alphanumeric, Alphabet), Is.EqualTo(Alphabet));
        Assert.That(() => CtcDecoder.AllowedCharactersFor(FieldKind.Digits, "ABC"), Throws.ArgumentException.With.Message.Contain("none of the characters"));
    }

    [Test]
    public void A_capitals_field_reads_a_hyphenated_name()
    {
        var options = new CtcDecoderOptions { AllowedCharacters = CtcDecoder.AllowedCharactersFor(FieldKind.Upper, Alphabet) };
        var read = Decode(Alphabet, options, Sure('J'), Sure('O'), [('-', 0.5), ('1', 0.4)], Sure('Y'));
        Assert.That(read.Text, Is.EqualTo("JO-Y"));
    }

    [Test]
    public void Scores_of_the_wrong_length_or_without_a_finite_value_are_refused_with_the_numbers()
    {
        var decoder = new CtcDecoder("AB");
        Assert.That(() => decoder.Decode(new float[7], 2), Throws.ArgumentException.With.Message.Contain("hold 7 values").And.Message.Contain("need 6"));
        float[] scores = [0, -1, -1, float.NaN, -1, -1];
        Assert.That(() => decoder.Decode(scores, 2), Throws.ArgumentException.With.Message.Contain("Time step 1"));
    }

    [Test]
    public void A_batch_reads_each_line_as_alone()
    {
        var decoder = new CtcDecoder(Alphabet);
        var first = Line(Alphabet, Sure('H'), Sure('_'), Sure('I'));
        var second = Line(Alphabet, Sure('_'), Sure('7'), Sure('7'));
        var read = decoder.DecodeBatch([.. first, .. second], 2, 3);
        Assert.That(read.Select(r => r.Text), Is.EqualTo(new[] { "HI", "7" }));
        Assert.That(() => decoder.DecodeBatch(first, 2, 3), Throws.ArgumentException.With.Message.Contain("2 lines"));
    }

    [Test]
    public void One_decoder_serves_many_threads_at_once()
    {
        var decoder = new CtcDecoder(Alphabet);
        var scores = Line(Alphabet, Sure('Q'), Sure('_'), [('V', 0.48), ('U', 0.46)], Sure('_'), Sure('E'), Sure('E'));
        var alone = decoder.Decode(scores, 6);
        var texts = new string[64];
        Parallel.For(0, texts.Length, i => texts[i] = decoder.Decode(scores, 6).Text);
        Assert.That(texts, Has.All.EqualTo(alone.Text));
        Assert.That(alone.Text, Is.EqualTo("QUE"));
    }

    [Test]
    public void A_line_of_64_steps_decodes_fast_with_a_beam_of_8()
    {
        const int steps = 64, lines = 300;
        int classes = Alphabet.Length + 1;
        var random = new Random(7);
        var peaky = new float[lines * steps * classes];
        var flat = new float[lines * steps * classes];
        for (int row = 0; row < lines * steps; row++)
        {
            // Peaky like a trained network: mostly blank, a character now and then, a little noise; and flat random logits.
            int top = random.NextDouble() < 0.6 ? 0 : random.Next(1, classes);
            var logits = Enumerable.Range(0, classes).Select(c => random.NextDouble() * 2 + (c == top ? 8 : 0)).ToArray();
            var noise = Enumerable.Range(0, classes).Select(_ => random.NextDouble()).ToArray();
            LogSoftmax(logits, peaky.AsSpan(row * classes, classes));
            LogSoftmax(noise, flat.AsSpan(row * classes, classes));
        }

        var beam = new CtcDecoder(Alphabet);
        var greedy = new CtcDecoder(Alphabet, new CtcDecoderOptions { BeamWidth = 1 });
        // The best of several rounds, past the JIT's first tier: the machine is shared, and others' load only slows.
        double MillisecondsPerLine(CtcDecoder decoder, float[] scores)
        {
            const int perRound = 20;
            double best = double.PositiveInfinity;
            for (int round = 0; round < lines / perRound; round++)
            {
                var watch = Stopwatch.StartNew();
                decoder.DecodeBatch(scores.AsSpan(round * perRound * steps * classes, perRound * steps * classes), perRound, steps);
                best = Math.Min(best, watch.Elapsed.TotalMilliseconds / perRound);
            }

            return best;
        }

        for (int warm = 0; warm < 3; warm++)
        {
            beam.DecodeBatch(peaky.AsSpan(0, 100 * steps * classes), 100, steps);
            greedy.DecodeBatch(peaky.AsSpan(0, 100 * steps * classes), 100, steps);
        }

        double peakyMs = MillisecondsPerLine(beam, peaky), flatMs = MillisecondsPerLine(beam, flat), greedyMs = MillisecondsPerLine(greedy, peaky);
        // The process's processor time too, which others' load on the cores does not lengthen as it does the clock.
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        beam.DecodeBatch(peaky, lines, steps);
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / lines;
        TestContext.Out.WriteLine(
            $"CTC decode, T={steps}, C={classes}: beam 8 {peakyMs:F3} ms per line (peaky; {cpuMs:F3} ms processor time), {flatMs:F3} ms (flat, worst case); greedy {greedyMs:F3} ms");
        // Generous: the machine is shared; the aim is 0.3 ms.
        Assert.That(peakyMs, Is.LessThan(2));
    }

    private static void LogSoftmax(double[] logits, Span<float> output)
    {
        double max = logits.Max();
        double logTotal = max + Math.Log(logits.Sum(x => Math.Exp(x - max)));
        for (int c = 0; c < logits.Length; c++)
            output[c] = (float)(logits[c] - logTotal);
    }
}
