using System.Collections.ObjectModel;
using System.Globalization;

namespace Ocr.MLNet.Fields;

/// <summary>
/// How often each letter occurs in the language the fields are written in: a prior the field reader weighs the network's
/// letter scores by (<see cref="FieldReaderOptions.LetterFrequencies"/>). A model trained on class-balanced EMNIST takes every
/// letter as likely as any other; in a French name an E is four times as likely as a C, which decides a thin E whose bars
/// the scan lost. Letters only: digits and other classes are not weighed.
/// </summary>
/// <example>
/// <code>
/// var options = new FieldReaderOptions { Kind = FieldKind.Upper, LetterFrequencies = LetterFrequencies.French };
/// var ownTable = new LetterFrequencies(new Dictionary&lt;char, double&gt; { ['A'] = 9.3, ['B'] = 1.5, /* … */ });
/// </code>
/// </example>
public sealed class LetterFrequencies
{
    /// <summary>
    /// How strongly the prior counts: the network's score of a letter is multiplied by (its frequency ÷ the mean
    /// frequency) to this power. Chosen on names-dev (French names): 0.25 read them at 8.72 % CER where 0.15 and 0.35 gave
    /// 8.84 and 8.75 %, 0.5 and 0.7 9.15 and 9.25 %, and 1 (the full Bayes correction) was worse than no prior: names are
    /// not running text, and the network's scores are overconfident.
    /// </summary>
    internal const double PriorWeight = 0.25;

    /// <summary>Creates a table from letter frequencies (percentages, counts, any positive scale); case does not matter.</summary>
    /// <param name="frequencies">Letter → how often it occurs. Letters the table leaves out count as its rarest.</param>
    /// <exception cref="ArgumentException">A key is not a letter, a value is not a positive finite number, or the table has fewer than two letters.</exception>
    public LetterFrequencies(IReadOnlyDictionary<char, double> frequencies)
    {
        ArgumentNullException.ThrowIfNull(frequencies);
        var table = new Dictionary<char, double>();
        foreach (var (letter, frequency) in frequencies)
        {
            if (!char.IsLetter(letter))
                throw new ArgumentException($"'{letter}' is not a letter: a letter frequency table holds letters only.", nameof(frequencies));
            if (!double.IsFinite(frequency) || frequency <= 0)
            {
                throw new ArgumentException(
                    $"The frequency of '{letter}' is {frequency.ToString(CultureInfo.InvariantCulture)}; give every letter a positive finite frequency, or leave it out.",
                    nameof(frequencies));
            }

            char upper = char.ToUpperInvariant(letter);
            table[upper] = table.GetValueOrDefault(upper) + frequency;
        }

        if (table.Count < 2)
            throw new ArgumentException($"The table holds {table.Count} letter(s); a prior needs at least two.", nameof(frequencies));
        Frequencies = new ReadOnlyDictionary<char, double>(table);
    }

    /// <summary>Upper-case letter → frequency, as given (the two cases of a letter added together).</summary>
    public IReadOnlyDictionary<char, double> Frequencies { get; }

    /// <summary>Letters in French text, in percent (accents folded into their letter: É counts as E).</summary>
    public static LetterFrequencies French { get; } = new(new Dictionary<char, double>
    {
        ['E'] = 12.10, ['A'] = 7.11, ['I'] = 6.59, ['S'] = 6.51, ['N'] = 6.39, ['R'] = 6.07, ['T'] = 5.92, ['O'] = 5.02, ['L'] = 4.96,
        ['U'] = 4.49, ['D'] = 3.67, ['C'] = 3.18, ['M'] = 2.62, ['P'] = 2.49, ['G'] = 1.23, ['B'] = 1.14, ['V'] = 1.11, ['H'] = 1.11,
        ['F'] = 1.11, ['Q'] = 0.65, ['Y'] = 0.46, ['X'] = 0.38, ['J'] = 0.34, ['K'] = 0.29, ['W'] = 0.17, ['Z'] = 0.15,
    });

    /// <summary>Letters in English text, in percent.</summary>
    public static LetterFrequencies English { get; } = new(new Dictionary<char, double>
    {
        ['E'] = 12.70, ['T'] = 9.06, ['A'] = 8.17, ['O'] = 7.51, ['I'] = 6.97, ['N'] = 6.75, ['S'] = 6.33, ['H'] = 6.09, ['R'] = 5.99,
        ['D'] = 4.25, ['L'] = 4.03, ['C'] = 2.78, ['U'] = 2.76, ['M'] = 2.41, ['W'] = 2.36, ['F'] = 2.23, ['G'] = 2.02, ['Y'] = 1.97,
        ['P'] = 1.93, ['B'] = 1.29, ['V'] = 0.98, ['K'] = 0.77, ['J'] = 0.15, ['X'] = 0.15, ['Q'] = 0.10, ['Z'] = 0.07,
    });

    /// <summary>The table for a language name: <c>french</c> (<c>fr</c>) or <c>english</c> (<c>en</c>), any case.</summary>
    /// <exception cref="ArgumentException">Another name (the message lists the known ones).</exception>
    public static LetterFrequencies ForLanguage(string language) => language?.Trim().ToLowerInvariant() switch
    {
        "french" or "fr" => French,
        "english" or "en" => English,
        _ => throw new ArgumentException($"No letter frequencies for the language '{language}'; use french (fr) or english (en), or build a table of your own.", nameof(language)),
    };

    /// <summary>
    /// Per class of a model: the factor its score is multiplied by (1 for classes that are not letters), (frequency ÷ the
    /// mean over the letter classes <paramref name="allowed"/>) to the power <see cref="PriorWeight"/>.
    /// </summary>
    internal float[] ClassWeights(IReadOnlyList<string> labels, IReadOnlyList<bool> allowed)
    {
        double rarest = Frequencies.Values.Min();
        double? FrequencyOf(string label) => label.Length == 1 && char.IsLetter(label[0])
            ? Frequencies.GetValueOrDefault(char.ToUpperInvariant(label[0]), rarest)
            : null;
        var letters = Enumerable.Range(0, labels.Count).Where(c => allowed[c] && FrequencyOf(labels[c]) is not null).ToArray();
        double mean = letters.Length > 0 ? letters.Average(c => FrequencyOf(labels[c])!.Value) : 1;
        return labels.Select(label => FrequencyOf(label) is { } f ? (float)Math.Pow(f / mean, PriorWeight) : 1f).ToArray();
    }
}
