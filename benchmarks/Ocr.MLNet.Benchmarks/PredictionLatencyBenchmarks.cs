using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// BenchmarkDotNet form of the <c>latency</c> harness's main rows: one image through a bare ONNX Runtime session
/// (the baseline, so BenchmarkDotNet's Ratio column is the figure) and through ML.NET's <see cref="PredictionEngine{TSrc, TDst}"/>,
/// from pixels and from an SD19 PNG path. BenchmarkDotNet runs the benchmarks one after another, not interleaved; on a
/// shared machine prefer the harness (<c>latency</c>), which alternates them.
/// </summary>
[MemoryDiagnoser]
[InProcess] // in this process, whose dependencies carry libtorch (the throw-away model is trained with TorchSharp)
public class PredictionLatencyBenchmarks
{
    private string modelPath = "";
    private bool trainedHere;
    private OrtBaseline ort = null!;
    private ITransformer pixelScorer = null!;
    private ITransformer pathModel = null!;
    private PredictionEngine<CharacterPixels, CharacterPrediction> pixelEngine = null!;
    private PredictionEngine<CharacterImagePath, CharacterPrediction> pathEngine = null!;
    private CharacterPixels pixelInput = null!;
    private CharacterImagePath pathInput = null!;
    private readonly byte[] argb = new byte[OrtBaseline.ImageBytes];

    [GlobalSetup]
    public void Setup()
    {
        string[] args = Environment.GetEnvironmentVariable("OCR_MLNET_BENCH_MODEL") is { } model ? ["--model", model] : [];
        modelPath = Harness.ModelPath(args, out trainedHere);
        var mlContext = new MLContext(seed: 1);
        pixelScorer = mlContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.Pixels);
        pathModel = mlContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.ImagePath);
        var options = new PredictionEngineOptions { OwnsTransformer = false };
        pixelEngine = mlContext.Model.CreatePredictionEngine<CharacterPixels, CharacterPrediction>(pixelScorer, options);
        pathEngine = mlContext.Model.CreatePredictionEngine<CharacterImagePath, CharacterPrediction>(pathModel, options);
        ort = new OrtBaseline(Harness.NetworkOnnx(modelPath));
        pixelInput = new CharacterPixels { Pixels = TrainingThroughput.MakeRows(1)[0].Pixels };
        pathInput = new CharacterImagePath { ImagePath = Harness.Sd19Files([], 1)[0] };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        pixelEngine.Dispose();
        pathEngine.Dispose();
        ort.Dispose();
        (pathModel as IDisposable)?.Dispose();
        (pixelScorer as IDisposable)?.Dispose();
        if (trainedHere)
            File.Delete(modelPath);
    }

    [Benchmark(Baseline = true)]
    public float BareOrtNetwork() => ort.Network(pixelInput.Pixels, 1);

    [Benchmark]
    public string PredictionEnginePixels() => pixelEngine.Predict(pixelInput).PredictedCharacter;

    [Benchmark]
    public float BareOrtDecodePreprocessNetwork()
    {
        using var image = MLImage.CreateFromFile(pathInput.ImagePath);
        OrtBaseline.ExtractArgb(image, argb);
        return ort.PreprocessAndScore(argb, 1);
    }

    [Benchmark]
    public string PredictionEngineImagePath() => pathEngine.Predict(pathInput).PredictedCharacter;
}
