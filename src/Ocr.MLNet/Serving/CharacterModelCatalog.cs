using Ocr.MLNet.Serving;
using Ocr.MLNet.IO;

namespace Ocr.MLNet;

/// <summary>
/// Adds <c>LoadCharacterModel</c> and <c>SaveCharacterModel</c> to <c>mlContext.Model</c>: loads a saved character model with
/// errors that name the file, and saves one so that a crash or a full disk never leaves a broken model behind.
/// </summary>
/// <remarks>
/// <para>
/// The one place to load a model, in either of two shapes: <c>LoadCharacterModel</c> gives ML.NET's chain (the contract:
/// <c>Transform</c>, a <c>PredictionEngine</c> with the shipped rows <see cref="CharacterImagePath"/>,
/// <see cref="CharacterImage"/> or <see cref="CharacterPixels"/> in and <see cref="CharacterPrediction"/> out), and
/// <c>LoadCharacterRecognizer</c> the batched API over the same zip, with the same scores.
/// </para>
/// <para>
/// Threads follow one policy (<c>README.md</c>, "Serving"): a session called once per image gets one intra-op thread, so
/// calls side by side each get a core, unless the context sets its own ONNX session options
/// (<c>mlContext.SetOnnxSessionOption</c>); a session handed batches gets one per processor. The context itself is left as it was.
/// </para>
/// </remarks>
public static class CharacterModelCatalog
{
    /// <summary>
    /// Saves <paramref name="model"/> as <c>mlContext.Model.Save</c> does, but atomically: the zip is written to a temporary
    /// file beside <paramref name="path"/>, flushed to disk and renamed over it. A kill, a full disk or a model that fails to
    /// save leaves the previous file at <paramref name="path"/> byte for byte as it was, and no temporary file.
    /// </summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="model">The trained model (any ML.NET transformer).</param>
    /// <param name="inputSchema">The schema of the data the model reads, saved with it.</param>
    /// <param name="path">The model zip to create or replace; its folder is created when missing.</param>
    /// <exception cref="IOException">The model could not be written (the message names the file; the old one is unchanged).</exception>
    /// <example>
    /// <code>
    /// var model = pipeline.Fit(data);
    /// mlContext.Model.SaveCharacterModel(model, data.Schema, "ocr.zip"); // replaces ocr.zip only once the new one is complete
    /// </code>
    /// </example>
    public static void SaveCharacterModel(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        AtomicFile.Write(path, temporary => catalog.Save(model, inputSchema, temporary));
    }

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

    /// <summary>
    /// Loads the character model that ships inside Ocr.MLNet (<see cref="PretrainedCharacterModel"/>): the whole chain, which
    /// reads image file paths (column <c>ImagePath</c>), as <c>ocr-mlnet train</c> saves it.
    /// </summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="inputSchema">The input schema saved with the model.</param>
    /// <returns>The model; dispose it to delete ML.NET's temporary copies of its networks.</returns>
    /// <example>
    /// <code>
    /// ITransformer model = mlContext.Model.LoadPretrainedCharacterModel(out DataViewSchema inputSchema);
    /// IReadOnlyList&lt;string&gt; classes = CharacterScores.GetClassNames(model.GetOutputSchema(inputSchema)); // 0-9, A-Z, a b d e f g h n q r t
    /// </code>
    /// </example>
    public static ITransformer LoadPretrainedCharacterModel(this ModelOperationsCatalog catalog, out DataViewSchema inputSchema) =>
        CharacterModelLoader.LoadPretrained(catalog, out inputSchema);

    /// <summary>Loads the part of the pretrained model (<see cref="PretrainedCharacterModel"/>) that reads <paramref name="input"/>.</summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="input">Image paths (default), decoded images, or prepared 1×32×32 pixels.</param>
    /// <returns>The transformer that reads a schema with only that column.</returns>
    /// <example>
    /// <code>
    /// ITransformer model = mlContext.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath);
    /// var engine = mlContext.Model.CreatePredictionEngine&lt;ImageFile, Prediction&gt;(model); // ImageFile { string ImagePath }
    /// Console.WriteLine(engine.Predict(new ImageFile { ImagePath = "samples/images/sd19/a.png" }).PredictedCharacter);
    /// </code>
    /// </example>
    public static ITransformer LoadPretrainedCharacterModel(this ModelOperationsCatalog catalog, CharacterModelInput input = CharacterModelInput.ImagePath) =>
        CharacterModelLoader.LoadPretrained(catalog, input);

    /// <summary>
    /// Loads a saved character model for scoring batches: <see cref="CharacterRecognizer"/> runs its preparation graph and
    /// network in ONNX Runtime over many images per call, with the scores its <c>PredictionEngine</c> gives one at a time.
    /// </summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="path">A model zip saved by <c>SaveCharacterModel</c> or <c>ocr-mlnet train</c>.</param>
    /// <param name="options">Batch size, threads (one per processor by default: a batch has work for every core) and device; null for the defaults.</param>
    /// <returns>The recognizer; dispose it to release its ONNX Runtime sessions.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is damaged or not a character model (the message names it).</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> holds invalid values (all are listed).</exception>
    /// <example>
    /// <code>
    /// using var recognizer = mlContext.Model.LoadCharacterRecognizer("ocr.zip");
    /// float[] scores = recognizer.Score(Directory.GetFiles("chars", "*.png")); // N × ClassNames.Count
    /// </code>
    /// </example>
    public static CharacterRecognizer LoadCharacterRecognizer(this ModelOperationsCatalog catalog, string path, CharacterRecognizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return CharacterRecognizer.Load(path, options);
    }

    /// <summary>Loads the pretrained character model (<see cref="PretrainedCharacterModel"/>) for scoring batches, as <see cref="LoadCharacterRecognizer"/>.</summary>
    /// <param name="catalog">The model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="options">Batch size, threads and device; null for the defaults.</param>
    /// <returns>The recognizer; dispose it to release its ONNX Runtime sessions.</returns>
    /// <example>
    /// <code>
    /// using var recognizer = mlContext.Model.LoadPretrainedCharacterRecognizer();
    /// foreach (CharacterPrediction p in recognizer.Predict(paths))
    ///     Console.WriteLine($"{p.PredictedCharacter} {p.Confidence:P1}");
    /// </code>
    /// </example>
    public static CharacterRecognizer LoadPretrainedCharacterRecognizer(this ModelOperationsCatalog catalog, CharacterRecognizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        using var stream = PretrainedCharacterModel.OpenRead();
        return CharacterRecognizer.Load(stream, PretrainedCharacterModel.Name, options);
    }
}
