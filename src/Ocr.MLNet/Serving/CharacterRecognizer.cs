using System.Buffers;
using System.IO.Compression;
using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Onnx;
using Ocr.MLNet.IO;
using Ocr.MLNet.Training;

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
/// using var recognizer = mlContext.Model.LoadCharacterRecognizer("ocr.zip");
/// using var image = ImageFiles.Load("char.png");
/// CharacterPrediction best = recognizer.Predict([image])[0];
/// Console.WriteLine($"{best.PredictedCharacter} {best.Confidence:P1}");
/// </code>
/// </example>
public sealed class CharacterRecognizer : IDisposable
{
    private readonly InferenceSession network;
    private readonly InferenceSession? preprocessing;
    private readonly RunOptions runOptions = new();
    private readonly string[] networkInputs;
    private readonly string[] preprocessingInputs;
    /// <summary>Whether the preprocessing graph reads byte planes (graphs saved before read floats scaled by 1/255).</summary>
    private readonly bool planesAsBytes;
    private static readonly string[] ScoreOutput = [CharacterFormat.ScoreColumnName];
    /// <summary>Images per preprocessing run: 16 images' planes and intermediates fit in cache; larger runs were slower here.</summary>
    private const int PreprocessingChunk = 16;

    /// <summary>
    /// Preprocessing runs at once on the CPU, each on one thread of its own: the graph's many small kernels lose more to
    /// handing work between threads than they gain (one thread ran it 1.3× faster for one image and 1.4× for 16 on two
    /// cores), so the cores take whole chunks instead.
    /// </summary>
    private readonly int preprocessingWorkers;

    private readonly int imageSide;
    private readonly int batchSize;
    private bool testTimeAugmentation;
    private bool disposed;

    /// <summary>The one-pixel shifts (x, y) whose scores <see cref="CharacterRecognizerOptions.TestTimeAugmentation"/> averages with the image's own.</summary>
    private static readonly (int X, int Y)[] TestTimeShifts = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)];

    private CharacterRecognizer(InferenceSession network, string networkInput, string[] classNames, InferenceSession? preprocessing, int imageSide, int batchSize,
        int preprocessingWorkers)
    {
        this.network = network;
        this.preprocessing = preprocessing;
        preprocessingInputs = [preprocessing?.InputMetadata.Keys.Single() ?? CharacterPreprocessingGraph.InputColumnName];
        planesAsBytes = preprocessingInputs[0] == CharacterPreprocessingGraph.InputColumnName;
        networkInputs = [networkInput];
        ClassNames = classNames;
        this.imageSide = imageSide;
        this.batchSize = batchSize;
        this.preprocessingWorkers = preprocessingWorkers;
    }

    /// <summary>Whether the recognizer scores on the GPU that <see cref="CharacterRecognizerOptions.GpuDeviceId"/> named (false on the
    /// CPU, also after <see cref="CharacterRecognizerOptions.FallbackToCpu"/> fell back).</summary>
    public bool UsesGpu { get; private init; }

    /// <summary>Whether the network scores in 8-bit integers (<see cref="CharacterRecognizerOptions.Int8Network"/> asked for it
    /// and the model carries its activation ranges); false for float32.</summary>
    public bool UsesInt8 { get; private init; }

    /// <summary>The intra-op threads of the network's session, as its ONNX Runtime session options were given them.</summary>
    internal int NetworkIntraOpThreads { get; private init; }

    /// <summary>The class names in score order (the model's <c>Score</c> slot names).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Whether the model carries the image preprocessing (it was saved with <c>PrepareCharacterImages</c> in front),
    /// so that <see cref="Score(IReadOnlyList{MLImage})"/> and <see cref="Score(IReadOnlyList{string})"/> work; a model of the network alone scores pixels only.</summary>
    public bool CanScoreImages => preprocessing is not null;

    /// <summary>Loads the saved character model at <paramref name="modelPath"/>.</summary>
    /// <param name="modelPath">A model zip saved by <c>mlContext.Model.SaveCharacterModel</c> or <c>ocr-mlnet train</c>.</param>
    /// <param name="options">Batch size and threads; <see langword="null"/> for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is damaged or not a character model (the message names it).</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> holds invalid values (all are listed).</exception>
    /// <exception cref="InvalidOperationException"><see cref="CharacterRecognizerOptions.GpuDeviceId"/> is set, the GPU cannot be used,
    /// and <see cref="CharacterRecognizerOptions.FallbackToCpu"/> is false (the message says what is missing).</exception>
    /// <example>
    /// <code>
    /// using var recognizer = CharacterRecognizer.Load("ocr.zip", new CharacterRecognizerOptions { BatchSize = 128 });
    /// </code>
    /// </example>
    internal static CharacterRecognizer Load(string modelPath, CharacterRecognizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"The model file '{modelPath}' does not exist. Train one with 'ocr-mlnet train' or save one with mlContext.Model.SaveCharacterModel.", modelPath);
        using var file = BoundedFile.OpenRead(modelPath);
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
    internal static CharacterRecognizer Load(Stream modelZip, CharacterRecognizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(modelZip);
        return Load(modelZip, modelZip is FileStream file ? file.Name : "the model stream", options);
    }

    internal static CharacterRecognizer Load(Stream stream, string name, CharacterRecognizerOptions? options)
    {
        options = options?.Clone() ?? new CharacterRecognizerOptions();
        options.Validate();
        var graphs = CharacterModelLoader.ReadZip(stream, name, zip =>
        {
            CharacterModelLoader.VerifyChecksums(zip, name);
            return CharacterModelLoader.OnnxModels(zip, name);
        });

        var (networkOnnx, networkInput, classNames) = CharacterModelLoader.FindNetwork(graphs, name);
        networkOnnx = BatchNormFolding.Fold(networkOnnx);
        bool usesInt8 = false;
        if (options.Int8Network && options.GpuDeviceId is null && Int8Quantization.TryQuantize(networkOnnx, out byte[]? int8Onnx,
                options.Int8WeightLevels ?? Int8Quantization.WeightLevelsForThisCpu()))
            (networkOnnx, usesInt8) = (int8Onnx, true);
        byte[]? preprocessingOnnx = FindPreprocessing(graphs, networkInput, out int side);

        // ONNX Runtime's own default (one thread per physical core) is one thread on machines where it cannot count the cores,
        // which leaves the others idle during a batch's network run: the batch policy instead.
        int threads = ServingThreads.ForBatches(options.IntraOpThreads);
        const string GpuSetting = $"{nameof(CharacterRecognizerOptions)}.{nameof(CharacterRecognizerOptions.GpuDeviceId)}";
        InferenceSession networkSession;
        InferenceSession? preprocessingSession;
        bool usesGpu = false;
        int networkThreads;
        try
        {
            var sessionOptions = OnnxRuntimeGpu.CreateSessionOptions(threads, options.GpuDeviceId, options.FallbackToCpu, GpuSetting, out usesGpu);
            networkThreads = sessionOptions.IntraOpNumThreads;
            (networkSession, preprocessingSession) = OpenSessions(networkOnnx, preprocessingOnnx, sessionOptions, usesGpu);
        }
        catch (OnnxRuntimeException) when (usesGpu && options.FallbackToCpu)
        {
            // The CUDA provider loaded but the device would not open (a wrong number, a busy or absent GPU): the CPU, as asked.
            usesGpu = false;
            var cpuOptions = new SessionOptions { IntraOpNumThreads = threads };
            networkThreads = cpuOptions.IntraOpNumThreads;
            (networkSession, preprocessingSession) = OpenSessions(networkOnnx, preprocessingOnnx, cpuOptions, usesGpu);
        }
        catch (OnnxRuntimeException e) when (usesGpu)
        {
            throw new InvalidOperationException(
                $"{GpuSetting} is {options.GpuDeviceId}, but ONNX Runtime cannot open '{name}' on that GPU ({e.Message.TrimEnd('.')}). "
                + "Check the device number (nvidia-smi lists them), or set FallbackToCpu to score on the CPU.", e);
        }
        catch (OnnxRuntimeException e)
        {
            throw CharacterModelLoader.NotAModel(name, $"ONNX Runtime cannot open its graphs ({e.Message.TrimEnd('.')})", e);
        }

        int workers = usesGpu ? 1 : threads;
        var recognizer = new CharacterRecognizer(networkSession, networkInput, classNames, preprocessingSession, side, options.BatchSize, workers)
        {
            testTimeAugmentation = options.TestTimeAugmentation,
            UsesGpu = usesGpu,
            UsesInt8 = usesInt8,
            NetworkIntraOpThreads = networkThreads,
        };
        // A network whose weights went to NaN scores every image NaN; one blank image tells, as LoadCharacterModel checks.
        if (!recognizer.ScorePixels(new float[CharacterFormat.PixelCount]).All(float.IsFinite))
        {
            recognizer.Dispose();
            throw CharacterModelLoader.NotAModel(name, CharacterModelLoader.NonFiniteScores, null);
        }

        return recognizer;
    }

    /// <summary>
    /// Opens the network's session with <paramref name="sessionOptions"/>, which it disposes, and the preprocessing graph's
    /// (when there is one) with the same options on a GPU, on one intra-op thread on the CPU (see <see cref="preprocessingWorkers"/>).
    /// </summary>
    private static (InferenceSession Network, InferenceSession? Preprocessing) OpenSessions(byte[] networkOnnx, byte[]? preprocessingOnnx, SessionOptions sessionOptions,
        bool usesGpu)
    {
        using (sessionOptions)
        using (var oneThread = new SessionOptions { IntraOpNumThreads = ServingThreads.PerImage })
        {
            var networkSession = new InferenceSession(networkOnnx, sessionOptions);
            try
            {
                return (networkSession, preprocessingOnnx is null ? null : new InferenceSession(preprocessingOnnx, usesGpu ? sessionOptions : oneThread));
            }
            catch
            {
                networkSession.Dispose();
                throw;
            }
        }
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

            if (graph is { Input.Count: 1, Output.Count: 1 }
                && graph.Input[0].Name is CharacterPreprocessingGraph.InputColumnName or CharacterPreprocessingGraph.FloatInputColumnName
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
                RunNetwork(buffer.AsMemory(0, length), n, scores.AsSpan(start * classes, n * classes));
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
    /// float[] scores = recognizer.Score(images); // IReadOnlyList&lt;MLImage&gt;
    /// </code>
    /// </example>
    public float[] Score(IReadOnlyList<MLImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return ScoreDecoded(images.Count, i => images[i] ?? throw new ArgumentException($"images[{i}] is null; pass decoded images.", nameof(images)), dispose: false, default);
    }

    /// <summary>Decodes image files (PNG, JPEG, BMP, ...) as <see cref="ImageFiles.Load"/> does and scores them.</summary>
    /// <param name="paths">The image files.</param>
    /// <returns>N × <see cref="ClassNames"/>.Count probabilities, row-major.</returns>
    /// <exception cref="CharacterDataException">A file does not exist, is not a whole decodable image, or declares more than 4096×4096 pixels (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The model carries no preprocessing (<see cref="CanScoreImages"/> is false).</exception>
    /// <example>
    /// <code>
    /// float[] scores = recognizer.Score(Directory.GetFiles("chars", "*.png"));
    /// </code>
    /// </example>
    public float[] Score(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return ScoreDecoded(paths.Count, i => Decode(paths[i], i), dispose: true, default);
    }

    /// <summary>As <see cref="Score(IReadOnlyList{string})"/>, also writing the prepared pixels the network read into
    /// <paramref name="preparedPixels"/> (to show images as the network saw them, e.g. in a report of mistakes).</summary>
    /// <param name="paths">The image files.</param>
    /// <param name="preparedPixels">Receives N × 1,024 floats: each image as 1×32×32 pixels.</param>
    /// <returns>N × <see cref="ClassNames"/>.Count probabilities, row-major.</returns>
    /// <exception cref="ArgumentException"><paramref name="preparedPixels"/> does not hold N × 1,024 floats.</exception>
    /// <exception cref="CharacterDataException">A file does not exist, is not a decodable image, or declares too many pixels (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The model carries no preprocessing (<see cref="CanScoreImages"/> is false).</exception>
    /// <example>
    /// <code>
    /// var pixels = new float[paths.Length * 1024];
    /// float[] scores = recognizer.Score(paths, pixels);
    /// </code>
    /// </example>
    public float[] Score(IReadOnlyList<string> paths, Span<float> preparedPixels)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (preparedPixels.Length != paths.Count * CharacterFormat.PixelCount)
            throw new ArgumentException($"preparedPixels holds {preparedPixels.Length} floats; {paths.Count} images need {paths.Count * CharacterFormat.PixelCount}.", nameof(preparedPixels));
        return ScoreDecoded(paths.Count, i => Decode(paths[i], i), dispose: true, preparedPixels);
    }

    /// <summary>Every image's scores and best class (<see cref="Score(IReadOnlyList{MLImage})"/>).</summary>
    /// <param name="images">The images; they are read, not disposed.</param>
    /// <returns>One prediction per image, in order.</returns>
    /// <example>
    /// <code>
    /// foreach (CharacterPrediction p in recognizer.Predict(images))
    ///     Console.WriteLine($"{p.PredictedCharacter} {p.Confidence:P1}, then {p.TopK(recognizer.ClassNames)[1].ClassName}");
    /// </code>
    /// </example>
    public IReadOnlyList<CharacterPrediction> Predict(IReadOnlyList<MLImage> images) => ToPredictions(Score(images));

    /// <summary>Every image file's scores and best class (<see cref="Score(IReadOnlyList{string})"/>).</summary>
    /// <param name="paths">The image files.</param>
    /// <returns>One prediction per file, in order.</returns>
    /// <example>
    /// <code>
    /// CharacterPrediction p = recognizer.Predict(["char.png"])[0];
    /// </code>
    /// </example>
    public IReadOnlyList<CharacterPrediction> Predict(IReadOnlyList<string> paths) => ToPredictions(Score(paths));

    /// <summary>Turns row-major scores (as the Score methods return them) into one prediction per image.</summary>
    /// <exception cref="ArgumentException">The length is not a multiple of the class count.</exception>
    internal IReadOnlyList<CharacterPrediction> ToPredictions(ReadOnlySpan<float> scores)
    {
        int classes = ClassNames.Count;
        if (scores.Length % classes != 0)
            throw new ArgumentException($"scores holds {scores.Length} floats, which is not a whole number of rows of {classes} classes; pass what a Score method returned.", nameof(scores));
        var predictions = new CharacterPrediction[scores.Length / classes];
        for (int i = 0; i < predictions.Length; i++)
        {
            var row = scores.Slice(i * classes, classes);
            int best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
            predictions[i] = new CharacterPrediction { PredictedCharacter = ClassNames[best], PredictedLabel = (uint)best + 1, Score = row.ToArray() };
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

    private float[] ScoreDecoded(int count, Func<int, MLImage> image, bool dispose, Span<float> preparedPixels)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (preprocessing is null)
        {
            throw new InvalidOperationException(
                "This model was saved without PrepareCharacterImages in front of the network, so it scores prepared pixels only: use ScorePixels, or save the model with LoadImages and PrepareCharacterImages in front (as 'ocr-mlnet train' does).");
        }

        int classes = ClassNames.Count;
        int planeValues = CharacterPreprocessingGraph.InputChannels * imageSide * imageSide;
        var scores = new float[count * classes];
        // The planes (64 KiB of bytes per image) go through the preprocessing graph a few images at a time, so its full-size
        // intermediates stay in cache; the network then runs on the whole batch of prepared pixels.
        // A GPU gains nothing from cache-sized runs and pays a launch per run: it takes the whole batch at once.
        int chunk = UsesGpu ? batchSize : Math.Min(PreprocessingChunk, batchSize);
        float[] pixels = ArrayPool<float>.Shared.Rent(Math.Min(count, batchSize) * CharacterFormat.PixelCount);
        try
        {
            for (int start = 0; start < count; start += batchSize)
            {
                int n = Math.Min(batchSize, count - start), chunks = (n + chunk - 1) / chunk;
                // Every chunk runs, so a bad image is reported as the first in order, as a sequential run would report it.
                var failures = new Exception?[chunks];
                Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = preprocessingWorkers }, c =>
                {
                    try
                    {
                        Prepare(start, c * chunk, Math.Min(chunk, n - (c * chunk)));
                    }
                    catch (Exception e)
                    {
                        failures[c] = e;
                    }
                });
                if (failures.FirstOrDefault(e => e is not null) is { } failure)
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);

                if (!preparedPixels.IsEmpty)
                    pixels.AsSpan(0, n * CharacterFormat.PixelCount).CopyTo(preparedPixels.Slice(start * CharacterFormat.PixelCount, n * CharacterFormat.PixelCount));
                RunNetwork(pixels.AsMemory(0, n * CharacterFormat.PixelCount), n, scores.AsSpan(start * classes, n * classes));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pixels);
        }

        // Images start + first … start + first + m − 1 through the preprocessing graph into pixels, from index first.
        void Prepare(int start, int first, int m)
        {
            byte[]? bytes = planesAsBytes ? ArrayPool<byte>.Shared.Rent(m * planeValues) : null;
            float[]? floats = planesAsBytes ? null : ArrayPool<float>.Shared.Rent(m * planeValues);
            try
            {
                for (int j = 0; j < m; j++)
                {
                    var current = image(start + first + j);
                    try
                    {
                        if (bytes is not null)
                            ArgbPlanes.ExtractBytes(current, imageSide, bytes.AsSpan(j * planeValues, planeValues));
                        else
                            ArgbPlanes.Extract(current, imageSide, floats.AsSpan(j * planeValues, planeValues));
                    }
                    finally
                    {
                        if (dispose)
                            current.Dispose();
                    }
                }

                long[] shape = [m, CharacterPreprocessingGraph.InputChannels, imageSide, imageSide];
                using var input = bytes is not null
                    ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, bytes.AsMemory(0, m * planeValues), shape)
                    : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, floats.AsMemory(0, m * planeValues), shape);
                using var prepared = preprocessing.Run(runOptions, preprocessingInputs, [input], networkInputs);
                prepared[0].GetTensorDataAsSpan<float>().CopyTo(pixels.AsSpan(first * CharacterFormat.PixelCount, m * CharacterFormat.PixelCount));
            }
            finally
            {
                if (bytes is not null)
                    ArrayPool<byte>.Shared.Return(bytes);
                if (floats is not null)
                    ArrayPool<float>.Shared.Return(floats);
            }
        }

        return scores;
    }

    /// <summary>The network on <paramref name="count"/> prepared images; with test-time augmentation, on them and their shifted copies in one call.</summary>
    private void RunNetwork(Memory<float> pixels, int count, Span<float> scores)
    {
        if (!testTimeAugmentation)
        {
            Run(pixels, count, scores);
            return;
        }

        int copies = TestTimeShifts.Length;
        int length = count * CharacterFormat.PixelCount;
        int classes = ClassNames.Count;
        float[] shifted = ArrayPool<float>.Shared.Rent(copies * length);
        float[] all = ArrayPool<float>.Shared.Rent(copies * count * classes);
        try
        {
            for (int k = 0; k < copies; k++)
                Shift(pixels.Span, shifted.AsSpan(k * length, length), TestTimeShifts[k].X, TestTimeShifts[k].Y);
            Run(shifted.AsMemory(0, copies * length), copies * count, all.AsSpan(0, copies * count * classes));
            scores.Clear();
            for (int k = 0; k < copies; k++)
            {
                var copy = all.AsSpan(k * count * classes, count * classes);
                for (int i = 0; i < scores.Length; i++)
                    scores[i] += copy[i] / copies;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(shifted);
            ArrayPool<float>.Shared.Return(all);
        }
    }

    private void Run(Memory<float> pixels, int count, Span<float> scores)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels,
            [count, 1, CharacterFormat.ImageSide, CharacterFormat.ImageSide]);
        using var results = network.Run(runOptions, networkInputs, [input], ScoreOutput);
        results[0].GetTensorDataAsSpan<float>().CopyTo(scores);
    }

    /// <summary>Copies 32×32 images moved by (<paramref name="dx"/>, <paramref name="dy"/>) pixels, filling with 0 (background).</summary>
    internal static void Shift(ReadOnlySpan<float> source, Span<float> target, int dx, int dy)
    {
        const int side = CharacterFormat.ImageSide;
        target.Clear();
        for (int image = 0; image < source.Length / CharacterFormat.PixelCount; image++)
        {
            var from = source.Slice(image * CharacterFormat.PixelCount, CharacterFormat.PixelCount);
            var to = target.Slice(image * CharacterFormat.PixelCount, CharacterFormat.PixelCount);
            for (int y = Math.Max(0, dy); y < side + Math.Min(0, dy); y++)
            {
                int x0 = Math.Max(0, dx), width = side - Math.Abs(dx);
                from.Slice(((y - dy) * side) + x0 - dx, width).CopyTo(to.Slice((y * side) + x0, width));
            }
        }
    }

    private static MLImage Decode(string? path, int index)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"paths[{index}] is empty; pass image file paths.", "paths");
        return ImageFiles.Load(path);
    }
}
