using OpenCvSharp;
using static Ocr.MLNet.Fields.FieldReaderThresholds;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Fields;

/// <summary>
/// Finds the boxes of a form page: rectangles drawn with long straight printed lines, found by morphological opening
/// with long horizontal and vertical kernels, then read in reading order.
/// </summary>
internal static class FormBoxFinder
{
    /// <summary>The boxes (their border) and their inside (border excluded), in reading order.</summary>
    public static IReadOnlyList<(FieldBox Box, FieldBox Inner)> Find(byte[] grey, int width, int height)
    {
        if (width < FormMinPageSide || height < FormMinPageSide)
            return [];
        using var page = Mat.FromPixelData(height, width, MatType.CV_8UC1, grey);
        using var ink = new Mat();
        if (Loading.CharacterImageConverter.IsDarkOnLight(grey, width, height))
            Cv2.Threshold(page, ink, 0, 255, ThresholdTypes.BinaryInv | ThresholdTypes.Otsu);
        else
            Cv2.Threshold(page, ink, 0, 255, ThresholdTypes.Binary | ThresholdTypes.Otsu);

        int length = Math.Max(FormMinLineLengthPixels, Math.Min(width, height) / FormLineLengthDivisor);
        using var horizontal = Open(ink, new Size(length, 1));
        using var vertical = Open(ink, new Size(1, length));
        using var lines = new Mat();
        Cv2.BitwiseOr(horizontal, vertical, lines);

        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        int count = Cv2.ConnectedComponentsWithStats(lines, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        var boxes = new List<(FieldBox Box, FieldBox Inner)>();
        for (int i = 1; i < count; i++)
        {
            var box = new FieldBox(stats.At<int>(i, 0), stats.At<int>(i, 1), stats.At<int>(i, 2), stats.At<int>(i, 3));
            if (box.Width < FormMinBoxWidthInLines * length || box.Height < length)
                continue;
            if (Inside(box, horizontal, vertical) is { } found)
                boxes.Add(found);
        }

        if (boxes.Count == 0)
            return [];
        double medianHeight = boxes.Select(b => b.Box.Height).Order().ElementAt(boxes.Count / 2);
        boxes.RemoveAll(b => b.Box.Height > FrameHeightRatio * medianHeight);
        // A "box" inside another box is a closed loop of handwriting (a 0, an 8) whose strokes passed for lines: not a field.
        boxes.RemoveAll(b => boxes.Any(other => other.Box != b.Box && Contains(other.Inner, b.Box)));
        return ReadingOrder(boxes);
    }

    /// <summary>
    /// The border and the inside of a closed rectangle of lines within a component's bounds: the outermost rows mostly
    /// covered by horizontal line and the outermost columns between them mostly covered by vertical line (a few rows or
    /// columns taken together, as a scanned page is a little skewed; ink that crosses the border does not move it).
    /// Null when the lines do not close a box.
    /// </summary>
    private static (FieldBox Box, FieldBox Inner)? Inside(FieldBox bounds, Mat horizontal, Mat vertical)
    {
        using var h = horizontal[new Rect(bounds.X, bounds.Y, bounds.Width, bounds.Height)].Clone();
        using var v = vertical[new Rect(bounds.X, bounds.Y, bounds.Width, bounds.Height)].Clone();
        h.GetArray(out byte[] hData);
        v.GetArray(out byte[] vData);
        int w = bounds.Width, ht = bounds.Height;
        const int Skew = FormBorderSkewPixels;

        double RowCover(int y, int reach)
        {
            int covered = 0;
            for (int x = 0; x < w; x++)
            {
                bool any = false;
                for (int r = Math.Max(0, y - reach); r <= Math.Min(ht - 1, y + reach) && !any; r++)
                    any = hData[(r * w) + x] != 0;
                covered += any ? 1 : 0;
            }

            return (double)covered / w;
        }

        double ColumnCover(int x, int reach, int from, int to)
        {
            int covered = 0;
            for (int y = from; y <= to; y++)
            {
                bool any = false;
                for (int c = Math.Max(0, x - reach); c <= Math.Min(w - 1, x + reach) && !any; c++)
                    any = vData[(y * w) + c] != 0;
                covered += any ? 1 : 0;
            }

            return (double)covered / (to - from + 1);
        }

        int top = Enumerable.Range(0, ht).FirstOrDefault(y => RowCover(y, Skew) >= FormBorderCover, -1);
        int bottom = Enumerable.Range(0, ht).Reverse().FirstOrDefault(y => RowCover(y, Skew) >= FormBorderCover, -1);
        if (top < 0 || bottom - top < Math.Min(FormMinBoxSide, ht / 2))
            return null;
        int left = Enumerable.Range(0, w).FirstOrDefault(x => ColumnCover(x, Skew, top, bottom) >= FormBorderCover, -1);
        int right = Enumerable.Range(0, w).Reverse().FirstOrDefault(x => ColumnCover(x, Skew, top, bottom) >= FormBorderCover, -1);
        if (left < 0 || right - left < Math.Min(FormMinBoxSide, w / 2))
            return null;

        // The inside begins past the line's thickness (rows or columns that still hold some line).
        int band = Math.Max(FormMinBorderBand, Math.Min(right - left, bottom - top) / FormBorderBandDivisor);
        int innerTop = top, innerBottom = bottom, innerLeft = left, innerRight = right;
        while (innerTop < top + band && RowCover(innerTop + 1, 0) >= FormBorderThicknessCover)
            innerTop++;
        while (innerBottom > bottom - band && RowCover(innerBottom - 1, 0) >= FormBorderThicknessCover)
            innerBottom--;
        while (innerLeft < left + band && ColumnCover(innerLeft + 1, 0, top, bottom) >= FormBorderThicknessCover)
            innerLeft++;
        while (innerRight > right - band && ColumnCover(innerRight - 1, 0, top, bottom) >= FormBorderThicknessCover)
            innerRight--;
        const int Margin = FormInnerMarginPixels;
        var box = new FieldBox(bounds.X + left, bounds.Y + top, right - left + 1, bottom - top + 1);
        var inner = new FieldBox(bounds.X + innerLeft + Margin, bounds.Y + innerTop + Margin,
            innerRight - innerLeft - (2 * Margin) - 1, innerBottom - innerTop - (2 * Margin) - 1);
        return inner.Width < FormMinInnerSide || inner.Height < FormMinInnerSide ? null : (box, inner);
    }

    /// <summary>Rows top to bottom (a box joins a row when its middle lies within the row's first box), left to right in a row.</summary>
    private static List<(FieldBox Box, FieldBox Inner)> ReadingOrder(List<(FieldBox Box, FieldBox Inner)> boxes)
    {
        var rows = new List<List<(FieldBox Box, FieldBox Inner)>>();
        foreach (var b in boxes.OrderBy(b => b.Box.Y))
        {
            int middle = b.Box.Y + (b.Box.Height / 2);
            var row = rows.FirstOrDefault(r => middle >= r[0].Box.Y && middle < r[0].Box.Bottom);
            if (row is null)
                rows.Add([b]);
            else
                row.Add(b);
        }

        return rows.SelectMany(r => r.OrderBy(b => b.Box.X)).ToList();
    }

    private static bool Contains(FieldBox outer, FieldBox inner) =>
        inner.X >= outer.X && inner.Y >= outer.Y && inner.X + inner.Width <= outer.X + outer.Width && inner.Y + inner.Height <= outer.Y + outer.Height;

    private static Mat Open(Mat ink, Size size)
    {
        var result = new Mat();
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, size);
        Cv2.MorphologyEx(ink, result, MorphTypes.Open, kernel);
        return result;
    }
}
