using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

// Classifies image files with a model zip saved by Ocr.MLNet (for example by `ocr-mlnet train`), twice per
// image: once from the file path, once from an in-memory MLImage. Prints: file, label (path), label (image), score.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: PredictPerImage MODEL.zip IMAGE [IMAGE...]");
    return 2;
}

var mlContext = new MLContext();
ITransformer model;
try
{
    model = mlContext.Model.Load(args[0], out _);
}
catch (Exception e) when (e is IOException or InvalidDataException or FormatException or InvalidOperationException or ArgumentException)
{
    Console.Error.WriteLine($"'{args[0]}' is not a readable model: {e.Message}");
    return 1;
}

// The saved chain starts with LoadImages (path → image); without it, the same chain reads in-memory images.
if (model is not TransformerChain<ITransformer> chain || chain.FirstOrDefault() is not ImageLoadingTransformer)
{
    string parts = model is TransformerChain<ITransformer> c ? string.Join(", ", c.Select(t => t.GetType().Name)) : model.GetType().Name;
    Console.Error.WriteLine($"'{args[0]}' does not start by loading image files ({parts}); save it with CharacterImagePipeline.ForImageFiles.");
    return 1;
}

var fromImage = new TransformerChain<ITransformer>(chain.Skip(1).ToArray());
using var pathEngine = mlContext.Model.CreatePredictionEngine<PathInput, Prediction>(model);
using var imageEngine = mlContext.Model.CreatePredictionEngine<ImageInput, Prediction>(fromImage);

foreach (string file in args.Skip(1))
{
    if (!File.Exists(file))
    {
        Console.Error.WriteLine($"'{file}' does not exist.");
        return 1;
    }

    var byPath = pathEngine.Predict(new PathInput { ImagePath = file });
    using var image = MLImage.CreateFromFile(file);
    var byImage = imageEngine.Predict(new ImageInput { Image = image });
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{Path.GetFileName(file)}\t{byPath.PredictedLabel}\t{byImage.PredictedLabel}\t{byPath.Score.Max():F6}"));
}

return 0;

internal sealed class PathInput
{
    public string ImagePath { get; set; } = "";
}

internal sealed class ImageInput
{
    // ML.NET needs a declared size for an image column; the model resizes whatever it gets first.
    [ImageType(32, 32)]
    public MLImage? Image { get; set; }
}

internal sealed class Prediction
{
    public float[] Score { get; set; } = [];

    public string PredictedLabel { get; set; } = "";
}
