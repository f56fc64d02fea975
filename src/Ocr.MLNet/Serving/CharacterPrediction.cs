using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Ocr.MLNet.Serving;

/// <summary>
/// A character model's output row, for a <c>PredictionEngine</c> over any character model (<c>LoadCharacterModel</c>,
/// <c>LoadPretrainedCharacterModel</c>), and one image's result from <see cref="CharacterRecognizer.Predict(IReadOnlyList{MLImage})"/>.
/// </summary>
/// <example>
/// <code>
/// var engine = mlContext.Model.CreatePredictionEngine&lt;CharacterImagePath, CharacterPrediction&gt;(model);
/// var classes = CharacterScores.GetClassNames(engine.OutputSchema);
/// CharacterPrediction p = engine.Predict(new CharacterImagePath { ImagePath = "a.png" });
/// Console.WriteLine($"{p.PredictedCharacter} {p.Confidence:P1}, else {p.TopK(classes)[1].ClassName}");
/// </code>
/// </example>
public sealed class CharacterPrediction
{
    /// <summary>The most probable class (the model's <c>PredictedCharacter</c> column).</summary>
    public string PredictedCharacter { get; set; } = "";

    /// <summary>ML.NET's <c>PredictedLabel</c> key of the same class: 1 + its index in <see cref="Score"/> (0 is ML.NET's missing key).</summary>
    public uint PredictedLabel { get; set; }

    /// <summary>Every class's probability, in the model's class order (the <c>Score</c> column; its slot names are the classes).</summary>
    public float[] Score { get; set; } = [];

    /// <summary>The probability of <see cref="PredictedCharacter"/>: the largest of <see cref="Score"/>.</summary>
    [NoColumn]
    public float Confidence => Score.Length == 0 ? 0f : Score.Max();

    /// <summary>The <paramref name="k"/> most probable classes, best first (ties keep class order).</summary>
    /// <param name="classNames">The model's classes in <see cref="Score"/> order: <c>CharacterScores.GetClassNames(engine.OutputSchema)</c>, or <see cref="CharacterRecognizer.ClassNames"/>.</param>
    /// <param name="k">How many. Default 3.</param>
    public IReadOnlyList<ClassScore> TopK(IReadOnlyList<string> classNames, int k = 3) => CharacterScores.TopK(Score, classNames, k);
}

/// <summary>An input row of image file paths, for a <c>PredictionEngine</c> over a model that reads them (<c>CharacterModelInput.ImagePath</c>).</summary>
/// <example><code>engine.Predict(new CharacterImagePath { ImagePath = "samples/images/sd19/train_41_00999.png" });</code></example>
public sealed class CharacterImagePath
{
    /// <summary>The image file (the <c>ImagePath</c> column).</summary>
    public string ImagePath { get; set; } = "";
}

/// <summary>
/// An input row of decoded images, for a <c>PredictionEngine</c> over a model that reads them (<c>CharacterModelInput.Image</c>);
/// decode them with <see cref="Loading.ImageFiles"/>, which refuses truncated files and applies EXIF orientation. The
/// caller owns and disposes the image.
/// </summary>
/// <example><code>using var image = ImageFiles.Load("a.png"); engine.Predict(new CharacterImage { Image = image });</code></example>
public sealed class CharacterImage
{
    /// <summary>The image (the <c>Image</c> column), of any size: the model resizes it.</summary>
    [ImageType(CharacterFormat.ImageSide, CharacterFormat.ImageSide)]
    public MLImage? Image { get; set; }
}

/// <summary>An input row of prepared pixels (1×32×32, as the loaders write them), for a model that reads them (<c>CharacterModelInput.Pixels</c>).</summary>
/// <example><code>engine.Predict(new CharacterPixels { Pixels = pixels });</code></example>
public sealed class CharacterPixels
{
    /// <summary>The 1,024 pixels (the <c>Pixels</c> column), 0 for paper to 1 for ink.</summary>
    [VectorType(CharacterFormat.PixelCount)]
    public float[] Pixels { get; set; } = [];
}
