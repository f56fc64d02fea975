namespace Ocr.MLNet.Fields;

/// <summary>How a <see cref="HandwrittenFieldReader"/> recognises a field's characters.</summary>
public enum FieldReadingMethod
{
    /// <summary>
    /// The line recognizer where the reader has one and it reads the field's kind better than segmentation (measured on
    /// the dev folders: digits, see the README), segmentation otherwise. The default.
    /// </summary>
    Auto = 0,

    /// <summary>Segmentation into characters, each scored by the character model, the cuts chosen by dynamic programming.</summary>
    Segmentation = 1,

    /// <summary>The line recognizer (CTC) on the field's cleaned line; its character boxes come from the CTC alignment.</summary>
    Lines = 2,
}
