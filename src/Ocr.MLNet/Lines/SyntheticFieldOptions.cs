namespace Ocr.MLNet.Lines;

/// <summary>
/// What <see cref="SyntheticFieldGenerator"/> draws: the kind of field, its seed, where the characters come from, the
/// sizes and how much of each kind of clutter. Defaults follow the real fields in <c>handwritten-fields</c> (names
/// 25–45 px high, cheque amounts 35–65 px). The generator copies the options when it is made: a later change has no effect.
/// </summary>
/// <example>
/// <code>
/// var options = new SyntheticFieldOptions { Kind = SyntheticFieldKind.Amount, Seed = 1, EmnistFolder = "../shared/data/emnist-byclass-test" };
/// var generator = new SyntheticFieldGenerator(options);
/// SyntheticField field = generator.Generate(0);
/// </code>
/// </example>
public sealed class SyntheticFieldOptions
{
    /// <summary>Default <see cref="Seed"/>.</summary>
    public const int DefaultSeed = 1;

    /// <summary>Default <see cref="EmnistSplit"/>.</summary>
    public const string DefaultEmnistSplit = "test";

    /// <summary>Default <see cref="MinNameHeight"/> in pixels.</summary>
    public const int DefaultMinNameHeight = 25;

    /// <summary>Default <see cref="MaxNameHeight"/> in pixels.</summary>
    public const int DefaultMaxNameHeight = 45;

    /// <summary>Default <see cref="MinAmountHeight"/> in pixels (also digit boxes).</summary>
    public const int DefaultMinAmountHeight = 35;

    /// <summary>Default <see cref="MaxAmountHeight"/> in pixels (also digit boxes).</summary>
    public const int DefaultMaxAmountHeight = 65;

    /// <summary>Default <see cref="MinNameLength"/>.</summary>
    public const int DefaultMinNameLength = 2;

    /// <summary>Default <see cref="MaxNameLength"/>.</summary>
    public const int DefaultMaxNameLength = 15;

    /// <summary>Default <see cref="MaxAmountDigits"/>.</summary>
    public const int DefaultMaxAmountDigits = 9;

    /// <summary>Default <see cref="MaxBoxDigits"/>.</summary>
    public const int DefaultMaxBoxDigits = 6;

    /// <summary>Default <see cref="MaxSlantDegrees"/>.</summary>
    public const double DefaultMaxSlantDegrees = 20;

    /// <summary>Default <see cref="MinJpegQuality"/>.</summary>
    public const int DefaultMinJpegQuality = 30;

    /// <summary>Default <see cref="MaxJpegQuality"/>.</summary>
    public const int DefaultMaxJpegQuality = 90;

    /// <summary>Default <see cref="ContinentalDigitProbability"/>.</summary>
    public const double DefaultContinentalDigitProbability = 0.35;

    /// <summary>Default <see cref="LabelProbability"/>.</summary>
    public const double DefaultLabelProbability = 0.35;

    /// <summary>Default <see cref="ClutterProbability"/>.</summary>
    public const double DefaultClutterProbability = 0.35;

    /// <summary>What the fields hold: <see cref="SyntheticFieldKind.Mixed"/> (the default) draws each field's kind at random.</summary>
    public SyntheticFieldKind Kind { get; set; } = SyntheticFieldKind.Mixed;

    /// <summary>The seed: field <c>i</c> is a function of (<see cref="Seed"/>, <c>i</c>) alone.</summary>
    public int Seed { get; set; } = DefaultSeed;

    /// <summary>
    /// Folder of EMNIST files with upper and lower case apart (ByClass: <c>emnist-byclass-test-*</c>); needed only by the
    /// generator's constructor that loads the characters itself.
    /// </summary>
    public string? EmnistFolder { get; set; }

    /// <summary>The split of <see cref="EmnistFolder"/> to read ("test").</summary>
    public string EmnistSplit { get; set; } = DefaultEmnistSplit;

    /// <summary>Smallest height of a name field in pixels.</summary>
    public int MinNameHeight { get; set; } = DefaultMinNameHeight;

    /// <summary>Largest height of a name field in pixels.</summary>
    public int MaxNameHeight { get; set; } = DefaultMaxNameHeight;

    /// <summary>Smallest height of an amount or digit-box field in pixels.</summary>
    public int MinAmountHeight { get; set; } = DefaultMinAmountHeight;

    /// <summary>Largest height of an amount or digit-box field in pixels.</summary>
    public int MaxAmountHeight { get; set; } = DefaultMaxAmountHeight;

    /// <summary>Fewest characters of a name's text (a space, hyphen or apostrophe counts).</summary>
    public int MinNameLength { get; set; } = DefaultMinNameLength;

    /// <summary>Most characters of a name's text.</summary>
    public int MaxNameLength { get; set; } = DefaultMaxNameLength;

    /// <summary>Most digits of an amount (at least 1).</summary>
    public int MaxAmountDigits { get; set; } = DefaultMaxAmountDigits;

    /// <summary>Most digits in a digit box (at least 1).</summary>
    public int MaxBoxDigits { get; set; } = DefaultMaxBoxDigits;

    /// <summary>Largest slant of a field's writing from upright, either way, in degrees (each character varies a little around it).</summary>
    public double MaxSlantDegrees { get; set; } = DefaultMaxSlantDegrees;

    /// <summary>Lowest JPEG quality of the scan's compression (1–100).</summary>
    public int MinJpegQuality { get; set; } = DefaultMinJpegQuality;

    /// <summary>Highest JPEG quality of the scan's compression (1–100; 100 still compresses).</summary>
    public int MaxJpegQuality { get; set; } = DefaultMaxJpegQuality;

    /// <summary>Share of writers whose ones have a European up-stroke and whose sevens have a bar (0–1).</summary>
    public double ContinentalDigitProbability { get; set; } = DefaultContinentalDigitProbability;

    /// <summary>Share of name fields with a printed label ("NOM :", "PRENOM :") in the crop (0–1).</summary>
    public double LabelProbability { get; set; } = DefaultLabelProbability;

    /// <summary>
    /// Chance of each kind of clutter in a field (0–1): guide and stray lines, box borders, printed or handwritten
    /// neighbours cut by the crop's edge.
    /// </summary>
    public double ClutterProbability { get; set; } = DefaultClutterProbability;

    /// <summary>Checks every value and throws one <see cref="ArgumentException"/> that lists all invalid ones.</summary>
    /// <exception cref="ArgumentException">A value is out of range, or a minimum is above its maximum.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        problems.Check(Enum.IsDefined(Kind), nameof(Kind), Kind, "must be Name, Amount, DigitBoxes or Mixed");
        problems.Check(!string.IsNullOrWhiteSpace(EmnistSplit), nameof(EmnistSplit), EmnistSplit, "must name a split, e.g. 'test'");
        problems.Check(MinNameHeight >= 12, nameof(MinNameHeight), MinNameHeight, "must be at least 12 pixels");
        problems.Check(MaxNameHeight >= MinNameHeight && MaxNameHeight <= 512, nameof(MaxNameHeight), MaxNameHeight, $"must be from {nameof(MinNameHeight)} to 512 pixels");
        problems.Check(MinAmountHeight >= 12, nameof(MinAmountHeight), MinAmountHeight, "must be at least 12 pixels");
        problems.Check(MaxAmountHeight >= MinAmountHeight && MaxAmountHeight <= 512, nameof(MaxAmountHeight), MaxAmountHeight, $"must be from {nameof(MinAmountHeight)} to 512 pixels");
        problems.Check(MinNameLength >= 1, nameof(MinNameLength), MinNameLength, "must be at least 1");
        problems.Check(MaxNameLength >= MinNameLength && MaxNameLength <= 64, nameof(MaxNameLength), MaxNameLength, $"must be from {nameof(MinNameLength)} to 64");
        problems.Check(MaxAmountDigits is >= 1 and <= 32, nameof(MaxAmountDigits), MaxAmountDigits, "must be from 1 to 32");
        problems.Check(MaxBoxDigits is >= 1 and <= 32, nameof(MaxBoxDigits), MaxBoxDigits, "must be from 1 to 32");
        problems.Check(MaxSlantDegrees is >= 0 and <= 45, nameof(MaxSlantDegrees), MaxSlantDegrees, "must be from 0 to 45 degrees");
        problems.Check(MinJpegQuality is >= 1 and <= 100, nameof(MinJpegQuality), MinJpegQuality, "must be from 1 to 100");
        problems.Check(MaxJpegQuality is >= 1 and <= 100 && MaxJpegQuality >= MinJpegQuality, nameof(MaxJpegQuality), MaxJpegQuality, $"must be from {nameof(MinJpegQuality)} to 100");
        problems.Check(ContinentalDigitProbability is >= 0 and <= 1, nameof(ContinentalDigitProbability), ContinentalDigitProbability, "must be from 0 to 1");
        problems.Check(LabelProbability is >= 0 and <= 1, nameof(LabelProbability), LabelProbability, "must be from 0 to 1");
        problems.Check(ClutterProbability is >= 0 and <= 1, nameof(ClutterProbability), ClutterProbability, "must be from 0 to 1");
        problems.ThrowIfAny(nameof(SyntheticFieldOptions));
    }

    /// <summary>A copy, so that a generator in use cannot be changed behind its back.</summary>
    internal SyntheticFieldOptions Clone() => (SyntheticFieldOptions)MemberwiseClone();
}
