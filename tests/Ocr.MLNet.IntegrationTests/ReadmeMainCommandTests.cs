namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// The README's main command, as a new user runs it after cloning: the CLI reads the digit boxes of the real NIST form in
/// samples/images with the pretrained model inside the library, and <c>predict</c> falls back to that model too.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("Cli")]
public sealed class ReadmeMainCommandTests
{
    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    [Test]
    public void Read_with_the_pretrained_model_prints_the_28_digit_boxes_of_the_NIST_form()
    {
        var run = TestEnvironment.Run("dotnet", $"\"{Cli}\" read samples/images/hsf/digit-boxes.png --form --kind digits --json",
            TestEnvironment.RepositoryRoot, TimeSpan.FromMinutes(3));
        TestContext.Out.WriteLine(run.Output);
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("Using the pretrained model ocr-mlnet-emnist47.zip"));

        string json = run.Output[run.Output.IndexOf('[')..];
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var texts = document.RootElement[0].GetProperty("fields").EnumerateArray()
            .Select(f => f.GetProperty("reading").GetProperty("text").GetString()).ToList();
        string[] prompts =
        [
            "0123456789", "0123456789", "0123456789", "16", "899", "0124", "43744", "403875", "821", "7358", "55925", "116213", "86",
            "4949", "20044", "625502", "80", "681", "79192", "676687", "49", "213", "3055", "803797", "02", "791", "3678", "03536",
        ];
        Assert.That(texts, Has.Count.EqualTo(prompts.Length));
        Assert.That(texts.Zip(prompts).Count(p => p.First == p.Second), Is.GreaterThanOrEqualTo(26), string.Join(" ", texts));
    }

    [Test]
    public void Predict_without_a_model_classifies_the_sample_characters_with_the_pretrained_model()
    {
        var run = TestEnvironment.Run("dotnet", $"\"{Cli}\" predict samples/images/sd19/train_41_00999.png samples/images/sd19/train_45_00999.png",
            TestEnvironment.RepositoryRoot, TimeSpan.FromMinutes(3));
        TestContext.Out.WriteLine(run.Output);
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Output, Does.Match(@"train_41_00999\.png\s*│\s*A\s*│"), "a real SD19 'A'");
        Assert.That(run.Output, Does.Match(@"train_45_00999\.png\s*│\s*E\s*│"), "a real SD19 'E'");
    }
}
