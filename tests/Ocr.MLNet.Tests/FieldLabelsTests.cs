using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The labels of a folder of fields are refused, naming the file and the row, when they cannot be scored honestly: no
/// rows, an image outside the folder, more cells than the header, the same image twice.
/// </summary>
[TestFixture]
public sealed class FieldLabelsTests
{
    private string directory = "";

    [SetUp]
    public void Create() => directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-field-labels");

    [TearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    [Test]
    public void Rows_load_in_file_order_with_full_paths_inside_the_folder()
    {
        Write("image\ttext\tnote", "a.png\tJEAN", "", "sub/b.png\t12\tUNREADABLE");

        var fields = FieldEvaluation.LoadLabels(directory);

        Assert.That(fields, Is.EqualTo(new[]
        {
            new LabelledField(Path.Combine(directory, "a.png"), "JEAN"),
            new LabelledField(Path.Combine(directory, "sub", "b.png"), "12"),
        }));
    }

    [Test]
    public void A_header_without_rows_is_refused_naming_the_file()
    {
        Write("image\ttext");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadLabels(directory));

        Assert.That(error!.Message, Does.Contain(Path.Combine(directory, "labels.tsv")).And.Contain("no rows"));
    }

    [TestCase("../x.png")]
    [TestCase("/etc/passwd")]
    [TestCase("sub/../../x.png")]
    public void An_image_outside_the_folder_is_refused_naming_the_row(string image)
    {
        Write("image\ttext", "a.png\tA", $"{image}\tB");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadLabels(directory));

        Assert.That(error!.Message, Does.Contain("line 3").And.Contain($"'{image}'").And.Contain("outside the folder"));
    }

    [Test]
    public void A_row_with_more_cells_than_the_header_is_refused_naming_the_row()
    {
        Write("image\ttext", "a.png\tA", "b.png\tJEAN\tROCH");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadLabels(directory));

        Assert.That(error!.Message, Does.Contain("line 3 has 3 cells").And.Contain("the 2 the header names"));
    }

    [Test]
    public void The_same_image_twice_is_refused_naming_both_rows()
    {
        Write("image\ttext", "a.png\tA", "b.png\tB", "./a.png\tC");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadLabels(directory));

        Assert.That(error!.Message, Does.Contain("lines 2 and 4").And.Contain("'./a.png'"));
    }

    private void Write(params string[] lines) => File.WriteAllLines(Path.Combine(directory, FieldEvaluation.LabelsFileName), lines);
}
