using BenchmarkDotNet.Running;
using Ocr.MLNet.Benchmarks;

// "training" runs the side-by-side training throughput harness; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "training")
    return TrainingThroughput.Run(args[1..]);

BenchmarkSwitcher.FromAssembly(typeof(ForwardBenchmarks).Assembly).Run(args);
return 0;
