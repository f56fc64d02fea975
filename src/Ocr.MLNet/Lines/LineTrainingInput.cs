namespace Ocr.MLNet.Lines;

/// <summary>What the line recognizer learns on: each field image as it is, or the line of writing the field reader finds in it.</summary>
public enum LineTrainingInput
{
    /// <summary>
    /// The line of writing <c>HandwrittenFieldReader</c> hands the model (the field's box found, the image cleaned of
    /// printed prompts, borders, guide lines, other lines and background, the writing drawn dark on white at a set size):
    /// what the reader, <c>read</c> and <c>evaluate-fields</c> feed a line model. A field with no writing left after cleaning
    /// is used as it is.
    /// </summary>
    FoundLines,

    /// <summary>Each field image as it is, with its clutter: what a <c>PredictionEngine</c> on image paths feeds the model.</summary>
    Fields,

    /// <summary>Every other row as a found line and the rest as they are, so the model reads both (the default).</summary>
    Both,
}
