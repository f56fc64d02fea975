namespace Ocr.MLNet;

/// <summary>
/// The one place for the network's image format and the column names every Ocr.MLNet step uses by default.
/// </summary>
/// <remarks>
/// Pixels are 1×32×32 floats in [0, 1], ink bright on dark, upright and centred as EMNIST prepared NIST SD19
/// (28×28 content padded by 2). Column names follow ML.NET: <c>Label</c>, <c>Score</c>, <c>PredictedLabel</c>.
/// </remarks>
public static class CharacterFormat
{
    /// <summary>Side of the network's square input image.</summary>
    public const int ImageSide = 32;

    /// <summary>Values in the pixel column: 1 channel × 32 × 32.</summary>
    public const int PixelCount = ImageSide * ImageSide;

    /// <summary>The label column: the character as a string ("A", "a", "7") or a key whose key values are those strings.</summary>
    public const string LabelColumnName = "Label";

    /// <summary>The network's input column: <see cref="PixelCount"/> floats.</summary>
    public const string PixelsColumnName = "Pixels";

    /// <summary>A decoded image column (<see cref="MLImage"/>), as ML.NET's <c>LoadImages</c> writes it.</summary>
    public const string ImageColumnName = "Image";

    /// <summary>A column of image file paths, as ML.NET's <c>LoadImages</c> reads it.</summary>
    public const string ImagePathColumnName = "ImagePath";

    /// <summary>The probabilities column: one per class, its slot names the class names.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>The predicted class as a key whose key values are the class names, in <see cref="ScoreColumnName"/> order.</summary>
    public const string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>The predicted class as a plain string, for apps that bind it to a <see cref="string"/> property.</summary>
    public const string PredictedCharacterColumnName = "PredictedCharacter";
}
