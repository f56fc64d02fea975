namespace Ocr.MLNet.Lines;

/// <summary>What a synthetic field holds, and so which characters, paper and clutter it is drawn with.</summary>
public enum SyntheticFieldKind
{
    /// <summary>A hand-printed capital name on a white form (<c>JEAN-MICHEL</c>, <c>D'ARC</c>), often with a printed label beside it.</summary>
    Name,

    /// <summary>A cheque's courtesy amount: digits on patterned paper, with separators drawn (<c>1.500,-</c>) but not in the text.</summary>
    Amount,

    /// <summary>A short digit string in a printed box.</summary>
    DigitBoxes,

    /// <summary>Each field one of the others, drawn at random (names and amounts alike, boxes less often).</summary>
    Mixed,
}
