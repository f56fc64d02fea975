using OpenCvSharp;
using Ocr.MLNet.Preparation;
using static Ocr.MLNet.Fields.FieldReaderThresholds;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Fields;

/// <summary>
/// A piece of a field's ink, the unit of over-segmentation: the pixels of some connected components that lie in the
/// columns [<see cref="Left"/>, <see cref="Right"/>). A character is one piece or a run of neighbouring pieces.
/// </summary>
/// <param name="Components">Component labels of the pieces' ink (in <see cref="FieldSegmentation.Labels"/>).</param>
/// <param name="Left">First column.</param>
/// <param name="Right">One past the last column.</param>
/// <param name="Group">The group of overlapping components it was cut from; pieces of one group touch.</param>
internal sealed record InkPiece(int[] Components, int Left, int Right, int Group);

/// <summary>A field's ink, cleaned and cut into pieces, in working pixels (the field scaled by <see cref="Scale"/>).</summary>
internal sealed class FieldSegmentation
{
    public required int Width { get; init; }

    public required int Height { get; init; }

    /// <summary>Working pixels per source pixel.</summary>
    public required double Scale { get; init; }

    /// <summary>
    /// Normalised ink strength per working pixel (0 = paper, 255 = full ink), row-major, kept by the threshold or not: the
    /// line's kept ink is where <see cref="IsKept"/>.
    /// </summary>
    public required byte[] Ink { get; init; }

    /// <summary>Whether the field is on plain paper, where faint ink beside the kept strokes is writing, not a background pattern.</summary>
    public bool PlainPaper { get; init; }

    /// <summary>Connected-component label per working pixel, shared by the field's lines; 0 = no ink.</summary>
    public required int[] Labels { get; init; }

    /// <summary>Per component label, whether it is this line's kept ink (label 0, no ink, never is).</summary>
    public required bool[] KeptComponents { get; init; }

    /// <summary>The pieces, left to right.</summary>
    public required IReadOnlyList<InkPiece> Pieces { get; init; }

    /// <summary>The typical height of a character, in working pixels.</summary>
    public required double CharacterHeight { get; init; }

    public static FieldSegmentation Blank(int width, int height, double scale) => new()
    {
        Width = width, Height = height, Scale = scale, Ink = [], Labels = [], KeptComponents = [], Pieces = [], CharacterHeight = height,
    };

    /// <summary>The source-pixel box of the ink of pieces [<paramref name="first"/>, <paramref name="last"/>], or null when they hold none.</summary>
    public (int Left, int Top, int Right, int Bottom)? InkBounds(int first, int last)
    {
        int top = int.MaxValue, bottom = -1, left = int.MaxValue, right = -1;
        for (int k = first; k <= last; k++)
        {
            var piece = Pieces[k];
            for (int y = 0; y < Height; y++)
            {
                for (int x = piece.Left; x < piece.Right; x++)
                {
                    if (Belongs(piece, Labels[(y * Width) + x]))
                    {
                        top = Math.Min(top, y);
                        bottom = Math.Max(bottom, y);
                        left = Math.Min(left, x);
                        right = Math.Max(right, x);
                    }
                }
            }
        }

        return bottom < 0 ? null : (left, top, right + 1, bottom + 1);
    }

    /// <summary>
    /// This line's kept ink cropped to its bounds, with its box in the field's pixels shifted by
    /// (<paramref name="offsetX"/>, <paramref name="offsetY"/>); null when the line holds no ink.
    /// </summary>
    public CleanedLine? ToCleanedLine(int offsetX, int offsetY)
    {
        if (Pieces.Count == 0 || InkBounds(0, Pieces.Count - 1) is not { } bounds)
            return null;
        int w = bounds.Right - bounds.Left, h = bounds.Bottom - bounds.Top;
        var ink = new byte[w * h];
        for (int y = 0; y < h; y++)
        {
            int row = (bounds.Top + y) * Width;
            for (int x = 0; x < w; x++)
            {
                // Only this line's kept components: the rest of Ink is other lines, background and faint grain.
                if (IsKept(row + bounds.Left + x))
                    ink[(y * w) + x] = Ink[row + bounds.Left + x];
            }
        }

        // Rounded outwards, as the reader's character boxes are, so the box holds all of the line's ink.
        int left = (int)Math.Floor(bounds.Left / Scale), top = (int)Math.Floor(bounds.Top / Scale);
        var box = new FieldBox(offsetX + left, offsetY + top,
            Math.Max(1, (int)Math.Ceiling(bounds.Right / Scale) - left), Math.Max(1, (int)Math.Ceiling(bounds.Bottom / Scale) - top));
        return new CleanedLine(ink, w, h, box, Scale, CharacterHeight);
    }

    /// <summary>
    /// Writes the network's input for the character made of pieces [<paramref name="first"/>, <paramref name="last"/>]:
    /// their ink alone, through the training preprocessing (<see cref="CharacterImageConverter"/>).
    /// </summary>
    public void Prepare(int first, int last, (int Left, int Top, int Right, int Bottom) bounds, Span<float> destination)
    {
        int w = bounds.Right - bounds.Left, h = bounds.Bottom - bounds.Top;
        var crop = new byte[w * h];
        for (int k = first; k <= last; k++)
        {
            var piece = Pieces[k];
            int from = Math.Max(piece.Left, bounds.Left), to = Math.Min(piece.Right, bounds.Right);
            for (int y = 0; y < h; y++)
            {
                int row = (bounds.Top + y) * Width;
                for (int x = from; x < to; x++)
                {
                    if (Belongs(piece, Labels[row + x]))
                        crop[(y * w) + x - bounds.Left] = Ink[row + x];
                }
            }
        }

        AddFaintInk(crop, bounds);

        // SD19's characters, which EMNIST's preparation was made for, are 60–100 pixels high: a smaller crop is scaled up
        // to that size first, or the preparation's blur (σ = 1 source pixel) would thin and shrink it far more than it
        // does a training image.
        int longer = Math.Max(w, h);
        if (longer < PreparedSide)
        {
            double factor = (double)PreparedSide / longer;
            int sw = Math.Max(1, (int)Math.Round(w * factor)), sh = Math.Max(1, (int)Math.Round(h * factor));
            using var small = Mat.FromPixelData(h, w, MatType.CV_8UC1, crop);
            using var large = new Mat();
            Cv2.Resize(small, large, new Size(sw, sh), 0, 0, InterpolationFlags.Linear);
            large.GetArray(out crop);
            (w, h) = (sw, sh);
        }

        CharacterImageConverter.ToEmnistPixels(crop, w, h, InkPolarity.LightOnDark, destination);
    }

    /// <summary>
    /// Adds to a candidate's crop the faint ink next to its strokes, on plain paper: thin bars of an E or an L that the
    /// threshold lost, or kept only in part, which the network needs to tell an E from a C. Only within
    /// <see cref="FaintInkReach"/> character heights of the candidate's own ink and at least <see cref="FaintInkFloor"/>
    /// strong, so neighbours and the paper's grain stay out.
    /// </summary>
    private void AddFaintInk(byte[] crop, (int Left, int Top, int Right, int Bottom) bounds)
    {
        if (!PlainPaper)
            return;
        int w = bounds.Right - bounds.Left, h = bounds.Bottom - bounds.Top;
        // Most candidates have no faint ink beside them at all: then the dilation would add nothing.
        if (!HasFaintInk(crop, bounds))
            return;
        int reach = Math.Max(1, (int)Math.Round(FaintInkReach * CharacterHeight));
        using var own = Mat.FromPixelData(h, w, MatType.CV_8UC1, crop);
        using var near = new Mat();
        using (var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size((2 * reach) + 1, (2 * reach) + 1)))
            Cv2.Dilate(own, near, kernel);
        near.GetArray(out byte[] nearby);
        for (int y = 0; y < h; y++)
        {
            int row = ((bounds.Top + y) * Width) + bounds.Left;
            for (int x = 0; x < w; x++)
            {
                int i = (y * w) + x;
                if (crop[i] == 0 && nearby[i] != 0 && !IsKept(row + x) && Ink[row + x] >= FaintInkFloor)
                    crop[i] = Ink[row + x];
            }
        }
    }

    /// <summary>Whether the box holds a pixel that <see cref="AddFaintInk"/> could add: faint, not kept by the threshold, not the candidate's.</summary>
    private bool HasFaintInk(byte[] crop, (int Left, int Top, int Right, int Bottom) bounds)
    {
        int w = bounds.Right - bounds.Left;
        for (int y = bounds.Top; y < bounds.Bottom; y++)
        {
            int row = (y * Width) + bounds.Left, at = (y - bounds.Top) * w;
            for (int x = 0; x < w; x++)
            {
                if (crop[at + x] == 0 && !IsKept(row + x) && Ink[row + x] >= FaintInkFloor)
                    return true;
            }
        }

        return false;
    }

    /// <summary>Whether the working pixel is this line's kept ink.</summary>
    public bool IsKept(int pixel) => KeptComponents[Labels[pixel]];

    private static bool Belongs(InkPiece piece, int label) => label != 0 && Array.IndexOf(piece.Components, label) >= 0;
}

/// <summary>
/// Finds the ink of one field and cuts it into pieces: background removed, Otsu threshold, box borders, guide lines and
/// specks removed, strokes outside the line of writing (printed labels' neighbours, the next field's strokes) dropped,
/// components that overlap in x joined (the dot of an i, broken strokes), and wide blobs cut at projection valleys so
/// that touching characters can be separated by the classifier.
/// </summary>
internal static class FieldSegmenter
{
    /// <summary>Segments one field into ink pieces at candidate cuts, on the line of writing most of its tall marks sit on.</summary>
    /// <param name="grey">The field's grey pixels, row-major.</param>
    /// <param name="width">Its width.</param>
    /// <param name="height">Its height.</param>
    /// <param name="maxPieces">The most pieces a field may have (more is an error).</param>
    /// <param name="digitsOnly">The field holds digits only: joined round digits are also cut where the top of the ink dips.</param>
    public static FieldSegmentation Segment(byte[] grey, int width, int height, int maxPieces, bool digitsOnly = false) =>
        SegmentLines(grey, width, height, maxPieces, digitsOnly).First();

    /// <summary>
    /// Segments one field once per line of writing it may hold: first the line most of its tall marks sit on (what
    /// <see cref="Segment"/> returns), then every other line of at least two tall marks. A field cropped loosely holds a
    /// line of the field above or below it, sometimes complete while its own line is cut by the crop; the reader reads
    /// each and keeps the one the classifier likes best. The field is cleaned once; each line is cut only when the
    /// sequence reaches it, so a reader that stops at the first pays for one.
    /// </summary>
    public static IEnumerable<FieldSegmentation> SegmentLines(byte[] grey, int width, int height, int maxPieces, bool digitsOnly = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        double scale = height < MinWorkingHeight ? Math.Min(MaxUpscale, (double)MinWorkingHeight / height)
            : height > MaxWorkingHeight ? (double)MaxWorkingHeight / height : 1.0;
        int w = Math.Max(1, (int)Math.Round(width * scale)), h = Math.Max(1, (int)Math.Round(height * scale));
        if (width < MinFieldSide || height < MinFieldSide)
            return [FieldSegmentation.Blank(w, h, scale)];

        using var source = Mat.FromPixelData(height, width, MatType.CV_8UC1, grey);
        using var paper = new Mat();
        // Dark ink on light paper from here on.
        if (CharacterImageConverter.IsDarkOnLight(grey, width, height))
            source.CopyTo(paper);
        else
            Cv2.BitwiseNot(source, paper);
        using var scaled = new Mat();
        Cv2.Resize(paper, scaled, new Size(w, h), 0, 0, scale > 1 ? InterpolationFlags.Cubic : InterpolationFlags.Area);

        // Ink strength = how much darker than the local paper: removes shading and smooth background patterns.
        int backgroundSide = (Math.Max(BackgroundWindowMin, h / BackgroundWindowDivisor) | 1);
        using var background = new Mat();
        using (var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(backgroundSide, backgroundSide)))
            Cv2.Dilate(scaled, background, kernel);
        using var ink = new Mat();
        Cv2.Subtract(background, scaled, ink);
        Cv2.MinMaxLoc(ink, out _, out double maxInk);
        if (maxInk < MinContrast)
            return [FieldSegmentation.Blank(w, h, scale)];

        using var binary = new Mat();
        double otsu = Cv2.Threshold(ink, binary, 0, 255, ThresholdTypes.Binary | ThresholdTypes.Otsu);
        if (otsu < MinOtsuThreshold)
        {
            otsu = MinOtsuThreshold;
            Cv2.Threshold(ink, binary, otsu, 255, ThresholdTypes.Binary);
        }

        bool plainPaper = KeepFaintStrokes(ink, binary, otsu);

        RemoveLines(binary, w, h);

        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        int count = Cv2.ConnectedComponentsWithStats(binary, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        var boxes = new List<Blob>();
        for (int i = 1; i < count; i++)
        {
            boxes.Add(new Blob([i], stats.At<int>(i, 0), stats.At<int>(i, 1), stats.At<int>(i, 0) + stats.At<int>(i, 2),
                stats.At<int>(i, 1) + stats.At<int>(i, 3), stats.At<int>(i, 4)));
        }

        // Specks first, by an absolute size, so that noise cannot set the character height.
        double minArea = Math.Max(MinSpeckArea, SpeckAreaPerSquaredHeight * h * h);
        boxes.RemoveAll(b => b.Area < minArea);
        if (boxes.Count == 0)
            return [FieldSegmentation.Blank(w, h, scale)];
        double characterHeight = EstimateCharacterHeight(boxes, h);
        DropPrintedLabel(boxes, characterHeight, w, h);
        // A character is not tiny beside its field or its neighbours: marks this small on their own are dust, not writing
        // (after the prompt's colon, whose dots are this small, has been found). Beside the neighbours too: in a crop that
        // holds the prompts above and below, a small i is smaller than an eighth of the field.
        bool Tiny(Blob b) => b.Height < TinyShareOfField * h && b.Width < TinyShareOfField * h;
        if (boxes.All(Tiny))
            boxes.Clear();
        else
            boxes.RemoveAll(b => Tiny(b) && b.Height < DustHeight * characterHeight);
        if (boxes.Count == 0)
            return [FieldSegmentation.Blank(w, h, scale)];
        characterHeight = EstimateCharacterHeight(boxes, h);
        boxes.RemoveAll(b => b.Area < LeftoverArea * characterHeight * characterHeight && b.Height < LeftoverHeight * characterHeight);

        ink.GetArray(out byte[] inkData);
        labels.GetArray(out int[] labelData);
        var field = new CleanedField(boxes, inkData, labelData, count, w, h, scale, characterHeight, plainPaper);
        return EachLine(field, maxPieces, digitsOnly);
    }

    /// <summary>A field's marks after cleaning, with its ink and component labels, from which each line of writing is cut.</summary>
    private sealed record CleanedField(List<Blob> Boxes, byte[] Ink, int[] Labels, int ComponentCount, int Width, int Height, double Scale,
        double CharacterHeight, bool PlainPaper);

    private static IEnumerable<FieldSegmentation> EachLine(CleanedField field, int maxPieces, bool digitsOnly)
    {
        bool first = true;
        var taken = new List<HashSet<int>>();
        foreach (var line in LinesOfWriting(field.Boxes, field.CharacterHeight, field.Height))
        {
            var onLine = field.Boxes.Where(b => line.Holds(b, field.Height)).ToList();
            var components = onLine.SelectMany(b => b.Components).ToHashSet();
            if (!first && (onLine.Count < MinMarksOnOtherLine || taken.Any(t => t.SetEquals(components))))
                continue;
            taken.Add(components);
            // Only the first line may fail the field for too many marks; another line that has them is not the field's.
            if (SegmentLine(field, onLine, maxPieces, digitsOnly, mayThrow: first) is { } segmented)
            {
                first = false;
                yield return segmented;
            }
        }
    }

    /// <summary>Joins, cleans and cuts the marks of one line of writing into pieces.</summary>
    private static FieldSegmentation? SegmentLine(CleanedField field, List<Blob> boxes, int maxPieces, bool digitsOnly, bool mayThrow)
    {
        var (fieldInk, fieldLabels, w, h, scale, characterHeight) = (field.Ink, field.Labels, field.Width, field.Height, field.Scale, field.CharacterHeight);
        if (boxes.Count == 0)
            return FieldSegmentation.Blank(w, h, scale);
        if (boxes.Count > maxPieces)
        {
            if (!mayThrow)
                return null;
            throw new ArgumentException(
                $"The field holds {boxes.Count} separate marks, more than the {maxPieces} a field of handwriting may have (MaxPieces): "
                + "it looks like a page, a photograph or noise. Crop the image to one field, or read a form page with ReadForm.");
        }

        var groups = JoinOverlapping(boxes);
        // A long flat mark in the line of writing is a dash or an underline fragment, not a character; up to half a
        // character high when it sits in the middle of the line, as a hyphen does (JEAN-MICHEL read JEANCMICHEL).
        var middle = MiddleOfLine(groups, characterHeight);
        groups.RemoveAll(g => g.Width > FlatMarkAspect * g.Height
            && (g.Height < FlatMarkHeight * characterHeight
                || (g.Height < HyphenHeight * characterHeight && (g.Top + g.Bottom) / 2.0 is var centre && centre > middle.From && centre < middle.To)));
        // A small mark on its own is punctuation (the point of an amount, an apostrophe), not a character.
        groups.RemoveAll(g => g.Height < PunctuationHeight * characterHeight && g.Width < PunctuationWidth * characterHeight);
        // A mark well under a character's size, far from the writing, is a speck.
        var specks = groups.Where(g => g.Height < SpeckSize * characterHeight && g.Width < SpeckSize * characterHeight
            && groups.All(o => o == g || Math.Max(o.Left - g.Right, g.Left - o.Right) > SpeckDistance * characterHeight)).ToHashSet();
        groups.RemoveAll(specks.Contains);
        if (groups.Count == 0)
            return FieldSegmentation.Blank(w, h, scale);

        // The field's labels are shared by its lines; each line says which components are its own.
        var kept = new bool[field.ComponentCount];
        foreach (int component in groups.SelectMany(g => g.Components))
            kept[component] = true;

        var inkData = new byte[fieldInk.Length];
        // Normalise ink strength so faint and dark writing look alike to the network. On plain paper (faint strokes were
        // joined) most of the ink counts as full strength, as the pen's strokes do in SD19's two-level scans, so a thin
        // faint bar of an E is not lost beside its stem; on a patterned background less does, so the pattern stays faint.
        double strong = Math.Max(MinContrast, Percentile(fieldInk, fieldLabels, kept, field.PlainPaper ? PlainPaperFullInk : PatternedFullInk));
        for (int i = 0; i < inkData.Length; i++)
            inkData[i] = (byte)Math.Min(255, fieldInk[i] * 255 / strong);

        var pieces = new List<InkPiece>();
        for (int g = 0; g < groups.Count; g++)
            CutGroup(groups[g], g, fieldLabels, w, characterHeight, digitsOnly, pieces);
        if (pieces.Count > maxPieces)
        {
            if (!mayThrow)
                return null;
            throw new ArgumentException(
                $"The field cuts into {pieces.Count} pieces, more than the {maxPieces} a field of handwriting may have (MaxPieces). "
                + "Crop the image to one field.");
        }

        return new FieldSegmentation
        {
            Width = w, Height = h, Scale = scale, Ink = inkData, Labels = fieldLabels, KeptComponents = kept, Pieces = pieces, CharacterHeight = characterHeight,
            PlainPaper = field.PlainPaper,
        };
    }

    /// <summary>The middle half of a line's height: between the median top and bottom of its tall marks, a quarter in from each.</summary>
    private static (double From, double To) MiddleOfLine(List<Blob> marks, double characterHeight)
    {
        var tall = marks.Where(g => g.Height >= TallMarkHeight * characterHeight).ToList();
        if (tall.Count == 0)
            return (0, -1);
        double top = Median(tall.Select(g => g.Top)), bottom = Median(tall.Select(g => g.Bottom));
        return (top + (LineMiddleInset * (bottom - top)), bottom - (LineMiddleInset * (bottom - top)));
    }

    /// <summary>
    /// Hysteresis, as Canny's edge detector does it: ink fainter than the clear-ink threshold (thin bars of an E or an L
    /// that lost contrast in the scan or its compression) is kept where it is connected to clear ink. The faintest of
    /// <see cref="HysteresisFractions"/> that does not grow the ink by more than <see cref="MaxFaintGrowth"/> is used; where
    /// every one does, the faint ink is a textured background (a cheque's pattern) and none is kept.
    /// </summary>
    /// <returns>Whether faint strokes were kept: false on a textured background.</returns>
    private static bool KeepFaintStrokes(Mat ink, Mat binary, double otsu)
    {
        // On the Mats' own memory: copies of a field's mask and labels, made once per fraction, landed on the large-object heap.
        var strong = binary.AsSpan<byte>();
        int before = strong.Length - strong.Count((byte)0);
        using var weak = new Mat();
        using var labels = new Mat();
        foreach (double fraction in HysteresisFractions)
        {
            Cv2.Threshold(ink, weak, fraction * otsu, 255, ThresholdTypes.Binary);
            int count = Cv2.ConnectedComponents(weak, labels, PixelConnectivity.Connectivity8, MatType.CV_32S);
            var weakLabels = labels.AsSpan<int>();
            var anchored = new bool[count];
            for (int i = 0; i < strong.Length; i++)
            {
                if (strong[i] != 0)
                    anchored[weakLabels[i]] = true;
            }

            anchored[0] = false;
            int after = 0;
            for (int i = 0; i < strong.Length; i++)
                after += anchored[weakLabels[i]] ? 1 : 0;
            // Too much growth: this threshold reaches the background; a higher one may still catch the faint strokes.
            if (after > MaxFaintGrowth * before)
                continue;
            for (int i = 0; i < strong.Length; i++)
                strong[i] = anchored[weakLabels[i]] ? (byte)255 : (byte)0;
            return true;
        }

        return false;
    }

    /// <summary>Removes long straight lines: underlines, guide lines, box borders (a vertical one only at the field's sides).</summary>
    private static void RemoveLines(Mat binary, int w, int h)
    {
        int horizontal = Math.Max(MinHorizontalLine, w < WideFieldAspect * h ? (int)(NarrowFieldLineShare * w) : Math.Max(w / WideFieldLineDivisor, WideFieldLineHeights * h));
        using var lines = new Mat();
        using (var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(horizontal, 1)))
            Cv2.MorphologyEx(binary, lines, MorphTypes.Open, kernel);
        using var vertical = new Mat();
        using (var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(1, Math.Max(MinVerticalLine, (int)(VerticalLineShare * h)))))
            Cv2.MorphologyEx(binary, vertical, MorphTypes.Open, kernel);
        // A tall stroke in the middle is a character (1, I, l); only the sides hold borders.
        int side = Math.Max(MinBorderSide, w / BorderSideDivisor);
        if (w > 2 * side)
            vertical[new Rect(side, 0, w - (2 * side), h)].SetTo(Scalar.All(0));
        Cv2.BitwiseOr(lines, vertical, lines);
        using (var grow = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(LineGrowthPixels, LineGrowthPixels)))
            Cv2.Dilate(lines, lines, grow);
        binary.SetTo(Scalar.All(0), lines);
    }

    /// <summary>
    /// The median height of the bigger marks, leaving out those cut by the field's top or bottom edge (the next
    /// field's strokes, a printed line below) when at least two others remain. "Bigger" is measured against every mark, so
    /// that where a tight crop cuts all the letters, the dot of an i or a hyphen left whole does not set the height.
    /// </summary>
    private static double EstimateCharacterHeight(List<Blob> boxes, int h)
    {
        double biggest = boxes.Max(b => b.Area);
        var bigger = boxes.Where(b => b.Area >= BiggerMarkAreaShare * biggest).ToList();
        var inside = bigger.Where(b => b.Top > EdgeMarginPixels && b.Bottom < h - EdgeMarginPixels).ToList();
        var source = inside.Count >= MinWholeMarksForHeight ? inside : bigger;
        double biggestInside = source.Max(b => b.Area);
        var heights = source.Where(b => b.Area >= BiggerMarkAreaShare * biggestInside).Select(b => (double)b.Height).Order().ToArray();
        double median = heights[heights.Length / 2];
        return Math.Clamp(median, MinCharacterHeight, h);
    }

    /// <summary>
    /// A printed prompt ends with a colon ("NOM :", "PRENOM :"): two small round dots one above the other in the left part
    /// of the field. Everything up to the colon is the prompt, not handwriting. (Round: the dashes a cheque's hatching
    /// breaks into are not a colon. The upper dot is whole, not the end of a stroke cut by the field's top edge; the lower
    /// may touch the bottom edge, as a crop that cuts the prompt's line ends right under it.)
    /// </summary>
    private static void DropPrintedLabel(List<Blob> boxes, double characterHeight, int w, int h)
    {
        bool IsDot(Blob b) => b.Height <= ColonDotSize * characterHeight && b.Width <= ColonDotSize * characterHeight
            && b.Area <= ColonDotArea * characterHeight * characterHeight
            && b.Width <= ColonDotAspect * b.Height && b.Height <= ColonDotAspect * b.Width && b.Top > EdgeMarginPixels;
        var dots = boxes.Where(b => IsDot(b) && b.Right < ColonLeftShare * w).ToArray();
        int colonRight = -1;
        foreach (var upper in dots.Where(d => d.Bottom < h - EdgeMarginPixels))
        {
            foreach (var lower in dots)
            {
                int overlap = Math.Min(upper.Right, lower.Right) - Math.Max(upper.Left, lower.Left);
                int gap = lower.Top - upper.Bottom;
                // A printed colon's dots are one glyph drawn twice: as wide as each other (the lower may be cut, so not as high).
                bool alike = Math.Max(upper.Area, lower.Area) <= ColonDotsAreaRatio * Math.Min(upper.Area, lower.Area)
                    && Math.Max(upper.Width, lower.Width) <= ColonDotsWidthRatio * Math.Min(upper.Width, lower.Width);
                if (overlap > 0 && gap > 0 && gap < ColonDotsGap * characterHeight && alike)
                    colonRight = Math.Max(colonRight, Math.Max(upper.Right, lower.Right));
            }
        }

        // Only a prompt has printed characters before its colon.
        if (colonRight > 0 && boxes.Any(b => b.Right < colonRight && !IsDot(b)))
            boxes.RemoveAll(b => b.Left < colonRight);
    }

    /// <summary>
    /// The lines of writing a field may hold. First the line most of its tall marks sit on (the median top and bottom of
    /// those not cut by the field's edge): marks mostly outside it are strokes of the next field or printed text. Then each
    /// band of tall marks, cut ones included, that overlap one another vertically: another line the field's text may be on.
    /// </summary>
    private static IEnumerable<LineBand> LinesOfWriting(List<Blob> boxes, double characterHeight, int h)
    {
        var tall = boxes.Where(b => b.Height >= TallMarkHeight * characterHeight).ToArray();
        var inside = tall.Where(b => b.Top > EdgeMarginPixels && b.Bottom < h - EdgeMarginPixels).ToArray();
        var main = inside.Length > 0 ? inside : tall;
        if (main.Length == 0)
        {
            yield return LineBand.Everything;
            yield break;
        }

        yield return new LineBand(Median(main.Select(b => b.Top)), Median(main.Select(b => b.Bottom)));
        var bands = new List<List<Blob>>();
        foreach (var mark in tall.OrderBy(b => b.Top + b.Bottom))
        {
            var band = bands.Find(l => LineBand.Of(l).Overlaps(mark));
            if (band is null)
                bands.Add([mark]);
            else
                band.Add(mark);
        }

        foreach (var band in bands.Where(l => l.Count >= MinMarksOnOtherLine))
            yield return LineBand.Of(band);
    }

    /// <summary>A line of writing: the rows from <see cref="Top"/> to <see cref="Bottom"/>.</summary>
    private sealed record LineBand(int Top, int Bottom)
    {
        /// <summary>The whole field: no mark is tall enough to place a line.</summary>
        public static LineBand Everything { get; } = new(int.MinValue / 2, int.MaxValue / 2);

        public static LineBand Of(List<Blob> marks) => new(Median(marks.Select(b => b.Top)), Median(marks.Select(b => b.Bottom)));

        /// <summary>Whether a mark belongs to the line: <see cref="LineHoldsShare"/> of its height in it, <see cref="LineHoldsEdgeShare"/> for a mark cut by the field's edge.</summary>
        public bool Holds(Blob mark, int fieldHeight)
        {
            if (this == Everything)
                return true;
            int overlap = Math.Min(mark.Bottom, Bottom) - Math.Max(mark.Top, Top);
            bool touchesEdge = mark.Top <= EdgeMarginPixels || mark.Bottom >= fieldHeight - EdgeMarginPixels;
            return overlap >= (touchesEdge ? LineHoldsEdgeShare : LineHoldsShare) * mark.Height;
        }

        /// <summary>Whether a tall mark shares half of its height, or of the line's, with the line.</summary>
        public bool Overlaps(Blob mark) => Math.Min(mark.Bottom, Bottom) - Math.Max(mark.Top, Top) >= LineOverlapShare * Math.Min(mark.Height, Bottom - Top);
    }

    /// <summary>Joins components that overlap in x (an i and its dot, a character broken in two), left to right.</summary>
    private static List<Blob> JoinOverlapping(List<Blob> boxes)
    {
        var groups = boxes.OrderBy(b => b.Left).ToList();
        bool joined = true;
        while (joined)
        {
            joined = false;
            for (int i = 0; i < groups.Count && !joined; i++)
            {
                for (int j = i + 1; j < groups.Count && !joined; j++)
                {
                    var (a, b) = (groups[i], groups[j]);
                    int overlap = Math.Min(a.Right, b.Right) - Math.Max(a.Left, b.Left);
                    if (overlap >= JoinOverlapShare * Math.Min(a.Width, b.Width))
                    {
                        groups[i] = a.Join(b);
                        groups.RemoveAt(j);
                        joined = true;
                    }
                }
            }
        }

        return groups.OrderBy(g => g.Left).ToList();
    }

    /// <summary>Cuts a group wider than a character at the valleys of its column profile.</summary>
    private static void CutGroup(Blob group, int index, int[] labels, int w, double characterHeight, bool digitsOnly, List<InkPiece> pieces)
    {
        var profile = new double[group.Width];
        // The skyline: the topmost ink row of each column (the group's bottom where a column has none).
        var skyline = new int[group.Width];
        Array.Fill(skyline, group.Bottom);
        for (int y = group.Top; y < group.Bottom; y++)
        {
            for (int x = group.Left; x < group.Right; x++)
            {
                int label = labels[(y * w) + x];
                if (label != 0 && Array.IndexOf(group.Components, label) >= 0)
                {
                    profile[x - group.Left]++;
                    skyline[x - group.Left] = Math.Min(skyline[x - group.Left], y);
                }
            }
        }

        var cuts = new List<int>();
        if (group.Width > CutFromWidth * characterHeight)
        {
            var smooth = new double[profile.Length];
            for (int i = 0; i < profile.Length; i++)
            {
                int from = Math.Max(0, i - ProfileSmoothingReach), to = Math.Min(profile.Length - 1, i + ProfileSmoothingReach);
                for (int k = from; k <= to; k++)
                    smooth[i] += profile[k] / (to - from + 1);
            }

            int margin = Math.Max(MinCutSpacingPixels, (int)(CutSpacing * characterHeight));
            int spacing = Math.Max(MinCutSpacingPixels, (int)(CutSpacing * characterHeight));
            int most = (int)Math.Ceiling(group.Width / (CutsPerWidth * characterHeight));
            var valleys = new List<int>();
            for (int i = margin; i < profile.Length - margin; i++)
            {
                int reach = Math.Max(1, spacing / 2);
                bool minimum = true;
                for (int k = Math.Max(0, i - reach); k <= Math.Min(profile.Length - 1, i + reach) && minimum; k++)
                    minimum = smooth[k] >= smooth[i];
                if (minimum)
                    valleys.Add(i);
            }

            foreach (int v in valleys.OrderBy(v => smooth[v]).ThenBy(v => v))
            {
                if (cuts.Count >= most)
                    break;
                if (cuts.All(c => Math.Abs(c - v) >= spacing))
                    cuts.Add(v);
            }

            // Two touching round digits (00, 80) meet where the ink's top dips between them, while their column profile
            // peaks there and dips inside each: cut at such dips too (not in letter fields, where M, V and W dip inside).
            if (digitsOnly)
            {
                foreach (int dip in SkylineDips(skyline, margin, spacing, SkylineDipDepth * characterHeight))
                {
                    if (cuts.All(c => Math.Abs(c - dip) >= spacing / 2))
                        cuts.Add(dip);
                }
            }

            cuts.Sort();
        }

        int start = group.Left;
        foreach (int cut in cuts)
        {
            pieces.Add(new InkPiece(group.Components, start, group.Left + cut, index));
            start = group.Left + cut;
        }

        pieces.Add(new InkPiece(group.Components, start, group.Right, index));
    }

    /// <summary>
    /// Columns where the skyline is lowest within <paramref name="spacing"/> either side and at least <paramref name="depth"/>
    /// below the highest ink on both sides.
    /// </summary>
    private static IEnumerable<int> SkylineDips(int[] skyline, int margin, int spacing, double depth)
    {
        for (int i = margin; i < skyline.Length - margin; i++)
        {
            int leftTop = int.MaxValue, rightTop = int.MaxValue;
            bool lowest = true;
            for (int k = Math.Max(0, i - spacing); k <= Math.Min(skyline.Length - 1, i + spacing) && lowest; k++)
            {
                lowest = skyline[k] <= skyline[i];
                if (k < i)
                    leftTop = Math.Min(leftTop, skyline[k]);
                else if (k > i)
                    rightTop = Math.Min(rightTop, skyline[k]);
            }

            if (lowest && skyline[i] - Math.Max(leftTop, rightTop) >= depth)
                yield return i;
        }
    }

    private static double Percentile(byte[] values, int[] labels, bool[] kept, double fraction)
    {
        var histogram = new long[256];
        long total = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (kept[labels[i]])
            {
                histogram[values[i]]++;
                total++;
            }
        }

        long target = (long)(fraction * total), seen = 0;
        for (int v = 0; v < 256; v++)
        {
            seen += histogram[v];
            if (seen > target)
                return v;
        }

        return 255;
    }

    private static int Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private sealed record Blob(int[] Components, int Left, int Top, int Right, int Bottom, int Area)
    {
        public int Width => Right - Left;

        public int Height => Bottom - Top;

        public Blob Join(Blob other) => new(
            [.. Components, .. other.Components], Math.Min(Left, other.Left), Math.Min(Top, other.Top),
            Math.Max(Right, other.Right), Math.Max(Bottom, other.Bottom), Area + other.Area);
    }
}
