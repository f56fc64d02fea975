using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;
using Onnx;
using Ocr.MLNet.Text;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Lines;

/// <summary>
/// Reads field images with a saved line model in batches, calling ONNX Runtime directly (ML.NET's chain calls it once per
/// image): the same preparation, network and decoding as the model's <c>PredictionEngine</c>, plus each character's box
/// in the image's own coordinates. The field reader uses it.
/// </summary>
/// <example>
/// <code>
/// using var lines = mlContext.Model.LoadLineRecognizer("amounts.zip");
/// LineReading amount = lines.Read(image);                  // the kind the model was trained for
/// LineReading name = lines.Read(image, FieldKind.Upper);   // or another mask (and language: Read(images, chars, LetterFrequencies.French))
/// Console.WriteLine($"{amount.Text} {amount.Confidence:P0}");
/// </code>
/// </example>
public sealed class LineRecognizer : IDisposable
{
    /// <summary>Images per ONNX Runtime run.</summary>
    public const int BatchSize = 32;

    private readonly InferenceSession session;
    private readonly LineDecodingSettings settings;
    private readonly CtcDecoder decoder;
    private readonly Dictionary<(string Allowed, LetterFrequencies? Language), CtcDecoder> decoders = [];
    private readonly Lock decodersLock = new();

    private LineRecognizer(byte[] onnx, int? threads)
    {
        var graph = ModelProto.Parser.ParseFrom(onnx).Graph;
        var json = graph.Initializer.Single(i => i.Name == "decoding_settings").StringData[0].ToStringUtf8();
        settings = LineDecodingSettings.FromJson(json);
        decoder = settings.ToDecoder();
        using var options = new SessionOptions { IntraOpNumThreads = ServingThreads.ForBatches(threads ?? 0) };
        session = new InferenceSession(onnx, options);
        inputName = session.InputMetadata.Keys.Single();
    }

    /// <summary>The model's input: byte planes (<see cref="LineOnnxExporter.InputColumnName"/>), or floats for models saved before.</summary>
    private readonly string inputName;

    /// <summary>The characters the model's own decoding allows (its field kind).</summary>
    public string AllowedCharacters => settings.AllowedCharacters;

    /// <summary>Loads a saved line model (zip) from a file.</summary>
    /// <param name="path">The zip written by <c>mlContext.Model.Save</c> or <c>ocr-mlnet train-fields</c>.</param>
    /// <param name="threads">ONNX Runtime's intra-op threads for the network; null: one per core.</param>
    /// <exception cref="InvalidDataException">The file is damaged or holds no line model; the message names it.</exception>
    internal static LineRecognizer Load(string path, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = BoundedFile.OpenRead(path);
        return new LineRecognizer(LineRecognizerModel.ReadOnnx(stream, path), threads);
    }

    /// <summary>Loads a saved line model (zip) from a stream, e.g. <see cref="PretrainedLineModel.OpenRead"/>.</summary>
    internal static LineRecognizer Load(Stream zip, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(zip);
        return new LineRecognizer(LineRecognizerModel.ReadOnnx(zip, "the line model stream"), threads);
    }

    /// <summary>Reads one field image with the model's own characters and language.</summary>
    /// <param name="image">The field, any size (it is scaled to fit 256×32).</param>
    /// <param name="kind">The characters to allow; null: the model's own.</param>
    public LineReading Read(MLImage image, FieldKind? kind = null) => Read([image], kind)[0];

    /// <summary>Reads field images in batches of <see cref="BatchSize"/>, with the model's language.</summary>
    /// <param name="images">The fields.</param>
    /// <param name="kind">The characters to allow; null: the model's own.</param>
    public IReadOnlyList<LineReading> Read(IReadOnlyList<MLImage> images, FieldKind? kind = null) =>
        Read(images, kind is { } k ? CtcDecoder.AllowedCharactersFor(k, settings.Alphabet) : null, settings.Language());

    /// <summary>Reads field images with the given characters and language.</summary>
    /// <param name="images">The fields.</param>
    /// <param name="allowedCharacters">The characters to allow (a field kind's, or a custom set); null: the model's own.</param>
    /// <param name="language">The letter frequencies and pairs to decode with; null reads by shape alone.</param>
    public IReadOnlyList<LineReading> Read(IReadOnlyList<MLImage> images, string? allowedCharacters, LetterFrequencies? language)
    {
        ArgumentNullException.ThrowIfNull(images);
        var chosen = DecoderFor(allowedCharacters ?? settings.AllowedCharacters, language);
        var readings = new LineReading[images.Count];
        int perLine = LineImageFormat.TimeSteps * chosen.ClassCount;
        for (int start = 0; start < images.Count; start += BatchSize)
        {
            int length = Math.Min(BatchSize, images.Count - start);
            float[] logProbabilities = LogProbabilities(images, start, length);
            for (int i = 0; i < length; i++)
            {
                var image = images[start + i];
                var decoding = chosen.Decode(logProbabilities.AsSpan(i * perLine, perLine), LineImageFormat.TimeSteps);
                readings[start + i] = LineReading.From(decoding, image.Width, image.Height);
            }
        }

        return readings;
    }

    /// <summary>
    /// Reads one field from several views of it (the field reader's cleaned line and the field as it is): each view's
    /// decoded text is scored under every view, and the text with the highest mean probability wins, with that mean as its
    /// confidence. Views that agree keep the confidence; views that read different texts share it, so a doubtful field
    /// scores low even where one view alone is sure. The empty text wins only where every view reads nothing: the reader
    /// hands over only lines that hold ink, and a small name in a wide crop often reads blank as a whole field (rows 1–400
    /// of the names, packaged model: 24 names read blank so; README, "Fields that learn").
    /// </summary>
    /// <param name="views">The views of one field.</param>
    /// <param name="allowedCharacters">The characters to allow; null: the model's own.</param>
    /// <param name="language">The letter frequencies and pairs to decode with.</param>
    /// <param name="alsoScore">Another reader's text for the same field, scored the same way (null: none).</param>
    /// <returns>
    /// The reading, its characters in the columns of the view it was decoded from, that view's index, and the mean
    /// probability of <paramref name="alsoScore"/> over the views (0 without one).
    /// </returns>
    internal (LineReading Reading, int View, float AlsoScoreProbability) ReadViews(IReadOnlyList<MLImage> views, string? allowedCharacters, LetterFrequencies? language, string? alsoScore = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(views.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(views.Count, BatchSize);
        var chosen = DecoderFor(allowedCharacters ?? settings.AllowedCharacters, language);
        int perLine = LineImageFormat.TimeSteps * chosen.ClassCount;
        float[] logProbabilities = LogProbabilities(views, 0, views.Count);
        ReadOnlySpan<float> View(int i) => logProbabilities.AsSpan(i * perLine, perLine);
        var decodings = Enumerable.Range(0, views.Count).Select(i => chosen.Decode(View(i), LineImageFormat.TimeSteps)).ToArray();
        // A text's mean probability over the views; a view that decoded it already holds its probability.
        double MeanProbability(string text)
        {
            double sum = 0;
            for (int j = 0; j < views.Count; j++)
                sum += decodings[j].Text == text ? decodings[j].Confidence : chosen.Probability(View(j), LineImageFormat.TimeSteps, text);
            return sum / views.Count;
        }

        int best = 0;
        double bestMean = -1;
        bool someText = decodings.Any(d => d.Text.Length > 0);
        for (int i = 0; i < decodings.Length; i++)
        {
            if (someText && decodings[i].Text.Length == 0)
                continue; // a view that reads nothing does not outvote one that reads writing (a small name in a wide crop reads blank whole)
            double mean = MeanProbability(decodings[i].Text);
            if (mean > bestMean)
                (best, bestMean) = (i, mean);
        }

        var reading = LineReading.From(decodings[best] with { Confidence = (float)bestMean }, views[best].Width, views[best].Height);
        return (reading, best, alsoScore is null ? 0f : (float)MeanProbability(alsoScore));
    }

    /// <summary>The network's log-probabilities for images [start, start + length): length × time steps × classes.</summary>
    private float[] LogProbabilities(IReadOnlyList<MLImage> images, int start, int length)
    {
        int planes = 4 * LineImageFormat.PixelCount;
        var argb = new byte[length * planes];
        for (int i = 0; i < length; i++)
            LinePreparation.ExtractArgb(images[start + i], argb.AsSpan(i * planes, planes));
        int[] shape = [length, 4, LineImageFormat.Height, LineImageFormat.Width];
        var input = inputName == LineOnnxExporter.InputColumnName
            ? NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<byte>(argb, shape))
            : NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(ScaledPlanes(argb), shape)); // a model saved before the byte planes
        using var results = session.Run([input], [LineImageFormat.ScoreColumnName]);
        float[] logProbabilities = results[0].AsTensor<float>().ToArray();
        for (int j = 0; j < logProbabilities.Length; j++)
            logProbabilities[j] = MathF.Log(Math.Max(logProbabilities[j], 1e-30f));
        return logProbabilities;
    }

    private static float[] ScaledPlanes(byte[] argb)
    {
        var planes = new float[argb.Length];
        ArgbPlanes.Scale(argb, planes);
        return planes;
    }

    private CtcDecoder DecoderFor(string allowed, LetterFrequencies? language)
    {
        if (allowed == settings.AllowedCharacters && language is not null && language.Equals(settings.Language()))
            return decoder;
        lock (decodersLock)
        {
            if (!decoders.TryGetValue((allowed, language), out var found))
            {
                found = settings.ToDecoder(allowed, language, keepLanguage: false);
                decoders[(allowed, language)] = found;
            }

            return found;
        }
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => session.Dispose();
}

/// <summary>A field read by the line recognizer.</summary>
/// <param name="Text">The text.</param>
/// <param name="Confidence">The probability of the text under the model and the decoding, in [0, 1].</param>
/// <param name="Characters">Each character with its span along the field (from the CTC alignment) and its alternatives.</param>
public sealed record LineReading(string Text, float Confidence, IReadOnlyList<LineCharacter> Characters)
{
    /// <summary>Maps the decoding's time steps to columns of a <paramref name="width"/>×<paramref name="height"/> image scaled into the line with IsoPad (centred).</summary>
    internal static LineReading From(CtcDecoding decoding, int width, int height)
    {
        double scale = Math.Min(LineImageFormat.Width / (double)width, LineImageFormat.Height / (double)height);
        double offset = (LineImageFormat.Width - (width * scale)) / 2;
        const int ColumnsPerStep = LineImageFormat.Width / LineImageFormat.TimeSteps;
        var characters = decoding.Characters.Select(c =>
        {
            int left = (int)Math.Clamp(Math.Floor(((c.FirstTimeStep * ColumnsPerStep) - offset) / scale), 0, width - 1);
            int right = (int)Math.Clamp(Math.Ceiling((((c.LastTimeStep + 1) * ColumnsPerStep) - offset) / scale), left + 1, width);
            return new LineCharacter(c.Character, left, right - left, c.Confidence, c.Alternatives);
        }).ToArray();
        return new LineReading(decoding.Text, decoding.Confidence, characters);
    }
}

/// <summary>A character of a <see cref="LineReading"/>: its columns in the field image, its confidence and alternatives.</summary>
/// <param name="Character">The character.</param>
/// <param name="X">Its first column in the field image.</param>
/// <param name="Width">Its columns (from the CTC alignment, so only roughly the ink's extent).</param>
/// <param name="Confidence">Its probability at its best time step.</param>
/// <param name="Alternatives">The other likely characters at that step.</param>
public sealed record LineCharacter(char Character, int X, int Width, float Confidence, IReadOnlyList<CtcAlternative> Alternatives);
