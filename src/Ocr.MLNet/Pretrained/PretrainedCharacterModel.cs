using Ocr.MLNet.IO;

namespace Ocr.MLNet;

/// <summary>
/// The character model that ships inside Ocr.MLNet: the default recipe trained on EMNIST bymerge (47 classes: the digits,
/// the 26 capitals and the 11 lower-case letters that do not look like their capitals) less a balanced held-out split.
/// It reads image files or decoded images of one character, of any size and ink polarity, as a model saved by
/// <c>ocr-mlnet train</c> does. See the model card in the README for its accuracy, confusions and limits.
/// </summary>
/// <example>
/// <code>
/// ITransformer model = mlContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath);
/// using var engine = mlContext.Model.CreatePredictionEngine&lt;ImageFile, Prediction&gt;(model);
/// Console.WriteLine(engine.Predict(new ImageFile { ImagePath = "a.png" }).PredictedCharacter);
/// </code>
/// </example>
public static class PretrainedCharacterModel
{
    /// <summary>The model's name in messages and the manifest resource it is stored in.</summary>
    public const string Name = "ocr-mlnet-emnist47.zip";

    /// <summary>Opens the model zip (the format <c>mlContext.Model.Save</c> writes) for reading; the caller disposes the stream.</summary>
    /// <exception cref="InvalidOperationException">The assembly was built without the model (a build that skipped the resource).</exception>
    public static Stream OpenRead() =>
        typeof(PretrainedCharacterModel).Assembly.GetManifestResourceStream(Name)
        ?? throw new InvalidOperationException($"This build of Ocr.MLNet has no embedded '{Name}'. Use the NuGet package, or build from a checkout that has src/Ocr.MLNet/Pretrained/{Name}.");

    /// <summary>Writes the model zip to <paramref name="path"/> (atomically), for tools that take a model file.</summary>
    /// <param name="path">The file to create or replace.</param>
    public static void SaveTo(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var model = OpenRead();
        AtomicFile.Write(path, model);
    }
}
