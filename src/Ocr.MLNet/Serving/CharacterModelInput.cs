namespace Ocr.MLNet.Serving;

/// <summary>What a loaded character model should read, for <c>mlContext.Model.LoadCharacterModel(path, input)</c>.</summary>
public enum CharacterModelInput
{
    /// <summary>Image file paths in an <c>ImagePath</c> column (text): the whole saved chain.</summary>
    ImagePath = 0,

    /// <summary>Decoded images (<see cref="MLImage"/>) in an <c>Image</c> column: the chain after <c>LoadImages</c>.</summary>
    Image = 1,

    /// <summary>Prepared 1×32×32 pixels in a <c>Pixels</c> column (what the loaders give): the scorer alone.</summary>
    Pixels = 2,
}
