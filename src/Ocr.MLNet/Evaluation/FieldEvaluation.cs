using System.Globalization;
using System.Text;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Evaluation;

/// <summary>One field of an evaluation set: an image and the text written in it.</summary>
/// <param name="ImagePath">The image (full path).</param>
/// <param name="Text">The truth as written.</param>
public sealed record LabelledField(string ImagePath, string Text);

/// <summary>A form page and the text each of its boxes should hold, from a form folder's <c>reference.tsv</c>.</summary>
/// <param name="PagePath">The page image (full path).</param>
/// <param name="FirstField">The field number of the page's first box in reading order (HSF pages start at 3).</param>
/// <param name="Texts">The truth of each box in reading order: field <paramref name="FirstField"/>, then the next, without gaps.</param>
internal sealed record LabelledForm(string PagePath, int FirstField, IReadOnlyList<string> Texts);

/// <summary>How one field was read against its truth.</summary>
/// <param name="Field">The field.</param>
/// <param name="Reading">What the reader read (null when it failed).</param>
/// <param name="Error">Why it could not be read, or null.</param>
/// <param name="Truth">The truth, normalised (<see cref="FieldEvaluation.Normalize"/>).</param>
/// <param name="Read">The text read, normalised.</param>
/// <param name="Distance">The edit distance between the two.</param>
internal sealed record FieldScore(LabelledField Field, FieldReading? Reading, string? Error, string Truth, string Read, int Distance)
{
    /// <summary>True when the normalised texts are equal.</summary>
    public bool Exact => Truth == Read;
}

/// <summary>Scores of a set of fields.</summary>
/// <param name="Fields">Every field's score, in the set's order.</param>
internal sealed record FieldEvaluationResult(IReadOnlyList<FieldScore> Fields)
{
    /// <summary>Character error rate: summed edit distances over summed truth lengths (0 when the truth is all blank).</summary>
    public double CharacterErrorRate
    {
        get
        {
            long truth = Fields.Sum(f => (long)f.Truth.Length);
            return truth == 0 ? 0 : Fields.Sum(f => (double)f.Distance) / truth;
        }
    }

    /// <summary>The share of fields read exactly (after normalising).</summary>
    public double ExactRate => Fields.Count == 0 ? 0 : Fields.Count(f => f.Exact) / (double)Fields.Count;

    /// <summary>
    /// The error–reject curve of these fields: each field's confidence (0 for one that could not be read) and whether it
    /// was read exactly (after <see cref="FieldEvaluation.Normalize"/>).
    /// </summary>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">There are no fields.</exception>
    /// <example>
    /// <code>
    /// ErrorRejectPoint? point = result.ErrorReject().HighestCoverageAt(0.01);
    /// </code>
    /// </example>
    public ErrorRejectCurve ErrorReject() => ErrorRejectCurve.Compute(Fields.Select(f => ((double)(f.Reading?.Confidence ?? 0f), f.Exact)));
}

/// <summary>
/// Scores a reader on labelled fields as the handwritten-fields sets are scored: both texts normalised to upper-case
/// letters and digits, character error rate (edit distance over truth length, summed over the set) and the share of
/// fields read exactly.
/// </summary>
/// <example>
/// <code>
/// var fields = FieldEvaluation.LoadLabels("names-dev");
/// var result = FieldEvaluation.Evaluate(reader, fields, FieldKind.Upper);
/// Console.WriteLine($"CER {result.CharacterErrorRate:P1}, exact {result.ExactRate:P1}");
/// </code>
/// </example>
public static class FieldEvaluation
{
    /// <summary>The labels file of a folder of fields: tab-separated, a header row with <c>image</c> and <c>text</c> columns.</summary>
    public const string LabelsFileName = "labels.tsv";

    /// <summary>The truth file of a form folder: tab-separated, a header row with <c>field</c> and <c>text</c> columns.</summary>
    public const string FormReferenceFileName = "reference.tsv";

    /// <summary>The image files a form folder's page may be.</summary>
    private static readonly string[] PageExtensions = [".png", ".jpg", ".jpeg", ".tif", ".bmp"];

    /// <summary>Reads <c>labels.tsv</c> in <paramref name="folder"/>; image paths are relative to the folder.</summary>
    /// <param name="folder">The folder.</param>
    /// <returns>The fields in file order.</returns>
    /// <exception cref="CharacterDataException">
    /// The file is missing, is not UTF-8, has no <c>image</c> or <c>text</c> column or no rows of fields, or a row is
    /// short, has more cells than the header, names no image, an image outside the folder (<c>../x.png</c>,
    /// <c>/etc/passwd</c>) or the same image as an earlier row (the message names the line, or both lines).
    /// </exception>
    /// <example>
    /// <code>
    /// IReadOnlyList&lt;LabelledField&gt; fields = FieldEvaluation.LoadLabels("../shared/data/handwritten-fields/names-dev");
    /// </code>
    /// </example>
    public static IReadOnlyList<LabelledField> LoadLabels(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string path = Path.Combine(folder, LabelsFileName);
        var (_, columns, rows) = TabSeparatedFile.ReadTable(path, ["image", "text"], "Give each row an image and its text.");
        int image = columns[0], text = columns[1];
        // Image paths must stay inside the folder: a labels file from elsewhere must not make the evaluation read any file.
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        var fields = new List<LabelledField>();
        var lineOfImage = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, cells) in rows)
        {
            string relative = cells[image];
            if (relative.Trim().Length == 0)
                throw new CharacterDataException($"'{path}' line {line} names no image. Give each row the image's path relative to the folder.", path, null);
            string full = Path.GetFullPath(Path.Combine(root, relative));
            if (Path.IsPathRooted(relative) || !full.StartsWith(root, StringComparison.Ordinal))
                throw new CharacterDataException($"'{path}' line {line}: the image '{relative}' lies outside the folder '{root}'. Image paths are relative to the folder and stay inside it; move the image into the folder and name it relative to it.", path, null);
            if (lineOfImage.TryGetValue(full, out int earlier))
                throw new CharacterDataException($"'{path}' lines {earlier} and {line} both name the image '{relative}': each image is one field, scored once. Remove one of the rows.", path, null);
            lineOfImage.Add(full, line);
            fields.Add(new LabelledField(full, cells[text]));
        }

        if (fields.Count == 0)
            throw new CharacterDataException($"'{path}' has a header but no rows of fields, so there is nothing to score. Add one row per image (image, tab, text).", path, null);
        return fields;
    }

    /// <summary>
    /// Reads a form folder: its one page image and <c>reference.tsv</c>, whose rows give each box's field number and text.
    /// The field numbers count the page's boxes in reading order from the lowest (the first box), so the rows may come in
    /// any order but every number from the lowest to the highest needs exactly one row.
    /// </summary>
    /// <param name="folder">The folder.</param>
    /// <returns>The page and the texts in field order.</returns>
    /// <exception cref="CharacterDataException">
    /// The file is missing, is not UTF-8, has no <c>field</c> or <c>text</c> column, names images (the page is the one image
    /// beside it) or has no rows; a row is short, has more cells than the header, or gives no field number, one that is not
    /// a number, or one an earlier row gave (the message names the line, or both lines); a field number between the lowest
    /// and the highest has no row; or the folder does not hold exactly one page image.
    /// </exception>
    /// <example>
    /// <code>
    /// var form = FieldEvaluation.LoadFormReference("../shared/data/handwritten-fields/nist-hsf-page");
    /// var (result, fields) = FieldEvaluation.EvaluateForm(reader, form.PagePath, form.Texts);
    /// </code>
    /// </example>
    internal static LabelledForm LoadFormReference(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string path = Path.Combine(folder, FormReferenceFileName);
        var (header, columns, table) = TabSeparatedFile.ReadTable(path, ["field", "text"], "Give each row a field number and its text.");
        int field = columns[0], text = columns[1];
        if (Array.IndexOf(header, "image") is int image and >= 0)
        {
            // The page is found beside the file; a path in it would be ignored, or read a file from anywhere.
            var named = table.FirstOrDefault(r => r.Cells[image].Trim().Length > 0);
            string where = named.Cells is null ? "" : $" (line {named.Line} names '{named.Cells[image]}')";
            throw new CharacterDataException(
                $"'{path}' has an 'image' column{where}, but a form folder's {FormReferenceFileName} names no images: the page is the one image beside it. "
                + $"Remove the column; for a folder of field images, write a {LabelsFileName} (image, text) instead.", path, null);
        }

        var rows = new SortedDictionary<int, (int Line, string Text)>();
        foreach (var (line, cells) in table)
        {
            string number = cells[field].Trim();
            if (number.Length == 0)
                throw new CharacterDataException($"'{path}' line {line} gives no field number. Give each row the number of its box (the fields count the page's boxes in reading order).", path, null);
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int fieldNumber))
                throw new CharacterDataException($"'{path}' line {line}: '{number}' is not a field number. Give each row the number of its box (03, 04, …: the fields count the page's boxes in reading order).", path, null);
            if (rows.TryGetValue(fieldNumber, out var earlier))
            {
                throw new CharacterDataException(earlier.Text == cells[text]
                    ? $"'{path}' lines {earlier.Line} and {line} both give field {number} ('{cells[text]}'): each box is scored once. Remove one of the rows."
                    : $"'{path}' lines {earlier.Line} and {line} give field {number} two texts ('{earlier.Text}' and '{cells[text]}'). Keep the row with the box's true text and remove the other.", path, null);
            }

            rows.Add(fieldNumber, (line, cells[text]));
        }

        if (rows.Count == 0)
            throw new CharacterDataException($"'{path}' has a header but no rows, so there is nothing to score. Add one row per box of the page (field number, tab, text).", path, null);
        int expected = rows.Keys.First();
        foreach (var (number, row) in rows)
        {
            if (number != expected)
            {
                string missing = number - 1 == expected ? $"field {expected} has" : $"fields {expected}–{number - 1} have";
                throw new CharacterDataException(
                    $"'{path}': {missing} no row (line {row.Line} gives field {number}, the next after field {expected - 1}). The fields count the page's boxes in reading order, "
                    + "so every box from the first needs a row: add the missing rows, or correct the field numbers.", path, null);
            }

            expected++;
        }

        var pages = Directory.EnumerateFiles(folder).Where(f => PageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToArray();
        if (pages.Length != 1)
            throw new CharacterDataException($"'{folder}' holds {pages.Length} images beside {FormReferenceFileName}; a form folder holds exactly one page.", folder, null);
        return new LabelledForm(Path.GetFullPath(pages[0]), rows.Keys.First(), [.. rows.Values.Select(r => r.Text)]);
    }

    /// <summary>Reads every field and scores it; a field that cannot be read counts as read empty, with its error kept.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="fields">The labelled fields.</param>
    /// <param name="kind">What the fields hold; null for the reader's options.</param>
    /// <returns>Each field's score and the totals.</returns>
    /// <example>
    /// <code>
    /// var result = FieldEvaluation.Evaluate(reader, FieldEvaluation.LoadLabels("cheque-amounts-dev"), FieldKind.Digits);
    /// </code>
    /// </example>
    internal static FieldEvaluationResult Evaluate(HandwrittenFieldReader reader, IReadOnlyList<LabelledField> fields, FieldKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(fields);
        var scores = new FieldScore[fields.Count];
        Parallel.For(0, fields.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
        {
            FieldReading? reading = null;
            string? error = null;
            try
            {
                reading = reader.Read(fields[i].ImagePath, kind);
            }
            catch (Exception e) when (e is CharacterDataException or ArgumentException)
            {
                error = e.Message;
            }

            scores[i] = Score(fields[i], reading, error);
        });
        return new FieldEvaluationResult(scores);
    }

    /// <summary>
    /// Reads a form page and scores its fields, in reading order, against the texts its boxes should hold (the i-th
    /// field read against the i-th text; a field not found counts as read empty). Each field is read with the kind its
    /// text implies (<see cref="KindOf"/>), as a form's template says what each box holds, unless <paramref name="kind"/> is given.
    /// </summary>
    /// <param name="reader">The reader.</param>
    /// <param name="pagePath">The form page.</param>
    /// <param name="texts">The text of each box, in reading order.</param>
    /// <param name="kind">One kind for every field, or null for each text's own.</param>
    /// <returns>The scores, one per text, and the fields as read.</returns>
    /// <example>
    /// <code>
    /// var (result, fields) = FieldEvaluation.EvaluateForm(reader, "hsf.png", ["0123456789", "16", "899"]);
    /// </code>
    /// </example>
    internal static (FieldEvaluationResult Result, IReadOnlyList<FormField> Fields) EvaluateForm(
        HandwrittenFieldReader reader, string pagePath, IReadOnlyList<string> texts, FieldKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(texts);
        var kinds = texts.Select(t => kind ?? KindOf(t)).ToArray();
        var fields = reader.ReadForm(pagePath, kinds);
        var scores = texts.Select((text, i) => Score(
            new LabelledField(pagePath, text), i < fields.Count ? fields[i].Reading : null, i < fields.Count ? null : "no such field on the page")).ToArray();
        return (new FieldEvaluationResult(scores), fields);
    }

    /// <summary>The narrowest kind that holds <paramref name="text"/>: digits, upper, lower, letters, else alphanumeric.</summary>
    /// <param name="text">A field's text.</param>
    /// <returns>The kind.</returns>
    /// <example>
    /// <code>
    /// FieldKind kind = FieldEvaluation.KindOf("43744"); // Digits
    /// </code>
    /// </example>
    public static FieldKind KindOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var characters = text.Where(char.IsLetterOrDigit).ToArray();
        if (characters.Length == 0)
            return FieldKind.Alphanumeric;
        if (characters.All(char.IsAsciiDigit))
            return FieldKind.Digits;
        if (characters.All(char.IsAsciiLetterUpper))
            return FieldKind.Upper;
        if (characters.All(char.IsAsciiLetterLower))
            return FieldKind.Lower;
        return characters.All(char.IsAsciiLetter) ? FieldKind.Letters : FieldKind.Alphanumeric;
    }

    /// <summary>Scores one reading against its field's truth.</summary>
    /// <param name="field">The field.</param>
    /// <param name="reading">What was read, or null when it could not be read.</param>
    /// <param name="error">Why it could not be read.</param>
    /// <returns>The score.</returns>
    /// <example>
    /// <code>
    /// FieldScore score = FieldEvaluation.Score(field, reader.Read(field.ImagePath), null);
    /// </code>
    /// </example>
    internal static FieldScore Score(LabelledField field, FieldReading? reading, string? error)
    {
        ArgumentNullException.ThrowIfNull(field);
        string truth = Normalize(field.Text), read = Normalize(reading?.Text ?? "");
        return new FieldScore(field, reading, error, truth, read, EditDistance(truth, read));
    }

    /// <summary>Upper case, letters and digits only: <c>"Jean-Roch"</c> → <c>"JEANROCH"</c>, <c>"10,00."</c> → <c>"1000"</c>.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The normalised text.</returns>
    /// <example>
    /// <code>
    /// string key = FieldEvaluation.Normalize("Jean-Roch"); // "JEANROCH"
    /// </code>
    /// </example>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length);
        foreach (char c in text.ToUpperInvariant())
        {
            if (c is >= 'A' and <= 'Z' or >= '0' and <= '9')
                builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions, each costing 1.</summary>
    /// <param name="a">One string.</param>
    /// <param name="b">The other.</param>
    /// <returns>The fewest edits that turn one into the other.</returns>
    /// <example>
    /// <code>
    /// int d = FieldEvaluation.EditDistance("LAUMONIER", "LAUMIONIER"); // 1
    /// </code>
    /// </example>
    public static int EditDistance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>The per-field table as tab-separated text: image, truth, read, distance, exact, confidence, error.</summary>
    /// <param name="result">An evaluation.</param>
    /// <returns>The table with a header row.</returns>
    /// <example>
    /// <code>
    /// File.WriteAllText("fields.tsv", FieldEvaluation.ToTsv(result));
    /// </code>
    /// </example>
    internal static string ToTsv(FieldEvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var builder = new StringBuilder("image\ttruth\tread\tdistance\texact\tconfidence\terror\n");
        foreach (var f in result.Fields)
        {
            builder.Append(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(f.Field.ImagePath)}\t{f.Truth}\t{f.Read}\t{f.Distance}\t{f.Exact}\t{f.Reading?.Confidence ?? 0:F3}\t{f.Error}\n");
        }

        return builder.ToString();
    }
}
