using Ocr.MLNet.Text;
using static Ocr.MLNet.Fields.FieldReaderThresholds;

namespace Ocr.MLNet.Fields;

/// <summary>Reading a field both ways (<see cref="FieldReadingMethod.Combined"/>).</summary>
public sealed partial class HandwrittenFieldReader
{
    /// <summary>
    /// Stages 3 and 4 both ways: the segmentation reads the field (<see cref="ReadBestLine(IEnumerable{FieldSegmentation}, ClassMask, int, int, List{float[]}?)"/>)
    /// and the line recognizer reads its first line; then each reader scores the other's text (the line recognizer its
    /// CTC probability, the segmentation the probability of its best cut into those characters), and the text with the
    /// higher combined probability (<see cref="CombinedProbability"/>) wins, with it as its confidence. Where the two
    /// readers agree the confidence stays high; where they disagree it falls, so a doubtful field is routed to a person
    /// even when one reader alone is sure.
    /// </summary>
    private FieldReading ReadCombined(IEnumerable<FieldSegmentation> segmentedLines, FieldArea area, FieldKind? kind, ClassMask mask)
    {
        var bySegmentation = ReadBestLine(segmentedLines, mask, area.X, area.Y, out var first);
        if (first.Line.Pieces.Count == 0)
        {
            // The line the line recognizer reads holds no ink: it supports no text of another line.
            return bySegmentation.IsBlank ? bySegmentation : bySegmentation with { Confidence = (float)CombinedProbability(0, bySegmentation.Confidence) };
        }

        var byLines = ReadWithLines(first.Line, area, kind, bySegmentation.Text, out float linesOfSegmentation);
        double segmentationOfLines = first.Scored is null ? 0 : SegmentationProbability(first.Line, first.Scored, mask, byLines.Text);
        double segmentationScore = CombinedProbability(linesOfSegmentation, bySegmentation.IsBlank ? 0 : bySegmentation.Confidence);
        double linesScore = CombinedProbability(byLines.Confidence, segmentationOfLines);
        return linesScore > segmentationScore
            ? byLines with { Confidence = (float)linesScore }
            : bySegmentation with { Confidence = (float)segmentationScore };
    }

    /// <summary>
    /// The two readers' probabilities of one text combined as a product of experts (their geometric mean, to stay a
    /// probability's size): a text both find likely scores high, one that either finds unlikely scores low. Chosen over
    /// their mean on the dev folders' rows 1–400 (README, "Fields that learn").
    /// </summary>
    private static double CombinedProbability(double lines, double segmentation) => Math.Sqrt(lines * segmentation);

    /// <summary>
    /// The segmentation's probability of <paramref name="text"/> on a line whose candidates stage 3 scored: the decoder's
    /// best cut of the line into the text's characters (its shape penalties, boundary costs and dropped fragments; the
    /// letter pairs play no part, the text being fixed), as the product of each character's probability among the allowed
    /// classes, as <see cref="Decode"/> gives a reading's confidence. Characters without a class (a space, a hyphen) are
    /// not scored; an empty text is likely only where every piece may be dropped as a fragment. A capitals field is also
    /// tried in small letters (a writer who wrote them), the likelier kept. 0 when no cut of the line gives the text.
    /// </summary>
    private double SegmentationProbability(FieldSegmentation segmentation, ScoredCandidates scored, ClassMask mask, string text)
    {
        double probability = ForcedProbability(segmentation, scored, mask, text, ignoreCase: false);
        return mask.SmallLetters is { } small ? Math.Max(probability, ForcedProbability(segmentation, scored, small, text, ignoreCase: true)) : probability;
    }

    /// <summary>
    /// <see cref="SegmentationProbability(FieldSegmentation, ScoredCandidates, ClassMask, string)"/> of a field's first
    /// line of writing (stages 1 to 3 as <see cref="Read(ReadOnlySpan{byte}, int, int, FieldKind?)"/> runs them).
    /// </summary>
    internal double SegmentationProbability(ReadOnlySpan<byte> grey, int width, int height, FieldKind kind, string text)
    {
        var mask = MaskFor(kind);
        var area = FindFieldArea(grey[..(width * height)].ToArray(), width, height);
        var first = CleanAndFindLines(area, mask.DigitsOnly).First();
        return Recognise(first) is { } scored ? SegmentationProbability(first, scored, mask, text) : 0;
    }

    private double ForcedProbability(FieldSegmentation segmentation, ScoredCandidates scored, ClassMask mask, string text, bool ignoreCase)
    {
        int classes = ClassNames.Count;
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        // Each scored character of the text: the allowed classes that write it.
        var written = text.Select(ch => Enumerable.Range(0, classes).Where(c => mask.Allowed[c] && string.Equals(mask.Labels[c], ch.ToString(), comparison)).ToArray())
            .Where(options => options.Length > 0).ToArray();
        int m = written.Length;
        var candidates = scored.Candidates;
        var pieces = segmentation.Pieces;
        int n = pieces.Count;
        if (n == 0)
            return m == 0 ? 1 : 0;
        float[] scores = MaskedScores(scored, mask);
        double height = segmentation.CharacterHeight;
        double cutCost = mask.DigitsOnly ? DigitCutCost : CutCost;

        // best[k, j]: the best score of pieces [0, k) read as the text's first j characters.
        var best = Unreached(n + 1, m + 1);
        var from = new (int Candidate, int Class)[n + 1, m + 1];
        var (byEnd, fragment) = Lattice(candidates, n, height);
        for (int k = 1; k <= n; k++)
        {
            for (int j = 0; fragment[k - 1] && j <= m; j++)
            {
                if (best[k - 1, j] - FragmentDropCost > best[k, j])
                    (best[k, j], from[k, j]) = (best[k - 1, j] - FragmentDropCost, (-1, -1));
            }

            if (!byEnd.TryGetValue(k - 1, out var ending))
                continue;
            foreach (var (candidate, index) in ending)
            {
                double cost = ShapePenalty(candidate, height)
                    + (candidate.First > 0 ? BoundaryCost(pieces[candidate.First - 1], pieces[candidate.First], height, cutCost) : 0);
                var row = scores.AsSpan(index * classes, classes);
                for (int j = 1; j <= m; j++)
                {
                    double before = best[candidate.First, j - 1];
                    if (double.IsNegativeInfinity(before))
                        continue;
                    foreach (int cls in written[j - 1])
                    {
                        double value = before + Math.Log(row[cls] + LogProbabilityFloor) - cost;
                        if (value > best[k, j])
                            (best[k, j], from[k, j]) = (value, (index, cls));
                    }
                }
            }
        }

        // As the decoder does, trailing pieces that no chain of candidates reaches (no ink after cleaning) are bridged.
        var reached = new bool[n + 1];
        reached[0] = true;
        for (int k = 1; k <= n; k++)
            reached[k] = (fragment[k - 1] && reached[k - 1]) || (byEnd.TryGetValue(k - 1, out var ending) && ending.Any(e => reached[e.Candidate.First]));
        int end = Array.LastIndexOf(reached, true);
        // A line no chain of candidates covers at all gives no text, not even an empty one, any support.
        if (end == 0 || double.IsNegativeInfinity(best[end, m]))
            return 0;
        double probability = 1;
        for (int j = m; end > 0;)
        {
            var (index, cls) = from[end, j];
            if (index < 0)
            {
                end--;
                continue;
            }

            var row = scores.AsSpan(index * classes, classes);
            double allowed = AllowedSum(row, mask);
            probability *= allowed > 0 ? row[cls] / allowed : 0;
            end = candidates[index].First;
            j--;
        }

        return probability;
    }
}
