namespace Ocr.MLNet.Fields;

/// <summary>
/// One cleaned line of writing of a field, as the field reader's cleaning stage leaves it (box borders, guide lines, a
/// printed prompt, specks and punctuation removed; only this line's marks kept): the seam where a line recognizer takes
/// over from the reader's character segmentation (<see cref="HandwrittenFieldReader.CleanLines"/>).
/// </summary>
/// <param name="Ink">
/// Ink strength per pixel, row-major: 0 = paper, 255 = full ink (light writing on a dark ground, as the character
/// network's training images are), normalised so faint and dark pens look alike; cropped to the line's ink.
/// </param>
/// <param name="Width">Width of <paramref name="Ink"/> in working pixels.</param>
/// <param name="Height">Height of <paramref name="Ink"/> in working pixels.</param>
/// <param name="Box">Where the line's ink lies in the field image, in its own pixels.</param>
/// <param name="Scale">Working pixels per field pixel: the reader scales low fields up to at least 64 pixels and high ones down to 320.</param>
/// <param name="CharacterHeight">The field's typical character height, in working pixels.</param>
internal sealed record CleanedLine(byte[] Ink, int Width, int Height, FieldBox Box, double Scale, double CharacterHeight);
