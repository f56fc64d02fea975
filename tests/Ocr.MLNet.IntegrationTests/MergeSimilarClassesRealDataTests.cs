using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.IntegrationTests;

/// <summary><c>mlContext.Transforms.MergeSimilarClasses</c> on EMNIST ByClass from <c>../shared/data</c>, merged to the ByMerge label set.</summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class MergeSimilarClassesRealDataTests
{
    private static readonly string[] All62 =
        ("0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz").Select(c => c.ToString()).ToArray();

    private MLContext mlContext = null!;

    [SetUp]
    public void CreateContext() => mlContext = new MLContext(seed: 1);


    [Test]
    public void Emnist_ByClass_merged_gives_the_ByMerge_label_set_with_summed_counts()
    {
        var byClass = mlContext.Data.LoadFromEmnist(TestEnvironment.RealData("emnist-byclass-test"), "test");
        var byMerge = mlContext.Data.LoadFromEmnist(TestEnvironment.RealData("emnist-bymerge-dev"), "dev");

        var sourceCounts = byClass.GetColumn<string>("Label").GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.That(sourceCounts.Keys, Is.EquivalentTo(All62), "ByClass test holds the 62 classes");

        var merged = mlContext.Transforms.MergeSimilarClasses().Fit(byClass).Transform(byClass);
        var mergedCounts = merged.GetColumn<string>("Label").GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        var byMergeLabels = byMerge.GetColumn<string>("Label").Distinct().ToArray();

        Assert.That(byMergeLabels, Has.Length.EqualTo(47));
        Assert.That(mergedCounts.Keys, Is.EquivalentTo(byMergeLabels), "merged ByClass labels = ByMerge labels");
        Assert.That(mergedCounts.Values.Sum(), Is.EqualTo(116_323));
        foreach (var (label, count) in mergedCounts)
        {
            int expected = sourceCounts[label] + (label.Length == 1 && char.IsUpper(label[0])
                && "cijklmopsuvwxyz".Contains(char.ToLowerInvariant(label[0])) ? sourceCounts[label.ToLowerInvariant()] : 0);
            Assert.That(count, Is.EqualTo(expected), $"class {label}");
        }
    }
}
