using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary><c>ocr-mlnet predict</c>: label and top-3 scores per image file.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The model zip (from ocr-mlnet train).", Required = true };
        var images = new Argument<FileInfo[]>("IMAGE") { Description = "Image files (PNG or JPEG).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify image files: label and top-3 scores per image.") { model, images };
        command.SetAction(result => CliErrors.Guard(() => Predict(result.GetValue(model)!, result.GetValue(images)!)));
        return command;
    }

    private static int Predict(FileInfo modelFile, FileInfo[] images)
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.LoadCharacterModel(modelFile.FullName, CharacterModelInput.ImagePath);

        var missing = images.Where(i => !i.Exists).Select(i => i.FullName).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException($"Image file(s) not found: {string.Join(", ", missing)}.");

        using var engine = mlContext.Model.CreatePredictionEngine<ImageInput, Prediction>(model);
        var classNames = CharacterScores.GetClassNames(engine.OutputSchema);
        var table = new Table().AddColumns("image", "label", "top 3");
        foreach (var image in images)
        {
            Prediction prediction;
            try
            {
                prediction = engine.Predict(new ImageInput { ImagePath = image.FullName });
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
            {
                throw new InvalidDataException($"Could not classify '{image.FullName}': {e.Message} Check that it is a readable PNG or JPEG image.", e);
            }

            var top = CharacterScores.TopK(prediction.Score, classNames, 3)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.ClassName} {p.Score:F3}"));
            table.AddRow(Markup.Escape(image.Name), Markup.Escape(prediction.PredictedCharacter), Markup.Escape(string.Join("  ", top)));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    private sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class Prediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedCharacter { get; set; } = "";
    }
}
