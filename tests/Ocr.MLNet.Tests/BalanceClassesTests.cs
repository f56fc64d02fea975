using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Tests;

/// <summary>
/// <c>mlContext.Data.BalanceClasses</c>: exact per-class counts for each target, down-sampling without repeats,
/// up-sampling that keeps every row, determinism by seed, reported counts, the rows' other columns passed through,
/// and errors (EMNIST ByMerge balanced: Ocr.MLNet.IntegrationTests, BalanceClassesRealDataTests).
/// </summary>
[TestFixture]
public sealed class BalanceClassesTests
{
    // Class sizes of the test data: unequal on purpose.
    private static readonly (string Label, int Count)[] Sizes = [("-", 5), ("|", 8), ("/", 12), ("O", 3)];

    private MLContext mlContext = null!;

    [SetUp]
    public void CreateContext() => mlContext = new MLContext(seed: 1);

    /// <summary>A row whose pixels identify it: every pixel is its row number plus a fraction of the pixel index.</summary>
    private sealed class IdRow
    {
        public string Label { get; set; } = "";

        [VectorType(16)]
        public float[] Pixels { get; set; } = [];
    }

    private sealed class NumberLabel
    {
        public float Label { get; set; }
    }

    /// <summary>Rows of <see cref="Sizes"/>, the classes interleaved; row i has pixels i, i + 1/16, ….</summary>
    private static List<IdRow> MakeRows()
    {
        var rows = new List<IdRow>();
        var left = Sizes.ToDictionary(s => s.Label, s => s.Count);
        while (left.Values.Any(v => v > 0))
        {
            foreach (var (label, _) in Sizes)
            {
                if (left[label]-- > 0)
                {
                    int id = rows.Count;
                    rows.Add(new IdRow { Label = label, Pixels = Enumerable.Range(0, 16).Select(p => id + (p / 16f)).ToArray() });
                }
            }
        }

        return rows;
    }

    private IDataView Data() => mlContext.Data.LoadFromEnumerable(MakeRows());

    private IdRow[] Read(IDataView data) => mlContext.Data.CreateEnumerable<IdRow>(data, reuseRowObject: false).ToArray();

    private static Dictionary<string, int> CountByLabel(IEnumerable<IdRow> rows) =>
        rows.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count());

    private static IReadOnlyDictionary<string, int> ExpectedBefore => Sizes.ToDictionary(s => s.Label, s => s.Count);

    /// <summary>Checks each output row is an input row, whole (label and every pixel), and returns the row ids.</summary>
    private static int[] Ids(IdRow[] rows, List<IdRow> source)
    {
        var ids = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            int id = (int)rows[i].Pixels[0];
            Assert.That(rows[i].Label, Is.EqualTo(source[id].Label), $"row {i}");
            Assert.That(rows[i].Pixels, Is.EqualTo(source[id].Pixels), $"row {i}");
            ids[i] = id;
        }

        return ids;
    }

    [Test]
    public void Minimum_down_samples_every_class_to_the_smallest_without_repeats()
    {
        var result = mlContext.Data.BalanceClasses(Data());
        Assert.That(result.CountPerClass, Is.EqualTo(3));
        Assert.That(result.CountsBefore, Is.EquivalentTo(ExpectedBefore));
        Assert.That(result.CountsAfter, Is.EquivalentTo(Sizes.ToDictionary(s => s.Label, _ => 3)));
        Assert.That(result.CountsBefore.Keys, Is.EqualTo(new[] { "-", "/", "O", "|" }), "ordinal order");
        Assert.That(result.Data.GetRowCount(), Is.EqualTo(12));
        Assert.That(result.RowCount, Is.EqualTo(12));
        Assert.That(result.ToString(), Is.EqualTo("4 classes, 28 rows → 12 rows (3 per class): - 5→3, / 12→3, O 3→3, | 8→3"));

        var rows = Read(result.Data);
        Assert.That(CountByLabel(rows), Is.EquivalentTo(result.CountsAfter));
        var ids = Ids(rows, MakeRows());
        Assert.That(ids, Is.Unique);
        Assert.That(ids, Is.Ordered, "input order kept");
        Assert.That(rows.Where(r => r.Label == "O").Select(r => (int)r.Pixels[0]), Is.EqualTo(MakeRows().Select((r, i) => (r, i)).Where(p => p.r.Label == "O").Select(p => p.i)),
            "the smallest class keeps all its rows");
    }

    [Test]
    public void Maximum_up_samples_by_repeating_rows_and_drops_none()
    {
        var result = mlContext.Data.BalanceClasses(Data(), target: BalanceTarget.Maximum, seed: 3);
        Assert.That(result.CountPerClass, Is.EqualTo(12));
        Assert.That(result.CountsAfter, Is.EquivalentTo(Sizes.ToDictionary(s => s.Label, _ => 12)));
        var source = MakeRows();
        var rows = Read(result.Data);
        Assert.That(rows, Has.Length.EqualTo(48));
        Assert.That(CountByLabel(rows), Is.EquivalentTo(result.CountsAfter));
        var ids = Ids(rows, source);
        Assert.That(ids.Distinct().Count(), Is.EqualTo(source.Count), "every input row is kept");
        foreach (var (label, count) in Sizes)
        {
            var repeats = ids.Where(id => source[id].Label == label).GroupBy(id => id).Select(g => g.Count()).ToArray();
            Assert.That(repeats.Min(), Is.EqualTo(12 / count), label);
            Assert.That(repeats.Max(), Is.EqualTo(12 % count == 0 ? 12 / count : (12 / count) + 1), label);
        }
    }

    [Test]
    public void A_given_count_down_samples_large_classes_and_up_samples_small_ones()
    {
        var result = mlContext.Data.BalanceClasses(Data(), target: BalanceTarget.Count, count: 7, seed: 9);
        Assert.That(result.CountsBefore, Is.EquivalentTo(ExpectedBefore));
        Assert.That(result.CountsAfter, Is.EquivalentTo(Sizes.ToDictionary(s => s.Label, _ => 7)));
        var source = MakeRows();
        var rows = Read(result.Data);
        Assert.That(CountByLabel(rows), Is.EquivalentTo(result.CountsAfter));
        var ids = Ids(rows, source);
        var perClass = ids.GroupBy(id => source[id].Label).ToDictionary(g => g.Key, g => g.ToArray());
        Assert.That(perClass["|"], Is.Unique, "8 → 7 draws without replacement");
        Assert.That(perClass["/"], Is.Unique, "12 → 7 draws without replacement");
        Assert.That(perClass["-"].Distinct().Count(), Is.EqualTo(5), "5 → 7 keeps all 5");
        Assert.That(perClass["O"].GroupBy(i => i).Select(g => g.Count()).Order(), Is.EqualTo(new[] { 2, 2, 3 }), "3 → 7: each twice, one thrice");

        var options = mlContext.Data.BalanceClasses(Data(), new BalanceClassesOptions { Target = BalanceTarget.Count, Count = 7, Seed = 9 });
        Assert.That(Ids(Read(options.Data), source), Is.EqualTo(ids), "the options overload is the same operation");
    }

    [Test]
    public void The_same_seed_gives_the_same_rows_and_other_seeds_others()
    {
        int[] Select(int seed) => Ids(Read(mlContext.Data.BalanceClasses(Data(), target: BalanceTarget.Count, count: 6, seed: seed).Data), MakeRows());
        var first = Select(42);
        Assert.That(Select(42), Is.EqualTo(first));
        Assert.That(new MLContext(seed: 99).Data.BalanceClasses(Data(), target: BalanceTarget.Count, count: 6, seed: 42).Data.GetRowCount(), Is.EqualTo(24));
        Assert.That(Enumerable.Range(0, 5).Select(Select), Has.Some.Not.EqualTo(first), "the seed changes the selection");

        var view = mlContext.Data.BalanceClasses(Data(), target: BalanceTarget.Count, count: 6, seed: 42).Data;
        var firstRead = Ids(Read(view), MakeRows());
        Assert.That(Ids(Read(view), MakeRows()), Is.EqualTo(firstRead), "the view reads the same twice");
    }

    [Test]
    public void The_balanced_view_serves_only_the_requested_columns_and_shuffles()
    {
        var result = mlContext.Data.BalanceClasses(Data(), target: BalanceTarget.Maximum);
        Assert.That(result.Data.Schema.Select(c => c.Name), Is.EqualTo(new[] { "Label", "Pixels" }));
        Assert.That(result.Data.GetColumn<string>("Label").Count(), Is.EqualTo(48));
        var shuffled = Read(mlContext.Data.ShuffleRows(result.Data, seed: 1));
        Assert.That(CountByLabel(shuffled), Is.EquivalentTo(result.CountsAfter));
        var cached = Read(mlContext.Data.Cache(result.Data));
        Assert.That(cached.Select(r => r.Pixels[0]), Is.EqualTo(Read(result.Data).Select(r => r.Pixels[0])));
    }

    [Test]
    public void Invalid_options_are_listed_in_one_message()
    {
        var e = Assert.Throws<ArgumentException>(() => mlContext.Data.BalanceClasses(Data(), labelColumnName: "", target: BalanceTarget.Minimum, count: 0));
        Assert.That(e!.Message, Does.StartWith("Invalid BalanceClassesOptions: "));
        Assert.That(e.Message, Does.Contain("LabelColumnName must be a non-empty column name"));
        Assert.That(e.Message, Does.Contain("Count must be at least 1, got 0"));
        Assert.That(e.Message, Does.Contain("only used with Target = Count"));

        var missing = Assert.Throws<ArgumentException>(() => mlContext.Data.BalanceClasses(Data(), target: BalanceTarget.Count));
        Assert.That(missing!.Message, Does.Contain("Count must be given (at least 1) when Target is Count"));
        var negative = Assert.Throws<ArgumentException>(() => mlContext.Data.BalanceClasses(Data(), target: BalanceTarget.Count, count: -3));
        Assert.That(negative!.Message, Does.Contain("Count must be at least 1, got -3"));
    }

    [Test]
    public void Label_column_errors_are_in_mlnets_words()
    {
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Data.BalanceClasses(Data(), labelColumnName: "Class"));
        Assert.That(missing!.Message, Does.StartWith("Could not find label column 'Class'."));

        var numbers = mlContext.Data.LoadFromEnumerable(new[] { new NumberLabel { Label = 1 } });
        var mismatch = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Data.BalanceClasses(numbers));
        Assert.That(mismatch!.Message, Does.StartWith("Schema mismatch for label column 'Label': expected String, got Single."));
    }

    [Test]
    public void Empty_data_and_empty_labels_are_clear_errors()
    {
        var empty = mlContext.Data.LoadFromEnumerable(new List<IdRow>());
        var e = Assert.Throws<ArgumentException>(() => mlContext.Data.BalanceClasses(empty));
        Assert.That(e!.Message, Does.Contain("the data is empty"));

        var rows = MakeRows();
        rows[4].Label = "";
        var blank = Assert.Throws<ArgumentException>(() => mlContext.Data.BalanceClasses(mlContext.Data.LoadFromEnumerable(rows)));
        Assert.That(blank!.Message, Does.StartWith("Row 4 of the data has an empty label in column 'Label'."));
    }
}
