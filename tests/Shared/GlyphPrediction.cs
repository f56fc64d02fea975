namespace Ocr.MLNet.Tests;

/// <summary>A scored row as ML.NET's multiclass trainers give it: the per-class scores and the predicted label.</summary>
public sealed class GlyphPrediction
{
    public float[] Score { get; set; } = [];

    public string PredictedLabel { get; set; } = "";
}
