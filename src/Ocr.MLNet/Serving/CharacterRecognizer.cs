using System.Buffers;
using System.IO.Compression;
using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Onnx;

namespace Ocr.MLNet.Serving;

/// <summary>
/// Scores many images at once with a saved character model: the model's preprocessing graph and network run in ONNX
/// Runtime over batches (ML.NET's <c>Transform</c> and <c>PredictionEngine</c> call ONNX Runtime once per image), and return
/// the scores the model's <c>PredictionEngine</c> returns for the same images.
/// </summary>
/// <remarks>
/// <para>
/// The recognizer reads the ONNX graphs that a model saved by <c>mlContext.Model.SaveCharacterModel</c> or <c>ocr-mlnet train</c>
/// carries, and opens one ONNX Runtime session per graph, kept for the recognizer's lifetime. Images are resized and split
/// into A, R, G, B planes as the saved chain's <c>ResizeImages</c> and <c>ExtractPixels</c> do.
/// </para>
/// <para>
/// Thread safety: the scoring methods may be called from several threads at once (ONNX Runtime's sessions allow
/// concurrent runs, and every call uses buffers of its own). <see cref="Dispose"/> must not run while a call is in progress.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var recognizer = CharacterRecognizer.Load("ocr.zip");
/// using var image = MLImage.CreateFromFile("char.png");
/// CharacterPrediction best = recognizer.Predict([image])[0];
/// Console.WriteLine($"{best.PredictedCharacter} {best.Score:P1}");
/// </code>
/// </example>
public sealed class CharacterRecognizer : IDisposable
{
    private readonly InferenceSession network;
    private readonly InferenceSession? preprocessing;
    private readonly RunOptions runOptions = new();
    private readonly string[] networkInputs;
    private readonly string[] preprocessingInputs = [CharacterPreprocessingGraph.InputColumnName];
    private static readonly string[] ScoreOutput = [CharacterFormat.ScoreColumnName];
    private readonly int imageSide;
    private readonly int batchSize;
    private bool disposed;

    private CharacterRecognizer(InferenceSession network, string networkInput, string[] classNames, InferenceSession? preprocessing, int imageSide, int batchSize)
    {
        this.network = network;
        this.preprocessing = preprocessing;
        networkInputs = [networkInput];
        ClassNames = classNames;
        this.imageSide = imageSide;
        this.batchSize = batchSize;
    }

    /// <summary>The class names in score order (the model's <c>Score</c> slot names).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Whether the model carries the image preprocessing (it was saved with <c>PrepareCharacterImages</c> in front),
    /// so that <see cref="ScoreImages"/> and <see cref="ScoreImageFiles"/> work; a model of the network alone scores pixels only.</summary>
    public bool CanScoreImages => preprocessing is not null;

    /// <summary>Loads the saved character model at <paramref name="modelPath"/>.</summary>
    /// <param name="modelPath">A model zip saved by <c>mlContext.Model.SaveCharacterModel</c> or <c>ocr-mlnet train</c>.</param>
    /// <param name="options">Batch size and threads; <see langword="null"/> for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is damaged or not a character model (the message names it).</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> holds invalid values (all are listed).</exception>
    /// <example>
    /// <code>
    /// using var recognizer = CharacterRecognizer.Load("ocr.zip", new CharacterRecognizerOptions { BatchSize = 128 });
    /// </code>
    /// </example>
    public static CharacterRecognizer Load(string modelPath, CharacterRecognizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"The model file '{modelPath}' does not exist. Train one with 'ocr-mlnet train' or save one with mlContext.Model.SaveCharacterModel.", modelPath);
        using var file = File.OpenRead(modelPath);
        return Load(file, modelPath, options);
    }

    /// <summary>Loads a saved character model from a stream (for example an embedded resource); the stream is read, not kept.</summary>
    /// <param name="modelZip">The model zip's bytes, as <c>mlContext.Model.SaveCharacterModel</c> writes them.</param>
    /// <param name="options">Batch size and threads; <see langword="null"/> for the defaults.</param>
    /// <exception cref="InvalidDataException">The bytes are damaged or not a character model.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> holds invalid values (all are listed).</exception>
    /// <example>
    /// <code>
    /// using var stream = typeof(App).Assembly.GetManifestResourceStream("App.ocr.zip")!;
    /// using var recognizer = CharacterRecognizer.Load(stream);
    /// </code>
    /// </example>
    public static CharacterRecognizer Load(Stream modelZip, CharacterRecognizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(modelZip);
        return Load(modelZip, modelZip is FileStream file ? file.Name : "the model stream", options);
    }

    private static CharacterRecognizer Load(Stream stream, string name, CharacterRecognizerOptions? options)
    {
        options = options?.Clone() ?? new CharacterRecognizerOptions();
        options.Validate();
        List<byte[]> graphs;
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            CharacterModelLoader.VerifyChecksums(zip, name);
            graphs = CharacterModelLoader.OnnxModels(zip, name);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith($"'{name}'", StringComparison.Ordinal))
        {
            throw CharacterModelLoader.NotAModel(name, e.Message.TrimEnd('.'), e);
        }

        var (networkOnnx, networkInput, classNames) = FindNetwork(graphs, name);
        byte[]? preprocessingOnnx = FindPreprocessing(graphs, networkInput, out int side);

        using var sessionOptions = new SessionOptions { IntraOpNumThreads = options.IntraOpThreads };
        InferenceSession? networkSession = null, preprocessingSession = null;
        try
        {
            networkSession = new InferenceSession(networkOnnx, sessionOptions);
            if (preprocessingOnnx is not null)
                preprocessingSession = new InferenceSession(preprocessingOnnx, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            networkSession?.Dispose();
            throw CharacterModelLoader.NotAModel(name, $"ONNX Runtime cannot open its graphs ({e.Message.TrimEnd('.')})", e);
        }

        var recognizer = new CharacterRecognizer(networkSession, networkInput, classNames, preprocessingSession, side, options.BatchSize);
        // A network whose weights went to NaN scores every image NaN; one blank image tells, as LoadCharacterModel checks.
        if (!recognizer.ScorePixels(new float[CharacterFormat.PixelCount]).All(float.IsFinite))
        {
            recognizer.Dispose();
            throw CharacterModelLoader.NotAModel(name, CharacterModelLoader.NonFiniteScores, null);
        }

        return recognizer;
    }

    private static (byte[] Onnx, string Input, string[] ClassNames) FindNetwork(List<byte[]> graphs, string name)
    {
        foreach (byte[] graph in graphs)
        {
            try
            {
                var (input, classNames) = ScoringChain.ReadSignature(graph);
                return (graph, input, classNames);
            }
            catch (ArgumentException)
            {
                // Not the network (the preprocessing graph, or another ONNX model in the chain): look further.
            }
        }

        throw CharacterModelLoader.NotAModel(name, graphs.Count == 0
            ? "it holds no ONNX model, so it is not a character model saved by Ocr.MLNet"
            : $"none of its {graphs.Count} ONNX models is an Ocr.MLNet network (one with a Score output and class names)", null);
    }

    /// <summary>The preprocessing graph that writes the network's input, and the side of the images it reads; null when the model has none.</summary>
    private static byte[]? FindPreprocessing(List<byte[]> graphs, string networkInput, out int side)
    {
        foreach (byte[] bytes in graphs)
        {
            GraphProto? graph;
            try
            {
                graph = ModelProto.Parser.ParseFrom(bytes).Graph;
            }
            catch (Google.Protobuf.InvalidProtocolBufferException)
            {
                continue;
            }

            if (graph is { Input.Count: 1, Output.Count: 1 } && graph.Input[0].Name == CharacterPreprocessingGraph.InputColumnName
                && graph.Output[0].Name == networkInput && graph.Input[0].Type?.TensorType?.Shape?.Dim is { Count: 4 } dims)
            {
                side = (int)dims[2].DimValue;
                return bytes;
            }
        }

        side = 0;
        return null;
    }

    /// <summary>Scores prepared pixels: <c>N</c> images of 1×32×32 floats each, as <c>PrepareCharacterImages</c> and the loaders write them.</summary>
    /// <param name="pixels">N × 1,024 floats, one image after the other.</param>
    /// <returns>N × <see cref="ClassNames"/>.Count probabilities, row-major (image i's scores start at i · ClassNames.Count).</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of 1,024.</exception>
    /// <example>
    /// <code>
    /// float[] scores = recognizer.ScorePixels(pixels); // pixels: float[N * 1024]
    /// int classes = recognizer.ClassNames.Count;
    /// var first = CharacterScores.TopK(scores.AsSpan(0, classes), recognizer.ClassNames, 3);
    /// </code>
    /// </example>
    public float[] ScorePixels(ReadOnlySpan<float> pixels)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (pixels.Length % CharacterFormat.PixelCount != 0)
        {
            throw new ArgumentException(
                $"pixels holds {pixels.Length} floats, which is not a whole number of images of {CharacterFormat.PixelCount} (1×32×32); pass N × {CharacterFormat.PixelCount} floats.",
                nameof(pixels));
        }

        int count = pixels.Length / CharacterFormat.PixelCount;
        int classes = ClassNames.Count;
        var scores = new float[count * classes];
        float[] buffer = ArrayPool<float>.Shared.Rent(Math.Min(count, batchSize) * CharacterFormat.PixelCount);
        try
        {
            for (int start = 0; start < count; start += batchSize)
            {
                int n = Math.Min(batchSize, count - start);
                int length = n * CharacterFormat.PixelCount;
                pixels.Slice(start * CharacterFormat.PixelCount, length).CopyTo(buffer);
                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, length),
                    [n, 1, CharacterFormat.ImageSide, CharacterFormat.ImageSide]);
                RunNetwork(input, scores.AsSpan(start * classes, n * classes));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }

        return scores;
    }

    /// <summary>Scores decoded images of any size through the model's preprocessing, as the saved model scores them.</summary>
    /// <param name="images">The images; they are read, not disposed.</param>
    /// <returns>N × <see cref="ClassNames"/>.Count probabilities, row-major.</returns>
    /// <exception cref="ArgumentException">An image is null (the message gives its index).</exception>
    /// <exception cref="InvalidOperationException">The model carries no preprocessing (<see cref="CanScoreImages"/> is false).</exception>
    /// <example>
    /// <code>
    /// float[] scores = recognizer.ScoreImages(images); // IReadOnlyList&lt;MLImage&gt;
    /// </code>
    /// </example>
    public float[] ScoreImages(IReadOnlyList<MLImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return ScoreDecoded(images.Count, i => images[i] ?? throw new ArgumentException($"images[{i}] is null; pass decoded images.", nameof(images)), dispose: false);
    }

    /// <summary>Decodes and scores image files (PNG, JPEG, BMP, ...), as the saved model scores image paths.</summary>
    /// <param name="paths">The image files.</param>
    /// <returns>N × <see cref="ClassNames"/>.Count probabilities, row-major.</returns>
    /// <exception cref="CharacterDataException">A file does not exist, is not a decodable image, or declares more than 4096×4096 pixels (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The model carries no preprocessing (<see cref="CanScoreImages"/> is false).</exception>
    /// <example>
    /// <code>
    /// float[] scores = recognizer.ScoreImageFiles(Directory.GetFiles("chars", "*.png"));
    /// </code>
    /// </example>
    public float[] ScoreImageFiles(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return ScoreDecoded(paths.Count, i => Decode(paths[i], i), dispose: true);
    }

    /// <summary>The best class and the <paramref name="topK"/> best of every image (<see cref="ScoreImages"/>).</summary>
    /// <param name="images">The images; they are read, not disposed.</param>
    /// <param name="topK">How many of the best classes each result lists. Default 3.</param>
    /// <returns>One prediction per image, in order.</returns>
    /// <example>
    /// <code>
    /// foreach (CharacterPrediction p in recognizer.Predict(images))
    ///     Console.WriteLine($"{p.PredictedCharacter} {p.Score:P1}, then {p.TopK[1].ClassName}");
    /// </code>
    /// </example>
    public IReadOnlyList<CharacterPrediction> Predict(IReadOnlyList<MLImage> images, int topK = 3) => ToPredictions(ScoreImages(images), topK);

    /// <summary>The best class and the <paramref name="topK"/> best of every image file (<see cref="ScoreImageFiles"/>).</summary>
    /// <param name="paths">The image files.</param>
    /// <param name="topK">How many of the best classes each result lists. Default 3.</param>
    /// <returns>One prediction per file, in order.</returns>
    /// <example>
    /// <code>
    /// CharacterPrediction p = recognizer.PredictImageFiles(["char.png"])[0];
    /// </code>
    /// </example>
    public IReadOnlyList<CharacterPrediction> PredictImageFiles(IReadOnlyList<string> paths, int topK = 3) => ToPredictions(ScoreImageFiles(paths), topK);

    /// <summary>The best class and the <paramref name="topK"/> best of every prepared pixel image (<see cref="ScorePixels"/>).</summary>
    /// <param name="pixels">N × 1,024 floats.</param>
    /// <param name="topK">How many of the best classes each result lists. Default 3.</param>
    /// <returns>One prediction per image, in order.</returns>
    /// <example>
    /// <code>
    /// CharacterPrediction p = recognizer.PredictPixels(pixels)[0];
    /// </code>
    /// </example>
    public IReadOnlyList<CharacterPrediction> PredictPixels(ReadOnlySpan<float> pixels, int topK = 3) => ToPredictions(ScorePixels(pixels), topK);

    /// <summary>Turns row-major scores (as the Score methods return them) into one prediction per image.</summary>
    /// <param name="scores">N × <see cref="ClassNames"/>.Count probabilities.</param>
    /// <param name="topK">How many of the best classes each result lists (at least 1).</param>
    /// <exception cref="ArgumentException">The length is not a multiple of the class count.</exception>
    /// <example>
    /// <code>
    /// var predictions = recognizer.ToPredictions(recognizer.ScorePixels(pixels), topK: 5);
    /// </code>
    /// </example>
    public IReadOnlyList<CharacterPrediction> ToPredictions(ReadOnlySpan<float> scores, int topK = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        int classes = ClassNames.Count;
        if (scores.Length % classes != 0)
            throw new ArgumentException($"scores holds {scores.Length} floats, which is not a whole number of rows of {classes} classes; pass what a Score method returned.", nameof(scores));
        var predictions = new CharacterPrediction[scores.Length / classes];
        for (int i = 0; i < predictions.Length; i++)
        {
            var best = CharacterScores.TopK(scores.Slice(i * classes, classes), ClassNames, topK);
            predictions[i] = new CharacterPrediction(best[0].ClassName, best[0].Score, best);
        }

        return predictions;
    }

    /// <summary>Releases the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        network.Dispose();
        preprocessing?.Dispose();
        runOptions.Dispose();
    }

    private float[] ScoreDecoded(int count, Func<int, MLImage> image, bool dispose)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (preprocessing is null)
        {
            throw new InvalidOperationException(
                "This model was saved without PrepareCharacterImages in front of the network, so it scores prepared pixels only: use ScorePixels, or save the model with LoadImages and PrepareCharacterImages in front (as 'ocr-mlnet train' does).");
        }

        int classes = ClassNames.Count;
        int imageFloats = CharacterPreprocessingGraph.InputChannels * imageSide * imageSide;
        var scores = new float[count * classes];
        float[] buffer = ArrayPool<float>.Shared.Rent(Math.Min(count, batchSize) * imageFloats);
        try
        {
            for (int start = 0; start < count; start += batchSize)
            {
                int n = Math.Min(batchSize, count - start);
                for (int j = 0; j < n; j++)
                {
                    var current = image(start + j);
                    try
                    {
                        ArgbPlanes.Extract(current, imageSide, buffer.AsSpan(j * imageFloats, imageFloats));
                    }
                    finally
                    {
                        if (dispose)
                            current.Dispose();
                    }
                }

                using var planes = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, n * imageFloats),
                    [n, CharacterPreprocessingGraph.InputChannels, imageSide, imageSide]);
                using var prepared = preprocessing.Run(runOptions, preprocessingInputs, [planes], networkInputs);
                RunNetwork(prepared[0], scores.AsSpan(start * classes, n * classes));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }

        return scores;
    }

    private void RunNetwork(OrtValue input, Span<float> scores)
    {
        using var results = network.Run(runOptions, networkInputs, [input], ScoreOutput);
        results[0].GetTensorDataAsSpan<float>().CopyTo(scores);
    }

    private static MLImage Decode(string? path, int index)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"paths[{index}] is empty; pass image file paths.", "paths");
        ImageHeader.Check(path);
        try
        {
            return MLImage.CreateFromFile(path);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or IOException)
        {
            throw new CharacterDataException($"The image '{path}' could not be decoded ({e.Message.TrimEnd('.')}); pass a PNG, JPEG or BMP file.", path, e);
        }
    }
}
