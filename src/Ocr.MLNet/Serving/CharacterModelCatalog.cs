using Ocr.MLNet.Serving;

namespace Ocr.MLNet;

/// <summary>Adds <c>LoadCharacterModel</c> to <c>mlContext.Model</c>: loads a saved character model with errors that name the file.</summary>
public static class CharacterModelCatalog
{
    /// <summary>
    /// Loads a character model saved with <c>mlContext.Model.Save</c>, as <c>mlContext.Model.Load</c> does, and checks that it
    /// is one: its output has a <c>Score</c> column whose slot names are the class names.
    /// </summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="path">The model zip.</param>
    /// <param name="inputSchema">The input schema saved with the model.</param>
    /// <returns>The saved chain.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a complete ML.NET model, or not a character model (the message names it).</exception>
    /// <example>
    /// <code>
    /// ITransformer model = mlContext.Model.LoadCharacterModel("ocr.zip", out DataViewSchema inputSchema);
    /// IReadOnlyList&lt;string&gt; classes = CharacterScores.GetClassNames(model.GetOutputSchema(inputSchema));
    /// </code>
    /// </example>
    public static ITransformer LoadCharacterModel(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema) =>
        CharacterModelLoader.Load(catalog, path, out inputSchema);

    /// <summary>
    /// Loads the part of a saved character model that reads <paramref name="input"/>: the whole chain for image paths, the
    /// chain after <c>LoadImages</c> for decoded images, the scorer alone for prepared pixels.
    /// </summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="path">The model zip.</param>
    /// <param name="input">What the returned transformer reads (its column name is the one in <see cref="CharacterFormat"/>).</param>
    /// <returns>The tail of the saved chain that runs on a schema with only that column.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a character model, or no part of it reads <paramref name="input"/>.</exception>
    /// <example>
    /// <code>
    /// // Score in-memory images with a model saved for image files.
    /// ITransformer fromImages = mlContext.Model.LoadCharacterModel("ocr.zip", CharacterModelInput.Image);
    /// </code>
    /// </example>
    public static ITransformer LoadCharacterModel(this ModelOperationsCatalog catalog, string path, CharacterModelInput input) =>
        CharacterModelLoader.Load(catalog, path, input);
}
