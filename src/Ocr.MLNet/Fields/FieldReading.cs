using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Fields;

/// <summary>A rectangle in the pixels of the image that was read (x to the right, y down).</summary>
/// <param name="X">Left column.</param>
/// <param name="Y">Top row.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct FieldBox(int X, int Y, int Width, int Height)
{
    /// <summary>One past the right column.</summary>
    public int Right => X + Width;

    /// <summary>One past the bottom row.</summary>
    public int Bottom => Y + Height;

    /// <inheritdoc/>
    public override string ToString() => $"{X},{Y},{Width},{Height}";
}

/// <summary>One character of a field, as the reader segmented and classified it.</summary>
/// <param name="Box">Where its ink lies, in the coordinates of the image that was read.</param>
/// <param name="Label">The character (a class allowed by the field kind, in the kind's case).</param>
/// <param name="Confidence">Its probability among the classes the field kind allows, 0–1.</param>
/// <param name="Alternatives">The best allowed classes with their probabilities, best first (the first is <paramref name="Label"/>).</param>
public sealed record CharacterReading(FieldBox Box, string Label, float Confidence, IReadOnlyList<ClassScore> Alternatives);

/// <summary>What the reader read in one field.</summary>
/// <param name="Text">The characters left to right; a space where the gap between two characters is wider than a character; empty for a blank field.</param>
/// <param name="Confidence">The probability that every character is right: the product of the characters' confidences (1 for a blank field).</param>
/// <param name="Characters">Each character with its box, confidence and alternatives, left to right.</param>
/// <example>
/// <code>
/// FieldReading reading = reader.Read("amount.png", FieldKind.Digits);
/// Console.WriteLine($"{reading.Text} ({reading.Confidence:P0})");
/// foreach (var c in reading.Characters)
///     Console.WriteLine($"{c.Label} {c.Confidence:P0} at {c.Box}; else {c.Alternatives[1].ClassName}");
/// </code>
/// </example>
public sealed record FieldReading(string Text, float Confidence, IReadOnlyList<CharacterReading> Characters)
{
    /// <summary>The reading of a field without ink.</summary>
    public static FieldReading Blank { get; } = new("", 1f, []) { Content = ImageContent.Blank };

    /// <summary>The reading of an image that holds noise rather than writing (<see cref="InkCheck"/>): no text, confidence 0.</summary>
    public static FieldReading Noise { get; } = new("", 0f, []) { Content = ImageContent.Noise };

    /// <summary>What the image held: writing, nothing, or noise (told apart by <see cref="InkCheck"/> before reading).</summary>
    public ImageContent Content { get; init; } = ImageContent.Writing;

    /// <summary>True when the field holds no characters and is not noise.</summary>
    public bool IsBlank => Characters.Count == 0 && Content != ImageContent.Noise;
}

/// <summary>One box of a form and what was read in it.</summary>
/// <param name="Box">The box's border, in page pixels.</param>
/// <param name="Kind">The field kind it was read with.</param>
/// <param name="Reading">What was read inside it; character boxes are in page pixels too.</param>
public sealed record FormField(FieldBox Box, FieldKind Kind, FieldReading Reading);
