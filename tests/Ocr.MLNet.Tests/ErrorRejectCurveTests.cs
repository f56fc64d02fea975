using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Tests;

/// <summary>The error–reject curve on hand-made (confidence, correct) lists: thresholds, ties, the routing points and calibration.</summary>
[TestFixture]
public sealed class ErrorRejectCurveTests
{
    [Test]
    public void Each_distinct_confidence_is_a_threshold_and_tied_fields_are_accepted_together()
    {
        var curve = ErrorRejectCurve.Compute([(0.3, false), (0.8, false), (0.9, true), (0.8, true)]);

        Assert.That(curve.Points, Is.EqualTo(new[]
        {
            new ErrorRejectPoint(0.9, 1, 0, 4),
            new ErrorRejectPoint(0.8, 3, 1, 4),
            new ErrorRejectPoint(0.3, 4, 2, 4),
        }));
        Assert.Multiple(() =>
        {
            Assert.That(curve.Points[1].AcceptedShare, Is.EqualTo(0.75));
            Assert.That(curve.Points[1].Error, Is.EqualTo(1 / 3.0));
            Assert.That(curve.HighestCoverageAt(0.01), Is.EqualTo(curve.Points[0]));
            Assert.That(curve.HighestCoverageAt(0.34), Is.EqualTo(curve.Points[1]));
            Assert.That(curve.HighestCoverageAt(0.5), Is.EqualTo(curve.Points[2]), "2 errors in 4 is exactly 50 %");
            Assert.That(curve.AtAcceptedShare(0.25), Is.EqualTo(curve.Points[0]));
            Assert.That(curve.AtAcceptedShare(0.5), Is.EqualTo(curve.Points[1]), "the tie takes 50 % past to 75 %");
            Assert.That(curve.AtTenths().Select(p => p.Accepted), Is.EqualTo(new[] { 1, 1, 3, 3, 3, 3, 3, 4, 4, 4 }));
            Assert.That(curve.RightAtOrAbove(0.8), Is.EqualTo((3, 2)));
            Assert.That(curve.RightAtOrAbove(0.95), Is.EqualTo((0, 0)));
        });
    }

    [Test]
    public void One_error_in_a_hundred_is_within_one_percent()
    {
        var fields = Enumerable.Range(0, 100).Select(i => (Confidence: 1 - (i / 1000.0), Correct: i != 0)).Append((0.01, false));

        var point = ErrorRejectCurve.Compute(fields).HighestCoverageAt(0.01);

        Assert.That(point, Is.EqualTo(new ErrorRejectPoint(1 - (99 / 1000.0), 100, 1, 101)));
    }

    [Test]
    public void The_widest_coverage_is_found_past_a_bad_start()
    {
        // The most confident field is wrong: the error falls as right fields are added, so the last threshold is the widest.
        var curve = ErrorRejectCurve.Compute([(0.9, false), (0.8, true), (0.7, true), (0.6, true)]);

        Assert.That(curve.HighestCoverageAt(0.25), Is.EqualTo(new ErrorRejectPoint(0.6, 4, 1, 4)));
        Assert.That(curve.HighestCoverageAt(0.2), Is.Null);
    }

    [Test]
    public void All_correct_accepts_every_field_at_no_error()
    {
        var curve = ErrorRejectCurve.Compute([(0.5, true), (0.2, true), (0.5, true)]);

        Assert.That(curve.Points, Is.EqualTo(new[] { new ErrorRejectPoint(0.5, 2, 0, 3), new ErrorRejectPoint(0.2, 3, 0, 3) }));
        Assert.That(curve.HighestCoverageAt(0), Is.EqualTo(curve.Points[^1]));
        Assert.That(curve.RightAtOrAbove(0.5), Is.EqualTo((2, 2)));
    }

    [Test]
    public void None_correct_has_no_threshold_within_any_error_below_all()
    {
        var curve = ErrorRejectCurve.Compute([(0.7, false), (0.1, false)]);

        Assert.That(curve.Points.Select(p => p.Error), Is.EqualTo(new[] { 1.0, 1.0 }));
        Assert.That(curve.HighestCoverageAt(0.05), Is.Null);
        Assert.That(curve.HighestCoverageAt(1), Is.EqualTo(new ErrorRejectPoint(0.1, 2, 2, 2)));
    }

    [Test]
    public void Empty_input_and_a_NaN_confidence_are_refused_saying_why()
    {
        var empty = Assert.Throws<ArgumentException>(() => ErrorRejectCurve.Compute([]));
        Assert.That(empty!.Message, Does.Contain("No fields").And.Contain("at least one"));
        var nan = Assert.Throws<ArgumentException>(() => ErrorRejectCurve.Compute([(0.5, true), (double.NaN, false)]));
        Assert.That(nan!.Message, Does.Contain("Field 1").And.Contain("NaN"));
        var curve = ErrorRejectCurve.Compute([(0.5, true)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => curve.AtAcceptedShare(0));
    }

    [Test]
    public void The_chart_is_written_as_a_png()
    {
        string directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-error-reject");
        try
        {
            string path = Path.Combine(directory, "chart", "error-reject.png");
            ErrorRejectCurve.Compute([(0.9, true), (0.8, false), (0.4, true)]).SaveChart(path, "test");

            var bytes = File.ReadAllBytes(path);
            Assert.That(bytes.Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
            Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1), "no temporary file left beside it");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
