using System.ComponentModel;
using System.Diagnostics;
using Ocr.MLNet.Fields;

namespace Ocr.MLNet.Benchmarks;

/// <summary>
/// Tesseract as the field readers' peer (<c>fields</c>, <c>line-fields</c>): found on the PATH or installed with apt-get, run
/// as <c>tesseract IMG stdout --psm 7</c> with a whitelist, one process per field, one thread each, scored with
/// <see cref="FieldEvaluation.Score"/>'s normalisation.
/// </summary>
internal static class TesseractPeer
{
    /// <summary>Reads every field with one Tesseract process each (as a caller without an API would), timed over the set.</summary>
    public static FieldEvaluationResult Read(string tesseract, IReadOnlyList<LabelledField> fields, string whitelist)
    {
        var scores = new FieldScore[fields.Count];
        for (int i = 0; i < fields.Count; i++)
        {
            var (exit, output, error) = RunProcess(tesseract, [fields[i].ImagePath, "stdout", "--psm", "7", "-c", $"tessedit_char_whitelist={whitelist}"]);
            scores[i] = FieldEvaluation.Score(fields[i], new FieldReading(output.Trim(), 0, []), exit == 0 ? null : $"exit {exit}: {error.Trim()}");
        }

        return new FieldEvaluationResult(scores);
    }

    /// <summary><c>tesseract</c> on the PATH; else, as root, Debian's <c>tesseract-ocr</c> installed with apt-get; else null and a line saying why.</summary>
    public static string? FindOrInstall()
    {
        if (OnPath("tesseract") is { } found)
            return found;
        if (Environment.UserName != "root")
        {
            Console.WriteLine("tesseract: not installed and not running as root: the Tesseract peer is skipped (install it with `sudo apt-get install -y tesseract-ocr`).");
            return null;
        }

        Console.WriteLine("tesseract: not installed; installing Debian's tesseract-ocr with apt-get ...");
        var (exit, _, error) = RunProcess("apt-get", ["install", "-y", "--no-install-recommends", "tesseract-ocr"], Apt);
        if (exit != 0)
        {
            RunProcess("apt-get", ["update"], Apt);
            (exit, _, error) = RunProcess("apt-get", ["install", "-y", "--no-install-recommends", "tesseract-ocr"], Apt);
        }

        if (exit == 0 && OnPath("tesseract") is { } installed)
            return installed;
        Console.WriteLine($"tesseract: `apt-get install -y tesseract-ocr` failed (exit {exit}: {error.Trim().Split('\n').LastOrDefault()}): the Tesseract peer is skipped.");
        return null;
    }

    private static readonly Dictionary<string, string> Apt = new() { ["DEBIAN_FRONTEND"] = "noninteractive" };

    private static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static (int Exit, string Output, string Error) RunProcess(string program, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        // One thread per Tesseract process, as the reader's single-thread figure.
        start.Environment["OMP_THREAD_LIMIT"] = "1";
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, error.Result);
        }
        catch (Win32Exception e)
        {
            return (-1, "", e.Message);
        }
    }
}
