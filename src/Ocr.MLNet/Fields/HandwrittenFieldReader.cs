using System.Collections.Concurrent;
using Ocr.MLNet.Lines;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Serving;
using SkiaSharp;
using static Ocr.MLNet.Fields.FieldReaderThresholds;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Fields;

/// <summary>
/// Reads handwritten fields (a name, an amount, a box of digits) with a character model: finds the ink, removes box
/// borders, guide lines, printed marks outside the line of writing and specks, over-segments the ink into pieces,
/// scores every plausible character (one piece or a run of neighbouring pieces) in one batched call, and picks the
/// segmentation whose characters the network likes best (dynamic programming over the cut points, with a width prior
/// and the field kind's class mask). A loosely cropped field may hold a line of its neighbour: when the line most marks
/// sit on reads poorly, the other lines of writing are read too and the likeliest kept.
/// <see cref="ReadForm(string, IReadOnlyList{FieldKind}?)"/> finds the boxes of a form page and reads each.
/// With a line recognizer (<see cref="LineRecognizer"/>, trained with CTC on fields and the lines found in them), the
/// reader keeps stages 1 and 2 (the field's box; the cleaned line of writing, or none for a blank field) and hands that
/// line to it instead of segmenting (<see cref="FieldReaderOptions.Method"/>), drawn at the size the model learnt on
/// (<c>FieldLineImage</c>); <see cref="FieldReaderOptions.CrossCheckWholeField"/> has it read the field as it is too.
/// <see cref="FieldReadingMethod.Combined"/> (the default for capitals) reads both ways and keeps the text the two readers
/// find likelier together.
/// </summary>
/// <remarks>Thread-safe: a reader may serve several threads at once.</remarks>
/// <example>
/// <code>
/// using var reader = HandwrittenFieldReader.Load("ocr.zip");
/// FieldReading name = reader.Read("name.png", FieldKind.Upper);        // "JEAN ROCH", confidence, per character
/// foreach (FormField field in reader.ReadForm("form.png"))
///     Console.WriteLine($"{field.Box}: {field.Reading.Text}");
/// </code>
/// </example>
public sealed partial class HandwrittenFieldReader : IDisposable
{
    private readonly CharacterRecognizer recognizer;
    private readonly bool ownsRecognizer;
    private readonly LineRecognizer? lines;
    private readonly bool ownsLines;
    private readonly ConcurrentDictionary<FieldKind, ClassMask> masks = new();
    private readonly ClassMask? custom;
    private readonly int sevenClass, oneClass;
    private bool disposed;

    /// <summary>Creates a reader that scores characters with <paramref name="recognizer"/> (not disposed with the reader).</summary>
    /// <param name="recognizer">A loaded character model.</param>
    /// <param name="options">What fields hold and the limits; null for the defaults.</param>
    /// <exception cref="ArgumentException">The options are invalid (every problem listed), or a custom character has no class in the model.</exception>
    /// <exception cref="InvalidOperationException">OpenCV's native library cannot be loaded (on Linux: GTK 3, <c>libgtk-3-0</c>, is missing); the message says what to install.</exception>
    /// <example>
    /// <code>
    /// using var recognizer = mlContext.Model.LoadCharacterRecognizer("ocr.zip");
    /// using var reader = new HandwrittenFieldReader(recognizer, new FieldReaderOptions { Kind = FieldKind.Digits });
    /// </code>
    /// </example>
    public HandwrittenFieldReader(CharacterRecognizer recognizer, FieldReaderOptions? options = null)
        : this(recognizer, null, options, ownsRecognizer: false, ownsLines: false)
    {
    }

    /// <summary>Creates a reader with a character model and a line recognizer (neither disposed with the reader).</summary>
    /// <param name="recognizer">A loaded character model: segmentation, and the fields the line recognizer does not read (<see cref="FieldReaderOptions.Method"/>).</param>
    /// <param name="lines">A loaded line model; null reads by segmentation alone.</param>
    /// <param name="options">What fields hold and the limits; null for the defaults.</param>
    /// <example>
    /// <code>
    /// using var characters = mlContext.Model.LoadPretrainedCharacterRecognizer(new CharacterRecognizerOptions { IntraOpThreads = 1 });
    /// using var lines = mlContext.Model.LoadLineRecognizer("amounts-finetuned.zip", intraOpThreads: 1);
    /// using var reader = new HandwrittenFieldReader(characters, lines, new FieldReaderOptions { Kind = FieldKind.Digits });
    /// </code>
    /// </example>
    public HandwrittenFieldReader(CharacterRecognizer recognizer, LineRecognizer? lines, FieldReaderOptions? options = null)
        : this(recognizer, lines, options, ownsRecognizer: false, ownsLines: false)
    {
    }

    private HandwrittenFieldReader(CharacterRecognizer recognizer, LineRecognizer? lines, FieldReaderOptions? options, bool ownsRecognizer, bool ownsLines)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        OpenCvRuntime.EnsureLoaded();
        options = options?.Clone() ?? new FieldReaderOptions();
        options.Validate();
        Options = options;
        this.recognizer = recognizer;
        this.ownsRecognizer = ownsRecognizer;
        this.lines = lines;
        this.ownsLines = ownsLines;
        if (options.Method is FieldReadingMethod.Lines or FieldReadingMethod.Combined && lines is null)
            throw new ArgumentException($"FieldReaderOptions.Method is {options.Method}, but the reader has no line recognizer: load a line model (train-fields) or use Auto.", nameof(options));
        ClassNames = recognizer.ClassNames;
        custom = options.AllowedCharacters is { } allowed ? ClassMask.For(ClassNames, allowed).WeighedBy(options.LetterFrequencies) : null;
        var classList = ClassNames.ToList();
        sevenClass = classList.IndexOf("7");
        oneClass = classList.IndexOf("1");
    }

    /// <summary>The options the reader was made with.</summary>
    public FieldReaderOptions Options { get; }

    /// <summary>The model's class names, in score order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Whether the reader has a line recognizer.</summary>
    public bool HasLineRecognizer => lines is not null;

    /// <summary>
    /// Creates a reader from a saved model: a character model (a zip written by <c>ocr-mlnet train</c> or
    /// <c>SaveCharacterModel</c>), which reads by segmentation, or a line model (written by <c>ocr-mlnet train-fields</c>),
    /// used with the packaged character model (for blank fields and the kinds it reads better). <see cref="LoadPretrained"/>
    /// loads both packaged models.
    /// </summary>
    /// <remarks>
    /// The reader's network runs each field's candidates on one thread: a field has a few dozen, too few to share out
    /// (two threads read one field 1.15× faster here for 1.36× the CPU). Read fields in parallel to use more cores, as
    /// <c>FieldEvaluation.Evaluate</c> (Evaluation) does (names on a 2-core machine: 126–152 fields/s one at a time, 236–279 in
    /// parallel). For other settings, pass a <see cref="CharacterRecognizer"/> of your own to the constructor.
    /// </remarks>
    /// <param name="modelPath">The model zip.</param>
    /// <param name="options">What fields hold and the limits; null for the defaults.</param>
    /// <returns>A reader that owns the loaded model; dispose it.</returns>
    /// <exception cref="FileNotFoundException">The model does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a character model (the message names it).</exception>
    /// <exception cref="ArgumentException">The options are invalid (every problem listed).</exception>
    /// <example>
    /// <code>
    /// using var reader = HandwrittenFieldReader.Load("ocr.zip", new FieldReaderOptions { Kind = FieldKind.Digits });
    /// </code>
    /// </example>
    public static HandwrittenFieldReader Load(string modelPath, FieldReaderOptions? options = null)
    {
        options?.Validate();
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (LineRecognizerModel.IsLineModel(modelPath))
            return Own(CharacterRecognizer.Load(PretrainedCharacterModel.OpenRead(), RecognizerOptions(options)), LineRecognizer.Load(modelPath, threads: ServingThreads.PerImage), options);
        return Own(CharacterRecognizer.Load(modelPath, RecognizerOptions(options)), null, options);
    }

    /// <summary>Creates a reader from a saved model's bytes (for example an embedded resource); the stream is read, not kept.</summary>
    /// <remarks>As <see cref="Load(string, FieldReaderOptions?)"/>: a character model, or a line model (then with the packaged character model beside it).</remarks>
    /// <param name="modelZip">The model zip.</param>
    /// <param name="options">What fields hold and the limits; null for the defaults.</param>
    /// <returns>A reader that owns the loaded models; dispose it.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a model.</exception>
    /// <example>
    /// <code>
    /// using var stream = File.OpenRead("ocr.zip");
    /// using var reader = HandwrittenFieldReader.Load(stream);
    /// </code>
    /// </example>
    public static HandwrittenFieldReader Load(Stream modelZip, FieldReaderOptions? options = null)
    {
        options?.Validate();
        ArgumentNullException.ThrowIfNull(modelZip);
        var bytes = new MemoryStream();
        modelZip.CopyTo(bytes);
        bytes.Position = 0;
        if (LineRecognizerModel.IsLineModel(bytes))
        {
            bytes.Position = 0;
            return Own(CharacterRecognizer.Load(PretrainedCharacterModel.OpenRead(), RecognizerOptions(options)), LineRecognizer.Load(bytes, threads: ServingThreads.PerImage), options);
        }

        bytes.Position = 0;
        return Own(CharacterRecognizer.Load(bytes, RecognizerOptions(options)), null, options);
    }

    /// <summary>
    /// Creates a reader with the models that ship inside Ocr.MLNet: <see cref="PretrainedCharacterModel"/> and, where this
    /// build has it, <see cref="PretrainedLineModel"/> (the CLI's <c>read</c> and <c>evaluate-fields</c> without <c>--model</c>).
    /// </summary>
    /// <param name="options">What fields hold and the limits; null for the defaults.</param>
    /// <example>
    /// <code>
    /// using var reader = HandwrittenFieldReader.LoadPretrained();
    /// FieldReading amount = reader.Read("amount.jpg", FieldKind.Digits);   // the line recognizer, where it reads digits better
    /// </code>
    /// </example>
    public static HandwrittenFieldReader LoadPretrained(FieldReaderOptions? options = null) => Load(null, null, options);

    /// <summary>Creates a reader from a character model and a line model (either null for the packaged one).</summary>
    /// <param name="characterModelPath">A character model zip; null for <see cref="PretrainedCharacterModel"/>.</param>
    /// <param name="lineModelPath">A line model zip (train-fields); null for <see cref="PretrainedLineModel"/> where this build has it (and the method may use it).</param>
    /// <param name="options">What fields hold and the limits; null for the defaults.</param>
    /// <example>
    /// <code>
    /// using var reader = HandwrittenFieldReader.Load(characterModelPath: null, lineModelPath: "amounts-finetuned.zip");
    /// </code>
    /// </example>
    public static HandwrittenFieldReader Load(string? characterModelPath, string? lineModelPath, FieldReaderOptions? options = null)
    {
        options?.Validate();
        var characters = characterModelPath is null
            ? CharacterRecognizer.Load(PretrainedCharacterModel.OpenRead(), RecognizerOptions(options))
            : CharacterRecognizer.Load(characterModelPath, RecognizerOptions(options));
        LineRecognizer? lineRecognizer;
        try
        {
            lineRecognizer = lineModelPath is null ? PretrainedLines(options) : LineRecognizer.Load(lineModelPath, threads: ServingThreads.PerImage);
        }
        catch
        {
            characters.Dispose();
            throw;
        }

        return Own(characters, lineRecognizer, options);
    }

    /// <summary>The packaged line model for a reader that may use it (not for <see cref="FieldReadingMethod.Segmentation"/>), or null where the build has none.</summary>
    private static LineRecognizer? PretrainedLines(FieldReaderOptions? options) =>
        options?.Method == FieldReadingMethod.Segmentation || !PretrainedLineModel.IsAvailable ? null : LineRecognizer.Load(PretrainedLineModel.OpenRead(), threads: ServingThreads.PerImage);

    /// <summary>The recognizer a loaded reader owns: one intra-op thread (see <see cref="Load(string, FieldReaderOptions?)"/>), int8 unless the options say float32.</summary>
    private static CharacterRecognizerOptions RecognizerOptions(FieldReaderOptions? options) =>
        new() { IntraOpThreads = ServingThreads.PerImage, Int8Network = (options ?? new FieldReaderOptions()).Int8CharacterNetwork };

    private static HandwrittenFieldReader Own(CharacterRecognizer recognizer, LineRecognizer? lines, FieldReaderOptions? options)
    {
        try
        {
            return new HandwrittenFieldReader(recognizer, lines, options, ownsRecognizer: true, ownsLines: true);
        }
        catch
        {
            recognizer.Dispose();
            lines?.Dispose();
            throw;
        }
    }

    /// <summary>Reads the field in an image file (PNG, JPEG, BMP, GIF, WebP).</summary>
    /// <param name="imagePath">The image of one field.</param>
    /// <param name="kind">What the field holds; null for <see cref="FieldReaderOptions.Kind"/> (or the custom set).</param>
    /// <returns>The text, its confidence and each character; <see cref="FieldReading.Blank"/> for a field without ink,
    /// <see cref="FieldReading.Noise"/> (confidence 0) for noise.</returns>
    /// <exception cref="CharacterDataException">The file cannot be read, is truncated or damaged, is not an image, or declares more pixels than
    /// <see cref="FieldReaderOptions.MaxImagePixels"/> (checked before decoding).</exception>
    /// <exception cref="ArgumentException">The image holds more separate marks than <see cref="FieldReaderOptions.MaxPieces"/>.</exception>
    /// <example>
    /// <code>
    /// var amount = reader.Read("cheque-amount.jpg", FieldKind.Digits);
    /// </code>
    /// </example>
    public FieldReading Read(string imagePath, FieldKind? kind = null)
    {
        var (grey, width, height) = DecodeGrey(imagePath, Options.MaxImagePixels);
        return Read(grey, width, height, kind);
    }

    /// <summary>Reads the field in a decoded image (for ML.NET pipelines that load images).</summary>
    /// <param name="image">The image of one field.</param>
    /// <param name="kind">What the field holds; null for the options' kind.</param>
    /// <returns>The text, its confidence and each character.</returns>
    /// <example>
    /// <code>
    /// using var image = MLImage.CreateFromFile("name.png");
    /// string text = reader.Read(image, FieldKind.Upper).Text;
    /// </code>
    /// </example>
    public FieldReading Read(MLImage image, FieldKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width < 1 || image.Height < 1)
            return FieldReading.Blank;
        var grey = CharacterImageConverter.ToGrey(image);
        return Read(grey, image.Width, image.Height, kind);
    }

    /// <summary>Reads the field in 8-bit grey pixels (row-major, 0 = black); dark ink on light paper or the reverse.</summary>
    /// <param name="grey">The pixels.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="kind">What the field holds; null for the options' kind.</param>
    /// <returns>The text, its confidence and each character, boxes in these pixels.</returns>
    /// <example>
    /// <code>
    /// FieldReading reading = reader.Read(greyBytes, 300, 40, FieldKind.Upper);
    /// </code>
    /// </example>
    public FieldReading Read(ReadOnlySpan<byte> grey, int width, int height, FieldKind? kind = null) => Read(grey, width, height, kind, glyphs: null);

    /// <summary>
    /// Reads a field by segmentation (stages 1 to 4) and gives, beside the reading, the prepared pixels the character model
    /// scored for each character read, in order; none when the field was read in small letters for capitals.
    /// </summary>
    internal FieldReading ReadWithGlyphs(ReadOnlySpan<byte> grey, int width, int height, FieldKind kind, List<float[]> glyphs)
    {
        glyphs.Clear();
        return Read(grey, width, height, kind, glyphs);
    }

    /// <summary>All stages; by segmentation whenever <paramref name="glyphs"/> is given, which then receives the characters' pixels.</summary>
    private FieldReading Read(ReadOnlySpan<byte> grey, int width, int height, FieldKind? kind, List<float[]>? glyphs)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CheckPixels(grey.Length, width, height);
        var mask = MaskFor(kind);
        switch (InkCheck.Inspect(grey, width, height))
        {
            case ImageContent.Blank:
                return FieldReading.Blank;
            case ImageContent.Noise:
                return FieldReading.Noise;
        }

        var area = FindFieldArea(grey[..(width * height)].ToArray(), width, height);
        var segmented = CleanAndFindLines(area, mask.DigitsOnly);
        var method = glyphs is null ? MethodFor(kind) : FieldReadingMethod.Segmentation;
        if (method == FieldReadingMethod.Segmentation)
            return ReadBestLine(segmented, mask, area.X, area.Y, glyphs);
        if (method == FieldReadingMethod.Combined)
            return ReadCombined(segmented, area, kind, mask);
        // The first line that holds ink (the line most tall marks sit on is empty when the cleaning removed its marks).
        var first = segmented.FirstOrDefault(line => line.Pieces.Count > 0);
        return first is null ? FieldReading.Blank : ReadWithLines(first, area, kind, alsoScore: null, out _);
    }

    /// <summary>
    /// How <see cref="FieldReadingMethod.Auto"/> reads a kind when the reader has a line recognizer, measured on the dev
    /// folders' rows 1–400 with the packaged models (README, "Fields that learn"): digits by the line recognizer
    /// alone (segmentation reads amounts far worse, and combining with it only lowers them), capitals by both combined
    /// (about the segmentation's error rate, and a confidence that can be routed on), other kinds, which the dev folders
    /// do not hold, by segmentation.
    /// </summary>
    internal static FieldReadingMethod AutoMethod(FieldKind kind) => kind switch
    {
        FieldKind.Digits => FieldReadingMethod.Lines,
        FieldKind.Upper => FieldReadingMethod.Combined,
        _ => FieldReadingMethod.Segmentation,
    };

    /// <summary>How a field of <paramref name="kind"/> is read: the options' method, with Auto resolved (segmentation where the reader has no line recognizer or a custom character set).</summary>
    private FieldReadingMethod MethodFor(FieldKind? kind) => lines is null ? FieldReadingMethod.Segmentation : Options.Method switch
    {
        FieldReadingMethod.Auto => Options.AllowedCharacters is null ? AutoMethod(kind ?? Options.Kind) : FieldReadingMethod.Segmentation,
        var chosen => chosen,
    };

    /// <summary>
    /// Stages 3 and 4 by the line recognizer, for a field whose cleaning (stage 2) found ink (a field without is blank, as
    /// segmentation says): the cleaned line the segmentation would read first goes to the line recognizer, drawn at the
    /// size the synthetic fields have (<see cref="FieldLineImage"/>); the characters' boxes come back from the CTC
    /// alignment in the field's pixels. <paramref name="alsoScoreProbability"/> is the probability the line recognizer gives
    /// <paramref name="alsoScore"/> (another reader's text) on the same views, 0 without one.
    /// </summary>
    private FieldReading ReadWithLines(FieldSegmentation segmentation, FieldArea area, FieldKind? kind, string? alsoScore, out float alsoScoreProbability)
    {
        var line = FieldLineImage.Of(segmentation, area, kind ?? Options.Kind)!;
        using var image = line.ToImage();
        string allowed = Options.AllowedCharacters ?? CtcDecoder.AllowedCharactersFor(kind ?? Options.Kind, LineImageFormat.DefaultAlphabet);
        Func<LineCharacter, FieldBox> boxOf = line.BoxInField;
        using var field = Options.CrossCheckWholeField ? LinePreparation.FromGrey(area.Grey, area.Width, area.Height) : null;
        var (reading, view, otherProbability) = lines!.ReadViews(field is null ? [image] : [image, field], allowed, Options.LetterFrequencies, alsoScore);
        alsoScoreProbability = otherProbability;
        if (view == 1)
            boxOf = c => new FieldBox(area.X + c.X, area.Y, c.Width, area.Height);

        var characters = reading.Characters.Where(c => c.Character != ' ').Select(c => new CharacterReading(
            boxOf(c), c.Character.ToString(), c.Confidence,
            [new ClassScore(c.Character.ToString(), c.Confidence), .. c.Alternatives.Take(Options.Alternatives - 1).Select(a => new ClassScore(a.Character.ToString(), a.Probability))]))
            .ToArray();
        return new FieldReading(reading.Text, reading.Confidence, characters);
    }

    /// <summary>
    /// The stage seam for other recognizers (a line recognizer): a field's cleaned lines of writing, as the reader's own
    /// stages 1 and 2 find them (inside the field's box when it was cropped with one; box borders, guide lines, a printed
    /// prompt, specks and punctuation removed; the line most tall marks sit on first, then every other line of writing).
    /// </summary>
    /// <param name="grey">The field's 8-bit grey pixels, row-major; dark ink on light paper or the reverse.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="kind">What the field holds (a digit field's joined digits are also cut where the ink's top dips; that does not change the line's pixels); null for the options' kind.</param>
    /// <returns>The lines that hold ink, in the order the reader tries them; empty for a blank field.</returns>
    /// <exception cref="ArgumentException">The field holds more marks than <see cref="FieldReaderOptions.MaxPieces"/>.</exception>
    /// <example>
    /// <code>
    /// foreach (CleanedLine line in reader.CleanLines(grey, width, height, FieldKind.Upper))
    ///     Console.WriteLine($"{line.Box}: {line.Width}×{line.Height} working pixels");
    /// </code>
    /// </example>
    internal IReadOnlyList<CleanedLine> CleanLines(ReadOnlySpan<byte> grey, int width, int height, FieldKind? kind = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CheckPixels(grey.Length, width, height);
        var mask = MaskFor(kind);
        var area = FindFieldArea(grey[..(width * height)].ToArray(), width, height);
        return CleanAndFindLines(area, mask.DigitsOnly).Select(line => line.ToCleanedLine(area.X, area.Y)).OfType<CleanedLine>().ToArray();
    }

    /// <summary>
    /// Stage 1, find the field: a field cropped with its box (and a margin, or the prompt above it) is read inside the
    /// box, as a form's fields are; otherwise the whole image.
    /// </summary>
    internal static FieldArea FindFieldArea(byte[] pixels, int width, int height) =>
        FormBoxFinder.Find(pixels, width, height) is [var (box, inner)] && box.Width >= BoxedFieldMinWidthShare * width
            ? new FieldArea(Crop(pixels, width, inner), inner.Width, inner.Height, inner.X, inner.Y)
            : new FieldArea(pixels, width, height, 0, 0);

    /// <summary>
    /// Stage 2, clean the image and find the lines of writing: each line cut into pieces at candidate cuts, lazily (the
    /// field is cleaned once; a line is cut only when the sequence reaches it).
    /// </summary>
    private IEnumerable<FieldSegmentation> CleanAndFindLines(FieldArea area, bool digitsOnly) =>
        FieldSegmenter.SegmentLines(area.Grey, area.Width, area.Height, Options.MaxPieces, digitsOnly);

    /// <summary>
    /// Stages 3 and 4 for each line: reads the line most of the field's tall marks sit on; when that reading is poor (the decoder's score per character
    /// below <see cref="PoorLineScore"/>), also every other line of writing the field holds, and keeps the one with the best
    /// decoder score plus <see cref="CharacterReward"/> per character. A loosely cropped name holds the line above, whole,
    /// while its own is cut by the crop; the line above (digits, a printed prompt) reads poorly as capitals.
    /// </summary>
    private FieldReading ReadBestLine(IEnumerable<FieldSegmentation> lines, ClassMask mask, int offsetX, int offsetY, List<float[]>? glyphs = null) =>
        ReadBestLine(lines, mask, offsetX, offsetY, out _, glyphs);

    /// <summary>As above; <paramref name="first"/> is the first line and its scored candidates (null when it has none), which a combined reading reuses.</summary>
    private FieldReading ReadBestLine(IEnumerable<FieldSegmentation> lines, ClassMask mask, int offsetX, int offsetY,
        out (FieldSegmentation Line, ScoredCandidates? Scored) first, List<float[]>? glyphs = null)
    {
        using var line = lines.GetEnumerator();
        line.MoveNext(); // a field has at least one line, blank or not
        first = (line.Current, Recognise(line.Current));
        var best = ReadLine(line.Current, first.Scored, mask, offsetX, offsetY, out var bestFit, glyphs);
        if (bestFit.PerCharacter > PoorLineScore)
            return best;
        var lineGlyphs = glyphs is null ? null : new List<float[]>();
        while (line.MoveNext())
        {
            var reading = ReadLine(line.Current, Recognise(line.Current), mask, offsetX, offsetY, out var fit, lineGlyphs);
            if (fit.Rewarded > bestFit.Rewarded)
            {
                (best, bestFit) = (reading, fit);
                if (glyphs is not null)
                {
                    glyphs.Clear();
                    glyphs.AddRange(lineGlyphs!);
                }
            }
        }

        return best;
    }

    private static byte[] Crop(byte[] page, int width, FieldBox inner)
    {
        var crop = new byte[inner.Width * inner.Height];
        for (int y = 0; y < inner.Height; y++)
            page.AsSpan(((inner.Y + y) * width) + inner.X, inner.Width).CopyTo(crop.AsSpan(y * inner.Width));
        return crop;
    }

    /// <summary>
    /// Finds the boxes of a form page (rectangles of long printed lines) and reads each one that holds ink, in reading
    /// order (rows top to bottom, left to right within a row). Frames much taller than the page's typical box (a
    /// paragraph's frame) are not fields.
    /// </summary>
    /// <param name="pagePath">The page image.</param>
    /// <param name="kinds">The kind of each field in the order returned; null, or a list shorter than the fields, for the options' kind.</param>
    /// <returns>The fields with their box (page pixels) and reading; empty when the page has no boxes.</returns>
    /// <exception cref="CharacterDataException">The file cannot be read or decoded, or is too large.</exception>
    /// <example>
    /// <code>
    /// var kinds = Enumerable.Repeat(FieldKind.Digits, 28).Append(FieldKind.Lower).Append(FieldKind.Upper).ToArray();
    /// IReadOnlyList&lt;FormField&gt; fields = reader.ReadForm("hsf.png", kinds);
    /// </code>
    /// </example>
    public IReadOnlyList<FormField> ReadForm(string pagePath, IReadOnlyList<FieldKind>? kinds = null)
    {
        var (grey, width, height) = DecodeGrey(pagePath, Options.MaxImagePixels);
        return ReadForm(grey, width, height, kinds);
    }

    /// <summary>Reads a form page given as 8-bit grey pixels; see <see cref="ReadForm(string, IReadOnlyList{FieldKind}?)"/>.</summary>
    /// <param name="grey">The page's pixels, row-major, 0 = black.</param>
    /// <param name="width">Page width.</param>
    /// <param name="height">Page height.</param>
    /// <param name="kinds">The kind of each field in the order returned; null for the options' kind.</param>
    /// <returns>The fields with their box and reading, in reading order.</returns>
    /// <example>
    /// <code>
    /// var fields = reader.ReadForm(pageGrey, 2560, 3300);
    /// </code>
    /// </example>
    public IReadOnlyList<FormField> ReadForm(ReadOnlySpan<byte> grey, int width, int height, IReadOnlyList<FieldKind>? kinds = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CheckPixels(grey.Length, width, height);
        var page = grey[..(width * height)].ToArray();
        var result = new List<FormField>();
        // Stage 1 for a page: its boxes; each box's inside then goes through stages 2 to 4 on its first line of writing.
        foreach (var (box, inner) in FormBoxFinder.Find(page, width, height))
        {
            var kind = kinds is not null && result.Count < kinds.Count ? kinds[result.Count] : (FieldKind?)null;
            var mask = MaskFor(kind);
            var area = new FieldArea(Crop(page, width, inner), inner.Width, inner.Height, inner.X, inner.Y);
            var segmentation = CleanAndFindLines(area, mask.DigitsOnly).First();
            if (segmentation.Pieces.Count == 0)
                continue;
            var reading = MethodFor(kind) switch
            {
                FieldReadingMethod.Lines => ReadWithLines(segmentation, area, kind, alsoScore: null, out _),
                FieldReadingMethod.Combined => ReadCombined([segmentation], area, kind, mask),
                _ => ReadLine(segmentation, Recognise(segmentation), mask, area.X, area.Y, out _),
            };
            result.Add(new FormField(box, kind ?? Options.Kind, reading));
        }

        return result;
    }

    /// <summary>Releases the model when the reader loaded it.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        if (ownsRecognizer)
            recognizer.Dispose();
        if (ownsLines)
            lines?.Dispose();
    }

    /// <summary>Decodes an image file to grey, refusing one that declares more than <paramref name="maxPixels"/> before decoding it.</summary>
    internal static (byte[] Grey, int Width, int Height) DecodeGrey(string path, long maxPixels)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var bitmap = ImageDecoder.Decode(path, full: true, maxPixels, out string? problem, $"{nameof(FieldReaderOptions)}.{nameof(FieldReaderOptions.MaxImagePixels)}")
            ?? throw new CharacterDataException($"The image '{path}' {problem}.", path, null);
        return (CharacterImageConverter.ToGrey(bitmap), bitmap.Width, bitmap.Height);
    }

    private static void CheckPixels(int length, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (length < (long)width * height)
            throw new ArgumentException($"The image holds {length} bytes; {width}×{height} grey pixels need {(long)width * height}.", "grey");
    }

    private ClassMask MaskFor(FieldKind? kind)
    {
        if (kind is null && custom is not null)
            return custom;
        var k = kind ?? Options.Kind;
        if (!Enum.IsDefined(k))
            throw new ArgumentOutOfRangeException(nameof(kind), k, "Use Alphanumeric, Digits, Upper, Lower or Letters.");
        var mask = masks.GetOrAdd(k, key => ClassMask.For(ClassNames, key).WeighedBy(Options.LetterFrequencies));
        if (!mask.Allowed.Contains(true))
            throw new ArgumentException($"The model has no class a {k} field may hold; its classes are {string.Join(" ", ClassNames)}. Read the field with a kind the model covers, or with a model that has these classes.", nameof(kind));
        return mask;
    }

    /// <summary>
    /// Stage 4 for one line whose candidate characters stage 3 scored (<see cref="Recognise"/>; null: none): decodes them. <paramref name="fit"/> says how well the reading fits the field (for choosing between
    /// lines). A capitals field whose writer wrote in small letters (a quarter of the characters or more read best as a
    /// small letter of its own class: a, b, d, e, …) is read with the small letters too and given in capitals.
    /// </summary>
    private FieldReading ReadLine(FieldSegmentation segmentation, ScoredCandidates? scored, ClassMask mask, int offsetX, int offsetY, out LineFit fit, List<float[]>? glyphs = null)
    {
        fit = LineFit.Blank;
        glyphs?.Clear();
        if (scored is null)
            return FieldReading.Blank;
        var reading = Decode(segmentation, scored, mask, offsetX, offsetY, out fit, out var chosen);
        if (mask.SmallLetters is { } small && !reading.IsBlank)
        {
            var inSmallLetters = Decode(segmentation, scored, small, offsetX, offsetY, out var smallFit, out var smallChosen);
            int written = smallChosen.Count(c => !mask.Allowed[c.Class]);
            if (written >= SmallLetterShare * smallChosen.Count)
            {
                // Read in small letters: its glyphs are not the capitals the text names, so none is given.
                fit = smallFit;
                return InCapitals(inSmallLetters);
            }
        }

        foreach (var (candidate, _) in chosen)
            glyphs?.Add(scored.Pixels.AsSpan(candidate * CharacterFormat.PixelCount, CharacterFormat.PixelCount).ToArray());
        return reading;
    }

    /// <summary>
    /// Stage 3, recognise: every plausible character of a line (a run of neighbouring pieces) with the network's scores,
    /// all in one batched call; null when there is none.
    /// </summary>
    private ScoredCandidates? Recognise(FieldSegmentation segmentation)
    {
        var pieces = segmentation.Pieces;
        int n = pieces.Count;
        if (n == 0)
            return null;
        double height = segmentation.CharacterHeight;
        var pieceBounds = new (int Left, int Top, int Right, int Bottom)?[n];
        for (int i = 0; i < n; i++)
            pieceBounds[i] = segmentation.InkBounds(i, i);

        // Every plausible character: a run of up to four neighbouring pieces, not wider than a wide letter, not across a gap.
        var candidates = new List<Candidate>();
        for (int i = 0; i < n; i++)
        {
            (int Left, int Top, int Right, int Bottom)? bounds = null;
            for (int j = i; j < Math.Min(n, i + MaxPiecesPerCharacter); j++)
            {
                if (j > i && pieces[j].Group != pieces[j - 1].Group && pieces[j].Left - pieces[j - 1].Right > CandidateMaxGap * height)
                    break;
                bounds = Union(bounds, pieceBounds[j]);
                if (bounds is not { } b)
                    continue;
                if (j > i && b.Right - b.Left > CandidateMaxWidth * height)
                    break;
                candidates.Add(new Candidate(i, j, b));
            }
        }

        if (candidates.Count == 0)
            return null;
        int size = CharacterFormat.PixelCount;
        var pixels = new float[candidates.Count * size];
        for (int c = 0; c < candidates.Count; c++)
            segmentation.Prepare(candidates[c].First, candidates[c].Last, candidates[c].Bounds, pixels.AsSpan(c * size, size));
        return new ScoredCandidates(candidates, pixels, recognizer.ScorePixels(pixels));
    }

    /// <summary>
    /// Stage 4, decode: the best segmentation of a line under a mask (dynamic programming over the cut points, with the
    /// letter pairs when the mask has them) and its reading; <paramref name="chosenCharacters"/> are the characters' candidates and classes.
    /// </summary>
    private FieldReading Decode(FieldSegmentation segmentation, ScoredCandidates scored, ClassMask mask, int offsetX, int offsetY,
        out LineFit fit, out List<(int Candidate, int Class)> chosenCharacters)
    {
        fit = LineFit.Blank;
        var pieces = segmentation.Pieces;
        int n = pieces.Count;
        double height = segmentation.CharacterHeight;
        double cutCost = mask.DigitsOnly ? DigitCutCost : CutCost;
        var candidates = scored.Candidates;
        float[] scores = MaskedScores(scored, mask);
        int classes = ClassNames.Count;

        // Dynamic programming over cut points and, with letter pairs, the last character's class: best[k, s] is the best
        // score of pieces [0, k) whose last character is of class s − 1 (s = 0: none yet, or no pairs to follow).
        float[,]? pairs = mask.PairBonus;
        int states = pairs is null ? 1 : classes + 1;
        var readings = new (int Class, double Score)[candidates.Count][];
        for (int c = 0; c < candidates.Count; c++)
            readings[c] = CandidateReadings(scores.AsSpan(c * classes, classes), mask, candidates[c], height, pairs is null ? 1 : PairReadings);
        var best = Unreached(n + 1, states);
        var from = new (int Candidate, int Class, int State)[n + 1, states];
        var (byEnd, fragment) = Lattice(candidates, n, height);
        double Pair(int state, int nextClass) => pairs is null ? 0 : pairs[state, nextClass + 1];
        for (int k = 1; k <= n; k++)
        {
            for (int s = 0; fragment[k - 1] && s < states; s++)
            {
                if (best[k - 1, s] - FragmentDropCost > best[k, s])
                {
                    best[k, s] = best[k - 1, s] - FragmentDropCost;
                    from[k, s] = (-1, -1, s);
                }
            }

            if (!byEnd.TryGetValue(k - 1, out var ending))
                continue;
            foreach (var (candidate, index) in ending)
            {
                double boundary = candidate.First > 0 ? BoundaryCost(pieces[candidate.First - 1], pieces[candidate.First], height, cutCost) : 0;
                for (int s = 0; s < states; s++)
                {
                    double before = best[candidate.First, s];
                    if (double.IsNegativeInfinity(before))
                        continue;
                    foreach (var (cls, score) in readings[index])
                    {
                        double value = before + score + Pair(s, cls) - boundary;
                        int next = pairs is null ? 0 : cls + 1;
                        if (value > best[k, next])
                        {
                            best[k, next] = value;
                            from[k, next] = (index, cls, s);
                        }
                    }
                }
            }
        }

        // Pieces that belong to no scored character (no ink after cleaning) are skipped by bridging from the last reachable end;
        // a step without a candidate is a dropped fragment.
        var chosen = new List<(int Candidate, int Class)>();
        chosenCharacters = chosen;
        int end = n, state = -1;
        double pathScore = double.NegativeInfinity;
        for (; end > 0 && state < 0; end--)
        {
            for (int s = 0; s < states; s++)
            {
                double value = best[end, s] + (pairs is null ? 0 : pairs[s, 0]);
                if (value > pathScore)
                    (pathScore, state) = (value, s);
            }

            if (state >= 0)
                break;
        }

        while (end > 0)
        {
            var step = from[end, state];
            if (step.Candidate >= 0)
            {
                chosen.Add((step.Candidate, step.Class));
                end = candidates[step.Candidate].First;
            }
            else
            {
                end--;
            }

            state = step.State;
        }

        chosen.Reverse();
        if (chosen.Count > 0)
        {
            // How well the line fits is the network's and the shapes' word alone: a printed prompt's common words must not win the line.
            int previous = 0;
            foreach (var (_, cls) in chosen)
            {
                pathScore -= Pair(previous, cls);
                previous = pairs is null ? 0 : cls + 1;
            }

            pathScore -= pairs is null ? 0 : pairs[previous, 0];
        }

        if (chosen.Count > 0)
            fit = new LineFit(pathScore, chosen.Count);
        var characters = new List<CharacterReading>(chosen.Count);
        var text = new System.Text.StringBuilder();
        double scale = segmentation.Scale;
        float confidence = 1f;
        // A space is a gap clearly wider than the field's usual gap between characters (some people print letters far apart).
        var gaps = chosen.Skip(1).Select((c, i) => candidates[c.Candidate].Bounds.Left - candidates[chosen[i].Candidate].Bounds.Right).Order().ToArray();
        double spaceGap = Math.Max(SpaceMinGap * height, gaps.Length > 0 ? SpaceGapOverMedian * Math.Max(0, gaps[gaps.Length / 2]) : 0);
        int previousRight = int.MinValue;
        foreach (var (index, cls) in chosen)
        {
            var candidate = candidates[index];
            var row = scores.AsSpan(index * classes, classes);
            var alternatives = Alternatives(row, mask);
            if (previousRight != int.MinValue && candidate.Bounds.Left - previousRight > spaceGap)
                text.Append(' ');
            previousRight = candidate.Bounds.Right;
            var box = new FieldBox(
                offsetX + (int)Math.Floor(candidate.Bounds.Left / scale), offsetY + (int)Math.Floor(candidate.Bounds.Top / scale),
                Math.Max(1, (int)Math.Ceiling((candidate.Bounds.Right - candidate.Bounds.Left) / scale)),
                Math.Max(1, (int)Math.Ceiling((candidate.Bounds.Bottom - candidate.Bounds.Top) / scale)));
            string label = mask.Labels[cls];
            double allowed = AllowedSum(row, mask);
            float labelConfidence = allowed > 0 ? (float)(row[cls] / allowed) : 0f;
            characters.Add(new CharacterReading(box, label, labelConfidence, alternatives));
            text.Append(label);
            confidence *= labelConfidence;
        }

        return characters.Count == 0 ? FieldReading.Blank : new FieldReading(text.ToString(), confidence, characters);
    }

    /// <summary>
    /// The network's scores of a line's candidates as the decoder weighs them under <paramref name="mask"/>: look-alikes
    /// folded into the classes they stand for, letters weighed by their prior, and, where sevens are crossed, a seven
    /// without the bar moved to one.
    /// </summary>
    private float[] MaskedScores(ScoredCandidates scored, ClassMask mask)
    {
        int size = CharacterFormat.PixelCount;
        float[] scores = (float[])scored.Scores.Clone();
        int classes = ClassNames.Count;
        bool crossedSevens = Options.CrossedSevens && sevenClass >= 0 && oneClass >= 0 && mask.Allowed[sevenClass] && mask.Allowed[oneClass];
        for (int c = 0; c < scored.Candidates.Count; c++)
        {
            var row = scores.AsSpan(c * classes, classes);
            mask.Fold(row);
            mask.Weigh(row);
            // Where sevens are crossed, a seven without the bar is a one with a long up-stroke.
            if (crossedSevens && !SevenStroke.HasCrossbar(scored.Pixels.AsSpan(c * size, size)))
            {
                row[oneClass] += row[sevenClass];
                row[sevenClass] = 0;
            }
        }

        return scores;
    }

    /// <summary>A dynamic programme's table of best scores, every cell unreached but the start, [0, 0].</summary>
    private static double[,] Unreached(int rows, int columns)
    {
        var table = new double[rows, columns];
        for (int k = 0; k < rows; k++)
        {
            for (int s = 0; s < columns; s++)
                table[k, s] = double.NegativeInfinity;
        }

        table[0, 0] = 0;
        return table;
    }

    /// <summary>
    /// The decoder's lattice over a line's <paramref name="pieces"/> pieces: the candidates (with their index) by the piece
    /// they end on, and which pieces are fragments far smaller than a character (a hyphen, the end of a T's bar split off),
    /// which may be no character at all.
    /// </summary>
    private static (Dictionary<int, (Candidate Candidate, int Index)[]> ByEnd, bool[] Fragment) Lattice(List<Candidate> candidates, int pieces, double height)
    {
        var byEnd = candidates.Select((c, index) => (c, index)).GroupBy(x => x.c.Last).ToDictionary(g => g.Key, g => g.ToArray());
        var fragment = new bool[pieces];
        foreach (var candidate in candidates.Where(c => c.First == c.Last))
            fragment[candidate.First] = IsFragment(candidate, height);
        return (byEnd, fragment);
    }

    /// <summary>
    /// The prior cost of a character boundary between two pieces: a cut through a connected stroke costs
    /// <paramref name="cutCost"/>, a boundary between marks that nearly touch half of it, a clear gap nothing.
    /// </summary>
    private static double BoundaryCost(InkPiece left, InkPiece right, double height, double cutCost) =>
        left.Group == right.Group ? cutCost : right.Left - left.Right < NearlyTouchingGap * height ? cutCost / 2 : 0;

    /// <summary>
    /// How much the decoder likes a candidate read as each of its <paramref name="count"/> best allowed classes: the log of
    /// the network's probability (not renormalised, so a crop the network takes for a forbidden class or for junk scores
    /// low), less a penalty for characters wider than a character and for fragments.
    /// </summary>
    private static (int Class, double Score)[] CandidateReadings(ReadOnlySpan<float> scores, ClassMask mask, Candidate candidate, double height, int count)
    {
        double penalty = ShapePenalty(candidate, height);
        var readings = new List<(int Class, double Score)>(count);
        for (int c = 0; c < scores.Length; c++)
        {
            if (!mask.Allowed[c])
                continue;
            double score = Math.Log(scores[c] + LogProbabilityFloor) - penalty;
            int at = readings.Count;
            while (at > 0 && readings[at - 1].Score < score)
                at--;
            if (at < count)
            {
                readings.Insert(at, (c, score));
                if (readings.Count > count)
                    readings.RemoveAt(count);
            }
        }

        return [.. readings];
    }

    /// <summary>
    /// What a candidate's shape costs whatever it is read as: a penalty for characters wider than a character, and for
    /// fragments far smaller than one (the end of a stroke cut off is part of its neighbour, not a character).
    /// </summary>
    private static double ShapePenalty(Candidate candidate, double height)
    {
        double ratio = (candidate.Bounds.Right - candidate.Bounds.Left) / height;
        double widthPenalty = ratio > WidePenaltyFrom ? WidePenalty * (ratio - WidePenaltyFrom) * (ratio - WidePenaltyFrom) : 0;
        return widthPenalty + (IsFragment(candidate, height) ? SmallPenalty : 0);
    }

    /// <summary>Whether a candidate's width and height are both under <see cref="SmallFrom"/> character heights.</summary>
    private static bool IsFragment(Candidate candidate, double height) =>
        Math.Max(candidate.Bounds.Right - candidate.Bounds.Left, candidate.Bounds.Bottom - candidate.Bounds.Top) < SmallFrom * height;

    /// <summary>
    /// A reading of small letters given in capitals: each label upper-cased and its alternatives of one letter (a and A)
    /// added together.
    /// </summary>
    private static FieldReading InCapitals(FieldReading reading)
    {
        var characters = reading.Characters.Select(c =>
        {
            var alternatives = c.Alternatives.GroupBy(a => a.ClassName.ToUpperInvariant())
                .Select(g => new ClassScore(g.Key, g.Sum(a => a.Score))).OrderByDescending(a => a.Score).ToArray();
            return c with { Label = alternatives[0].ClassName, Confidence = alternatives[0].Score, Alternatives = alternatives };
        }).ToArray();
        return new FieldReading(reading.Text.ToUpperInvariant(), characters.Aggregate(1f, (p, c) => p * c.Confidence), characters);
    }

    /// <summary>The best allowed classes, their probabilities renormalised over the allowed classes.</summary>
    private IReadOnlyList<ClassScore> Alternatives(ReadOnlySpan<float> scores, ClassMask mask)
    {
        double sum = AllowedSum(scores, mask);
        var ranked = new List<ClassScore>();
        for (int c = 0; c < scores.Length; c++)
        {
            if (mask.Allowed[c])
                ranked.Add(new ClassScore(mask.Labels[c], sum > 0 ? (float)(scores[c] / sum) : 0f));
        }

        return ranked.OrderByDescending(s => s.Score).Take(Options.Alternatives).ToArray();
    }

    /// <summary>The network's probabilities summed over the allowed classes (what the alternatives are renormalised by).</summary>
    private static double AllowedSum(ReadOnlySpan<float> scores, ClassMask mask)
    {
        double sum = 0;
        for (int c = 0; c < scores.Length; c++)
        {
            if (mask.Allowed[c])
                sum += scores[c];
        }

        return sum;
    }

    /// <summary>How well a line's reading fits the field: the decoder's score and the number of characters read.</summary>
    private readonly record struct LineFit(double Score, int Characters)
    {
        public static LineFit Blank => new(double.NegativeInfinity, 0);

        public double PerCharacter => Characters > 0 ? Score / Characters : double.NegativeInfinity;

        public double Rewarded => Score + (CharacterReward * Characters);
    }

    private static (int Left, int Top, int Right, int Bottom)? Union((int Left, int Top, int Right, int Bottom)? a, (int Left, int Top, int Right, int Bottom)? b) =>
        (a, b) switch
        {
            (null, _) => b,
            (_, null) => a,
            ({ } x, { } y) => (Math.Min(x.Left, y.Left), Math.Min(x.Top, y.Top), Math.Max(x.Right, y.Right), Math.Max(x.Bottom, y.Bottom)),
        };

    /// <summary>The pixels a field is read from (the whole image, or the inside of its box) and where they lie in the image.</summary>
    /// <param name="Grey">8-bit grey pixels, row-major.</param>
    /// <param name="Width">Width.</param>
    /// <param name="Height">Height.</param>
    /// <param name="X">The area's left column in the image.</param>
    /// <param name="Y">The area's top row in the image.</param>
    internal sealed record FieldArea(byte[] Grey, int Width, int Height, int X, int Y);

    private sealed record Candidate(int First, int Last, (int Left, int Top, int Right, int Bottom) Bounds);

    /// <summary>A line's candidate characters, their prepared pixels and the network's scores (row per candidate).</summary>
    private sealed record ScoredCandidates(List<Candidate> Candidates, float[] Pixels, float[] Scores);
}
