namespace Ocr.MLNet.Fields;

/// <summary>How a <see cref="HandwrittenFieldReader"/> recognises a field's characters.</summary>
public enum FieldReadingMethod
{
    /// <summary>
    /// Where the reader has a line recognizer, the method measured best for the field's kind on the dev folders (see the
    /// README): <see cref="Lines"/> for digits, <see cref="Combined"/> for capitals; segmentation for other kinds, for a
    /// custom character set and for a reader without a line recognizer. The default.
    /// </summary>
    Auto = 0,

    /// <summary>Segmentation into characters, each scored by the character model, the cuts chosen by dynamic programming.</summary>
    Segmentation = 1,

    /// <summary>The line recognizer (CTC) on the field's cleaned line; its character boxes come from the CTC alignment.</summary>
    Lines = 2,

    /// <summary>
    /// Both: the segmentation and the line recognizer each read the field and each scores the other's text; the text the
    /// two find likelier together wins, and that joint probability is its confidence (so fields the two readers disagree
    /// on score low).
    /// </summary>
    Combined = 3,
}
