using System.Diagnostics;
using System.Globalization;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// Runs benchmarks/peers/pytorch_trainer.py (PyTorch eager, Debian's python3-torch) on the harness's own images and
/// batches, written once to a private temporary folder that <see cref="Dispose"/> deletes.
/// </summary>
internal sealed class PyTorchPeer : IDisposable
{
    private readonly string folder;
    private readonly string script;
    private readonly int classes, epochs, batchSize;

    private PyTorchPeer(string folder, string script, int classes, int epochs, int batchSize)
    {
        this.folder = folder;
        this.script = script;
        this.classes = classes;
        this.epochs = epochs;
        this.batchSize = batchSize;
    }

    /// <summary>Why <see cref="TryCreate"/> returned null, for the harness's skip line.</summary>
    public static string WhyMissing { get; private set; } = "";

    /// <summary>The peer, or null (with <see cref="WhyMissing"/>) when the script or PyTorch is not available.</summary>
    public static PyTorchPeer? TryCreate(float[] pixels, long[] labels, int classes, int epochs, int batchSize)
    {
        if (FindScriptAndPython("pytorch_trainer.py", out string why) is not { } script)
        {
            WhyMissing = why;
            return null;
        }

        string folder = Directory.CreateTempSubdirectory("ocr-mlnet-pytorch-peer-").FullName;
        File.WriteAllBytes(Path.Combine(folder, "pixels.f32"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "labels.i64"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()).ToArray());
        return new PyTorchPeer(folder, script, classes, epochs, batchSize);
    }

    /// <summary>One measured run in a fresh python process; returns its training images per second.</summary>
    public double Run(bool channelsLast)
    {
        var arguments = new List<string>
        {
            script, "--pixels", Path.Combine(folder, "pixels.f32"), "--labels", Path.Combine(folder, "labels.i64"),
            "--classes", classes.ToString(CultureInfo.InvariantCulture), "--epochs", epochs.ToString(CultureInfo.InvariantCulture),
            "--batch", batchSize.ToString(CultureInfo.InvariantCulture),
        };
        if (channelsLast)
            arguments.Add("--channels-last");
        var (exitCode, output) = RunProcess(FindPython() ?? "python3", arguments);
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith("images/s ", StringComparison.Ordinal));
        if (exitCode != 0 || line is null)
            throw new InvalidOperationException($"The PyTorch peer failed (exit code {exitCode}): {output}");
        return double.Parse(line["images/s ".Length..], CultureInfo.InvariantCulture);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>
    /// The peer script <paramref name="scriptName"/> in benchmarks/peers/ and a python that imports torch (installing
    /// python3-torch with apt-get when missing); null and the reason when either cannot be had.
    /// </summary>
    internal static string? FindScriptAndPython(string scriptName, out string whyMissing)
    {
        whyMissing = "";
        string? script = FindScript(scriptName);
        if (script is null)
        {
            whyMissing = $"benchmarks/peers/{scriptName} not found above the working directory.";
            return null;
        }

        if (FindPython() is null && !TryInstall())
        {
            whyMissing = "python3 cannot import torch, and 'apt-get install -y python3-torch' did not succeed (not root, or no package source).";
            return null;
        }

        return script;
    }

    private static string? FindScript(string scriptName)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "benchmarks", "peers", scriptName);
            if (File.Exists(candidate))
                return candidate;
        }

        return null;
    }

    /// <summary>The first python that imports torch: the one on PATH, else Debian's (python3-torch installs there, and PATH may lead to another python first).</summary>
    internal static string? FindPython()
    {
        foreach (string python in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                if (RunProcess(python, ["-c", "import torch"]).ExitCode == 0)
                    return python;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed
            }
        }

        return null;
    }

    private static bool TryInstall()
    {
        Console.WriteLine("python3-torch is missing; trying 'apt-get install -y python3-torch' ...");
        try
        {
            return RunProcess("apt-get", ["install", "-y", "python3-torch"]).ExitCode == 0 && FindPython() is not null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    internal static (int ExitCode, string Output) RunProcess(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
