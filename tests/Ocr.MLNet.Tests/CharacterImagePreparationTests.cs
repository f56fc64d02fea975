using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Preparation;
using SkiaSharp;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Tests;

/// <summary><c>mlContext.Transforms.PrepareCharacterImages</c> as an ML.NET estimator: schema, errors, columns, temp files.</summary>
[TestFixture]
public sealed class CharacterImagePreparationTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-prepare";

    [Test]
    public void A_missing_image_column_is_reported_in_ML_NET_wording_with_the_fix()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Array.Empty<PathRow>());
        Assert.That(() => mlContext.Transforms.PrepareCharacterImages().Fit(data),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartWith("Could not find image column 'Image'.").And.Message.Contain("LoadImages"));
    }

    [Test]
    public void A_pixel_column_given_as_the_image_is_a_schema_mismatch()
    {
        var mlContext = new MLContext();
        var data = SyntheticGlyphs.Load(mlContext, 1, 1);
        Assert.That(() => mlContext.Transforms.PrepareCharacterImages(inputColumnName: "Pixels").Fit(data),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartWith("Schema mismatch for image column 'Pixels': expected Image, got Vector<Single>."));
    }

    [Test]
    public void Invalid_options_are_all_reported_at_once()
    {
        var mlContext = new MLContext();
        var options = new CharacterImagePreparingOptions { OutputColumnName = " ", InputColumnName = "", Polarity = (InkPolarity)7 };
        Assert.That(() => mlContext.Transforms.PrepareCharacterImages(options),
            Throws.ArgumentException.With.Message.StartWith("Invalid PrepareCharacterImages options: OutputColumnName is empty")
                .And.Message.Contain("InputColumnName is empty").And.Message.Contain("Polarity = 7"));
    }

    [Test]
    public void The_fitted_chain_adds_only_the_pixel_column_keeps_the_image_and_leaves_no_temporary_file()
    {
        string temp = Path.Combine(WorkDirectory, "ml-temp");
        Directory.CreateDirectory(temp);
        var mlContext = new MLContext(seed: 1) { TempFilePath = temp };
        string png = Path.Combine(WorkDirectory, "a.png");
        File.WriteAllBytes(png, DrawnGlyphs.BlackOnWhitePng("A"));
        var input = mlContext.Data.LoadFromEnumerable([new PathRow { ImagePath = png }]);
        var estimator = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
            .Append(mlContext.Transforms.PrepareCharacterImages());

        var model = estimator.Fit(input);
        var output = model.Transform(input);
        Assert.That(output.Schema.Where(c => !c.IsHidden).Select(c => c.Name), Is.EqualTo(new[] { "ImagePath", "Image", "Pixels" }));
        Assert.That(output.Schema["Image"].Type, Is.InstanceOf<Microsoft.ML.Transforms.Image.ImageDataViewType>(), "the input image is left as it is");
        float[] pixels = output.GetColumn<float[]>("Pixels").Single();
        using (var decoded = SKBitmap.Decode(png))
            Assert.That(pixels, Is.EqualTo(CharacterImageConverter.ToEmnistPixels(decoded)).Within(1e-5), "the loaders' pixels");

        var shape = estimator.GetOutputSchema(MLNetInterop.ToShape(input.Schema));
        var pixelShape = shape.Single(c => c.Name == "Pixels");
        Assert.That(pixelShape.Kind, Is.EqualTo(SchemaShape.Column.VectorKind.Vector));
        Assert.That(pixelShape.ItemType, Is.EqualTo(NumberDataViewType.Single));
        Assert.That(shape.Select(c => c.Name), Is.EquivalentTo(output.Schema.Where(c => !c.IsHidden).Select(c => c.Name)), "schema propagation matches the fitted chain");

        (model as IDisposable)?.Dispose();
        Assert.That(Directory.GetFileSystemEntries(temp), Is.Empty, "the chain's copy of the ONNX graph and the build folder are gone");
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
