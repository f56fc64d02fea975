using Ocr.MLNet.Serving;

namespace Ocr.MLNet.Fields;

/// <summary>Scores prepared 1×32×32 images in one batch: N × 1024 pixels in, N × C probabilities out.</summary>
internal interface IPixelScorer : IDisposable
{
    IReadOnlyList<string> ClassNames { get; }

    float[] ScorePixels(ReadOnlySpan<float> pixels);
}

/// <summary>The scorer part of a saved character model, run by ML.NET over all of a field's candidates at once.</summary>
internal sealed class ModelPixelScorer : IPixelScorer
{
    private readonly MLContext mlContext;
    private readonly ITransformer model;

    public ModelPixelScorer(string modelPath)
    {
        mlContext = new MLContext();
        model = mlContext.Model.LoadCharacterModel(modelPath, CharacterModelInput.Pixels);
        var schema = model.GetOutputSchema(mlContext.Data.LoadFromEnumerable(Array.Empty<PixelRow>()).Schema);
        ClassNames = CharacterScores.GetClassNames(schema);
    }

    public IReadOnlyList<string> ClassNames { get; }

    public float[] ScorePixels(ReadOnlySpan<float> pixels)
    {
        int count = pixels.Length / CharacterFormat.PixelCount;
        var rows = new PixelRow[count];
        for (int i = 0; i < count; i++)
            rows[i] = new PixelRow { Pixels = pixels.Slice(i * CharacterFormat.PixelCount, CharacterFormat.PixelCount).ToArray() };
        var scored = model.Transform(mlContext.Data.LoadFromEnumerable(rows));
        var result = new float[count * ClassNames.Count];
        int at = 0;
        foreach (var row in mlContext.Data.CreateEnumerable<ScoreRow>(scored, reuseRowObject: false))
        {
            row.Score.CopyTo(result, at);
            at += ClassNames.Count;
        }

        return result;
    }

    public void Dispose() => (model as IDisposable)?.Dispose();

    private sealed class PixelRow
    {
        [VectorType(CharacterFormat.PixelCount)]
        public float[] Pixels { get; set; } = [];
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
