using System.Runtime.InteropServices;

namespace Ocr.MLNet.Training;

/// <summary>
/// Keeps glibc's malloc from returning libtorch's activation and gradient buffers to the kernel after every batch.
/// </summary>
/// <remarks>
/// glibc serves blocks above its mmap threshold with fresh mappings and trims the heap top above its trim threshold; both
/// start small and adapt only slowly, so in a new process every batch of the first epoch faults in tens of megabytes of
/// zeroed pages again, and that epoch trains at half speed (measured in benchmarks/README.md). Fixed thresholds of 64 MiB
/// (mapping) and 256 MiB (trim) keep those buffers in the heap for reuse. Applied once per process, on Linux with glibc
/// only; elsewhere, or if glibc refuses a value, nothing changes.
/// </remarks>
internal static class NativeMemoryTuning
{
    private const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD
    private const int MmapThreshold = 64 << 20;
    private const int TrimThreshold = 256 << 20;
    private static readonly Lock Gate = new();
    private static bool? tuned;

    /// <summary>Sets the thresholds once per process; returns whether glibc took both.</summary>
    public static bool ApplyForTraining()
    {
        lock (Gate)
        {
            tuned ??= OperatingSystem.IsLinux() && TrySet();
            return tuned.Value;
        }
    }

    private static bool TrySet()
    {
        try
        {
            return mallopt(TrimThresholdParameter, TrimThreshold) == 1 && mallopt(MmapThresholdParameter, MmapThreshold) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl has no mallopt): its allocator's defaults stay
        }
    }

    [DllImport("libc.so.6", ExactSpelling = true)]
    private static extern int mallopt(int parameter, int value);
}
