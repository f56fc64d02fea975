using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Microsoft.ML.Transforms.Onnx;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The pipeline a user writes (LoadImages → PrepareCharacterImages → CharacterCnn), saved, then loaded by plain ML.NET and
/// by <c>LoadCharacterModel</c>: ML.NET's multiclass contract, the parts of the chain per input, and clear load errors.
/// </summary>
[TestFixture]
public sealed class CharacterModelLoadingTests
{
    private static string directory = "";
    private static string modelPath = "";
    private static string[] classNames = [];
    private static List<LabelledFile> testFiles = [];

    [OneTimeSetUp]
    public void TrainOnce()
    {
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-model-loading");
        var mlContext = new MLContext(seed: 1);
        var training = mlContext.Data.LoadFromEnumerable(WriteGlyphs("train", perClass: 30, seed: 5));
        var keyLabels = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(training);
        var keyed = keyLabels.Transform(training);

        var options = CharacterCnnTrainerTests.SmallRun(epochs: 3);
        options.ValidationFraction = 0;
        var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
            .Append(mlContext.Transforms.PrepareCharacterImages())
            .Append(mlContext.MulticlassClassification.Trainers.CharacterCnn(options));
        using var model = pipeline.Fit(keyed);
        classNames = [.. model.LastTransformer.ClassNames];
        modelPath = Path.Combine(directory, "model.zip");
        mlContext.Model.Save(model, keyed.Schema, modelPath);
        testFiles = WriteGlyphs("test", perClass: 6, seed: 77);
    }

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    [Test]
    public void The_saved_pipeline_loaded_by_plain_ML_NET_has_Score_slot_names_a_key_PredictedLabel_and_no_helper_columns()
    {
        var app = new MLContext();
        var model = app.Model.Load(modelPath, out _);
        try
        {
            var input = app.Data.LoadFromEnumerable(Array.Empty<PathRow>()).Schema;
            var output = model.GetOutputSchema(input);
            Assert.That(output.Where(c => !c.IsHidden).Select(c => c.Name),
                Is.EquivalentTo(new[] { "ImagePath", "Image", "Pixels", "Score", "PredictedCharacter", "PredictedLabel" }),
                "only the user's steps' columns and the multiclass columns; no intermediate columns");

            var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
            output["Score"].GetSlotNames(ref slotNames);
            Assert.That(slotNames.DenseValues().Select(n => n.ToString()), Is.EqualTo(classNames));
            Assert.That(output["PredictedLabel"].Type, Is.EqualTo(new KeyDataViewType(typeof(uint), classNames.Length)));
            var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
            output["PredictedLabel"].GetKeyValues(ref keyValues);
            Assert.That(keyValues.DenseValues().Select(n => n.ToString()), Is.EqualTo(classNames));
            Assert.That(output["PredictedCharacter"].Type, Is.EqualTo(TextDataViewType.Instance));
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    [Test]
    public void MulticlassClassification_Evaluate_runs_on_the_loaded_model_output_without_re_keying()
    {
        var app = new MLContext();
        var model = app.Model.Load(modelPath, out _);
        try
        {
            var test = app.Data.LoadFromEnumerable(testFiles);
            // The app keys its labels by the model's classes, the same key values the model's PredictedLabel carries.
            var keyData = app.Data.LoadFromEnumerable(classNames.Select(name => new ClassNameRow { Label = name }));
            var keyed = app.Transforms.Conversion.MapValueToKey("Label", keyData: keyData).Fit(test).Transform(test);
            var scored = model.Transform(keyed);

            var metrics = app.MulticlassClassification.Evaluate(scored);

            var rows = app.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false).ToList();
            double correct = rows.Count(r => r.PredictedLabel == r.Label) / (double)rows.Count;
            Assert.That(metrics.MicroAccuracy, Is.EqualTo(correct).Within(1e-12));
            Assert.That(metrics.MicroAccuracy, Is.GreaterThan(0.5), "three epochs on four clear glyph classes learn them");
            Assert.That(metrics.ConfusionMatrix.NumberOfClasses, Is.EqualTo(classNames.Length));
            for (int i = 0; i < rows.Count; i++)
            {
                Assert.That(rows[i].PredictedCharacter, Is.EqualTo(classNames[rows[i].PredictedLabel - 1]), $"row {i}: the text column names the key");
                Assert.That(rows[i].PredictedLabel - 1, Is.EqualTo(Array.IndexOf(rows[i].Score, rows[i].Score.Max())), $"row {i}: the key is the best score's slot");
            }
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    [Test]
    public void LoadCharacterModel_gives_the_parts_that_read_images_and_pixels_with_the_same_scores()
    {
        var mlContext = new MLContext();
        using var whole = (IDisposable)mlContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.ImagePath);
        var fromImages = mlContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.Image);
        var fromPixels = mlContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.Pixels);
        using var disposeImages = (IDisposable)fromImages;
        using var disposePixels = (IDisposable)fromPixels;

        var byPath = ((ITransformer)whole).Transform(mlContext.Data.LoadFromEnumerable(testFiles.Take(6).Select(f => new PathRow { ImagePath = f.ImagePath })));
        var pathRows = mlContext.Data.CreateEnumerable<PixelsAndScore>(byPath, reuseRowObject: false).ToList();

        var byPixels = fromPixels.Transform(mlContext.Data.LoadFromEnumerable(pathRows.Select(r => new PixelRow { Pixels = r.Pixels })));
        var pixelScores = byPixels.GetColumn<float[]>("Score").ToList();

        using var engine = mlContext.Model.CreatePredictionEngine<ImageRow, PixelsAndScore>(fromImages, new PredictionEngineOptions { OwnsTransformer = false });
        for (int i = 0; i < pathRows.Count; i++)
        {
            Assert.That(pixelScores[i], Is.EqualTo(pathRows[i].Score), $"file {i}: the scorer alone on the chain's own pixels");
            using var image = MLImage.CreateFromFile(testFiles[i].ImagePath);
            Assert.That(engine.Predict(new ImageRow { Image = image }).Score, Is.EqualTo(pathRows[i].Score).Within(1e-6), $"file {i}: from an in-memory image");
        }

        Assert.That(CharacterScores.GetClassNames(fromPixels.GetOutputSchema(byPixels.Schema)), Is.EqualTo(classNames));
    }

    [Test]
    public void LoadCharacterModel_opens_its_sessions_on_one_thread_unless_the_context_sets_ONNX_options_and_leaves_the_context_as_it_was()
    {
        ProcessThreads.AssumeCountable();
        const int loads = 3, sessionsPerModel = 2; // the preparation graph and the network

        var mlContext = new MLContext();
        var (oneThread, oneThreadScores) = LoadAndScore(() => mlContext.Model.LoadCharacterModel(modelPath, out _), loads);
        Assert.That(mlContext.GetOnnxSessionOption(), Is.Null, "the context has no ONNX session options after the load, as before it");

        var plainContext = new MLContext();
        var (plain, plainScores) = LoadAndScore(() => plainContext.Model.Load(modelPath, out _), loads);

        var ownContext = new MLContext();
        ownContext.SetOnnxSessionOption(new OnnxSessionOptions { IntraOpNumThreads = 3 });
        var (own, ownScores) = LoadAndScore(() => ownContext.Model.LoadCharacterModel(modelPath, out _), loads);

        // ONNX Runtime's own default is one thread per physical core (or half the logical ones where it cannot tell): the plain
        // load shows which this machine gets.
        TestContext.Out.WriteLine($"threads started by {loads} loads: LoadCharacterModel {oneThread}, plain Load {plain}, the context's 3 threads {own}");
        Assert.That(oneThread, Is.LessThanOrEqualTo(1), "no pool threads: one intra-op thread per session");
        // A margin of 2 for the runtime's own threads coming and going.
        Assert.That(own - oneThread, Is.GreaterThanOrEqualTo((loads * sessionsPerModel * 2) - 2), "the context's own options are used: 2 pool threads per session");
        Assert.That(oneThreadScores, Is.EqualTo(plainScores), "the same scores whatever the threads");
        Assert.That(ownScores, Is.EqualTo(plainScores));
    }

    /// <summary>Loads <paramref name="loads"/> copies, counts the process's threads before and after, scores one image, disposes them.</summary>
    private static (int StartedThreads, float[] Scores) LoadAndScore(Func<ITransformer> load, int loads)
    {
        int before = ProcessThreads.Count();
        var models = Enumerable.Range(0, loads).Select(_ => load()).ToList();
        int started = ProcessThreads.Count() - before;
        try
        {
            var input = new MLContext().Data.LoadFromEnumerable(testFiles.Take(1).Select(f => new PathRow { ImagePath = f.ImagePath }));
            return (started, models[0].Transform(input).GetColumn<float[]>("Score").Single());
        }
        finally
        {
            foreach (var model in models)
                (model as IDisposable)?.Dispose();
        }
    }

    [Test]
    public void TopK_returns_the_best_classes_first_and_keeps_class_order_on_ties()
    {
        var top = CharacterScores.TopK([0.1f, 0.4f, 0.1f, 0.4f], ["a", "b", "c", "d"], 3);
        Assert.That(top, Is.EqualTo(new[] { new ClassScore("b", 0.4f), new ClassScore("d", 0.4f), new ClassScore("a", 0.1f) }));
        Assert.That(CharacterScores.TopK([0.5f, 0.5f], ["x", "y"], 5), Has.Count.EqualTo(2));
        Assert.That(() => CharacterScores.TopK([0.5f], ["x", "y"], 1), Throws.ArgumentException.With.Message.Contain("1 scores but 2 class names"));
    }

    [Test]
    public void A_truncated_zip_is_a_clear_error_naming_the_file()
    {
        string truncated = Path.Combine(directory, "truncated.zip");
        byte[] bytes = File.ReadAllBytes(modelPath);
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Assert.That(() => new MLContext().Model.LoadCharacterModel(truncated, out _),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartWith($"'{truncated}' is not a readable Ocr.MLNet model"));
    }

    [Test]
    public void An_ML_NET_model_that_is_not_a_character_model_is_a_clear_error()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Array.Empty<PathRow>());
        string other = Path.Combine(directory, "copy.zip");
        mlContext.Model.Save(mlContext.Transforms.CopyColumns("Copy", "ImagePath").Fit(data), data.Schema, other);
        Assert.That(() => mlContext.Model.LoadCharacterModel(other, out _),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contain($"'{other}'").And.Message.Contain("not a character model"));
    }

    [Test]
    public void A_model_whose_network_has_a_non_finite_weight_is_refused_at_load()
    {
        TorchSharp.torch.random.manual_seed(5);
        using var network = new Training.CharacterCnnNetwork(classCount: 3);
        var onnx = Onnx.ModelProto.Parser.ParseFrom(Training.CharacterCnnOnnxExporter.Export(network, ["a", "b", "c"]));
        // A weight gone to NaN, as a diverged training leaves it (the exporter itself refuses such a network).
        var weight = onnx.Graph.Initializer.First(i => i.DataType == (int)Onnx.TensorProto.Types.DataType.Float && (i.RawData.Length >= 4 || i.FloatData.Count > 0));
        if (weight.FloatData.Count > 0)
        {
            weight.FloatData[0] = float.NaN;
        }
        else
        {
            byte[] raw = weight.RawData.ToByteArray();
            BitConverter.TryWriteBytes(raw.AsSpan(0, 4), float.NaN);
            weight.RawData = Google.Protobuf.ByteString.CopyFrom(raw);
        }

        var mlContext = new MLContext();
        using var scorer = (IDisposable)ScoringChain.Build(mlContext, Google.Protobuf.MessageExtensions.ToByteArray(onnx));
        var input = mlContext.Data.LoadFromEnumerable(Array.Empty<PixelRow>());
        string nan = Path.Combine(directory, "nan.zip");
        mlContext.Model.Save((ITransformer)scorer, input.Schema, nan);

        Assert.That(() => mlContext.Model.LoadCharacterModel(nan, out _),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartWith($"'{nan}' is not a readable Ocr.MLNet model: its network gives non-finite scores"));
    }

    [Test]
    public void A_missing_file_names_the_path_and_the_fix()
    {
        string missing = Path.Combine(directory, "missing.zip");
        Assert.That(() => new MLContext().Model.LoadCharacterModel(missing, CharacterModelInput.Pixels),
            Throws.InstanceOf<FileNotFoundException>().With.Message.Contain(missing).And.Message.Contain("ocr-mlnet train"));
    }

    [Test]
    public void A_zip_with_flipped_bits_is_refused_naming_the_file_and_the_damaged_entry()
    {
        string damaged = Path.Combine(directory, "flipped.zip");
        byte[] bytes = File.ReadAllBytes(modelPath);
        var (entryName, dataStart, dataLength) = LargestEntryData(bytes);
        bytes[dataStart + (dataLength / 2)] ^= 0x10;
        File.WriteAllBytes(damaged, bytes);

        Assert.That(() => new MLContext().Model.LoadCharacterModel(damaged, out _),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartWith($"'{damaged}' is damaged: its entry '{entryName}'")
                .And.Message.Contain("train and save the model again"));
    }

    [Test]
    public void A_tampered_onnx_network_inside_the_model_names_the_file_and_the_inner_reason()
    {
        string tampered = Path.Combine(directory, "tampered.zip");
        File.Copy(modelPath, tampered, overwrite: true);
        using (var zip = System.IO.Compression.ZipFile.Open(tampered, System.IO.Compression.ZipArchiveMode.Update))
        {
            var onnx = zip.Entries.OrderByDescending(e => e.Length).First();
            string name = onnx.FullName;
            onnx.Delete();
            using var writer = zip.CreateEntry(name).Open();
            writer.Write(Enumerable.Range(0, 4096).Select(i => (byte)(i * 37)).ToArray());
        }

        var error = Assert.Throws<InvalidDataException>(() => new MLContext().Model.LoadCharacterModel(tampered, out _))!;
        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.StartWith($"'{tampered}' is not a readable Ocr.MLNet model: "));
        string reason = error.Message[$"'{tampered}' is not a readable Ocr.MLNet model: ".Length..];
        Assert.That(reason, Does.Not.StartWith("Error during class instantiation"), "the inner reason comes first");
    }

    /// <summary>Walks the zip's local headers and returns where the largest entry's stored data lies.</summary>
    private static (string Name, int Start, int Length) LargestEntryData(byte[] zip)
    {
        var best = (Name: "", Start: 0, Length: -1);
        int offset = 0;
        while (offset + 30 <= zip.Length && BitConverter.ToUInt32(zip, offset) == 0x04034b50)
        {
            int compressed = (int)BitConverter.ToUInt32(zip, offset + 18);
            int nameLength = BitConverter.ToUInt16(zip, offset + 26);
            int extraLength = BitConverter.ToUInt16(zip, offset + 28);
            string name = System.Text.Encoding.UTF8.GetString(zip, offset + 30, nameLength);
            int start = offset + 30 + nameLength + extraLength;
            Assert.That(BitConverter.ToUInt16(zip, offset + 6) & 0x8, Is.Zero, "sizes in the local header (no data descriptor)");
            if (compressed > best.Length)
                best = (name, start, compressed);
            offset = start + compressed;
        }

        Assert.That(best.Length, Is.GreaterThan(0), "no entry found");
        return best;
    }

    private static List<LabelledFile> WriteGlyphs(string prefix, int perClass, int seed) =>
        SyntheticGlyphs.Make(perClass, seed)
            .Select((row, i) => new LabelledFile { Label = row.Label, ImagePath = SyntheticGlyphs.WritePng(Path.Combine(directory, $"{prefix}{i}.png"), row.Pixels) })
            .ToList();

    private sealed class LabelledFile
    {
        public string Label { get; set; } = "";

        public string ImagePath { get; set; } = "";
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class ImageRow
    {
        [ImageType(32, 32)]
        public MLImage? Image { get; set; }
    }

    private sealed class PixelRow
    {
        [VectorType(1, 32, 32)]
        public float[] Pixels { get; set; } = [];
    }

    private sealed class ClassNameRow
    {
        public string Label { get; set; } = "";
    }

    private sealed class PixelsAndScore
    {
        public float[] Pixels { get; set; } = [];

        public float[] Score { get; set; } = [];
    }

    private sealed class ScoredRow
    {
        public uint Label { get; set; }

        public uint PredictedLabel { get; set; }

        public string PredictedCharacter { get; set; } = "";

        public float[] Score { get; set; } = [];
    }
}
