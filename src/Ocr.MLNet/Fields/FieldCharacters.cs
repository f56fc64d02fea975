using Microsoft.ML;
using Microsoft.ML.Data;
using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Text;
using Ocr.MLNet.Training;

namespace Ocr.MLNet.Fields;

/// <summary>
/// Character images cut from labelled fields the way a <see cref="HandwrittenFieldReader"/> cuts them for its character
/// model, each labelled with its character of the field's text: data to fine-tune the character model on a user's own
/// writers (<c>CharacterCnnTrainer.Options.BaseModel</c>), where the fields carry only their text and no box per character.
/// </summary>
/// <remarks>
/// A field gives its characters only where the reader's segmentation found as many characters as the text has characters
/// the model has classes for (letters and digits: spaces, hyphens and apostrophes are not read as characters), so each
/// image lines up with its character; a field read with another count, read in small letters for capitals, or holding a
/// character the model has no class for is skipped and counted. A character is labelled with the model's class of it (a
/// small c of a model that merges c and C is labelled C).
/// </remarks>
/// <example>
/// <code>
/// using var reader = HandwrittenFieldReader.LoadPretrained(new FieldReaderOptions { Method = FieldReadingMethod.Segmentation });
/// var characters = FieldCharacters.Cut(reader, FieldEvaluation.LoadLabels("my-names").Take(400), FieldKind.Upper);
/// var (training, validation) = characters.SplitByField(0.1, seed: 1);
/// var options = FieldCharacters.FineTuningOptions(PretrainedCharacterModel.OpenRead);
/// options.ValidationData = validation.ToDataView(mlContext);
/// var model = mlContext.MulticlassClassification.Trainers.CharacterCnn(options).Fit(training.ToDataView(mlContext));
/// </code>
/// </example>
public sealed class FieldCharacters
{
    /// <summary>Passes over the fields' characters when fine-tuning (<see cref="FineTuningOptions"/>).</summary>
    public const int DefaultFineTuningEpochs = 10;

    /// <summary>Peak learning rate when fine-tuning (<see cref="FineTuningOptions"/>): a third of training's from scratch.</summary>
    public const double DefaultFineTuningLearningRate = 1e-3;

    /// <summary>Characters per batch when fine-tuning: a few thousand characters still make tens of steps per epoch.</summary>
    public const int DefaultFineTuningBatchSize = 64;

    private readonly float[] pixels;

    /// <summary>The used field (0 to <see cref="FieldsUsed"/> − 1) each character was cut from.</summary>
    private readonly int[] fieldOf;

    private FieldCharacters(IReadOnlyList<string> labels, float[] pixels, int[] fieldOf, int fieldsUsed, IReadOnlyList<string> skipped)
    {
        Labels = labels;
        this.pixels = pixels;
        this.fieldOf = fieldOf;
        FieldsUsed = fieldsUsed;
        FieldsSkipped = skipped;
    }

    /// <summary>The label of each character image, a class name of the reader's character model.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The number of character images.</summary>
    public int Count => Labels.Count;

    /// <summary>The fields whose characters were kept.</summary>
    public int FieldsUsed { get; }

    /// <summary>The fields skipped, each as its image path and why.</summary>
    public IReadOnlyList<string> FieldsSkipped { get; }

    /// <summary>Image <paramref name="index"/>'s 1×32×32 pixels, as the reader hands them to the character model.</summary>
    public ReadOnlySpan<float> PixelsOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return pixels.AsSpan(index * CharacterFormat.PixelCount, CharacterFormat.PixelCount);
    }

    /// <summary>
    /// Cuts the fields into labelled character images with <paramref name="reader"/>'s segmentation (whatever its
    /// <see cref="FieldReaderOptions.Method"/>), reading each field as <paramref name="kind"/>.
    /// </summary>
    /// <param name="reader">The reader whose cutting and character model the images are for.</param>
    /// <param name="fields">Labelled fields (<see cref="FieldEvaluation.LoadLabels"/>).</param>
    /// <param name="kind">What the fields hold.</param>
    /// <exception cref="CharacterDataException">A field's image cannot be read or decoded (the message names it).</exception>
    public static FieldCharacters Cut(HandwrittenFieldReader reader, IEnumerable<LabelledField> fields, FieldKind kind)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(fields);
        var classes = new HashSet<string>(reader.ClassNames, StringComparer.Ordinal);
        var labels = new List<string>();
        var pixels = new List<float>();
        var skipped = new List<string>();
        var glyphs = new List<float[]>();
        var fieldOf = new List<int>();
        int used = 0;
        foreach (var field in fields)
        {
            var wanted = new List<string>();
            foreach (char c in field.Text)
            {
                if (!char.IsLetterOrDigit(c))
                    continue;
                string? label = ClassOf(c, classes);
                if (label is null)
                {
                    skipped.Add($"{field.ImagePath}: '{c}' is no class of the character model");
                    wanted = null;
                    break;
                }

                wanted.Add(label);
            }

            if (wanted is null)
                continue;
            var (grey, width, height) = HandwrittenFieldReader.DecodeGrey(field.ImagePath, reader.Options.MaxImagePixels);
            reader.ReadWithGlyphs(grey, width, height, kind, glyphs);
            if (glyphs.Count != wanted.Count || wanted.Count == 0)
            {
                skipped.Add($"{field.ImagePath}: {glyphs.Count} characters cut for {wanted.Count} in the text");
                continue;
            }

            fieldOf.AddRange(Enumerable.Repeat(used, wanted.Count));
            used++;
            labels.AddRange(wanted);
            foreach (var glyph in glyphs)
                pixels.AddRange(glyph);
        }

        return new FieldCharacters(labels, [.. pixels], [.. fieldOf], used, skipped);
    }

    /// <summary>
    /// Holds out whole fields to validate on (a seeded shuffle of the used fields), so that no field has characters on both
    /// sides and the validation accuracy is that of writing the model did not train on.
    /// </summary>
    /// <param name="validationFraction">Share of the used fields held out, in (0, 1); at least one field, and at least one left to train on.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <returns>The training and validation characters; their <see cref="FieldsSkipped"/> are empty.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1).</exception>
    /// <exception cref="InvalidOperationException">Fewer than two fields were used.</exception>
    /// <example>
    /// <code>
    /// var (training, validation) = characters.SplitByField(0.1, seed: 1);
    /// options.ValidationData = validation.ToDataView(mlContext);
    /// </code>
    /// </example>
    public (FieldCharacters Training, FieldCharacters Validation) SplitByField(double validationFraction, int seed)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Hold out a share of the fields between 0 and 1.");
        if (FieldsUsed < 2)
            throw new InvalidOperationException($"{FieldsUsed} field(s) gave characters; holding fields out to validate on needs at least 2. Add labelled fields.");
        int[] order = Enumerable.Range(0, FieldsUsed).ToArray();
        new Random(seed).Shuffle(order);
        int held = Math.Clamp((int)Math.Ceiling(validationFraction * FieldsUsed), 1, FieldsUsed - 1);
        var validationFields = order.Take(held).ToHashSet();
        return (Subset(i => !validationFields.Contains(fieldOf[i]), FieldsUsed - held), Subset(i => validationFields.Contains(fieldOf[i]), held));
    }

    private FieldCharacters Subset(Func<int, bool> keep, int fields)
    {
        var chosen = Enumerable.Range(0, Count).Where(keep).ToArray();
        var subsetPixels = new float[chosen.Length * CharacterFormat.PixelCount];
        for (int i = 0; i < chosen.Length; i++)
            PixelsOf(chosen[i]).CopyTo(subsetPixels.AsSpan(i * CharacterFormat.PixelCount));
        return new FieldCharacters(chosen.Select(i => Labels[i]).ToArray(), subsetPixels, chosen.Select(i => fieldOf[i]).ToArray(), fields, []);
    }

    /// <summary>
    /// The recipe for fine-tuning a character model on a few hundred fields' characters, measured on names-dev (README,
    /// "Fine-tune the character model on your fields"): from <paramref name="baseModel"/>, <see cref="DefaultFineTuningEpochs"/>
    /// epochs at a peak of <see cref="DefaultFineTuningLearningRate"/> (Adam, warm-up then cosine), batches of
    /// <see cref="DefaultFineTuningBatchSize"/>, no time budget (hold fields out whole with <see cref="SplitByField"/> and set
    /// <c>ValidationData</c>, as <c>train-field-characters</c> does; otherwise the trainer holds out 10 % of the characters); without the weight average
    /// (over so few steps it would stay near the base weights) and without class-balanced sampling (a field's letters come
    /// as often as its writers write them).
    /// </summary>
    /// <param name="baseModel">Opens the character model to start from, e.g. <c>PretrainedCharacterModel.OpenRead</c>.</param>
    public static CharacterCnnTrainer.Options FineTuningOptions(Func<Stream> baseModel)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        return new CharacterCnnTrainer.Options
        {
            BaseModel = baseModel,
            Epochs = DefaultFineTuningEpochs,
            LearningRate = DefaultFineTuningLearningRate,
            BatchSize = DefaultFineTuningBatchSize,
            UseExponentialMovingAverage = false,
            ClassBalancedSampling = false,
            TimeBudget = null,
        };
    }

    /// <summary>The model's class for <paramref name="c"/>: itself, else its other case (a merged class); null when neither.</summary>
    private static string? ClassOf(char c, HashSet<string> classes)
    {
        foreach (string name in new[] { c.ToString(), char.ToUpperInvariant(c).ToString(), char.ToLowerInvariant(c).ToString() })
        {
            if (classes.Contains(name))
                return name;
        }

        return null;
    }

    /// <summary>The images as ML.NET rows: a text label column and a 1×32×32 pixel column, as the EMNIST loader gives them.</summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="labelColumnName">Name of the label column.</param>
    /// <param name="pixelsColumnName">Name of the pixel column.</param>
    public IDataView ToDataView(MLContext mlContext, string labelColumnName = CharacterFormat.LabelColumnName, string pixelsColumnName = CharacterFormat.PixelsColumnName)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var definition = SchemaDefinition.Create(typeof(CharacterRow));
        definition[nameof(CharacterRow.Label)].ColumnName = labelColumnName;
        definition[nameof(CharacterRow.Pixels)].ColumnName = pixelsColumnName;
        var rows = Enumerable.Range(0, Count).Select(i => new CharacterRow { Label = Labels[i], Pixels = PixelsOf(i).ToArray() });
        return mlContext.Data.LoadFromEnumerable(rows, definition);
    }

    private sealed class CharacterRow
    {
        public string Label { get; set; } = "";

        [VectorType(CharacterFormat.PixelCount)]
        public float[] Pixels { get; set; } = [];
    }
}
