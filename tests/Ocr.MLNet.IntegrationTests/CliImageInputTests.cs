using System.Diagnostics;
using System.Text.Json;
using SkiaSharp;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// <c>predict</c> and <c>read</c> as separate processes on the inputs a hostile user hands them: devices, pipes, links to
/// devices, truncated files, sideways phone photos, blank and noise images. One decoding path and one blank/noise verdict,
/// so both commands agree; nothing left in the temporary folder, and a killed run's leftovers swept by the next.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("Cli")]
public sealed class CliImageInputTests : TemporaryDirectoryTest
{
    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    protected override string Prefix => "ocr-mlnet-cli-images";

    [Test]
    public void Predict_and_read_refuse_devices_pipes_and_truncated_files_by_name_and_still_answer_the_good_files()
    {
        string good = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "hsf", "field-403875.png");
        string truncated = Path.Combine(WorkDirectory, "half.png");
        byte[] whole = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, whole.AsSpan(0, whole.Length / 2).ToArray());
        string link = Path.Combine(WorkDirectory, "zero.png");
        File.CreateSymbolicLink(link, "/dev/zero");
        string pipe = Path.Combine(WorkDirectory, "pipe.png");
        using (var mkfifo = Process.Start("mkfifo", [pipe]))
            mkfifo.WaitForExit();

        var clock = Stopwatch.StartNew();
        var read = RunCli($"read --json --kind digits \"{good}\" /dev/zero \"{link}\" \"{pipe}\" \"{truncated}\"");
        var readTime = clock.Elapsed;
        var predict = RunCli($"predict /dev/zero \"{link}\" \"{pipe}\" \"{truncated}\"");
        Assert.Multiple(() =>
        {
            Assert.That(readTime, Is.LessThan(TimeSpan.FromSeconds(60)), "nothing blocks on the pipe or reads the device");
            Assert.That(read.ExitCode, Is.EqualTo(1), read.Output);
            using var json = JsonDocument.Parse(read.Output[read.Output.IndexOf('[')..]);
            var results = json.RootElement.EnumerateArray().ToList();
            Assert.That(results, Has.Count.EqualTo(5), "one result per file, the good one included");
            Assert.That(results[0].GetProperty("reading").GetProperty("text").GetString(), Is.EqualTo("403875"));
            foreach (var (result, name) in results.Skip(1).Zip(new[] { "/dev/zero", link, pipe, truncated }))
                Assert.That(result.GetProperty("error").GetString(), Does.Contain(name), $"the error names {name}");
            Assert.That(results[4].GetProperty("error").GetString(), Does.Contain("truncated"));

            Assert.That(predict.ExitCode, Is.EqualTo(1), predict.Output);
            Assert.That(predict.Output, Does.Contain("not a regular file").And.Contain("truncated"), predict.Output);
        });
    }

    [Test]
    public void A_phone_photo_stored_sideways_reads_as_the_upright_one()
    {
        string upright = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "hsf", "field-403875.png");
        using var bitmap = SKBitmap.Decode(upright);
        string sideways = Path.Combine(WorkDirectory, "phone.jpg");
        File.WriteAllBytes(sideways, ExifJpeg.StoredSideways(bitmap));

        var run = RunCli($"read --json --kind digits \"{upright}\" \"{sideways}\"");
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        using var json = JsonDocument.Parse(run.Output[run.Output.IndexOf('[')..]);
        var texts = json.RootElement.EnumerateArray().Select(r => r.GetProperty("reading").GetProperty("text").GetString()).ToList();
        Assert.That(texts, Is.EqualTo(new[] { "403875", "403875" }), run.Output);
    }

    [Test]
    public void Blank_black_and_noise_images_get_the_same_verdict_from_predict_and_read()
    {
        var random = new Random(5);
        string white = Png("white.png", 200, 200, _ => 255);
        string black = Png("black.png", 200, 200, _ => 0);
        string noise = Png("noise.png", 400, 100, _ => (byte)random.Next(256));
        string speckles = Png("speckles.png", 1024, 1024, _ => random.NextDouble() < 0.5 ? (byte)0 : (byte)255);

        var predict = RunCli($"predict \"{white}\" \"{black}\" \"{noise}\" \"{speckles}\"");
        var read = RunCli($"read --json \"{white}\" \"{black}\" \"{noise}\" \"{speckles}\"");
        Assert.Multiple(() =>
        {
            Assert.That(predict.ExitCode, Is.Zero, predict.Output);
            var rows = predict.Output.Split('\n');
            foreach (var (file, verdict) in new[] { ("white.png", "no ink"), ("black.png", "no ink"), ("noise.png", "noise"), ("speckles.png", "noise") })
                Assert.That(rows.Single(r => r.Contains(file, StringComparison.Ordinal)), Does.Contain(verdict), predict.Output);

            Assert.That(read.ExitCode, Is.Zero, read.Output);
            using var json = JsonDocument.Parse(read.Output[read.Output.IndexOf('[')..]);
            var readings = json.RootElement.EnumerateArray().Select(r => r.GetProperty("reading")).ToList();
            Assert.That(readings.Select(r => r.GetProperty("content").GetString()), Is.EqualTo(new[] { "blank", "blank", "noise", "noise" }));
            Assert.That(readings.Select(r => r.GetProperty("text").GetString()), Is.All.Empty);
            Assert.That(readings.Skip(2).Select(r => r.GetProperty("confidence").GetDouble()), Is.All.Zero, "noise is read at confidence 0");
        });
    }

    [Test]
    public void A_run_leaves_nothing_in_the_temporary_folder_and_sweeps_a_killed_runs_folder()
    {
        string temporary = Path.Combine(WorkDirectory, "tmp");
        // A folder of a run that was killed: its process (a PID above Linux's maximum) is gone.
        string killed = Path.Combine(temporary, "ocr-mlnet-4999999-0123456789abcdef0123456789abcdef");
        Directory.CreateDirectory(killed);
        File.WriteAllText(Path.Combine(killed, "network.onnx"), "left by a killed run");
        string good = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "sd19", "train_41_00999.png");

        var run = RunCli($"predict \"{good}\"", temporary);
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(Directory.GetFileSystemEntries(temporary, "*", SearchOption.AllDirectories), Is.Empty,
            "no ONNX Runtime .ses file, no folder of this run, and the killed run's folder swept");
    }

    private string Png(string name, int width, int height, Func<int, byte> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var bytes = Enumerable.Range(0, width * height).Select(pixel).ToArray();
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        string path = Path.Combine(WorkDirectory, name);
        File.WriteAllBytes(path, DrawnGlyphs.Png(bitmap));
        return path;
    }

    private (int ExitCode, string Output) RunCli(string arguments, string? temporaryFolder = null)
    {
        temporaryFolder ??= Path.Combine(WorkDirectory, "tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temporaryFolder);
        return TestEnvironment.Run("dotnet", $"\"{Cli}\" {arguments}", WorkDirectory, TimeSpan.FromMinutes(3),
            new Dictionary<string, string> { ["TMPDIR"] = temporaryFolder, ["DOTNET_EnableDiagnostics"] = "0" });
    }
}
