using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ocr.MLNet.Tests;

/// <summary>Image files through the saved model's in-model preprocessing, and the largest pixel difference of two images.</summary>
internal static class ImagePixels
{
    public static float[][] PixelsByPath(MLContext mlContext, IEnumerable<string> paths)
    {
        var input = mlContext.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }).ToList());
        // Disposing the chain deletes ML.NET's temporary copy of the preparation graph.
        using var preparation = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
            .Append(mlContext.Transforms.PrepareCharacterImages())
            .Fit(input);
        return [.. preparation.Transform(input).GetColumn<float[]>(CharacterFormat.PixelsColumnName)];
    }

    public static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
