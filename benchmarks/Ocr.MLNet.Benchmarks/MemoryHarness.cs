namespace Ocr.MLNet.Benchmarks;

internal static class MemoryHarness
{
    public static int Run(string[] args) => 0;

    public static int Child(string[] args) => 0;
}
