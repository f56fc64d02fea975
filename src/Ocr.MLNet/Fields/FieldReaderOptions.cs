using Ocr.MLNet.Loading;
using Ocr.MLNet.Text;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Fields;

/// <summary>Options of a <see cref="HandwrittenFieldReader"/>: what fields hold and the limits on what it accepts.</summary>
/// <example>
/// <code>
/// using var reader = HandwrittenFieldReader.Load("ocr.zip", new FieldReaderOptions { Kind = FieldKind.Upper });
/// using var hex = HandwrittenFieldReader.Load("ocr.zip", new FieldReaderOptions { AllowedCharacters = "0123456789ABCDEF" });
/// </code>
/// </example>
public sealed class FieldReaderOptions
{
    /// <summary>Default <see cref="Alternatives"/>: 3.</summary>
    public const int DefaultAlternatives = 3;

    /// <summary>Default <see cref="MaxPieces"/>: 400.</summary>
    public const int DefaultMaxPieces = 400;

    /// <summary>What fields hold when a call does not say: default <see cref="FieldKind.Alphanumeric"/>.</summary>
    public FieldKind Kind { get; set; } = FieldKind.Alphanumeric;

    /// <summary>
    /// A custom class set that replaces <see cref="Kind"/> when set: the characters a field may hold (e.g. <c>"0123456789ABCDEF"</c>).
    /// A character whose class the model merges with its other case (c, o, s, …) is read through that class. Every
    /// character must be one the model knows. Default null.
    /// </summary>
    public string? AllowedCharacters { get; set; }

    /// <summary>
    /// Whether the writers cross their sevens (a bar through the stem, as much of Europe and Latin America writes them).
    /// Then a seven-like mark without that bar is a one written with a long up-stroke, which a model trained on EMNIST
    /// (uncrossed sevens, ones as a plain bar) takes for a seven: it is read as a one. Default false, as North American
    /// writers (and NIST's forms) do not cross their sevens.
    /// </summary>
    /// <example>
    /// <code>
    /// var chequeReader = HandwrittenFieldReader.Load("ocr.zip", new FieldReaderOptions { Kind = FieldKind.Digits, CrossedSevens = true });
    /// </code>
    /// </example>
    public bool CrossedSevens { get; set; }

    /// <summary>
    /// How often each letter occurs in the fields' language (<see cref="Text.LetterFrequencies.French"/>,
    /// <see cref="Text.LetterFrequencies.English"/> or a table of your own): the reader weighs the network's letter scores by
    /// it, so that a letter the shape leaves in doubt (a thin E or a C, a round U or a V) is read as the likelier one, and
    /// by its letter pairs, so that a Q is followed by a U rather than a V. Default <see cref="Text.LetterFrequencies.English"/>,
    /// as OCR engines read English unless told otherwise; null reads every letter by its shape alone, as the network was
    /// trained, which suits codes and serial numbers, where letters follow no language.
    /// </summary>
    /// <example>
    /// <code>
    /// var names = HandwrittenFieldReader.Load("ocr.zip", new FieldReaderOptions { Kind = FieldKind.Upper, LetterFrequencies = LetterFrequencies.French });
    /// var codes = HandwrittenFieldReader.Load("ocr.zip", new FieldReaderOptions { LetterFrequencies = null });
    /// </code>
    /// </example>
    public LetterFrequencies? LetterFrequencies { get; set; } = Text.LetterFrequencies.English;

    /// <summary>
    /// How the characters are recognised: <see cref="FieldReadingMethod.Auto"/> (the default) reads digits with the line
    /// recognizer and capitals with both combined where the reader has one, <see cref="FieldReadingMethod.Segmentation"/>
    /// always cuts the field into characters for the character model, <see cref="FieldReadingMethod.Lines"/> always uses
    /// the line recognizer, <see cref="FieldReadingMethod.Combined"/> always reads both ways and keeps the text the two
    /// find likelier together.
    /// </summary>
    /// <example>
    /// <code>
    /// using var reader = HandwrittenFieldReader.Load("amounts-lines.zip", new FieldReaderOptions { Method = FieldReadingMethod.Lines });
    /// </code>
    /// </example>
    public FieldReadingMethod Method { get; set; }

    /// <summary>
    /// Where the line recognizer reads a field: whether it also reads the field as it is, beside the cleaned line the reader
    /// finds in it, and keeps the text the two views give the highest mean probability, with that mean as the confidence.
    /// Where the views disagree the confidence falls, so fewer wrong fields are accepted unread; it costs a second pass of the
    /// network. Default true: a line model trained on both views (<c>LineTrainingInput.Both</c>, the trainer's default and the
    /// packaged model's) read the dev amounts and its fine-tuned names better so (README). Set it false for a model trained on
    /// found lines alone.
    /// </summary>
    /// <example>
    /// <code>
    /// using var reader = HandwrittenFieldReader.Load("names-lines.zip", new FieldReaderOptions { Method = FieldReadingMethod.Lines, CrossCheckWholeField = false });
    /// </code>
    /// </example>
    public bool CrossCheckWholeField { get; set; } = true;

    /// <summary>
    /// Whether a reader loaded with its character model (<c>HandwrittenFieldReader.Load</c>) scores the cut characters with the
    /// network in 8-bit integers (<see cref="CharacterRecognizerOptions.Int8Network"/>). Default true: about twice as fast per
    /// character here, reading the dev names and amounts as float32 does within a few characters (README). A model without
    /// saved activation ranges scores in float32 either way. A reader made from a <see cref="CharacterRecognizer"/> uses that
    /// recognizer as it is.
    /// </summary>
    /// <example>
    /// <code>
    /// using var reader = HandwrittenFieldReader.LoadPretrained(new FieldReaderOptions { Int8CharacterNetwork = false });
    /// </code>
    /// </example>
    public bool Int8CharacterNetwork { get; set; } = true;

    /// <summary>How many alternatives each character carries (the best first). Default 3.</summary>
    public int Alternatives { get; set; } = DefaultAlternatives;

    /// <summary>
    /// The most separate pieces of ink (after specks are removed) a field may have. A field with more is not one line of
    /// handwriting (a whole page, noise) and is refused with an error rather than read slowly. Default 400.
    /// </summary>
    public int MaxPieces { get; set; } = DefaultMaxPieces;

    /// <summary>The largest image (width × height) accepted, checked from the header before decoding. Default 4096 × 4096.</summary>
    public long MaxImagePixels { get; set; } = CharacterImageLoaderOptions.DefaultMaxImagePixels;

    /// <summary>A copy, so that a reader keeps the options it was made with.</summary>
    internal FieldReaderOptions Clone() => (FieldReaderOptions)MemberwiseClone();

    internal void Validate()
    {
        var problems = new List<string>();
        problems.Check(Enum.IsDefined(Kind), nameof(Kind), Kind, "one of Alphanumeric, Digits, Upper, Lower, Letters");
        problems.Check(AllowedCharacters is null || AllowedCharacters.Trim().Length > 0, nameof(AllowedCharacters), AllowedCharacters, "null or at least one character");
        problems.Check(Enum.IsDefined(Method), nameof(Method), Method, "one of Auto, Segmentation, Lines, Combined");
        problems.Check(Alternatives is >= 1 and <= 100, nameof(Alternatives), Alternatives, "1 to 100");
        problems.Check(MaxPieces is >= 1 and <= 10_000, nameof(MaxPieces), MaxPieces, "1 to 10,000");
        problems.Check(MaxImagePixels >= 1, nameof(MaxImagePixels), MaxImagePixels, "at least 1");
        problems.ThrowIfAny(nameof(FieldReaderOptions));
    }
}
