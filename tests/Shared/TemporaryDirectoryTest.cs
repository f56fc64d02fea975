namespace Ocr.MLNet.Tests;

/// <summary>Base for fixtures whose tests each get a fresh temporary directory, deleted afterwards.</summary>
public abstract class TemporaryDirectoryTest
{
    /// <summary>The current test's directory.</summary>
    protected string WorkDirectory { get; private set; } = "";

    /// <summary>Prefix of the directory name, to tell the fixtures' leftovers apart.</summary>
    protected abstract string Prefix { get; }

    [SetUp]
    public void CreateTemporaryDirectory() => WorkDirectory = TestEnvironment.CreateTemporaryDirectory(Prefix);

    [TearDown]
    public void DeleteTemporaryDirectory() => Directory.Delete(WorkDirectory, recursive: true);
}
