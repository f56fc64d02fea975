using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Tests;

/// <summary>Image files through the saved model's in-model preprocessing, and the largest pixel difference of two images.</summary>
internal static class ImagePixels
{
    public static float[][] PixelsByPath(MLContext mlContext, IEnumerable<string> paths)
    {
        var input = mlContext.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }).ToList());
        var output = CharacterImagePipeline.FromImagePaths(mlContext).Fit(input).Transform(input);
        return [.. output.GetColumn<float[]>(CharacterImagePipeline.PixelsColumnName)];
    }

    public static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
