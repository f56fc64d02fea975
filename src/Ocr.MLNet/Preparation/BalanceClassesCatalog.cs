using Ocr.MLNet.Preparation;


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
    /// <example>
    /// <code>
    /// BalancedData balanced = mlContext.Data.BalanceClasses(data, target: BalanceTarget.Minimum, seed: 1);
    /// Console.WriteLine(balanced);   // counts per class before → after
    /// </code>
    /// </example>
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
    /// <example>
    /// <code>
    /// var balanced = mlContext.Data.BalanceClasses(data, new BalanceClassesOptions { Target = BalanceTarget.Count, Count = 2_000 });
    /// </code>
    /// </example>
    public static BalancedData BalanceClasses(this DataOperationsCatalog catalog, IDataView data, BalanceClassesOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return ClassBalancer.Balance(data, options);
    }

    /// <summary>
    /// Splits <paramref name="data"/> into a balanced test set — <paramref name="testImagesPerClass"/> seeded random rows of
    /// every class (at most half of a class's rows) — and a training set of all other rows. The same data and seed give the
    /// same split, so a model can be trained on one part and evaluated later on exactly the other.
    /// </summary>
    /// <param name="catalog">The data catalog, <c>mlContext.Data</c>.</param>
    /// <param name="data">The rows, with a string label column.</param>
    /// <param name="testImagesPerClass">Rows of each class in the test set (default 100).</param>
    /// <param name="seed">Seed of the row selection. Default 1.</param>
    /// <param name="labelColumnName">The string label column that defines the classes. Default "Label".</param>
    /// <returns>Both parts, as views of the input in its row order.</returns>
    /// <exception cref="ArgumentException">The count is below 1, or the data is empty or has an empty label.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The label column is missing or not a string column.</exception>
    /// <example>
    /// <code>
    /// var split = mlContext.Data.BalancedTrainTestSplit(data, testImagesPerClass: 100, seed: 1);
    /// var model = pipeline.Fit(split.TrainSet);
    /// var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
    /// </code>
    /// </example>
    public static BalancedTrainTestData BalancedTrainTestSplit(this DataOperationsCatalog catalog, IDataView data,
        int testImagesPerClass = 100, int seed = 1, string labelColumnName = BalanceClassesOptions.DefaultLabelColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return ClassBalancer.HoldOut(data, testImagesPerClass, seed, labelColumnName);
    }
}

/// <summary>The two parts of <see cref="BalanceClassesCatalog.BalancedTrainTestSplit"/>.</summary>
/// <param name="TrainSet">Every row not in <paramref name="TestSet"/>.</param>
/// <param name="TestSet">The same number of rows from every class (fewer for a class with less than twice as many).</param>
/// <param name="TestImagesPerClass">The rows per class asked for.</param>
public sealed record BalancedTrainTestData(IDataView TrainSet, IDataView TestSet, int TestImagesPerClass);
