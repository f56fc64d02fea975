using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The labels of a folder of fields are refused, naming the file and the row, when they cannot be scored honestly: no
/// rows, an image outside the folder, more cells than the header, the same image twice, bytes that are not UTF-8.
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
    public void A_labels_file_linked_to_a_device_is_refused_at_once_without_reading_it()
    {
        string labels = Path.Combine(directory, "labels.tsv");
        File.CreateSymbolicLink(labels, "/dev/zero");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadLabels(directory));
        Assert.That(e!.Message, Does.Contain(labels).And.Contain("not a regular file"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "refused from its size, never read");
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

    [Test]
    public void Bytes_that_are_not_UTF_8_are_refused_naming_the_line_and_the_byte()
    {
        // "BILÉL" saved as Latin-1: É is the lone byte 0xC9, which a lenient reader turns into U+FFFD.
        byte[] latin1 = [.. "image\ttext\na.png\tA\nb.png\tBIL"u8, 0xC9, .. "L\n"u8];
        File.WriteAllBytes(Path.Combine(directory, FieldEvaluation.LabelsFileName), latin1);

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadLabels(directory));

        Assert.That(error!.Message, Does.Contain(Path.Combine(directory, "labels.tsv")).And.Contain("line 3").And.Contain("b.png").And.Contain("0xC9").And.Contain("not UTF-8"));
    }

    [Test]
    public void A_byte_order_mark_and_CRLF_line_ends_are_read_as_UTF_8_text()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. "image\ttext\r\na.png\tBILÉL\r\nb.png\t12\r\n"u8];
        File.WriteAllBytes(Path.Combine(directory, FieldEvaluation.LabelsFileName), bytes);

        var fields = FieldEvaluation.LoadLabels(directory);

        Assert.That(fields.Select(f => f.Text), Is.EqualTo(new[] { "BILÉL", "12" }));
    }

    private void Write(params string[] lines) => File.WriteAllLines(Path.Combine(directory, FieldEvaluation.LabelsFileName), lines);
}
