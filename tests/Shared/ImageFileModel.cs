using Microsoft.ML;

namespace Ocr.MLNet.Tests;

/// <summary>Saves a model trained on pixels as <c>ocr-mlnet train</c> does: LoadImages and PrepareCharacterImages in front.</summary>
internal static class ImageFileModel
{
    public static string Save(MLContext mlContext, ITransformer pixelModel, string path)
    {
        var input = mlContext.Data.LoadFromEnumerable(Array.Empty<PathRow>());
        var forFiles = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, CharacterFormat.ImagePathColumnName)
            .Append(mlContext.Transforms.PrepareCharacterImages())
            .Fit(input)
            .Append(pixelModel);
        mlContext.Model.Save(forFiles, input.Schema, path);
        return path;
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
