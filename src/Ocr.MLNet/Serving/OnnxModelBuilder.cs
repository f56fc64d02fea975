using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Onnx;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Serving;

/// <summary>
/// Wraps an ONNX model written by <see cref="CharacterCnnOnnxExporter"/> in an ML.NET transformer chain made
/// only of ML.NET's own, saveable transforms, so a model saved with <c>mlContext.Model.Save</c> is one
/// self-contained zip that an app loads with <c>mlContext.Model.Load</c> without referencing Ocr.MLNet.
/// </summary>
/// <remarks>
/// <para>The chain reads the pixel column named like the model's input (a float vector of 1,024 values) and adds:</para>
/// <list type="bullet">
/// <item><description><c>Score</c>: <c>float[classCount]</c> (shape 1 × classCount), the softmax probabilities;</description></item>
/// <item><description><c>PredictedLabel</c>: a plain <see cref="string"/> (a scalar text column), the most probable class name.</description></item>
/// </list>
/// <para>
/// Why more than <c>ApplyOnnxModel</c>: ML.NET 5.0.1's <c>OnnxTransformer</c> surfaces a string output of
/// shape <c>[N]</c> as a one-element vector (<c>string[]</c>), and a rank-0 (scalar) output is typed as a scalar
/// column but its getter throws (<c>ArgumentNullException</c> from <c>MakeObjectGetter</c>). The only built-in
/// transform that turns a vector into a scalar is hashing with <c>combine: true</c>, so the chain is
/// <c>ApplyOnnxModel</c> → <c>Hash</c> (combine the one-element label vector into one key) →
/// <c>ConvertType</c> (key → <see cref="uint"/>) → <c>MapValue</c> (hash → class name, the table built here from
/// the model's class names and checked to be collision-free) → <c>DropColumns</c> (the helper column).
/// </para>
/// <para>
/// Temporary files: ML.NET's <c>ApplyOnnxModel(Stream)</c> copies the model to a randomly named file (no
/// <c>.onnx</c> extension) in <see cref="MLContext.TempFilePath"/> (by default <see cref="Path.GetTempPath"/>) and
/// never deletes it, not even when the transformer is disposed; saving re-reads that file, so it cannot be
/// deleted while the transformer lives. This builder therefore assembles the chain in a private
/// <see cref="MLContext"/> whose <see cref="MLContext.TempFilePath"/> is a private folder, saves the chain to
/// memory, deletes that folder, and returns the chain loaded back into the caller's context. Like every ONNX
/// model loaded with <c>mlContext.Model.Load</c>, the returned chain owns its temporary copy (in the caller's
/// <see cref="MLContext.TempFilePath"/>) and deletes it when it is disposed or garbage-collected.
/// </para>
/// <para>
/// Note that ML.NET's <c>CreatePredictionEngine</c> owns the transformer by default
/// (<see cref="PredictionEngineOptions.OwnsTransformer"/>): disposing the engine disposes the chain, after which it
/// can neither predict nor be saved. Save the model first, or create engines with
/// <c>new PredictionEngineOptions { OwnsTransformer = false }</c> and dispose the chain yourself.
/// </para>
/// </remarks>
public static class OnnxModelBuilder
{
    /// <summary>Name of the helper column (the label's hash) that the chain computes and drops again.</summary>
    internal const string LabelHashColumnName = "PredictedLabelHash";

    /// <summary>Bits of the label hash; 31 makes collisions between a few dozen class names vanishingly rare.</summary>
    private const int HashBits = 31;

    /// <summary>First hashing seed tried (ML.NET's default); the next ones are tried only after a collision.</summary>
    private const uint FirstHashSeed = 314489979;

    private const int MaxSeedAttempts = 64;

    /// <summary>
    /// Builds the ML.NET transformer chain that scores images with <paramref name="onnxModel"/>.
    /// </summary>
    /// <param name="mlContext">The context the returned chain belongs to; its <see cref="MLContext.TempFilePath"/>
    /// receives ML.NET's temporary copy of the model (deleted when the chain is disposed).</param>
    /// <param name="onnxModel">A model written by <see cref="CharacterCnnOnnxExporter.Export"/>.</param>
    /// <returns>
    /// A saveable chain that adds <c>Score</c> (<c>float[]</c>) and <c>PredictedLabel</c> (<see cref="string"/>) to rows
    /// that have the model's pixel column. It is <see cref="IDisposable"/>; disposing it deletes ML.NET's temporary copy.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="mlContext"/> or <paramref name="onnxModel"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="onnxModel"/> is not a model written by <see cref="CharacterCnnOnnxExporter"/>.</exception>
    public static ITransformer Build(MLContext mlContext, byte[] onnxModel)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(onnxModel);
        var (inputColumnName, classNames) = ReadSignature(onnxModel);

        string buildFolder = Path.Combine(mlContext.TempFilePath, $"ocr-mlnet-onnx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(buildFolder);
        using var saved = new MemoryStream();
        bool built = false;
        try
        {
            var buildContext = new MLContext { TempFilePath = buildFolder };
            var pixels = EmptyPixelView(buildContext, inputColumnName);
            var (hashing, hashes) = HashLabels(buildContext, classNames);

            using var modelStream = new MemoryStream(onnxModel, writable: false);
            var pipeline = buildContext.Transforms.ApplyOnnxModel(
                    outputColumnNames: [CharacterCnnOnnxExporter.ScoreColumnName, CharacterCnnOnnxExporter.PredictedLabelColumnName],
                    inputColumnNames: [inputColumnName],
                    modelBytes: modelStream)
                .Append(hashing)
                .Append(buildContext.Transforms.Conversion.ConvertType(LabelHashColumnName, LabelHashColumnName, DataKind.UInt32))
                .Append(buildContext.Transforms.Conversion.MapValue(
                    CharacterCnnOnnxExporter.PredictedLabelColumnName,
                    hashes.Zip(classNames, (hash, name) => new KeyValuePair<uint, string>(hash, name)),
                    LabelHashColumnName))
                .Append(buildContext.Transforms.DropColumns(LabelHashColumnName));

            var chain = pipeline.Fit(pixels);
            try
            {
                buildContext.Model.Save(chain, pixels.Schema, saved);
            }
            finally
            {
                (chain as IDisposable)?.Dispose();
            }

            built = true;
        }
        finally
        {
            DeleteBuildFolder(buildFolder, throwOnFailure: built);
        }

        saved.Position = 0;
        return mlContext.Model.Load(saved, out _);
    }

    /// <summary>
    /// Deletes the private folder that received ML.NET's copy of the model. When the build already failed, a
    /// failure to delete must not hide the original exception.
    /// </summary>
    private static void DeleteBuildFolder(string folder, bool throwOnFailure)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (!throwOnFailure && e is IOException or UnauthorizedAccessException)
        {
            // The build is failing anyway; its exception is the one to report.
        }
    }

    /// <summary>Reads the input name and class names of a model written by <see cref="CharacterCnnOnnxExporter"/>.</summary>
    private static (string InputColumnName, string[] ClassNames) ReadSignature(byte[] onnxModel)
    {
        const string Expected = "pass the bytes returned by CharacterCnnOnnxExporter.Export";
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(onnxModel);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new ArgumentException($"The bytes are not an ONNX model ({e.Message}); {Expected}.", nameof(onnxModel), e);
        }

        var graph = model.Graph;
        if (graph is null || graph.Input.Count != 1)
            throw new ArgumentException($"The ONNX model must have exactly one input (the pixels); {Expected}.", nameof(onnxModel));

        foreach (string output in new[] { CharacterCnnOnnxExporter.ScoreColumnName, CharacterCnnOnnxExporter.PredictedLabelColumnName })
        {
            if (!graph.Output.Any(o => o.Name == output))
                throw new ArgumentException($"The ONNX model has no output '{output}'; {Expected}.", nameof(onnxModel));
        }

        var names = graph.Initializer.FirstOrDefault(i => i.Name == CharacterCnnOnnxExporter.ClassNamesInitializerName
            && i.DataType == (int)TensorProto.Types.DataType.String);
        if (names is null || names.StringData.Count == 0)
        {
            throw new ArgumentException(
                $"The ONNX model has no string initializer '{CharacterCnnOnnxExporter.ClassNamesInitializerName}' with the class names; {Expected}.",
                nameof(onnxModel));
        }

        return (graph.Input[0].Name, names.StringData.Select(s => s.ToStringUtf8()).ToArray());
    }

    /// <summary>
    /// The hashing step and the hash of every class name under it, with a seed under which no two class
    /// names collide. The hashes are computed by the same ML.NET transform the chain runs.
    /// </summary>
    private static (IEstimator<ITransformer> Hashing, uint[] Hashes) HashLabels(MLContext context, string[] classNames)
    {
        var labels = context.Data.LoadFromEnumerable(
            classNames.Select(name => new LabelRow { PredictedLabel = [name] }));
        for (int attempt = 0; attempt < MaxSeedAttempts; attempt++)
        {
            var hashing = context.Transforms.Conversion.Hash(
            [
                new HashingEstimator.ColumnOptions(LabelHashColumnName, CharacterCnnOnnxExporter.PredictedLabelColumnName,
                    numberOfBits: HashBits, seed: unchecked(FirstHashSeed + (uint)attempt), useOrderedHashing: false,
                    maximumNumberOfInverts: 0, combine: true),
            ]);
            var hashed = hashing
                .Append(context.Transforms.Conversion.ConvertType(LabelHashColumnName, LabelHashColumnName, DataKind.UInt32))
                .Fit(labels)
                .Transform(labels);
            uint[] hashes = hashed.GetColumn<uint>(LabelHashColumnName).ToArray();
            if (hashes.Distinct().Count() == classNames.Length)
                return (hashing, hashes);
        }

        throw new InvalidOperationException(
            $"Could not find a hashing seed under which the {classNames.Length} class names have distinct hashes.");
    }

    private static IDataView EmptyPixelView(MLContext context, string inputColumnName)
    {
        var definition = SchemaDefinition.Create(typeof(PixelRow));
        definition[0].ColumnName = inputColumnName;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, PixelRow.Size);
        return context.Data.LoadFromEnumerable(Array.Empty<PixelRow>(), definition);
    }

    private sealed class PixelRow
    {
        public const int Size = CharacterCnnNetwork.InputSize * CharacterCnnNetwork.InputSize;

        public float[] Pixels { get; set; } = new float[Size];
    }

    private sealed class LabelRow
    {
        [VectorType(1)]
        public string[] PredictedLabel { get; set; } = [];
    }
}
