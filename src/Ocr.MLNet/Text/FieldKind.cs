namespace Ocr.MLNet.Text;

/// <summary>
/// What a field may hold. The reader masks the network's scores to the allowed classes, which is what tells
/// <c>O</c> from <c>0</c> and <c>I</c> from <c>1</c> when look-alikes share a class (the 47 merged EMNIST classes).
/// </summary>
public enum FieldKind
{
    /// <summary>Any class of the model: digits and letters.</summary>
    Alphanumeric = 0,

    /// <summary>Digits 0–9 (amounts, dates, digit boxes).</summary>
    Digits = 1,

    /// <summary>
    /// Capital letters A–Z (hand-printed names). A field whose writer wrote in small letters anyway (a quarter of its
    /// characters or more read best as small letters) is read with them and given in capitals.
    /// </summary>
    Upper = 2,

    /// <summary>Small letters a–z; a class merged with its capital (c, o, s, …) reads as the small letter.</summary>
    Lower = 3,

    /// <summary>Letters of either case.</summary>
    Letters = 4,
}

/// <summary>The short names of <see cref="FieldKind"/> that the CLI's <c>--kind</c> and the WebDemo's <c>?kind=</c> take.</summary>
public static class FieldKindNames
{
    private static readonly (string Name, FieldKind Kind)[] Table =
    [
        ("digits", FieldKind.Digits), ("upper", FieldKind.Upper), ("lower", FieldKind.Lower), ("letters", FieldKind.Letters), ("alnum", FieldKind.Alphanumeric),
    ];

    /// <summary>The names, in this order: digits, upper, lower, letters, alnum.</summary>
    public static IReadOnlyList<string> Names { get; } = Table.Select(t => t.Name).ToArray();

    /// <summary>The kind a name stands for (case-insensitive).</summary>
    /// <example><code>if (FieldKindNames.TryParse("digits", out FieldKind kind)) reading = reader.Read(path, kind);</code></example>
    public static bool TryParse(string? name, out FieldKind kind)
    {
        foreach (var (entry, value) in Table)
        {
            if (string.Equals(entry, name, StringComparison.OrdinalIgnoreCase))
            {
                kind = value;
                return true;
            }
        }

        kind = FieldKind.Alphanumeric;
        return false;
    }

    /// <summary>The short name of <paramref name="kind"/>.</summary>
    public static string NameOf(FieldKind kind) => Table.First(t => t.Kind == kind).Name;
}
