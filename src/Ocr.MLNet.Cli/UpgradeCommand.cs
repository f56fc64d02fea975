using System.CommandLine;
using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary>
/// <c>ocr-mlnet upgrade</c>: re-saves a model zip that reads image files with this version's image preparation in front of
/// its unchanged scorer, so an older model gets the faster preparation graph (its results are the same: the graphs
/// are tested equal).
/// </summary>
internal static class UpgradeCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The model zip to upgrade (from ocr-mlnet train).", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Where to write the upgraded zip (default: replace --model, atomically)." };
        var command = new Command("upgrade", "Re-save a model zip with this version's image preparation in front of its unchanged network (same scores, faster).") { model, output };
        command.SetAction(result => CliErrors.Guard(() => CliContext.Run(mlContext => Upgrade(mlContext, result.GetValue(model)!, result.GetValue(output)))));
        return command;
    }

    private static int Upgrade(MLContext mlContext, FileInfo modelFile, FileInfo? outputFile)
    {
        // The scorer (network and key mapping) is kept as it was saved; only the steps in front of it are rebuilt.
        var scorer = mlContext.Model.LoadCharacterModel(modelFile.FullName, CharacterModelInput.Pixels);
        string target = (outputFile ?? modelFile).FullName;
        CliModels.SaveForImageFiles(mlContext, scorer, target);
        AnsiConsole.MarkupLineInterpolated($"Saved [bold]{target}[/]: this version's image preparation in front of the network of {modelFile.FullName}.");
        return 0;
    }
}
