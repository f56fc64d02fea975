using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Ocr.MLNet.Training;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class OnnxExportTests
{
    /// <summary>EMNIST ByMerge's 47 classes, in its label order ("a" and "A" are both there).</summary>
    private static readonly string[] MergedClassNames =
        [.. "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt".Select(c => c.ToString())];

    private const int PixelCount = CharacterCnnNetwork.InputSize * CharacterCnnNetwork.InputSize;

    [OneTimeSetUp]
    public void LoadBackend() => TorchBackend.EnsureLoaded();

    [Test]
    public void Onnx_runtime_matches_TorchSharp_with_trained_batch_norm_statistics()
    {
        using var network = NetworkWithNonTrivialBatchNorm(seed: 11, classCount: MergedClassNames.Length);
        byte[] model = CharacterCnnOnnxExporter.Export(network, MergedClassNames);

        const int batch = 5;
        random.manual_seed(12);
        using var images = rand(batch, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize);
        float[] expected = TorchProbabilities(network, images);

        using var session = new InferenceSession(model);
        var (scores, labels) = RunOnnx(session, images.data<float>().ToArray(), batch);

        Assert.That(scores, Has.Length.EqualTo(expected.Length));
        double maxDiff = expected.Zip(scores, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"max |TorchSharp - ONNX Runtime| over {batch}×{MergedClassNames.Length} probabilities: {maxDiff:E2}");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(1e-5));

        int classes = MergedClassNames.Length;
        for (int i = 0; i < batch; i++)
        {
            int onnxArgMax = ArgMax(scores.AsSpan(i * classes, classes));
            int torchArgMax = ArgMax(expected.AsSpan(i * classes, classes));
            Assert.That(labels[i], Is.EqualTo(MergedClassNames[onnxArgMax]), $"image {i}");
            Assert.That(labels[i], Is.EqualTo(MergedClassNames[torchArgMax]), $"image {i} (TorchSharp's arg-max)");
        }
    }

    [Test]
    public void The_graph_has_a_batch_dimension_and_the_documented_inputs_and_outputs()
    {
        random.manual_seed(2);
        using var network = new CharacterCnnNetwork(classCount: 10);
        string[] names = [.. Enumerable.Range(0, 10).Select(i => $"digit {i}")];
        using var session = new InferenceSession(CharacterCnnOnnxExporter.Export(network, names, inputColumnName: "Image"));

        var input = session.InputMetadata.Single();
        Assert.That(input.Key, Is.EqualTo("Image"));
        Assert.That(input.Value.ElementType, Is.EqualTo(typeof(float)));
        Assert.That(input.Value.Dimensions, Is.EqualTo(new[] { -1, 1, 32, 32 }));
        Assert.That(input.Value.SymbolicDimensions[0], Is.EqualTo(CharacterCnnOnnxExporter.BatchDimensionName));

        Assert.That(session.OutputMetadata.Keys, Is.EqualTo(new[] { "Score", "PredictedCharacter", "mlnet.Score.unusedOutput" }));
        Assert.That(session.OutputMetadata["Score"].ElementType, Is.EqualTo(typeof(float)));
        Assert.That(session.OutputMetadata["Score"].Dimensions, Is.EqualTo(new[] { -1, 10 }));
        Assert.That(session.OutputMetadata["PredictedCharacter"].ElementType, Is.EqualTo(typeof(string)));
        Assert.That(session.OutputMetadata["PredictedCharacter"].Dimensions, Is.EqualTo(new[] { -1 }));

        // The network's device and mode are left alone.
        Assert.That(network.training, Is.True);
    }

    [Test]
    public void Ml_net_gives_a_string_label_and_the_same_predictions_after_save_and_load()
    {
        using var network = NetworkWithNonTrivialBatchNorm(seed: 21, classCount: MergedClassNames.Length);
        byte[] onnx = CharacterCnnOnnxExporter.Export(network, MergedClassNames);
        var images = RandomImages(seed: 22, count: 4);
        using var session = new InferenceSession(onnx);

        string tempFolder = TestEnvironment.CreateTemporaryDirectory("ocr-onnx-mltemp");
        string saveFolder = TestEnvironment.CreateTemporaryDirectory("ocr-onnx-zip");
        try
        {
            var mlContext = new MLContext(seed: 1) { TempFilePath = tempFolder };
            var model = ScoringChain.Build(mlContext, onnx);
            Assert.That(model, Is.InstanceOf<IDisposable>());

            var schema = model.GetOutputSchema(mlContext.Data.LoadFromEnumerable(Array.Empty<FlatInput>()).Schema);
            Assert.That(schema["PredictedCharacter"].Type, Is.EqualTo(TextDataViewType.Instance), "PredictedCharacter must be a scalar string column");
            Assert.That(VectorSize(schema["Score"].Type), Is.EqualTo(MergedClassNames.Length));
            Assert.That(schema.Where(c => !c.IsHidden).Select(c => c.Name), Is.EqualTo(new[] { "Pixels", "Score", "PredictedCharacter", "PredictedLabel" }),
                "only the multiclass columns are added; the helper column is dropped");
            Assert.That(CharacterScores.GetClassNames(schema), Is.EqualTo(MergedClassNames), "Score's slot names are the class names");
            Assert.That(schema["PredictedLabel"].Type, Is.EqualTo(new KeyDataViewType(typeof(uint), MergedClassNames.Length)));
            var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
            schema["PredictedLabel"].GetKeyValues(ref keyValues);
            Assert.That(keyValues.DenseValues().Select(v => v.ToString()), Is.EqualTo(MergedClassNames), "PredictedLabel's key values are the class names in Score order");

            var inMemory = PredictAll(mlContext, model, images);

            string zip = Path.Combine(saveFolder, "ocr.zip");
            mlContext.Model.Save(model, mlContext.Data.LoadFromEnumerable(Array.Empty<FlatInput>()).Schema, zip);

            // Another app: a fresh context that knows nothing of Ocr.MLNet.
            var otherContext = new MLContext { TempFilePath = tempFolder };
            var loaded = otherContext.Model.Load(zip, out var loadedSchema);
            Assert.That(VectorSize(loadedSchema[CharacterCnnOnnxExporter.DefaultInputColumnName].Type), Is.EqualTo(PixelCount));
            var reloaded = PredictAll(otherContext, loaded, images);

            for (int i = 0; i < images.Length; i++)
            {
                var (directScores, directLabels) = RunOnnx(session, images[i], 1);
                Assert.That(inMemory[i].Score, Is.EqualTo(directScores).Within(1e-6), $"image {i}: ML.NET vs ONNX Runtime");
                Assert.That(inMemory[i].PredictedCharacter, Is.EqualTo(directLabels[0]), $"image {i}");
                Assert.That(inMemory[i].PredictedCharacter, Is.EqualTo(MergedClassNames[ArgMax(inMemory[i].Score)]), $"image {i}");
                Assert.That(reloaded[i].Score, Is.EqualTo(inMemory[i].Score), $"image {i}: loaded vs in-memory");
                Assert.That(reloaded[i].PredictedCharacter, Is.EqualTo(inMemory[i].PredictedCharacter), $"image {i}: loaded vs in-memory");
            }

            // A column shaped like ExtractPixels' output (1 × 32 × 32) binds as well.
            using (var engine = mlContext.Model.CreatePredictionEngine<ShapedInput, Prediction>(model, NotOwning()))
            {
                var shaped = engine.Predict(new ShapedInput { Pixels = images[0] });
                Assert.That(shaped.Score, Is.EqualTo(inMemory[0].Score));
                Assert.That(shaped.PredictedCharacter, Is.EqualTo(inMemory[0].PredictedCharacter));
            }

            // ML.NET keeps one temporary copy of the model per live transformer, and nothing else.
            Assert.That(Directory.GetFileSystemEntries(tempFolder), Has.Length.EqualTo(2),
                "expected one ML.NET copy for the built model and one for the loaded model");
            ((IDisposable)model).Dispose();
            ((IDisposable)loaded).Dispose();
            Assert.That(Directory.GetFileSystemEntries(tempFolder), Is.Empty, "temporary model copies were left behind");
        }
        finally
        {
            Directory.Delete(tempFolder, recursive: true);
            Directory.Delete(saveFolder, recursive: true);
        }
    }

    [Test]
    public void Building_and_disposing_with_the_default_temp_path_leaves_no_copy_of_the_model()
    {
        random.manual_seed(31);
        using var network = new CharacterCnnNetwork(classCount: 12);
        byte[] onnx = CharacterCnnOnnxExporter.Export(network, [.. Enumerable.Range(0, 12).Select(i => $"class{i}")]);

        var mlContext = new MLContext();
        Assert.That(Path.GetFullPath(mlContext.TempFilePath), Is.EqualTo(Path.GetFullPath(Path.GetTempPath())));
        var before = Directory.GetFileSystemEntries(Path.GetTempPath()).ToHashSet();

        var model = ScoringChain.Build(mlContext, onnx);
        using (var engine = mlContext.Model.CreatePredictionEngine<FlatInput, Prediction>(model))
            Assert.That(engine.Predict(new FlatInput()).PredictedCharacter, Does.StartWith("class"));
        // The engine owned the model (ML.NET's default) and disposed it; disposing again is harmless.
        ((IDisposable)model).Dispose();

        // Other processes may write to the shared temp folder: look only for new entries that hold this model.
        var leftovers = Directory.GetFileSystemEntries(Path.GetTempPath())
            .Where(path => !before.Contains(path))
            .Where(path => Directory.Exists(path)
                ? Path.GetFileName(path).StartsWith("ocr-mlnet-build-", StringComparison.Ordinal)
                : HoldsBytes(path, onnx))
            .ToList();
        Assert.That(leftovers, Is.Empty, "copies of the ONNX model were left in the temp folder");
    }

    [Test]
    public void Every_class_name_comes_back_through_the_label_steps_of_the_chain()
    {
        random.manual_seed(41);
        using var network = new CharacterCnnNetwork(classCount: MergedClassNames.Length);
        var mlContext = new MLContext();
        var model = ScoringChain.Build(mlContext, CharacterCnnOnnxExporter.Export(network, MergedClassNames));
        try
        {
            // Run everything after ApplyOnnxModel on every possible ONNX label.
            var labelSteps = ((IEnumerable<ITransformer>)model).Skip(1).ToList();
            Assert.That(labelSteps, Has.Count.EqualTo(5));
            IDataView data = mlContext.Data.LoadFromEnumerable(MergedClassNames.Select(n => new OnnxLabel { PredictedCharacter = [n] }));
            foreach (var step in labelSteps)
                data = step.Transform(data);
            Assert.That(data.GetColumn<string>("PredictedCharacter").ToArray(), Is.EqualTo(MergedClassNames));
            // Keys count from 1 in Score order.
            var keys = mlContext.Transforms.Conversion.ConvertType("Index", "PredictedLabel", DataKind.UInt32).Fit(data).Transform(data);
            Assert.That(keys.GetColumn<uint>("Index").ToArray(), Is.EqualTo(Enumerable.Range(1, MergedClassNames.Length).Select(i => (uint)i)));
        }
        finally
        {
            ((IDisposable)model).Dispose();
        }
    }

    [Test]
    public void A_network_with_non_finite_weights_is_refused_naming_the_first_bad_parameter()
    {
        random.manual_seed(52);
        using var network = new CharacterCnnNetwork(classCount: 3);
        var parameters = network.named_parameters().ToList();
        using (no_grad())
        {
            parameters[2].parameter.fill_(float.NaN);
            parameters[^1].parameter.fill_(float.PositiveInfinity);
        }

        var ex = Assert.Throws<ArgumentException>(() => CharacterCnnOnnxExporter.Export(network, ["a", "b", "c"]));
        Assert.That(ex!.ParamName, Is.EqualTo("network"));
        Assert.That(ex.Message, Does.Contain($"its parameter '{parameters[2].name}' holds non-finite values").And.Contain("lower learning rate"));
    }

    [Test]
    public void A_class_count_mismatch_is_reported_with_both_counts()
    {
        random.manual_seed(51);
        using var network = new CharacterCnnNetwork(classCount: 10);
        var ex = Assert.Throws<ArgumentException>(() =>
            CharacterCnnOnnxExporter.Export(network, [.. Enumerable.Range(0, 9).Select(i => i.ToString())]));
        Assert.That(ex!.ParamName, Is.EqualTo("classNames"));
        Assert.That(ex.Message, Does.Contain("the network has 10 output classes but 9 class names were given"));
    }

    [Test]
    public void Every_invalid_class_name_and_a_clashing_input_name_are_reported()
    {
        random.manual_seed(52);
        using var network = new CharacterCnnNetwork(classCount: 4);
        var ex = Assert.Throws<ArgumentException>(() => CharacterCnnOnnxExporter.Export(network, ["a", "", "b", "a"]));
        Assert.That(ex!.Message, Does.Contain("class name 1 is empty").And.Contain("class name 3 ('a') repeats an earlier name"));

        string[] names = ["w", "x", "y", "z"];
        foreach (string clash in new[] { "Score", "PredictedCharacter", "dense", "class_names" })
        {
            var clashEx = Assert.Throws<ArgumentException>(() => CharacterCnnOnnxExporter.Export(network, names, clash));
            Assert.That(clashEx!.ParamName, Is.EqualTo("inputColumnName"));
            Assert.That(clashEx.Message, Does.Contain($"'{clash}'"));
        }

        Assert.Throws<ArgumentException>(() => CharacterCnnOnnxExporter.Export(network, names, " "));
        Assert.Throws<ArgumentNullException>(() => CharacterCnnOnnxExporter.Export(null!, names));
        Assert.Throws<ArgumentNullException>(() => CharacterCnnOnnxExporter.Export(network, null!));
    }

    [Test]
    public void The_builder_rejects_bytes_that_are_not_an_exported_model()
    {
        var mlContext = new MLContext();
        var ex = Assert.Throws<ArgumentException>(() => ScoringChain.Build(mlContext, [1, 2, 3, 4, 5]));
        Assert.That(ex!.Message, Does.Contain("CharacterCnnOnnxExporter.Export"));
        Assert.Throws<ArgumentNullException>(() => ScoringChain.Build(mlContext, null!));
    }

    // ---- helpers ----

    public sealed class FlatInput
    {
        [VectorType(PixelCount)]
        public float[] Pixels { get; set; } = new float[PixelCount];
    }

    public sealed class ShapedInput
    {
        [VectorType(1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize)]
        public float[] Pixels { get; set; } = new float[PixelCount];
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedCharacter { get; set; } = "";
    }

    public sealed class ScoreOnly
    {
        public float[] Score { get; set; } = [];
    }

    public sealed class OnnxLabel
    {
        [VectorType(1)]
        public string[] PredictedCharacter { get; set; } = [];
    }

    /// <summary>
    /// A network whose BatchNorm layers have running statistics away from 0/1 (training-mode passes on
    /// shifted random data) and affine parameters away from 1/0, so the export of every BN input is checked.
    /// </summary>
    private static CharacterCnnNetwork NetworkWithNonTrivialBatchNorm(int seed, int classCount)
    {
        random.manual_seed(seed);
        var network = new CharacterCnnNetwork(classCount);
        network.train();
        using (no_grad())
        {
            for (int pass = 0; pass < 10; pass++)
            {
                using var scope = NewDisposeScope();
                network.forward(rand(16, 1, 32, 32) * 2 + 0.5);
            }

            foreach (var (name, parameter) in network.named_parameters())
            {
                if (name.Contains(".bn.", StringComparison.Ordinal))
                {
                    using var noise = randn_like(parameter) * 0.2;
                    parameter.add_(noise);
                }
            }
        }

        foreach (var (name, buffer) in network.named_buffers())
        {
            using var scope = NewDisposeScope();
            if (name.EndsWith("running_mean", StringComparison.Ordinal))
            {
                float distance = buffer.abs().max().item<float>();
                TestContext.Out.WriteLine($"max |{name}| = {distance:G3}");
                Assert.That(distance, Is.GreaterThan(0.01f), $"{name} stayed at 0");
            }
            else if (name.EndsWith("running_var", StringComparison.Ordinal))
            {
                float distance = (buffer - 1).abs().max().item<float>();
                TestContext.Out.WriteLine($"max |{name} - 1| = {distance:G3}");
                Assert.That(distance, Is.GreaterThan(0.01f), $"{name} stayed at 1");
            }
        }

        return network;
    }

    private static float[] TorchProbabilities(CharacterCnnNetwork network, torch.Tensor images)
    {
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            return nn.functional.softmax(network.forward(images), 1).data<float>().ToArray();
        }
        finally
        {
            network.train(wasTraining);
        }
    }

    private static (float[] Scores, string[] Labels) RunOnnx(InferenceSession session, float[] pixels, int batch)
    {
        var input = new DenseTensor<float>(pixels, [batch, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(CharacterCnnOnnxExporter.DefaultInputColumnName, input)]);
        var scores = results.Single(r => r.Name == "Score").AsTensor<float>();
        var labels = results.Single(r => r.Name == "PredictedCharacter").AsTensor<string>();
        Assert.That(scores.Dimensions.ToArray(), Is.EqualTo(new[] { batch, (int)scores.Dimensions[1] }));
        Assert.That(labels.Dimensions.ToArray(), Is.EqualTo(new[] { batch }));
        return (scores.ToArray(), labels.ToArray());
    }

    private static Prediction[] PredictAll(MLContext mlContext, ITransformer model, float[][] images)
    {
        // ML.NET's engines own (and dispose) the model by default; these leave it to the test.
        using var engine = mlContext.Model.CreatePredictionEngine<FlatInput, Prediction>(model, NotOwning());
        return [.. images.Select(pixels =>
        {
            var p = engine.Predict(new FlatInput { Pixels = pixels });
            return new Prediction { Score = [.. p.Score], PredictedCharacter = p.PredictedCharacter };
        })];
    }

    private static float[][] RandomImages(int seed, int count)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, PixelCount).Select(_ => rng.NextSingle()).ToArray())];
    }

    private static PredictionEngineOptions NotOwning() => new() { OwnsTransformer = false };

    private static int VectorSize(DataViewType type) => type is VectorDataViewType vector ? vector.Size : 0;

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }

        return best;
    }

    private static bool HoldsBytes(string path, byte[] bytes)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
