using Ocr.MLNet.Fields;

namespace Ocr.MLNet.Tests;

/// <summary>The crossbar test behind <see cref="FieldReaderOptions.CrossedSevens"/>, on drawn 32×32 characters.</summary>
[TestFixture]
public sealed class SevenStrokeTests
{
    [Test]
    public void A_crossed_seven_has_a_crossbar()
    {
        var pixels = new float[1024];
        Line(pixels, 8, 4, 24, 4);    // top bar
        Line(pixels, 24, 4, 12, 28);  // stem
        Line(pixels, 11, 16, 25, 16); // the bar through the stem
        Assert.That(SevenStroke.HasCrossbar(pixels), Is.True);
    }

    [Test]
    public void A_one_with_a_long_up_stroke_and_an_uncrossed_seven_have_none()
    {
        var one = new float[1024];
        Line(one, 18, 4, 18, 28);  // stem
        Line(one, 11, 12, 18, 4);  // the long up-stroke
        var seven = new float[1024];
        Line(seven, 8, 4, 24, 4);
        Line(seven, 24, 4, 12, 28);
        Assert.Multiple(() =>
        {
            Assert.That(SevenStroke.HasCrossbar(one), Is.False);
            Assert.That(SevenStroke.HasCrossbar(seven), Is.False);
            Assert.That(SevenStroke.HasCrossbar(new float[1024]), Is.False, "a blank");
        });
    }

    [Test]
    public void Crossed_sevens_are_off_unless_asked_for() => Assert.That(new FieldReaderOptions().CrossedSevens, Is.False);

    /// <summary>A two-pixel-wide line of full ink from (x0, y0) to (x1, y1).</summary>
    private static void Line(float[] pixels, int x0, int y0, int x1, int y1)
    {
        int steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (int i = 0; i <= steps; i++)
        {
            int x = x0 + (int)Math.Round((double)(x1 - x0) * i / steps), y = y0 + (int)Math.Round((double)(y1 - y0) * i / steps);
            pixels[(y * 32) + x] = 1f;
            pixels[(y * 32) + Math.Min(31, x + 1)] = 1f;
        }
    }
}
