using System.CommandLine;
using Microsoft.ML.Data;
using Ocr.MLNet.IO;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Training;
using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary>
/// <c>ocr-mlnet upgrade</c>: re-saves a model zip that reads image files with this version's image preparation in front of
/// its unchanged scorer, so an older model gets the faster preparation graph (its results are the same: the graphs
/// are tested equal). With <c>--int8-calibration</c> it also measures the network's activation ranges on training images
/// and saves them with it, as the trainer now does, so that the field reader can score an older model in int8. A line model
/// (from <c>train-fields</c>) saved with the float planes is re-saved reading them as bytes, its graph unchanged behind them.
/// </summary>
internal static class UpgradeCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The model zip to upgrade (from ocr-mlnet train).", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Where to write the upgraded zip (default: replace --model, atomically)." };
        var calibration = new Option<DirectoryInfo?>("--int8-calibration")
        {
            Description = "Images like the ones the model was trained on (an EMNIST folder, a NIST SD19 by_class folder or an image folder tree, as train --data reads): "
                + $"measure the network's activation ranges on {Int8Quantization.CalibrationImages:N0} of them, spread over the set, and save them with it, so the field reader can score it in int8. Models trained by this version have them already.",
        };
        var split = new Option<string?>("--split") { Description = "With --int8-calibration on an EMNIST folder that holds several splits: the split to read (e.g. train)." };
        var command = new Command("upgrade", "Re-save a model zip with this version's image preparation in front of its unchanged network (same scores, faster); --int8-calibration adds the ranges for int8 scoring.")
        {
            model, output, calibration, split,
        };
        command.SetAction(result => CliErrors.Guard(() => CliContext.Run(mlContext =>
            Upgrade(mlContext, result.GetValue(model)!, result.GetValue(output), result.GetValue(calibration), result.GetValue(split)))));
        return command;
    }

    private static int Upgrade(MLContext mlContext, FileInfo modelFile, FileInfo? outputFile, DirectoryInfo? calibration, string? split)
    {
        if (split is not null && calibration is null)
            throw new ArgumentException("--split chooses the EMNIST split of --int8-calibration; pass --int8-calibration too, or leave --split out.");
        string target = (outputFile ?? modelFile).FullName;
        if (LineRecognizerModel.IsLineModel(modelFile.FullName))
            return UpgradeLineModel(mlContext, modelFile, target, calibration);
        if (calibration is null)
        {
            // The scorer (network and key mapping) is kept as it was saved; only the steps in front of it are rebuilt.
            CliModels.SaveForImageFiles(mlContext, mlContext.Model.LoadCharacterModel(modelFile.FullName, CharacterModelInput.Pixels), target);
            AnsiConsole.MarkupLineInterpolated($"Saved [bold]{target}[/]: this version's image preparation in front of the network of {modelFile.FullName}.");
            return 0;
        }

        // The same network with its ranges in the metadata, behind this version's scorer, as the trainer builds it.
        byte[] network = CharacterModelLoader.ReadNetwork(modelFile.FullName);
        var (data, description) = DataSources.Load(mlContext, calibration.FullName, split, maxRows: null);
        var (pixels, images) = CalibrationSample(data, calibration.FullName);
        byte[] withRanges = Int8Quantization.WithActivationRanges(network, pixels, CharacterFormat.PixelCount);
        CliModels.SaveForImageFiles(mlContext, ScoringChain.Build(mlContext, withRanges), target);
        AnsiConsole.MarkupLineInterpolated(
            $"Saved [bold]{target}[/]: the network of {modelFile.FullName} with its activation ranges, measured on {images:N0} images of {description} in {calibration.FullName}, behind this version's image preparation.");
        return 0;
    }

    /// <summary>A line model re-saved with the byte-plane input in front of its unchanged graph (models saved before read floats).</summary>
    private static int UpgradeLineModel(MLContext mlContext, FileInfo modelFile, string target, DirectoryInfo? calibration)
    {
        if (calibration is not null)
            throw new ArgumentException($"'{modelFile.FullName}' is a line model; --int8-calibration is for character models. Leave it out.");
        byte[] onnx;
        using (var stream = BoundedFile.OpenRead(modelFile.FullName))
            onnx = LineRecognizerModel.ReadOnnx(stream, modelFile.FullName);
        var paths = mlContext.Data.LoadFromEnumerable(Array.Empty<CharacterImagePath>());
        var loader = mlContext.Transforms.LoadImages(CharacterFormat.ImageColumnName, imageFolder: null, CharacterFormat.ImagePathColumnName).Fit(paths);
        var scorer = LineRecognizerModel.BuildChain(MLNetInterop.EnvironmentOf(mlContext.Model), LineOnnxExporter.WithBytePlanes(onnx), CharacterFormat.ImageColumnName);
        try
        {
            AtomicFile.Write(target, temporary => mlContext.Model.Save(loader.Append(scorer), paths.Schema, temporary));
        }
        finally
        {
            (scorer as IDisposable)?.Dispose();
        }

        AnsiConsole.MarkupLineInterpolated($"Saved [bold]{target}[/]: the line model of {modelFile.FullName}, reading its images' planes as bytes (the same scores).");
        return 0;
    }

    /// <summary>Up to <see cref="Int8Quantization.CalibrationImages"/> images' pixels, spread evenly over the data's rows.</summary>
    private static (float[] Pixels, int Images) CalibrationSample(IDataView data, string folder)
    {
        if (data.Schema.GetColumnOrNull(CharacterFormat.PixelsColumnName) is null)
            throw new InvalidDataException($"The data in '{folder}' has no '{CharacterFormat.PixelsColumnName}' column to measure the network on; pass the folder of training images.");
        long rows = data.GetRowCount() ?? CountRows(data);
        if (rows == 0)
            throw new InvalidDataException($"'{folder}' holds no images to measure the network's activation ranges on; pass the folder of training images.");
        long stride = Math.Max(1, rows / Int8Quantization.CalibrationImages);
        var pixels = new List<float>();
        int images = 0;
        long row = 0;
        foreach (float[] image in data.GetColumn<float[]>(CharacterFormat.PixelsColumnName))
        {
            if (row++ % stride != 0)
                continue;
            pixels.AddRange(image);
            if (++images == Int8Quantization.CalibrationImages)
                break;
        }

        return ([.. pixels], images);
    }

    private static long CountRows(IDataView data)
    {
        long rows = 0;
        using var cursor = data.GetRowCursor([]);
        while (cursor.MoveNext())
            rows++;
        return rows;
    }
}
