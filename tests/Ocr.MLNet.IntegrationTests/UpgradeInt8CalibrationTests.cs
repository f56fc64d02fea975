using Ocr.MLNet.Serving;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// <c>ocr-mlnet upgrade --int8-calibration</c>: a model saved before the trainer measured activation ranges gets them from
/// real EMNIST images, so the field reader can score it in int8, and its float network is unchanged.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class UpgradeInt8CalibrationTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-int8-upgrade";

    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    [Test]
    public void An_old_model_gets_its_ranges_from_training_images_and_scores_in_int8()
    {
        string emnist = TestEnvironment.RealData("emnist-bymerge-dev");
        string old = Path.Combine(WorkDirectory, "old.zip"), upgraded = Path.Combine(WorkDirectory, "upgraded.zip");
        File.WriteAllBytes(old, PackagedModelWithoutRanges.Bytes());

        var run = Run($"upgrade --model \"{old}\" --int8-calibration \"{emnist}\" --out \"{upgraded}\"");

        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("activation ranges").And.Contain("2,048 images"));
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

    private static (int ExitCode, string Output) Run(string arguments) =>
        TestEnvironment.Run("dotnet", $"\"{Cli}\" {arguments}", TestContext.CurrentContext.WorkDirectory, TimeSpan.FromMinutes(5));
}
