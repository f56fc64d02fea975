using Ocr.MLNet.Fields;

namespace Ocr.MLNet.Cli;

/// <summary>A folder holding one form page and <c>reference.tsv</c> (field, text): the texts its boxes should hold, in reading order.</summary>
internal static class FormReference
{
    public const string FileName = "reference.tsv";

    private static readonly string[] PageExtensions = [".png", ".jpg", ".jpeg", ".tif", ".bmp"];

    public static (FieldEvaluationResult Result, IReadOnlyList<FormField> Fields, string Page) Evaluate(HandwrittenFieldReader reader, string folder, FieldKind? kind)
    {
        string path = Path.Combine(folder, FileName);
        var lines = File.ReadAllLines(path);
        var header = lines.Length > 0 ? lines[0].Split('\t') : [];
        int text = Array.IndexOf(header, "text");
        if (text < 0)
            throw new CharacterDataException($"'{path}' has no 'text' column in its header (tab-separated); it has: {string.Join(", ", header)}.", path, null);
        var texts = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t')).Select(cells => cells.Length > text ? cells[text] : "").ToArray();
        if (texts.Length == 0)
            throw new CharacterDataException($"'{path}' has a header but no rows, so there is nothing to score. Add one row per box of the page, in reading order.", path, null);
        var pages = Directory.EnumerateFiles(folder).Where(f => PageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order().ToArray();
        if (pages.Length != 1)
            throw new CharacterDataException($"'{folder}' holds {pages.Length} images beside {FileName}; a form folder holds exactly one page.", folder, null);
        var (result, fields) = FieldEvaluation.EvaluateForm(reader, pages[0], texts, kind);
        return (result, fields, pages[0]);
    }
}
