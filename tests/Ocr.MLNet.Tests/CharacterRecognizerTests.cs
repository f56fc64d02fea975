using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Tests;

/// <summary>
/// <see cref="CharacterRecognizer"/> on a model trained with TorchSharp and saved as <c>ocr-mlnet train</c> saves it: the
/// batched scores equal the saved model's <c>PredictionEngine</c> scores for image paths, in-memory images and pixels.
/// </summary>
[TestFixture]
public sealed class CharacterRecognizerTests
{
    private const double Tolerance = 1e-5;
    private static string directory = "";
    private static string modelPath = "";
    private static string pixelModelPath = "";
    private static string[] classNames = [];
    private static List<string> imagePaths = [];

    [OneTimeSetUp]
    public void TrainOnce()
    {
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-recognizer");
        var mlContext = new MLContext(seed: 1);
        var pixels = SyntheticGlyphs.Load(mlContext, perClass: 30, seed: 5);
        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(pixels).Transform(pixels);
        var options = CharacterCnnTrainerTests.SmallRun(epochs: 2);
        options.ValidationFraction = 0;
        using var trained = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(keyed);
        classNames = [.. trained.ClassNames];
        modelPath = ImageFileModel.Save(mlContext, trained, Path.Combine(directory, "model.zip"));
        pixelModelPath = Path.Combine(directory, "pixels.zip");
        mlContext.Model.SaveCharacterModel(trained, keyed.Schema, pixelModelPath);

        // Synthetic glyphs (32×32, white on black), drawn glyphs of both polarities and other sizes, a blank page.
        imagePaths = SyntheticGlyphs.Make(perClass: 3, seed: 77)
            .Select((row, i) => SyntheticGlyphs.WritePng(Path.Combine(directory, $"glyph{i}.png"), row.Pixels)).ToList();
        (string Name, SKBitmap Bitmap)[] drawn =
        [
            ("black-on-white", DrawnGlyphs.Draw("O", SKColors.Black, SKColors.White)),
            ("white-on-black", DrawnGlyphs.Draw("/", SKColors.White, SKColors.Black)),
            ("blue-on-cream-transparent", DrawnGlyphs.Draw("7", new SKColor(30, 60, 200), new SKColor(250, 240, 200, 128))),
            ("wide", DrawnGlyphs.Draw("-", SKColors.Black, SKColors.White, size: 200)),
            ("small", DrawnGlyphs.Draw("|", SKColors.White, SKColors.Black, size: 28)),
            ("blank", DrawnGlyphs.Draw(" ", SKColors.Black, SKColors.White, size: 64)),
        ];
        using var bitmaps = DisposeAll.Of(drawn.Select(d => d.Bitmap));
        foreach (var (name, bitmap) in drawn)
        {
            string path = Path.Combine(directory, $"{name}.png");
            using var wide = name == "wide" ? Wide(bitmap) : null;
            File.WriteAllBytes(path, DrawnGlyphs.Png(wide ?? bitmap));
            imagePaths.Add(path);
        }
    }

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    [Test]
    public void Test_time_augmentation_averages_the_scores_of_the_image_and_its_four_one_pixel_shifts()
    {
        var pixels = SyntheticGlyphs.Make(perClass: 2, seed: 9).SelectMany(r => r.Pixels).ToArray();
        int count = pixels.Length / CharacterFormat.PixelCount;
        using var plain = CharacterRecognizer.Load(pixelModelPath);
        using var augmented = CharacterRecognizer.Load(pixelModelPath, new CharacterRecognizerOptions { TestTimeAugmentation = true, BatchSize = 3 });

        var expected = new double[count * classNames.Length];
        foreach (var (dx, dy) in new[] { (0, 0), (1, 0), (-1, 0), (0, 1), (0, -1) })
        {
            // Shifted by hand: pixel (x, y) of the copy is pixel (x - dx, y - dy) of the image, 0 outside.
            var shifted = new float[pixels.Length];
            for (int image = 0; image < count; image++)
            {
                for (int y = 0; y < 32; y++)
                {
                    for (int x = 0; x < 32; x++)
                    {
                        int sx = x - dx, sy = y - dy;
                        if (sx is >= 0 and < 32 && sy is >= 0 and < 32)
                            shifted[(image * 1024) + (y * 32) + x] = pixels[(image * 1024) + (sy * 32) + sx];
                    }
                }
            }

            var scores = plain.ScorePixels(shifted);
            for (int i = 0; i < scores.Length; i++)
                expected[i] += scores[i] / 5.0;
        }

        var actual = augmented.ScorePixels(pixels);
        Assert.That(actual, Is.EqualTo(expected.Select(v => (float)v).ToArray()).Within(1e-5));
        Assert.That(actual, Is.Not.EqualTo(plain.ScorePixels(pixels)).Within(1e-7), "the shifts change the scores");
    }

    [Test]
    public void Image_files_score_as_the_saved_models_PredictionEngine_scores_them_decoded_by_ImageFiles()
    {
        // The library's decoding (ImageFiles), not ML.NET's LoadImages: that one premultiplies a semi-transparent image's
        // colours, which the preparation then composites over white a second time.
        var expected = EngineScores(CharacterModelInput.Image, imagePaths.Select(p => new ImageRow { Image = ImageFiles.Load(p) }));
        using var recognizer = CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { BatchSize = 4 }); // several batches and a partial one
        Assert.That(recognizer.ClassNames, Is.EqualTo(classNames));
        AssertRows(recognizer.Score(imagePaths), expected, "paths");
    }

    [Test]
    public void In_memory_images_of_any_size_score_as_the_PredictionEngine_scores_them_and_stay_usable()
    {
        var images = imagePaths.Select(MLImage.CreateFromFile).ToList();
        using var dispose = DisposeAll.Of(images);
        using var recognizer = CharacterRecognizer.Load(modelPath);
        float[] scores = recognizer.Score(images);
        Assert.That(images.Select(i => i.Width), Is.All.Positive, "the recognizer reads the caller's images and leaves them to the caller");

        var expected = EngineScores(CharacterModelInput.Image, imagePaths.Select(p => new ImageRow { Image = MLImage.CreateFromFile(p) }));
        AssertRows(scores, expected, "images");

        var predictions = recognizer.Predict(images);
        for (int i = 0; i < images.Count; i++)
        {
            var row = expected[i];
            int best = Array.IndexOf(row, row.Max());
            Assert.That(predictions[i].PredictedCharacter, Is.EqualTo(classNames[best]), $"image {i}");
            Assert.That(predictions[i].Confidence, Is.EqualTo(row[best]).Within(Tolerance), $"image {i}");
            Assert.That(predictions[i].Score, Is.EqualTo(row).Within(Tolerance), $"image {i}");
            Assert.That(predictions[i].TopK(recognizer.ClassNames, 2).Select(c => c.ClassName), Is.EqualTo(CharacterScores.TopK(row, classNames, 2).Select(c => c.ClassName)), $"image {i}");
        }
    }

    [Test]
    public void Prepared_pixels_score_as_the_PredictionEngine_scores_them_from_a_stream_loaded_model()
    {
        var rows = SyntheticGlyphs.Make(perClass: 5, seed: 9);
        var expected = EngineScores(CharacterModelInput.Pixels, rows.Select(r => new PixelRow { Pixels = r.Pixels }));
        using var stream = new MemoryStream(File.ReadAllBytes(pixelModelPath)); // as an embedded resource gives it
        using var recognizer = CharacterRecognizer.Load(stream, new CharacterRecognizerOptions { BatchSize = 7 });
        Assert.That(recognizer.CanScoreImages, Is.False, "a model of the network alone has no preprocessing");
        float[] all = rows.SelectMany(r => r.Pixels).ToArray();
        AssertRows(recognizer.ScorePixels(all), expected, "pixels");
        Assert.That(recognizer.ToPredictions(recognizer.ScorePixels(all)).Select(p => p.PredictedCharacter),
            Is.EqualTo(expected.Select(r => classNames[Array.IndexOf(r, r.Max())])));
    }

    [Test]
    public void Real_SD19_PNGs_score_as_the_PredictionEngine_scores_them()
    {
        string folder = TestEnvironment.RealData("nist-sd19-by_class-vowels");
        var files = Directory.EnumerateFiles(folder, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Where((_, i) => i % 250 == 0).Take(40).ToList();
        var expected = EngineScores(CharacterModelInput.ImagePath, files.Select(p => new PathRow { ImagePath = p }));
        using var recognizer = CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { BatchSize = 16 });
        AssertRows(recognizer.Score(files), expected, "SD19 paths");
        // One batch of three preprocessing chunks, prepared side by side on the cores: the same scores, in order.
        using var wholeBatch = CharacterRecognizer.Load(modelPath);
        AssertRows(wholeBatch.Score(files), expected, "SD19 paths, chunks side by side");
    }

    [Test]
    public void A_bad_file_among_chunks_prepared_side_by_side_is_reported_as_the_first_in_order()
    {
        using var recognizer = CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { IntraOpThreads = 2 });
        var paths = Enumerable.Range(0, 48).Select(i => imagePaths[i % imagePaths.Count]).ToList();
        string firstMissing = Path.Combine(directory, "first-missing.png"), laterMissing = Path.Combine(directory, "later-missing.png");
        paths[20] = firstMissing; // the second chunk of 16
        paths[40] = laterMissing; // the third
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var e = Assert.Throws<CharacterDataException>(() => recognizer.Score(paths))!;
            Assert.That(e.Message, Does.Contain(firstMissing).And.Not.Contain(laterMissing));
        }
    }

    [Test]
    public void The_network_runs_on_a_thread_per_processor_by_default_and_on_IntraOpThreads_when_set()
    {
        // Read back from the ONNX Runtime session options the network's session was opened with, not by counting threads.
        using var byDefault = CharacterRecognizer.Load(modelPath);
        using var three = CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { IntraOpThreads = 3 });
        using var fromCatalog = new MLContext().Model.LoadCharacterRecognizer(modelPath);
        Assert.Multiple(() =>
        {
            Assert.That(byDefault.NetworkIntraOpThreads, Is.EqualTo(Environment.ProcessorCount), "the batch policy: one per processor");
            Assert.That(three.NetworkIntraOpThreads, Is.EqualTo(3));
            Assert.That(fromCatalog.NetworkIntraOpThreads, Is.EqualTo(Environment.ProcessorCount), "the catalog's entry point, the same policy");
            Assert.That(byDefault.Score(imagePaths), Is.EqualTo(three.Score(imagePaths)).Within(1e-5), "the same scores whatever the threads");
        });
    }

    [Test]
    public void Bad_input_gets_errors_that_name_the_value_or_file()
    {
        using var recognizer = CharacterRecognizer.Load(modelPath);
        var e = Assert.Throws<ArgumentException>(() => recognizer.ScorePixels(new float[1000]))!;
        Assert.That(e.Message, Does.Contain("pixels holds 1000 floats").And.Contain("1024"));
        Assert.That(recognizer.ScorePixels([]), Is.Empty);
        Assert.That(Assert.Throws<ArgumentException>(() => recognizer.Score(new MLImage[] { null! }))!.Message, Does.Contain("images[0] is null"));
        Assert.That(Assert.Throws<ArgumentException>(() => recognizer.ToPredictions(new float[classNames.Length + 1]))!.Message, Does.Contain("scores holds"));

        string missing = Path.Combine(directory, "missing.png");
        Assert.That(Assert.Throws<CharacterDataException>(() => recognizer.Score([missing]))!.Message, Does.Contain(missing));
        string notAnImage = Path.Combine(directory, "not-an-image.png");
        File.WriteAllText(notAnImage, "hello");
        Assert.That(Assert.Throws<CharacterDataException>(() => recognizer.Score([notAnImage]))!.Message, Does.Contain(notAnImage));

        using var pixelsOnly = CharacterRecognizer.Load(pixelModelPath);
        Assert.That(Assert.Throws<InvalidOperationException>(() => pixelsOnly.Score(Array.Empty<MLImage>()))!.Message, Does.Contain("ScorePixels"));

        Assert.That(Assert.Throws<FileNotFoundException>(() => CharacterRecognizer.Load(Path.Combine(directory, "none.zip")))!.Message, Does.Contain("none.zip"));
        Assert.That(Assert.Throws<ArgumentException>(() => CharacterRecognizer.Load(modelPath, new CharacterRecognizerOptions { BatchSize = 0, IntraOpThreads = -1 }))!.Message,
            Does.Contain("BatchSize = 0").And.Contain("IntraOpThreads = -1"));
        byte[] damaged = File.ReadAllBytes(modelPath);
        damaged[damaged.Length / 2] ^= 0x5a;
        string damagedPath = Path.Combine(directory, "damaged.zip");
        File.WriteAllBytes(damagedPath, damaged);
        Assert.That(Assert.Throws<InvalidDataException>(() => CharacterRecognizer.Load(damagedPath))!.Message, Does.Contain(damagedPath));
        Assert.That(Assert.Throws<InvalidDataException>(() => CharacterRecognizer.Load(new MemoryStream([1, 2, 3])))!.Message, Does.Contain("the model stream"));

        recognizer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => recognizer.ScorePixels(new float[1024]));
    }

    /// <summary>The Score of every row through a PredictionEngine over the part of the saved model that reads <paramref name="input"/>.</summary>
    private static List<float[]> EngineScores<TRow>(CharacterModelInput input, IEnumerable<TRow> rows)
        where TRow : class, new()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.LoadCharacterModel(input == CharacterModelInput.Pixels ? pixelModelPath : modelPath, input);
        using var engine = mlContext.Model.CreatePredictionEngine<TRow, CharacterPrediction>(model); // owns and disposes the model
        return rows.Select(r => engine.Predict(r).Score).ToList();
    }

    private void AssertRows(float[] actual, List<float[]> expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Count * classNames.Length), what);
        double worst = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            for (int c = 0; c < classNames.Length; c++)
                worst = Math.Max(worst, Math.Abs(actual[(i * classNames.Length) + c] - expected[i][c]));
        }

        TestContext.Out.WriteLine($"{what}: {expected.Count} images, max |recognizer − PredictionEngine| = {worst:E2}");
        Assert.That(worst, Is.LessThanOrEqualTo(Tolerance), what);
    }

    private static SKBitmap Wide(SKBitmap square)
    {
        var wide = new SKBitmap(square.Width * 2, square.Height / 2);
        using var canvas = new SKCanvas(wide);
        canvas.Clear(SKColors.White);
        canvas.DrawBitmap(square, new SKRect(square.Width / 2f, 0, square.Width * 1.5f, square.Height / 2f));
        return wide;
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class ImageRow
    {
        [ImageType(128, 128)]
        public MLImage? Image { get; set; }
    }

    private sealed class PixelRow
    {
        [VectorType(1, 32, 32)]
        public float[] Pixels { get; set; } = [];
    }
}
