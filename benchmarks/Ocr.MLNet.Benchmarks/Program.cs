using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Ocr.MLNet.Benchmarks.ForwardBenchmarks).Assembly).Run(args);
