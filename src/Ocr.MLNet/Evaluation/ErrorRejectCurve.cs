namespace Ocr.MLNet.Evaluation;

/// <summary>One operating point of an error–reject curve: accept every field read at <see cref="Threshold"/> or more.</summary>
/// <param name="Threshold">The least confidence accepted.</param>
/// <param name="Accepted">How many fields that accepts.</param>
/// <param name="Errors">How many of the accepted fields are wrong.</param>
/// <param name="Total">How many fields there are in all.</param>
internal sealed record ErrorRejectPoint(double Threshold, int Accepted, int Errors, int Total)
{
    /// <summary>The share of all fields accepted (the rest go to a person).</summary>
    public double AcceptedShare => Total == 0 ? 0 : (double)Accepted / Total;

    /// <summary>The share of the accepted fields that are wrong (0 when none is accepted).</summary>
    public double Error => Accepted == 0 ? 0 : (double)Errors / Accepted;
}

/// <summary>
/// The error–reject curve of a reader on labelled fields: sorted by confidence, most confident first, each distinct
/// confidence is a threshold that accepts the fields read at it or more; the curve gives, for each, the share of fields
/// accepted and the error among them. What a bank keys by hand is what the reader is unsure of, so the figure that
/// matters is how many fields can be accepted unread at a fixed error (<see cref="HighestCoverageAt"/>). It knows only
/// (confidence, correct) pairs, so any recognizer's readings can be scored with it.
/// </summary>
/// <example>
/// <code>
/// var curve = ErrorRejectCurve.Compute(result.Fields.Select(f => ((double)(f.Reading?.Confidence ?? 0), f.Exact)));
/// if (curve.HighestCoverageAt(0.01) is { } point)
///     Console.WriteLine($"accepts {point.Accepted} of {point.Total} at confidence ≥ {point.Threshold:F3} with {point.Error:P1} field error");
/// </code>
/// </example>
internal sealed class ErrorRejectCurve
{
    /// <summary>Added to an error bound when comparing, so 1 error in 100 fields counts as within 1 %.</summary>
    private const double Tolerance = 1e-12;

    private ErrorRejectCurve(IReadOnlyList<ErrorRejectPoint> points, IReadOnlyList<(double Confidence, bool Correct)> sorted)
    {
        Points = points;
        Fields = sorted;
    }

    /// <summary>One point per distinct confidence, highest threshold (fewest fields accepted) first; the last accepts every field.</summary>
    public IReadOnlyList<ErrorRejectPoint> Points { get; }

    /// <summary>The fields, most confident first (ties in their input order).</summary>
    public IReadOnlyList<(double Confidence, bool Correct)> Fields { get; }

    /// <summary>How many fields the curve was computed on.</summary>
    public int Total => Fields.Count;

    /// <summary>Computes the curve. Fields of equal confidence are accepted or rejected together (a threshold cannot split them).</summary>
    /// <param name="fields">Each field's confidence (any real number; a reader's are in [0, 1]) and whether it was read right.</param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">There are no fields, or a confidence is NaN (the message gives its position).</exception>
    /// <example>
    /// <code>
    /// var curve = ErrorRejectCurve.Compute([(0.9, true), (0.8, false), (0.8, true), (0.3, false)]);
    /// // thresholds 0.9, 0.8, 0.3: accepts 1, 3, 4 fields with 0, 1, 2 errors
    /// </code>
    /// </example>
    public static ErrorRejectCurve Compute(IEnumerable<(double Confidence, bool Correct)> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var list = fields.ToList();
        if (list.Count == 0)
            throw new ArgumentException("No fields to compute an error–reject curve on: it needs at least one (confidence, correct) pair. Evaluate a set that holds fields.", nameof(fields));
        int nan = list.FindIndex(f => double.IsNaN(f.Confidence));
        if (nan >= 0)
            throw new ArgumentException($"Field {nan} (0-based) has a confidence of NaN: every field needs a number to be ranked by.", nameof(fields));

        // A stable sort: tied fields keep their order, so the table of fields reads the same from run to run.
        var sorted = list.Select((f, i) => (f, i)).OrderByDescending(x => x.f.Confidence).ThenBy(x => x.i).Select(x => x.f).ToArray();
        var points = new List<ErrorRejectPoint>();
        int errors = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            errors += sorted[i].Correct ? 0 : 1;
            // A threshold sits at the last field of each run of equal confidences.
            if (i == sorted.Length - 1 || sorted[i + 1].Confidence != sorted[i].Confidence)
                points.Add(new ErrorRejectPoint(sorted[i].Confidence, i + 1, errors, sorted.Length));
        }

        return new ErrorRejectCurve(points, sorted);
    }

    /// <summary>The threshold that accepts the most fields while their error stays at or under <paramref name="maxError"/>; null when even the most confident fields are wrong more often.</summary>
    /// <param name="maxError">The highest acceptable error among accepted fields, a share (0.01 for 1 %).</param>
    /// <returns>The operating point, or null.</returns>
    /// <example>
    /// <code>
    /// ErrorRejectPoint? atOnePercent = curve.HighestCoverageAt(0.01);
    /// </code>
    /// </example>
    public ErrorRejectPoint? HighestCoverageAt(double maxError)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxError);
        // Not monotonic: a later, lower threshold may bring the error back under the bound, so every point is looked at.
        return Points.LastOrDefault(p => p.Errors <= (maxError * p.Accepted) + Tolerance);
    }

    /// <summary>The highest threshold that accepts at least <paramref name="share"/> of the fields (ties may take it past).</summary>
    /// <param name="share">The share of fields to accept, in (0, 1].</param>
    /// <returns>The operating point.</returns>
    /// <example>
    /// <code>
    /// ErrorRejectPoint half = curve.AtAcceptedShare(0.5);
    /// </code>
    /// </example>
    public ErrorRejectPoint AtAcceptedShare(double share)
    {
        if (!(share > 0 && share <= 1))
            throw new ArgumentOutOfRangeException(nameof(share), share, "An accepted share is in (0, 1]: 0.1 for 10 %.");
        return Points.First(p => p.Accepted >= (share * Total) - Tolerance);
    }

    /// <summary>The points at accepted shares of 10 %, 20 %, … 100 % (the table of a report).</summary>
    /// <returns>Ten points; neighbours may be the same point where ties span the step.</returns>
    /// <example>
    /// <code>
    /// foreach (var p in curve.AtTenths()) Console.WriteLine($"{p.AcceptedShare:P0} accepted: {p.Error:P2} error");
    /// </code>
    /// </example>
    public IReadOnlyList<ErrorRejectPoint> AtTenths() => Enumerable.Range(1, 10).Select(k => AtAcceptedShare(k / 10.0)).ToArray();

    /// <summary>Draws the curve as a PNG chart (field error against the share of fields accepted, the 1 % and 5 % points marked), written atomically.</summary>
    /// <param name="path">The PNG to write; its folder is created when missing.</param>
    /// <param name="title">The chart's title (what was read, with which reader).</param>
    /// <example>
    /// <code>
    /// curve.SaveChart("report/error-reject.png", "names-dev: error against fields accepted");
    /// </code>
    /// </example>
    public void SaveChart(string path, string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(title);
        ReportCharts.DrawErrorReject(this, title, path);
    }

    /// <summary>Calibration: how many fields were read at <paramref name="minConfidence"/> or more, and how many of them right.</summary>
    /// <param name="minConfidence">The confidence (0.9: how often is a field read at 90 % or more right?).</param>
    /// <returns>The fields at or above it and the right ones among them (0 and 0 when there are none).</returns>
    /// <example>
    /// <code>
    /// var (read, right) = curve.RightAtOrAbove(0.9);
    /// </code>
    /// </example>
    public (int Fields, int Right) RightAtOrAbove(double minConfidence)
    {
        var at = Fields.Where(f => f.Confidence >= minConfidence).ToArray();
        return (at.Length, at.Count(f => f.Correct));
    }
}
