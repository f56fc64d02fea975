using System.CommandLine;
using System.Globalization;
using Microsoft.ML.Data;
using Ocr.MLNet.Preparation;
using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary><c>ocr-mlnet predict</c>: label and top-3 scores per image file.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = CliModels.ModelOption();
        var images = new Argument<FileInfo[]>("IMAGE") { Description = "Image files (PNG or JPEG).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify image files: label and top-3 scores per image.") { model, images };
        command.SetAction(result => CliErrors.Guard(() => Predict(result.GetValue(model), result.GetValue(images)!)));
        return command;
    }

    private static int Predict(FileInfo? modelFile, FileInfo[] images) =>
        CliContext.Run(mlContext => Predict(mlContext, modelFile, images));

    /// <summary>
    /// One row per image: its label and top 3, "no ink" for a blank image, "noise" for one without strokes, or why it could
    /// not be read; exit 1 if any could not. Images are decoded by the library (size caps, truncation, EXIF orientation),
    /// not by the saved model's LoadImages, so every command reads a file the same way.
    /// </summary>
    private static int Predict(MLContext mlContext, FileInfo? modelFile, FileInfo[] images)
    {
        using var model = (IDisposable)CliModels.Load(mlContext, modelFile, CharacterModelInput.Image);
        using var engine = mlContext.Model.CreatePredictionEngine<CharacterImage, CharacterPrediction>((ITransformer)model,
            new PredictionEngineOptions { OwnsTransformer = false });
        var classNames = CharacterScores.GetClassNames(engine.OutputSchema);
        var table = new Table().AddColumns("image", "label", "top 3");
        int failed = 0;
        foreach (var image in images)
        {
            CharacterPrediction prediction;
            try
            {
                using var decoded = ImageFiles.Load(image.FullName);
                switch (InkCheck.Inspect(decoded))
                {
                    case ImageContent.Blank:
                        table.AddRow(Markup.Escape(image.Name), "[yellow]no ink[/]", "the image is blank; nothing to classify");
                        continue;
                    case ImageContent.Noise:
                        table.AddRow(Markup.Escape(image.Name), "[yellow]noise[/]", "the image holds scattered dots, not strokes; nothing to classify");
                        continue;
                }

                prediction = engine.Predict(new CharacterImage { Image = decoded });
            }
            catch (CharacterDataException e)
            {
                failed++;
                table.AddRow(Markup.Escape(image.Name), "[red]error[/]", Markup.Escape(CliVocabulary.InCliTerms(e.Message)));
                continue;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                failed++;
                table.AddRow(Markup.Escape(image.Name), "[red]error[/]",
                    Markup.Escape(CliVocabulary.InCliTerms($"Could not classify '{image.FullName}': {e.Message} Check that it is a readable PNG or JPEG image.")));
                continue;
            }

            var top = prediction.TopK(classNames)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.ClassName} {p.Score:F3}"));
            table.AddRow(Markup.Escape(image.Name), Markup.Escape(prediction.PredictedCharacter), Markup.Escape(string.Join("  ", top)));
        }

        AnsiConsole.Write(table);
        if (failed == 0)
            return 0;
        CliConsole.WriteError($"{failed} of {images.Length} images could not be classified (see the table above).");
        return 1;
    }
}
