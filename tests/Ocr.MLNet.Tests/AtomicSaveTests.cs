using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Tests;

/// <summary><c>SaveCharacterModel</c> and <see cref="AtomicFile"/>: a failed save leaves the old file as it was and nothing else.</summary>
[TestFixture]
public sealed class AtomicSaveTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-atomic-save";

    [Test]
    public void SaveCharacterModel_writes_a_model_that_ML_NET_loads_and_leaves_no_temporary_file()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Array.Empty<PathRow>());
        string path = Path.Combine(WorkDirectory, "sub", "model.zip");
        mlContext.Model.SaveCharacterModel(mlContext.Transforms.CopyColumns("Copy", "ImagePath").Fit(data), data.Schema, path);

        var loaded = mlContext.Model.Load(path, out var schema);
        Assert.That(loaded.GetOutputSchema(schema).GetColumnOrNull("Copy"), Is.Not.Null);
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void A_model_that_fails_while_saving_leaves_the_old_file_byte_identical_and_no_temporary_file()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Array.Empty<PathRow>());
        string path = Path.Combine(WorkDirectory, "model.zip");
        mlContext.Model.SaveCharacterModel(mlContext.Transforms.CopyColumns("Copy", "ImagePath").Fit(data), data.Schema, path);
        byte[] before = File.ReadAllBytes(path);

        Assert.That(() => mlContext.Model.SaveCharacterModel(new FailsWhileSaving(), data.Schema, path),
            Throws.InstanceOf<IOException>().With.Message.Contain($"Could not save '{path}'").And.Message.Contain("unchanged"));

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFileSystemEntries(WorkDirectory), Is.EqualTo(new[] { path }), "no temporary file left beside the model");
    }

    [Test]
    public void A_writer_that_fails_halfway_leaves_the_old_file_byte_identical_and_no_temporary_file()
    {
        string path = Path.Combine(WorkDirectory, "ocr.history.json");
        File.WriteAllText(path, "old");

        Assert.That(() => AtomicFile.Write(path, temporary =>
        {
            File.WriteAllText(temporary, "half");
            throw new IOException("No space left on device");
        }), Throws.InstanceOf<IOException>().With.Message.Contain(path).And.Message.Contain("No space left on device"));

        Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
        Assert.That(Directory.GetFileSystemEntries(WorkDirectory), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void A_successful_write_replaces_the_old_file()
    {
        string path = Path.Combine(WorkDirectory, "ocr.history.json");
        File.WriteAllText(path, "old");
        AtomicFile.Write(path, temporary => File.WriteAllText(temporary, "new"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("new"));
        Assert.That(Directory.GetFileSystemEntries(WorkDirectory), Is.EqualTo(new[] { path }));
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    /// <summary>A transformer whose zip is half written when saving fails, as on a full disk.</summary>
    private sealed class FailsWhileSaving : ITransformer
    {
        public bool IsRowToRowMapper => false;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();

        public IDataView Transform(IDataView input) => input;

        void ICanSaveModel.Save(ModelSaveContext ctx) => throw new IOException("No space left on device");
    }
}
