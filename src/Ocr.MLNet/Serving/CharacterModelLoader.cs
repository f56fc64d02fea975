using Microsoft.ML.Transforms.Image;

namespace Ocr.MLNet.Serving;

/// <summary>Loads saved character models; the one place that opens model files.</summary>
internal static class CharacterModelLoader
{
    public static ITransformer Load(ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model file '{path}' does not exist. Train one with 'ocr-mlnet train' or save one with mlContext.Model.Save.", path);

        ITransformer model;
        try
        {
            model = catalog.Load(path, out inputSchema);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or IOException or ArgumentException or EndOfStreamException)
        {
            throw NotAModel(path, e.Message, e);
        }

        try
        {
            CharacterScores.GetClassNames(model.GetOutputSchema(inputSchema));
        }
        catch (ArgumentOutOfRangeException e)
        {
            (model as IDisposable)?.Dispose();
            throw NotAModel(path, $"it is an ML.NET model but not a character model ({e.Message})", e);
        }

        return model;
    }

    public static ITransformer Load(ModelOperationsCatalog catalog, string path, CharacterModelInput input)
    {
        var model = Load(catalog, path, out var savedSchema);
        var schema = InputSchema(input);
        var transformers = Flatten(model).ToArray();
        for (int start = 0; start < transformers.Length; start++)
        {
            var tail = new TransformerChain<ITransformer>(transformers[start..]);
            if (Reads(tail, schema))
                return tail;
        }

        (model as IDisposable)?.Dispose();
        string saved = string.Join(", ", savedSchema.Select(c => $"{c.Name} ({c.Type})"));
        throw NotAModel(path, $"no part of it reads {input} (column '{schema[0].Name}'); it was saved to read {saved}", null);
    }

    /// <summary>A schema with only the column <paramref name="input"/> names.</summary>
    private static DataViewSchema InputSchema(CharacterModelInput input)
    {
        var builder = new DataViewSchema.Builder();
        switch (input)
        {
            case CharacterModelInput.ImagePath:
                builder.AddColumn(CharacterFormat.ImagePathColumnName, TextDataViewType.Instance);
                break;
            case CharacterModelInput.Image:
                builder.AddColumn(CharacterFormat.ImageColumnName, new ImageDataViewType());
                break;
            case CharacterModelInput.Pixels:
                builder.AddColumn(CharacterFormat.PixelsColumnName, new VectorDataViewType(NumberDataViewType.Single, CharacterFormat.PixelCount));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input, "Use ImagePath, Image or Pixels.");
        }

        return builder.ToSchema();
    }

    // Schema propagation decides: the tail reads the input if ML.NET can bind it and it ends in the score column.
    private static bool Reads(ITransformer tail, DataViewSchema schema)
    {
        try
        {
            return tail.GetOutputSchema(schema).GetColumnOrNull(CharacterFormat.ScoreColumnName) is not null;
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is TransformerChain<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    private static InvalidDataException NotAModel(string path, string reason, Exception? inner) =>
        new($"'{path}' is not a readable Ocr.MLNet model: {reason}. Check that the file was copied completely, or train and save the model again.", inner);
}
