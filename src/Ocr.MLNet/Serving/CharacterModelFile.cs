using System.Buffers.Binary;
using System.IO.Compression;
using Onnx;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Serving;

/// <summary>A model zip loaded with <see cref="CharacterModelFile.Load"/>.</summary>
public sealed class LoadedCharacterModel
{
    internal LoadedCharacterModel(string path, ITransformer model, DataViewSchema inputSchema, IReadOnlyList<string> classNames)
    {
        Path = path;
        Model = model;
        InputSchema = inputSchema;
        ClassNames = classNames;
    }

    /// <summary>The file the model came from.</summary>
    public string Path { get; }

    /// <summary>The ML.NET transformers, as <c>mlContext.Model.Load</c> returns them.</summary>
    public ITransformer Model { get; }

    /// <summary>The input schema saved with the model.</summary>
    public DataViewSchema InputSchema { get; }

    /// <summary>The classes, in the order of the <c>Score</c> vector, read from the ONNX model inside the zip.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// The part of <see cref="Model"/> that starts at the 1,024-float pixel column: the whole model when it
    /// reads pixels, or the last transformer of a chain that first turns image files into pixels.
    /// </summary>
    public ITransformer PixelScorer =>
        Model is TransformerChain<ITransformer> chain && chain.Any() && !InputSchema.Any(c => c.Type is VectorDataViewType)
            ? chain.Last()
            : Model;
}

/// <summary>Loads Ocr.MLNet model zips with errors that name the file and the fix.</summary>
public static class CharacterModelFile
{
    /// <summary>Loads a model saved with <c>mlContext.Model.Save</c> from a trained <see cref="CharacterCnnModel"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a complete ML.NET model zip with an Ocr.MLNet network inside.</exception>
    public static LoadedCharacterModel Load(MLContext mlContext, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model file '{path}' does not exist. Train one with 'ocr-mlnet train' or save one with mlContext.Model.Save.", path);

        var classNames = ReadClassNames(path);
        ITransformer model;
        DataViewSchema schema;
        try
        {
            model = mlContext.Model.Load(path, out schema);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or IOException or ArgumentException or EndOfStreamException)
        {
            throw NotAModel(path, e.Message, e);
        }

        return new LoadedCharacterModel(path, model, schema, classNames);
    }

    /// <summary>Reads the class names (in <c>Score</c> order) from the ONNX network inside a model zip.</summary>
    /// <exception cref="InvalidDataException">The file is not a zip, or holds no Ocr.MLNet network.</exception>
    public static IReadOnlyList<string> ReadClassNames(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries.Where(e => e.Name.Contains("OnnxModel", StringComparison.OrdinalIgnoreCase)))
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                if (TryReadClassNames(buffer.ToArray()) is { } names)
                    return names;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw NotAModel(path, e.Message, e);
        }

        throw NotAModel(path, "it holds no ONNX network with Ocr.MLNet class names", null);
    }

    // ML.NET's OnnxTransformer stores the model as a length-prefixed byte array: an Int32 count, then the bytes.
    private static string[]? TryReadClassNames(byte[] entry)
    {
        if (entry.Length < sizeof(int) || BinaryPrimitives.ReadInt32LittleEndian(entry) != entry.Length - sizeof(int))
            return null;
        try
        {
            var model = ModelProto.Parser.ParseFrom(entry, sizeof(int), entry.Length - sizeof(int));
            var names = model.Graph?.Initializer.FirstOrDefault(i => i.Name == CharacterCnnOnnxExporter.ClassNamesInitializerName);
            return names is { StringData.Count: > 0 } ? names.StringData.Select(s => s.ToStringUtf8()).ToArray() : null;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static InvalidDataException NotAModel(string path, string reason, Exception? inner) =>
        new($"'{path}' is not a readable Ocr.MLNet model: {reason}. Check that the file was copied completely, or train and save the model again.", inner);
}
