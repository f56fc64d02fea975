using Ocr.MLNet.Text;

namespace Ocr.MLNet.Lines;

/// <summary>
/// One thing written in a field: a character of the text drawn as a handwritten glyph (<see cref="Draw"/> may be another
/// form of it, a lower-case i for an I), a space, or a mark drawn with strokes (<c>- ' . , / $ =</c>), which is part of
/// the text in names and not in amounts.
/// </summary>
internal readonly record struct WrittenToken(char Text, char Draw, bool InText)
{
    /// <summary>The marks drawn with strokes rather than taken from the glyph source.</summary>
    public const string Marks = "-'.,/$=";

    public bool IsMark => Marks.Contains(Draw, StringComparison.Ordinal);

    public bool IsSpace => Draw == ' ';
}

/// <summary>The texts of synthetic fields: names from a built-in list or from French letter pairs, amounts with their separators.</summary>
internal static class SyntheticText
{
    // Common French first names and surnames, written for this library, so names look like the forms' without a word list on disk.
    private static readonly string[] Names =
    [
        "JEAN", "MARIE", "PIERRE", "LUCAS", "LEA", "EMMA", "HUGO", "LOUIS", "CHLOE", "MANON", "THEO", "JADE", "NATHAN", "INES",
        "CAMILLE", "ENZO", "SARAH", "MATHIS", "CLARA", "TOM", "LOLA", "NOAH", "ZOE", "PAUL", "JULIE", "ANTOINE", "LUCIE",
        "MAXIME", "ALICE", "ARTHUR", "ROSE", "GABRIEL", "ANNA", "RAPHAEL", "EVA", "JULES", "LINA", "ADAM", "NINA", "YANIS",
        "SAMUEL", "MATHILDE", "BAPTISTE", "ELISE", "QUENTIN", "AXELLE", "VICTOR", "OCEANE", "DYLAN", "MARGAUX", "KEVIN", "LAURA",
        "ALEXIS", "MELISSA", "BILEL", "AYSSATOU", "TITOUAN", "JEREMY", "DANIEL", "NOEMIE", "YASMINE", "MOHAMED", "KARIM", "FATOU",
        "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU", "SIMON", "LAURENT",
        "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER", "MOREL", "GIRARD", "ANDRE", "MERCIER",
        "DUPONT", "LAMBERT", "BONNET", "FRANCOIS", "MARTINEZ", "LEGRAND", "GARNIER", "FAURE", "ROUSSEAU", "BLANC", "GUERIN",
        "MULLER", "HENRY", "ROUSSEL", "NICOLAS", "PERRIN", "MORIN", "MATHIEU", "CLEMENT", "GAUTHIER", "DUMONT", "LOPEZ",
        "FONTAINE", "CHEVALIER", "ROBIN", "MASSON", "SANCHEZ", "GERARD", "NGUYEN", "BOYER", "DENIS", "LEMAIRE", "DUVAL", "JOLY",
        "GAUTIER", "ROGER", "ROCHE", "ROY", "NOEL", "MEYER", "LUCAS", "MEUNIER", "JEAN", "PEREZ", "MARCHAND", "DUFOUR", "BLANCHARD",
        "MARIE", "BARBIER", "BRUN", "DUMAS", "BRUNET", "SCHMITT", "LEROUX", "COLIN", "FERNANDEZ", "PICHON", "RUPP", "CAKIR",
        "AUBRY", "WEBER", "CHARBONNEAUX", "LAUMONIER", "KLEIN", "HOARAU", "PAYET", "QUERE", "VASSEUR", "WAGNER", "ZIMMERMANN",
    ];

    private static readonly string[] Prefixes = ["D'", "L'", "O'"];

    /// <summary>A name of <paramref name="minLength"/>–<paramref name="maxLength"/> characters, as written tokens.</summary>
    public static List<WrittenToken> Name(Random random, int minLength, int maxLength, bool lowerCaseI)
    {
        string text = NameText(random, minLength, maxLength);
        var tokens = new List<WrittenToken>(text.Length);
        foreach (char c in text)
        {
            // Some writers print I as a dotted i, as in the real forms ("BiLEL"); the text stays capital.
            char draw = c == 'I' && lowerCaseI ? 'i' : c;
            tokens.Add(new WrittenToken(c, draw, InText: true));
        }

        return tokens;
    }

    internal static string NameText(Random random, int minLength, int maxLength)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            string first = Word(random);
            double join = random.NextDouble();
            string text = join switch
            {
                < 0.12 => $"{first} {Word(random)}",
                < 0.20 => $"{first}-{Word(random)}",
                < 0.24 => $"{Prefixes[random.Next(Prefixes.Length)]}{first}",
                _ => first,
            };
            if (text.Length >= minLength && text.Length <= maxLength)
                return text;
        }

        // Lengths the words rarely reach (a 1-letter or 40-letter option): letters by their French frequencies.
        int length = random.Next(minLength, maxLength + 1);
        return string.Create(length, random, static (span, r) =>
        {
            for (int i = 0; i < span.Length; i++)
                span[i] = FrequentLetter(r);
        });
    }

    /// <summary>A word from the list, or one made letter by letter from French letter pairs (so it reads like a name).</summary>
    private static string Word(Random random)
    {
        if (random.NextDouble() < 0.55)
            return Names[random.Next(Names.Length)];
        var pairs = PairChain.Value;
        var word = new System.Text.StringBuilder();
        char previous = ' ';
        // Names are short: 3–9 letters mostly, the chain ending the word where the pairs allow or at the target length.
        int target = random.Next(3, 10);
        while (word.Length < target)
        {
            char next = pairs.Next(previous, random, allowEnd: word.Length >= 2);
            if (next == ' ')
                break;
            word.Append(next);
            previous = next;
        }

        return word.ToString();
    }

    private static char FrequentLetter(Random random) => PairChain.Value.Next(' ', random, allowEnd: false);

    private static readonly Lazy<LetterChain> PairChain = new(() => new LetterChain(LetterFrequencies.French.Pairs
        ?? throw new InvalidOperationException("The French letter-pair table is missing from the Ocr.MLNet assembly; rebuild the package.")));

    /// <summary>
    /// An amount of 1–<paramref name="maxDigits"/> digits with the separators writers add: thousands points, a decimal
    /// comma, a closing ".-" or "=", a leading $; the separators are drawn, never part of the text.
    /// </summary>
    public static List<WrittenToken> Amount(Random random, int maxDigits)
    {
        // Most cheque amounts have 4–5 digits (ORAND-CAR: 3–6), often round.
        ReadOnlySpan<int> weights = [2, 5, 15, 35, 30, 10, 4, 2, 2];
        int digits = Pick(random, weights, maxDigits) + 1;
        var text = new char[digits];
        int round = random.NextDouble() < 0.5 ? random.Next(1, Math.Max(1, digits - 1) + 1) : 0;
        for (int i = 0; i < digits; i++)
            text[i] = i >= digits - round && i > 0 ? '0' : (char)('0' + (i == 0 && digits > 1 ? random.Next(1, 10) : random.Next(10)));

        var tokens = new List<WrittenToken>();
        if (random.NextDouble() < 0.08)
            tokens.Add(Mark('$'));
        char thousands = random.NextDouble() switch { < 0.35 => '.', < 0.45 => ',', _ => '\0' };
        bool decimals = digits >= 3 && random.NextDouble() < 0.1;
        for (int i = 0; i < digits; i++)
        {
            tokens.Add(new WrittenToken(text[i], text[i], InText: true));
            int left = digits - 1 - i;
            if (decimals && left == 2)
                tokens.Add(Mark(','));
            else if (thousands != '\0' && left > 0 && (left - (decimals ? 2 : 0)) % 3 == 0 && left > (decimals ? 2 : 0))
                tokens.Add(Mark(thousands));
        }

        string ending = random.NextDouble() switch { < 0.45 => "", < 0.65 => ".", < 0.8 => ".-", < 0.87 => "-", < 0.93 => "=", < 0.97 => ".=", _ => "/-" };
        foreach (char c in ending)
            tokens.Add(Mark(c));
        return tokens;
    }

    /// <summary>1–<paramref name="maxDigits"/> digits for a box.</summary>
    public static List<WrittenToken> Digits(Random random, int maxDigits)
    {
        int count = random.Next(1, maxDigits + 1);
        var tokens = new List<WrittenToken>(count);
        for (int i = 0; i < count; i++)
        {
            char c = (char)('0' + random.Next(10));
            tokens.Add(new WrittenToken(c, c, InText: true));
        }

        return tokens;
    }

    private static WrittenToken Mark(char c) => new('\0', c, InText: false);

    /// <summary>An index below <paramref name="limit"/> drawn by <paramref name="weights"/>.</summary>
    private static int Pick(Random random, ReadOnlySpan<int> weights, int limit)
    {
        int n = Math.Min(limit, weights.Length), total = 0;
        for (int i = 0; i < n; i++)
            total += weights[i];
        int draw = random.Next(total);
        for (int i = 0; i < n; i++)
        {
            if ((draw -= weights[i]) < 0)
                return i;
        }

        // Beyond the table (more than 9 digits allowed): as likely as the last.
        return n - 1 + (limit > n ? random.Next(limit - n + 1) : 0);
    }

    /// <summary>A first-order letter chain over upper-case pairs, a space standing for a word's edge.</summary>
    private sealed class LetterChain
    {
        private readonly Dictionary<char, (char[] Next, double[] Cumulative)> table = [];

        public LetterChain(IReadOnlyDictionary<string, double> pairs)
        {
            foreach (var group in pairs.Where(p => p.Key.Length == 2).GroupBy(p => p.Key[0]))
            {
                var next = group.Select(p => p.Key[1]).ToArray();
                var cumulative = new double[next.Length];
                double sum = 0;
                int i = 0;
                foreach (var pair in group)
                    cumulative[i++] = sum += pair.Value;
                table[group.Key] = (next, cumulative);
            }
        }

        public char Next(char previous, Random random, bool allowEnd)
        {
            if (!table.TryGetValue(previous, out var row))
                row = table[' '];
            for (int attempt = 0; attempt < 8; attempt++)
            {
                double draw = random.NextDouble() * row.Cumulative[^1];
                int index = Array.BinarySearch(row.Cumulative, draw);
                char c = row.Next[index < 0 ? Math.Min(~index, row.Next.Length - 1) : index];
                if ((c == ' ' && allowEnd) || c is >= 'A' and <= 'Z')
                    return c;
            }

            return allowEnd ? ' ' : 'E';
        }
    }
}
