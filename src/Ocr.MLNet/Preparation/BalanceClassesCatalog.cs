using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;


namespace Ocr.MLNet;

/// <summary>
/// Adds <c>BalanceClasses</c> to <c>mlContext.Data</c>: the same number of rows for every class, by down-sampling
/// (rows drawn without replacement) and/or up-sampling (rows repeated), seeded and deterministic.
/// </summary>
/// <remarks>
/// The label column is read once to plan; the result is a view that selects the planned rows of the input by index
/// as a cursor walks the input, so images are neither copied nor held in memory. A class with more rows than the
/// target keeps a seeded random subset; a class with fewer keeps every row, repeated <c>target / count</c> times, plus
/// a seeded random subset of its rows once more for the remainder. It is a training-time data operation, not part of a
/// saved model.
/// </remarks>
public static class BalanceClassesCatalog
{
    /// <summary>Balances the classes of <paramref name="data"/> to one count per class.</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="data">The rows, with a string label column.</param>
    /// <param name="labelColumnName">The string label column that defines the classes. Default "Label".</param>
    /// <param name="target">The per-class count: the smallest class's (default), the largest's, or <paramref name="count"/>.</param>
    /// <param name="count">The rows per class for <see cref="BalanceTarget.Count"/>; null for the other targets.</param>
    /// <param name="seed">Seed of the row selection. Default 0.</param>
    /// <returns>The balanced view and the per-class counts before and after.</returns>
    /// <exception cref="ArgumentException">An option is invalid, or the data is empty or has an empty label.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The label column is missing or not a string column.</exception>
    public static BalancedData BalanceClasses(this DataOperationsCatalog catalog, IDataView data,
        string labelColumnName = BalanceClassesOptions.DefaultLabelColumnName,
        BalanceTarget target = BalanceClassesOptions.DefaultTarget,
        int? count = null,
        int seed = BalanceClassesOptions.DefaultSeed) =>
        catalog.BalanceClasses(data, new BalanceClassesOptions
        {
            LabelColumnName = labelColumnName,
            Target = target,
            Count = count,
            Seed = seed,
        });

    /// <summary>Balances the classes of <paramref name="data"/> to one count per class, with options.</summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="data">The rows, with a string label column.</param>
    /// <param name="options">Label column, target, count and seed; invalid values are all reported in one exception.</param>
    /// <returns>The balanced view and the per-class counts before and after.</returns>
    /// <exception cref="ArgumentException">An option is invalid, or the data is empty or has an empty label.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The label column is missing or not a string column.</exception>
    public static BalancedData BalanceClasses(this DataOperationsCatalog catalog, IDataView data, BalanceClassesOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string name = options.LabelColumnName;
        if (data.Schema.GetColumnOrNull(name) is not { } column)
        {
            throw new ArgumentOutOfRangeException(nameof(data),
                $"Could not find label column '{name}'. Name the string column that holds the class with labelColumnName "
                + $"(BalanceClassesOptions.{nameof(BalanceClassesOptions.LabelColumnName)}).");
        }

        if (column.Type is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException(nameof(data),
                $"Schema mismatch for label column '{name}': expected String, got {column.Type}. BalanceClasses reads the label as text; "
                + "convert a key column back with mlContext.Transforms.Conversion.MapKeyToValue first.");
        }

        var rowsByClass = ReadClasses(data, column);
        if (rowsByClass.Count == 0)
            throw new ArgumentException($"BalanceClasses was given no rows: the data is empty. Load the data before balancing it.", nameof(data));

        int perClass = options.Target switch
        {
            BalanceTarget.Minimum => rowsByClass.Values.Min(r => r.Count),
            BalanceTarget.Maximum => rowsByClass.Values.Max(r => r.Count),
            _ => options.Count!.Value,
        };
        long total = (long)perClass * rowsByClass.Count;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException(
                $"Balancing {rowsByClass.Count} classes to {perClass} rows each would give {total} rows, more than one view can index. Choose a smaller count.",
                nameof(options));
        }

        var random = new Random(options.Seed);
        var selected = new int[total];
        int next = 0;
        var before = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var after = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (label, rows) in rowsByClass) // ordinal order: the draws do not depend on row order of classes
        {
            before[label] = rows.Count;
            after[label] = perClass;
            int copies = perClass / rows.Count, remainder = perClass % rows.Count;
            for (int c = 0; c < copies; c++)
            {
                rows.CopyTo(selected, next);
                next += rows.Count;
            }

            // A seeded partial Fisher–Yates shuffle picks the remainder without replacement.
            var pool = rows.ToArray();
            for (int i = 0; i < remainder; i++)
            {
                int j = i + random.Next(pool.Length - i);
                (pool[i], pool[j]) = (pool[j], pool[i]);
                selected[next++] = pool[i];
            }
        }

        Array.Sort(selected);
        return new BalancedData(new RowSelectionDataView(data, selected), perClass, before, after);
    }

    private static SortedDictionary<string, List<int>> ReadClasses(IDataView data, DataViewSchema.Column column)
    {
        var rowsByClass = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        var byText = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var lookup = byText.GetAlternateLookup<ReadOnlySpan<char>>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        int row = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            if (value.IsEmpty)
            {
                throw new ArgumentException(
                    $"Row {row} of the data has an empty label in column '{column.Name}'. Every row needs a class: remove rows without a label "
                    + "(an empty label after MergeSimilarClasses means the label was not in its table).", nameof(data));
            }

            if (!lookup.TryGetValue(value.Span, out var rows))
            {
                rows = [];
                byText[value.ToString()] = rows;
            }

            rows.Add(row);
            if (row == int.MaxValue)
                throw new ArgumentException($"BalanceClasses handles at most {int.MaxValue} rows.", nameof(data));
            row++;
        }

        foreach (var (label, rows) in byText)
            rowsByClass[label] = rows;
        return rowsByClass;
    }
}
