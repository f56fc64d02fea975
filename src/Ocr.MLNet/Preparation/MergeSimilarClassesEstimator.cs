using System.Text;
using Microsoft.ML.Transforms;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// Merges similar-looking classes of a string label column (EMNIST's 62 → 47 by default): the estimator of
/// <c>mlContext.Transforms.MergeSimilarClasses(...)</c>.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Fit"/> returns ML.NET's own <see cref="ValueMappingTransformer"/> (the transformer of
/// <c>mlContext.Transforms.Conversion.MapValue</c>) over the string → string merge table, so the fitted model saves
/// with <c>mlContext.Model.Save</c> and loads in an app that does not reference Ocr.MLNet.
/// </para>
/// <para>
/// Unknown labels: <see cref="Fit"/> reads the input column once and throws an <see cref="ArgumentException"/> that
/// names every label missing from the table, with the fix. At inference (data that was not seen by
/// <see cref="Fit"/>) ML.NET's value mapping turns a label outside the table into the empty string; an empty
/// label therefore means "not in the merge table". <c>mlContext.Data.BalanceClasses</c> and the CharacterCnn trainer
/// reject empty labels.
/// </para>
/// </remarks>
public sealed class MergeSimilarClassesEstimator : IEstimator<ValueMappingTransformer>
{
    private readonly IEstimator<ValueMappingTransformer> _mapping;
    private readonly string _outputColumnName;
    private readonly string _inputColumnName;

    internal MergeSimilarClassesEstimator(TransformsCatalog catalog, MergeSimilarClassesOptions options)
    {
        options.Validate();
        Table = new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(
            options.EffectiveTable.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));
        _outputColumnName = options.OutputColumnName;
        _inputColumnName = options.EffectiveInputColumnName;
        // Sorted, so that the saved model is the same for equal tables.
        var pairs = Table.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        _mapping = catalog.Conversion.MapValue(_outputColumnName, pairs, _inputColumnName);
    }

    /// <summary>The merge table in effect: every known label → the label it becomes.</summary>
    public IReadOnlyDictionary<string, string> Table { get; }

    /// <summary>The classes after merging (the distinct values of <see cref="Table"/>), sorted ordinally.</summary>
    public IReadOnlyList<string> MergedClasses =>
        Table.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Checks the input column and every label in <paramref name="input"/> against the table, then returns ML.NET's
    /// value-mapping transformer over the table.
    /// </summary>
    /// <param name="input">Data with the string input label column.</param>
    /// <returns>A saveable <see cref="ValueMappingTransformer"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or not a string column.</exception>
    /// <exception cref="ArgumentException">A label of the data is not a key of the table (the message names it).</exception>
    public ValueMappingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var column = CheckInput(input.Schema);
        var unknown = new SortedDictionary<string, long>(StringComparer.Ordinal);
        // Each distinct label is turned into a string once; rows are matched as spans.
        var seen = new Dictionary<string, bool>(StringComparer.Ordinal);
        var lookup = seen.GetAlternateLookup<ReadOnlySpan<char>>();
        using (var cursor = input.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                if (!lookup.TryGetValue(value.Span, out bool known))
                {
                    string label = value.ToString();
                    known = Table.ContainsKey(label);
                    seen[label] = known;
                }

                if (!known)
                {
                    string label = value.ToString();
                    unknown[label] = unknown.GetValueOrDefault(label) + 1;
                }
            }
        }

        if (unknown.Count > 0)
        {
            var message = new StringBuilder();
            message.Append($"Input column '{_inputColumnName}' holds {unknown.Count} label(s) that the merge table lacks: ");
            message.Append(string.Join(", ", unknown.Take(20).Select(p => $"\"{p.Key}\" ({p.Value} rows)")));
            if (unknown.Count > 20)
                message.Append($", … ({unknown.Count - 20} more)");
            message.Append(". Add each to MergeSimilarClassesOptions.Table (mapped to itself to keep it, or to the class it joins; ");
            message.Append("MergeSimilarClassesOptions.CreateTable builds such a table), or filter those rows out before merging.");
            if (unknown.ContainsKey(""))
                message.Append(" An empty label usually comes from an earlier value mapping that did not know the label.");
            throw new ArgumentException(message.ToString(), nameof(input));
        }

        return _mapping.Fit(input);
    }

    /// <summary>The schema after merging: the output column is a string column.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <returns>The output schema shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or not a string column.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (MLNetInterop.FindColumn(inputSchema, _inputColumnName) is not { } column)
            throw NotFound();
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.IsKey || column.ItemType is not TextDataViewType)
        {
            string item = column.IsKey ? "Key" : column.ItemType?.ToString() ?? "unknown";
            throw Mismatch(column.Kind == SchemaShape.Column.VectorKind.Scalar ? item : $"Vector<{item}>");
        }

        return _mapping.GetOutputSchema(inputSchema);
    }

    private DataViewSchema.Column CheckInput(DataViewSchema schema)
    {
        if (schema.GetColumnOrNull(_inputColumnName) is not { } column)
            throw NotFound();
        if (column.Type is not TextDataViewType)
            throw Mismatch($"{column.Type}");
        return column;
    }

    private ArgumentOutOfRangeException NotFound() =>
        new("inputSchema", $"Could not find input column '{_inputColumnName}'. Name the string label column with "
            + "MergeSimilarClasses(inputColumnName: ...) or MergeSimilarClassesOptions.InputColumnName.");

    private ArgumentOutOfRangeException Mismatch(string actual) =>
        new("inputSchema", $"Schema mismatch for input column '{_inputColumnName}': expected String, got {actual}. "
            + "MergeSimilarClasses reads the label as text (e.g. \"a\"); convert a key column back with "
            + "mlContext.Transforms.Conversion.MapKeyToValue first.");
}
