using System.CommandLine;
using Microsoft.ML.Data;
using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary>The <c>--model</c> option of the commands that use a model, and the pretrained model when it is omitted.</summary>
internal static class CliModels
{
    public static Option<FileInfo?> ModelOption() => new("--model")
    {
        Description = $"The model zip (from ocr-mlnet train); default: the pretrained model inside Ocr.MLNet ({PretrainedCharacterModel.Name}).",
    };

    /// <summary>The part of <paramref name="model"/>, or of the pretrained model when it is null, that reads <paramref name="input"/>.</summary>
    public static ITransformer Load(MLContext mlContext, FileInfo? model, CharacterModelInput input)
    {
        if (model is not null)
            return mlContext.Model.LoadCharacterModel(model.FullName, input);
        AnnouncePretrained();
        return mlContext.Model.LoadPretrainedCharacterModel(input);
    }

    /// <summary>The batched API over <paramref name="model"/>, or over the pretrained model when it is null (for commands that score many images).</summary>
    public static CharacterRecognizer LoadRecognizer(MLContext mlContext, FileInfo? model, CharacterRecognizerOptions options)
    {
        if (model is not null)
            return mlContext.Model.LoadCharacterRecognizer(model.FullName, options);
        AnnouncePretrained();
        return mlContext.Model.LoadPretrainedCharacterRecognizer(options);
    }

    /// <summary>Says on stderr that the pretrained model is used (stdout may be JSON).</summary>
    public static void AnnouncePretrained() =>
        Console.Error.WriteLine($"Using the pretrained model {PretrainedCharacterModel.Name} (pass --model to use another).");

    /// <summary>The model's name for messages: the file, or the pretrained model.</summary>
    public static string Describe(FileInfo? model) => model?.FullName ?? $"the pretrained model {PretrainedCharacterModel.Name}";

    /// <summary>
    /// Saves <paramref name="scorer"/> (a model that reads prepared pixels) atomically to <paramref name="path"/> with ML.NET's
    /// LoadImages and this version's PrepareCharacterImages in front, so the zip reads image file paths. The chain saved is
    /// disposed afterwards, and the scorer with it.
    /// </summary>
    public static void SaveForImageFiles(MLContext mlContext, ITransformer scorer, string path)
    {
        var imagePaths = mlContext.Data.LoadFromEnumerable(Array.Empty<CharacterImagePath>());
        TransformerChain<ITransformer> chain;
        try
        {
            chain = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, CharacterFormat.ImagePathColumnName)
                .Append(mlContext.Transforms.PrepareCharacterImages())
                .Fit(imagePaths)
                .Append(scorer);
        }
        catch
        {
            (scorer as IDisposable)?.Dispose();
            throw;
        }

        using (chain)
            mlContext.Model.SaveCharacterModel(chain, imagePaths.Schema, path);
    }
}
