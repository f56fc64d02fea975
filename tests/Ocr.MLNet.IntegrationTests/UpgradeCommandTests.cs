using Ocr.MLNet.Serving;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// <c>ocr-mlnet upgrade</c>. With <c>--int8-calibration</c>: a model saved before the trainer measured activation ranges gets
/// them from real EMNIST images, so the field reader can score it in int8, and its float network is unchanged. On a line
/// model saved with the float planes: re-saved reading bytes, reading real cheque amounts as before.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class UpgradeCommandTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-upgrade";

    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    [Test]
    public void An_old_model_gets_its_ranges_from_training_images_and_scores_in_int8()
    {
        string emnist = TestEnvironment.RealData("emnist-bymerge-dev");
        string old = Path.Combine(WorkDirectory, "old.zip"), upgraded = Path.Combine(WorkDirectory, "upgraded.zip");
        File.WriteAllBytes(old, PackagedModelWithoutRanges.Bytes());

        var run = Run($"upgrade --model \"{old}\" --int8-calibration \"{emnist}\" --out \"{upgraded}\"");

        Assert.That(run.ExitCode, Is.Zero, run.Output);
        // The console wraps long lines wherever the paths put the break.
        Assert.That(System.Text.RegularExpressions.Regex.Replace(run.Output, @"\s+", " "), Does.Contain("activation ranges").And.Contain("2,048 images"));
        var int8 = new CharacterRecognizerOptions { Int8Network = true };
        using var before = CharacterRecognizer.Load(old, int8);
        using var after = CharacterRecognizer.Load(upgraded, int8);
        using var afterFloat = CharacterRecognizer.Load(upgraded);
        Assert.That(before.UsesInt8, Is.False, "the old model has no ranges");
        Assert.That(after.UsesInt8, Is.True);

        var pixels = new float[8 * CharacterFormat.PixelCount];
        var random = new Random(3);
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = random.Next(4) == 0 ? (float)random.NextDouble() : 0f;
        using var beforeFloat = CharacterRecognizer.Load(old);
        Assert.That(afterFloat.ScorePixels(pixels), Is.EqualTo(beforeFloat.ScorePixels(pixels)).Within(1e-6f), "the float network is unchanged");
        Assert.That(after.ScorePixels(pixels), Is.Not.EqualTo(beforeFloat.ScorePixels(pixels)).Within(1e-5f), "the int8 network really ran");
    }

    [Test]
    public void Split_without_calibration_images_is_refused_naming_both_options()
    {
        string old = Path.Combine(WorkDirectory, "split.zip");
        File.WriteAllBytes(old, PackagedModelWithoutRanges.Bytes());

        var run = Run($"upgrade --model \"{old}\" --split train");

        Assert.That(run.ExitCode, Is.Not.Zero);
        Assert.That(run.Output, Does.Contain("--split").And.Contain("--int8-calibration"));
    }

    [Test]
    public void A_line_model_saved_with_float_planes_is_re_saved_reading_bytes_and_reads_the_same()
    {
        if (!PretrainedLineModel.IsAvailable)
            Assert.Ignore("This build has no packaged line model.");
        var mlContext = new Microsoft.ML.MLContext(seed: 1) { TempFilePath = WorkDirectory };
        string old = FloatPlaneLineModel.Save(mlContext, FloatPlaneLineModel.AsFloatPlanes(FloatPlaneLineModel.PackagedOnnx()), Path.Combine(WorkDirectory, "old-lines.zip"));
        string upgraded = Path.Combine(WorkDirectory, "upgraded-lines.zip");

        var refused = Run($"upgrade --model \"{old}\" --int8-calibration \"{WorkDirectory}\" --out \"{upgraded}\"");
        Assert.That(refused.ExitCode, Is.Not.Zero);
        Assert.That(refused.Output, Does.Contain("line model").And.Contain("--int8-calibration"));
        Assert.That(File.Exists(upgraded), Is.False);

        var run = Run($"upgrade --model \"{old}\" --out \"{upgraded}\"");
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        byte[] onnx;
        using (var stream = File.OpenRead(upgraded))
            onnx = Lines.LineRecognizerModel.ReadOnnx(stream, upgraded);
        Assert.That(Onnx.ModelProto.Parser.ParseFrom(onnx).Graph.Input.Single().Name, Is.EqualTo(Lines.LineOnnxExporter.InputColumnName));

        string amounts = TestEnvironment.RealData("handwritten-fields/cheque-amounts-dev");
        var images = File.ReadLines(Path.Combine(amounts, "labels.tsv")).Skip(1).Take(8)
            .Select(line => Microsoft.ML.Data.MLImage.CreateFromFile(Path.Combine(amounts, line.Split('\t')[0]))).ToList();
        using var disposeImages = DisposeAll.Of(images);
        using var before = Lines.LineRecognizer.Load(old);
        using var after = Lines.LineRecognizer.Load(upgraded);
        var expected = before.Read(images);
        var actual = after.Read(images);
        Assert.That(actual.Select(r => r.Text), Is.EqualTo(expected.Select(r => r.Text)));
        Assert.That(actual.Select(r => r.Confidence), Is.EqualTo(expected.Select(r => r.Confidence)).Within(1e-6f));
        Assert.That(expected.Count(r => r.Text.Length > 0), Is.GreaterThanOrEqualTo(6), "real cheque amounts are read");
    }

    private static (int ExitCode, string Output) Run(string arguments) =>
        TestEnvironment.Run("dotnet", $"\"{Cli}\" {arguments}", TestContext.CurrentContext.WorkDirectory, TimeSpan.FromMinutes(5));
}
