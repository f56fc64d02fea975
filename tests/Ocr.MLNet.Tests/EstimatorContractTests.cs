using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

/// <summary>The library's estimators against ML.NET's estimator contract (<see cref="EstimatorContract"/>).</summary>
[TestFixture]
public sealed class EstimatorContractTests
{
    private sealed class NumberLabel
    {
        public float Label { get; set; }

        [VectorType(1, 32, 32)]
        public float[] Pixels { get; set; } = new float[1024];
    }

    private sealed class LabelOnly
    {
        public string Label { get; set; } = "";
    }

    /// <summary>Labels as numbers: a schema mismatch for the label column.</summary>
    private static IDataView NumberLabels(MLContext mlContext) =>
        mlContext.Data.LoadFromEnumerable(new[] { new NumberLabel { Label = 1 }, new NumberLabel { Label = 2 } });

    /// <summary>Labels without pixels: the feature column is missing.</summary>
    private static IDataView LabelsOnly(MLContext mlContext) =>
        mlContext.Data.LoadFromEnumerable(new[] { new LabelOnly { Label = "a" }, new LabelOnly { Label = "o" } });

    /// <summary>An estimator whose promise leaves out a column its transformer delivers and mistypes another.</summary>
    private sealed class MispromisingEstimator(IEstimator<ITransformer> inner) : IEstimator<ITransformer>
    {
        public ITransformer Fit(IDataView input) => inner.Fit(input);

        public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            var context = new MLContext();
            // Promise Pixels as text and no Merged column: built from a schema that says so.
            var lie = context.Data.LoadFromEnumerable(new[] { new LabelOnly { Label = "a" } });
            lie = context.Transforms.CopyColumns("Pixels", "Label").Fit(lie).Transform(lie);
            return EstimatorContract.ShapeOf(lie.Schema);
        }
    }

    [Test]
    public void The_contract_check_states_each_column_the_estimator_promises_differently()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 1, seed: 2, classes: ["a", "o"]);
        var estimator = new MispromisingEstimator(mlContext.Transforms.MergeSimilarClasses("Merged", "Label").AppendCacheCheckpoint(mlContext));
        var failure = Assert.Throws<AssertionException>(() => EstimatorContract.Check(mlContext, estimator, data))!;
        Assert.That(failure.Message, Does.Contain("delivered but not promised: 'Merged': Scalar of String")
            .And.Contain("column 'Pixels': promised 'Pixels': Scalar of String, delivered 'Pixels': Vector of Single"));
    }

    [Test]
    public void Merge_similar_classes_in_place_keeps_the_estimator_contract_and_a_number_label_is_a_schema_mismatch()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 2, seed: 2, classes: ["a", "o", "x", "7"]);
        EstimatorContract.Check(mlContext, mlContext.Transforms.MergeSimilarClasses(), data, invalid: NumberLabels(mlContext));
    }

    [Test]
    public void Merge_similar_classes_into_a_new_column_keeps_the_estimator_contract_and_a_missing_input_is_not_found()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 2, seed: 2, classes: ["a", "o", "x", "7"]);
        var invalid = mlContext.Transforms.CopyColumns("Character", "Label").Fit(data).Transform(data);
        invalid = mlContext.Transforms.DropColumns("Label").Fit(invalid).Transform(invalid);
        EstimatorContract.Check(mlContext, mlContext.Transforms.MergeSimilarClasses("Merged", "Label"), data, invalid);
    }

    [Test]
    public void Prepare_character_images_after_load_images_keeps_the_estimator_contract()
    {
        var mlContext = new MLContext(seed: 1);
        string folder = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-contract-prepare");
        try
        {
            var files = SyntheticGlyphs.Make(perClass: 1, seed: 3)
                .Select((row, i) => new ImagePathRow { ImagePath = SyntheticGlyphs.WritePng(Path.Combine(folder, $"g{i}.png"), row.Pixels) })
                .ToList();
            var data = mlContext.Data.LoadFromEnumerable(files);
            var estimator = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
                .Append(mlContext.Transforms.PrepareCharacterImages());
            EstimatorContract.Check(mlContext, estimator, data);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void The_character_cnn_trainer_keeps_the_estimator_contract_and_a_number_label_is_a_schema_mismatch()
    {
        var mlContext = new MLContext(seed: 1);
        var data = SyntheticGlyphs.Load(mlContext, perClass: 5, seed: 1);
        var trainer = mlContext.MulticlassClassification.Trainers.CharacterCnn(CharacterCnnTrainerTests.SmallRun(epochs: 1));
        EstimatorContract.Check(mlContext, trainer, data, invalid: NumberLabels(mlContext));
    }

    [Test]
    public void The_character_cnn_trainer_reports_a_missing_feature_column_in_mlnet_words()
    {
        var mlContext = new MLContext(seed: 1);
        var trainer = mlContext.MulticlassClassification.Trainers.CharacterCnn(CharacterCnnTrainerTests.SmallRun(epochs: 1));
        var invalid = LabelsOnly(mlContext);
        Assert.That(() => trainer.Fit(invalid),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith("Could not find feature column 'Pixels'."));
        Assert.That(() => trainer.GetOutputSchema(EstimatorContract.ShapeOf(invalid.Schema)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith("Could not find feature column 'Pixels'."));
    }

    private sealed class ImagePathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
