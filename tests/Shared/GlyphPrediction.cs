namespace Ocr.MLNet.Tests;

/// <summary>A scored row as a character model gives it: the per-class scores, the predicted key and its class name.</summary>
public sealed class GlyphPrediction
{
    public float[] Score { get; set; } = [];

    /// <summary>The key: 1 + the class's index in Score.</summary>
    public uint PredictedLabel { get; set; }

    public string PredictedCharacter { get; set; } = "";
}
