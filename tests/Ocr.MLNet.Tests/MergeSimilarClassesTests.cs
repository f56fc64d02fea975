using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Tests;

/// <summary>
/// <c>mlContext.Transforms.MergeSimilarClasses</c>: EMNIST's default table, custom tables and their validation, schema
/// and unknown-label errors, save/load through ML.NET alone, and (in Ocr.MLNet.IntegrationTests, MergeSimilarClassesRealDataTests) EMNIST
/// ByClass merged to the ByMerge label set.
/// </summary>
[TestFixture]
public sealed class MergeSimilarClassesTests
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";
    private const string Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Digits = "0123456789";

    private static readonly string[] All62 = (Digits + Upper + Lower).Select(c => c.ToString()).ToArray();

    private static readonly string[] Expected47 =
        (Digits + Upper + "abdefghnqrt").Select(c => c.ToString()).ToArray();

    private MLContext mlContext = null!;

    [SetUp]
    public void CreateContext() => mlContext = new MLContext(seed: 1);

    private sealed class LabelRow
    {
        public string Label { get; set; } = "";
    }

    private sealed class TwoColumns
    {
        public string Label { get; set; } = "";

        public string Merged { get; set; } = "";
    }

    private IDataView Labels(params string[] labels) =>
        mlContext.Data.LoadFromEnumerable(labels.Select(l => new LabelRow { Label = l }).ToList());

    private static string[] Column(IDataView data, string name) =>
        data.GetColumn<string>(name).ToArray();

    // ---------------------------------------------------------------- default table

    [Test]
    public void The_default_table_maps_exactly_the_fifteen_lower_case_letters_and_leaves_47_classes()
    {
        var table = MergeSimilarClassesOptions.EmnistTable;
        Assert.That(table.Keys, Is.EquivalentTo(All62));
        var merged = table.Where(p => p.Key != p.Value).ToDictionary(p => p.Key, p => p.Value);
        Assert.That(merged.Keys.Order(StringComparer.Ordinal), Is.EqualTo("cijklmopsuvwxyz".Select(c => c.ToString())));
        foreach (var (from, to) in merged)
            Assert.That(to, Is.EqualTo(from.ToUpperInvariant()), from);
        Assert.That(table.Values.Distinct(), Is.EquivalentTo(Expected47));
        Assert.That(mlContext.Transforms.MergeSimilarClasses().MergedClasses, Is.EqualTo(Expected47.Order(StringComparer.Ordinal)));
    }

    [Test]
    public void The_default_merge_transforms_every_EMNIST_label_and_returns_mlnets_value_mapping()
    {
        var data = Labels(All62);
        var transformer = mlContext.Transforms.MergeSimilarClasses().Fit(data);
        Assert.That(transformer, Is.InstanceOf<ValueMappingTransformer>());
        var output = mlContext.Data.CreateEnumerable<LabelRow>(transformer.Transform(data), reuseRowObject: false).Select(r => r.Label).ToArray();
        Assert.That(output, Is.EqualTo(All62.Select(l => "cijklmopsuvwxyz".Contains(l, StringComparison.Ordinal) ? l.ToUpperInvariant() : l)));
        Assert.That(output.Distinct(), Is.EquivalentTo(Expected47));
    }

    [Test]
    public void A_separate_output_column_keeps_the_input()
    {
        var data = Labels("o", "O", "a", "7");
        var transformed = mlContext.Transforms.MergeSimilarClasses("Merged", "Label").Fit(data).Transform(data);
        Assert.That(Column(transformed, "Label"), Is.EqualTo(new[] { "o", "O", "a", "7" }));
        Assert.That(Column(transformed, "Merged"), Is.EqualTo(new[] { "O", "O", "a", "7" }));
        Assert.That(transformed.Schema["Merged"].Type, Is.EqualTo(TextDataViewType.Instance));
    }

    [Test]
    public void Merges_a_pipeline_of_pixels_and_labels_like_the_loaders_give()
    {
        var data = SyntheticGlyphs.Load(mlContext, perClass: 3, seed: 2, classes: ["a", "o", "x"]);
        var pipeline = mlContext.Transforms.MergeSimilarClasses();
        var outputShape = pipeline.GetOutputSchema(MLNetInterop.ToShape(data.Schema));
        Assert.That(outputShape.Select(c => c.Name), Does.Contain("Label").And.Contain("Pixels"));
        var transformed = pipeline.Fit(data).Transform(data);
        Assert.That(Column(transformed, "Label").Distinct().Order(StringComparer.Ordinal), Is.EqualTo(new[] { "O", "X", "a" }));
        Assert.That(transformed.GetColumn<float[]>("Pixels").First(), Has.Length.EqualTo(1024));
    }

    // ---------------------------------------------------------------- custom tables

    [Test]
    public void A_custom_table_merges_as_given()
    {
        var table = MergeSimilarClassesOptions.CreateTable(SyntheticGlyphs.Classes, new Dictionary<string, string> { ["/"] = "|", ["-"] = "|" });
        Assert.That(table, Is.EquivalentTo(new Dictionary<string, string> { ["-"] = "|", ["|"] = "|", ["/"] = "|", ["O"] = "O" }));
        var data = SyntheticGlyphs.Load(mlContext, perClass: 2, seed: 3);
        var estimator = mlContext.Transforms.MergeSimilarClasses(new MergeSimilarClassesOptions { Table = table });
        var labels = Column(estimator.Fit(data).Transform(data), "Label");
        Assert.That(labels, Is.EqualTo(new[] { "|", "|", "|", "O", "|", "|", "|", "O" }));
        Assert.That(estimator.MergedClasses, Is.EqualTo(new[] { "O", "|" }));
    }

    [Test]
    public void An_invalid_custom_table_lists_every_problem_in_one_message()
    {
        var table = new Dictionary<string, string> { ["a"] = "b", ["b"] = "c", ["c"] = "c", [""] = "x", ["y"] = "" };
        var e = Assert.Throws<ArgumentException>(() =>
            mlContext.Transforms.MergeSimilarClasses(new MergeSimilarClassesOptions { Table = table, OutputColumnName = " " }));
        Assert.That(e!.Message, Does.StartWith("Invalid MergeSimilarClassesOptions: "));
        Assert.That(e.Message, Does.Contain("OutputColumnName must be a non-empty column name"));
        Assert.That(e.Message, Does.Contain("chains \"a\" → \"b\" → \"c\""));
        Assert.That(e.Message, Does.Contain("empty label (mapped to \"x\")"));
        Assert.That(e.Message, Does.Contain("maps \"y\" to an empty label"));

        var empty = Assert.Throws<ArgumentException>(() =>
            mlContext.Transforms.MergeSimilarClasses(new MergeSimilarClassesOptions { Table = new Dictionary<string, string>() }));
        Assert.That(empty!.Message, Does.Contain("Table is empty"));
    }

    // ---------------------------------------------------------------- errors

    [Test]
    public void An_unknown_label_is_a_clear_error_naming_it_and_the_fix()
    {
        var data = Labels("a", "ä", "7", "ä", "?");
        var e = Assert.Throws<ArgumentException>(() => mlContext.Transforms.MergeSimilarClasses().Fit(data));
        Assert.That(e!.Message, Does.Contain("2 label(s) that the merge table lacks"));
        Assert.That(e.Message, Does.Contain("\"?\" (1 rows)").And.Contain("\"ä\" (2 rows)"));
        Assert.That(e.Message, Does.Contain("MergeSimilarClassesOptions.Table"));
    }

    [Test]
    public void An_unknown_label_at_inference_becomes_empty_as_documented()
    {
        var transformer = mlContext.Transforms.MergeSimilarClasses().Fit(Labels("a", "o"));
        Assert.That(Column(transformer.Transform(Labels("o", "ä")), "Label"), Is.EqualTo(new[] { "O", "" }));
    }

    [Test]
    public void A_missing_column_is_reported_in_mlnets_words()
    {
        var data = Labels("a");
        var estimator = mlContext.Transforms.MergeSimilarClasses(inputColumnName: "Character");
        var fit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.That(fit!.Message, Does.StartWith("Could not find input column 'Character'."));
        var shape = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(MLNetInterop.ToShape(data.Schema)));
        Assert.That(shape!.Message, Does.StartWith("Could not find input column 'Character'."));
    }

    [Test]
    public void A_non_string_column_is_a_schema_mismatch_in_mlnets_words()
    {
        var data = SyntheticGlyphs.Load(mlContext, perClass: 1, seed: 1);
        var estimator = mlContext.Transforms.MergeSimilarClasses(inputColumnName: "Pixels");
        var fit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.That(fit!.Message, Does.StartWith("Schema mismatch for input column 'Pixels': expected String, got Vector<Single"));
        var shape = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(MLNetInterop.ToShape(data.Schema)));
        Assert.That(shape!.Message, Does.StartWith("Schema mismatch for input column 'Pixels': expected String, got Vector<Single>"));

        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var key = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.MergeSimilarClasses().Fit(keyed));
        Assert.That(key!.Message, Does.StartWith("Schema mismatch for input column 'Label': expected String, got Key"));
        Assert.That(key.Message, Does.Contain("MapKeyToValue"));
    }

    // ---------------------------------------------------------------- save and load

    [Test]
    public void A_saved_merge_loads_as_mlnet_transforms_and_maps_the_same()
    {
        var data = Labels(All62);
        var transformer = mlContext.Transforms.MergeSimilarClasses("Merged", "Label").Fit(data);
        var expected = mlContext.Data.CreateEnumerable<TwoColumns>(transformer.Transform(data), reuseRowObject: false).ToArray();

        using var stream = new MemoryStream();
        mlContext.Model.Save(transformer, data.Schema, stream);
        stream.Position = 0;
        var other = new MLContext(seed: 5);
        var loaded = other.Model.Load(stream, out var inputSchema);
        Assert.That(inputSchema["Label"].Type, Is.EqualTo(TextDataViewType.Instance));

        var parts = loaded is TransformerChain<ITransformer> chain ? chain.ToArray() : [loaded];
        Assert.That(parts.Select(p => p.GetType().Assembly), Has.None.EqualTo(typeof(MergeSimilarClassesCatalog).Assembly),
            "the saved model must need only ML.NET");

        var fresh = other.Data.LoadFromEnumerable(All62.Select(l => new LabelRow { Label = l }).ToList());
        var actual = other.Data.CreateEnumerable<TwoColumns>(loaded.Transform(fresh), reuseRowObject: false).ToArray();
        Assert.That(actual.Select(r => (r.Label, r.Merged)), Is.EqualTo(expected.Select(r => (r.Label, r.Merged))));
        Assert.That(actual.Count(r => r.Label != r.Merged), Is.EqualTo(15));
    }
}
