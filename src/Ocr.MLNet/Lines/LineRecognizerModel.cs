using System.IO.Compression;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;
using Ocr.MLNet.IO;
using Ocr.MLNet.Loading;
using Ocr.MLNet.OnnxWriting;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;
using Onnx;
using static TorchSharp.torch;

namespace Ocr.MLNet.Lines;

/// <summary>
/// A trained line recognizer as ML.NET transforms: the field image resized to 256×32 (IsoPad) and its ARGB pixels, the
/// preparation and network in ONNX Runtime (<c>Score</c>: per time step, the probabilities of the blank and each
/// character), then the CTC decoding (<c>Text</c>, <c>TextConfidence</c>, <c>CharacterPositions</c>).
/// </summary>
/// <remarks>
/// <para><c>mlContext.Model.Save</c> writes it as one zip. The decoding is an ML.NET <c>CustomMapping</c> (a prefix beam
/// search with the field's characters and the language's letter pairs cannot be written in ONNX), so an app that loads
/// the zip registers Ocr.MLNet once first: <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(LineRecognizerModel).Assembly)</c>,
/// or loads it with <c>mlContext.Model.LoadLineModel(path)</c>, which does that.</para>
/// <para><c>CharacterPositions</c> holds each character's centre along the prepared 256-pixel line as a fraction of its width
/// (from the CTC alignment); <see cref="LineRecognizer"/> gives boxes in the field's own coordinates.</para>
/// </remarks>
public sealed class LineRecognizerModel : ITransformer, IDisposable
{
    /// <summary>The contract name of the saved decoding step.</summary>
    public const string DecodingContractName = "Ocr.MLNet.LineDecoding";

    private const string ResizedColumnName = "Ocr.MLNet.LineImage";
    private const string GraphName = "ocr_mlnet_line_recognizer";
    private readonly ITransformer chain;
    private readonly byte[] onnxModel;

    private LineRecognizerModel(ITransformer chain, byte[] onnxModel, TrainingHistory history)
    {
        this.chain = chain;
        this.onnxModel = onnxModel;
        History = history;
    }

    /// <summary>Per-epoch metrics of the training run (accuracy: the share of lines read exactly by best path).</summary>
    public TrainingHistory History { get; }

    /// <summary>The recognizer as an ONNX model (ARGB 256×32 in, per-step probabilities out).</summary>
    public ReadOnlyMemory<byte> OnnxModel => onnxModel;

    /// <summary>The ML.NET transforms; this is what <c>mlContext.Model.Save</c> writes.</summary>
    public ITransformer Scorer => chain;

    /// <inheritdoc />
    public bool IsRowToRowMapper => chain.IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => chain.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => chain.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => chain.Transform(input);

    /// <summary>Disposes the transforms, deleting ONNX Runtime's temporary copy of the model.</summary>
    public void Dispose() => (chain as IDisposable)?.Dispose();

    void ICanSaveModel.Save(ModelSaveContext ctx) => chain.Save(ctx);

    internal static LineRecognizerModel Create(IHostEnvironment environment, LineRecognizerNetwork network, LineRecognizerTrainer.Options options, TrainingHistory history)
    {
        var settings = LineDecodingSettings.Create(LineImageFormat.DefaultAlphabet, CtcDecoder.AllowedCharactersFor(options.Kind, LineImageFormat.DefaultAlphabet), options.BeamWidth, options.LetterFrequencies);
        byte[] onnx = LineOnnxExporter.Export(network, settings.ToJson());
        return new LineRecognizerModel(BuildChain(environment, onnx, options.ImageColumnName), onnx, history);
    }

    /// <summary>The saved chain for <paramref name="onnx"/>, reading images from <paramref name="imageColumnName"/>.</summary>
    internal static ITransformer BuildChain(IHostEnvironment environment, byte[] onnx, string imageColumnName)
    {
        RegisterDecoding(environment);
        int classCount = 1 + LineImageFormat.DefaultAlphabet.Length;
        // Line models saved before the byte planes read floats scaled by 1/255; a chain rebuilt for one extracts them so.
        bool floatInput = ModelProto.Parser.ParseFrom(onnx).Graph.Input.Any(i => i.Name == LineOnnxExporter.FloatInputColumnName);
        string inputColumn = floatInput ? LineOnnxExporter.FloatInputColumnName : LineOnnxExporter.InputColumnName;
        return SelfContainedChain.Build(environment, context =>
        {
            RegisterDecoding(context);
            var inputDefinition = SchemaDefinition.Create(typeof(LineScores));
            inputDefinition[nameof(LineScores.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, LineImageFormat.TimeSteps, classCount);
            return context.Transforms.ResizeImages(ResizedColumnName, LineImageFormat.Width, LineImageFormat.Height, imageColumnName,
                    ImageResizingEstimator.ResizingKind.IsoPad)
                .Append(context.Transforms.ExtractPixels(inputColumn, ResizedColumnName, ImagePixelExtractingEstimator.ColorBits.All,
                    ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, scaleImage: floatInput ? 1f / 255f : 1f, outputAsFloatArray: floatInput))
                .Append(context.Transforms.ApplyOnnxModel([LineImageFormat.ScoreColumnName, LineOnnxExporter.DecodingColumnName],
                    [inputColumn], new MemoryStream(onnx, writable: false)))
                .Append(context.Transforms.CustomMapping(new LineDecodingFactory().GetMapping(), DecodingContractName, inputDefinition))
                .Append(context.Transforms.DropColumns(ResizedColumnName, inputColumn, LineOnnxExporter.DecodingColumnName));
        }, context => EmptyImageView(context, imageColumnName));
    }

    /// <summary>Lets ML.NET find the decoding step when it loads a saved line model.</summary>
    internal static void RegisterDecoding(IHostEnvironment environment) =>
        environment.ComponentCatalog.RegisterAssembly(typeof(LineRecognizerModel).Assembly);

    /// <summary>The columns a line model adds to <paramref name="input"/>.</summary>
    internal static SchemaShape OutputShape(SchemaShape input) => MLNetInterop.WithColumns(input,
        new DataViewSchema.DetachedColumn(LineImageFormat.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, LineImageFormat.TimeSteps, 1 + LineImageFormat.DefaultAlphabet.Length)),
        new DataViewSchema.DetachedColumn(LineImageFormat.TextColumnName, TextDataViewType.Instance),
        new DataViewSchema.DetachedColumn(LineImageFormat.ConfidenceColumnName, NumberDataViewType.Single),
        new DataViewSchema.DetachedColumn(LineImageFormat.CharacterPositionsColumnName, new VectorDataViewType(NumberDataViewType.Single)));

    /// <summary>Whether the zip at <paramref name="path"/> holds a line recognizer (rather than a character model); its checksums are verified on load, not here.</summary>
    internal static bool IsLineModel(string path)
    {
        using var stream = BoundedFile.OpenRead(path);
        return IsLineModel(stream);
    }

    /// <summary>Whether the zip in <paramref name="zipStream"/> holds a line recognizer; the stream is left open.</summary>
    internal static bool IsLineModel(Stream zipStream)
    {
        try
        {
            using var zip = new ZipArchive(zipStream, ZipArchiveMode.Read, leaveOpen: true);
            return zip.Entries.Where(e => e.Name == "OnnxModel").Any(entry =>
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
                return bytes.Length > sizeof(int) && ModelProto.Parser.ParseFrom(bytes[sizeof(int)..]).Graph?.Name == GraphName;
            });
        }
        catch (Exception e) when (e is InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return false; // not a line model: the character model loader then names what is wrong with the file
        }
    }

    /// <summary>The line recognizer's ONNX model inside a saved zip (checksums verified first).</summary>
    /// <exception cref="InvalidDataException">The file is damaged or holds no line model; the message names it.</exception>
    internal static byte[] ReadOnnx(Stream zipStream, string name)
    {
        var lineModel = CharacterModelLoader.ReadZip(zipStream, name, zip =>
        {
            CharacterModelLoader.VerifyChecksums(zip, name);
            return CharacterModelLoader.OnnxModels(zip, name).FirstOrDefault(model => ModelProto.Parser.ParseFrom(model).Graph?.Name == GraphName);
        });
        return lineModel
            ?? throw CharacterModelLoader.NotAModel(name, "it holds no line recognizer (a character model? use it with --model for characters, or train one with train-fields)", null);
    }

    /// <summary>Copies a saved line model's weights into <paramref name="network"/> (fine-tuning starts there).</summary>
    internal static void LoadWeights(Stream zipStream, LineRecognizerNetwork network)
    {
        var graph = ModelProto.Parser.ParseFrom(ReadOnnx(zipStream, zipStream is FileStream file ? file.Name : "the base model")).Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        using var noGrad = no_grad();
        foreach (var (name, conv, norm, _) in network.Layers())
        {
            Copy($"{name}.weight", conv.weight!);
            Copy($"{name}.bias", conv.bias!);
            if (norm is not null)
            {
                Copy($"{name}.bn.weight", norm.weight!);
                Copy($"{name}.bn.bias", norm.bias!);
                Copy($"{name}.bn.running_mean", norm.running_mean!);
                Copy($"{name}.bn.running_var", norm.running_var!);
            }
        }

        void Copy(string name, Tensor target) => OnnxWeights.CopyInto(initializers, name, target, "The base model", "a line model");
    }

    private static IDataView EmptyImageView(MLContext context, string columnName)
    {
        var definition = SchemaDefinition.Create(typeof(ImageRow));
        definition[0].ColumnName = columnName;
        return context.Data.LoadFromEnumerable(Array.Empty<ImageRow>(), definition);
    }

    private sealed class ImageRow
    {
        [ImageType(LineImageFormat.Height, LineImageFormat.Width)]
        public MLImage? Image { get; set; }

        // ML.NET saves a model with its input schema and cannot save an image column; one saveable column lets it.
        public float Unused { get; set; }
    }
}

/// <summary>The decoding step's input: the per-step probabilities and the model's decoding settings.</summary>
public sealed class LineScores
{
    /// <summary>Per time step, the probabilities of the blank and each character.</summary>
    public float[] Score { get; set; } = [];

    /// <summary>The model's decoding settings (JSON), one element.</summary>
    [ColumnName(LineOnnxExporter.DecodingColumnName)]
    [VectorType(1)]
    public string[] Decoding { get; set; } = [];
}

/// <summary>The decoding step's output: the text, its confidence and each character's centre along the line.</summary>
public sealed class LineText
{
    /// <summary>The text read.</summary>
    public string Text { get; set; } = "";

    /// <summary>The text's confidence, in [0, 1].</summary>
    public float TextConfidence { get; set; }

    /// <summary>Per character, its centre along the prepared line as a fraction of the line's width.</summary>
    public float[] CharacterPositions { get; set; } = [];
}

/// <summary>Re-creates the saved line model's decoding step when ML.NET loads it (register Ocr.MLNet's assembly first).</summary>
[CustomMappingFactoryAttribute(LineRecognizerModel.DecodingContractName)]
internal sealed class LineDecodingFactory : CustomMappingFactory<LineScores, LineText>
{
    /// <inheritdoc />
    public override Action<LineScores, LineText> GetMapping() => static (input, output) =>
    {
        var decoder = LineDecodingSettings.DecoderFor(input.Decoding.Length == 1 ? input.Decoding[0] : throw new InvalidDataException("The line model's decoding settings are missing."));
        int steps = input.Score.Length / decoder.ClassCount;
        var logProbabilities = new float[input.Score.Length];
        for (int i = 0; i < logProbabilities.Length; i++)
            logProbabilities[i] = MathF.Log(Math.Max(input.Score[i], 1e-30f));
        var decoding = decoder.Decode(logProbabilities, steps);
        output.Text = decoding.Text;
        output.TextConfidence = decoding.Confidence;
        output.CharacterPositions = decoding.Characters.Select(c => (c.FirstTimeStep + c.LastTimeStep + 1) / 2f / steps).ToArray();
    };
}
