using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Preparation;
using Spectre.Console;
using Ocr.MLNet.Text;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Cli;

/// <summary><c>ocr-mlnet read</c> (read handwritten fields or form pages) and <c>ocr-mlnet evaluate-fields</c> (score a labelled folder).</summary>
internal static class FieldCommands
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The field errors a user may route at: the highest-coverage threshold within each is printed and reported.</summary>
    private static readonly double[] RoutingErrors = [0.01, 0.05];

    /// <summary>The confidence whose calibration is reported: how often a field read at this or more is right.</summary>
    private const double CalibrationConfidence = 0.9;

    public static Command CreateRead()
    {
        var images = new Argument<FileInfo[]>("IMAGE") { Description = "Images of fields (or form pages with --form).", Arity = ArgumentArity.OneOrMore };
        var model = CliModels.ModelOption();
        var lineModel = LineModelOption();
        var kind = KindOption();
        var form = new Option<bool>("--form") { Description = "Each image is a form page: find its boxes and read each, in reading order." };
        var json = new Option<bool>("--json") { Description = "Print JSON (text, confidence, and per character its box, label, confidence and alternatives)." };
        var overlay = new Option<FileInfo?>("--overlay")
        {
            Description = "Write a PNG with the boxes and labels drawn on the image. With several images, one file each beside OUT: OUT.<image name>.png "
                + "(OUT without its extension), or, when two images share a name (d1/x.png d2/x.png), OUT.<position>.<image name>.png for every image (1 for the first image given).",
        };
        var crossedSevens = CrossedSevensOption();
        var language = LanguageOption();
        var method = MethodOption();
        var float32 = Float32Option();
        var command = new Command("read", "Read handwritten fields: text, confidence and per-character boxes.")
        {
            images, model, lineModel, kind, form, json, overlay, crossedSevens, language, method, float32,
        };
        command.SetAction(result => CliErrors.Guard(() => Read(
            result.GetValue(images)!, result.GetValue(model), result.GetValue(lineModel), ReaderOptions(result.GetValue(crossedSevens), result.GetValue(language), result.GetValue(method), result.GetValue(float32)),
            ParseKind(result.GetValue(kind)), result.GetValue(form), result.GetValue(json), result.GetValue(overlay))));
        return command;
    }

    public static Command CreateEvaluate()
    {
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "A folder with labels.tsv (image, text), or a form page with reference.tsv (field, text: field numbers count the page's boxes in reading order from the lowest, one row each, in any order). Both files are UTF-8.",
            Required = true,
        };
        var model = CliModels.ModelOption();
        var lineModel = LineModelOption();
        var kind = KindOption();
        var report = new Option<DirectoryInfo?>("--report") { Description = "Write report.md, metrics.json, fields.tsv, the error–reject chart and overlays of the worst fields here." };
        var worst = new Option<int>("--worst") { Description = "How many of the worst fields get an overlay in the report.", DefaultValueFactory = _ => 20 };
        var crossedSevens = CrossedSevensOption();
        var language = LanguageOption();
        var method = MethodOption();
        var float32 = Float32Option();
        var skip = new Option<int>("--skip") { Description = "Leave out the first N rows of labels.tsv (e.g. the rows a model was fine-tuned on: train-fields --first N).", DefaultValueFactory = _ => 0 };
        var first = new Option<int?>("--first") { Description = "Score only the first N rows (after --skip)." };
        var command = new Command("evaluate-fields", "Score the field reader on a labelled folder: character error rate, exact fields (upper-case letters and digits compared), and how many fields can be accepted unread at 1 % and 5 % field error (the error–reject curve).")
        {
            data, model, lineModel, kind, report, worst, crossedSevens, language, method, float32, skip, first,
        };
        command.SetAction(result => CliErrors.Guard(() => Evaluate(
            result.GetValue(data)!, result.GetValue(model), result.GetValue(lineModel), ReaderOptions(result.GetValue(crossedSevens), result.GetValue(language), result.GetValue(method), result.GetValue(float32)),
            ParseKind(result.GetValue(kind)), result.GetValue(report), result.GetValue(worst), result.GetValue(skip), result.GetValue(first))));
        return command;
    }

    private static Option<FileInfo?> LineModelOption() => new("--line-model")
    {
        Description = "A line model zip (train-fields) to read with beside the character model of --model (your own fine-tuned pair); default: the line model --model names, or the packaged one.",
    };

    private static Option<bool> CrossedSevensOption() => new("--crossed-sevens")
    {
        Description = "The writers cross their sevens (much of Europe and Latin America): a seven without the bar is read as a one with a long up-stroke.",
    };

    private static Option<string?> LanguageOption() => new("--language")
    {
        Description = "The fields' language, english (en, the default) or french (fr): its letter frequencies and letter pairs weigh the letters the shape leaves in doubt; none reads each letter by its shape alone (codes, serial numbers).",
    };

    private static Option<string?> MethodOption() => new("--method")
    {
        Description = "How characters are recognised: auto (the default: where the reader has a line recognizer, it for digits and both combined for capitals), segmentation (the character model on cut characters), lines (the line recognizer) or combined (both, each scoring the other's text).",
    };

    private static Option<bool> Float32Option() => new("--float32")
    {
        Description = "Score cut characters with the character network in float32 (by default it runs in int8 where the model carries its activation ranges, as models trained by this version and the packaged one do).",
    };

    private static FieldReaderOptions ReaderOptions(bool crossedSevens, string? language, string? method = null, bool float32 = false)
    {
        var defaults = new FieldReaderOptions { CrossedSevens = crossedSevens, Method = ParseMethod(method), Int8CharacterNetwork = !float32 };
        if (language is null)
            return defaults;
        if (language.Trim().Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            defaults.LetterFrequencies = null;
            return defaults;
        }

        try
        {
            defaults.LetterFrequencies = LetterFrequencies.ForLanguage(language);
            return defaults;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--language {language}: no letter frequencies for that language; use english (en), french (fr) or none.", e);
        }
    }

    private static FieldReadingMethod ParseMethod(string? method) => method?.Trim().ToLowerInvariant() switch
    {
        null or "auto" => FieldReadingMethod.Auto,
        "segmentation" => FieldReadingMethod.Segmentation,
        "lines" => FieldReadingMethod.Lines,
        "combined" => FieldReadingMethod.Combined,
        _ => throw new ArgumentException($"--method {method}: must be auto, segmentation, lines or combined. Correct it and run the command again."),
    };

    private static Option<string?> KindOption() => new("--kind") { Description = "What the fields hold: digits, upper, lower, letters or alnum (default)." };

    internal static FieldKind? ParseKind(string? kind)
    {
        if (kind is null)
            return null;
        if (FieldKindNames.TryParse(kind, out var parsed))
            return parsed;
        throw new ArgumentException($"--kind {kind}: must be one of {string.Join(", ", FieldKindNames.Names)}. Correct it and run the command again.");
    }

    private static HandwrittenFieldReader LoadReader(FileInfo? model, FileInfo? lineModel, FieldReaderOptions options)
    {
        foreach (var file in new[] { model, lineModel }.OfType<FileInfo>().Where(f => !f.Exists))
        {
            throw new FileNotFoundException(
                $"The model '{file.FullName}' does not exist. Pass a model zip written by ocr-mlnet train or train-field-characters (characters: --model) or train-fields (lines: --model, or --line-model beside a character model).", file.FullName);
        }

        if (model is null)
            CliModels.AnnouncePretrained();
        if (lineModel is not null)
            return HandwrittenFieldReader.Load(model?.FullName, lineModel.FullName, options);
        return model is null ? HandwrittenFieldReader.LoadPretrained(options) : HandwrittenFieldReader.Load(model.FullName, options);
    }

    private static int Read(FileInfo[] images, FileInfo? model, FileInfo? lineModel, FieldReaderOptions options, FieldKind? kind, bool form, bool json, FileInfo? overlay)
    {
        var overlayPaths = overlay is null ? null : OverlayPaths(overlay, images);
        using var reader = LoadReader(model, lineModel, options);
        var results = new List<object>();
        int failed = 0;
        for (int index = 0; index < images.Length; index++)
        {
            var image = images[index];
            try
            {
                string? overlayPath = overlayPaths?[index];
                if (form)
                {
                    var fields = reader.ReadForm(image.FullName, kind is { } k ? Enumerable.Repeat(k, 10_000).ToArray() : null);
                    if (overlayPath is not null)
                        FieldOverlay.Save(image.FullName, fields, overlayPath);
                    results.Add(new { image = image.FullName, overlay = overlayPath, fields = fields.Select(f => new { box = Box(f.Box), kind = f.Kind.ToString(), reading = Reading(f.Reading) }) });
                    if (!json)
                        PrintForm(image, fields, overlayPath);
                }
                else
                {
                    var reading = reader.Read(image.FullName, kind);
                    if (overlayPath is not null)
                        FieldOverlay.Save(image.FullName, reading, overlayPath);
                    results.Add(new { image = image.FullName, overlay = overlayPath, reading = Reading(reading) });
                    if (!json)
                        PrintField(image, reading, overlayPath);
                }
            }
            catch (Exception e) when (e is CharacterDataException or ArgumentException or IOException)
            {
                failed++;
                string error = CliVocabulary.InCliTerms(e.Message);
                results.Add(new { image = image.FullName, error });
                if (!json)
                    CliConsole.WriteError($"{image.Name}: {error}");
            }
        }

        if (json)
            Console.WriteLine(JsonSerializer.Serialize(results, Json));
        return failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// The overlay file of each image: <paramref name="overlay"/> itself for one image; for several, OUT.&lt;image name&gt;.png,
    /// or OUT.&lt;position&gt;.&lt;image name&gt;.png for all when two images share a name, so no overlay overwrites another.
    /// </summary>
    /// <exception cref="ArgumentException">An overlay would replace one of the images read.</exception>
    private static string[] OverlayPaths(FileInfo overlay, FileInfo[] images)
    {
        string[] paths;
        if (images.Length == 1)
        {
            paths = [overlay.FullName];
        }
        else
        {
            string folder = overlay.DirectoryName ?? ".", stem = Path.GetFileNameWithoutExtension(overlay.Name);
            var names = images.Select(image => Path.GetFileNameWithoutExtension(image.Name)).ToArray();
            // Compared ignoring case, as a case-insensitive file system would store them.
            bool shared = names.Distinct(StringComparer.OrdinalIgnoreCase).Count() < names.Length;
            paths = [.. names.Select((name, i) => Path.Combine(folder, shared ? $"{stem}.{i + 1}.{name}.png" : $"{stem}.{name}.png"))];
        }

        var imagePaths = images.Select(image => image.FullName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (paths.FirstOrDefault(imagePaths.Contains) is { } clash)
            throw new ArgumentException($"--overlay {overlay}: the overlay '{clash}' would replace one of the images read. Choose another --overlay name.");
        return paths;
    }

    private static void PrintField(FileInfo image, FieldReading reading, string? overlay)
    {
        string text = reading.Content switch
        {
            ImageContent.Blank => "(blank)",
            ImageContent.Noise => "(noise: scattered dots, not writing)",
            _ => reading.IsBlank ? "(blank)" : reading.Text,
        };
        AnsiConsole.MarkupLineInterpolated($"[bold]{image.Name}[/]: {text}  (confidence {reading.Confidence.ToString("P1", CultureInfo.InvariantCulture)})");
        var table = new Table().AddColumns("char", "confidence", "box (x,y,w,h)", "alternatives");
        foreach (var c in reading.Characters)
        {
            table.AddRow(Markup.Escape(c.Label), c.Confidence.ToString("F3", CultureInfo.InvariantCulture), c.Box.ToString(),
                Markup.Escape(string.Join("  ", c.Alternatives.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.ClassName} {a.Score:F3}")))));
        }

        if (reading.Characters.Count > 0)
            AnsiConsole.Write(table);
        if (overlay is not null)
            AnsiConsole.MarkupLineInterpolated($"overlay: {overlay}");
    }

    private static void PrintForm(FileInfo image, IReadOnlyList<FormField> fields, string? overlay)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]{image.Name}[/]: {fields.Count} fields");
        if (fields.Count == 0)
            CliConsole.WriteWarning($"{image.Name}: no boxes with ink found: the page has no rectangles of long printed lines around handwriting.");
        var table = new Table().AddColumns("#", "box (x,y,w,h)", "kind", "text", "confidence");
        for (int i = 0; i < fields.Count; i++)
        {
            table.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), fields[i].Box.ToString(), fields[i].Kind.ToString(),
                Markup.Escape(fields[i].Reading.Text), fields[i].Reading.Confidence.ToString("P1", CultureInfo.InvariantCulture));
        }

        if (fields.Count > 0)
            AnsiConsole.Write(table);
        if (overlay is not null)
            AnsiConsole.MarkupLineInterpolated($"overlay: {overlay}");
    }

    private static object Box(FieldBox b) => new { x = b.X, y = b.Y, width = b.Width, height = b.Height };

    private static object Reading(FieldReading r) => new
    {
        text = r.Text,
        content = r.Content.ToString().ToLowerInvariant(),
        confidence = r.Confidence,
        characters = r.Characters.Select(c => new
        {
            box = Box(c.Box),
            label = c.Label,
            confidence = c.Confidence,
            alternatives = c.Alternatives.Select(a => new { label = a.ClassName, score = a.Score }),
        }),
    };

    private static int Evaluate(DirectoryInfo data, FileInfo? model, FileInfo? lineModel, FieldReaderOptions options, FieldKind? kind, DirectoryInfo? report, int worst,
        int skip = 0, int? first = null)
    {
        if (skip < 0 || first is < 1)
            throw new ArgumentException($"--skip {skip} --first {first}: --skip must be 0 or more and --first at least 1. Correct them and run the command again.");
        if (!data.Exists)
            throw new DirectoryNotFoundException($"The folder '{data.FullName}' does not exist. Pass a folder with labels.tsv.");
        if (worst < 0)
            throw new ArgumentException($"--worst {worst}: must be at least 0. Correct it and run the command again.");
        bool isForm = !File.Exists(Path.Combine(data.FullName, FieldEvaluation.LabelsFileName))
            && File.Exists(Path.Combine(data.FullName, FormReference.FileName));
        if (isForm && (skip != 0 || first is not null))
            throw new ArgumentException($"--skip and --first choose rows of {FieldEvaluation.LabelsFileName}, and '{data.FullName}' is a form folder ({FormReference.FileName}): its page is scored whole. Leave them out.");
        // The truth is checked before the model is loaded: a bad row is reported at once.
        var form = isForm ? FieldEvaluation.LoadFormReference(data.FullName) : null;
        var labelled = isForm ? null : FieldEvaluation.LoadLabels(data.FullName).Skip(skip).Take(first ?? int.MaxValue).ToList();
        if (labelled is { Count: 0 })
            throw new ArgumentException($"--skip {skip} leaves no rows of '{Path.Combine(data.FullName, FieldEvaluation.LabelsFileName)}' to score.");
        using var reader = LoadReader(model, lineModel, options);
        FieldEvaluationResult result;
        IReadOnlyList<FormField>? formFields = null;
        if (form is not null)
            (result, formFields) = FormReference.Evaluate(reader, form, kind);
        else
            result = FieldEvaluation.Evaluate(reader, labelled!, kind);
        // A field's error is a library message; the report and the table give it in the CLI's words.
        result = new FieldEvaluationResult([.. result.Fields.Select(f => f.Error is null ? f : f with { Error = CliVocabulary.InCliTerms(f.Error) })]);

        var table = new Table().AddColumns("what", "value");
        table.AddRow("fields", result.Fields.Count.ToString(CultureInfo.InvariantCulture));
        table.AddRow("character error rate", CharacterErrorRateText(result));
        table.AddRow("exact fields", $"{result.Fields.Count(f => f.Exact)} ({result.ExactRate.ToString("P2", CultureInfo.InvariantCulture)})");
        table.AddRow("errors", result.Fields.Count(f => f.Error is not null).ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        var curve = result.ErrorReject();
        foreach (double error in RoutingErrors)
            AnsiConsole.WriteLine(RoutingLine(curve, error));
        AnsiConsole.WriteLine(CalibrationLine(curve));

        if (report is not null)
            WriteReport(report, data, result, curve, worst, form?.PagePath, formFields);
        return 0;
    }

    /// <summary>The character error rate as a percentage; with no letter or digit in any truth it is 0 whatever was read, so not a score.</summary>
    private static string CharacterErrorRateText(FieldEvaluationResult result) => result.Fields.Any(f => f.Truth.Length > 0)
        ? result.CharacterErrorRate.ToString("P2", CultureInfo.InvariantCulture)
        : "n/a (no truth holds a letter or digit)";

    /// <summary>"accepts N of M fields (x %) at confidence ≥ t with y % field error", or why no threshold does.</summary>
    private static string RoutingLine(ErrorRejectCurve curve, double maxError) => curve.HighestCoverageAt(maxError) is { } p
        ? string.Create(CultureInfo.InvariantCulture,
            $"at ≤ {maxError:P0} field error: accepts {p.Accepted} of {p.Total} fields ({p.AcceptedShare:P1}) at confidence ≥ {p.Threshold:F3} with {p.Error:P2} field error")
        : string.Create(CultureInfo.InvariantCulture,
            $"at ≤ {maxError:P0} field error: no confidence threshold gets there (the most confident fields, at {curve.Points[0].Threshold:F3}, are {curve.Points[0].Error:P1} wrong); every field needs a person");

    private static string CalibrationLine(ErrorRejectCurve curve)
    {
        var (fields, right) = curve.RightAtOrAbove(CalibrationConfidence);
        return fields == 0
            ? string.Create(CultureInfo.InvariantCulture, $"calibration: no field was read at ≥ {CalibrationConfidence:P0} confidence")
            : string.Create(CultureInfo.InvariantCulture,
                $"calibration: {fields} fields read at ≥ {CalibrationConfidence:P0} confidence, {right} right ({(double)right / fields:P1})");
    }

    private static object PointJson(ErrorRejectPoint p) => new
    {
        threshold = p.Threshold, accepted = p.Accepted, acceptedShare = p.AcceptedShare, errors = p.Errors, fieldError = p.Error,
    };

    private static void WriteReport(DirectoryInfo report, DirectoryInfo data, FieldEvaluationResult result, ErrorRejectCurve curve, int worst, string? page, IReadOnlyList<FormField>? formFields)
    {
        Directory.CreateDirectory(report.FullName);
        AtomicFile.Write(Path.Combine(report.FullName, "fields.tsv"), temporary => File.WriteAllText(temporary, FieldEvaluation.ToTsv(result)));
        var calibration = curve.RightAtOrAbove(CalibrationConfidence);
        var metrics = new
        {
            data = data.Name,
            fields = result.Fields.Count,
            characterErrorRate = result.CharacterErrorRate,
            exactFields = result.Fields.Count(f => f.Exact),
            exactRate = result.ExactRate,
            errorReject = new
            {
                atMaxFieldError = RoutingErrors.Select(e => new { maxFieldError = e, point = curve.HighestCoverageAt(e) is { } p ? PointJson(p) : null }),
                atAcceptedShares = curve.AtTenths().Select(PointJson),
                calibration = new { minConfidence = CalibrationConfidence, fields = calibration.Fields, right = calibration.Right },
                curve = curve.Points.Select(PointJson),
            },
        };
        AtomicFile.Write(Path.Combine(report.FullName, "metrics.json"), temporary => File.WriteAllText(temporary, JsonSerializer.Serialize(metrics, Json)));
        curve.SaveChart(Path.Combine(report.FullName, "error-reject.png"), $"{data.Name}: field error against fields accepted");
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# Field reading: {data.Name}\n\n");
        md.Append(CultureInfo.InvariantCulture, $"- fields: {result.Fields.Count}\n- character error rate: {CharacterErrorRateText(result)}\n");
        md.Append(CultureInfo.InvariantCulture, $"- exact fields: {result.Fields.Count(f => f.Exact)} ({result.ExactRate:P2})\n\n");
        md.Append("Both texts are compared as upper-case letters and digits. The per-field table is `fields.tsv`, the figures `metrics.json`.\n\n");
        AppendErrorReject(md, curve);
        if (page is not null && formFields is not null)
        {
            FieldOverlay.Save(page, formFields, Path.Combine(report.FullName, "form.png"));
            md.Append("![form](form.png)\n\n");
        }

        md.Append("## Worst fields\n\n| image | truth | read | edits | confidence | overlay |\n|---|---|---|---:|---:|---|\n");
        var worstFields = result.Fields.Where(f => f.Distance > 0 || f.Error is not null)
            .OrderByDescending(f => f.Truth.Length == 0 ? f.Distance : (double)f.Distance / f.Truth.Length).ThenByDescending(f => f.Distance).Take(worst).ToArray();
        for (int i = 0; i < worstFields.Length; i++)
        {
            var f = worstFields[i];
            string name = Path.GetFileName(f.Field.ImagePath);
            string overlay = "";
            if (f.Reading is not null && page is null)
            {
                overlay = $"worst/{i + 1:D2}-{Path.GetFileNameWithoutExtension(name)}.png";
                FieldOverlay.Save(f.Field.ImagePath, f.Reading, Path.Combine(report.FullName, overlay));
                overlay = $"![{name}]({overlay})";
            }

            md.Append(CultureInfo.InvariantCulture, $"| {name} | {f.Truth} | {f.Read} | {f.Distance} | {f.Reading?.Confidence ?? 0:P0} | {overlay}{f.Error} |\n");
        }

        AtomicFile.Write(Path.Combine(report.FullName, "report.md"), temporary => File.WriteAllText(temporary, md.ToString()));
        AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(report.FullName, "report.md")}");
    }

    /// <summary>The report's error–reject section: the routing points, calibration, the curve at tenths of the fields, the chart.</summary>
    private static void AppendErrorReject(StringBuilder md, ErrorRejectCurve curve)
    {
        md.Append("## Error–reject\n\nFields read at a confidence or more are accepted unread; the rest go to a person. A field is wrong unless read exactly.\n\n");
        foreach (double error in RoutingErrors)
            md.Append("- ").Append(RoutingLine(curve, error)).Append('\n');
        md.Append("- ").Append(CalibrationLine(curve)).Append("\n\n");
        md.Append("| accepted | fields | confidence ≥ | field error |\n|---:|---:|---:|---:|\n");
        foreach (var p in curve.AtTenths().Distinct())
            md.Append(CultureInfo.InvariantCulture, $"| {p.AcceptedShare:P1} | {p.Accepted} | {p.Threshold:F3} | {p.Error:P2} |\n");
        md.Append("\n![error against fields accepted](error-reject.png)\n\n");
    }
}
