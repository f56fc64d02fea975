using Microsoft.ML;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Tests;

/// <summary><c>mlContext.Data.AddContinentalDigits</c>: flagged copies of ones, crossed copies of sevens, on drawn digits.</summary>
[TestFixture]
public sealed class ContinentalDigitsTests
{
    /// <summary>An American one: a bare stem, 3 pixels wide, over the content's full height, ink 1 on 0.</summary>
    private static float[] One()
    {
        var pixels = new float[1024];
        Line(pixels, 16, 2, 16, 29);
        return pixels;
    }

    /// <summary>An American seven: a top bar and a slanted stem, no crossbar.</summary>
    private static float[] Seven()
    {
        var pixels = new float[1024];
        Line(pixels, 8, 3, 23, 3);
        Line(pixels, 23, 3, 12, 29);
        return pixels;
    }

    /// <summary>A three-pixel-wide line of full ink from (x0, y0) to (x1, y1).</summary>
    private static void Line(float[] pixels, int x0, int y0, int x1, int y1)
    {
        int steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (int i = 0; i <= steps; i++)
        {
            int x = x0 + (int)Math.Round((double)(x1 - x0) * i / steps), y = y0 + (int)Math.Round((double)(y1 - y0) * i / steps);
            for (int dx = -1; dx <= 1; dx++)
                pixels[(y * 32) + Math.Clamp(x + dx, 2, 29)] = 1f;
        }
    }

    private static IDataView View(MLContext mlContext, params (string Label, float[] Pixels)[] rows) =>
        mlContext.Data.LoadFromEnumerable(rows.Select(r => new GlyphRow { Label = r.Label, Pixels = r.Pixels }).ToArray());

    private static (int Left, int Top, int Right, int Bottom, double Mass) Ink(float[] pixels)
    {
        int left = 32, top = 32, right = -1, bottom = -1;
        double mass = 0;
        for (int y = 0; y < 32; y++)
        {
            for (int x = 0; x < 32; x++)
            {
                float v = pixels[(y * 32) + x];
                mass += v;
                if (v > 0)
                    (left, top, right, bottom) = (Math.Min(left, x), Math.Min(top, y), Math.Max(right, x), Math.Max(bottom, y));
            }
        }

        return (left, top, right, bottom, mass);
    }

    [Test]
    public void Ones_and_sevens_get_a_continental_copy_after_the_rows_which_stay_as_they_were()
    {
        var mlContext = new MLContext(1);
        var three = new float[1024];
        Line(three, 10, 5, 20, 5);
        var input = View(mlContext, ("1", One()), ("3", three), ("7", Seven()), ("1", new float[1024]));
        var rows = DrawnGlyphs.ReadAll(mlContext.Data.AddContinentalDigits(input));

        // The blank one has no stem to draw on: no copy, not a copy without the stroke.
        Assert.That(rows.Select(r => r.Label), Is.EqualTo(new[] { "1", "3", "7", "1", "1", "7" }));
        Assert.That(rows[0].Pixels, Is.EqualTo(One()));
        Assert.That(rows[1].Pixels, Is.EqualTo(three));
        Assert.That(rows[2].Pixels, Is.EqualTo(Seven()));
        Assert.That(rows[3].Pixels, Is.All.Zero);
        foreach (var (_, pixels) in rows.Skip(4))
            DrawnGlyphs.AssertEmnistLike(pixels, "a continental copy", centroidTolerance: 8, minimumSpan: 26);
    }

    [Test]
    public void A_flagged_one_has_an_up_stroke_to_the_left_of_its_top_and_stays_centred()
    {
        var one = One();
        var flagged = (float[])one.Clone();
        Assert.That(ContinentalDigits.AddFlag(flagged, new Random(3)), Is.True);
        var before = Ink(one);
        var after = Ink(flagged);
        Assert.Multiple(() =>
        {
            Assert.That(after.Top, Is.EqualTo(before.Top), "the stroke starts at the top");
            Assert.That(after.Bottom, Is.EqualTo(before.Bottom));
            Assert.That(after.Right - after.Left, Is.GreaterThanOrEqualTo(3 * (before.Right - before.Left)), "the stroke reaches well left of the stem");
            Assert.That((after.Left + after.Right) / 2.0, Is.EqualTo((before.Left + before.Right) / 2.0).Within(1), "centred again");
            Assert.That(after.Mass, Is.GreaterThan(before.Mass + 10));
            Assert.That(SevenStroke.HasCrossbar(flagged), Is.False, "an up-stroke is not a seven's bar");
        });

        // The stroke is at the top left: the upper half holds most of the ink left of the stem (found at the bottom).
        int stem = Enumerable.Range(0, 32).Where(x => flagged[(28 * 32) + x] > 0.5f).Min();
        double UpperLeft(float[] p, int fromRow, int toRow) =>
            Enumerable.Range(fromRow, toRow - fromRow).Sum(y => Enumerable.Range(0, stem - 1).Sum(x => p[(y * 32) + x]));
        double upper = UpperLeft(flagged, 2, 16), lower = UpperLeft(flagged, 16, 30);
        Assert.That(upper, Is.GreaterThan(5).And.GreaterThan(2 * lower));
    }

    [Test]
    public void A_crossed_seven_has_the_bar_the_field_reader_looks_for()
    {
        var seven = Seven();
        Assert.That(SevenStroke.HasCrossbar(seven), Is.False);
        for (int seed = 0; seed < 20; seed++)
        {
            var crossed = (float[])seven.Clone();
            Assert.That(ContinentalDigits.AddCrossbar(crossed, new Random(seed)), Is.True);
            Assert.That(SevenStroke.HasCrossbar(crossed), Is.True, $"seed {seed}");
            DrawnGlyphs.AssertEmnistLike(crossed, $"seed {seed}", centroidTolerance: 8, minimumSpan: 26);
        }
    }

    [Test]
    public void The_seed_decides_the_strokes()
    {
        var mlContext = new MLContext(1);
        var input = View(mlContext, ("1", One()), ("7", Seven()));
        float[] Copy(int seed, int row) =>
            DrawnGlyphs.ReadAll(mlContext.Data.AddContinentalDigits(input, new ContinentalDigitOptions { Seed = seed }))[row].Pixels;
        float[] again = Copy(5, 2);
        Assert.That(Copy(5, 2), Is.EqualTo(again));
        Assert.That(Copy(5, 2), Is.Not.EqualTo(Copy(6, 2)));
        Assert.That(Copy(5, 3), Is.Not.EqualTo(Copy(6, 3)));
    }

    [Test]
    public void Options_choose_the_copies_and_their_labels()
    {
        var mlContext = new MLContext(1);
        var input = View(mlContext, ("one", One()), ("seven", Seven()), ("1", One()));
        var onlyOnes = DrawnGlyphs.ReadAll(mlContext.Data.AddContinentalDigits(input,
            new ContinentalDigitOptions { OneLabel = "one", SevenLabel = "seven", CrossedSevens = false }));
        Assert.That(onlyOnes.Select(r => r.Label), Is.EqualTo(new[] { "one", "seven", "1", "one" }));
    }

    [Test]
    public void Bad_options_and_columns_get_clear_errors()
    {
        var mlContext = new MLContext(1);
        var input = View(mlContext, ("1", One()));
        var options = new ContinentalDigitOptions { OneLabel = "", SevenLabel = "" };
        Assert.That(() => mlContext.Data.AddContinentalDigits(input, options),
            Throws.ArgumentException.With.Message.Contain("OneLabel = ''").And.Message.Contain("SevenLabel = ''"));
        Assert.That(() => new ContinentalDigitOptions { SevenLabel = "1" }.Validate(),
            Throws.ArgumentException.With.Message.Contain("must differ from OneLabel"));
        Assert.That(() => mlContext.Data.AddContinentalDigits(input, pixelsColumnName: "Image"),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("Could not find pixels column 'Image'"));
    }
}
