using System.Globalization;
using SkiaSharp;
using Ocr.MLNet.Training;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Evaluation;

/// <summary>An image the model got wrong, for the gallery of an evaluation report.</summary>
/// <param name="Row">0-based row of the image in the evaluated data.</param>
/// <param name="Label">The true label.</param>
/// <param name="Predicted">The predicted label (highest score).</param>
/// <param name="Confidence">The predicted label's score.</param>
/// <param name="Pixels">The 1×32×32 image as the network saw it.</param>
internal sealed record Misclassification(int Row, string Label, string Predicted, float Confidence, float[] Pixels);

/// <summary>The PNG figures of an evaluation report, drawn with SkiaSharp.</summary>
internal static class ReportCharts
{
    private static readonly SKColor Ink = new(33, 33, 33);
    private static readonly SKColor Muted = new(110, 110, 110);
    private static readonly SKColor Grid = new(225, 225, 225);
    private static readonly SKColor TrainingColor = new(31, 119, 180);
    private static readonly SKColor ValidationColor = new(255, 127, 14);

    /// <summary>Columns of the misclassified gallery.</summary>
    public const int GalleryColumns = 8;

    /// <summary>Each image pixel becomes GalleryScale×GalleryScale pixels in the gallery.</summary>
    public const int GalleryScale = 2;

    private const int GalleryCellWidth = 112;
    private const int GalleryCaption = 22;
    private const int GalleryTitle = 36;

    /// <summary>
    /// Draws the confusion matrix as a heat map: true classes (those with images) down, predicted classes (those
    /// with images or predictions) across, each cell coloured by its share of the row on a square-root scale so
    /// that rare confusions still show, counts written in the cells when they fit.
    /// </summary>
    /// <returns>The picture's width and height.</returns>
    public static (int Width, int Height) DrawConfusionMatrix(ClassificationReport report, string path)
    {
        var rows = Enumerable.Range(0, report.ClassNames.Count).Where(c => report.PerClass[c].Support > 0).ToArray();
        var columns = Enumerable.Range(0, report.ClassNames.Count).Where(c => report.PerClass[c].Support > 0 || report.PerClass[c].Predicted > 0).ToArray();
        int cell = Math.Clamp(760 / Math.Max(rows.Length, columns.Length), 14, 48);
        using var labelPaint = PixelDrawing.TextPaint(Math.Min(cell * 0.8f, 15), Ink, SKTextAlign.Center);
        float labelWidth = report.ClassNames.Max(n => labelPaint.MeasureText(n));
        bool rotateColumnLabels = labelWidth > cell;
        int left = 40 + (int)Math.Ceiling(labelWidth) + 8;
        int top = 56;
        int gridWidth = columns.Length * cell, gridHeight = rows.Length * cell;
        int columnLabels = rotateColumnLabels ? (int)Math.Ceiling(labelWidth) + 8 : (int)labelPaint.TextSize + 8;
        int width = left + gridWidth + 110;
        int height = top + gridHeight + columnLabels + 36;

        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using (var title = PixelDrawing.TextPaint(18, Ink, bold: true))
            {
                canvas.DrawText(string.Create(CultureInfo.InvariantCulture,
                    $"Confusion matrix: {report.Count:N0} images, accuracy {report.Accuracy:P2}"), 12, 26, title);
            }

            using (var note = PixelDrawing.TextPaint(12, Muted))
                canvas.DrawText("colour = share of the true class's images (square-root scale); rows true, columns predicted", 12, 44, note);

            using var cellPaint = new SKPaint { Style = SKPaintStyle.Fill };
            using var gridPaint = new SKPaint { Style = SKPaintStyle.Stroke, Color = Grid, StrokeWidth = 1 };
            using var countPaint = PixelDrawing.TextPaint(Math.Min(cell * 0.4f, 12), Ink, SKTextAlign.Center);
            bool writeCounts = cell >= 28;
            for (int i = 0; i < rows.Length; i++)
            {
                int support = report.PerClass[rows[i]].Support;
                for (int j = 0; j < columns.Length; j++)
                {
                    int count = report[rows[i], columns[j]];
                    var rect = SKRect.Create(left + (j * cell), top + (i * cell), cell, cell);
                    double share = count / (double)support;
                    cellPaint.Color = Blues(Math.Sqrt(share));
                    canvas.DrawRect(rect, cellPaint);
                    canvas.DrawRect(rect, gridPaint);
                    if (writeCounts && count > 0)
                    {
                        countPaint.Color = Math.Sqrt(share) > 0.55 ? SKColors.White : Ink;
                        canvas.DrawText(count.ToString(CultureInfo.InvariantCulture), rect.MidX, rect.MidY + (countPaint.TextSize / 3), countPaint);
                    }
                }
            }

            // Diagonal cells framed, so the correct predictions stand out even in rows with many errors.
            using (var diagonal = new SKPaint { Style = SKPaintStyle.Stroke, Color = new SKColor(60, 60, 60), StrokeWidth = 1 })
            {
                for (int i = 0; i < rows.Length; i++)
                {
                    int j = Array.IndexOf(columns, rows[i]);
                    if (j >= 0)
                        canvas.DrawRect(SKRect.Create(left + (j * cell), top + (i * cell), cell, cell), diagonal);
                }
            }

            labelPaint.TextAlign = SKTextAlign.Right;
            for (int i = 0; i < rows.Length; i++)
                canvas.DrawText(report.ClassNames[rows[i]], left - 6, top + (i * cell) + (cell / 2f) + (labelPaint.TextSize / 3), labelPaint);
            for (int j = 0; j < columns.Length; j++)
            {
                float x = left + (j * cell) + (cell / 2f);
                float y = top + gridHeight + 4;
                if (rotateColumnLabels)
                {
                    canvas.Save();
                    canvas.RotateDegrees(-90, x, y);
                    labelPaint.TextAlign = SKTextAlign.Right;
                    canvas.DrawText(report.ClassNames[columns[j]], x, y + (labelPaint.TextSize / 3), labelPaint);
                    canvas.Restore();
                }
                else
                {
                    labelPaint.TextAlign = SKTextAlign.Center;
                    canvas.DrawText(report.ClassNames[columns[j]], x, y + labelPaint.TextSize, labelPaint);
                }
            }

            using (var axis = PixelDrawing.TextPaint(14, Ink, SKTextAlign.Center, bold: true))
            {
                canvas.DrawText("predicted", left + (gridWidth / 2f), top + gridHeight + columnLabels + 22, axis);
                canvas.Save();
                canvas.RotateDegrees(-90, 20, top + (gridHeight / 2f));
                canvas.DrawText("true", 20, top + (gridHeight / 2f) + 5, axis);
                canvas.Restore();
            }

            // Colour bar: share 0 to 1 on the same square-root scale.
            int barLeft = left + gridWidth + 24, barHeight = Math.Max(gridHeight, 120);
            for (int y = 0; y < barHeight; y++)
            {
                cellPaint.Color = Blues(1 - (y / (double)(barHeight - 1)));
                canvas.DrawRect(SKRect.Create(barLeft, top + y, 18, 1), cellPaint);
            }

            canvas.DrawRect(SKRect.Create(barLeft, top, 18, barHeight), gridPaint);
            using var tick = PixelDrawing.TextPaint(11, Ink);
            foreach (double share in new[] { 0, 0.01, 0.05, 0.2, 0.5, 1 })
            {
                float y = top + (float)((1 - Math.Sqrt(share)) * (barHeight - 1));
                canvas.DrawLine(barLeft + 18, y, barLeft + 22, y, tick);
                canvas.DrawText(share.ToString("0.##", CultureInfo.InvariantCulture), barLeft + 25, y + 4, tick);
            }
        }

        PixelDrawing.SavePng(bitmap, path);
        return (width, height);
    }

    /// <summary>
    /// Draws the misclassified images in a grid, <see cref="GalleryColumns"/> across, each scaled up with the
    /// caption "true → predicted (score)"; an empty gallery says so.
    /// </summary>
    /// <returns>The picture's width and height.</returns>
    public static (int Width, int Height) DrawMisclassified(IReadOnlyList<Misclassification> mistakes, int totalMistakes, string path)
    {
        int tile = PixelDrawing.Side * GalleryScale;
        int rowsOfTiles = Math.Max(1, (mistakes.Count + GalleryColumns - 1) / GalleryColumns);
        int cellHeight = 8 + tile + GalleryCaption;
        int width = GalleryColumns * GalleryCellWidth;
        int height = GalleryTitle + (rowsOfTiles * cellHeight) + 8;
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using (var title = PixelDrawing.TextPaint(16, Ink, bold: true))
            {
                string text = mistakes.Count == 0
                    ? "No misclassified images"
                    : string.Create(CultureInfo.InvariantCulture, $"Misclassified: {mistakes.Count} of {totalMistakes:N0}, most confident first");
                canvas.DrawText(text, 10, 24, title);
            }

            using var caption = PixelDrawing.TextPaint(13, Ink, SKTextAlign.Center);
            for (int i = 0; i < mistakes.Count; i++)
            {
                var m = mistakes[i];
                float cellLeft = (i % GalleryColumns) * GalleryCellWidth;
                float cellTop = GalleryTitle + ((i / GalleryColumns) * cellHeight);
                PixelDrawing.DrawPixels(canvas, m.Pixels, cellLeft + ((GalleryCellWidth - tile) / 2f), cellTop + 4, GalleryScale);
                string text = string.Create(CultureInfo.InvariantCulture, $"{m.Label} → {m.Predicted} ({m.Confidence:0.00})");
                canvas.DrawText(text, cellLeft + (GalleryCellWidth / 2f), cellTop + 4 + tile + 16, caption);
            }
        }

        PixelDrawing.SavePng(bitmap, path);
        return (width, height);
    }

    /// <summary>Draws loss and accuracy per epoch, training and validation, side by side.</summary>
    /// <returns>The picture's width and height.</returns>
    public static (int Width, int Height) DrawTrainingCurves(TrainingHistory history, string path)
    {
        const int panelWidth = 520, panelHeight = 400, titleHeight = 36;
        int width = panelWidth * 2, height = titleHeight + panelHeight;
        var epochs = history.Epochs;
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using (var title = PixelDrawing.TextPaint(16, Ink, bold: true))
            {
                string text = string.Create(CultureInfo.InvariantCulture, $"Training history: {epochs.Count} epochs")
                    + (history.BestEpoch is int best ? string.Create(CultureInfo.InvariantCulture, $", best weights from epoch {best}") : "")
                    + (history.StoppedEarly ? ", stopped early" : "");
                canvas.DrawText(text, 10, 24, title);
            }

            var x = epochs.Select(e => (double)e.Epoch).ToArray();
            DrawPanel(canvas, SKRect.Create(0, titleHeight, panelWidth, panelHeight), "loss (cross-entropy)", x,
                [("training", TrainingColor, epochs.Select(e => (double?)e.TrainingLoss).ToArray()),
                 ("validation", ValidationColor, epochs.Select(e => e.ValidationLoss).ToArray())], history.BestEpoch);
            DrawPanel(canvas, SKRect.Create(panelWidth, titleHeight, panelWidth, panelHeight), "accuracy", x,
                [("training", TrainingColor, epochs.Select(e => (double?)e.TrainingAccuracy).ToArray()),
                 ("validation", ValidationColor, epochs.Select(e => e.ValidationAccuracy).ToArray())], history.BestEpoch);
        }

        PixelDrawing.SavePng(bitmap, path);
        return (width, height);
    }

    private static void DrawPanel(SKCanvas canvas, SKRect panel, string title, double[] x, (string Name, SKColor Color, double?[] Values)[] series, int? bestEpoch)
    {
        var plot = new SKRect(panel.Left + 64, panel.Top + 28, panel.Right - 20, panel.Bottom - 68);
        var values = series.SelectMany(s => s.Values).OfType<double>().Where(double.IsFinite).ToArray();
        double yMin = values.Length == 0 ? 0 : values.Min(), yMax = values.Length == 0 ? 1 : values.Max();
        if (yMax - yMin < 1e-9)
        {
            yMin -= 0.5;
            yMax += 0.5;
        }

        var yTicks = NiceTicks(yMin, yMax);
        yMin = Math.Min(yMin, yTicks[0]);
        yMax = Math.Max(yMax, yTicks[^1]);
        double xMin = x.Length == 0 ? 0 : x.Min() - 0.25, xMax = x.Length == 0 ? 1 : x.Max() + 0.25;
        float Px(double v) => plot.Left + (float)((v - xMin) / (xMax - xMin) * plot.Width);
        float Py(double v) => plot.Bottom - (float)((v - yMin) / (yMax - yMin) * plot.Height);

        using var titlePaint = PixelDrawing.TextPaint(14, Ink, SKTextAlign.Center, bold: true);
        canvas.DrawText(title, plot.MidX, panel.Top + 18, titlePaint);
        using var gridPaint = new SKPaint { Color = Grid, StrokeWidth = 1, IsAntialias = true };
        using var axisPaint = new SKPaint { Color = Muted, StrokeWidth = 1, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var tickPaint = PixelDrawing.TextPaint(11, Ink, SKTextAlign.Right);
        foreach (double t in yTicks.Where(t => t >= yMin - 1e-12 && t <= yMax + 1e-12))
        {
            canvas.DrawLine(plot.Left, Py(t), plot.Right, Py(t), gridPaint);
            canvas.DrawText(t.ToString("0.###", CultureInfo.InvariantCulture), plot.Left - 6, Py(t) + 4, tickPaint);
        }

        tickPaint.TextAlign = SKTextAlign.Center;
        int step = Math.Max(1, (int)Math.Ceiling(x.Length / 10.0));
        for (int i = 0; i < x.Length; i += step)
        {
            canvas.DrawLine(Px(x[i]), plot.Bottom, Px(x[i]), plot.Bottom + 4, axisPaint);
            canvas.DrawText(x[i].ToString("0", CultureInfo.InvariantCulture), Px(x[i]), plot.Bottom + 17, tickPaint);
        }

        canvas.DrawRect(plot, axisPaint);
        using (var axisTitle = PixelDrawing.TextPaint(12, Ink, SKTextAlign.Center))
            canvas.DrawText("epoch", plot.MidX, plot.Bottom + 36, axisTitle);

        if (bestEpoch is int best)
        {
            using var bestPaint = new SKPaint { Color = Muted, StrokeWidth = 1, IsAntialias = true, PathEffect = SKPathEffect.CreateDash([4, 4], 0) };
            canvas.DrawLine(Px(best), plot.Top, Px(best), plot.Bottom, bestPaint);
        }

        // The legend sits under the axis title, outside the plot, where no curve can cross it.
        float legendX = plot.Left, legendY = plot.Bottom + 58;
        using var legendText = PixelDrawing.TextPaint(12, Ink);
        foreach (var (name, color, ys) in series)
        {
            using var line = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var dot = new SKPaint { Color = color, IsAntialias = true, Style = SKPaintStyle.Fill };
            using var pathLine = new SKPath();
            bool started = false;
            int points = 0;
            for (int i = 0; i < x.Length; i++)
            {
                if (ys[i] is not double v || !double.IsFinite(v))
                {
                    started = false;
                    continue;
                }

                if (started)
                    pathLine.LineTo(Px(x[i]), Py(v));
                else
                    pathLine.MoveTo(Px(x[i]), Py(v));
                started = true;
                points++;
                canvas.DrawCircle(Px(x[i]), Py(v), 3.5f, dot);
            }

            canvas.DrawPath(pathLine, line);
            string label = points == 0 ? $"{name} (none)" : name;
            canvas.DrawLine(legendX, legendY - 4, legendX + 24, legendY - 4, line);
            canvas.DrawCircle(legendX + 12, legendY - 4, 3.5f, dot);
            canvas.DrawText(label, legendX + 30, legendY, legendText);
            legendX += 30 + legendText.MeasureText(label) + 24;
        }
    }

    /// <summary>
    /// Draws an error–reject curve: the error among accepted fields (up) against the share of fields accepted (across),
    /// one step per threshold, with the 1 % and 5 % error lines and the widest coverage within each marked.
    /// </summary>
    /// <returns>The picture's width and height.</returns>
    public static (int Width, int Height) DrawErrorReject(ErrorRejectCurve curve, string title, string path)
    {
        const int width = 760, height = 520;
        var plot = new SKRect(76, 64, width - 28, height - 78);
        var points = curve.Points;
        double yMax = Math.Max(0.05, points.Max(p => p.Error)) * 100;
        var yTicks = NiceTicks(0, yMax);
        yMax = yTicks[^1];
        float Px(double share) => plot.Left + (float)(share * plot.Width);
        float Py(double percent) => plot.Bottom - (float)(percent / yMax * plot.Height);

        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using (var titlePaint = PixelDrawing.TextPaint(16, Ink, bold: true))
                canvas.DrawText(title, 12, 24, titlePaint);
            using (var note = PixelDrawing.TextPaint(12, Muted))
            {
                canvas.DrawText(string.Create(CultureInfo.InvariantCulture,
                    $"{curve.Total} fields; accept those read at a confidence or more, key the rest by hand; dashed: 1 % and 5 % field error"), 12, 44, note);
            }

            using var gridPaint = new SKPaint { Color = Grid, StrokeWidth = 1, IsAntialias = true };
            using var axisPaint = new SKPaint { Color = Muted, StrokeWidth = 1, Style = SKPaintStyle.Stroke, IsAntialias = true };
            using var tickPaint = PixelDrawing.TextPaint(11, Ink, SKTextAlign.Right);
            foreach (double t in yTicks)
            {
                canvas.DrawLine(plot.Left, Py(t), plot.Right, Py(t), gridPaint);
                canvas.DrawText(t.ToString("0.###", CultureInfo.InvariantCulture) + " %", plot.Left - 6, Py(t) + 4, tickPaint);
            }

            tickPaint.TextAlign = SKTextAlign.Center;
            for (int k = 0; k <= 10; k++)
            {
                canvas.DrawLine(Px(k / 10.0), plot.Top, Px(k / 10.0), plot.Bottom, gridPaint);
                canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"{k * 10} %"), Px(k / 10.0), plot.Bottom + 17, tickPaint);
            }

            canvas.DrawRect(plot, axisPaint);
            using (var axisTitle = PixelDrawing.TextPaint(12, Ink, SKTextAlign.Center))
            {
                canvas.DrawText("fields accepted (share of all)", plot.MidX, plot.Bottom + 38, axisTitle);
                canvas.Save();
                canvas.RotateDegrees(-90, 18, plot.MidY);
                canvas.DrawText("field error among the accepted", 18, plot.MidY, axisTitle);
                canvas.Restore();
            }

            using var bound = new SKPaint { Color = ValidationColor, StrokeWidth = 1, IsAntialias = true, PathEffect = SKPathEffect.CreateDash([6, 4], 0) };
            foreach (double limit in new[] { 1.0, 5.0 }.Where(l => l <= yMax))
                canvas.DrawLine(plot.Left, Py(limit), plot.Right, Py(limit), bound);

            // Steps: between thresholds the accepted share grows with the error of the last threshold.
            using var line = new SKPaint { Color = TrainingColor, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var curvePath = new SKPath();
            curvePath.MoveTo(Px(0), Py(points[0].Error * 100));
            foreach (var p in points)
            {
                curvePath.LineTo(Px(p.AcceptedShare), curvePath.LastPoint.Y);
                curvePath.LineTo(Px(p.AcceptedShare), Py(p.Error * 100));
            }

            canvas.DrawPath(curvePath, line);
            using var dot = new SKPaint { Color = ValidationColor, IsAntialias = true, Style = SKPaintStyle.Fill };
            using var label = PixelDrawing.TextPaint(12, Ink);
            double[] limits = [0.01, 0.05];
            for (int k = 0; k < limits.Length; k++)
            {
                double limit = limits[k];
                if (curve.HighestCoverageAt(limit) is not { } p)
                    continue;
                canvas.DrawCircle(Px(p.AcceptedShare), Py(p.Error * 100), 4.5f, dot);
                string text = string.Create(CultureInfo.InvariantCulture, $"≤ {limit:P0}: {p.AcceptedShare:P1} at ≥ {p.Threshold:F3}");
                float x = Math.Min(Px(p.AcceptedShare) + 8, plot.Right - label.MeasureText(text) - 4);
                // One label a line above the other: both limits may land on the same point.
                canvas.DrawText(text, x, Py(p.Error * 100) - 8 - (16 * k), label);
            }
        }

        AtomicFile.Write(path, temporary => PixelDrawing.SavePng(bitmap, temporary));
        return (width, height);
    }

    /// <summary>Round tick values (1, 2 or 5 times a power of ten apart) that cover [min, max] in about five steps.</summary>
    private static double[] NiceTicks(double min, double max)
    {
        double raw = (max - min) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
        double first = Math.Floor(min / step) * step, last = Math.Ceiling(max / step) * step;
        var ticks = new List<double>();
        for (double t = first; t <= last + (step / 2); t += step)
            ticks.Add(Math.Round(t / step) * step);
        return [.. ticks];
    }

    /// <summary>White to dark blue (ColorBrewer "Blues") at <paramref name="t"/> in [0, 1].</summary>
    private static SKColor Blues(double t)
    {
        ReadOnlySpan<(byte R, byte G, byte B)> stops = [(255, 255, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)];
        t = Math.Clamp(t, 0, 1) * (stops.Length - 1);
        int i = Math.Min((int)t, stops.Length - 2);
        double f = t - i;
        static byte Mix(byte a, byte b, double f) => (byte)Math.Round(a + ((b - a) * f));
        return new SKColor(Mix(stops[i].R, stops[i + 1].R, f), Mix(stops[i].G, stops[i + 1].G, f), Mix(stops[i].B, stops[i + 1].B, f));
    }
}
