using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Tests;

/// <summary>
/// Asking for a GPU where ONNX Runtime has no CUDA provider (the CPU package these tests reference): a clear error that names
/// the GPU package, or with the fallback the CPU's own scores; never ML.NET's EntryPointNotFoundException reported as a
/// damaged model.
/// </summary>
[TestFixture]
public sealed class GpuSelectionTests
{
    private static readonly string[] Paths = Directory.GetFiles(Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "sd19"), "*.png")
        .Order(StringComparer.Ordinal).ToArray();

    [SetUp]
    public void OnlyWithoutCuda() =>
        Assume.That(OrtEnv.Instance().GetAvailableProviders(), Does.Not.Contain("CUDAExecutionProvider"), "these tests check the CPU-only ONNX Runtime");

    [Test]
    public void The_recognizer_asked_for_a_GPU_without_a_CUDA_provider_names_the_GPU_package()
    {
        using var stream = PretrainedCharacterModel.OpenRead();
        var error = Assert.Throws<InvalidOperationException>(() => CharacterRecognizer.Load(stream, new CharacterRecognizerOptions { GpuDeviceId = 0 }));
        Assert.That(error!.Message, Does.Contain("CharacterRecognizerOptions.GpuDeviceId is 0")
            .And.Contain("Microsoft.ML.OnnxRuntime.Gpu.Linux").And.Contain("FallbackToCpu"));
    }

    [Test]
    public void The_recognizer_falls_back_to_the_CPU_with_the_CPU_scores()
    {
        using var cpuStream = PretrainedCharacterModel.OpenRead();
        using var cpu = CharacterRecognizer.Load(cpuStream);
        using var fallbackStream = PretrainedCharacterModel.OpenRead();
        using var fallback = CharacterRecognizer.Load(fallbackStream, new CharacterRecognizerOptions { GpuDeviceId = 0, FallbackToCpu = true });

        Assert.That(fallback.UsesGpu, Is.False);
        Assert.That(cpu.UsesGpu, Is.False);
        float[] expected = cpu.Score(Paths);
        Assert.That(expected, Has.Length.EqualTo(Paths.Length * 47));
        Assert.That(fallback.Score(Paths), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void A_negative_device_number_is_refused_by_name()
    {
        using var stream = PretrainedCharacterModel.OpenRead();
        var error = Assert.Throws<ArgumentException>(() => CharacterRecognizer.Load(stream, new CharacterRecognizerOptions { GpuDeviceId = -1 }));
        Assert.That(error!.Message, Does.Contain("GpuDeviceId = -1"));
    }

    [Test]
    public void An_MLContext_asking_for_a_GPU_without_a_CUDA_provider_gets_an_error_naming_the_setting_not_a_damaged_model()
    {
        var mlContext = new MLContext { GpuDeviceId = 0 };
        var error = Assert.Throws<InvalidOperationException>(() => mlContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath));
        Assert.That(error!.Message, Does.Contain("mlContext.GpuDeviceId is 0").And.Contain("Microsoft.ML.OnnxRuntime.Gpu.Linux"));
    }

    [Test]
    public void An_MLContext_with_FallbackToCpu_loads_the_model_and_predicts_as_on_the_CPU()
    {
        var cpuContext = new MLContext();
        var fallbackContext = new MLContext { GpuDeviceId = 0, FallbackToCpu = true };
        using var cpuModel = (IDisposable)cpuContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath);
        using var fallbackModel = (IDisposable)fallbackContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath);
        using var cpuEngine = cpuContext.Model.CreatePredictionEngine<ImagePathRow, CharacterPrediction>((ITransformer)cpuModel,
            new PredictionEngineOptions { OwnsTransformer = false });
        using var fallbackEngine = fallbackContext.Model.CreatePredictionEngine<ImagePathRow, CharacterPrediction>((ITransformer)fallbackModel,
            new PredictionEngineOptions { OwnsTransformer = false });

        foreach (string path in Paths)
        {
            var expected = cpuEngine.Predict(new ImagePathRow { ImagePath = path });
            var actual = fallbackEngine.Predict(new ImagePathRow { ImagePath = path });
            Assert.That(actual.PredictedCharacter, Is.EqualTo(expected.PredictedCharacter), path);
            Assert.That(actual.Score, Is.EqualTo(expected.Score).Within(1e-6), path);
        }
    }

    private sealed class ImagePathRow
    {
        public string ImagePath { get; set; } = "";
    }
}
