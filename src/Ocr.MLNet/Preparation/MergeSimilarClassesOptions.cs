using System.Collections.ObjectModel;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// Options of <c>mlContext.Transforms.MergeSimilarClasses(...)</c>. The defaults are those of the short overload:
/// EMNIST's table, reading and writing the column "Label".
/// </summary>
public sealed class MergeSimilarClassesOptions
{
    /// <summary>Default name of the output (and input) label column: "Label".</summary>
    public const string DefaultOutputColumnName = CharacterFormat.LabelColumnName;

    /// <summary>
    /// The 15 lower-case letters EMNIST merges into their upper case (ByMerge and Balanced splits):
    /// c i j k l m o p s u v w x y z.
    /// </summary>
    public const string EmnistMergedLowerCase = "cijklmopsuvwxyz";

    /// <summary>
    /// EMNIST's merge table: each of the 62 ByClass labels (0-9, A-Z, a-z) mapped to its ByMerge label. The 15
    /// letters of <see cref="EmnistMergedLowerCase"/> map to their upper case; every other label maps to itself,
    /// leaving 47 classes (0-9, A-Z, a b d e f g h n q r t).
    /// </summary>
    public static IReadOnlyDictionary<string, string> EmnistTable { get; } = BuildEmnistTable();

    /// <summary>Name of the output column (string). Default "Label": the label is replaced in place.</summary>
    public string OutputColumnName { get; set; } = DefaultOutputColumnName;

    /// <summary>
    /// Name of the input column (string). <see langword="null"/> (the default) reads <see cref="OutputColumnName"/>.
    /// </summary>
    public string? InputColumnName { get; set; }

    /// <summary>
    /// The merge table: every label the data may hold, mapped to the label it becomes (a label that stays maps to
    /// itself). A label that is not a key of the table is an error in <c>Fit</c>. Merges must not chain (a label
    /// that others merge into must map to itself) and no name may be empty. <see langword="null"/> (the default)
    /// uses <see cref="EmnistTable"/>. <see cref="CreateTable"/> builds a table from a label list and the merges.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Table { get; set; }

    /// <summary>
    /// Builds a merge table: every label of <paramref name="labels"/> maps to itself unless
    /// <paramref name="merges"/> names it, in which case it maps to its merge target (which is added, mapped to
    /// itself, if <paramref name="labels"/> lacks it).
    /// </summary>
    /// <param name="labels">Every label the data may hold.</param>
    /// <param name="merges">Label → the label it joins, e.g. "o" → "O".</param>
    /// <returns>A table for <see cref="Table"/>.</returns>
    public static IReadOnlyDictionary<string, string> CreateTable(IEnumerable<string> labels, IReadOnlyDictionary<string, string> merges)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(merges);
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string label in labels)
            table[label] = label;
        foreach (var (from, to) in merges)
        {
            table[from] = to;
            table.TryAdd(to, to);
        }

        return new ReadOnlyDictionary<string, string>(table);
    }

    /// <summary>The table in effect: <see cref="Table"/> or <see cref="EmnistTable"/>.</summary>
    internal IReadOnlyDictionary<string, string> EffectiveTable => Table ?? EmnistTable;

    /// <summary>The input column in effect.</summary>
    internal string EffectiveInputColumnName => InputColumnName ?? OutputColumnName;

    /// <summary>Checks every option and throws one <see cref="ArgumentException"/> that lists every invalid value.</summary>
    internal void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(OutputColumnName))
            problems.Add($"{nameof(OutputColumnName)} must be a non-empty column name (default \"{DefaultOutputColumnName}\"), got {Show(OutputColumnName)}");
        if (InputColumnName is not null && string.IsNullOrWhiteSpace(InputColumnName))
            problems.Add($"{nameof(InputColumnName)} must be a non-empty column name or null (the output column), got {Show(InputColumnName)}");
        if (Table is not null)
            problems.AddRange(TableProblems(Table));
        problems.ThrowIfAny(nameof(MergeSimilarClassesOptions));
    }

    private static IEnumerable<string> TableProblems(IReadOnlyDictionary<string, string> table)
    {
        if (table.Count == 0)
        {
            yield return $"{nameof(Table)} is empty: list every label the data holds, each mapped to itself or to the label it joins";
            yield break;
        }

        foreach (var (from, to) in table.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrEmpty(from))
                yield return $"{nameof(Table)} has an empty label (mapped to {Show(to)}): labels must be non-empty";
            if (string.IsNullOrEmpty(to))
                yield return $"{nameof(Table)} maps {Show(from)} to an empty label: map it to itself to keep it";
            else if (table.TryGetValue(to, out string? next) && !string.Equals(next, to, StringComparison.Ordinal))
                yield return $"{nameof(Table)} chains \"{from}\" → \"{to}\" → {Show(next)}: map \"{from}\" to the final label and \"{to}\" to itself, or drop the chain";
        }
    }

    private static ReadOnlyDictionary<string, string> BuildEmnistTable()
    {
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        for (char c = '0'; c <= '9'; c++)
            table[c.ToString()] = c.ToString();
        for (char c = 'A'; c <= 'Z'; c++)
            table[c.ToString()] = c.ToString();
        for (char c = 'a'; c <= 'z'; c++)
            table[c.ToString()] = EmnistMergedLowerCase.Contains(c) ? char.ToUpperInvariant(c).ToString() : c.ToString();
        return new ReadOnlyDictionary<string, string>(table);
    }

    private static string Show(string? value) => value is null ? "null" : $"\"{value}\"";
}
