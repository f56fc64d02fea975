using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Preparation;

/// <summary>Options of <see cref="CharacterImagePreparingEstimator"/> (<c>PrepareCharacterImages</c>).</summary>
public sealed class CharacterImagePreparingOptions
{
    /// <summary>The output pixel column (1,024 floats). Default <c>Pixels</c>.</summary>
    public string OutputColumnName { get; set; } = CharacterFormat.PixelsColumnName;

    /// <summary>The image column to read; <see langword="null"/> reads <see cref="OutputColumnName"/>. Default <c>Image</c>.</summary>
    public string? InputColumnName { get; set; } = CharacterFormat.ImageColumnName;

    /// <summary>Which way round the ink is; <see cref="InkPolarity.Detect"/> (the default) decides per image from its border.</summary>
    public InkPolarity Polarity { get; set; } = InkPolarity.Detect;

    internal string InputColumn => InputColumnName ?? OutputColumnName;

    internal CharacterImagePreparingOptions Clone() => (CharacterImagePreparingOptions)MemberwiseClone();

    internal void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(OutputColumnName))
            problems.Add($"{nameof(OutputColumnName)} is empty: name the pixel column, e.g. \"{CharacterFormat.PixelsColumnName}\"");
        if (InputColumnName is not null && string.IsNullOrWhiteSpace(InputColumnName))
            problems.Add($"{nameof(InputColumnName)} is empty: name the image column, e.g. \"{CharacterFormat.ImageColumnName}\", or pass null to read {nameof(OutputColumnName)}");
        if (!Enum.IsDefined(Polarity))
            problems.Add($"{nameof(Polarity)} = {(int)Polarity} is not an {nameof(InkPolarity)} value");
        problems.ThrowIfAny("PrepareCharacterImages options");
    }
}
