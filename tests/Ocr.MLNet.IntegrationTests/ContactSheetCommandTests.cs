namespace Ocr.MLNet.IntegrationTests;

/// <summary>The CLI's <c>contact-sheet</c> command, run as a separate process on real EMNIST images.</summary>
[TestFixture]
[Category("Integration")]
[Category("Cli")]
[Category("RealData")]
public sealed class ContactSheetCommandTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-contact-sheet";

    [Test]
    public void The_contact_sheet_command_writes_a_png_of_originals_and_copies()
    {
        if (TestEnvironment.SharedData is not { } shared || !Directory.Exists(Path.Combine(shared, "emnist-bymerge-dev")))
        {
            Assert.Ignore("Skipped: ../shared/data/emnist-bymerge-dev is not on this machine.");
            return;
        }

        string sheet = Path.Combine(WorkDirectory, "sheet.png");
        string cli = Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");
        var (exit, output) = TestEnvironment.Run("dotnet",
            $"\"{cli}\" contact-sheet --data \"{Path.Combine(shared, "emnist-bymerge-dev")}\" --out \"{sheet}\" --count 3 --copies 4 --scale 2",
            WorkDirectory, TimeSpan.FromMinutes(2));
        Assert.That(exit, Is.Zero, output);
        using var bitmap = SkiaSharp.SKBitmap.Decode(sheet);
        Assert.That(bitmap.Width, Is.EqualTo(4 + 64 + 12 + (4 * (64 + 4))));
        Assert.That(bitmap.Height, Is.EqualTo(4 + (3 * (64 + 4))));
        Assert.That(output, Does.Contain("3 rows"));
    }
}
