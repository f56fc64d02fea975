using Ocr.MLNet.Fields;
using Ocr.MLNet.Text;

namespace Ocr.MLNet;

/// <summary>Adds <c>ReadHandwrittenText</c> to <c>mlContext.Transforms</c>: images of handwritten fields → their text.</summary>
public static class HandwrittenTextCatalog
{
    /// <summary>The default text column: <c>Text</c>.</summary>
    public const string DefaultOutputColumnName = "Text";

    /// <summary>
    /// Reads the handwritten field in each image with a character model: adds the text (<paramref name="outputColumnName"/>),
    /// its confidence and per-character labels, confidences and boxes (see <see cref="HandwrittenTextOptions.OutputColumnName"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="modelPath">The character model zip.</param>
    /// <param name="kind">What the fields hold. Default alphanumeric.</param>
    /// <param name="outputColumnName">The text column to add. Default <c>Text</c>.</param>
    /// <param name="inputColumnName">The image column (from <c>LoadImages</c>). Default <c>Image</c>.</param>
    /// <returns>The estimator; fitting loads the model.</returns>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
    ///     .Append(mlContext.Transforms.ReadHandwrittenText("ocr.zip", FieldKind.Digits));
    /// </code>
    /// </example>
    public static HandwrittenTextEstimator ReadHandwrittenText(this TransformsCatalog catalog, string modelPath, FieldKind kind = FieldKind.Alphanumeric,
        string outputColumnName = DefaultOutputColumnName, string inputColumnName = CharacterFormat.ImageColumnName) =>
        catalog.ReadHandwrittenText(new HandwrittenTextOptions
        {
            ModelPath = modelPath,
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            Reader = new FieldReaderOptions { Kind = kind },
        });

    /// <summary>Reads the handwritten field in each image, with options (columns, kind or a custom class set, limits).</summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="options">The options; invalid values are all reported in one exception.</param>
    /// <returns>The estimator; fitting loads the model.</returns>
    /// <example>
    /// <code>
    /// var read = mlContext.Transforms.ReadHandwrittenText(new HandwrittenTextOptions
    /// {
    ///     ModelPath = "ocr.zip",
    ///     OutputColumnName = "Amount",
    ///     Reader = new FieldReaderOptions { AllowedCharacters = "0123456789" },
    /// });
    /// </code>
    /// </example>
    public static HandwrittenTextEstimator ReadHandwrittenText(this TransformsCatalog catalog, HandwrittenTextOptions options) =>
        new(catalog, options);
}
