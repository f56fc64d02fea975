using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Text;
using Onnx;

namespace Ocr.MLNet.Tests;

/// <summary>
/// Line models saved before the byte planes (their graph reads the ARGB planes as floats scaled by 1/255) still read as
/// they did, in process and through a <c>PredictionEngine</c>, and <see cref="LineOnnxExporter.WithBytePlanes"/> (what
/// <c>ocr-mlnet upgrade</c> does to them) changes no score.
/// </summary>
[TestFixture]
public sealed class LineFloatPlanesTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-line-planes";

    [Test]
    public void A_line_model_with_the_float_plane_input_reads_as_its_byte_plane_form()
    {
        if (!PretrainedLineModel.IsAvailable)
            Assert.Ignore("This build has no packaged line model (bash tools/train-pretrained-lines.sh).");
        byte[] bytePlanes = FloatPlaneLineModel.PackagedOnnx();
        var packagedInput = ModelProto.Parser.ParseFrom(bytePlanes).Graph.Input.Single();
        Assert.That(packagedInput.Name, Is.EqualTo(LineOnnxExporter.InputColumnName), "the packaged line model reads byte planes");
        Assert.That(packagedInput.Type.TensorType.ElemType, Is.EqualTo((int)TensorProto.Types.DataType.Uint8));

        byte[] floatPlanes = FloatPlaneLineModel.AsFloatPlanes(bytePlanes);
        Assert.That(ModelProto.Parser.ParseFrom(floatPlanes).Graph.Input.Single().Name, Is.EqualTo(LineOnnxExporter.FloatInputColumnName));
        byte[] upgraded = LineOnnxExporter.WithBytePlanes(floatPlanes);
        Assert.That(LineOnnxExporter.WithBytePlanes(upgraded), Is.EqualTo(upgraded), "a byte-plane model is left as it is");

        var mlContext = new MLContext(seed: 1) { TempFilePath = WorkDirectory };
        string floatZip = FloatPlaneLineModel.Save(mlContext, floatPlanes, Path.Combine(WorkDirectory, "float-planes.zip"));
        string upgradedZip = FloatPlaneLineModel.Save(mlContext, upgraded, Path.Combine(WorkDirectory, "upgraded.zip"));

        var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions
        {
            Kind = SyntheticFieldKind.Amount, Seed = 5, EmnistFolder = TestEnvironment.RealData("emnist-byclass-test"),
        });
        var paths = new List<string>();
        var images = new List<MLImage>();
        for (int i = 0; i < 6; i++)
        {
            var field = generator.Generate(i);
            images.Add(LinePreparation.FromGrey(field.Pixels, field.Width, field.Height));
            string path = Path.Combine(WorkDirectory, $"field{i}.png");
            File.WriteAllBytes(path, FieldPng(field));
            paths.Add(path);
        }

        using var disposeImages = DisposeAll.Of(images);
        using var older = LineRecognizer.Load(floatZip);
        using var newer = LineRecognizer.Load(upgradedZip);
        var olderReadings = older.Read(images, FieldKind.Digits);
        var newerReadings = newer.Read(images, FieldKind.Digits);
        Assert.That(newerReadings.Select(r => r.Text), Is.EqualTo(olderReadings.Select(r => r.Text)));
        Assert.That(newerReadings.Select(r => r.Confidence), Is.EqualTo(olderReadings.Select(r => r.Confidence)).Within(1e-6f));
        Assert.That(olderReadings.Count(r => r.Text.Length > 0), Is.GreaterThanOrEqualTo(5), "the fields are read, so the comparison covers real text");

        LineText[] Engine(string zip)
        {
            using var model = (TransformerChain<ITransformer>)mlContext.Model.Load(zip, out _);
            using var engine = mlContext.Model.CreatePredictionEngine<FieldImageFile, LineText>(model);
            return paths.Select(p => engine.Predict(new FieldImageFile { ImagePath = p })).ToArray();
        }

        var olderEngine = Engine(floatZip);
        var newerEngine = Engine(upgradedZip);
        Assert.That(newerEngine.Select(t => t.Text), Is.EqualTo(olderEngine.Select(t => t.Text)), "PredictionEngine");
        Assert.That(newerEngine.Select(t => t.TextConfidence), Is.EqualTo(olderEngine.Select(t => t.TextConfidence)).Within(1e-6f), "PredictionEngine");
    }

    private static byte[] FieldPng(SyntheticField field)
    {
        using var image = LinePreparation.FromGrey(field.Pixels, field.Width, field.Height);
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(field.Width, field.Height, SkiaSharp.SKColorType.Bgra8888, SkiaSharp.SKAlphaType.Premul));
        System.Runtime.InteropServices.Marshal.Copy(image.Pixels.ToArray(), 0, bitmap.GetPixels(), field.Width * field.Height * 4);
        return DrawnGlyphs.Png(bitmap);
    }
}
