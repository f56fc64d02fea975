using System.Diagnostics;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;

namespace WebDemo;

/// <summary>One class and its probability.</summary>
internal sealed record ClassProbability(string Label, float Probability);

/// <summary>
/// The reply to one image: what it holds (writing, blank or noise: <see cref="InkCheck"/>, as the CLI's predict), and for
/// writing the predicted label and the most probable classes, best first (empty otherwise).
/// </summary>
internal sealed record Recognition(string Content, string Label, IReadOnlyList<ClassProbability> Top, double Milliseconds);

/// <summary>
/// A loaded model zip and a pool of ML.NET prediction engines over it (a PredictionEngine is not thread-safe;
/// the pool lends one per request). Images come in memory, in the model's <c>Image</c> column.
/// </summary>
internal sealed class Recognizer : IDisposable
{
    public const int MaxUploadBytes = 2 * 1024 * 1024;
    /// <summary>The most pixels an upload may declare (width × height, read from its header before decoding): 2048 × 2048, 16 MiB decoded.</summary>
    public const long MaxPixels = 2048L * 2048;

    public const int TopCount = 5;

    /// <summary>How many uploads are decoded and recognized at once; the others wait up to <see cref="DecodeSlotWait"/>, then get 503.</summary>
    public static readonly int DecodeSlotCount = Math.Clamp(Environment.ProcessorCount, 2, 4);

    /// <summary>How long a request waits for a decode slot before it is answered 503.</summary>
    public static readonly TimeSpan DecodeSlotWait = TimeSpan.FromSeconds(30);

    private readonly ObjectPool<PredictionEngine<CharacterImage, CharacterPrediction>> _engines;
    private readonly ITransformer _model;
    private readonly string _temporaryFolder;

    private Recognizer(string modelName, IReadOnlyList<string> classNames, ObjectPool<PredictionEngine<CharacterImage, CharacterPrediction>> engines,
        ITransformer model, string temporaryFolder)
    {
        ModelName = modelName;
        ClassNames = classNames;
        _engines = engines;
        _model = model;
        _temporaryFolder = temporaryFolder;
    }

    public string ModelName { get; }

    /// <summary>Bounds the decodes and predictions in flight (and so the memory they take) to <see cref="DecodeSlotCount"/>.</summary>
    public SemaphoreSlim DecodeSlots { get; } = new(DecodeSlotCount, DecodeSlotCount);

    /// <summary>The classes in the order of the model's <c>Score</c> vector.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a model that classifies images.</exception>
    public static Recognizer Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model file '{path}' does not exist. Train one with 'ocr-mlnet train'.", path);

        // ML.NET keeps copies of the model's ONNX graphs in TempFilePath while the model lives: a private folder, deleted on Dispose.
        string temporaryFolder = Directory.CreateTempSubdirectory("webdemo-").FullName;
        var mlContext = new MLContext { TempFilePath = temporaryFolder };
        ITransformer? fromImage = null;
        try
        {
            // The part of the saved chain that reads in-memory images (a zip saved for image files starts with LoadImages),
            // its ONNX sessions on one intra-op thread each, so that requests run side by side on the cores.
            fromImage = mlContext.Model.LoadCharacterModel(path, CharacterModelInput.Image);
            var inputSchema = mlContext.Data.LoadFromEnumerable(Array.Empty<CharacterImage>()).Schema;
            var classNames = CharacterScores.GetClassNames(fromImage.GetOutputSchema(inputSchema));

            var pool = new DefaultObjectPool<PredictionEngine<CharacterImage, CharacterPrediction>>(
                new EnginePolicy(mlContext, fromImage), Math.Max(2, Environment.ProcessorCount * 2));
            var recognizer = new Recognizer(Path.GetFileName(path), classNames, pool, fromImage, temporaryFolder);
            recognizer.CheckOnBlankImage(path);
            return recognizer;
        }
        catch
        {
            (fromImage as IDisposable)?.Dispose();
            Directory.Delete(temporaryFolder, recursive: true);
            throw;
        }
    }

    /// <summary>Disposes the model (which deletes ML.NET's copies of its ONNX graphs) and the private temporary folder.</summary>
    public void Dispose()
    {
        (_model as IDisposable)?.Dispose();
        DecodeSlots.Dispose();
        try
        {
            Directory.Delete(_temporaryFolder, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"warning: could not delete '{_temporaryFolder}' ({e.Message}).");
        }
    }

    public Recognition Recognize(MLImage image)
    {
        var clock = Stopwatch.StartNew();
        var content = InkCheck.Inspect(image);
        if (content != ImageContent.Writing)
            return new Recognition(content.ToString().ToLowerInvariant(), "", [], clock.Elapsed.TotalMilliseconds);
        var engine = _engines.Get();
        CharacterPrediction prediction;
        try
        {
            prediction = engine.Predict(new CharacterImage { Image = image });
        }
        finally
        {
            _engines.Return(engine);
        }

        var top = prediction.TopK(ClassNames, TopCount)
            .Select(p => new ClassProbability(p.ClassName, p.Score))
            .ToList();
        return new Recognition("writing", prediction.PredictedCharacter, top, clock.Elapsed.TotalMilliseconds);
    }

    // Runs the chain once at start-up, so a model that cannot classify fails here, not at the first request.
    private void CheckOnBlankImage(string path)
    {
        using var blank = MLImage.CreateFromPixels(32, 32, MLPixelFormat.Bgra32, new byte[32 * 32 * 4]);
        var engine = _engines.Get();
        try
        {
            var prediction = engine.Predict(new CharacterImage { Image = blank });
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

    private sealed class EnginePolicy(MLContext mlContext, ITransformer model) : PooledObjectPolicy<PredictionEngine<CharacterImage, CharacterPrediction>>
    {
        // The recognizer owns the model and disposes it once, not each engine.
        public override PredictionEngine<CharacterImage, CharacterPrediction> Create() =>
            mlContext.Model.CreatePredictionEngine<CharacterImage, CharacterPrediction>(model, new PredictionEngineOptions { OwnsTransformer = false });

        public override bool Return(PredictionEngine<CharacterImage, CharacterPrediction> engine) => true;
    }
}
