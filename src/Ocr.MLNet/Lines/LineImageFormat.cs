namespace Ocr.MLNet.Lines;

/// <summary>The line recognizer's image format, alphabets and column names.</summary>
internal static class LineImageFormat
{
    /// <summary>Height of a prepared line, in pixels: the whole field is scaled to fit 256×32 keeping its aspect ratio (ML.NET's IsoPad).</summary>
    public const int Height = 32;

    /// <summary>Width of a prepared line, in pixels.</summary>
    public const int Width = 256;

    /// <summary>Pixels of a prepared line.</summary>
    public const int PixelCount = Height * Width;

    /// <summary>Time steps the network gives a line: one per four columns.</summary>
    public const int TimeSteps = Width / 4;

    /// <summary>The longest text a line may hold: CTC needs a step per character and a blank between doubled ones.</summary>
    public const int MaxTextLength = TimeSteps / 2;

    /// <summary>Every character a field may hold: digits, capitals, small letters, space, hyphen and apostrophe.</summary>
    public const string DefaultAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -'";

    /// <summary>The column the recognizer writes the text to.</summary>
    public const string TextColumnName = "Text";

    /// <summary>The column the recognizer writes the text's confidence to (a probability in [0, 1]).</summary>
    public const string ConfidenceColumnName = "TextConfidence";

    /// <summary>The column that holds, per character of the text, its centre along the prepared line as a fraction of its width.</summary>
    public const string CharacterPositionsColumnName = "CharacterPositions";

    /// <summary>The per-step probabilities: <c>float[TimeSteps × (1 + alphabet)]</c>, class 0 the CTC blank.</summary>
    public const string ScoreColumnName = CharacterFormat.ScoreColumnName;
}
