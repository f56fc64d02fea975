using System.Diagnostics;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>The CLI's <c>train</c> command stopped by a signal, run as a separate process on synthetic image files.</summary>
[TestFixture]
[Category("Integration")]
[Category("Cli")]
public sealed class TrainCommandCancellationTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-train-cancel";

    [TestCase("INT")]
    [TestCase("TERM")]
    public void A_signal_finishes_the_batch_keeps_the_checkpoint_and_exits_130(string signal)
    {
        string data = WriteImageFolder(perClass: 60);
        string checkpoints = Path.Combine(WorkDirectory, "checkpoints");
        string arguments = $"train --data \"{data}\" --model \"{Path.Combine(WorkDirectory, "model.zip")}\" --batch-size 8 --threads 1 --device Cpu "
            + $"--checkpoint-dir \"{checkpoints}\"";

        var (exit, output) = RunUntilFirstEpochThenSignal($"{arguments} --epochs 200", signal);

        Assert.That(exit, Is.EqualTo(130), output);
        Assert.That(output, Does.Contain("Cancelled. A checkpoint directory, if given, holds the last finished epoch; run the same command again to resume."));
        var loaded = TrainingCheckpoint.TryLoad(checkpoints);
        Assert.That(loaded, Is.Not.Null, "a checkpoint of a finished epoch");
        int epoch = loaded!.Value.Checkpoint.Epoch;
        Assert.That(epoch, Is.InRange(1, 199));

        // Readable: the same command resumes from it (Epochs = its epoch: nothing left to train, so it only saves the model).
        var (again, resumed) = TestEnvironment.Run("dotnet", $"\"{Cli}\" {arguments} --epochs {epoch}", WorkDirectory, TimeSpan.FromMinutes(3));
        Assert.That(again, Is.Zero, resumed);
        Assert.That(resumed, Does.Contain($"Resuming from the checkpoint of epoch {epoch}"));
    }

    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    /// <summary>Starts the CLI, sends SIG<paramref name="signal"/> once it prints its first epoch line, and waits for it to exit.</summary>
    private (int ExitCode, string Output) RunUntilFirstEpochThenSignal(string arguments, string signal)
    {
        // Ctrl-C reaches a foreground program. A program started with SIGINT ignored (a background job's disposition,
        // inherited from whatever started the test run) keeps ignoring it: .NET installs no handler over SIG_IGN. So the
        // CLI starts with SIGINT at its default, as from a terminal (GNU env's --default-signal, coreutils 8.31 and later).
        var start = new ProcessStartInfo("env", $"--default-signal=INT dotnet \"{Cli}\" {arguments}")
        {
            WorkingDirectory = WorkDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the CLI.");
        var output = new System.Text.StringBuilder();
        using var firstEpoch = new ManualResetEventSlim();
        void Collect(string? line)
        {
            if (line is null)
                return;
            lock (output)
                output.AppendLine(line);
            if (line.StartsWith("Epoch 1:", StringComparison.Ordinal))
                firstEpoch.Set();
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (!firstEpoch.Wait(TimeSpan.FromMinutes(3)))
                Assert.Fail($"No epoch line within 3 minutes.\n{output}");
            // Which signals the CLI ignores and catches when it is signalled (a lost signal shows here).
            lock (output)
                output.AppendLine($"[test] SIG{signal} sent; CLI signal masks: {SignalMasks(process.Id)}");
            using (var kill = Process.Start("kill", $"-{signal} {process.Id}"))
                kill.WaitForExit();
            if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
                Assert.Fail($"The CLI did not exit within a minute of SIG{signal}.\n{output}");
            process.WaitForExit();
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }

        lock (output)
            return (process.ExitCode, output.ToString());
    }

    private static string SignalMasks(int pid)
    {
        try
        {
            return string.Join(", ", File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("SigIgn", StringComparison.Ordinal) || l.StartsWith("SigCgt", StringComparison.Ordinal)));
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    /// <summary>An image folder tree (label = folder name) of the synthetic glyphs, as PNG files.</summary>
    private string WriteImageFolder(int perClass)
    {
        string root = Path.Combine(WorkDirectory, "images");
        string[] folders = ["dash", "bar", "slash", "ring"];
        var rows = SyntheticGlyphs.Make(perClass, seed: 1);
        for (int i = 0; i < rows.Count; i++)
        {
            string folder = Path.Combine(root, folders[Array.IndexOf(SyntheticGlyphs.Classes, rows[i].Label)]);
            Directory.CreateDirectory(folder);
            SyntheticGlyphs.WritePng(Path.Combine(folder, $"{i:D4}.png"), rows[i].Pixels);
        }

        return root;
    }
}
