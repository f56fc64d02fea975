
namespace Ocr.MLNet.Loading;

/// <summary>
/// Options of <c>mlContext.Data.LoadFromEmnist(...)</c>. The defaults are those of the short overloads.
/// </summary>
public sealed class EmnistLoaderOptions
{
    /// <summary>Default name of the label column: "Label".</summary>
    public const string DefaultLabelColumnName = CharacterFormat.LabelColumnName;

    /// <summary>Default name of the pixels column: "Pixels".</summary>
    public const string DefaultPixelsColumnName = CharacterFormat.PixelsColumnName;

    /// <summary>Name of the output label column (string: the character, e.g. "A", "a", "7"). Default "Label".</summary>
    public string LabelColumnName { get; set; } = DefaultLabelColumnName;

    /// <summary>
    /// Name of the output pixels column (float vector of 1×32×32 = 1024: upright, [0, 1], padded). Default "Pixels".
    /// </summary>
    public string PixelsColumnName { get; set; } = DefaultPixelsColumnName;

    /// <summary>
    /// Load only the first this many rows (the rest of the files is neither read nor checked), e.g. for a quick
    /// experiment. <see langword="null"/> (the default) loads all rows.
    /// </summary>
    public int? MaxRows { get; set; }

    /// <summary>Checks every option and throws one <see cref="ArgumentException"/> that lists every invalid value.</summary>
    internal void Validate() => ValidateColumnNames(LabelColumnName, PixelsColumnName, MaxRows);

    internal static void ValidateColumnNames(string? labelColumnName, string? pixelsColumnName, int? maxRows) =>
        CommonProblems(labelColumnName, pixelsColumnName, maxRows).ThrowIfAny(nameof(EmnistLoaderOptions));

    /// <summary>The problems of the options every loader has: the two column names and the row cap.</summary>
    internal static List<string> CommonProblems(string? labelColumnName, string? pixelsColumnName, int? maxRows)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(labelColumnName))
            problems.Add($"{nameof(LabelColumnName)} must be a non-empty column name (default \"{DefaultLabelColumnName}\"), got {Show(labelColumnName)}");
        if (string.IsNullOrWhiteSpace(pixelsColumnName))
            problems.Add($"{nameof(PixelsColumnName)} must be a non-empty column name (default \"{DefaultPixelsColumnName}\"), got {Show(pixelsColumnName)}");
        if (!string.IsNullOrWhiteSpace(labelColumnName) && string.Equals(labelColumnName, pixelsColumnName, StringComparison.Ordinal))
            problems.Add($"{nameof(LabelColumnName)} and {nameof(PixelsColumnName)} must differ, both are \"{labelColumnName}\"");
        if (maxRows is < 1)
            problems.Add($"{nameof(MaxRows)} must be at least 1 or null (all rows), got {maxRows}");
        return problems;
    }

    private static string Show(string? value) => value is null ? "null" : $"\"{value}\"";
}
