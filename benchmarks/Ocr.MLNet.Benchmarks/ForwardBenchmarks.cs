using BenchmarkDotNet.Attributes;
using Ocr.MLNet;
using static TorchSharp.torch;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// TorchSharp forward pass of the CNN at several batch sizes; compare the per-image cost across
/// batch sizes within one run (batch 1 is the baseline).
/// </summary>
[MemoryDiagnoser]
public class ForwardBenchmarks
{
    private CharacterCnnNetwork network = null!;
    private Tensor images = null!;

    [Params(1, 128, 1024)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchBackend.EnsureLoaded();
        random.manual_seed(1);
        network = new CharacterCnnNetwork();
        network.eval();
        images = rand(BatchSize, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        images.Dispose();
        network.Dispose();
    }

    [Benchmark]
    public float Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return network.forward(images)[0, 0].item<float>();
    }
}
