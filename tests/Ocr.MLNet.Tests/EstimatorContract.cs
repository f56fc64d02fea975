using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The contract every ML.NET estimator keeps, checked the way ML.NET's own <c>TestEstimatorCore</c>
/// (dotnet/machinelearning, test/Microsoft.ML.TestFramework/DataPipe/TestDataPipeBase.cs) checks it:
/// <list type="number">
/// <item>the estimator fits on valid data;</item>
/// <item><c>estimator.GetOutputSchema(shape of the input)</c> promises the columns the fitted transformer delivers
/// (same names, vector kinds, item types, key-ness; the promised annotations are delivered);</item>
/// <item><c>transformer.GetOutputSchema(input.Schema)</c> is exactly the schema of <c>transformer.Transform(input)</c>;</item>
/// <item>on invalid data, <c>Fit</c> and <c>GetOutputSchema</c> both throw <see cref="ArgumentOutOfRangeException"/> or
/// <see cref="InvalidOperationException"/> in ML.NET's words ("Could not find … column" / "Schema mismatch for … column");</item>
/// <item>the transformer saved with <c>mlContext.Model.Save</c> and loaded back gives the same output schema and the
/// same values on the first rows (float vectors within a tolerance; text, keys and the rest exactly).</item>
/// </list>
/// Every failure message states the exact difference.
/// </summary>
internal static class EstimatorContract
{
    private const string MLNetWording = @"(?s)(Could not find .*column|Schema mismatch for .*column)";

    public static void Check<TTransformer>(MLContext mlContext, IEstimator<TTransformer> estimator, IDataView valid,
        IDataView? invalid = null, int rows = 4, double tolerance = 1e-5)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(valid);

        var transformer = estimator.Fit(valid);
        try
        {
            // 2. The estimator's promise against the fitted transformer's output.
            var promised = estimator.GetOutputSchema(ShapeOf(valid.Schema));
            var delivered = transformer.GetOutputSchema(valid.Schema);
            TestContext.Out.WriteLine($"{Name(estimator)} promises:  {string.Join("; ", promised.Select(Describe))}");
            TestContext.Out.WriteLine($"{Name(transformer)} delivers: {string.Join("; ", delivered.Where(c => !c.IsHidden).Select(c => $"{Describe(c)} ({c.Type})"))}");
            string shapeDifference = CompareShapes(promised, delivered);
            Assert.That(shapeDifference, Is.Empty,
                $"{Name(estimator)}.GetOutputSchema(input shape) differs from the fitted {Name(transformer)}'s output schema:\n{shapeDifference}");

            // 3. The transformer's schema against the data it gives.
            var transformed = transformer.Transform(valid);
            string schemaDifference = CompareSchemas(delivered, transformed.Schema, "GetOutputSchema(input.Schema)", "Transform(input).Schema");
            Assert.That(schemaDifference, Is.Empty,
                $"{Name(transformer)}.GetOutputSchema(input.Schema) differs from the schema of its Transform(input):\n{schemaDifference}");

            // 4. Invalid input fails in ML.NET's words, on Fit and on GetOutputSchema alike.
            if (invalid is not null)
            {
                AssertFailsInMLNetWords(() => (estimator.Fit(invalid) as IDisposable)?.Dispose(), $"{Name(estimator)}.Fit(invalid)");
                AssertFailsInMLNetWords(() => estimator.GetOutputSchema(ShapeOf(invalid.Schema)), $"{Name(estimator)}.GetOutputSchema(invalid shape)");
            }

            // 5. Saved with ML.NET, loaded back, the same schema and values.
            using var stream = new MemoryStream();
            mlContext.Model.Save(transformer, valid.Schema, stream);
            stream.Position = 0;
            var loaded = mlContext.Model.Load(stream, out var loadedInputSchema);
            try
            {
                string inputDifference = CompareSchemas(valid.Schema, loadedInputSchema, "input schema", "reloaded input schema", visibleOnly: true);
                Assert.That(inputDifference, Is.Empty, $"the reloaded model's input schema differs:\n{inputDifference}");
                var reloaded = loaded.Transform(valid);
                string reloadedDifference = CompareSchemas(transformed.Schema, reloaded.Schema, "output schema", "reloaded output schema", visibleOnly: true);
                Assert.That(reloadedDifference, Is.Empty, $"the reloaded {Name(loaded)}'s output schema differs:\n{reloadedDifference}");
                string valueDifference = CompareValues(transformed, reloaded, rows, tolerance);
                Assert.That(valueDifference, Is.Empty, $"the reloaded {Name(loaded)} gives other values than the fitted {Name(transformer)}:\n{valueDifference}");
            }
            finally
            {
                (loaded as IDisposable)?.Dispose();
            }
        }
        finally
        {
            (transformer as IDisposable)?.Dispose();
        }
    }

    // ---------------------------------------------------------------- schema shapes

    /// <summary>ML.NET's own <c>SchemaShape.Create(DataViewSchema)</c>, which is internal.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema)
    {
        var create = typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(DataViewSchema)])
            ?? throw new InvalidOperationException("This ML.NET version has no SchemaShape.Create(DataViewSchema).");
        return (SchemaShape)create.Invoke(null, [schema])!;
    }

    /// <summary>One column as a schema shape sees it.</summary>
    public sealed record ColumnShape(string Name, SchemaShape.Column.VectorKind Kind, DataViewType ItemType, bool IsKey, IReadOnlyList<string> Annotations)
    {
        public override string ToString() =>
            $"'{Name}': {Kind} of {(IsKey ? "Key<" + ItemType + ">" : ItemType.ToString())}"
            + (Annotations.Count > 0 ? $" [annotations {string.Join(", ", Annotations)}]" : "");
    }

    public static ColumnShape Describe(SchemaShape.Column column) =>
        new(column.Name, column.Kind, column.ItemType, column.IsKey, [.. column.Annotations.Select(a => a.Name).Order(StringComparer.Ordinal)]);

    /// <summary>A visible column of a schema as a schema shape describes it (ML.NET's <c>SchemaShape.Create</c>, built here from its parts).</summary>
    public static ColumnShape Describe(DataViewSchema.Column column)
    {
        var type = column.Type;
        var kind = type switch
        {
            VectorDataViewType { IsKnownSize: true } => SchemaShape.Column.VectorKind.Vector,
            VectorDataViewType => SchemaShape.Column.VectorKind.VariableVector,
            _ => SchemaShape.Column.VectorKind.Scalar,
        };
        var item = type is VectorDataViewType vector ? vector.ItemType : type;
        bool isKey = item is KeyDataViewType;
        if (item is KeyDataViewType key)
            item = RawNumberType(key.RawType);
        return new ColumnShape(column.Name, kind, item, isKey, [.. column.Annotations.Schema.Select(a => a.Name).Order(StringComparer.Ordinal)]);
    }

    /// <summary>What the promised shape and the delivered schema disagree on, one line per difference; empty when they agree.</summary>
    public static string CompareShapes(SchemaShape promised, DataViewSchema delivered)
    {
        var expected = promised.Select(Describe).ToList();
        var actual = delivered.Where(c => !c.IsHidden).Select(Describe).ToList();
        var report = new StringBuilder();
        foreach (var column in expected.Where(e => actual.All(a => a.Name != e.Name)))
            report.AppendLine(CultureInfo.InvariantCulture, $"  promised but not delivered: {column}");
        foreach (var column in actual.Where(a => expected.All(e => e.Name != a.Name)))
            report.AppendLine(CultureInfo.InvariantCulture, $"  delivered but not promised: {column}");
        foreach (var e in expected)
        {
            var a = actual.FirstOrDefault(c => c.Name == e.Name);
            if (a is null)
                continue;
            if (e.Kind != a.Kind || !e.ItemType.Equals(a.ItemType) || e.IsKey != a.IsKey)
                report.AppendLine(CultureInfo.InvariantCulture, $"  column '{e.Name}': promised {e}, delivered {a}");
            var missing = e.Annotations.Except(a.Annotations).ToList();
            if (missing.Count > 0)
                report.AppendLine(CultureInfo.InvariantCulture, $"  column '{e.Name}': promised annotations {string.Join(", ", missing)} are not delivered");
        }

        return report.ToString();
    }

    // ---------------------------------------------------------------- schemas

    /// <summary>Column by column: names, exact types and hidden flags; empty when the schemas are the same.</summary>
    public static string CompareSchemas(DataViewSchema expected, DataViewSchema actual, string expectedName, string actualName, bool visibleOnly = false)
    {
        var left = expected.Where(c => !visibleOnly || !c.IsHidden).ToList();
        var right = actual.Where(c => !visibleOnly || !c.IsHidden).ToList();
        var report = new StringBuilder();
        if (left.Count != right.Count)
            report.AppendLine(CultureInfo.InvariantCulture, $"  {expectedName} has {left.Count} columns, {actualName} {right.Count}");
        for (int i = 0; i < Math.Max(left.Count, right.Count); i++)
        {
            string l = i < left.Count ? Text(left[i]) : "(none)";
            string r = i < right.Count ? Text(right[i]) : "(none)";
            if (l != r || (i < left.Count && i < right.Count && !left[i].Type.Equals(right[i].Type)))
                report.AppendLine(CultureInfo.InvariantCulture, $"  column {i}: {expectedName} {l}, {actualName} {r}");
        }

        return report.ToString();

        static string Text(DataViewSchema.Column c) => $"'{c.Name}' {c.Type}{(c.IsHidden ? " (hidden)" : "")}";
    }

    // ---------------------------------------------------------------- values

    /// <summary>The visible columns of the first <paramref name="rows"/> rows; empty when they agree.</summary>
    public static string CompareValues(IDataView expected, IDataView actual, int rows, double tolerance)
    {
        var report = new StringBuilder();
        foreach (var column in expected.Schema.Where(c => !c.IsHidden))
        {
            if (actual.Schema.GetColumnOrNull(column.Name) is not { } other)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"  column '{column.Name}' is missing");
                continue;
            }

            var left = Read(expected, column, rows);
            var right = Read(actual, other, rows);
            if (left.Count != right.Count)
                report.AppendLine(CultureInfo.InvariantCulture, $"  column '{column.Name}': {left.Count} rows, then {right.Count}");
            for (int row = 0; row < Math.Min(left.Count, right.Count); row++)
            {
                if (!Same(left[row], right[row], tolerance))
                    report.AppendLine(CultureInfo.InvariantCulture, $"  column '{column.Name}', row {row}: {Show(left[row])} then {Show(right[row])}");
            }
        }

        return report.ToString();
    }

    private static List<object?> Read(IDataView data, DataViewSchema.Column column, int rows)
    {
        var method = typeof(EstimatorContract).GetMethod(nameof(ReadTyped), BindingFlags.Static | BindingFlags.NonPublic)!
            .MakeGenericMethod(column.Type.RawType);
        return (List<object?>)method.Invoke(null, [data, column, rows])!;
    }

    private static List<object?> ReadTyped<T>(IDataView data, DataViewSchema.Column column, int rows)
    {
        var values = new List<object?>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        while (values.Count < rows && cursor.MoveNext())
        {
            getter(ref value);
            values.Add(Comparable(value));
        }

        return values;
    }

    /// <summary>Values that compare by content: vectors as dense arrays, text as strings.</summary>
    private static object? Comparable(object? value) => value switch
    {
        ReadOnlyMemory<char> text => text.ToString(),
        VBuffer<ReadOnlyMemory<char>> texts => texts.DenseValues().Select(t => t.ToString()).ToArray(),
        VBuffer<float> v => v.DenseValues().ToArray(),
        VBuffer<double> v => v.DenseValues().ToArray(),
        VBuffer<int> v => v.DenseValues().ToArray(),
        VBuffer<uint> v => v.DenseValues().ToArray(),
        VBuffer<long> v => v.DenseValues().ToArray(),
        VBuffer<ulong> v => v.DenseValues().ToArray(),
        VBuffer<byte> v => v.DenseValues().ToArray(),
        VBuffer<bool> v => v.DenseValues().ToArray(),
        // An image compares by its size and pixels (a cursor hands out a new MLImage per row).
        MLImage image => $"{image.Width}×{image.Height} {image.PixelFormat} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image.Pixels))}",
        _ => value,
    };

    private static bool Same(object? a, object? b, double tolerance) => (a, b) switch
    {
        (float x, float y) => Close(x, y, tolerance),
        (double x, double y) => Close(x, y, tolerance),
        (float[] x, float[] y) => x.Length == y.Length && x.Zip(y).All(p => Close(p.First, p.Second, tolerance)),
        (double[] x, double[] y) => x.Length == y.Length && x.Zip(y).All(p => Close(p.First, p.Second, tolerance)),
        (Array x, Array y) => x.Length == y.Length && x.Cast<object?>().SequenceEqual(y.Cast<object?>()),
        _ => Equals(a, b),
    };

    private static bool Close(double x, double y, double tolerance) =>
        (double.IsNaN(x) && double.IsNaN(y)) || x == y || Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y)));

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"'{s}'",
        Array a => $"[{string.Join(", ", a.Cast<object?>().Take(12).Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))}{(a.Length > 12 ? ", …" : "")}] ({a.Length})",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    // ---------------------------------------------------------------- errors

    private static void AssertFailsInMLNetWords(Action action, string what)
    {
        Exception? thrown = null;
        try
        {
            action();
        }
        catch (Exception e)
        {
            thrown = e;
        }

        if (thrown is null)
        {
            Assert.Fail($"{what} did not throw");
            return;
        }

        Assert.That(thrown, Is.InstanceOf<ArgumentOutOfRangeException>().Or.InstanceOf<InvalidOperationException>(),
            $"{what} threw {thrown.GetType().Name}: {thrown.Message}");
        Assert.That(thrown.Message, Does.Match(MLNetWording),
            $"{what}: the message is not in ML.NET's words (\"Could not find … column\" / \"Schema mismatch for … column\")");
    }

    private static DataViewType RawNumberType(Type raw) =>
        raw == typeof(byte) ? NumberDataViewType.Byte
        : raw == typeof(ushort) ? NumberDataViewType.UInt16
        : raw == typeof(uint) ? NumberDataViewType.UInt32
        : raw == typeof(ulong) ? NumberDataViewType.UInt64
        : throw new ArgumentException($"A key of raw type {raw} is not possible.", nameof(raw));

    private static string Name(object o) => o.GetType().Name;
}
