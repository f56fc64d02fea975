using Ocr.MLNet.Fields;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Cli;

/// <summary>A folder holding one form page and <c>reference.tsv</c> (field, text): the texts its boxes should hold, by field number.</summary>
internal static class FormReference
{
    public const string FileName = FieldEvaluation.FormReferenceFileName;

    /// <summary>Reads the page's boxes and scores them against <paramref name="form"/> (from <see cref="FieldEvaluation.LoadFormReference"/>).</summary>
    public static (FieldEvaluationResult Result, IReadOnlyList<FormField> Fields) Evaluate(HandwrittenFieldReader reader, LabelledForm form, FieldKind? kind)
    {
        var (result, fields) = FieldEvaluation.EvaluateForm(reader, form.PagePath, form.Texts, kind);
        // A count that differs usually means a box the finder missed or split: every later field is then compared with its neighbour's text.
        if (fields.Count != form.Texts.Count)
        {
            int last = form.FirstField + form.Texts.Count - 1;
            CliConsole.WriteWarning($"'{form.PagePath}': {fields.Count} boxes found on the page, and {FileName} gives {form.Texts.Count} (fields {form.FirstField}–{last}). "
                + (fields.Count < form.Texts.Count
                    ? $"The last {form.Texts.Count - fields.Count} fields are scored as read empty; check the page with 'ocr-mlnet read --form --overlay'."
                    : $"The last {fields.Count - form.Texts.Count} boxes are not scored; add their rows, or check the page with 'ocr-mlnet read --form --overlay'."));
        }

        return (result, fields);
    }
}
