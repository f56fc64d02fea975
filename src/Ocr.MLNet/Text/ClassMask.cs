namespace Ocr.MLNet.Text;

/// <summary>
/// Which of a model's classes a field may hold, and how each allowed class is written in that field: the kind's
/// mask over the network's scores. A class the model merges with its other case (EMNIST's c, o, s, …) serves both, and
/// a few look-alikes the field may not hold stand for what they look like (an O in a field of digits is a zero).
/// </summary>
internal sealed class ClassMask
{
    private ClassMask(bool[] allowed, string[] labels)
    {
        Allowed = allowed;
        Labels = labels;
        DigitsOnly = Enumerable.Range(0, allowed.Length).Where(c => allowed[c]).All(c => char.IsAsciiDigit(labels[c][0]));
        FoldInto = Enumerable.Repeat(-1, allowed.Length).ToArray();
        foreach (var (lookAlike, character) in LookAlikes)
        {
            int from = Array.IndexOf(labels, lookAlike), to = Array.IndexOf(labels, character);
            if (from >= 0 && to >= 0 && !allowed[from] && allowed[to])
                FoldInto[from] = to;
        }
    }

    /// <summary>
    /// Classes that stand for another when the field may not hold them and the network likes them best (<see cref="Fold"/>):
    /// a flat or straight-sided zero reads as O or D, and a zero joined to the next digit by its tail as a; writers of
    /// capitals mix in a lower-case e or a; a capital I written as a bar reads as 1. Chosen on the dev folders, each alone
    /// (names CER: e −0.21, a −0.40, 1→I −0.28 points; cheques: O −0.09, D −1.97, a −0.89); the other letter–digit and case
    /// pairs tried did not help (benchmarks/README.md).
    /// </summary>
    private static readonly (string LookAlike, string Character)[] LookAlikes =
        [("O", "0"), ("D", "0"), ("a", "0"), ("e", "E"), ("a", "A"), ("1", "I")];

    /// <summary>Whether the field may hold digits only (amounts, dates: often written joined).</summary>
    public bool DigitsOnly { get; }

    /// <summary>Per class of the model: may the field hold it.</summary>
    public bool[] Allowed { get; }

    /// <summary>Per class: the text it stands for in this field (its case follows the kind).</summary>
    public string[] Labels { get; }

    /// <summary>Per class: the allowed class it stands for when the network likes it best (see <see cref="Fold"/>), or −1.</summary>
    public int[] FoldInto { get; }

    /// <summary>Per class: the prior its score is multiplied by (<see cref="LetterFrequencies"/>); null when there is none.</summary>
    public float[]? Weights { get; private init; }

    /// <summary>For a capitals field: the mask of every letter, to read a writer who wrote in small letters (null otherwise).</summary>
    public ClassMask? SmallLetters { get; private set; }

    /// <summary>This mask with the letters weighed by <paramref name="frequencies"/> (this mask itself when null).</summary>
    public ClassMask WeighedBy(LetterFrequencies? frequencies) => frequencies is null ? this
        : new ClassMask(Allowed, Labels)
        {
            Weights = frequencies.ClassWeights(Labels, Allowed),
            PairBonus = frequencies.PairBonus(Labels),
            SmallLetters = SmallLetters?.WeighedBy(frequencies),
        };

    /// <summary>
    /// The letter-pair term the decoder adds between neighbouring characters (<see cref="LetterFrequencies.Pairs"/>):
    /// [s, t] for a character of class t − 1 after one of class s − 1, index 0 standing for the field's edge; null when
    /// there are no pairs.
    /// </summary>
    public float[,]? PairBonus { get; private init; }

    /// <summary>Multiplies the scores by the letters' prior (in place); nothing without one.</summary>
    public void Weigh(Span<float> scores)
    {
        if (Weights is null)
            return;
        for (int c = 0; c < scores.Length; c++)
            scores[c] *= Weights[c];
    }

    /// <summary>
    /// When the network's best class for one image is a look-alike of an allowed class (an O in a field of digits), moves its
    /// probability to that class (in place). Only for the best class: look-alikes hold a little probability for many
    /// shapes, which would tip others.
    /// </summary>
    public void Fold(Span<float> scores)
    {
        int best = 0;
        for (int c = 1; c < scores.Length; c++)
        {
            if (scores[c] > scores[best])
                best = c;
        }

        if (FoldInto[best] >= 0)
        {
            scores[FoldInto[best]] += scores[best];
            scores[best] = 0;
        }
    }

    /// <summary>The characters of <see cref="FieldKind.Digits"/> (the line decoder's masks share these).</summary>
    internal const string DigitCharacters = "0123456789";

    /// <summary>The characters of <see cref="FieldKind.Upper"/>.</summary>
    internal const string CapitalCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>The characters of <see cref="FieldKind.Lower"/>.</summary>
    internal const string SmallCharacters = "abcdefghijklmnopqrstuvwxyz";

    public static ClassMask For(IReadOnlyList<string> classNames, FieldKind kind) => kind switch
    {
        FieldKind.Digits => Build(classNames, DigitCharacters),
        FieldKind.Upper => Capitals(classNames),
        FieldKind.Lower => Build(classNames, SmallCharacters),
        FieldKind.Letters => Build(classNames, CapitalCharacters + SmallCharacters),
        FieldKind.Alphanumeric => new ClassMask(classNames.Select(_ => true).ToArray(), classNames.ToArray()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Use Alphanumeric, Digits, Upper, Lower or Letters."),
    };

    /// <summary>The capitals, with every letter as <see cref="SmallLetters"/> when the model has small letters of their own classes.</summary>
    private static ClassMask Capitals(IReadOnlyList<string> classNames)
    {
        var capitals = Build(classNames, CapitalCharacters);
        var letters = For(classNames, FieldKind.Letters);
        if (letters.Allowed.Where((allowed, c) => allowed && !capitals.Allowed[c]).Any())
            capitals.SmallLetters = letters;
        return capitals;
    }

    /// <summary>The mask for a custom set of characters; each must have a class (its own, or its merged other case).</summary>
    /// <exception cref="ArgumentException">A character has no class in the model (the message lists them and the model's classes).</exception>
    public static ClassMask For(IReadOnlyList<string> classNames, string allowedCharacters)
    {
        var mask = Build(classNames, allowedCharacters, out var missing);
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"The allowed characters '{string.Join("", missing)}' have no class in the model, whose classes are {string.Join(" ", classNames)}. "
                + "Allow only characters the model knows.", nameof(allowedCharacters));
        }

        return mask;
    }

    private static ClassMask Build(IReadOnlyList<string> classNames, string characters) => Build(classNames, characters, out _);

    private static ClassMask Build(IReadOnlyList<string> classNames, string characters, out List<char> missing)
    {
        var allowed = new bool[classNames.Count];
        var labels = classNames.ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classNames.Count; i++)
            index.TryAdd(classNames[i], i);
        missing = [];
        var wanted = characters.Where(c => !char.IsWhiteSpace(c)).Distinct().ToArray();
        var ownClass = new bool[classNames.Count];
        foreach (char c in wanted)
        {
            if (index.TryGetValue(c.ToString(), out int own))
                allowed[own] = ownClass[own] = true;
        }

        // Merged class: the other case stands for a character the model has no class of its own for; a class wanted
        // under its own name keeps that name (Letters reads C, not c).
        foreach (char c in wanted.Where(c => !index.ContainsKey(c.ToString())))
        {
            string other = char.IsUpper(c) ? char.ToLowerInvariant(c).ToString() : char.ToUpperInvariant(c).ToString();
            if (other != c.ToString() && index.TryGetValue(other, out int merged))
            {
                allowed[merged] = true;
                if (!ownClass[merged])
                    labels[merged] = c.ToString();
            }
            else
            {
                missing.Add(c);
            }
        }

        return new ClassMask(allowed, labels);
    }
}
