using Ocr.MLNet.Loading;


namespace Ocr.MLNet.Preparation;

/// <summary>Plans and builds <c>mlContext.Data.BalanceClasses</c>: the label column read once, then a view of the chosen rows.</summary>
internal static class ClassBalancer
{
    public static BalancedData Balance(IDataView data, BalanceClassesOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var rowsByClass = ReadClasses(data, options.LabelColumnName);
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

    /// <summary>Holds out <paramref name="perClass"/> seeded random rows of every class (at most half of each).</summary>
    public static BalancedTrainTestData HoldOut(IDataView data, int perClass, int seed, string labelColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (perClass < 1)
            throw new ArgumentException($"testImagesPerClass is {perClass}; hold out at least 1 row per class.", nameof(perClass));
        var rowsByClass = ReadClasses(data, labelColumnName);
        if (rowsByClass.Count == 0)
            throw new ArgumentException("BalancedTrainTestSplit was given no rows: the data is empty. Load the data before splitting it.", nameof(data));
        var random = new Random(seed);
        var test = new List<int>();
        var train = new List<int>();
        foreach (var (_, rows) in rowsByClass) // ordinal order: the draws do not depend on the order classes appear in
        {
            var order = rows.ToArray();
            random.Shuffle(order);
            int held = Math.Min(perClass, order.Length / 2);
            test.AddRange(order.AsSpan(0, held));
            train.AddRange(order.AsSpan(held));
        }

        var testRows = test.ToArray();
        var trainRows = train.ToArray();
        Array.Sort(testRows);
        Array.Sort(trainRows);
        return new BalancedTrainTestData(new RowSelectionDataView(data, trainRows), new RowSelectionDataView(data, testRows), perClass);
    }

    /// <summary>The rows of every class of the string label column <paramref name="name"/>, classes in ordinal order.</summary>
    private static SortedDictionary<string, List<int>> ReadClasses(IDataView data, string name)
    {
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

        return ReadClasses(data, column);
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
