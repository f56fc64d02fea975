using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;

// Classifies image files with a model zip saved by Ocr.MLNet (for example by `ocr-mlnet train`) using ML.NET alone.
// The model's output follows ML.NET's multiclass contract: Score has the class names as slot names, PredictedLabel is
// a key whose key values are those names, PredictedCharacter is the same class as text.
// Prints: file, predicted character, PredictedLabel key, top 3 classes from the Score slot names; a file that is not an
// image is reported and skipped (exit code 1).
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: PredictPerImage MODEL.zip IMAGE [IMAGE...]");
    return 2;
}

// ML.NET unpacks a model's files into its TempFilePath, and leaves an empty folder there when a file is not a model: a
// folder of the app's own is removed whatever happens.
var temp = Directory.CreateTempSubdirectory("predict-per-image-");
try
{
    return Classify(args[0], args.Skip(1), temp.FullName);
}
finally
{
    temp.Delete(recursive: true);
}

static int Classify(string modelPath, IEnumerable<string> files, string temp)
{
    var mlContext = new MLContext { TempFilePath = temp };
    // One image per call: one ONNX Runtime thread per session is faster here than sharing the small steps between threads.
    mlContext.SetOnnxSessionOption(new OnnxSessionOptions { IntraOpNumThreads = 1 });
    ITransformer model;
    try
    {
        model = mlContext.Model.Load(modelPath, out _);
    }
    catch (Exception e) when (e is IOException or InvalidDataException or FormatException or InvalidOperationException or ArgumentException)
    {
        Console.Error.WriteLine($"'{modelPath}' is not a readable model: {e.Message}");
        return 1;
    }

    using var engine = mlContext.Model.CreatePredictionEngine<PathInput, Prediction>(model);
    var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
    engine.OutputSchema["Score"].GetSlotNames(ref slotNames);
    string[] classNames = slotNames.DenseValues().Select(name => name.ToString()).ToArray();

    int unreadable = 0;
    foreach (string file in files)
    {
        if (!File.Exists(file))
        {
            Console.Error.WriteLine($"'{file}' does not exist.");
            return 1;
        }

        Prediction prediction;
        try
        {
            prediction = engine.Predict(new PathInput { ImagePath = file });
        }
        catch (ArgumentException e)
        {
            // ML.NET's image loader refuses bytes it cannot decode; the other files are still read.
            Console.Error.WriteLine($"'{file}' is not an image ML.NET can decode (PNG, JPEG, BMP, GIF, WebP): {e.Message}");
            unreadable++;
            continue;
        }

        var top = prediction.Score.Select((score, index) => (score, index)).OrderByDescending(p => p.score).Take(3)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{classNames[p.index]} {p.score:F6}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(file)}\t{prediction.PredictedCharacter}\t{prediction.PredictedLabel}\t{string.Join("  ", top)}"));
    }

    return unreadable == 0 ? 0 : 1;
}

internal sealed class PathInput
{
    public string ImagePath { get; set; } = "";
}

internal sealed class Prediction
{
    public float[] Score { get; set; } = [];

    /// <summary>The key: 1 + the class's index in Score (0 is ML.NET's missing key).</summary>
    public uint PredictedLabel { get; set; }

    public string PredictedCharacter { get; set; } = "";
}
