namespace Ocr.MLNet.Preparation;

/// <summary>
/// The rows of one epoch under <c>CharacterCnnTrainer.Options.ClassBalancedSampling</c>: the same number of images
/// from every class, drawn afresh each epoch. A class with more images than its quota gives a fresh random subset; a class
/// with fewer gives all of its images, then again in a new order, until the quota is filled, so no image repeats before
/// every image of its class has been seen.
/// </summary>
internal sealed class ClassBalancedSampler
{
    private readonly int[][] rowsByClass;

    /// <param name="labels">The class index of every training row.</param>
    /// <param name="classCount">Number of classes; a class without rows is skipped.</param>
    /// <param name="imagesPerClass">Quota per class and epoch, or null for the mean class size (rounded up).</param>
    public ClassBalancedSampler(IReadOnlyList<int> labels, int classCount, int? imagesPerClass)
    {
        var lists = Enumerable.Range(0, classCount).Select(_ => new List<int>()).ToArray();
        for (int row = 0; row < labels.Count; row++)
            lists[labels[row]].Add(row);
        rowsByClass = lists.Where(l => l.Count > 0).Select(l => l.ToArray()).ToArray();
        ImagesPerClass = imagesPerClass ?? (int)Math.Ceiling(labels.Count / (double)rowsByClass.Length);
    }

    /// <summary>Images drawn from each class per epoch.</summary>
    public int ImagesPerClass { get; }

    /// <summary>Rows per epoch: the quota times the number of classes present.</summary>
    public int RowsPerEpoch => ImagesPerClass * rowsByClass.Length;

    /// <summary>The shuffled rows of the epoch that <paramref name="seed"/> stands for (same seed, same rows).</summary>
    public long[] Draw(long seed)
    {
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var rows = new long[RowsPerEpoch];
        int next = 0;
        foreach (var classRows in rowsByClass)
        {
            var order = (int[])classRows.Clone();
            for (int drawn = 0; drawn < ImagesPerClass; drawn += order.Length)
            {
                random.Shuffle(order);
                int take = Math.Min(order.Length, ImagesPerClass - drawn);
                for (int i = 0; i < take; i++)
                    rows[next++] = order[i];
            }
        }

        random.Shuffle(rows);
        return rows;
    }
}
