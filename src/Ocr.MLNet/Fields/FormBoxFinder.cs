using OpenCvSharp;

namespace Ocr.MLNet.Fields;

/// <summary>
/// Finds the boxes of a form page: rectangles drawn with long straight printed lines, found by morphological opening
/// with long horizontal and vertical kernels, then read in reading order.
/// </summary>
internal static class FormBoxFinder
{
    /// <summary>Boxes taller than this many times the page's median box are frames around text, not fields.</summary>
    private const double FrameHeightRatio = 2.5;

    /// <summary>The boxes (their border) and their inside (border excluded), in reading order.</summary>
    public static IReadOnlyList<(FieldBox Box, FieldBox Inner)> Find(byte[] grey, int width, int height)
    {
        if (width < 16 || height < 16)
            return [];
        using var page = Mat.FromPixelData(height, width, MatType.CV_8UC1, grey);
        using var ink = new Mat();
        if (Preparation.CharacterImageConverter.IsDarkOnLight(grey, width, height))
            Cv2.Threshold(page, ink, 0, 255, ThresholdTypes.BinaryInv | ThresholdTypes.Otsu);
        else
            Cv2.Threshold(page, ink, 0, 255, ThresholdTypes.Binary | ThresholdTypes.Otsu);

        int length = Math.Max(15, Math.Min(width, height) / 60);
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
            if (box.Width < 2 * length || box.Height < length)
                continue;
            if (Inside(box, horizontal, vertical) is { } inner)
                boxes.Add((box, inner));
        }

        if (boxes.Count == 0)
            return [];
        double medianHeight = boxes.Select(b => b.Box.Height).Order().ElementAt(boxes.Count / 2);
        boxes.RemoveAll(b => b.Box.Height > FrameHeightRatio * medianHeight);
        return ReadingOrder(boxes);
    }

    /// <summary>
    /// The inside of a closed rectangle of lines: its top and bottom rows are covered by a horizontal line and its
    /// left and right columns by a vertical one (most of their length). Null when the lines do not close a box.
    /// </summary>
    private static FieldBox? Inside(FieldBox box, Mat horizontal, Mat vertical)
    {
        using var h = horizontal[new Rect(box.X, box.Y, box.Width, box.Height)].Clone();
        using var v = vertical[new Rect(box.X, box.Y, box.Width, box.Height)].Clone();
        h.GetArray(out byte[] hData);
        v.GetArray(out byte[] vData);
        int w = box.Width, ht = box.Height;
        int band = Math.Max(3, Math.Min(w, ht) / 8);

        double RowCover(int y)
        {
            int covered = 0;
            for (int x = 0; x < w; x++)
                covered += hData[(y * w) + x] != 0 ? 1 : 0;
            return (double)covered / w;
        }

        double ColumnCover(int x)
        {
            int covered = 0;
            for (int y = 0; y < ht; y++)
                covered += vData[(y * w) + x] != 0 ? 1 : 0;
            return (double)covered / ht;
        }

        // The innermost line row/column of each side, within a band from the edge.
        int top = -1, bottom = -1, left = -1, right = -1;
        for (int y = 0; y < band; y++)
            top = RowCover(y) >= 0.7 ? y : top;
        for (int y = ht - 1; y >= ht - band; y--)
            bottom = RowCover(y) >= 0.7 ? y : bottom;
        for (int x = 0; x < band; x++)
            left = ColumnCover(x) >= 0.7 ? x : left;
        for (int x = w - 1; x >= w - band; x--)
            right = ColumnCover(x) >= 0.7 ? x : right;
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            return null;
        int margin = 2;
        int innerX = box.X + left + margin, innerY = box.Y + top + margin;
        int innerW = right - left - (2 * margin), innerH = bottom - top - (2 * margin);
        return innerW < 4 || innerH < 4 ? null : new FieldBox(innerX, innerY, innerW, innerH);
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

    private static Mat Open(Mat ink, Size size)
    {
        var result = new Mat();
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, size);
        Cv2.MorphologyEx(ink, result, MorphTypes.Open, kernel);
        return result;
    }
}
