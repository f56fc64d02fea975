namespace Ocr.MLNet.Fields;

/// <summary>
/// What a field may hold. The reader masks the network's scores to the allowed classes, which is what tells
/// <c>O</c> from <c>0</c> and <c>I</c> from <c>1</c> when look-alikes share a class (the 47 merged EMNIST classes).
/// </summary>
public enum FieldKind
{
    /// <summary>Any class of the model: digits and letters.</summary>
    Alphanumeric = 0,

    /// <summary>Digits 0–9 (amounts, dates, digit boxes).</summary>
    Digits = 1,

    /// <summary>Capital letters A–Z (hand-printed names).</summary>
    Upper = 2,

    /// <summary>Small letters a–z; a class merged with its capital (c, o, s, …) reads as the small letter.</summary>
    Lower = 3,

    /// <summary>Letters of either case.</summary>
    Letters = 4,
}
