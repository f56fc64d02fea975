using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

/// <summary>
/// Models saved before the preprocessing graph read byte planes (their <c>ExtractPixels</c> wrote floats scaled by 1/255 and
/// their graph reads <see cref="CharacterPreprocessingGraph.FloatInputColumnName"/>) still load and score image files as the
/// packaged model, which now carries the byte graph, scores them.
/// </summary>
[TestFixture]
public sealed class FloatPlanesModelTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-float-planes";

    private static readonly string[] Images = Directory.GetFiles(Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "sd19"), "*.png")
        .Order(StringComparer.Ordinal).ToArray();

    [Test]
    public void The_packaged_models_graph_reads_byte_planes()
    {
        using var zip = new System.IO.Compression.ZipArchive(PretrainedCharacterModel.OpenRead());
        var inputs = CharacterModelLoader.OnnxModels(zip, PretrainedCharacterModel.Name)
            .SelectMany(bytes => Onnx.ModelProto.Parser.ParseFrom(bytes).Graph.Input)
            .ToDictionary(input => input.Name, input => (Onnx.TensorProto.Types.DataType)input.Type.TensorType.ElemType);
        Assert.That(inputs, Does.ContainKey(CharacterPreprocessingGraph.InputColumnName));
        Assert.That(inputs[CharacterPreprocessingGraph.InputColumnName], Is.EqualTo(Onnx.TensorProto.Types.DataType.Uint8));
        Assert.That(inputs, Does.Not.ContainKey(CharacterPreprocessingGraph.FloatInputColumnName));
    }

    [Test]
    public void A_model_with_the_float_plane_graph_scores_image_files_as_the_packaged_model_does()
    {
        Assert.That(Images, Has.Length.GreaterThanOrEqualTo(5), "samples/images/sd19 holds the real NIST PNGs");
        var mlContext = new MLContext(seed: 1) { TempFilePath = WorkDirectory };
        string floatPlanesModel = SaveWithFloatPlaneGraph(mlContext, Path.Combine(WorkDirectory, "float-planes.zip"));

        var rows = Images.Select(path => new CharacterImagePath { ImagePath = path }).ToArray();
        float[][] Engine(ITransformer model)
        {
            using var engine = mlContext.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(model);
            return rows.Select(row => engine.Predict(row).Score.ToArray()).ToArray();
        }

        float[][] packaged, older;
        using (var model = (TransformerChain<ITransformer>)mlContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath))
            packaged = Engine(model);
        using (var model = (TransformerChain<ITransformer>)mlContext.Model.LoadCharacterModel(floatPlanesModel, CharacterModelInput.ImagePath))
            older = Engine(model);
        for (int i = 0; i < rows.Length; i++)
            Assert.That(older[i], Is.EqualTo(packaged[i]).Within(1e-5f), $"PredictionEngine, {Path.GetFileName(Images[i])}");
        Assert.That(packaged.Select(s => s.Max()), Is.All.GreaterThan(0.3f), "every sample has a clear best class, so the scores compared are real");

        using var current = mlContext.Model.LoadPretrainedCharacterRecognizer();
        using var previous = mlContext.Model.LoadCharacterRecognizer(floatPlanesModel);
        Assert.That(previous.Score(Images), Is.EqualTo(current.Score(Images)).Within(1e-5f), "CharacterRecognizer.Score(paths)");
        Assert.That(previous.Score(Images), Is.EqualTo(packaged.SelectMany(s => s)).Within(1e-5f), "the recognizer as the PredictionEngine");
    }

    /// <summary>The packaged scorer behind the chain that models of the float-plane graph were saved with.</summary>
    private static string SaveWithFloatPlaneGraph(MLContext mlContext, string path)
    {
        const string resized = "Resized";
        var imagePaths = mlContext.Data.LoadFromEnumerable(Array.Empty<CharacterImagePath>());
        using var scorer = (TransformerChain<ITransformer>)mlContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.Pixels);
        using var chain = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, CharacterFormat.ImagePathColumnName)
            .Append(mlContext.Transforms.ResizeImages(resized, CharacterPreprocessingGraph.DefaultImageSide, CharacterPreprocessingGraph.DefaultImageSide,
                CharacterFormat.ImageColumnName, ImageResizingEstimator.ResizingKind.IsoPad))
            .Append(mlContext.Transforms.ExtractPixels(CharacterPreprocessingGraph.FloatInputColumnName, resized, ImagePixelExtractingEstimator.ColorBits.All,
                ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, scaleImage: 1f / 255f))
            .Append(mlContext.Transforms.ApplyOnnxModel([CharacterCnnOnnxExporter.DefaultInputColumnName], [CharacterPreprocessingGraph.FloatInputColumnName],
                new MemoryStream(PreviousPreprocessingGraph.Build())))
            .Append(mlContext.Transforms.DropColumns(resized, CharacterPreprocessingGraph.FloatInputColumnName))
            .Fit(imagePaths)
            .Append(scorer);
        mlContext.Model.Save(chain, imagePaths.Schema, path);
        return path;
    }
}
