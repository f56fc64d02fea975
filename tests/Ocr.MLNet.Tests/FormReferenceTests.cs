using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Tests;

/// <summary>
/// A form folder's <c>reference.tsv</c> is matched to the page's boxes by its field column, whatever the rows' order, and
/// refused, naming the file and the row, when it cannot be scored honestly: no rows, a row with more cells than the
/// header, no or an unknown field number, a field given twice, a field missing, bytes that are not UTF-8, image paths.
/// </summary>
[TestFixture]
public sealed class FormReferenceTests
{
    private string directory = "";
    private string page = "";

    [SetUp]
    public void Create()
    {
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-form-reference");
        page = Path.Combine(directory, "page.png");
        SyntheticGlyphs.WritePng(page, new float[32 * 32]);
    }

    [TearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    [Test]
    public void Rows_in_any_order_give_the_texts_in_field_order_from_the_lowest_field()
    {
        Write("field\ttext", "05\t899", "03\t0123456789", "", "04\t16");

        var form = FieldEvaluation.LoadFormReference(directory);

        Assert.That(form.PagePath, Is.EqualTo(page));
        Assert.That(form.FirstField, Is.EqualTo(3));
        Assert.That(form.Texts, Is.EqualTo(new[] { "0123456789", "16", "899" }));
    }

    [Test]
    public void A_header_without_rows_is_refused_naming_the_file()
    {
        Write("field\ttext");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain(Path.Combine(directory, "reference.tsv")).And.Contain("no rows"));
    }

    [Test]
    public void A_row_with_more_cells_than_the_header_is_refused_naming_the_row()
    {
        Write("field\ttext", "03\t16", "04\tJEAN\tROCH");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain("line 3 has 3 cells").And.Contain("the 2 the header names"));
    }

    [TestCase("x3", "line 3: 'x3' is not a field number")]
    [TestCase("-4", "line 3: '-4' is not a field number")]
    [TestCase(" ", "line 3 gives no field number")]
    public void A_row_without_a_field_number_is_refused_naming_the_row(string field, string expected)
    {
        Write("field\ttext", "03\t16", $"{field}\t899");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain(expected));
    }

    [Test]
    public void The_same_field_twice_is_refused_naming_both_rows()
    {
        Write("field\ttext", "03\t16", "04\t899", "03\t16");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain("lines 2 and 4 both give field 03 ('16')"));
    }

    [Test]
    public void Two_texts_for_one_field_are_refused_naming_both_rows_and_texts()
    {
        Write("field\ttext", "03\t16", "04\t899", "3\t17");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain("lines 2 and 4 give field 3 two texts ('16' and '17')"));
    }

    [Test]
    public void A_missing_field_between_the_first_and_the_last_is_refused_naming_it_and_the_row_after_it()
    {
        Write("field\ttext", "03\t16", "07\t899", "04\t0124");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain("fields 5–6 have no row (line 3 gives field 7"));
    }

    [Test]
    public void Bytes_that_are_not_UTF_8_are_refused_naming_the_line()
    {
        byte[] latin1 = [.. "field\ttext\n03\t16\n04\tBIL"u8, 0xC9, .. "L\n"u8];
        File.WriteAllBytes(Path.Combine(directory, FieldEvaluation.FormReferenceFileName), latin1);

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain("line 3").And.Contain("0xC9").And.Contain("not UTF-8"));
    }

    [TestCase("../x.png")]
    [TestCase("/etc/passwd")]
    public void An_image_column_is_refused_naming_the_row_since_the_page_is_the_image_beside_the_file(string image)
    {
        Write("image\tfield\ttext", $"{image}\t03\t16");

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain($"line 2 names '{image}'").And.Contain("names no images"));
    }

    [Test]
    public void A_folder_with_two_pages_is_refused()
    {
        Write("field\ttext", "03\t16");
        File.Copy(page, Path.Combine(directory, "other.png"));

        var error = Assert.Throws<CharacterDataException>(() => FieldEvaluation.LoadFormReference(directory));

        Assert.That(error!.Message, Does.Contain("holds 2 images"));
    }

    private void Write(params string[] lines) => File.WriteAllLines(Path.Combine(directory, FieldEvaluation.FormReferenceFileName), lines);
}
