using System.Collections.ObjectModel;
using System.Globalization;

namespace Ocr.MLNet.Text;

/// <summary>
/// How often each letter occurs in the language the fields are written in: a prior the field reader weighs the network's
/// letter scores by (<c>FieldReaderOptions.LetterFrequencies</c>). A model trained on class-balanced EMNIST takes every
/// letter as likely as any other; in a French name an E is four times as likely as a C, which decides a thin E whose bars
/// the scan lost. With letter pairs (<see cref="Pairs"/>) the reader also prefers neighbours that go together in the
/// language's words: QU over QV, a final E over a final C. Letters only: digits and other classes are not weighed.
/// </summary>
/// <example>
/// <code>
/// var options = new FieldReaderOptions { Kind = FieldKind.Upper, LetterFrequencies = LetterFrequencies.French };
/// var ownTable = new LetterFrequencies(
///     new Dictionary&lt;char, double&gt; { ['A'] = 9.3, ['B'] = 1.5, /* … */ },
///     new Dictionary&lt;string, double&gt; { ["QU"] = 1744, [" Q"] = 310, ["E "] = 5510, /* … */ });
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
    /// <param name="pairs">
    /// Optional letter pairs → how often one letter follows the other in the language's words: two-character keys, a space
    /// standing for a word's edge (<c>"QU"</c>, <c>" Q"</c> for a word that starts with Q, <c>"E "</c> for one that ends with E).
    /// With them the reader prefers readings whose neighbouring letters go together (QU over QV). Pairs left out count as unseen.
    /// </param>
    /// <exception cref="ArgumentException">A key is not a letter (or a pair of letters and edges), a value is not a positive finite number, or the table has fewer than two letters.</exception>
    public LetterFrequencies(IReadOnlyDictionary<char, double> frequencies, IReadOnlyDictionary<string, double>? pairs = null)
    {
        ArgumentNullException.ThrowIfNull(frequencies);
        var table = new Dictionary<char, double>();
        foreach (var (letter, frequency) in frequencies)
        {
            if (!char.IsLetter(letter))
                throw new ArgumentException($"'{letter}' is not a letter: a letter frequency table holds letters only.", nameof(frequencies));
            CheckFrequency(letter.ToString(), frequency, nameof(frequencies));
            char upper = char.ToUpperInvariant(letter);
            table[upper] = table.GetValueOrDefault(upper) + frequency;
        }

        if (table.Count < 2)
            throw new ArgumentException($"The table holds {table.Count} letter(s); a prior needs at least two.", nameof(frequencies));
        Frequencies = new ReadOnlyDictionary<char, double>(table);
        if (pairs is null)
            return;
        var pairTable = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (pair, frequency) in pairs)
        {
            if (pair is not { Length: 2 } || pair == "  " || !pair.All(c => c == ' ' || char.IsLetter(c)))
            {
                throw new ArgumentException(
                    $"The letter pair '{pair}' is not two letters, or a letter and a space for a word's edge (\"QU\", \" Q\", \"E \").", nameof(pairs));
            }

            CheckFrequency(pair, frequency, nameof(pairs));
            string upper = pair.ToUpperInvariant();
            pairTable[upper] = pairTable.GetValueOrDefault(upper) + frequency;
        }

        Pairs = new ReadOnlyDictionary<string, double>(pairTable);
    }

    private static void CheckFrequency(string key, double frequency, string parameter)
    {
        if (!double.IsFinite(frequency) || frequency <= 0)
        {
            throw new ArgumentException(
                $"The frequency of '{key}' is {frequency.ToString(CultureInfo.InvariantCulture)}; give it a positive finite frequency, or leave it out.",
                parameter);
        }
    }

    /// <summary>Upper-case letter → frequency, as given (the two cases of a letter added together).</summary>
    public IReadOnlyDictionary<char, double> Frequencies { get; }

    /// <summary>Upper-case letter pairs (a space for a word's edge) → frequency, as given; null when the table has none.</summary>
    public IReadOnlyDictionary<string, double>? Pairs { get; }

    /// <summary>
    /// Letters in French text, in percent (accents folded into their letter: É counts as E), and letter pairs counted over
    /// the 350,000 word forms of Debian's French word list (wfrench; <c>tools/count-letter-pairs.sh</c>).
    /// </summary>
    public static LetterFrequencies French { get; } = new(new Dictionary<char, double>
    {
        ['E'] = 12.10, ['A'] = 7.11, ['I'] = 6.59, ['S'] = 6.51, ['N'] = 6.39, ['R'] = 6.07, ['T'] = 5.92, ['O'] = 5.02, ['L'] = 4.96,
        ['U'] = 4.49, ['D'] = 3.67, ['C'] = 3.18, ['M'] = 2.62, ['P'] = 2.49, ['G'] = 1.23, ['B'] = 1.14, ['V'] = 1.11, ['H'] = 1.11,
        ['F'] = 1.11, ['Q'] = 0.65, ['Y'] = 0.46, ['X'] = 0.38, ['J'] = 0.34, ['K'] = 0.29, ['W'] = 0.17, ['Z'] = 0.15,
    }, PairsResource("french.tsv"));

    /// <summary>
    /// Letters in English text, in percent, and letter pairs counted over the 134,000 words of Debian's American English word
    /// list (wamerican): the field reader's default (<c>FieldReaderOptions.LetterFrequencies</c>).
    /// </summary>
    public static LetterFrequencies English { get; } = new(new Dictionary<char, double>
    {
        ['E'] = 12.70, ['T'] = 9.06, ['A'] = 8.17, ['O'] = 7.51, ['I'] = 6.97, ['N'] = 6.75, ['S'] = 6.33, ['H'] = 6.09, ['R'] = 5.99,
        ['D'] = 4.25, ['L'] = 4.03, ['C'] = 2.78, ['U'] = 2.76, ['M'] = 2.41, ['W'] = 2.36, ['F'] = 2.23, ['G'] = 2.02, ['Y'] = 1.97,
        ['P'] = 1.93, ['B'] = 1.29, ['V'] = 0.98, ['K'] = 0.77, ['J'] = 0.15, ['X'] = 0.15, ['Q'] = 0.10, ['Z'] = 0.07,
    }, PairsResource("english.tsv"));

    /// <summary>A letter-pair table shipped inside the library: lines of a pair (a space for a word's edge), a tab and a count; # starts a comment.</summary>
    private static Dictionary<string, double> PairsResource(string name)
    {
        using var stream = typeof(LetterFrequencies).Assembly.GetManifestResourceStream($"LetterPairs.{name}")
            ?? throw new InvalidOperationException($"The letter-pair table LetterPairs.{name} is missing from the Ocr.MLNet assembly; rebuild the package.");
        using var reader = new StreamReader(stream);
        var pairs = new Dictionary<string, double>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var parts = line.Split('\t');
            pairs.Add(parts[0], double.Parse(parts[1], CultureInfo.InvariantCulture));
        }

        return pairs;
    }

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
    internal float[] ClassWeights(IReadOnlyList<string> labels, IReadOnlyList<bool> allowed) =>
        RelativeFrequencies(labels, allowed).Select(r => r is { } f ? (float)Math.Pow(f, PriorWeight) : 1f).ToArray();

    /// <summary>
    /// Per class of a model: ln(its frequency ÷ the mean over the letter classes <paramref name="allowed"/>), 0 for classes
    /// that are not letters; a decoder that scores in log space adds a weight (<see cref="PriorWeight"/>) times this.
    /// </summary>
    internal double[] LogRelativeFrequencies(IReadOnlyList<string> labels, IReadOnlyList<bool> allowed) =>
        RelativeFrequencies(labels, allowed).Select(r => r is { } f ? Math.Log(f) : 0).ToArray();

    /// <summary>Per class: its frequency ÷ the mean over the allowed letter classes; null for classes that are not letters.</summary>
    private double?[] RelativeFrequencies(IReadOnlyList<string> labels, IReadOnlyList<bool> allowed)
    {
        double rarest = Frequencies.Values.Min();
        double? FrequencyOf(string label) => label.Length == 1 && char.IsLetter(label[0])
            ? Frequencies.GetValueOrDefault(char.ToUpperInvariant(label[0]), rarest)
            : null;
        var letters = Enumerable.Range(0, labels.Count).Where(c => allowed[c] && FrequencyOf(labels[c]) is not null).ToArray();
        double mean = letters.Length > 0 ? letters.Average(c => FrequencyOf(labels[c])!.Value) : 1;
        return labels.Select(label => FrequencyOf(label) is { } f ? f / mean : (double?)null).ToArray();
    }

    /// <summary>
    /// How strongly letter pairs count: the decoder adds this times ln(P(next | letter) ÷ P(next)) between neighbouring
    /// characters, so a pair the language favours earns, a pair it avoids costs, and a letter alone is left as it was.
    /// Chosen in the middle of a plateau on names-dev: at 0.2, 0.25, 0.3, 0.35 and 0.4 the English table (the default) read
    /// them at 7.88, 7.92, 7.85, 7.76 and 7.73 % CER, the French one at 8.07, 7.85, 7.95, 8.35 and 8.16 % (8.50 and 8.38 %
    /// without pairs); 0.5 gave 8.29 % with the French table.
    /// </summary>
    internal const double PairWeight = 0.3;

    /// <summary>
    /// The decoder's pair term per class pair of a model (<see cref="ClassMask.PairBonus"/>): [s, t] for class t − 1 after
    /// class s − 1, index 0 the word's edge, 0 wherever a class is not a letter; null without pairs.
    /// </summary>
    internal float[,]? PairBonus(IReadOnlyList<string> labels)
    {
        if (PairLogRatios is not { } ratios)
            return null;
        double weight = PairWeight;
        var symbol = new int[labels.Count + 1];
        for (int c = 0; c < labels.Count; c++)
            symbol[c + 1] = labels[c].Length == 1 && char.IsLetter(labels[c][0]) ? PairSymbols.IndexOf(char.ToUpperInvariant(labels[c][0])) : -1;
        var bonus = new float[labels.Count + 1, labels.Count + 1];
        for (int s = 0; s <= labels.Count; s++)
        {
            for (int t = 0; t <= labels.Count; t++)
            {
                int a = symbol[s], b = symbol[t];
                if (a < 0 || b < 0 || (a == 0 && b == 0))
                    continue;
                bonus[s, t] = (float)(weight * ratios[a, b]);
            }
        }

        return bonus;
    }

    /// <summary>
    /// ln(P(<paramref name="next"/> | <paramref name="previous"/>) ÷ P(<paramref name="next"/>)) from the pairs, a space standing
    /// for a word's edge (either case of a letter); 0 without pairs, for two edges, or where either is neither a letter nor a space.
    /// </summary>
    internal double PairLogRatio(char previous, char next)
    {
        if (PairLogRatios is not { } ratios)
            return 0;
        int a = PairSymbols.IndexOf(char.ToUpperInvariant(previous)), b = PairSymbols.IndexOf(char.ToUpperInvariant(next));
        return a < 0 || b < 0 || (a == 0 && b == 0) ? 0 : ratios[a, b];
    }

    /// <summary>The symbols of <see cref="PairLogRatios"/>: index 0 the word's edge, then the letters.</summary>
    private const string PairSymbols = " ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>ln(P(b | a) ÷ P(b)) over <see cref="PairSymbols"/>, computed once (the table is immutable); null without pairs.</summary>
    private double[,]? PairLogRatios => pairLogRatios ??= ComputePairLogRatios();

    private double[,]? pairLogRatios;

    private double[,]? ComputePairLogRatios()
    {
        if (Pairs is null)
            return null;
        int m = PairSymbols.Length;
        var counts = new double[m, m];
        foreach (var (pair, frequency) in Pairs)
        {
            int a = PairSymbols.IndexOf(pair[0]), b = PairSymbols.IndexOf(pair[1]);
            if (a >= 0 && b >= 0)
                counts[a, b] += frequency;
        }

        // Add-one smoothing on both the conditional and the marginal, so an unseen pair costs a bounded amount.
        var rows = new double[m];
        var columns = new double[m];
        double total = 0;
        for (int a = 0; a < m; a++)
        {
            for (int b = 0; b < m; b++)
            {
                rows[a] += counts[a, b];
                columns[b] += counts[a, b];
                total += counts[a, b];
            }
        }

        var ratios = new double[m, m];
        for (int a = 0; a < m; a++)
        {
            for (int b = 0; b < m; b++)
                ratios[a, b] = Math.Log((counts[a, b] + 1) / (rows[a] + m) / ((columns[b] + 1) / (total + m)));
        }

        return ratios;
    }
}
