using System.Diagnostics;
using System.Reflection;

namespace Ocr.MLNet.Tests;

/// <summary>Paths recorded at build time, and a helper to run the dotnet CLI.</summary>
internal static class TestEnvironment
{
    public static string TorchSharpPackageDirectory => Metadata("TorchSharpPackageDirectory");

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    public static string NuGetPackageRoot => Metadata("NuGetPackageRoot");

    public static string Configuration => Metadata("Configuration");

    /// <summary>The build output folder of a project in this repository, e.g. "samples/PredictPerImage".</summary>
    public static string OutputOf(string projectDirectory) =>
        Path.Combine(RepositoryRoot, projectDirectory, "bin", Configuration, "net10.0");

    /// <summary>The real data beside the repository, or null when this machine has none.</summary>
    public static string? SharedData
    {
        get
        {
            string path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data"));
            return Directory.Exists(path) ? path : null;
        }
    }

    /// <summary>A folder of the real data in <c>../shared/data</c>; the test is ignored, saying where it looked, when it is not there.</summary>
    public static string RealData(string folder)
    {
        string path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", folder));
        if (!Directory.Exists(path))
            Assert.Ignore($"Real data not found: {path} (put ../shared/data beside the repository to run this test).");
        return path;
    }

    public static string TorchSharpVersion => typeof(TorchSharp.torch).Assembly.GetName().Version is { } v
        ? $"{v.Major}.{v.Minor}.{v.Build}"
        : throw new InvalidOperationException("TorchSharp has no assembly version.");

    public static string PristineLibTorchSharp =>
        Path.Combine(TorchSharpPackageDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    public static string CreateTemporaryDirectory(string prefix)
    {
        string path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs a process to completion and returns its exit code with stdout and stderr together.</summary>
    public static (int ExitCode, string Output) Run(string fileName, string arguments, string workingDirectory,
        TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var output = new System.Text.StringBuilder();
        int exitCode = Run(fileName, arguments, workingDirectory, timeout, environment, output, output);
        lock (output)
            return (exitCode, output.ToString());
    }

    /// <summary>Runs a process to completion and returns its exit code, its standard output and its standard error apart.</summary>
    public static (int ExitCode, string StandardOutput, string StandardError) RunWithStreamsApart(string fileName, string arguments,
        string workingDirectory, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var standardOutput = new System.Text.StringBuilder();
        var standardError = new System.Text.StringBuilder();
        int exitCode = Run(fileName, arguments, workingDirectory, timeout, environment, standardOutput, standardError);
        lock (standardOutput)
        lock (standardError)
            return (exitCode, standardOutput.ToString(), standardError.ToString());
    }

    /// <summary>Runs a process to completion, appending its stdout and stderr lines to the given builders (one for both merges them).</summary>
    private static int Run(string fileName, string arguments, string workingDirectory, TimeSpan timeout, IDictionary<string, string>? environment,
        System.Text.StringBuilder standardOutput, System.Text.StringBuilder standardError)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The outer `dotnet test` sets MSBuild variables that would leak into a nested build.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
                start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (standardOutput) standardOutput.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (standardError) standardError.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            string output;
            lock (standardOutput)
            lock (standardError)
                output = ReferenceEquals(standardOutput, standardError) ? standardOutput.ToString() : $"{standardOutput}{standardError}";
            throw new TimeoutException($"'{fileName} {arguments}' did not finish within {timeout}.\n{output}");
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    private static string Metadata(string key) =>
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly lacks metadata '{key}'.");
}
