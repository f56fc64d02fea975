using Ocr.MLNet.Fields;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The field segmenter on drawn fields: faint strokes joined to clear ink are kept (hysteresis) while faint marks on
/// their own and a faint pattern over the whole field are not, and a small character reaches the network as large as a
/// training character.
/// </summary>
[TestFixture]
public sealed class FieldSegmenterTests
{
    private const int Width = 240, Height = 64;

    [Test]
    public void A_faint_bar_joined_to_a_dark_stroke_is_kept_and_a_faint_mark_on_its_own_is_not()
    {
        var grey = Paper();
        Fill(grey, 60, 10, 66, 54, 0);      // dark stem of an L
        Fill(grey, 66, 48, 90, 54, 150);    // its faint foot, joined to the stem
        Fill(grey, 130, 10, 136, 54, 0);    // a dark I
        Fill(grey, 170, 20, 176, 50, 150);  // a faint stroke touching nothing

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Scale, Is.EqualTo(1.0), "a 64-pixel field is read at its own size");
        Assert.Multiple(() =>
        {
            Assert.That(segmentation.IsKept((51 * Width) + 80), Is.True, "the faint foot of the L");
            Assert.That(segmentation.IsKept((30 * Width) + 63), Is.True, "the dark stem");
            Assert.That(segmentation.IsKept((30 * Width) + 173), Is.False, "the faint mark on its own");
            Assert.That(segmentation.InkBounds(0, 0), Is.EqualTo((60, 10, 90, 54)), "the L's box takes in its foot");
        });
    }

    [Test]
    public void A_faint_bar_the_threshold_lost_inside_a_letters_box_reaches_the_network()
    {
        // An E whose middle bar is faint and does not touch the stem: neither threshold keeps it, but it lies inside the
        // letter's box, next to its strokes, and is what tells the E from a C.
        var grey = Paper();
        Fill(grey, 60, 10, 66, 54, 0);       // stem
        Fill(grey, 60, 10, 90, 16, 0);       // top bar
        Fill(grey, 60, 48, 90, 54, 0);       // bottom bar
        Fill(grey, 68, 30, 86, 35, 170);     // faint middle bar, two pixels from the stem

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);
        Assert.That(segmentation.IsKept((32 * Width) + 75), Is.False, "the middle bar is not kept ink");
        var prepared = new float[CharacterFormat.PixelCount];
        segmentation.Prepare(0, 0, segmentation.InkBounds(0, 0)!.Value, prepared);

        float middle = Enumerable.Range(14, 6).SelectMany(y => Enumerable.Range(14, 8).Select(x => prepared[(y * 32) + x])).Max();
        Assert.That(middle, Is.GreaterThan(0.1f), "the middle bar in the network's pixels");
    }

    [Test]
    public void On_plain_paper_the_fainter_part_of_a_stroke_reaches_full_ink_strength()
    {
        // A stroke most of whose width is a lighter grey (a thin pen, a faded scan): on plain paper it is ink all the
        // same, as SD19's two-level scans draw every stroke, so it is normalised to full strength, not to 70 %.
        var grey = Paper();
        Fill(grey, 60, 10, 64, 54, 76);
        Fill(grey, 64, 10, 66, 54, 0);
        Fill(grey, 130, 10, 134, 54, 76);
        Fill(grey, 134, 10, 136, 54, 0);

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Ink[(30 * Width) + 61], Is.EqualTo(255), "the lighter part of the first stroke");
        Assert.That(segmentation.Ink[(30 * Width) + 65], Is.EqualTo(255), "its dark part");
    }

    [Test]
    public void A_faint_pattern_over_the_whole_field_is_not_taken_for_ink()
    {
        // A cheque's background: faint diagonal hatching everywhere, touching the strokes at every threshold that sees it.
        var grey = Paper();
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                if ((x + y) % 4 < 2)
                    grey[(y * Width) + x] = FaintBar;
            }
        }

        Fill(grey, 40, 10, 46, 54, 0);
        Fill(grey, 120, 10, 126, 54, 0);

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.IsKept((30 * Width) + 43), Is.True, "a stroke");
        Assert.That(Enumerable.Range(0, Width).Count(x => segmentation.IsKept((32 * Width) + x)), Is.LessThan(20), "ink along a row through the hatching");
    }

    [Test]
    public void Two_touching_zeros_in_a_digit_field_get_a_cut_where_they_meet()
    {
        // Two rings that touch: the column profile dips inside each ring and peaks where they meet, so only the dip of
        // the ink's top marks the boundary.
        var grey = Paper();
        Ring(grey, 100, 32, 13, 3);
        Ring(grey, 125, 32, 13, 3);
        const int meet = 112;

        static int NearestBoundary(FieldSegmentation s) =>
            s.Pieces.Take(s.Pieces.Count - 1).Select(p => p.Right).DefaultIfEmpty(int.MaxValue).MinBy(r => Math.Abs(r - meet));

        var digits = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50, digitsOnly: true);
        var letters = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);
        Assert.That(NearestBoundary(digits), Is.InRange(meet - 3, meet + 3), string.Join(" ", digits.Pieces.Select(p => $"{p.Left}-{p.Right}")));
        Assert.That(Math.Abs(NearestBoundary(letters) - meet), Is.GreaterThan(3), "without digitsOnly the cuts stay at the profile's valleys");
    }

    private static void Ring(byte[] grey, int cx, int cy, int radius, int thickness)
    {
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                double d = Math.Sqrt(((x - cx) * (x - cx)) + ((y - cy) * (y - cy)));
                if (d <= radius && d > radius - thickness)
                    grey[(y * Width) + x] = 0;
            }
        }
    }

    /// <summary>The grey of a faint stroke: an ink strength of 35 on white paper.</summary>
    private const byte FaintBar = 220;

    [Test]
    public void A_small_character_is_prepared_as_large_as_a_training_character()
    {
        // An 18-pixel stroke (a letter written small) in a field read at its own size.
        const int w = 200, h = 64;
        var grey = Enumerable.Repeat((byte)255, w * h).ToArray();
        for (int y = 23; y < 41; y++)
        {
            for (int x = 90; x < 92; x++)
                grey[(y * w) + x] = 0;
        }

        var segmentation = FieldSegmenter.Segment(grey, w, h, maxPieces: 50);
        Assert.That(segmentation.Pieces, Has.Count.EqualTo(1));
        var bounds = segmentation.InkBounds(0, 0)!.Value;
        var pixels = new float[1024];
        segmentation.Prepare(0, 0, bounds, pixels);

        // EMNIST's characters span its 28-pixel box less the 2-pixel frame; a blur as wide as this crop's halo would
        // leave the stroke well short of that.
        var inkRows = Enumerable.Range(0, 32).Where(r => Enumerable.Range(0, 32).Any(c => pixels[(r * 32) + c] > 0.5f)).ToArray();
        // (Prepared at its own 18 pixels, this stroke spans 22 rows and half the ink: 56 against 77.)
        Assert.That(inkRows.Length, Is.GreaterThanOrEqualTo(25), $"rows of strong ink: {inkRows.Length}");
        Assert.That(pixels.Sum(), Is.GreaterThan(70f), "the stroke's ink");
        Assert.That(pixels.Max(), Is.EqualTo(1f).Within(1e-6));
    }

    [Test]
    public void A_field_holding_two_lines_offers_each_the_line_most_marks_sit_on_first()
    {
        // A loose crop: a whole line of five marks (the field above) and, below it, three marks cut by the crop's bottom edge.
        var grey = Paper();
        Bars(grey, 5, left: 20, step: 40, barWidth: 6, top: 4, bottom: 28);
        Bars(grey, 3, left: 40, step: 60, barWidth: 6, top: 40, bottom: Height);

        var lines = FieldSegmenter.SegmentLines(grey, Width, Height, maxPieces: 50).ToList();
        var single = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(lines, Has.Count.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(lines[0].Pieces.Select(p => p.Left), Is.EqualTo(new[] { 20, 60, 100, 140, 180 }), "the whole line first");
            Assert.That(lines[1].Pieces.Select(p => p.Left), Is.EqualTo(new[] { 40, 100, 160 }), "then the line the crop cut");
            Assert.That(single.Pieces.Select(p => p.Left), Is.EqualTo(lines[0].Pieces.Select(p => p.Left)), "Segment keeps the first");
            Assert.That(lines[1].IsKept((50 * Width) + 43), Is.True, "the cut line's ink");
            Assert.That(lines[1].IsKept((15 * Width) + 23), Is.False, "the other line's ink is not in it");
        });
    }

    [Test]
    public void Letters_all_cut_by_a_tight_crop_are_kept_beside_a_whole_dot()
    {
        // Every letter runs off the bottom edge; the only mark inside the field is the dot of an i. The dot must not set
        // the character height (it did: the line of writing became the dot's and every letter was dropped).
        var grey = Paper();
        Bars(grey, 4, left: 30, step: 50, barWidth: 8, top: 10, bottom: Height);
        Fill(grey, 210, 2, 219, 11, 0);

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Pieces.Select(p => p.Left), Is.EqualTo(new[] { 30, 80, 130, 180 }));
        Assert.That(segmentation.CharacterHeight, Is.EqualTo(Height - 10));
    }

    [Test]
    public void A_small_i_in_a_loosely_cropped_field_is_kept_and_specks_in_an_empty_field_are_not()
    {
        // A name cropped with room for the prompts above and below: capitals 40 pixels high in a 200-pixel field, and an
        // i half their height, which is smaller than an eighth of the field (such an i used to be dropped as dust).
        const int w = 240, h = 200;
        var grey = Enumerable.Repeat((byte)255, w * h).ToArray();
        Fill(grey, w, 40, 80, 46, 120, 0);
        Fill(grey, w, 90, 100, 94, 120, 0);
        Fill(grey, w, 140, 80, 146, 120, 0);
        var segmentation = FieldSegmenter.Segment(grey, w, h, maxPieces: 50);
        Assert.That(segmentation.Pieces.Select(p => p.Left), Is.EqualTo(new[] { 40, 90, 140 }));

        var specks = Enumerable.Repeat((byte)255, w * h).ToArray();
        for (int k = 0; k < 3; k++)
            Fill(specks, w, 60 + (k * 50), 50 + (k * 40), 66 + (k * 50), 58 + (k * 40), 0);

        Assert.That(FieldSegmenter.Segment(specks, w, h, maxPieces: 50).Pieces, Is.Empty, "only specks: a blank field");
    }

    [Test]
    public void A_speck_far_from_the_writing_is_dropped_and_a_small_mark_beside_it_is_not()
    {
        var grey = Paper();
        Fill(grey, 20, 10, 26, 54, 0);
        Fill(grey, 50, 10, 56, 54, 0);
        Fill(grey, 72, 36, 88, 52, 0);      // small, but next to the writing (a small letter)
        Fill(grey, 200, 30, 216, 46, 0);    // as small, three character heights away: a speck

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Pieces.Select(p => p.Left), Is.EqualTo(new[] { 20, 50, 72 }));
    }

    [Test]
    public void A_mark_cut_by_the_top_edge_above_the_dot_of_an_i_is_not_a_prompts_colon()
    {
        // The bottom of a printed prompt's letter, cut by the crop, sits above the dot of an i: two small marks one above
        // the other, as a colon's are. Taking them for "PRENOM :" dropped the whole name before them.
        var grey = Paper();
        Bars(grey, 3, left: 20, step: 25, barWidth: 20, top: 15, bottom: 54);
        Fill(grey, 100, 0, 105, 4, 0);      // the cut letter
        Fill(grey, 101, 16, 107, 22, 0);    // the i's dot
        Fill(grey, 102, 26, 108, 54, 0);    // its stem

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Pieces.Select(p => p.Left).Take(3), Is.EqualTo(new[] { 20, 45, 70 }));
    }

    [Test]
    public void A_prompts_colon_whose_lower_dot_the_crop_cuts_still_ends_the_prompt()
    {
        // "PRENOM :" cropped right under its baseline: the colon's lower dot touches the bottom edge, as the name's letters do.
        var grey = Paper();
        Bars(grey, 3, left: 10, step: 25, barWidth: 8, top: 18, bottom: 62);  // the printed prompt's letters
        Fill(grey, 90, 34, 98, 42, 0);                                        // the colon's upper dot
        Fill(grey, 90, 54, 98, Height, 0);                                    // its lower dot, cut
        Bars(grey, 3, left: 120, step: 30, barWidth: 6, top: 14, bottom: Height);

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Pieces.Select(p => p.Left), Is.EqualTo(new[] { 120, 150, 180 }));
    }

    [Test]
    public void Two_fragments_of_a_faint_stroke_one_above_the_other_are_not_a_colon()
    {
        // What survives of a faint, broken letter: two small marks of different widths, one over the other. Taken for a
        // prompt's colon, they dropped the two letters before them and the field read blank.
        var grey = Paper();
        Bars(grey, 2, left: 20, step: 25, barWidth: 8, top: 14, bottom: 40);
        Fill(grey, 100, 22, 104, 26, 0);
        Fill(grey, 100, 28, 102, 32, 0);
        Bars(grey, 2, left: 130, step: 25, barWidth: 8, top: 14, bottom: 40);

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Pieces.Select(p => p.Left).Take(2), Is.EqualTo(new[] { 20, 45 }));
    }

    [Test]
    public void A_thick_hyphen_in_the_middle_of_the_line_is_no_character()
    {
        // JEAN-MICHEL: a hyphen a third of a character high, thicker than a dash, read as a C between the names.
        var grey = Paper();
        Bars(grey, 2, left: 20, step: 30, barWidth: 6, top: 10, bottom: 54);
        Fill(grey, 80, 24, 110, 40, 0);
        Bars(grey, 2, left: 130, step: 30, barWidth: 6, top: 10, bottom: 54);

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.Pieces.Select(p => p.Left), Is.EqualTo(new[] { 20, 50, 130, 160 }));
    }

    [Test]
    public void Letters_all_cut_by_a_tight_crop_are_kept_beside_a_whole_hyphen()
    {
        var grey = Paper();
        Fill(grey, 40, 10, 46, Height, 0);
        Fill(grey, 70, 10, 76, Height, 0);
        Fill(grey, 95, 30, 115, 36, 0);     // a hyphen, the one mark the crop left whole
        Fill(grey, 130, 10, 136, Height, 0);
        Fill(grey, 160, 10, 166, Height, 0);

        var segmentation = FieldSegmenter.Segment(grey, Width, Height, maxPieces: 50);

        Assert.That(segmentation.CharacterHeight, Is.EqualTo(Height - 10));
        Assert.That(segmentation.Pieces.Select(p => p.Left), Is.EqualTo(new[] { 40, 70, 130, 160 }), "the hyphen is a dash, not a character");
    }

    [Test]
    public void Another_line_with_more_marks_than_a_field_may_have_is_not_offered_and_does_not_fail_the_field()
    {
        var grey = Paper();
        Bars(grey, 4, left: 20, step: 50, barWidth: 6, top: 4, bottom: 30);
        Bars(grey, 7, left: 10, step: 30, barWidth: 6, top: 42, bottom: Height);

        var lines = FieldSegmenter.SegmentLines(grey, Width, Height, maxPieces: 5).ToList();

        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0].Pieces.Select(p => p.Left), Is.EqualTo(new[] { 20, 70, 120, 170 }));
    }

    [Test]
    public void A_field_with_one_line_of_writing_offers_one_line()
    {
        var grey = Paper();
        Bars(grey, 4, left: 30, step: 50, barWidth: 6, top: 12, bottom: 52);

        Assert.That(FieldSegmenter.SegmentLines(grey, Width, Height, maxPieces: 50).ToList(), Has.Count.EqualTo(1));
    }

    private static byte[] Paper() => Enumerable.Repeat((byte)255, Width * Height).ToArray();

    private static void Fill(byte[] grey, int left, int top, int right, int bottom, byte value) =>
        Fill(grey, Width, left, top, right, bottom, value);

    private static void Fill(byte[] grey, int width, int left, int top, int right, int bottom, byte value)
    {
        for (int y = top; y < bottom; y++)
        {
            for (int x = left; x < right; x++)
                grey[(y * width) + x] = value;
        }
    }

    /// <summary>Draws <paramref name="count"/> black bars <paramref name="barWidth"/> wide, <paramref name="step"/> apart from <paramref name="left"/>, rows <paramref name="top"/> to <paramref name="bottom"/>.</summary>
    private static void Bars(byte[] grey, int count, int left, int step, int barWidth, int top, int bottom)
    {
        for (int k = 0; k < count; k++)
            Fill(grey, left + (k * step), top, left + (k * step) + barWidth, bottom, 0);
    }
}
