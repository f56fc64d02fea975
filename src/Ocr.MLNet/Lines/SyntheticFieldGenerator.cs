using System.Globalization;
using System.Text;
using OpenCvSharp;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Lines;

/// <summary>
/// Draws synthetic handwritten fields (names, cheque amounts, digit boxes) from single handwritten characters, for
/// training a line recognizer: characters that touch and overlap on uneven baselines, slanted, with strokes of every
/// width, on white forms or patterned cheque paper, with printed labels, guide lines, borders and neighbours cut by the
/// crop, then blurred, noised and JPEG-compressed as a scan is.
/// </summary>
/// <remarks>
/// Field <c>i</c> is a function of (<see cref="SyntheticFieldOptions.Seed"/>, <c>i</c>) alone
/// (<see cref="Generate(long)"/>), so fields can be drawn on several threads at once and any one drawn again. One
/// instance is safe to use from several threads: it holds only the copied options, the read-only glyph source and the
/// counter of <see cref="Next"/>.
/// </remarks>
/// <example>
/// <code>
/// var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions
/// {
///     Kind = SyntheticFieldKind.Name,
///     Seed = 7,
///     EmnistFolder = "../shared/data/emnist-byclass-test",
/// });
/// SyntheticField field = generator.Generate(0);   // field.Text "JEAN-MICHEL", field.Pixels grey
/// generator.SaveSamples("samples", 100);          // 0000.png … 0099.png and labels.tsv
/// </code>
/// </example>
public sealed class SyntheticFieldGenerator
{
    private const int Side = CharacterFormat.ImageSide;

    private static readonly string[] FormLabels = ["NOM :", "PRENOM :", "NOM", "PRENOM", "Nom :", "Prenom :", "NOM :", "PRENOM :"];
    private static readonly string[] FormLines = ["DATE DE NAISSANCE", "CLASSE", "CODE RNE / UAI :", "NOM :", "PRENOM :", "SEXE", "ADRESSE", "SIGNATURE"];
    private static readonly string[] ChequeWords = ["PAGUESE A", "LA SUMA DE", "BANCO", "PESOS", "ORDEN", "SERIE", "CUENTA"];

    private readonly SyntheticFieldOptions options;
    private readonly ICharacterSource characters;
    private long next;

    /// <summary>
    /// The range of a field's height its characters take, by kind: names are written small in a tall crop, cheque amounts
    /// fill theirs. The field reader draws a cleaned line at the middle of this range (<c>FieldLineImage</c>), so the
    /// line recognizer sees the sizes it learnt on.
    /// </summary>
    internal static (double Low, double High) CharacterShare(SyntheticFieldKind kind) => kind switch
    {
        SyntheticFieldKind.Name => (0.36, 0.6),
        SyntheticFieldKind.Amount => (0.55, 0.85),
        _ => (0.45, 0.65),
    };

    /// <summary>Loads EMNIST's characters from <see cref="SyntheticFieldOptions.EmnistFolder"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid (all are listed), or <see cref="SyntheticFieldOptions.EmnistFolder"/> is not set.</exception>
    /// <exception cref="DirectoryNotFoundException">The EMNIST folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file of the split is missing.</exception>
    public SyntheticFieldGenerator(SyntheticFieldOptions options)
        : this(options, LoadEmnist(options))
    {
    }

    /// <summary>Draws the characters of <paramref name="characters"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid (all are listed), or the source lacks characters the kind needs (they are listed).</exception>
    /// <exception cref="InvalidOperationException">OpenCV's native library cannot be loaded.</exception>
    public SyntheticFieldGenerator(SyntheticFieldOptions options, ICharacterSource characters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(characters);
        options.Validate();
        this.options = options.Clone();
        this.characters = characters;
        string needed = options.Kind switch
        {
            SyntheticFieldKind.Name => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            SyntheticFieldKind.Amount or SyntheticFieldKind.DigitBoxes => "0123456789",
            _ => "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        };
        string missing = string.Concat(needed.Where(c => !characters.Contains(c)));
        if (missing.Length > 0)
            throw new ArgumentException($"The character source has no glyphs of '{missing}', which {options.Kind} fields need; use a source with upper-case letters and digits (EMNIST ByClass) or choose another Kind.", nameof(characters));
        OpenCvRuntime.EnsureLoaded();
    }

    /// <summary>A copy of the options the generator draws with.</summary>
    public SyntheticFieldOptions Options => options.Clone();

    /// <summary>The next field of the sequence: field 0, 1, 2 … of this instance; safe to call from several threads.</summary>
    public SyntheticField Next() => Generate(Interlocked.Increment(ref next) - 1);

    /// <summary>Field <paramref name="index"/>: the same seed and index always give the same pixels, text and boxes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public SyntheticField Generate(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var random = new Random(FieldSeed(options.Seed, index));
        var kind = options.Kind != SyntheticFieldKind.Mixed
            ? options.Kind
            : random.NextDouble() switch { < 0.45 => SyntheticFieldKind.Name, < 0.9 => SyntheticFieldKind.Amount, _ => SyntheticFieldKind.DigitBoxes };
        var style = WriterStyle.Draw(random, kind, options);
        var tokens = kind switch
        {
            SyntheticFieldKind.Name => SyntheticText.Name(random, options.MinNameLength, options.MaxNameLength, style.LowerCaseI),
            SyntheticFieldKind.Amount => SyntheticText.Amount(random, options.MaxAmountDigits),
            _ => SyntheticText.Digits(random, options.MaxBoxDigits),
        };
        return new FieldDrawing(this, random, kind, style, index).Draw(tokens);
    }

    /// <summary>
    /// Writes fields 0 … <paramref name="count"/> − 1 to <paramref name="folder"/> as <c>0000.png</c> … and a
    /// <c>labels.tsv</c> with the columns <c>image</c> and <c>text</c>, as the <c>handwritten-fields</c> sets are laid
    /// out. Each file is replaced whole (written beside it, then moved), so a reader never sees half a file.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="IOException">A file could not be written (the message names it).</exception>
    public void SaveSamples(string folder, int count)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Directory.CreateDirectory(folder);
        int digits = Math.Max(4, count.ToString(CultureInfo.InvariantCulture).Length);
        var labels = new StringBuilder("image\ttext\n");
        for (int i = 0; i < count; i++)
        {
            var field = Generate(i);
            string name = i.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png";
            using (var image = Mat.FromPixelData(field.Height, field.Width, MatType.CV_8UC1, field.Pixels))
            {
                Cv2.ImEncode(".png", image, out byte[] png);
                AtomicFile.Write(Path.Combine(folder, name), temporary => File.WriteAllBytes(temporary, png));
            }

            labels.Append(name).Append('\t').Append(field.Text).Append('\n');
        }

        AtomicFile.Write(Path.Combine(folder, "labels.tsv"), temporary => File.WriteAllText(temporary, labels.ToString(), new UTF8Encoding(false)));
    }

    private static ICharacterSource LoadEmnist(SyntheticFieldOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.EmnistFolder))
            throw new ArgumentException($"{nameof(SyntheticFieldOptions)}.{nameof(SyntheticFieldOptions.EmnistFolder)} is not set: set it to a folder of EMNIST ByClass files (e.g. ../shared/data/emnist-byclass-test), or pass an {nameof(ICharacterSource)}.", nameof(options));
        options.Validate();
        return EmnistCharacterSource.Load(options.EmnistFolder, options.EmnistSplit);
    }

    /// <summary>SplitMix64 of (seed, index): fields far apart in the sequence get unrelated random streams.</summary>
    internal static int FieldSeed(int seed, long index)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)index) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }

    private static double Uniform(Random random, double low, double high) => low + (random.NextDouble() * (high - low));

    private static double Gaussian(Random random)
    {
        double u = 1 - random.NextDouble(), v = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    /// <summary>How one writer writes one field: the same for all its characters, each of which varies a little around it.</summary>
    private sealed record WriterStyle(
        int Height, double CharacterHeight, double WidthFactor, double Slant, double Gap, double GapJitter, double BaselineJitter,
        double BaselineSlope, double InkLow, double InkHigh, bool Thick, int InkGrey, double InkStrength,
        bool FlaggedOnes, bool CrossedSevens, bool LowerCaseI)
    {
        public static WriterStyle Draw(Random random, SyntheticFieldKind kind, SyntheticFieldOptions options)
        {
            bool name = kind == SyntheticFieldKind.Name;
            int height = name
                ? random.Next(options.MinNameHeight, options.MaxNameHeight + 1)
                : random.Next(options.MinAmountHeight, options.MaxAmountHeight + 1);
            var (low, high) = CharacterShare(kind);
            double character = height * Uniform(random, low, high);
            // Writers lean right more often than left.
            double slant = Math.Clamp((Gaussian(random) * 0.5) + 0.15, -1, 1) * options.MaxSlantDegrees * Math.PI / 180;
            double gap = character * kind switch
            {
                // The forms' names are printed letter by letter, far apart; cheque digits run together and overlap.
                SyntheticFieldKind.Name => Uniform(random, 0.05, 0.9),
                SyntheticFieldKind.Amount => Uniform(random, -0.3, 0.15),
                _ => Uniform(random, 0.1, 0.7),
            };
            bool continental = random.NextDouble() < options.ContinentalDigitProbability;
            // Pen width: names are written with thin ball-points, cheques with anything down to a felt pen.
            double inkLow = name ? Uniform(random, 0.15, 0.5) : Uniform(random, 0.0, 0.45);
            return new WriterStyle(
                Height: height,
                CharacterHeight: character,
                WidthFactor: Uniform(random, 0.8, 1.25),
                Slant: slant,
                Gap: gap,
                GapJitter: character * Uniform(random, 0.03, 0.15),
                BaselineJitter: character * Uniform(random, 0.0, 0.07),
                BaselineSlope: Math.Tan(Uniform(random, -2, 2) * Math.PI / 180),
                InkLow: inkLow,
                InkHigh: inkLow + (name ? Uniform(random, 0.15, 0.35) : Uniform(random, 0.2, 0.45)),
                Thick: !name && random.NextDouble() < 0.2,
                InkGrey: name ? random.Next(0, 70) : random.Next(5, 70),
                InkStrength: Uniform(random, 0.85, 1),
                FlaggedOnes: continental,
                CrossedSevens: continental && random.NextDouble() < 0.8,
                LowerCaseI: name && random.NextDouble() < 0.15);
        }
    }

    /// <summary>A glyph bent and sized for the field: ink 0–1, its size, and its tight ink box.</summary>
    private sealed record PlacedGlyph(float[] Ink, int Width, int Height, Rect Box);

    /// <summary>The drawing of one field: its random stream, its paper and ink canvases, its layout.</summary>
    private sealed class FieldDrawing(SyntheticFieldGenerator owner, Random random, SyntheticFieldKind kind, WriterStyle style, long index)
    {
        private readonly SyntheticFieldOptions options = owner.options;
        private readonly float[] glyph = new float[Side * Side];

        public SyntheticField Draw(List<WrittenToken> tokens)
        {
            int height = style.Height;
            double ch = style.CharacterHeight;
            int stroke = Math.Max(1, (int)Math.Round(ch * Uniform(random, 0.06, style.Thick ? 0.16 : 0.11)));

            // Lay the tokens out left to right from 0; the field's margins and label come after.
            var glyphs = new PlacedGlyph?[tokens.Count];
            var left = new double[tokens.Count];
            var widths = new double[tokens.Count];
            double x = 0;
            for (int i = 0; i < tokens.Count; i++)
            {
                var token = tokens[i];
                double gap = style.Gap + (Gaussian(random) * style.GapJitter);
                if (token.IsSpace)
                {
                    widths[i] = ch * Uniform(random, 0.5, 1.3);
                }
                else if (token.IsMark)
                {
                    // Separators sit close to their digits.
                    gap = Math.Max(gap, -ch * 0.05) * 0.6;
                    widths[i] = MarkWidth(token.Draw, ch, stroke);
                }
                else
                {
                    var placed = Bend(token.Draw, ch * Uniform(random, 0.9, 1.1));
                    glyphs[i] = placed;
                    widths[i] = placed.Width;
                }

                x += i == 0 ? 0 : gap;
                // Never so far back that a character hides the one before it.
                if (i > 0)
                    x = Math.Max(x, left[i - 1] + (widths[i - 1] * 0.45));
                left[i] = x;
                x += widths[i];
            }

            double textWidth = x;
            int width, textLeft;
            string? label = null;
            double labelScale = 0;
            var font = random.NextDouble() < 0.5 ? HersheyFonts.HersheyDuplex : HersheyFonts.HersheySimplex;
            int labelThickness = 1;
            int labelWidth = 0;
            bool labelAbove = false;
            if (kind == SyntheticFieldKind.Name)
            {
                if (random.NextDouble() < options.LabelProbability)
                {
                    label = FormLabels[random.Next(FormLabels.Length)];
                    labelAbove = random.NextDouble() < 0.25;
                    // Printed capitals about a third of the crop's height, whatever the writing's size.
                    labelScale = height * Uniform(random, 0.22, 0.36) / 22.0;
                    // Bold print only where it is large enough to stay legible.
                    labelThickness = labelScale > 0.45 && random.NextDouble() < 0.6 ? 2 : 1;
                    labelWidth = Cv2.GetTextSize(label, font, labelScale, labelThickness, out _).Width;
                }

                textLeft = random.Next(3, 30) + (label is not null && !labelAbove ? labelWidth + random.Next(15, 60) : 0);
                width = Math.Max(random.Next(280, 391), textLeft + (int)Math.Ceiling(textWidth) + random.Next(4, 30));
            }
            else if (kind == SyntheticFieldKind.Amount)
            {
                textLeft = random.Next(0, 9);
                width = textLeft + (int)Math.Ceiling(textWidth) + random.Next(0, 9);
            }
            else
            {
                textLeft = random.Next(4, 12);
                width = textLeft + (int)Math.Ceiling(textWidth) + random.Next(4, 12);
            }

            var paper = new byte[width * height];
            var ink = new byte[width * height];
            using var paperMat = Mat.FromPixelData(height, width, MatType.CV_8UC1, paper);
            using var inkMat = Mat.FromPixelData(height, width, MatType.CV_8UC1, ink);
            DrawPaper(paper, paperMat, width, height);

            // The baseline: the text sits anywhere that keeps most of it inside (cheques' digits often touch the edges).
            double spare = height - ch;
            double baseline = kind == SyntheticFieldKind.Name
                ? ch + (spare * Uniform(random, 0.25, 0.8))
                : ch + (spare * Uniform(random, 0.2, 0.8));
            var boxes = new List<SyntheticCharacterBox>(tokens.Count);
            for (int i = 0; i < tokens.Count; i++)
            {
                var token = tokens[i];
                int gx = textLeft + (int)Math.Round(left[i]);
                double y = baseline + (left[i] * style.BaselineSlope) + (Gaussian(random) * style.BaselineJitter);
                Rect box;
                if (glyphs[i] is { } placed)
                {
                    int gy = (int)Math.Round(y - placed.Height);
                    Paste(ink, width, height, placed, gx, gy);
                    box = new Rect(gx + placed.Box.X, gy + placed.Box.Y, placed.Box.Width, placed.Box.Height);
                    if (token.Text == 'E' && kind == SyntheticFieldKind.Name && random.NextDouble() < 0.06)
                        Accent(inkMat, box, stroke);
                }
                else if (token.IsMark)
                {
                    box = DrawMark(inkMat, token.Draw, gx, y, ch, stroke);
                }
                else
                {
                    box = new Rect(gx, (int)Math.Round(y - ch), (int)Math.Round(widths[i]), (int)Math.Round(ch));
                }

                if (token.InText)
                    boxes.Add(Clip(token.Text, box, width, height));
            }

            int textRight = textLeft + (int)Math.Ceiling(textWidth);
            DrawClutter(paperMat, inkMat, ink, width, height, textLeft, textRight, baseline, ch, stroke, label, labelAbove, font, labelScale, labelThickness, labelWidth);

            var pixels = Scan(paper, ink, width, height);
            string text = string.Concat(tokens.Where(t => t.InText).Select(t => t.Text));
            return new SyntheticField(index, kind, pixels, width, height, text, [.. boxes]);
        }

        /// <summary>
        /// A glyph of <paramref name="character"/>, cut to its ink, scaled to <paramref name="targetHeight"/>, slanted, its
        /// stroke thinned or thickened.
        /// </summary>
        private PlacedGlyph Bend(char character, double targetHeight)
        {
            owner.characters.CopyGlyph(character, random, glyph);
            if (character == '1' && style.FlaggedOnes)
                ContinentalDigits.AddFlag(glyph, random);
            else if (character == '7' && style.CrossedSevens)
                ContinentalDigits.AddCrossbar(glyph, random);

            var (cx, cy, cw, chh) = InkBounds(glyph, Side, Side, 0.1f);
            if (cw == 0)
                (cx, cy, cw, chh) = (0, 0, Side, Side);
            double sy = targetHeight / chh;
            // Narrow glyphs (1, I) keep their narrowness; the writer's width factor applies to all.
            double sx = sy * style.WidthFactor * Uniform(random, 0.9, 1.1);
            double k = Math.Tan(style.Slant + (Gaussian(random) * 0.05));
            double h = chh * sy;
            double shift = k < 0 ? -k * h : 0;
            int outWidth = (int)Math.Ceiling((cw * sx) + (Math.Abs(k) * h)) + 2;
            int outHeight = (int)Math.Ceiling(h) + 2;
            var output = new float[outWidth * outHeight];
            using (var source = Mat.FromPixelData(Side, Side, MatType.CV_32FC1, glyph))
            using (var crop = new Mat(source, new Rect(cx, cy, cw, chh)))
            using (var result = Mat.FromPixelData(outHeight, outWidth, MatType.CV_32FC1, output))
            using (var transform = new Mat(2, 3, MatType.CV_64FC1))
            {
                // x' = sx·u + k·(h − sy·v): the top leans right for k > 0, the bottom stays on the baseline.
                transform.Set(0, 0, sx);
                transform.Set(0, 1, -k * sy);
                transform.Set(0, 2, (k * h) + shift + 1);
                transform.Set(1, 0, 0.0);
                transform.Set(1, 1, sy);
                transform.Set(1, 2, 1.0);
                Cv2.WarpAffine(crop, result, transform, new Size(outWidth, outHeight), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
                if (style.Thick)
                {
                    using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2, 2));
                    Cv2.Dilate(result, result, kernel);
                }
            }

            // Every glyph at full ink first: EMNIST's thin strokes are pale, and a pen's line is not.
            float peak = 0;
            foreach (float v in output)
                peak = Math.Max(peak, v);
            float gain = peak > 0 ? 1 / peak : 1;
            // Levels: a high floor thins the stroke to a ball-point's line, a low ceiling fattens it.
            float low = (float)style.InkLow, range = (float)(style.InkHigh - style.InkLow);
            for (int i = 0; i < output.Length; i++)
                output[i] = Math.Clamp(((output[i] * gain) - low) / range, 0f, 1f);
            if (kind == SyntheticFieldKind.Name && StrokeWidth(output, outWidth, outHeight) > Math.Max(2.6, targetHeight * 0.15))
            {
                // A bold EMNIST glyph in a ball-point name: one erosion brings it to the forms' thin line.
                using var result = Mat.FromPixelData(outHeight, outWidth, MatType.CV_32FC1, output);
                using var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(2, 2));
                Cv2.Erode(result, result, kernel);
            }

            var (bx, by, bw, bh) = InkBounds(output, outWidth, outHeight, 0.3f);
            return new PlacedGlyph(output, outWidth, outHeight, bw == 0 ? new Rect(0, 0, outWidth, outHeight) : new Rect(bx, by, bw, bh));
        }

        /// <summary>The mean stroke width: twice the inked area over its outline's length (pixels with a blank 4-neighbour).</summary>
        private static double StrokeWidth(float[] image, int width, int height)
        {
            int area = 0, outline = 0;
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    if (image[(y * width) + x] < 0.5f)
                        continue;
                    area++;
                    if (x == 0 || y == 0 || x == width - 1 || y == height - 1
                        || image[(y * width) + x - 1] < 0.5f || image[(y * width) + x + 1] < 0.5f
                        || image[((y - 1) * width) + x] < 0.5f || image[((y + 1) * width) + x] < 0.5f)
                        outline++;
                }
            }

            return outline == 0 ? 0 : 2.0 * area / outline;
        }

        private static (int X, int Y, int Width, int Height) InkBounds(float[] image, int width, int height, float threshold)
        {
            int left = width, top = height, right = -1, bottom = -1;
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    if (image[(y * width) + x] > threshold)
                        (left, top, right, bottom) = (Math.Min(left, x), Math.Min(top, y), Math.Max(right, x), Math.Max(bottom, y));
                }
            }

            return right < 0 ? (0, 0, 0, 0) : (left, top, right - left + 1, bottom - top + 1);
        }

        /// <summary>Adds the glyph's ink to the canvas, keeping the darker of the two where strokes cross; clipped at the edges.</summary>
        private static void Paste(byte[] ink, int width, int height, PlacedGlyph glyph, int left, int top)
        {
            for (int y = Math.Max(0, -top); y < glyph.Height && top + y < height; y++)
            {
                int row = (top + y) * width;
                for (int x = Math.Max(0, -left); x < glyph.Width && left + x < width; x++)
                {
                    byte value = (byte)(glyph.Ink[(y * glyph.Width) + x] * 255);
                    ref byte target = ref ink[row + left + x];
                    if (value > target)
                        target = value;
                }
            }
        }

        private static SyntheticCharacterBox Clip(char character, Rect box, int width, int height)
        {
            int x0 = Math.Clamp(box.Left, 0, width - 1), y0 = Math.Clamp(box.Top, 0, height - 1);
            int x1 = Math.Clamp(box.Right, x0 + 1, width), y1 = Math.Clamp(box.Bottom, y0 + 1, height);
            return new SyntheticCharacterBox(character, x0, y0, x1 - x0, y1 - y0);
        }

        private static double MarkWidth(char mark, double ch, int stroke) => mark switch
        {
            '.' => stroke + 2,
            ',' => (ch * 0.15) + stroke,
            '-' => ch * 0.45,
            '=' => ch * 0.45,
            '/' => ch * 0.45,
            '\'' => (ch * 0.12) + stroke,
            '$' => ch * 0.6,
            _ => ch * 0.3,
        };

        /// <summary>Draws a separator or a name's hyphen or apostrophe with strokes; returns its box.</summary>
        private Rect DrawMark(Mat ink, char mark, int x, double baseline, double ch, int stroke)
        {
            var white = Scalar.All(255);
            int w = (int)Math.Ceiling(MarkWidth(mark, ch, stroke));
            int yb = (int)Math.Round(baseline);
            double wobble = (random.NextDouble() - 0.5) * ch * 0.1;
            switch (mark)
            {
                case '.':
                    int r = Math.Max(1, (stroke + 1) / 2);
                    Cv2.Circle(ink, new Point(x + r, yb - r), r, white, -1, LineTypes.AntiAlias);
                    return new Rect(x, yb - (2 * r), (2 * r) + 1, (2 * r) + 1);
                case ',':
                    Cv2.Line(ink, new Point(x + w - stroke, yb - stroke), new Point(x, yb + (int)(ch * 0.2)), white, stroke + 1, LineTypes.AntiAlias);
                    return new Rect(x, yb - stroke, w, stroke + (int)(ch * 0.2));
                case '-':
                    // A name's hyphen sits at mid height; a cheque's closing dash anywhere from the baseline up.
                    int hy = yb - (int)(ch * (kind == SyntheticFieldKind.Name ? Uniform(random, 0.4, 0.6) : Uniform(random, 0.05, 0.5)));
                    Cv2.Line(ink, new Point(x, hy), new Point(x + w, hy + (int)wobble), white, stroke, LineTypes.AntiAlias);
                    return new Rect(x, hy - stroke, w, (2 * stroke) + Math.Abs((int)wobble));
                case '=':
                    int ey = yb - (int)(ch * Uniform(random, 0.2, 0.5)), spacing = Math.Max(3, (int)(ch * 0.18));
                    Cv2.Line(ink, new Point(x, ey), new Point(x + w, ey + (int)wobble), white, stroke, LineTypes.AntiAlias);
                    Cv2.Line(ink, new Point(x, ey + spacing), new Point(x + w, ey + spacing + (int)wobble), white, stroke, LineTypes.AntiAlias);
                    return new Rect(x, ey - stroke, w, spacing + (2 * stroke));
                case '/':
                    // Flatter than a one, as a closing "/-" is written.
                    Cv2.Line(ink, new Point(x, yb), new Point(x + w, yb - (int)(ch * 0.5)), white, stroke, LineTypes.AntiAlias);
                    return new Rect(x, yb - (int)(ch * 0.5), w, (int)(ch * 0.5));
                case '\'':
                    int top = yb - (int)ch;
                    Cv2.Line(ink, new Point(x + w - stroke, top), new Point(x + stroke, top + (int)(ch * 0.3)), white, stroke, LineTypes.AntiAlias);
                    return new Rect(x, top, w, (int)(ch * 0.3) + stroke);
                case '$':
                    double scale = ch * 0.9 / 22.0;
                    Cv2.PutText(ink, "$", new Point(x, yb), HersheyFonts.HersheySimplex, scale, white, stroke, LineTypes.AntiAlias);
                    return new Rect(x, yb - (int)ch, w, (int)ch);
                default:
                    throw new InvalidOperationException($"No drawing for the mark '{mark}'.");
            }
        }

        /// <summary>An acute or grave accent over a capital E, written by some and never part of the text.</summary>
        private void Accent(Mat ink, Rect box, int stroke)
        {
            int cx = box.X + (box.Width / 2), top = box.Y - Math.Max(2, box.Height / 8);
            int length = Math.Max(3, box.Height / 4), lean = random.NextDouble() < 0.7 ? 1 : -1;
            Cv2.Line(ink, new Point(cx - (lean * length / 3), top), new Point(cx + (lean * length / 3), top - length), Scalar.All(255), stroke, LineTypes.AntiAlias);
        }

        /// <summary>
        /// The paper: white forms for names (a touch of grey and uneven light); for cheques a coloured paper, greyed, with
        /// guilloche waves, hatching, blotches and faint print. Grey throughout: greying is linear, so drawing in the
        /// grey of each colour equals drawing in colour and greying the scan.
        /// </summary>
        private void DrawPaper(byte[] paper, Mat paperMat, int width, int height)
        {
            bool cheque = kind == SyntheticFieldKind.Amount;
            // The forms' scans are near white; cheques a mid grey once their colour is greyed.
            double baseGrey = cheque ? Uniform(random, 165, 235) : Uniform(random, 238, 255);
            double gx = Uniform(random, -1, 1) * (cheque ? 25 : 10) / width, gy = Uniform(random, -1, 1) * (cheque ? 20 : 8) / height;
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                    paper[(y * width) + x] = (byte)Math.Clamp(baseGrey + (gx * (x - (width / 2))) + (gy * (y - (height / 2))), 0, 255);
            }

            if (!cheque)
                return;
            if (random.NextDouble() < 0.7)
            {
                // Guilloche: families of fine waves, as security printing draws.
                int curves = random.Next(6, 30);
                double period = Uniform(random, 20, 120), amplitude = Uniform(random, 3, height * 0.6), spacing = Uniform(random, 2, 6);
                double darkness = Uniform(random, 10, 40), tilt = Uniform(random, -0.3, 0.3);
                var points = new Point[(width / 3) + 2];
                for (int c = 0; c < curves; c++)
                {
                    double phase = random.NextDouble() * 2 * Math.PI, offset = (c - (curves / 2.0)) * spacing + (height / 2.0);
                    for (int p = 0; p < points.Length; p++)
                    {
                        int px = p * 3;
                        points[p] = new Point(px, (int)(offset + (tilt * px) + (amplitude * Math.Sin((px * 2 * Math.PI / period) + phase))));
                    }

                    Cv2.Polylines(paperMat, [points], false, Scalar.All(Math.Max(0, baseGrey - darkness)), 1, LineTypes.AntiAlias);
                }
            }

            if (random.NextDouble() < 0.3)
            {
                // Hatching at an angle.
                double step = Uniform(random, 3, 8), angle = Uniform(random, -1.2, 1.2), darkness = Uniform(random, 8, 30);
                double dx = Math.Tan(angle) * height;
                for (double x0 = -Math.Abs(dx) - step; x0 < width + Math.Abs(dx); x0 += step)
                    Cv2.Line(paperMat, new Point((int)x0, 0), new Point((int)(x0 + dx), height), Scalar.All(Math.Max(0, baseGrey - darkness)), 1, LineTypes.AntiAlias);
            }

            if (random.NextDouble() < 0.2)
            {
                // Faint print of the cheque's own text behind the amount.
                string word = ChequeWords[random.Next(ChequeWords.Length)];
                Cv2.PutText(paperMat, word, new Point(random.Next(-20, width / 2), random.Next(height / 3, height + 5)), HersheyFonts.HersheySimplex,
                    Uniform(random, 0.4, 1.0), Scalar.All(Math.Max(0, baseGrey - Uniform(random, 20, 60))), 1, LineTypes.AntiAlias);
            }

            if (random.NextDouble() < 0.4)
            {
                // Blotches: low-frequency unevenness of paper and light.
                int cols = Math.Max(2, width / 30);
                var coarse = new float[3 * cols];
                for (int i = 0; i < coarse.Length; i++)
                    coarse[i] = (float)(Gaussian(random) * 10);
                using var small = Mat.FromPixelData(3, cols, MatType.CV_32FC1, coarse);
                using var large = new Mat();
                Cv2.Resize(small, large, new Size(width, height), 0, 0, InterpolationFlags.Cubic);
                large.GetArray(out float[] shade);
                for (int i = 0; i < paper.Length; i++)
                    paper[i] = (byte)Math.Clamp(paper[i] + shade[i], 0, 255);
            }
        }

        /// <summary>Labels, rules, borders and neighbours cut by the crop: what a real crop of a form or a cheque also holds.</summary>
        private void DrawClutter(Mat paperMat, Mat inkMat, byte[] ink, int width, int height, int textLeft, int textRight, double baseline, double ch, int stroke,
            string? label, bool labelAbove, HersheyFonts font, double labelScale, int labelThickness, int labelWidth)
        {
            double clutter = options.ClutterProbability;
            var print = Scalar.All(random.Next(0, 60));
            if (label is not null)
            {
                // Beside the name on its baseline, or above it, partly cut by the top edge.
                var at = labelAbove
                    ? new Point(textLeft + random.Next(-10, 20), (int)(baseline - ch - random.Next(2, 8)))
                    : new Point(random.Next(0, Math.Max(1, textLeft - labelWidth - 10)), (int)(baseline + random.Next(-2, 3)));
                Cv2.PutText(paperMat, label, at, font, labelScale, print, labelThickness, LineTypes.AntiAlias);
            }

            if (kind == SyntheticFieldKind.Name)
            {
                if (random.NextDouble() < clutter * 0.6)
                {
                    // The next line of the form, its top or bottom showing at the edge.
                    string line = FormLines[random.Next(FormLines.Length)];
                    double scale = height * Uniform(random, 0.22, 0.36) / 22.0;
                    int textHeight = (int)(22 * scale);
                    bool bottom = random.NextDouble() < 0.6;
                    int y = bottom ? height + (int)(textHeight * Uniform(random, 0.2, 0.7)) : (int)(textHeight * Uniform(random, 0.3, 0.8));
                    Cv2.PutText(paperMat, line, new Point(random.Next(-10, width / 2), y), font, scale, print, labelThickness, LineTypes.AntiAlias);
                }

                if (random.NextDouble() < clutter * 0.4)
                {
                    // A guide line under the writing, solid or dotted.
                    int y = Math.Min(height - 1, (int)(baseline + random.Next(1, 6)));
                    var grey = Scalar.All(random.Next(60, 200));
                    if (random.NextDouble() < 0.5)
                        Cv2.Line(paperMat, new Point(random.Next(0, 20), y), new Point(width - random.Next(0, 20), y), grey, 1, LineTypes.AntiAlias);
                    else
                    {
                        for (int dot = random.Next(0, 4); dot < width; dot += random.Next(3, 6))
                            Cv2.Circle(paperMat, new Point(dot, y), 0, grey, 1);
                    }
                }
            }
            else if (kind == SyntheticFieldKind.Amount)
            {
                // The cheque's printed rule under (and sometimes over) the amount.
                if (random.NextDouble() < clutter + 0.1)
                {
                    int y = height - random.Next(1, Math.Max(2, height / 6));
                    Cv2.Line(paperMat, new Point(0, y), new Point(width, y + random.Next(-1, 2)), Scalar.All(random.Next(20, 110)), random.Next(1, 3), LineTypes.AntiAlias);
                }

                if (random.NextDouble() < clutter * 0.4)
                {
                    int y = random.Next(0, Math.Max(1, height / 8));
                    Cv2.Line(paperMat, new Point(0, y), new Point(width, y), Scalar.All(random.Next(20, 110)), 1, LineTypes.AntiAlias);
                }
            }
            else
            {
                // The box, and ticks that part the digits' cells.
                int x0 = Math.Max(0, textLeft - random.Next(2, 8)), x1 = Math.Min(width - 1, textRight + random.Next(2, 8));
                int y0 = random.Next(0, Math.Max(1, (int)(baseline - ch) - 1)), y1 = Math.Min(height - 1, (int)baseline + random.Next(1, 8));
                Cv2.Rectangle(paperMat, new Point(x0, y0), new Point(x1, y1), print, random.Next(1, 3), LineTypes.AntiAlias);
            }

            if (kind == SyntheticFieldKind.Name && random.NextDouble() < clutter * 0.3)
            {
                // Part of a box border at the crop's edge.
                int x = random.NextDouble() < 0.5 ? random.Next(0, 6) : width - random.Next(1, 7);
                Cv2.Line(paperMat, new Point(x, 0), new Point(x + random.Next(-2, 3), height), print, random.Next(1, 3), LineTypes.AntiAlias);
            }

            if (random.NextDouble() < clutter * 0.5)
            {
                // Handwriting of the line above or below, cut by the crop: only a part of each character shows.
                bool top = random.NextDouble() < 0.5;
                int count = random.Next(1, 6);
                double x = random.Next(0, Math.Max(1, width / 2));
                string pool = kind == SyntheticFieldKind.Name ? "ABCDEFGHIJKLMNOPRSTUVE" : "0123456789";
                for (int i = 0; i < count && x < width; i++)
                {
                    var placed = Bend(pool[random.Next(pool.Length)], ch * Uniform(random, 0.9, 1.2));
                    int visible = (int)(placed.Height * Uniform(random, 0.1, 0.35));
                    int y = top ? visible - placed.Height : height - visible;
                    Paste(ink, width, height, placed, (int)x, y);
                    x += placed.Width + (ch * Uniform(random, 0.1, 0.8));
                }
            }

            if (random.NextDouble() < clutter * 0.2)
            {
                // A stray pen line, in the margin above or below the writing (through it, it would be a character of its own).
                int band = Math.Max(1, height / 5);
                var from = new Point(random.Next(0, width), random.NextDouble() < 0.5 ? random.Next(0, band) : height - 1 - random.Next(0, band));
                var to = new Point(from.X + random.Next(-40, 40), from.Y + random.Next(-2, 3));
                Cv2.Line(inkMat, from, to, Scalar.All(255), stroke, LineTypes.AntiAlias);
            }
        }

        /// <summary>Ink over paper, then what a scanner adds: blur, sensor noise and JPEG compression.</summary>
        private byte[] Scan(byte[] paper, byte[] ink, int width, int height)
        {
            var image = new byte[width * height];
            double strength = style.InkStrength / 255.0;
            int inkGrey = style.InkGrey;
            double noise = Uniform(random, 0, kind == SyntheticFieldKind.Name ? 4 : 8);
            for (int i = 0; i < image.Length; i++)
            {
                double a = ink[i] * strength;
                double value = (paper[i] * (1 - a)) + (inkGrey * a);
                if (noise > 0)
                    value += Gaussian(random) * noise;
                image[i] = (byte)Math.Clamp(value, 0, 255);
            }

            using var mat = Mat.FromPixelData(height, width, MatType.CV_8UC1, image);
            if (random.NextDouble() < 0.5)
                Cv2.GaussianBlur(mat, mat, new Size(3, 3), Uniform(random, 0.3, 0.9));
            int quality = random.Next(options.MinJpegQuality, options.MaxJpegQuality + 1);
            Cv2.ImEncode(".jpg", mat, out byte[] jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
            using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Grayscale);
            decoded.GetArray(out byte[] scanned);
            return scanned;
        }
    }
}
