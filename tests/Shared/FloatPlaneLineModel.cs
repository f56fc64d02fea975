using Microsoft.ML;
using Ocr.MLNet.Lines;
using Onnx;

namespace Ocr.MLNet.Tests;

/// <summary>The packaged line model as line models were saved before the byte planes: its graph reading the planes as floats.</summary>
internal static class FloatPlaneLineModel
{
    /// <summary>The packaged line model's graph (byte planes).</summary>
    public static byte[] PackagedOnnx()
    {
        using var packaged = PretrainedLineModel.OpenRead();
        return LineRecognizerModel.ReadOnnx(packaged, PretrainedLineModel.Name);
    }

    /// <summary>A byte-plane graph with its planes' Cast and 1/255 scaling taken out and the float planes as its input.</summary>
    public static byte[] AsFloatPlanes(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var graph = model.Graph;
        var cast = graph.Node.Single(n => n.OpType == "Cast" && n.Input[0] == LineOnnxExporter.InputColumnName);
        var scale = graph.Node.Single(n => n.OpType == "Mul" && n.Input.Contains(cast.Output[0]));
        string planes = scale.Output[0];
        graph.Node.Remove(cast);
        graph.Node.Remove(scale);
        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == planes)
                    node.Input[i] = LineOnnxExporter.FloatInputColumnName;
            }
        }

        var input = graph.Input.Single();
        input.Name = LineOnnxExporter.FloatInputColumnName;
        input.Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Float;
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

    /// <summary>A line model zip of <paramref name="onnx"/> behind <c>LoadImages</c>, as <c>train-fields</c> saves one.</summary>
    public static string Save(MLContext mlContext, byte[] onnx, string path)
    {
        var files = mlContext.Data.LoadFromEnumerable(Array.Empty<FieldImageFile>());
        using var scorer = (IDisposable)LineRecognizerModel.BuildChain(MLNetInterop.EnvironmentOf(mlContext.Model), onnx, CharacterFormat.ImageColumnName);
        var chain = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, nameof(FieldImageFile.ImagePath)).Fit(files).Append((ITransformer)scorer);
        mlContext.Model.Save(chain, files.Schema, path);
        return path;
    }
}
