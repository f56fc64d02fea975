namespace Ocr.MLNet.Preparation;

/// <summary>
/// Which continental copies <c>mlContext.Data.AddContinentalDigits(data, options)</c> adds, and their seed. A
/// continental 1 has a long up-stroke from its top (it reads as a 7 to a network trained on NIST's American 1s); a
/// continental 7 has a bar across its stem.
/// </summary>
public sealed class ContinentalDigitOptions
{
    /// <summary>Add a flagged copy of every one (on by default).</summary>
    public bool FlaggedOnes { get; set; } = true;

    /// <summary>Add a crossed copy of every seven (on by default).</summary>
    public bool CrossedSevens { get; set; } = true;

    /// <summary>The label of the ones.</summary>
    public string OneLabel { get; set; } = "1";

    /// <summary>The label of the sevens.</summary>
    public string SevenLabel { get; set; } = "7";

    /// <summary>Seed of the strokes' random length, angle and place.</summary>
    public int Seed { get; set; } = ImageAugmentationOptions.DefaultSeed;

    /// <summary>Checks every value and throws one <see cref="ArgumentException"/> that lists all invalid ones.</summary>
    /// <exception cref="ArgumentException">A label is empty, or both labels are the same.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        problems.Check(!string.IsNullOrEmpty(OneLabel), nameof(OneLabel), OneLabel, "must name the ones' class");
        problems.Check(!string.IsNullOrEmpty(SevenLabel), nameof(SevenLabel), SevenLabel, "must name the sevens' class");
        problems.Check(string.IsNullOrEmpty(OneLabel) || OneLabel != SevenLabel, nameof(SevenLabel), SevenLabel, $"must differ from {nameof(OneLabel)}");
        problems.ThrowIfAny(nameof(ContinentalDigitOptions));
    }
}
