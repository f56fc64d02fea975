using BenchmarkDotNet.Running;
using Ocr.MLNet.Benchmarks;

// Harnesses that measure a figure next to its baseline in one process (alternating rounds); anything else goes to BenchmarkDotNet.
return args.Length == 0 ? RunBenchmarkDotNet(args) : args[0] switch
{
    "training" => TrainingThroughput.Run(args[1..]),
    "line-training" => LineTrainingHarness.Run(args[1..]),
    "dropout" => TrainingThroughput.DropoutMasks(args[1..]),
    "layouts" => TrainingThroughput.Layouts(args[1..]),
    "recipe" => RecipeAblation.Run(args[1..]),
    "latency" => InferenceHarness.Latency(args[1..]),
    "transform" => InferenceHarness.Transform(args[1..]),
    "loading" => LoadingHarness.Run(args[1..]),
    "memory" => MemoryHarness.Run(args[1..]),
    "memory-child" => MemoryHarness.Child(args[1..]),
    "profile" => OnnxProfile.Run(args[1..]),
    "serving" => ServingHarness.Run(args[1..]),
    "preprocessing" => PreprocessingHarness.Run(args[1..]),
    "ensemble" => EnsembleHarness.Run(args[1..]),
    "fields" => FieldsHarness.Run(args[1..]),
    "line-fields" => LineFieldsHarness.Run(args[1..]),
    "field-samples" => FieldSamplesHarness.Run(args[1..]),
    "ink-check" => InkCheckHarness.Run(args[1..]),
    "digit-boxes" => DigitBoxOracle.Run(args[1..]),
    "digit-model" => DigitModelHarness.Run(args[1..]),
    "gpu" => GpuHarness.Run(args[1..]),
    "gpu-nodes" => GpuHarness.Nodes(args[1..]),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(ForwardBenchmarks).Assembly).Run(args);
    return 0;
}
