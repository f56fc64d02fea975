using System.IO.Compression;
using System.Reflection;
using Microsoft.ML.Transforms.Image;
using Microsoft.ML.Transforms.Onnx;
using Ocr.MLNet.IO;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Serving;

/// <summary>Loads saved character models; the one place that opens model files.</summary>
internal static class CharacterModelLoader
{
    public static ITransformer Load(ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model file '{path}' does not exist. Train one with 'ocr-mlnet train' or save one with mlContext.Model.Save.", path);

        VerifyChecksums(path);
        return LoadChecked(catalog, path, (ModelOperationsCatalog c, out DataViewSchema schema) => c.Load(path, out schema), out inputSchema);
    }

    /// <summary>The pretrained model shipped inside the library (<see cref="PretrainedCharacterModel"/>).</summary>
    public static ITransformer LoadPretrained(ModelOperationsCatalog catalog, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return LoadChecked(catalog, PretrainedCharacterModel.Name, (ModelOperationsCatalog c, out DataViewSchema schema) =>
        {
            using var stream = PretrainedCharacterModel.OpenRead();
            return c.Load(stream, out schema);
        }, out inputSchema);
    }

    /// <summary>The tail of the pretrained model that reads <paramref name="input"/>.</summary>
    public static ITransformer LoadPretrained(ModelOperationsCatalog catalog, CharacterModelInput input) =>
        Tail(LoadPretrained(catalog, out var savedSchema), savedSchema, PretrainedCharacterModel.Name, input);

    internal delegate ITransformer ModelReader(ModelOperationsCatalog catalog, out DataViewSchema inputSchema);

    /// <summary>Reads a model with <paramref name="read"/> and checks it is a working character model; <paramref name="path"/> names it in errors.</summary>
    private static ITransformer LoadChecked(ModelOperationsCatalog catalog, string path, ModelReader read, out DataViewSchema inputSchema)
    {
        catalog = CatalogOnAvailableDevice(catalog);
        ITransformer model;
        try
        {
            model = ReadWithSessionOptions(catalog, read, out inputSchema);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // ML.NET wraps the real reason (e.g. ONNX Runtime's) in "Error during class instantiation"; name the inner one.
            throw NotAModel(path, Reason(e), e);
        }

        try
        {
            CharacterScores.GetClassNames(model.GetOutputSchema(inputSchema));
        }
        catch (ArgumentOutOfRangeException e)
        {
            (model as IDisposable)?.Dispose();
            throw NotAModel(path, $"it is an ML.NET model but not a character model ({e.Message})", e);
        }

        if (!ScoresAreFinite(model))
        {
            (model as IDisposable)?.Dispose();
            throw NotAModel(path, NonFiniteScores, null);
        }

        return model;
    }

    /// <summary>
    /// Reads the model with the context's ONNX session options (<c>mlContext.SetOnnxSessionOption</c>), or, when it sets none,
    /// with <see cref="ServingThreads.PerImage"/> intra-op threads per session. ML.NET reads the options as each
    /// <c>ApplyOnnxModel</c> opens its session during the load, so they are set for the load and taken back after it, and
    /// the context's other models keep ONNX Runtime's choice.
    /// </summary>
    internal static ITransformer ReadWithSessionOptions(ModelOperationsCatalog catalog, ModelReader read, out DataViewSchema inputSchema)
    {
        var environment = MLNetInterop.EnvironmentOf(catalog);
        if (environment.GetOnnxSessionOption() is not null)
            return ReadRetrying(catalog, read, out inputSchema);
        environment.SetOnnxSessionOption(new OnnxSessionOptions { IntraOpNumThreads = ServingThreads.PerImage });
        try
        {
            return ReadRetrying(catalog, read, out inputSchema);
        }
        finally
        {
            // Unset again: ML.NET treats a null option as none set.
            environment.SetOnnxSessionOption(null!);
        }
    }

    /// <summary>Reads with <paramref name="read"/>, again when ONNX Runtime misread ML.NET's temporary copy (<see cref="OnnxTempFileNames"/>).</summary>
    private static ITransformer ReadRetrying(ModelOperationsCatalog catalog, ModelReader read, out DataViewSchema inputSchema)
    {
        DataViewSchema? schema = null;
        var model = OnnxTempFileNames.RetryWhenReadAsOrtFormat(() => read(catalog, out schema), MLNetInterop.TempFilePath(MLNetInterop.EnvironmentOf(catalog)));
        inputSchema = schema!;
        return model;
    }

    /// <summary>
    /// The catalog to load with: <paramref name="catalog"/> itself, unless its context asks for a GPU that this ONNX Runtime
    /// has no CUDA provider for. ML.NET then fails with an <see cref="EntryPointNotFoundException"/> even when
    /// <see cref="MLContext.FallbackToCpu"/> is set, so: a clear error, or (with the fallback) a CPU context of the same
    /// temporary folder.
    /// </summary>
    /// <exception cref="InvalidOperationException">A GPU is asked for, there is no CUDA provider and no fallback.</exception>
    private static ModelOperationsCatalog CatalogOnAvailableDevice(ModelOperationsCatalog catalog)
    {
        var environment = MLNetInterop.EnvironmentOf(catalog);
        var (gpuDeviceId, fallbackToCpu) = MLNetInterop.GpuSettings(environment);
        if (gpuDeviceId is not { } device || OnnxRuntimeGpu.HasCudaProvider())
            return catalog;
        if (!fallbackToCpu)
            throw OnnxRuntimeGpu.NoCudaProvider("mlContext.GpuDeviceId", device);
        return new MLContext { TempFilePath = MLNetInterop.TempFilePath(environment) }.Model;
    }

    /// <summary>Why a model whose network scores a blank image NaN or infinite is refused.</summary>
    internal const string NonFiniteScores = "its network gives non-finite scores (NaN or infinity), so its weights are not finite: "
        + "the training that made it diverged. Train it again with a lower learning rate";

    // A network whose weights went to NaN scores every image NaN; one blank image tells. Models without the pixel column pass.
    private static bool ScoresAreFinite(ITransformer model)
    {
        var pixels = FindTail(Flatten(model).ToArray(), InputSchema(CharacterModelInput.Pixels));
        if (pixels is null)
            return true;
        var blank = new MLContext().Data.LoadFromEnumerable([new BlankPixels()]);
        var scores = pixels.Transform(blank).GetColumn<float[]>(CharacterFormat.ScoreColumnName).Single();
        return scores.All(float.IsFinite);
    }

    private static TransformerChain<ITransformer>? FindTail(ITransformer[] transformers, DataViewSchema schema)
    {
        for (int start = 0; start < transformers.Length; start++)
        {
            var tail = new TransformerChain<ITransformer>(transformers[start..]);
            if (Reads(tail, schema))
                return tail;
        }

        return null;
    }

    private sealed class BlankPixels
    {
        [VectorType(CharacterFormat.PixelCount)]
        public float[] Pixels { get; set; } = new float[CharacterFormat.PixelCount];
    }

    public static ITransformer Load(ModelOperationsCatalog catalog, string path, CharacterModelInput input) =>
        Tail(Load(catalog, path, out var savedSchema), savedSchema, path, input);

    private static ITransformer Tail(ITransformer model, DataViewSchema savedSchema, string path, CharacterModelInput input)
    {
        var schema = InputSchema(input);
        if (FindTail(Flatten(model).ToArray(), schema) is { } tail)
            return tail;

        (model as IDisposable)?.Dispose();
        string saved = string.Join(", ", savedSchema.Select(c => $"{c.Name} ({c.Type})"));
        throw NotAModel(path, $"no part of it reads {input} (column '{schema[0].Name}'); it was saved to read {saved}", null);
    }

    /// <summary>A schema with only the column <paramref name="input"/> names.</summary>
    private static DataViewSchema InputSchema(CharacterModelInput input)
    {
        var builder = new DataViewSchema.Builder();
        switch (input)
        {
            case CharacterModelInput.ImagePath:
                builder.AddColumn(CharacterFormat.ImagePathColumnName, TextDataViewType.Instance);
                break;
            case CharacterModelInput.Image:
                builder.AddColumn(CharacterFormat.ImageColumnName, new ImageDataViewType());
                break;
            case CharacterModelInput.Pixels:
                builder.AddColumn(CharacterFormat.PixelsColumnName, new VectorDataViewType(NumberDataViewType.Single, CharacterFormat.PixelCount));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input, "Use ImagePath, Image or Pixels.");
        }

        return builder.ToSchema();
    }

    // Schema propagation decides: the tail reads the input if ML.NET can bind it and it ends in the score column.
    private static bool Reads(ITransformer tail, DataViewSchema schema)
    {
        try
        {
            return tail.GetOutputSchema(schema).GetColumnOrNull(CharacterFormat.ScoreColumnName) is not null;
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is TransformerChain<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    /// <summary>
    /// Computes every entry's CRC-32 and compares it with the one the zip saved: a file with flipped bits fails here, naming
    /// the entry, instead of loading and scoring differently.
    /// </summary>
    internal static void VerifyChecksums(string path)
    {
        using var file = BoundedFile.OpenRead(path);
        ReadZip(file, path, zip =>
        {
            VerifyChecksums(zip, path);
            return true;
        });
    }

    /// <summary>
    /// Runs <paramref name="read"/> on the model zip in <paramref name="stream"/> (left open). .NET reads a zip's central
    /// directory when the entries are first listed, not when the zip is opened, so a damaged directory fails inside
    /// <paramref name="read"/> as often as before it: either way the error names the model (<paramref name="name"/>) and
    /// says what to do. Every loader of a model zip reads it through here.
    /// </summary>
    /// <exception cref="InvalidDataException">The zip cannot be read, or <paramref name="read"/> found the model damaged (the message names it).</exception>
    internal static T ReadZip<T>(Stream stream, string name, Func<ZipArchive, T> read)
    {
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            return read(zip);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith($"'{name}'", StringComparison.Ordinal))
        {
            throw NotAModel(name, $"its zip is damaged ({e.Message.Trim().TrimEnd('.')})", e);
        }
    }

    /// <summary>As <see cref="VerifyChecksums(string)"/> on an open zip; <paramref name="name"/> names it in the errors.</summary>
    internal static void VerifyChecksums(ZipArchive zip, string name)
    {
        foreach (var entry in zip.Entries)
        {
            string? problem;
            Exception? inner = null;
            try
            {
                // .NET does not check the CRC on every path (a flipped bit in deflated data decodes silently), so compute it.
                using var stream = entry.Open();
                var hash = new System.IO.Hashing.Crc32();
                hash.Append(stream);
                uint crc = hash.GetCurrentHashAsUInt32();
                problem = crc == entry.Crc32 ? null : $"CRC-32 {crc:x8}, saved {entry.Crc32:x8}";
            }
            catch (InvalidDataException e)
            {
                problem = e.Message.TrimEnd('.');
                inner = e;
            }

            if (problem is not null)
            {
                throw new InvalidDataException(
                    $"'{name}' is damaged: its entry '{entry.FullName}' does not match the checksum saved with it ({problem}). "
                    + "The file changed after it was saved (a bad copy or disk); copy it again from the original, or train and save the model again.", inner);
            }
        }
    }

    /// <summary>
    /// The ONNX models inside a saved ML.NET model: every <c>OnnxModel</c> entry that ML.NET's <c>ApplyOnnxModel</c> writes
    /// (a 32-bit length, then the model's bytes), in the zip's order.
    /// </summary>
    /// <exception cref="InvalidDataException">An entry does not have that layout (the message names <paramref name="name"/>).</exception>
    internal static List<byte[]> OnnxModels(ZipArchive zip, string name)
    {
        var models = new List<byte[]>();
        foreach (var entry in zip.Entries.Where(e => e.Name == OnnxModelEntryName))
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] bytes = buffer.ToArray();
            if (bytes.Length < sizeof(int) || BitConverter.ToInt32(bytes, 0) != bytes.Length - sizeof(int))
                throw NotAModel(name, $"its entry '{entry.FullName}' is not an ONNX model as ML.NET saves one (a length, then the bytes)", null);
            models.Add(bytes[sizeof(int)..]);
        }

        return models;
    }

    /// <summary>The network among a model zip's ONNX graphs (the one with a <c>Score</c> output and class names), its input and classes.</summary>
    /// <exception cref="InvalidDataException">None is (the message names <paramref name="name"/>).</exception>
    internal static (byte[] Onnx, string Input, string[] ClassNames) FindNetwork(List<byte[]> graphs, string name)
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

        throw NotAModel(name, graphs.Count == 0
            ? "it holds no ONNX model, so it is not a character model saved by Ocr.MLNet"
            : $"none of its {graphs.Count} ONNX models is an Ocr.MLNet network (one with a Score output and class names)", null);
    }

    /// <summary>The network's ONNX bytes in a saved character model file, its checksums verified.</summary>
    /// <exception cref="InvalidDataException">The zip is damaged or holds no Ocr.MLNet network (the message names <paramref name="path"/>).</exception>
    internal static byte[] ReadNetwork(string path)
    {
        using var file = BoundedFile.OpenRead(path);
        return ReadNetwork(file, path).Onnx;
    }

    /// <summary>The network in a saved character model's zip (<paramref name="stream"/>, left open), its checksums verified.</summary>
    /// <exception cref="InvalidDataException">The zip is damaged or holds no Ocr.MLNet network (the message names <paramref name="name"/>).</exception>
    internal static (byte[] Onnx, string Input, string[] ClassNames) ReadNetwork(Stream stream, string name) =>
        ReadZip(stream, name, zip =>
        {
            VerifyChecksums(zip, name);
            return FindNetwork(OnnxModels(zip, name), name);
        });

    /// <summary>The zip entry in which ML.NET's OnnxTransformer saves its model.</summary>
    private const string OnnxModelEntryName = "OnnxModel";

    /// <summary>The messages of an exception chain, outermost first, without reflection wrappers and repeats.</summary>
    internal static string Reason(Exception e)
    {
        var messages = new List<string>();
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is TargetInvocationException || string.IsNullOrWhiteSpace(current.Message))
                continue;
            string message = current.Message.Trim().TrimEnd('.');
            if (!messages.Contains(message))
                messages.Add(message);
        }

        if (messages.Count <= 1)
            return messages.FirstOrDefault() ?? e.GetType().Name;
        // The innermost message is the cause; the outer ones say where ML.NET was.
        return $"{messages[^1]} (while ML.NET reported: {string.Join(" → ", messages.Take(messages.Count - 1))})";
    }

    internal static InvalidDataException NotAModel(string path, string reason, Exception? inner) =>
        new($"'{path}' is not a readable Ocr.MLNet model: {reason}. Check that the file was copied completely, or train and save the model again.", inner);
}
