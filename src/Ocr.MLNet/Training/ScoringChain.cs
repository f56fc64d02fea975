using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms;
using Onnx;

namespace Ocr.MLNet.Training;

/// <summary>
/// Wraps a network exported by <see cref="CharacterCnnOnnxExporter"/> in ML.NET's own saveable transforms, so a saved
/// model loads with <c>mlContext.Model.Load</c> in an app that does not reference Ocr.MLNet.
/// </summary>
/// <remarks>
/// <para>Reading the pixel column named like the network's input, the chain adds ML.NET's multiclass columns:</para>
/// <list type="bullet">
/// <item><description><c>Score</c>: <c>float[classCount]</c>, the softmax probabilities, with the class names as slot names
/// (from the ONNX model, see <see cref="CharacterCnnOnnxExporter"/>);</description></item>
/// <item><description><c>PredictedLabel</c>: a key whose key values are the class names in <c>Score</c> order;</description></item>
/// <item><description><c>PredictedCharacter</c>: the same class as a plain <see cref="string"/>.</description></item>
/// </list>
/// <para>
/// ML.NET 5's OnnxTransformer surfaces the network's string output of shape <c>[N]</c> as a one-element vector, and a
/// rank-0 output's getter throws. The only built-in transform that turns a vector into a scalar is hashing with
/// <c>combine: true</c>, so the chain hashes the one-element vector, maps the hash back to the class name (a table checked
/// to be collision-free), and keys that name with the class names as key data.
/// </para>
/// </remarks>
internal static class ScoringChain
{
    /// <summary>The label's hash, computed and dropped again inside the chain.</summary>
    private const string LabelHashColumnName = "PredictedCharacterHash";

    /// <summary>Bits of the label hash; 31 makes collisions between a few dozen class names vanishingly rare.</summary>
    private const int HashBits = 31;

    /// <summary>First hashing seed tried (ML.NET's default); the next ones are tried only after a collision.</summary>
    private const uint FirstHashSeed = 314489979;

    private const int MaxSeedAttempts = 64;

    /// <summary>Builds the chain that scores the pixel column with <paramref name="onnxModel"/>.</summary>
    /// <param name="environment">The environment the chain belongs to; its temporary folder receives ML.NET's copy of the network.</param>
    /// <param name="onnxModel">A model written by <see cref="CharacterCnnOnnxExporter.Export"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="onnxModel"/> is not a model written by <see cref="CharacterCnnOnnxExporter"/>.</exception>
    public static ITransformer Build(IHostEnvironment environment, byte[] onnxModel)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(onnxModel);
        var (inputColumnName, classNames) = ReadSignature(onnxModel);
        return SelfContainedChain.Build(environment, context =>
        {
            var (hashing, hashes) = HashLabels(context, classNames);
            var classNameView = context.Data.LoadFromEnumerable(classNames.Select(name => new ClassNameRow { Name = name }));
            return context.Transforms.ApplyOnnxModel(
                    outputColumnNames: [CharacterFormat.ScoreColumnName, CharacterFormat.PredictedCharacterColumnName],
                    inputColumnNames: [inputColumnName],
                    modelBytes: new MemoryStream(onnxModel, writable: false))
                .Append(hashing)
                .Append(context.Transforms.Conversion.ConvertType(LabelHashColumnName, LabelHashColumnName, DataKind.UInt32))
                .Append(context.Transforms.Conversion.MapValue(
                    CharacterFormat.PredictedCharacterColumnName,
                    hashes.Zip(classNames, (hash, name) => new KeyValuePair<uint, string>(hash, name)),
                    LabelHashColumnName))
                // Key values in Score order: the key data lists the class names in that order (keys by occurrence).
                .Append(context.Transforms.Conversion.MapValueToKey(CharacterFormat.PredictedLabelColumnName,
                    CharacterFormat.PredictedCharacterColumnName, keyData: classNameView))
                .Append(context.Transforms.DropColumns(LabelHashColumnName));
        }, context => EmptyPixelView(context, inputColumnName));
    }

    /// <summary>Reads the input name and class names of a model written by <see cref="CharacterCnnOnnxExporter"/>.</summary>
    internal static (string InputColumnName, string[] ClassNames) ReadSignature(byte[] onnxModel)
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

        foreach (string output in new[] { CharacterFormat.ScoreColumnName, CharacterFormat.PredictedCharacterColumnName })
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
    /// The hashing step and the hash of every class name under it, with a seed under which no two class names
    /// collide. The hashes are computed by the same ML.NET transform the chain runs.
    /// </summary>
    private static (IEstimator<ITransformer> Hashing, uint[] Hashes) HashLabels(MLContext context, string[] classNames)
    {
        var labels = context.Data.LoadFromEnumerable(classNames.Select(name => new LabelRow { PredictedCharacter = [name] }));
        for (int attempt = 0; attempt < MaxSeedAttempts; attempt++)
        {
            var hashing = context.Transforms.Conversion.Hash(
            [
                new HashingEstimator.ColumnOptions(LabelHashColumnName, CharacterFormat.PredictedCharacterColumnName,
                    numberOfBits: HashBits, seed: unchecked(FirstHashSeed + (uint)attempt), useOrderedHashing: false,
                    maximumNumberOfInverts: 0, combine: true),
            ]);
            uint[] hashes = hashing
                .Append(context.Transforms.Conversion.ConvertType(LabelHashColumnName, LabelHashColumnName, DataKind.UInt32))
                .Fit(labels)
                .Transform(labels)
                .GetColumn<uint>(LabelHashColumnName)
                .ToArray();
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
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, CharacterFormat.PixelCount);
        return context.Data.LoadFromEnumerable(Array.Empty<PixelRow>(), definition);
    }

    private sealed class PixelRow
    {
        public float[] Pixels { get; set; } = new float[CharacterFormat.PixelCount];
    }

    private sealed class LabelRow
    {
        [VectorType(1)]
        public string[] PredictedCharacter { get; set; } = [];
    }

    private sealed class ClassNameRow
    {
        public string Name { get; set; } = "";
    }
}
