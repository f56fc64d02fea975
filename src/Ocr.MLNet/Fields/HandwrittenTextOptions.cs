namespace Ocr.MLNet.Fields;

/// <summary>Options of <see cref="HandwrittenTextEstimator"/> (<c>ReadHandwrittenText</c>).</summary>
public sealed class HandwrittenTextOptions
{
    /// <summary>The character model zip (a model written by <c>ocr-mlnet train</c> or <c>SaveCharacterModel</c>). Required.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>The image column (<see cref="MLImage"/>, from <c>LoadImages</c>). Default <c>Image</c>.</summary>
    public string InputColumnName { get; set; } = CharacterFormat.ImageColumnName;

    /// <summary>
    /// The text column to add. Default <c>Text</c>. Beside it come <c>{name}Confidence</c> (Single),
    /// <c>{name}Characters</c> (vector of String), <c>{name}CharacterConfidences</c> (vector of Single) and
    /// <c>{name}CharacterBoxes</c> (vector of Single: x, y, width, height per character).
    /// </summary>
    public string OutputColumnName { get; set; } = HandwrittenTextCatalog.DefaultOutputColumnName;

    /// <summary>What the fields hold, and the reader's limits. Default: alphanumeric.</summary>
    public FieldReaderOptions Reader { get; set; } = new();

    /// <summary>A copy, so that an estimator keeps the options it was made with.</summary>
    internal HandwrittenTextOptions Clone()
    {
        var copy = (HandwrittenTextOptions)MemberwiseClone();
        copy.Reader = Reader.Clone();
        return copy;
    }

    internal void Validate()
    {
        var problems = new List<string>();
        problems.Check(!string.IsNullOrWhiteSpace(ModelPath), nameof(ModelPath), ModelPath, "the path of a character model zip");
        problems.Check(!string.IsNullOrWhiteSpace(InputColumnName), nameof(InputColumnName), InputColumnName, "a column name");
        problems.Check(!string.IsNullOrWhiteSpace(OutputColumnName), nameof(OutputColumnName), OutputColumnName, "a column name");
        problems.ThrowIfAny("ReadHandwrittenText options");
        Reader.Validate();
    }
}
