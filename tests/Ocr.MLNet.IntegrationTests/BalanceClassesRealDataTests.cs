using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.IntegrationTests;

/// <summary><c>mlContext.Data.BalanceClasses</c> on EMNIST ByMerge from <c>../shared/data</c>.</summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class BalanceClassesRealDataTests
{
    private MLContext mlContext = null!;

    [SetUp]
    public void CreateContext() => mlContext = new MLContext(seed: 1);

    [Test]
    public void Emnist_ByMerge_balances_to_its_smallest_class()
    {
        string path = TestEnvironment.RealData("emnist-bymerge-dev");

        var data = mlContext.Data.LoadFromEmnist(path, "dev");
        var result = mlContext.Data.BalanceClasses(data, seed: 7);
        Assert.That(result.CountsBefore, Has.Count.EqualTo(47));
        Assert.That(result.CountsBefore.Values.Sum(), Is.EqualTo(106_923));
        Assert.That(result.CountsBefore.Values.Min(), Is.EqualTo(215), "PROVENANCE: 215 to 6,200 images per class");
        Assert.That(result.CountsBefore.Values.Max(), Is.EqualTo(6_200));
        Assert.That(result.CountPerClass, Is.EqualTo(215));

        int rows = 0;
        var counts = new Dictionary<string, int>();
        using (var cursor = result.Data.GetRowCursor(result.Data.Schema))
        {
            var label = cursor.GetGetter<ReadOnlyMemory<char>>(result.Data.Schema["Label"]);
            var pixels = cursor.GetGetter<VBuffer<float>>(result.Data.Schema["Pixels"]);
            ReadOnlyMemory<char> l = default;
            VBuffer<float> p = default;
            while (cursor.MoveNext())
            {
                label(ref l);
                pixels(ref p);
                Assert.That(p.Length, Is.EqualTo(1024));
                counts[l.ToString()] = counts.GetValueOrDefault(l.ToString()) + 1;
                rows++;
            }
        }

        Assert.That(rows, Is.EqualTo(47 * 215));
        Assert.That(counts, Is.EquivalentTo(result.CountsAfter));
        Assert.That(counts.Values, Is.All.EqualTo(215));
    }
}
