using Microsoft.ML.Data;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Fields;

/// <summary>
/// The line recognizer's input for a field: its cleaned line of writing (stage 2: printed prompts, box borders, guide
/// lines, other lines and the background removed) drawn dark on white, in a line whose height puts the writing at the
/// share of it that <see cref="SyntheticFieldGenerator"/> draws for the kind. A crop that holds a printed label and the
/// next field's writing then looks like the clean synthetic fields the model learnt on, at their size.
/// </summary>
/// <param name="Grey">The line's grey pixels, row-major: dark ink on white.</param>
/// <param name="Width">Width of <paramref name="Grey"/>.</param>
/// <param name="Height">Height of <paramref name="Grey"/>.</param>
/// <param name="Left">Where the line's ink starts in <paramref name="Grey"/> (columns).</param>
/// <param name="Top">Where the line's ink starts in <paramref name="Grey"/> (rows).</param>
/// <param name="Line">The cleaned line drawn.</param>
internal sealed record FieldLineImage(byte[] Grey, int Width, int Height, int Left, int Top, CleanedLine Line)
{
    /// <summary>
    /// Stages 1 and 2 of the reader for the line recognizer: the field's box (when it was cropped with one), its cleaned
    /// first line of writing, drawn for <paramref name="kind"/>; null when the field holds no writing (blank, noise, or
    /// no marks after cleaning).
    /// </summary>
    /// <param name="grey">The field's 8-bit grey pixels, row-major; dark ink on light paper or the reverse.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="kind">What the field holds.</param>
    /// <param name="maxPieces">The most marks a field may hold (<see cref="FieldReaderOptions.MaxPieces"/>).</param>
    public static FieldLineImage? Find(byte[] grey, int width, int height, FieldKind kind, int maxPieces = FieldReaderOptions.DefaultMaxPieces)
    {
        if (InkCheck.Inspect(grey, width, height) != ImageContent.Writing)
            return null;
        var area = HandwrittenFieldReader.FindFieldArea(grey, width, height);
        var segmentation = FieldSegmenter.SegmentLines(area.Grey, area.Width, area.Height, maxPieces, kind == FieldKind.Digits).First();
        return Of(segmentation, area, kind);
    }

    /// <summary>The line image of a segmented line of <paramref name="area"/>; null when it holds no marks.</summary>
    internal static FieldLineImage? Of(FieldSegmentation segmentation, HandwrittenFieldReader.FieldArea area, FieldKind kind) =>
        segmentation.ToCleanedLine(area.X, area.Y) is { } line ? Draw(line, kind) : null;

    /// <summary>Draws <paramref name="line"/> for a field of <paramref name="kind"/>.</summary>
    public static FieldLineImage Draw(CleanedLine line, FieldKind kind)
    {
        var (low, high) = SyntheticFieldGenerator.CharacterShare(LineRecognizerTrainer.SyntheticKindFor(kind));
        int height = Math.Max(line.Height + 2, (int)Math.Round(line.CharacterHeight / ((low + high) / 2)));
        int margin = (int)Math.Round(FieldReaderThresholds.LineSideMargin * line.CharacterHeight);
        int width = line.Width + (2 * margin);
        int top = (height - line.Height) / 2;
        var grey = new byte[width * height];
        Array.Fill(grey, byte.MaxValue);
        for (int y = 0; y < line.Height; y++)
        {
            var source = line.Ink.AsSpan(y * line.Width, line.Width);
            var target = grey.AsSpan(((y + top) * width) + margin, line.Width);
            for (int x = 0; x < source.Length; x++)
                target[x] = (byte)(byte.MaxValue - source[x]);
        }

        return new FieldLineImage(grey, width, height, margin, top, line);
    }

    /// <summary>The line as an image for <see cref="LineRecognizer"/>.</summary>
    public MLImage ToImage() => LinePreparation.FromGrey(Grey, Width, Height);

    /// <summary>Maps <paramref name="character"/>'s columns in this image back to a box in the field's own pixels (the line's rows).</summary>
    public FieldBox BoxInField(LineCharacter character)
    {
        int left = Math.Max(0, (int)Math.Floor((character.X - Left) / Line.Scale));
        int right = Math.Max(left + 1, (int)Math.Ceiling((character.X + character.Width - Left) / Line.Scale));
        return new FieldBox(Line.Box.X + Math.Min(left, Line.Box.Width - 1), Line.Box.Y, Math.Min(right, Line.Box.Width) - Math.Min(left, Line.Box.Width - 1), Line.Box.Height);
    }
}
