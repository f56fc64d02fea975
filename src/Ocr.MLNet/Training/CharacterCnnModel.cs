using Microsoft.ML.Data;

namespace Ocr.MLNet.Training;

/// <summary>
/// A trained character recognizer, as the trainer returns it: ML.NET transformers (the network as ONNX in ML.NET's
/// OnnxTransformer, then ML.NET's key mapping) plus what training learned about itself. It adds ML.NET's multiclass
/// columns: <c>Score</c> (a probability per class, the class names as slot names), <c>PredictedLabel</c> (a key whose key
/// values are the class names) and <c>PredictedCharacter</c> (the class name as a string).
/// </summary>
/// <remarks>
/// <c>mlContext.Model.Save</c> writes only ML.NET's own transformers, so the saved zip loads with <c>mlContext.Model.Load</c>
/// in an app that has ML.NET, ImageAnalytics, OnnxTransformer and OnnxRuntime and neither TorchSharp nor Ocr.MLNet, or with
/// <c>mlContext.Model.LoadCharacterModel</c> where Ocr.MLNet is referenced. The training history is not part of the zip.
/// </remarks>
public sealed class CharacterCnnModel : ITransformer, IDisposable
{
    private readonly ITransformer scorer;
    private readonly byte[] onnxModel;

    internal CharacterCnnModel(ITransformer scorer, byte[] onnxModel, IReadOnlyList<string> classNames, TrainingHistory history, string featureColumnName)
    {
        this.scorer = scorer;
        this.onnxModel = onnxModel;
        ClassNames = classNames;
        History = history;
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The classes, in the order of the <c>Score</c> vector.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Per-epoch metrics of the training run.</summary>
    public TrainingHistory History { get; }

    /// <summary>The pixel or image column the model reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The ML.NET transformers that score images; this is what <c>mlContext.Model.Save</c> writes.</summary>
    public ITransformer Scorer => scorer;

    /// <summary>The trained network as an ONNX model (opened by any ONNX runtime; input and outputs named as the ML.NET columns).</summary>
    public ReadOnlyMemory<byte> OnnxModel => onnxModel;

    /// <summary>Writes <see cref="OnnxModel"/> to a file.</summary>
    public void SaveOnnx(string path) => File.WriteAllBytes(path, onnxModel);

    /// <inheritdoc />
    public bool IsRowToRowMapper => scorer.IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => scorer.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => scorer.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => scorer.Transform(input);

    /// <summary>Disposes the ML.NET transformers, which deletes ONNX Runtime's temporary copy of the network.</summary>
    public void Dispose() => (scorer as IDisposable)?.Dispose();

    /// <summary>Saves the ML.NET transformers in <see cref="Scorer"/>, so the saved model needs no Ocr.MLNet to load.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => scorer.Save(ctx);
}
