using System.Diagnostics;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Ocr.MLNet;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace WebDemo;

/// <summary>One class and its probability.</summary>
internal sealed record ClassProbability(string Label, float Probability);

/// <summary>The reply to one image: the predicted label and the most probable classes, best first.</summary>
internal sealed record Recognition(string Label, IReadOnlyList<ClassProbability> Top, double Milliseconds);

/// <summary>
/// A loaded model zip and a pool of ML.NET prediction engines over it (a PredictionEngine is not thread-safe;
/// the pool lends one per request). Images come in memory, in the model's <c>Image</c> column.
/// </summary>
internal sealed class Recognizer
{
    public const int MaxUploadBytes = 2 * 1024 * 1024;
    public const int MaxSide = 4096;
    public const int TopCount = 5;

    private readonly ObjectPool<PredictionEngine<ImageInput, Prediction>> _engines;

    private Recognizer(string modelName, IReadOnlyList<string> classNames, ObjectPool<PredictionEngine<ImageInput, Prediction>> engines)
    {
        ModelName = modelName;
        ClassNames = classNames;
        _engines = engines;
    }

    public string ModelName { get; }

    /// <summary>The classes in the order of the model's <c>Score</c> vector.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a model that classifies images.</exception>
    public static Recognizer Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model file '{path}' does not exist. Train one with 'ocr-mlnet train'.", path);

        var mlContext = new MLContext();
        ITransformer model;
        DataViewSchema inputSchema;
        try
        {
            model = mlContext.Model.Load(path, out inputSchema);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' is not a readable model: {e.Message}", e);
        }

        // The class names sit in the ONNX network inside the zip, in Score order.
        var classNames = CharacterModelFile.ReadClassNames(path);

        // A zip saved for image files starts with LoadImages (path → image): without it the chain reads
        // in-memory images. A zip saved for images reads them as they are.
        ITransformer fromImage;
        if (model is TransformerChain<ITransformer> chain && chain.FirstOrDefault() is ImageLoadingTransformer)
        {
            fromImage = new TransformerChain<ITransformer>(chain.Skip(1).ToArray());
        }
        else if (inputSchema.GetColumnOrNull(nameof(ImageInput.Image)) is { Type: ImageDataViewType })
        {
            fromImage = model;
        }
        else
        {
            throw new InvalidDataException(
                $"'{path}' reads column(s) {string.Join(", ", inputSchema.Select(c => $"'{c.Name}'"))}, neither image files ('ImagePath', first transform LoadImages) nor images ('Image'). Save it with CharacterImagePipeline.ForImageFiles or ForImages, or train it with 'ocr-mlnet train'.");
        }

        var pool = new DefaultObjectPool<PredictionEngine<ImageInput, Prediction>>(
            new EnginePolicy(mlContext, fromImage), Math.Max(2, Environment.ProcessorCount * 2));
        var recognizer = new Recognizer(Path.GetFileName(path), classNames, pool);
        recognizer.CheckOnBlankImage(path);
        return recognizer;
    }

    public Recognition Recognize(MLImage image)
    {
        var clock = Stopwatch.StartNew();
        var engine = _engines.Get();
        Prediction prediction;
        try
        {
            prediction = engine.Predict(new ImageInput { Image = image });
        }
        finally
        {
            _engines.Return(engine);
        }

        var top = prediction.Score
            .Select((probability, index) => new ClassProbability(ClassNames[index], probability))
            .OrderByDescending(p => p.Probability)
            .Take(TopCount)
            .ToList();
        return new Recognition(prediction.PredictedLabel, top, clock.Elapsed.TotalMilliseconds);
    }

    // Runs the chain once at start-up, so a model that cannot classify fails here, not at the first request.
    private void CheckOnBlankImage(string path)
    {
        using var blank = MLImage.CreateFromPixels(32, 32, MLPixelFormat.Bgra32, new byte[32 * 32 * 4]);
        var engine = _engines.Get();
        try
        {
            var prediction = engine.Predict(new ImageInput { Image = blank });
            if (prediction.Score.Length != ClassNames.Count)
            {
                throw new InvalidDataException(
                    $"'{path}' scores {prediction.Score.Length} classes but names {ClassNames.Count}; save the model again with Ocr.MLNet.");
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' could not classify a test image: {e.Message}", e);
        }
        finally
        {
            _engines.Return(engine);
        }
    }

    private sealed class EnginePolicy(MLContext mlContext, ITransformer model) : PooledObjectPolicy<PredictionEngine<ImageInput, Prediction>>
    {
        public override PredictionEngine<ImageInput, Prediction> Create() =>
            mlContext.Model.CreatePredictionEngine<ImageInput, Prediction>(model);

        public override bool Return(PredictionEngine<ImageInput, Prediction> engine) => true;
    }

    internal sealed class ImageInput
    {
        // ML.NET needs a declared size for an image column; the model resizes whatever it gets.
        [ImageType(32, 32)]
        public MLImage? Image { get; set; }
    }

    internal sealed class Prediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedLabel { get; set; } = "";
    }
}
