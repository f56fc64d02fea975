using Ocr.MLNet.Text;

namespace Ocr.MLNet.Lines;

/// <summary>
/// Options of a <see cref="CtcDecoder"/>: how wide its beam search is, which characters a line may hold, and the language
/// whose letter frequencies and letter pairs break ties the network leaves. The decoder copies them when it is built, so
/// changing an instance afterwards changes no decoder.
/// </summary>
/// <example>
/// <code>
/// var digits = new CtcDecoder(alphabet, new CtcDecoderOptions
/// {
///     AllowedCharacters = CtcDecoder.AllowedCharactersFor(FieldKind.Digits, alphabet),
///     LetterFrequencies = null,
/// });
/// var names = new CtcDecoder(alphabet, new CtcDecoderOptions { BeamWidth = 16, LetterFrequencies = LetterFrequencies.French });
/// </code>
/// </example>
public sealed class CtcDecoderOptions
{
    /// <summary>Default <see cref="BeamWidth"/>: 8.</summary>
    public const int DefaultBeamWidth = 8;

    /// <summary>The widest beam accepted: 1024.</summary>
    public const int MaxBeamWidth = 1024;

    /// <summary>Default <see cref="Alternatives"/>: 3.</summary>
    public const int DefaultAlternatives = 3;

    /// <summary>Default <see cref="PairWeight"/>: 0.3, the field reader's weight (chosen on names-dev).</summary>
    public const double DefaultPairWeight = Text.LetterFrequencies.PairWeight;

    /// <summary>Default <see cref="PriorWeight"/>: 0.25, the field reader's weight (chosen on names-dev).</summary>
    public const double DefaultPriorWeight = Text.LetterFrequencies.PriorWeight;

    /// <summary>
    /// How many prefixes the beam search keeps per time step (1 to <see cref="MaxBeamWidth"/>). 1 is best-path (greedy)
    /// decoding: the best class of each time step, repeats collapsed and blanks dropped, without the language model.
    /// Default 8.
    /// </summary>
    public int BeamWidth { get; set; } = DefaultBeamWidth;

    /// <summary>
    /// The characters a line may hold (each must be in the alphabet; a space counts as a character), or null for every
    /// character of the alphabet. The others are masked out: their probability is dropped and each time step renormalised
    /// over the allowed characters and the blank. <see cref="CtcDecoder.AllowedCharactersFor"/> gives a field kind's.
    /// Default null.
    /// </summary>
    public string? AllowedCharacters { get; set; }

    /// <summary>
    /// The language's letter frequencies and letter pairs (<see cref="Text.LetterFrequencies.English"/>,
    /// <see cref="Text.LetterFrequencies.French"/> or a table of your own), or null to read by shape alone (codes, serial
    /// numbers). Default <see cref="Text.LetterFrequencies.English"/>, as the field reader.
    /// </summary>
    public LetterFrequencies? LetterFrequencies { get; set; } = Text.LetterFrequencies.English;

    /// <summary>
    /// The weight of the letter-pair term, PairWeight · ln(P(next | letter) ÷ P(next)), added to a prefix each time it is
    /// extended by a letter after a letter or a word's edge (start or end of the line, a space, a hyphen). 0 turns pairs off.
    /// Default 0.3.
    /// </summary>
    public double PairWeight { get; set; } = DefaultPairWeight;

    /// <summary>
    /// The weight of the letter prior, PriorWeight · ln(frequency ÷ mean frequency of the allowed letters), added once per
    /// letter written (not per time step). 0 turns it off. Default 0.25.
    /// </summary>
    public double PriorWeight { get; set; } = DefaultPriorWeight;

    /// <summary>How many alternatives each character of a decoding carries (0 to 100). Default 3.</summary>
    public int Alternatives { get; set; } = DefaultAlternatives;

    /// <summary>Lists every invalid value in one <see cref="ArgumentException"/>.</summary>
    internal void Validate(string alphabet)
    {
        var problems = new List<string>();
        problems.Check(BeamWidth is >= 1 and <= MaxBeamWidth, nameof(BeamWidth), BeamWidth, $"1 to {MaxBeamWidth}");
        if (AllowedCharacters is not null)
        {
            var unknown = AllowedCharacters.Where(c => alphabet.IndexOf(c, StringComparison.Ordinal) < 0).Distinct().ToArray();
            problems.Check(AllowedCharacters.Length > 0, nameof(AllowedCharacters), AllowedCharacters, "null or at least one character");
            problems.Check(unknown.Length == 0, nameof(AllowedCharacters), AllowedCharacters,
                $"'{new string(unknown)}' not in the alphabet '{alphabet}'");
        }

        problems.Check(double.IsFinite(PairWeight) && PairWeight >= 0, nameof(PairWeight), PairWeight, "a finite number, 0 or more");
        problems.Check(double.IsFinite(PriorWeight) && PriorWeight >= 0, nameof(PriorWeight), PriorWeight, "a finite number, 0 or more");
        problems.Check(Alternatives is >= 0 and <= 100, nameof(Alternatives), Alternatives, "0 to 100");
        problems.ThrowIfAny(nameof(CtcDecoderOptions));
    }
}
