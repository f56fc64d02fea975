using System.CommandLine;
using System.Globalization;
using Microsoft.ML.Data;
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

    /// <summary>One row per image: its label and top 3, "no ink" for a blank one, or why it could not be read; exit 1 if any could not.</summary>
    private static int Predict(MLContext mlContext, FileInfo? modelFile, FileInfo[] images)
    {
        using var model = (IDisposable)CliModels.Load(mlContext, modelFile, CharacterModelInput.ImagePath);
        var transformer = (ITransformer)model;
        var inputSchema = mlContext.Data.LoadFromEnumerable(Array.Empty<ImageInput>()).Schema;
        var outputSchema = transformer.GetOutputSchema(inputSchema);
        // The prepared pixels tell a blank image from a character; a model saved without them is scored without the check.
        bool hasPixels = outputSchema.GetColumnOrNull(CharacterFormat.PixelsColumnName) is { Type: VectorDataViewType };
        var outputDefinition = SchemaDefinition.Create(typeof(Prediction), SchemaDefinition.Direction.Write);
        if (!hasPixels)
            outputDefinition.Remove(outputDefinition.Single(c => c.ColumnName == CharacterFormat.PixelsColumnName));

        using var engine = mlContext.Model.CreatePredictionEngine<ImageInput, Prediction>(transformer,
            new PredictionEngineOptions { OwnsTransformer = false, OutputSchemaDefinition = outputDefinition });
        var classNames = CharacterScores.GetClassNames(engine.OutputSchema);
        var table = new Table().AddColumns("image", "label", "top 3");
        int failed = 0;
        foreach (var image in images)
        {
            if (!image.Exists)
            {
                failed++;
                table.AddRow(Markup.Escape(image.Name), "[red]error[/]", Markup.Escape($"'{image.FullName}' does not exist."));
                continue;
            }

            Prediction prediction;
            try
            {
                // The saved model's LoadImages decodes whatever it is given: refuse a declared size that would not fit first.
                ImageHeader.Check(image.FullName);
                prediction = engine.Predict(new ImageInput { ImagePath = image.FullName });
            }
            catch (CharacterDataException e)
            {
                failed++;
                table.AddRow(Markup.Escape(image.Name), "[red]error[/]", Markup.Escape(e.Message));
                continue;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
            {
                failed++;
                table.AddRow(Markup.Escape(image.Name), "[red]error[/]",
                    Markup.Escape($"Could not classify '{image.FullName}': {e.Message} Check that it is a readable PNG or JPEG image."));
                continue;
            }

            if (hasPixels && prediction.Pixels.All(p => p == 0))
            {
                table.AddRow(Markup.Escape(image.Name), "[yellow]no ink[/]", "the image is blank after preparation; nothing to classify");
                continue;
            }

            var top = CharacterScores.TopK(prediction.Score, classNames, 3)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.ClassName} {p.Score:F3}"));
            table.AddRow(Markup.Escape(image.Name), Markup.Escape(prediction.PredictedCharacter), Markup.Escape(string.Join("  ", top)));
        }

        AnsiConsole.Write(table);
        if (failed == 0)
            return 0;
        AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {failed} of {images.Length} images could not be classified (see the table above).");
        return 1;
    }

    private sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class Prediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedCharacter { get; set; } = "";

        public float[] Pixels { get; set; } = [];
    }
}
