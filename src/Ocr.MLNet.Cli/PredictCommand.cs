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
        var loaded = CharacterModelFile.Load(mlContext, modelFile.FullName);
        if (!loaded.InputSchema.Any(c => c.Name == CharacterImagePipeline.ImagePathColumnName))
        {
            throw new InvalidDataException(
                $"The model '{modelFile.FullName}' reads column(s) {string.Join(", ", loaded.InputSchema.Select(c => $"'{c.Name}'"))}, not image file paths ('{CharacterImagePipeline.ImagePathColumnName}'). Use a model saved by 'ocr-mlnet train'.");
        }

        var missing = images.Where(i => !i.Exists).Select(i => i.FullName).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException($"Image file(s) not found: {string.Join(", ", missing)}.");

        var engine = mlContext.Model.CreatePredictionEngine<ImageInput, Prediction>(loaded.Model);
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

            var top = prediction.Score.Select((score, index) => (score, index)).OrderByDescending(p => p.score).Take(3)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{loaded.ClassNames[p.index]} {p.score:F3}"));
            table.AddRow(Markup.Escape(image.Name), Markup.Escape(prediction.PredictedLabel), Markup.Escape(string.Join("  ", top)));
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

        public string PredictedLabel { get; set; } = "";
    }
}
