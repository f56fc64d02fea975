using Ocr.MLNet.Preparation;


namespace Ocr.MLNet;

/// <summary>
/// Adds <c>MergeSimilarClasses</c> to <c>mlContext.Transforms</c>: merges similar-looking classes of a string label
/// column (EMNIST's 62 ByClass classes → 47 ByMerge classes by default) with ML.NET's saveable value mapping.
/// </summary>
public static class MergeSimilarClassesCatalog
{
    /// <summary>
    /// Merges EMNIST's similar-looking classes: lower-case c i j k l m o p s u v w x y z become their upper case,
    /// the other 47 labels (0-9, A-Z, a b d e f g h n q r t) stay. Labels outside those 62 are an error in <c>Fit</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="outputColumnName">The output string column. Default "Label".</param>
    /// <param name="inputColumnName">The input string column; <see langword="null"/> reads <paramref name="outputColumnName"/>.</param>
    /// <returns>An estimator whose <c>Fit</c> returns ML.NET's <c>ValueMappingTransformer</c> (saveable).</returns>
    /// <example>
    /// <code>
    /// var merge = mlContext.Transforms.MergeSimilarClasses().Fit(data);   // 62 EMNIST classes → 47
    /// IDataView merged = merge.Transform(data);
    /// </code>
    /// </example>
    public static MergeSimilarClassesEstimator MergeSimilarClasses(this TransformsCatalog catalog,
        string outputColumnName = MergeSimilarClassesOptions.DefaultOutputColumnName, string? inputColumnName = null) =>
        catalog.MergeSimilarClasses(new MergeSimilarClassesOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
        });

    /// <summary>Merges classes by a table (<see cref="MergeSimilarClassesOptions.Table"/>; EMNIST's by default).</summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="options">Columns and table; invalid values are all reported in one exception.</param>
    /// <returns>An estimator whose <c>Fit</c> returns ML.NET's <c>ValueMappingTransformer</c> (saveable).</returns>
    /// <exception cref="ArgumentException">An option is invalid: empty names, or merges that chain.</exception>
    /// <example>
    /// <code>
    /// var table = MergeSimilarClassesOptions.CreateTable(["0", "1", "O", "I"], new Dictionary&lt;string, string&gt; { ["O"] = "0", ["I"] = "1" });
    /// var merge = mlContext.Transforms.MergeSimilarClasses(new MergeSimilarClassesOptions { Table = table });
    /// </code>
    /// </example>
    public static MergeSimilarClassesEstimator MergeSimilarClasses(this TransformsCatalog catalog, MergeSimilarClassesOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new MergeSimilarClassesEstimator(catalog, options);
    }
}
