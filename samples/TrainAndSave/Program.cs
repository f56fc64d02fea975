using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Ocr.MLNet;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;
using SkiaSharp;

// The ML.NET pipeline a user of Ocr.MLNet writes: load EMNIST or NIST SD19, hold out a test split, merge
// look-alike classes, balance, augment, train the CNN, evaluate with ML.NET's multiclass metrics, save a zip
// that classifies image files, load it back and classify a few test images written as PNG files.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(Settings.Usage);
    return 0;
}

var settings = Settings.Parse(args);
if (settings is null)
    return 2;

var clock = Stopwatch.StartNew();
var mlContext = new MLContext(seed: settings.Seed);

// 1. Load: Label (string) and Pixels (1×32×32 floats, white ink on black, upright) from any of the loaders.
IDataView all = Load(mlContext, settings.Data, settings.Split, settings.MaxRows, out string source);
Console.WriteLine($"Loaded {source} from {settings.Data}");

// 2. Hold out a test split before anything learns from the data.
var split = mlContext.Data.TrainTestSplit(all, testFraction: settings.TestFraction, seed: settings.Seed);

// 3. Merge EMNIST's look-alike classes (c i j k l m o p s u v w x y z join their upper case: 62 → 47).
//    It is a transformer: fitted on the training split, applied to both.
var merge = mlContext.Transforms.MergeSimilarClasses().Fit(split.TrainSet);
IDataView train = merge.Transform(split.TrainSet);
IDataView test = merge.Transform(split.TestSet);

// 4. Balance the training classes (training-time data operation, not part of the saved model).
if (settings.Balance is { } balanceOptions)
{
    BalancedData balanced = mlContext.Data.BalanceClasses(train, balanceOptions);
    var before = balanced.CountsBefore.Values;
    Console.WriteLine($"Balanced {balanced.CountsBefore.Count} classes: {before.Min()}–{before.Max()} images per class → {balanced.CountPerClass} ({balanced.RowCount} images)");
    train = balanced.Data;
}

// 5. Offline augmentation: every training image followed by N rotated/shifted/zoomed/sheared copies.
if (settings.AugmentCopies > 0)
{
    train = mlContext.Data.AugmentImages(train, settings.AugmentCopies, new ImageAugmentationOptions { Seed = settings.Seed });
    Console.WriteLine($"Augmented: {settings.AugmentCopies} extra copies per image, {train.GetRowCount()} training images");
}

// 6. Key the labels, as every ML.NET multiclass trainer expects: fitted on the training split, applied to both, so the
//    model's Score order is the key order and ML.NET's evaluator reads the scored test split as it is.
var keyLabels = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(train);
train = keyLabels.Transform(train);
test = keyLabels.Transform(test);

// 7. Train the CNN (TorchSharp); Fit returns ML.NET transformers around the network exported to ONNX.
var trainer = mlContext.MulticlassClassification.Trainers.CharacterCnn(new CharacterCnnTrainer.Options
{
    Epochs = settings.Epochs,
    Seed = settings.Seed,
    BatchNormMomentum = settings.BatchNormMomentum,
    Progress = new Progress(update =>
    {
        if (update.Phase == TrainingPhase.EpochCompleted && update.Metrics is { } metrics)
            Console.WriteLine(metrics);
    }),
});
using CharacterCnnModel model = trainer.Fit(train);
Console.WriteLine($"Trained {model.ClassNames.Count} classes: {string.Join(" ", model.ClassNames)}");

// 8. Evaluate on the held-out split with ML.NET's evaluator, on the model's output as it is: Label and PredictedLabel
//    are keys with the class names as key values, Score carries them as slot names.
MulticlassClassificationMetrics metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test), topKPredictionCount: 3);
Console.WriteLine($"Test split ({test.GetRowCount() ?? CountRows(test)} images):");
Console.WriteLine($"  MicroAccuracy    {metrics.MicroAccuracy:F4}");
Console.WriteLine($"  MacroAccuracy    {metrics.MacroAccuracy:F4}");
Console.WriteLine($"  LogLoss          {metrics.LogLoss:F4}");
Console.WriteLine($"  LogLossReduction {metrics.LogLossReduction:F4}");
Console.WriteLine($"  TopKAccuracy(3)  {metrics.TopKAccuracy:F4}");

// 9. The model read pixels; put ML.NET's LoadImages and PrepareCharacterImages in front and save one
//    self-contained zip that classifies image files.
IDataView imagePaths = mlContext.Data.LoadFromEnumerable(Array.Empty<CharacterImagePath>());
using var forFiles = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
    .Append(mlContext.Transforms.PrepareCharacterImages())
    .Fit(imagePaths)
    .Append(model);
string modelPath = Path.GetFullPath(settings.Model);
Directory.CreateDirectory(Path.GetDirectoryName(modelPath)!);
mlContext.Model.Save(forFiles, imagePaths.Schema, modelPath);
Console.WriteLine($"Saved {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB)");

// 10. What another app does: load the zip and classify image files (here: test images written as PNG). The class
//     names come from the schema: the Score column's slot names.
var user = new MLContext();
ITransformer loaded = user.Model.Load(modelPath, out _);
using var engine = user.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(loaded);
var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
engine.OutputSchema["Score"].GetSlotNames(ref slotNames);
string[] classNames = slotNames.DenseValues().Select(name => name.ToString()).ToArray();
string examples = Path.Combine(Path.GetTempPath(), $"train-and-save-{Guid.NewGuid():N}");
Directory.CreateDirectory(examples);
try
{
    int index = 0;
    foreach (var row in mlContext.Data.CreateEnumerable<PixelRow>(merge.Transform(split.TestSet), reuseRowObject: false).Take(settings.Examples))
    {
        string file = Path.Combine(examples, $"test{index++}.png");
        WritePng(row.Pixels, file);
        CharacterPrediction prediction = engine.Predict(new CharacterImagePath { ImagePath = file });
        int best = (int)prediction.PredictedLabel - 1;
        Console.WriteLine($"  {Path.GetFileName(file)}  label {row.Label}  predicted {prediction.PredictedCharacter} (key {prediction.PredictedLabel} = slot '{classNames[best]}')  p={prediction.Score[best]:F3}");
    }
}
finally
{
    Directory.Delete(examples, recursive: true);
}

Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F0} s");
return 0;

// EMNIST IDX files (one split, or the one named), a NIST SD19 by_class tree, or an image folder tree.
static IDataView Load(MLContext mlContext, string directory, string? split, int? maxRows, out string source)
{
    if (!Directory.Exists(directory))
        throw new DirectoryNotFoundException($"The data directory '{directory}' does not exist. Pass --data with EMNIST IDX files, a NIST SD19 by_class tree or an image folder tree.");
    var splits = CharacterImageDataset.FindEmnistSplits(directory);
    if (splits.Count > 0)
    {
        split ??= splits.Count == 1 ? splits[0] : throw new ArgumentException($"'{directory}' holds several EMNIST splits ({string.Join(", ", splits)}); choose one with --split.");
        source = $"EMNIST split '{split}'";
        return mlContext.Data.LoadFromEmnist(directory, split, new EmnistLoaderOptions { MaxRows = maxRows });
    }

    if (CharacterImageDataset.ContainsNistSd19Partitions(directory))
    {
        source = "NIST SD19 by_class";
        return mlContext.Data.LoadFromNistSd19(directory, new Sd19LoaderOptions { MaxRows = maxRows });
    }

    source = "image folders";
    return mlContext.Data.LoadFromImageFolder(directory, new ImageFolderLoaderOptions { MaxRows = maxRows });
}

static long CountRows(IDataView data)
{
    long count = 0;
    using var cursor = data.GetRowCursor([]);
    while (cursor.MoveNext())
        count++;
    return count;
}

// 1×32×32 floats in [0, 1], white ink on black (as EMNIST) → an 8-bit grey PNG.
static void WritePng(float[] pixels, string path)
{
    using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Gray8, SKAlphaType.Opaque));
    var bytes = new byte[pixels.Length];
    for (int i = 0; i < pixels.Length; i++)
        bytes[i] = (byte)Math.Clamp(MathF.Round(pixels[i] * 255f), 0, 255);
    System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
    using var image = SKImage.FromBitmap(bitmap);
    using var png = image.Encode(SKEncodedImageFormat.Png, 100);
    File.WriteAllBytes(path, png.ToArray());
}

/// <summary>Command-line settings of the sample.</summary>
internal sealed record Settings(string Data, string? Split, int? MaxRows, int Epochs, string Model, double TestFraction,
    BalanceClassesOptions? Balance, int AugmentCopies, int Seed, int Examples, double BatchNormMomentum)
{
    public const string Usage = """
        Usage: TrainAndSave [--data DIR] [--split NAME] [--max-rows N] [--epochs N] [--model FILE]
                            [--test-fraction F] [--balance min|max|N|none] [--augment-copies N]
                            [--batch-norm-momentum M] [--seed N] [--examples N]
          --data            EMNIST IDX files, a NIST SD19 by_class tree or an image folder tree
                            (default: ../shared/data/emnist-bymerge-dev beside the repository)
          --split           EMNIST split part of the file names when DIR holds several
          --max-rows        use only the first N images (quick runs)
          --epochs          passes over the training data (default 2)
          --model           where to write the model zip (default ocr.zip)
          --test-fraction   fraction held out for evaluation (default 0.1)
          --balance         images per class for training: min (default), max, a number, or none
          --augment-copies  augmented copies added per training image (default 1)
          --batch-norm-momentum  Keras-style BatchNorm momentum (default 0.99); lower it (0.9) for short runs,
                            so the moving statistics that evaluation uses keep up with the weights
          --seed            seed for the split, balancing, augmentation and training (default 1)
          --examples        test images written as PNG and classified by the loaded zip (default 5)
        """;

    public static Settings? Parse(string[] args)
    {
        string? data = null, split = null, model = "ocr.zip", balance = "min";
        int? maxRows = null;
        int epochs = 2, augmentCopies = 1, seed = 1, examples = 5;
        double testFraction = 0.1, batchNormMomentum = CharacterCnnNetwork.DefaultBatchNormMomentum;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (i + 1 >= args.Length)
                return Fail($"{name} needs a value.");
            string value = args[++i];
            switch (name)
            {
                case "--data": data = value; break;
                case "--split": split = value; break;
                case "--model": model = value; break;
                case "--balance": balance = value; break;
                case "--max-rows" when int.TryParse(value, out int n) && n > 0: maxRows = n; break;
                case "--epochs" when int.TryParse(value, out int n) && n > 0: epochs = n; break;
                case "--augment-copies" when int.TryParse(value, out int n) && n >= 0: augmentCopies = n; break;
                case "--seed" when int.TryParse(value, out int n): seed = n; break;
                case "--examples" when int.TryParse(value, out int n) && n >= 0: examples = n; break;
                case "--batch-norm-momentum" when double.TryParse(value, CultureInfo.InvariantCulture, out double m) && m >= 0 && m < 1: batchNormMomentum = m; break;
                case "--test-fraction" when double.TryParse(value, CultureInfo.InvariantCulture, out double f) && f > 0 && f < 1: testFraction = f; break;
                default: return Fail($"{name} {value}: unknown option or invalid value.");
            }
        }

        BalanceClassesOptions? balanceOptions = balance.ToLowerInvariant() switch
        {
            "none" => null,
            "min" => new BalanceClassesOptions { Target = BalanceTarget.Minimum, Seed = seed },
            "max" => new BalanceClassesOptions { Target = BalanceTarget.Maximum, Seed = seed },
            _ when int.TryParse(balance, out int count) && count > 0 => new BalanceClassesOptions { Target = BalanceTarget.Count, Count = count, Seed = seed },
            _ => null,
        };
        if (balanceOptions is null && !balance.Equals("none", StringComparison.OrdinalIgnoreCase))
            return Fail($"--balance {balance}: use min, max, a positive number of images per class, or none.");

        return new Settings(data ?? DefaultData(), split, maxRows, epochs, model, testFraction, balanceOptions, augmentCopies, seed, examples, batchNormMomentum);
    }

    // ../shared/data/emnist-bymerge-dev relative to the repository root (found above this program), else to the current folder.
    private static string DefaultData()
    {
        const string relative = "../shared/data/emnist-bymerge-dev";
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Ocr.MLNet.sln")))
                return Path.GetFullPath(Path.Combine(folder.FullName, relative));
        }

        return Path.GetFullPath(relative);
    }

    private static Settings? Fail(string message)
    {
        Console.Error.WriteLine(message);
        Console.Error.WriteLine(Usage);
        return null;
    }
}

/// <summary>Reports training progress through a callback.</summary>
internal sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}

/// <summary>One class name, for the key order of the evaluation.</summary>
/// <summary>A test row as the loaders give it.</summary>
internal sealed class PixelRow
{
    public string Label { get; set; } = "";

    [VectorType(1, 32, 32)]
    public float[] Pixels { get; set; } = [];
}
