using System.IO.Compression;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// The CLI as a separate process, on a small image-folder set drawn here: no temporary files left behind, per-file
/// predict results, option errors with the CLI's names, --skip-bad-files and model load errors that say why.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("Cli")]
public sealed class CliHardeningTests
{
    private static readonly string[] Folders = ["dash", "pipe", "slash", "ring"];
    private string directory = "";
    private string data = "";
    private string model = "";
    private (int ExitCode, string Output) trainRun;
    private string[] trainTemporaryFiles = [];
    private string[] besideModel = [];

    private static string Cli => Path.Combine(TestEnvironment.OutputOf("src/Ocr.MLNet.Cli"), "ocr-mlnet.dll");

    [OneTimeSetUp]
    public void TrainWithTheCli()
    {
        directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-cli-hardening");
        data = Path.Combine(directory, "data");
        var rows = SyntheticGlyphs.Make(perClass: 12, seed: 3);
        for (int i = 0; i < rows.Count; i++)
        {
            string folder = Path.Combine(data, Folders[Array.IndexOf(SyntheticGlyphs.Classes, rows[i].Label)]);
            Directory.CreateDirectory(folder);
            SyntheticGlyphs.WritePng(Path.Combine(folder, $"{i}.png"), rows[i].Pixels);
        }

        model = Path.Combine(directory, "model.zip");
        string temp = EmptyFolder("train-tmp");
        trainRun = RunCli($"train --data \"{data}\" --model \"{model}\" --epochs 1 --batch-size 16 --validation-fraction 0 --device cpu", temp);
        trainTemporaryFiles = Leftovers(temp);
        besideModel = Directory.GetFiles(directory).Select(f => Path.GetFileName(f)).ToArray();
    }

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(directory, recursive: true);

    [Test]
    public void Train_saves_the_model_and_its_history_and_leaves_nothing_in_the_temporary_folder_or_beside_the_model()
    {
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        Assert.That(trainTemporaryFiles, Is.Empty, trainRun.Output);
        Assert.That(besideModel, Is.EquivalentTo(new[] { "model.zip", "model.history.json" }));
    }

    [Test]
    public void Predict_leaves_the_temporary_folder_empty_when_it_passes_and_when_the_model_is_bad()
    {
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        string image = Directory.GetFiles(Path.Combine(data, "ring"))[0];

        string passing = EmptyFolder("predict-pass-tmp");
        var run = RunCli($"predict --model \"{model}\" \"{image}\"", passing);
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(Leftovers(passing), Is.Empty, "a passing predict leaves nothing behind");

        string failing = EmptyFolder("predict-fail-tmp");
        run = RunCli($"predict --model \"{TamperedModel()}\" \"{image}\"", failing);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(Leftovers(failing), Is.Empty, "a predict whose model fails to load leaves nothing behind");
    }

    [Test]
    public void Predict_prints_a_row_per_file_the_error_for_a_bad_one_no_ink_for_a_blank_one_and_exits_non_zero()
    {
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        string good = Directory.GetFiles(Path.Combine(data, "ring"))[0];
        string broken = Path.Combine(directory, "broken.png");
        File.WriteAllText(broken, "not an image");
        string blank = SyntheticGlyphs.WritePng(Path.Combine(directory, "blank.png"), new float[32 * 32]);
        string missing = Path.Combine(directory, "missing.png");
        string bomb = Path.Combine(directory, "bomb.png");
        File.WriteAllBytes(bomb, PngBomb.Make(60000, 60000));

        var run = RunCli($"predict --model \"{model}\" \"{good}\" \"{broken}\" \"{blank}\" \"{missing}\" \"{bomb}\"", EmptyFolder("predict-rows-tmp"));
        TestContext.Out.WriteLine(run.Output);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        string[] lines = run.Output.Split('\n');
        Assert.That(lines.Single(l => l.Contains(Path.GetFileName(good), StringComparison.Ordinal)), Does.Match(@"(dash|pipe|slash|ring) \d\.\d{3}"), "the good file is classified");
        Assert.That(lines.Single(l => l.Contains("broken.png", StringComparison.Ordinal)), Does.Contain("error"));
        // Spectre wraps long cells: compare without whitespace and table borders.
        string squeezed = new(run.Output.Where(c => !char.IsWhiteSpace(c) && c != '│').ToArray());
        Assert.That(squeezed, Does.Contain($"Theimage'{broken}'isnotanimage".Replace(" ", "")), "a file that is not an image is named");
        Assert.That(squeezed, Does.Contain("declares60000×60000pixels"), "a decompression bomb is refused from its header, before decoding");
        Assert.That(lines.Single(l => l.Contains("blank.png", StringComparison.Ordinal)), Does.Contain("no ink"));
        Assert.That(lines.First(l => l.Contains("missing.png", StringComparison.Ordinal)), Does.Contain("error"));
        Assert.That(run.Output, Does.Contain("3 of 5 images could not be classified"));
    }

    [Test]
    public void Predict_with_a_tampered_network_names_the_file_and_the_inner_reason()
    {
        string tampered = TamperedModel();
        var run = RunCli($"predict --model \"{tampered}\" x.png", EmptyFolder("tampered-tmp"));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        string flat = string.Join(" ", run.Output.Split('\n', StringSplitOptions.TrimEntries));
        Assert.That(flat, Does.Contain($"'{tampered}' is not a readable Ocr.MLNet model:"));
        Assert.That(flat, Does.Not.Contain("model: Error during class instantiation"), "the inner reason comes first");
    }

    [Test]
    public void Train_reports_invalid_options_with_the_CLI_names_before_loading_any_data()
    {
        string nowhere = Path.Combine(directory, "no-such-data");
        var run = RunCli($"train --data \"{nowhere}\" --model \"{Path.Combine(directory, "x.zip")}\" --batch-size 0 --epochs 0 --augment-copies -1 --replicas 0", EmptyFolder("options-tmp"));
        string flat = string.Join(" ", run.Output.Split('\n', StringSplitOptions.TrimEntries));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(flat, Does.Contain("--batch-size 0: must be at least 1"));
        Assert.That(flat, Does.Contain("--replicas 0: must be at least 1"));
        Assert.That(flat, Does.Contain("--epochs 0: must be at least 1"));
        Assert.That(flat, Does.Not.Contain("BatchSize"));
        Assert.That(flat, Does.Not.Contain("does not exist"), "options are checked before the data directory");
    }

    [Test]
    public void Train_refuses_a_time_budget_that_is_not_a_duration()
    {
        var run = RunCli($"train --data \"{data}\" --model \"{Path.Combine(directory, "budget.zip")}\" --time-budget soon", EmptyFolder("budget-tmp"));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain("--time-budget soon: give a duration such as 25m, 90s or 1h, or 'none'."));
        Assert.That(File.Exists(Path.Combine(directory, "budget.zip")), Is.False);
    }

    [Test]
    public void Contact_sheet_stops_at_a_bad_image_suggesting_skip_bad_files_and_skips_it_with_the_option()
    {
        string dataWithBadFile = Path.Combine(directory, "with-bad-file");
        foreach (string file in Directory.GetFiles(data, "*.png", SearchOption.AllDirectories))
        {
            string target = Path.Combine(dataWithBadFile, Path.GetRelativePath(data, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        File.WriteAllText(Path.Combine(dataWithBadFile, "ring", "bad.png"), "not an image");
        string sheet = Path.Combine(directory, "sheet.png");

        var run = RunCli($"contact-sheet --data \"{dataWithBadFile}\" --out \"{sheet}\" --count 2 --copies 1", EmptyFolder("sheet-tmp"));
        string flat = string.Join(" ", run.Output.Split('\n', StringSplitOptions.TrimEntries));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(flat, Does.Contain("bad.png").And.Contain("--skip-bad-files"));

        run = RunCli($"contact-sheet --data \"{dataWithBadFile}\" --out \"{sheet}\" --count 2 --copies 1 --skip-bad-files", EmptyFolder("sheet-skip-tmp"));
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(File.Exists(sheet), Is.True);
    }

    [TestCase("train")]
    [TestCase("evaluate")]
    [TestCase("contact-sheet")]
    public void Skip_bad_files_lists_each_skipped_file_with_its_reason_and_then_the_count_on_standard_error(string command)
    {
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        string dataWithBadFiles = CopyOfData($"skip-{command}");
        string bad = Path.Combine(dataWithBadFiles, "ring", "bad.png");
        File.WriteAllText(bad, "not an image");
        string empty = Path.Combine(dataWithBadFiles, "empty");
        Directory.CreateDirectory(empty);
        string arguments = command switch
        {
            "train" => $"train --data \"{dataWithBadFiles}\" --model \"{Path.Combine(directory, $"skip-{Guid.NewGuid():N}.zip")}\" --epochs 1 --batch-size 16 --validation-fraction 0 --device cpu",
            "evaluate" => $"evaluate --model \"{model}\" --data \"{dataWithBadFiles}\"",
            _ => $"contact-sheet --data \"{dataWithBadFiles}\" --out \"{Path.Combine(directory, $"skip-{Guid.NewGuid():N}.png")}\" --count 2 --copies 1",
        };

        var run = RunCliWithStreamsApart($"{arguments} --skip-bad-files", EmptyFolder($"skip-{command}-tmp"));

        Assert.That(run.ExitCode, Is.Zero, run.StandardError);
        string[] errorLines = run.StandardError.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.That(errorLines, Has.One.Contains($"skipped '{bad}'").And.Contains("is not an image"), run.StandardError);
        Assert.That(errorLines, Has.One.Contains($"skipped '{empty}'").And.Contains("holds no image files"), run.StandardError);
        Assert.That(errorLines[^1], Is.EqualTo("--skip-bad-files: skipped 2 bad files or folders."), "the count comes last");
        Assert.That(run.StandardOutput, Does.Not.Contain("bad.png"), "the list is a warning, not a result");
    }

    [Test]
    public void Errors_go_to_standard_error_and_results_stay_on_standard_output()
    {
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        string good = Directory.GetFiles(Path.Combine(data, "ring"))[0];
        string missing = Path.Combine(directory, "missing.png");

        var run = RunCliWithStreamsApart($"predict --model \"{model}\" \"{good}\" \"{missing}\"", EmptyFolder("streams-tmp"));

        Assert.That(run.ExitCode, Is.EqualTo(1), run.StandardOutput + run.StandardError);
        Assert.That(run.StandardOutput, Does.Contain(Path.GetFileName(good)).And.Contain("missing.png"), "the table of results, a row per file");
        Assert.That(run.StandardOutput, Does.Not.Contain("error:"));
        Assert.That(run.StandardError.Trim(), Is.EqualTo("error: 1 of 2 images could not be classified (see the table above)."));

        run = RunCliWithStreamsApart($"predict --model \"{Path.Combine(directory, "no-such-model.zip")}\" \"{good}\"", EmptyFolder("streams-error-tmp"));

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.StandardOutput, Is.Empty, "a command that fails prints no result");
        Assert.That(run.StandardError, Does.StartWith("error: The model file").And.Contain("no-such-model.zip"));
    }

    [Test]
    public void Errors_name_the_CLI_flags_or_what_a_CLI_user_can_do_never_the_library_options()
    {
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        string Train(string options, string name) =>
            $"train --data \"{data}\" --model \"{Path.Combine(directory, $"{name}-{Guid.NewGuid():N}.zip")}\" --epochs 1 {options}";
        string[] libraryNames = ["SkipBadFiles", "MaxImagePixels", "CheckpointDirectory", "ValidationData", "ValidationFraction", "EarlyStoppingMonitor", "BatchSize", "Device ="];

        string dataWithBomb = CopyOfData("with-bomb");
        File.WriteAllBytes(Path.Combine(dataWithBomb, "ring", "bomb.png"), PngBomb.Make(60000, 60000));
        var bomb = RunCliWithStreamsApart($"contact-sheet --data \"{dataWithBomb}\" --out \"{Path.Combine(directory, "bomb-sheet.png")}\"", EmptyFolder("bomb-tmp"));
        Assert.That(bomb.ExitCode, Is.EqualTo(1), bomb.StandardError);
        Assert.That(bomb.StandardError, Does.Contain("bomb.png").And.Contain("scale it down").And.Contain("pass --skip-bad-files"));
        var predictBomb = RunCliWithStreamsApart($"predict --model \"{model}\" \"{Path.Combine(dataWithBomb, "ring", "bomb.png")}\"", EmptyFolder("predict-bomb-tmp"));
        // Spectre wraps long cells: compare without whitespace and table borders.
        string squeezed = new(predictBomb.StandardOutput.Where(c => !char.IsWhiteSpace(c) && c != '│').ToArray());
        Assert.That(squeezed, Does.Contain("scaleitdowntoatmost16,777,216pixels"), predictBomb.StandardOutput);
        Assert.That(predictBomb.StandardOutput, Does.Not.Contain("MaxImagePixels"));

        var patience = RunCliWithStreamsApart(Train("--patience 2 --validation-fraction 0 --holdout-per-class 0 --device cpu", "patience"), EmptyFolder("patience-tmp"));
        Assert.That(patience.ExitCode, Is.EqualTo(1), patience.StandardError);
        Assert.That(patience.StandardError, Does.Contain("--patience 2").And.Contain("--holdout-per-class"));

        var cuda = RunCliWithStreamsApart(Train("--batch-size 16 --validation-fraction 0 --holdout-per-class 0 --device cuda", "cuda"), EmptyFolder("cuda-tmp"));
        Assert.That(cuda.ExitCode, Is.EqualTo(1), cuda.StandardError);
        Assert.That(cuda.StandardError, Does.Contain("--device Cuda").And.Contain("pass --device Auto or Cpu"));

        string checkpoints = Path.Combine(directory, $"checkpoints-{Guid.NewGuid():N}");
        var first = RunCliWithStreamsApart(Train($"--batch-size 16 --validation-fraction 0 --holdout-per-class 0 --device cpu --checkpoint-dir \"{checkpoints}\"", "first"), EmptyFolder("checkpoint-tmp"));
        Assert.That(first.ExitCode, Is.Zero, first.StandardError);
        var otherRun = RunCliWithStreamsApart(Train($"--batch-size 8 --validation-fraction 0 --holdout-per-class 0 --device cpu --checkpoint-dir \"{checkpoints}\"", "other"), EmptyFolder("checkpoint-tmp"));
        Assert.That(otherRun.ExitCode, Is.EqualTo(1), otherRun.StandardError);
        Assert.That(otherRun.StandardError, Does.Contain("--batch-size: checkpoint 16, now 8").And.Contain("Use another --checkpoint-dir"));

        foreach (var run in new[] { bomb, patience, cuda, otherRun })
        {
            foreach (string name in libraryNames)
                Assert.That(run.StandardError, Does.Not.Contain(name), run.StandardError);
        }
    }

    [Test]
    public void Patience_trains_on_the_held_out_split_without_a_validation_fraction()
    {
        // --holdout-per-class validates, though the trainer is only given that split once the data is loaded.
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        var run = RunCliWithStreamsApart($"train --data \"{data}\" --model \"{Path.Combine(directory, "patience-holdout.zip")}\" --epochs 1 --batch-size 16 --device cpu "
            + "--validation-fraction 0 --holdout-per-class 2 --patience 2", EmptyFolder("patience-holdout-tmp"));

        Assert.That(run.ExitCode, Is.Zero, run.StandardError);
        Assert.That(run.StandardOutput, Does.Contain("val_loss"));
    }

    [TestCase("predict")]
    [TestCase("upgrade")]
    [TestCase("read")]
    [TestCase("evaluate")]
    public void A_model_zip_with_a_damaged_central_directory_is_named_with_what_to_do(string command)
    {
        Assert.That(trainRun.ExitCode, Is.Zero, trainRun.Output);
        string damaged = Path.Combine(directory, $"damaged-directory-{command}.zip");
        byte[] bytes = File.ReadAllBytes(model);
        // .NET reads the central directory when it lists the entries, after the zip has opened.
        bytes[bytes.AsSpan().LastIndexOf("PK\u0001\u0002"u8) + 1] ^= 0xFF;
        File.WriteAllBytes(damaged, bytes);
        string image = Directory.GetFiles(Path.Combine(data, "ring"))[0];
        string upgraded = Path.Combine(directory, $"upgraded-{command}.zip");
        string arguments = command switch
        {
            "predict" => $"predict --model \"{damaged}\" \"{image}\"",
            "upgrade" => $"upgrade --model \"{damaged}\" --out \"{upgraded}\"",
            "read" => $"read --model \"{damaged}\" \"{image}\"",
            _ => $"evaluate --model \"{damaged}\" --data \"{data}\"",
        };

        var run = RunCliWithStreamsApart(arguments, EmptyFolder($"damaged-{command}-tmp"));

        Assert.That(run.ExitCode, Is.EqualTo(1), run.StandardError);
        Assert.That(run.StandardError, Does.StartWith($"error: '{damaged}' is not a readable Ocr.MLNet model: its zip is damaged (")
            .And.Contain("train and save the model again"));
        Assert.That(File.Exists(upgraded), Is.False);
    }

    [Test]
    public void Evaluate_fields_matches_reference_rows_to_the_boxes_by_their_field_numbers_in_any_order()
    {
        // The 28 digit boxes of the NIST form in samples/images are fields 03–30; the rows are written last field first.
        string[] texts =
        [
            "0123456789", "0123456789", "0123456789", "16", "899", "0124", "43744", "403875", "821", "7358", "55925", "116213", "86",
            "4949", "20044", "625502", "80", "681", "79192", "676687", "49", "213", "3055", "803797", "02", "791", "3678", "03536",
        ];
        string form = FormFolder("reversed", texts.Select((text, i) => $"{i + 3:D2}\t{text}").Reverse());

        var run = RunCliWithStreamsApart($"evaluate-fields --data \"{form}\" --kind digits", EmptyFolder("reversed-tmp"));

        Assert.That(run.ExitCode, Is.Zero, run.StandardError);
        var exact = System.Text.RegularExpressions.Regex.Match(run.StandardOutput, @"exact fields\s*│\s*(\d+)");
        Assert.That(exact.Success, run.StandardOutput);
        Assert.That(int.Parse(exact.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(26), run.StandardOutput);
    }

    [Test]
    public void Evaluate_fields_refuses_a_reference_it_cannot_score_naming_the_row_before_loading_a_model()
    {
        string form = FormFolder("conflicting", ["03\t0123456789", "04\t16", "03\t0123456788"]);

        var run = RunCliWithStreamsApart($"evaluate-fields --data \"{form}\"", EmptyFolder("conflicting-tmp"));

        Assert.That(run.ExitCode, Is.EqualTo(1), run.StandardError);
        Assert.That(run.StandardError, Does.Contain(Path.Combine(form, "reference.tsv")).And.Contain("lines 2 and 4 give field 03 two texts"));
        Assert.That(run.StandardError, Does.Not.Contain("Using the pretrained model"), "the reference is checked first");
        Assert.That(run.StandardOutput, Is.Empty);

        run = RunCliWithStreamsApart($"evaluate-fields --data \"{FormFolder("skipped", ["03\t0123456789"])}\" --skip 1", EmptyFolder("form-skip-tmp"));

        Assert.That(run.ExitCode, Is.EqualTo(1), run.StandardError);
        Assert.That(run.StandardError, Does.Contain("--skip and --first choose rows of labels.tsv"));
    }

    [Test]
    public void Evaluate_fields_gives_no_character_error_rate_when_no_truth_holds_a_character()
    {
        string form = FormFolder("no-characters", ["03\t-"]);

        var run = RunCliWithStreamsApart($"evaluate-fields --data \"{form}\" --kind digits", EmptyFolder("no-characters-tmp"));

        Assert.That(run.ExitCode, Is.Zero, run.StandardError);
        Assert.That(run.StandardOutput, Does.Match(@"character error rate\s*│\s*n/a \(no truth holds a letter or digit\)"));
        Assert.That(run.StandardError, Does.Contain("28 boxes found on the page, and reference.tsv gives 1 (fields 3–3)"));
    }

    [Test]
    public void Read_writes_one_overlay_per_image_when_two_images_share_a_name_and_never_over_an_image()
    {
        string hsf = Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "hsf");
        string folder = Path.Combine(directory, $"overlays-{Guid.NewGuid():N}");
        string first = Path.Combine(folder, "d1", "x.png"), second = Path.Combine(folder, "d2", "x.png");
        Directory.CreateDirectory(Path.GetDirectoryName(first)!);
        Directory.CreateDirectory(Path.GetDirectoryName(second)!);
        File.Copy(Path.Combine(hsf, "field-403875.png"), first);
        File.Copy(Path.Combine(hsf, "field-0123456789.png"), second);
        string overlay = Path.Combine(folder, "out", "ov.png");

        var run = RunCliWithStreamsApart($"read \"{first}\" \"{second}\" --kind digits --overlay \"{overlay}\"", EmptyFolder("overlays-tmp"));

        Assert.That(run.ExitCode, Is.Zero, run.StandardError);
        string firstOverlay = Path.Combine(folder, "out", "ov.1.x.png"), secondOverlay = Path.Combine(folder, "out", "ov.2.x.png");
        Assert.That(Directory.GetFiles(Path.Combine(folder, "out")), Is.EquivalentTo(new[] { firstOverlay, secondOverlay }));
        Assert.That(File.ReadAllBytes(firstOverlay), Is.Not.EqualTo(File.ReadAllBytes(secondOverlay)), "each image's own overlay");
        Assert.That(run.StandardOutput, Does.Contain($"overlay: {firstOverlay}").And.Contain($"overlay: {secondOverlay}"));

        // "ov.x.png" is the overlay name of "x.png" beside it: refused before anything is read or written.
        string image = Path.Combine(folder, "ov.x.png");
        File.Copy(first, image);
        byte[] before = File.ReadAllBytes(image);
        run = RunCliWithStreamsApart($"read \"{first}\" \"{image}\" --overlay \"{Path.Combine(folder, "ov.png")}\"", EmptyFolder("overlay-clash-tmp"));

        Assert.That(run.ExitCode, Is.EqualTo(1), run.StandardError);
        Assert.That(run.StandardError, Does.Contain($"the overlay '{image}' would replace one of the images read"));
        Assert.That(File.ReadAllBytes(image), Is.EqualTo(before));
    }

    /// <summary>A form folder: the NIST form's digit boxes (samples/images) and a reference.tsv of <paramref name="rows"/>.</summary>
    private string FormFolder(string name, IEnumerable<string> rows)
    {
        string folder = Path.Combine(directory, $"form-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "hsf", "digit-boxes.png"), Path.Combine(folder, "page.png"));
        File.WriteAllLines(Path.Combine(folder, "reference.tsv"), ["field\ttext", .. rows]);
        return folder;
    }

    /// <summary>A copy of the training images in a new folder, to add bad files to.</summary>
    private string CopyOfData(string name)
    {
        string copy = Path.Combine(directory, $"{name}-{Guid.NewGuid():N}");
        foreach (string file in Directory.GetFiles(data, "*.png", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy, Path.GetRelativePath(data, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    /// <summary>A copy of the model whose ONNX network is replaced by junk (a valid zip, so only the network is wrong).</summary>
    private string TamperedModel()
    {
        string tampered = Path.Combine(directory, $"tampered-{Guid.NewGuid():N}.zip");
        File.Copy(model, tampered);
        using var zip = ZipFile.Open(tampered, ZipArchiveMode.Update);
        var onnx = zip.Entries.OrderByDescending(e => e.Length).First();
        string name = onnx.FullName;
        onnx.Delete();
        using var writer = zip.CreateEntry(name).Open();
        writer.Write(Enumerable.Range(0, 4096).Select(i => (byte)(i * 37)).ToArray());
        return tampered;
    }

    /// <summary>
    /// What a run left in its temporary folder, except ONNX Runtime's telemetry session file: a 51-byte <c>.ses</c> that the
    /// native runtime writes on start-up under one fixed name, reused by every later run (it does not accumulate).
    /// </summary>
    private static string[] Leftovers(string folder) =>
        Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories);

    private string EmptyFolder(string name)
    {
        string path = Path.Combine(directory, "tmp", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs the CLI with <c>TMPDIR</c> pointing at <paramref name="temporaryFolder"/> (the runtime's diagnostics socket turned off, as it lives there too).</summary>
    private (int ExitCode, string Output) RunCli(string arguments, string temporaryFolder) =>
        TestEnvironment.Run("dotnet", $"\"{Cli}\" {arguments}", directory, TimeSpan.FromMinutes(3), CliEnvironment(temporaryFolder));

    /// <summary>As <see cref="RunCli"/>, with standard output (results) and standard error (errors, warnings) apart.</summary>
    private (int ExitCode, string StandardOutput, string StandardError) RunCliWithStreamsApart(string arguments, string temporaryFolder) =>
        TestEnvironment.RunWithStreamsApart("dotnet", $"\"{Cli}\" {arguments}", directory, TimeSpan.FromMinutes(3), CliEnvironment(temporaryFolder));

    private static Dictionary<string, string> CliEnvironment(string temporaryFolder) =>
        new() { ["TMPDIR"] = temporaryFolder, ["DOTNET_EnableDiagnostics"] = "0" };
}
