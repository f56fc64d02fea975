namespace Ocr.MLNet.Tests;

/// <summary>
/// Counts this process's threads, to see how many pool threads an ONNX Runtime session starts: one with n intra-op threads
/// starts n − 1 as it opens.
/// </summary>
internal static class ProcessThreads
{
    /// <summary>Skips the test unless the threads can be counted (Linux) and a pool would have a thread to start (two cores).</summary>
    public static void AssumeCountable() =>
        Assume.That(OperatingSystem.IsLinux() && Environment.ProcessorCount >= 2, "counts threads in /proc/self/task; needs two cores");

    /// <summary>The threads this process has now.</summary>
    public static int Count() => Directory.GetDirectories("/proc/self/task").Length;
}
