using OpenCvSharp;

namespace Ocr.MLNet;

/// <summary>
/// Checks once per process that OpenCV's native library loads, so that a missing system dependency surfaces as one
/// clear error when a reader is made, not as a type-initializer failure deep inside the first read.
/// </summary>
internal static class OpenCvRuntime
{
    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad);

    /// <summary>Throws when OpenCV's native library cannot be loaded, naming what to install.</summary>
    /// <exception cref="InvalidOperationException">OpenCvSharpExtern or one of its dependencies is missing.</exception>
    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
        {
            string hint = OperatingSystem.IsLinux()
                ? "On Linux its official runtime (OpenCvSharp4.official.runtime.linux-x64) links against GTK 3: install it (Debian/Ubuntu: apt-get install libgtk-3-0; or run tools/install-prerequisites.sh from the Ocr.MLNet repository)."
                : "Reference the OpenCvSharp4 runtime package for this platform.";
            throw new InvalidOperationException(
                $"Reading fields needs OpenCV's native library (OpenCvSharpExtern), which could not be loaded: {Innermost(failure).Message} {hint}",
                failure);
        }
    }

    private static Exception? TryLoad()
    {
        try
        {
            _ = Cv2.GetVersionString();
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            return e;
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner)
            e = inner;
        return e;
    }
}
