using System.CommandLine;
using System.Globalization;
using SkiaSharp;
using Spectre.Console;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Cli;

/// <summary>
/// <c>ocr-mlnet contact-sheet</c>: a PNG grid of images as the network sees them (EMNIST, SD19 or an image
/// folder, after the loader's preprocessing) and their augmented copies, one row per image
/// (the original, a gap, then the copies), scaled up so a person can judge the augmentation ranges.
/// </summary>
internal static class ContactSheetCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "EMNIST IDX files, a NIST SD19 by_class tree, or an image folder tree.", Required = true };
        var split = new Option<string?>("--split") { Description = "Split part of the file names; found automatically when the directory holds one." };
        var output = new Option<FileInfo>("--out") { Description = "The PNG file to write.", Required = true };
        var count = new Option<int>("--count") { Description = "Images (rows) on the sheet.", DefaultValueFactory = _ => 8 };
        var copies = new Option<int>("--copies") { Description = "Augmented copies per image (columns after the original).", DefaultValueFactory = _ => 5 };
        var scale = new Option<int>("--scale") { Description = "Each pixel becomes scale×scale pixels.", DefaultValueFactory = _ => 3 };
        var seed = new Option<int>("--seed") { Description = "Seed of the perturbations.", DefaultValueFactory = _ => ImageAugmentationOptions.DefaultSeed };
        var rotation = new Option<double>("--rotation") { Description = "Rotation range in degrees (±).", DefaultValueFactory = _ => ImageAugmentationOptions.DefaultRotationDegrees };
        var shift = new Option<double>("--shift") { Description = "Shift range as a fraction of the size (±).", DefaultValueFactory = _ => ImageAugmentationOptions.DefaultShiftFraction };
        var zoom = new Option<double>("--zoom") { Description = "Zoom range (factor in 1 ± zoom).", DefaultValueFactory = _ => ImageAugmentationOptions.DefaultZoomRange };
        var shear = new Option<double>("--shear") { Description = "Shear range in degrees (±).", DefaultValueFactory = _ => ImageAugmentationOptions.DefaultShearDegrees };
        var elasticAlpha = new Option<double>("--elastic-alpha") { Description = "Elastic distortion strength in pixels (0 = off; Simard et al. used 34).", DefaultValueFactory = _ => ImageAugmentationOptions.DefaultElasticAlpha };
        var elasticSigma = new Option<double>("--elastic-sigma") { Description = "Smoothing of the elastic displacement field in pixels.", DefaultValueFactory = _ => ImageAugmentationOptions.DefaultElasticSigma };
        var skipBadFiles = DataSources.SkipBadFilesOption();
        var command = new Command("contact-sheet", "Write a PNG of images after preprocessing (first column) and their augmented copies, to look at both.")
        {
            data, split, output, count, copies, scale, seed, rotation, shift, zoom, shear, elasticAlpha, elasticSigma, skipBadFiles,
        };
        command.SetAction(result => CliErrors.Guard(() =>
        {
            var options = new ImageAugmentationOptions
            {
                Seed = result.GetValue(seed),
                RotationDegrees = result.GetValue(rotation),
                ShiftFraction = result.GetValue(shift),
                ZoomRange = result.GetValue(zoom),
                ShearDegrees = result.GetValue(shear),
                ElasticAlpha = result.GetValue(elasticAlpha),
                ElasticSigma = result.GetValue(elasticSigma),
            };
            return Write(result.GetValue(data)!, result.GetValue(split), result.GetValue(output)!, result.GetValue(count),
                result.GetValue(copies), result.GetValue(scale), options, result.GetValue(skipBadFiles));
        }));
        return command;
    }

    /// <summary>The augmentation options' names and the CLI's, for errors that name what the user typed.</summary>
    private static readonly IReadOnlyDictionary<string, string> OptionNames = new Dictionary<string, string>
    {
        [nameof(ImageAugmentationOptions.Seed)] = "--seed",
        [nameof(ImageAugmentationOptions.RotationDegrees)] = "--rotation",
        [nameof(ImageAugmentationOptions.ShiftFraction)] = "--shift",
        [nameof(ImageAugmentationOptions.ZoomRange)] = "--zoom",
        [nameof(ImageAugmentationOptions.ShearDegrees)] = "--shear",
        [nameof(ImageAugmentationOptions.ElasticAlpha)] = "--elastic-alpha",
        [nameof(ImageAugmentationOptions.ElasticSigma)] = "--elastic-sigma",
    };

    private static int Write(DirectoryInfo dataDirectory, string? split, FileInfo output, int count, int copies, int scale, ImageAugmentationOptions options, bool skipBadFiles)
    {
        var problems = new List<string>();
        if (count < 1)
            problems.Add($"--count must be at least 1; got {count}");
        if (copies < 0)
            problems.Add($"--copies must be 0 or more; got {copies}");
        if (scale is < 1 or > 16)
            problems.Add($"--scale must be in 1..16; got {scale}");
        if (problems.Count > 0)
            throw new ArgumentException(string.Join("; ", problems) + ".");
        CliOptionErrors.Validate(options.Validate, OptionNames);
        return CliContext.Run(mlContext => Write(mlContext, dataDirectory, split, output, count, copies, scale, options, skipBadFiles));
    }

    private static int Write(MLContext mlContext, DirectoryInfo dataDirectory, string? split, FileInfo output, int count, int copies, int scale,
        ImageAugmentationOptions options, bool skipBadFiles)
    {
        // A seeded sample across the whole set, so folder-ordered data (SD19) shows more than its first class.
        var (all, _) = DataSources.Load(mlContext, dataDirectory.FullName, split, maxRows: null, skipBadFiles);
        var images = mlContext.Data.TakeRows(mlContext.Data.ShuffleRows(all, seed: options.Seed), count);
        var augmented = mlContext.Data.AugmentImages(images, copies, options);
        var rows = mlContext.Data.CreateEnumerable<Row>(augmented, reuseRowObject: false).ToList();
        int imageCount = rows.Count / (1 + copies);

        var sheet = Enumerable.Range(0, imageCount)
            .Select(i => (IReadOnlyList<float[]>)rows.Skip(i * (1 + copies)).Take(1 + copies).Select(r => r.Pixels).ToArray())
            .ToList();
        var (width, height) = ContactSheet.Save(output.FullName, sheet, scale);

        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {output.FullName}: {imageCount} rows (labels {string.Join(" ", rows.Where((_, r) => r % (1 + copies) == 0).Select(r => r.Label))}), each the original then {copies} augmented copies, {width}×{height} pixels."));
        return 0;
    }

    private sealed class Row
    {
        public string Label { get; set; } = "";

        public float[] Pixels { get; set; } = [];
    }
}
