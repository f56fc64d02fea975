using System.Runtime.InteropServices;

namespace Ocr.MLNet.Cli;

/// <summary>
/// Turns off ONNX Runtime's telemetry for this process before ONNX Runtime starts. Since 1.31 it writes a session file,
/// <c>.ses</c>, to the temporary folder on Linux and macOS and never removes it; <c>ORT_DISABLE_TELEMETRY=1</c> set
/// before its environment is created is its documented opt-out. A user who set the variable keeps their value.
/// </summary>
internal static class OnnxRuntimeTelemetry
{
    private const string Variable = "ORT_DISABLE_TELEMETRY";

    /// <summary>Sets the variable in the native environment (ONNX Runtime reads it with getenv, which .NET's own copy does not reach).</summary>
    public static void Disable()
    {
        if (OperatingSystem.IsWindows() || Environment.GetEnvironmentVariable(Variable) is not null)
            return;
        // Called first thing in Main, before any thread that could read the environment exists.
        if (SetEnvironment(Variable, "1", overwrite: 0) != 0)
            Console.Error.WriteLine($"warning: could not set {Variable}; ONNX Runtime may leave a .ses file in the temporary folder.");
    }

    // DllImport rather than LibraryImport: the generated marshaller needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnvironment([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
