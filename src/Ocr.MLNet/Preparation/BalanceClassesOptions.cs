
namespace Ocr.MLNet.Preparation;

/// <summary>The per-class count <c>mlContext.Data.BalanceClasses</c> brings every class to.</summary>
public enum BalanceTarget
{
    /// <summary>The smallest class's count: larger classes are down-sampled (no row is repeated).</summary>
    Minimum,

    /// <summary>The largest class's count: smaller classes are up-sampled (rows repeated), none is dropped.</summary>
    Maximum,

    /// <summary>A given number (<see cref="BalanceClassesOptions.Count"/>): each class is down- or up-sampled to it.</summary>
    Count,
}

/// <summary>
/// Options of <c>mlContext.Data.BalanceClasses(...)</c>. The defaults are those of the short overload.
/// </summary>
public sealed class BalanceClassesOptions
{
    /// <summary>Default name of the label column: "Label".</summary>
    public const string DefaultLabelColumnName = CharacterFormat.LabelColumnName;

    /// <summary>Default target: <see cref="BalanceTarget.Minimum"/>.</summary>
    public const BalanceTarget DefaultTarget = BalanceTarget.Minimum;

    /// <summary>Default seed: 0.</summary>
    public const int DefaultSeed = 0;

    /// <summary>Name of the string label column that defines the classes. Default "Label".</summary>
    public string LabelColumnName { get; set; } = DefaultLabelColumnName;

    /// <summary>The per-class count to reach. Default <see cref="BalanceTarget.Minimum"/>.</summary>
    public BalanceTarget Target { get; set; } = DefaultTarget;

    /// <summary>
    /// The rows per class when <see cref="Target"/> is <see cref="BalanceTarget.Count"/> (at least 1); must be
    /// <see langword="null"/> for the other targets.
    /// </summary>
    public int? Count { get; set; }

    /// <summary>Seed of the row selection: the same seed and data give the same rows. Default 0.</summary>
    public int Seed { get; set; } = DefaultSeed;

    /// <summary>Checks every option and throws one <see cref="ArgumentException"/> that lists every invalid value.</summary>
    internal void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(LabelColumnName))
            problems.Add($"{nameof(LabelColumnName)} must be a non-empty column name (default \"{DefaultLabelColumnName}\"), got {(LabelColumnName is null ? "null" : $"\"{LabelColumnName}\"")}");
        if (!Enum.IsDefined(Target))
            problems.Add($"{nameof(Target)} must be Minimum, Maximum or Count, got {(int)Target}");
        if (Target == BalanceTarget.Count && Count is null)
            problems.Add($"{nameof(Count)} must be given (at least 1) when {nameof(Target)} is Count");
        if (Count is < 1)
            problems.Add($"{nameof(Count)} must be at least 1, got {Count}");
        if (Count is not null && Target != BalanceTarget.Count && Enum.IsDefined(Target))
            problems.Add($"{nameof(Count)} ({Count}) is only used with {nameof(Target)} = Count, but {nameof(Target)} is {Target}: set {nameof(Target)} = Count or leave {nameof(Count)} null");
        problems.ThrowIfAny(nameof(BalanceClassesOptions));
    }
}

/// <summary>
/// The result of <c>mlContext.Data.BalanceClasses(...)</c>: the balanced view and the per-class counts before and
/// after.
/// </summary>
public sealed class BalancedData
{
    internal BalancedData(IDataView data, int countPerClass, IReadOnlyDictionary<string, int> countsBefore,
        IReadOnlyDictionary<string, int> countsAfter)
    {
        Data = data;
        CountPerClass = countPerClass;
        CountsBefore = countsBefore;
        CountsAfter = countsAfter;
    }

    /// <summary>
    /// The balanced rows, with the input's schema. Rows stay in input order; an up-sampled row's copies follow it.
    /// The view reads the input as a cursor reaches each row (no image is copied); shuffle it for training
    /// (<c>mlContext.Data.ShuffleRows</c>, or the trainer's own shuffling).
    /// </summary>
    public IDataView Data { get; }

    /// <summary>The number of rows every class has in <see cref="Data"/>.</summary>
    public int CountPerClass { get; }

    /// <summary>Rows per class in the input, by label (ordinal order).</summary>
    public IReadOnlyDictionary<string, int> CountsBefore { get; }

    /// <summary>Rows per class in <see cref="Data"/>, by label (ordinal order): each is <see cref="CountPerClass"/>.</summary>
    public IReadOnlyDictionary<string, int> CountsAfter { get; }

    /// <summary>Rows in <see cref="Data"/>.</summary>
    public long RowCount => (long)CountPerClass * CountsAfter.Count;

    /// <summary>
    /// A one-line report, e.g. <c>4 classes, 28 rows → 12 rows (3 per class): - 5→3, / 12→3, O 3→3, | 8→3</c>.
    /// </summary>
    /// <returns>The counts before and after, by class in ordinal order.</returns>
    public override string ToString() =>
        $"{CountsBefore.Count} classes, {CountsBefore.Values.Sum(c => (long)c)} rows → {RowCount} rows ({CountPerClass} per class): "
        + string.Join(", ", CountsBefore.Select(p => $"{p.Key} {p.Value}→{CountsAfter[p.Key]}"));
}
