namespace Ocr.MLNet.Lines;

/// <summary>One character of a synthetic field's text and where it was drawn, in the field's pixels.</summary>
/// <param name="Character">The character of the text (a space's box is the gap between its words).</param>
/// <param name="X">Left edge of the drawn ink.</param>
/// <param name="Y">Top edge of the drawn ink.</param>
/// <param name="Width">Width of the drawn ink.</param>
/// <param name="Height">Height of the drawn ink.</param>
public readonly record struct SyntheticCharacterBox(char Character, int X, int Y, int Width, int Height);

/// <summary>
/// A synthetic handwritten field as a scanner gives it: 8-bit grey, dark ink on light paper, not normalised; with its
/// text and one box per character of the text.
/// </summary>
/// <example>
/// <code>
/// SyntheticField field = generator.Generate(42);
/// byte ink = field.Pixels[(y * field.Width) + x];     // 0 black … 255 white
/// Console.WriteLine($"{field.Text}: {field.Width}×{field.Height}, {field.Characters.Count} boxes");
/// </code>
/// </example>
public sealed class SyntheticField
{
    internal SyntheticField(long index, SyntheticFieldKind kind, byte[] pixels, int width, int height, string text, SyntheticCharacterBox[] characters)
    {
        Index = index;
        Kind = kind;
        Pixels = pixels;
        Width = width;
        Height = height;
        Text = text;
        Characters = characters;
    }

    /// <summary>The field's index in its generator's sequence: the same seed and index give the same field.</summary>
    public long Index { get; }

    /// <summary>What the field holds (never <see cref="SyntheticFieldKind.Mixed"/>).</summary>
    public SyntheticFieldKind Kind { get; }

    /// <summary>Grey pixels, row-major, <see cref="Width"/> × <see cref="Height"/> bytes; 0 is black ink, 255 white paper.</summary>
    public byte[] Pixels { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>
    /// The truth: capitals, spaces, <c>-</c> and <c>'</c> for names, digits only for amounts and boxes (separators are
    /// drawn but are not part of it, as in ORAND-CAR's labels).
    /// </summary>
    public string Text { get; }

    /// <summary>One box per character of <see cref="Text"/>, in its order.</summary>
    public IReadOnlyList<SyntheticCharacterBox> Characters { get; }
}
