namespace Ocr.MLNet.Benchmarks;

internal static class LoadingHarness
{
    public static int Run(string[] args) => 0;
}
