using TorchSharp;

namespace Ocr.MLNet;

/// <summary>
/// Loads TorchSharp's native backend once and turns a missing or unloadable backend into an error
/// that says which package to add.
/// </summary>
public static class TorchBackend
{
    private static readonly Lock Gate = new();
    private static bool loaded;

    /// <summary>Makes sure libtorch is loaded for the CPU; throws <see cref="InvalidOperationException"/> with the fix when it cannot be.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded)
                return;
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException or InvalidOperationException)
            {
                throw new InvalidOperationException(
                    "TorchSharp's native backend could not be loaded. Add the package 'TorchSharp-cpu' (or a TorchSharp CUDA package) "
                    + "to the application that trains, and build it again so Ocr.MLNet's build step can prepare libLibTorchSharp.so. "
                    + $"TorchSharp said: {e.Message}", e);
            }

            loaded = true;
        }
    }

    /// <summary>The libtorch version in use, after <see cref="EnsureLoaded"/>.</summary>
    public static string LibTorchVersion
    {
        get
        {
            EnsureLoaded();
            return torch.__version__;
        }
    }
}
