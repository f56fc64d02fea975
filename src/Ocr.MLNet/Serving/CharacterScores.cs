namespace Ocr.MLNet.Serving;

/// <summary>One class and its probability, as <see cref="CharacterScores.TopK"/> returns them.</summary>
/// <param name="ClassName">The class (a <c>Score</c> slot name).</param>
/// <param name="Score">Its probability.</param>
public sealed record ClassScore(string ClassName, float Score);

/// <summary>Reads a character model's multiclass output: class names from the schema, best classes from a score vector.</summary>
public static class CharacterScores
{
    /// <summary>The class names in <c>Score</c> order: the slot names of the score column.</summary>
    /// <param name="schema">A schema after the model (<c>model.GetOutputSchema(inputSchema)</c> or a scored view's schema).</param>
    /// <param name="scoreColumnName">The score column. Default <c>Score</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">There is no such column, or it has no slot names of its size.</exception>
    /// <example>
    /// <code>
    /// IReadOnlyList&lt;string&gt; classes = CharacterScores.GetClassNames(model.GetOutputSchema(inputSchema));
    /// </code>
    /// </example>
    public static IReadOnlyList<string> GetClassNames(DataViewSchema schema, string scoreColumnName = CharacterFormat.ScoreColumnName)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (schema.GetColumnOrNull(scoreColumnName) is not { } score)
            throw SchemaErrors.NotFound("score", scoreColumnName, "Pass the schema after a character model, which adds the score column.");
        if (score.Type is not VectorDataViewType { IsKnownSize: true, ItemType: NumberDataViewType } vector
            || score.Annotations.Schema.GetColumnOrNull("SlotNames")?.Type is not VectorDataViewType { ItemType: TextDataViewType } slots
            || slots.Size != vector.Size)
        {
            throw SchemaErrors.Mismatch("score", scoreColumnName, "Vector<Single> with slot names", score.Type.ToString() ?? "unknown",
                "Score with a model trained by this version of Ocr.MLNet; older models carry no class names in the schema: train them again.");
        }

        var names = default(VBuffer<ReadOnlyMemory<char>>);
        score.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    /// <summary>The <paramref name="k"/> most probable classes, best first (ties keep class order).</summary>
    /// <param name="scores">One probability per class, in <paramref name="classNames"/> order.</param>
    /// <param name="classNames">The class names (<see cref="GetClassNames"/>).</param>
    /// <param name="k">How many; fewer come back when there are fewer classes.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <example>
    /// <code>
    /// foreach (var (name, p) in CharacterScores.TopK(prediction.Score, classes, 3))
    ///     Console.WriteLine($"{name} {p:P1}");
    /// </code>
    /// </example>
    public static IReadOnlyList<ClassScore> TopK(ReadOnlySpan<float> scores, IReadOnlyList<string> classNames, int k)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (scores.Length != classNames.Count)
            throw new ArgumentException($"There are {scores.Length} scores but {classNames.Count} class names; pass the scores and class names of one model.", nameof(scores));
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        float[] values = scores.ToArray();
        // Stable: equal scores keep class order, so results do not depend on the sort's pivots.
        var best = order.OrderByDescending(i => values[i]).Take(k);
        return best.Select(i => new ClassScore(classNames[i], values[i])).ToArray();
    }
}
