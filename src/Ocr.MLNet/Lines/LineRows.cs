using Microsoft.ML.Data;
using static TorchSharp.torch;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Lines;

/// <summary>Prepared training lines: their pixels as bytes (a quarter of the floats' memory) and their texts.</summary>
internal sealed class LineRows
{
    private readonly byte[] pixels;

    private LineRows(byte[] pixels, string[] texts)
    {
        this.pixels = pixels;
        Texts = texts;
    }

    public int Count => Texts.Length;

    public string[] Texts { get; }

    /// <summary>
    /// Reads every row's image and text, refusing (with the row's number and what to do) a missing image, a text too
    /// long for a line, or a character the field kind cannot hold.
    /// </summary>
    public static LineRows Read(IDataView data, string imageColumn, string labelColumn, string allowed, InputShape shape, LinePreparation preparation, string what)
    {
        var texts = new List<string>();
        var prepared = new List<byte>();
        var images = new List<MLImage>();
        var imageGetterColumn = data.Schema[imageColumn];
        var labelGetterColumn = data.Schema[labelColumn];
        using var cursor = data.GetRowCursor([imageGetterColumn, labelGetterColumn]);
        var getImage = cursor.GetGetter<MLImage>(imageGetterColumn);
        var getText = cursor.GetGetter<ReadOnlyMemory<char>>(labelGetterColumn);
        long row = 0;
        try
        {
            while (cursor.MoveNext())
            {
                row++;
                MLImage image = null!;
                try
                {
                    getImage(ref image);
                }
                catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException or FormatException)
                {
                    throw new InvalidDataException($"Row {row} of the {what}: its image does not decode ({e.Message}). Fix or remove the file.", e);
                }

                ReadOnlyMemory<char> text = default;
                getText(ref text);
                string value = text.ToString();
                if (image is null)
                    throw new InvalidDataException($"Row {row} of the {what} has no image in column '{imageColumn}' (it did not decode): fix or remove the file.");
                CheckText(value, allowed, $"Row {row} of the {what}");
                texts.Add(value);
                images.Add(shape.Shape(image, row - 1));
                if (images.Count == 256)
                    Flush();
            }

            Flush();
        }
        finally
        {
            foreach (var image in images)
                image.Dispose();
        }

        return new LineRows(prepared.ToArray(), texts.ToArray());

        void Flush()
        {
            if (images.Count == 0)
                return;
            prepared.AddRange(ToBytes(preparation.Prepare(images)));
            foreach (var image in images)
                image.Dispose();
            images.Clear();
        }
    }

    /// <summary>Refuses a text the kind cannot hold or a line cannot fit, naming <paramref name="where"/>.</summary>
    public static void CheckText(string text, string allowed, string where)
    {
        if (text.Length > LineImageFormat.MaxTextLength)
            throw new InvalidDataException($"{where}: the text '{text}' has {text.Length} characters; a line holds at most {LineImageFormat.MaxTextLength}. Split the field into lines.");
        foreach (char c in text)
        {
            if (!allowed.Contains(c))
                throw new InvalidDataException($"{where}: the text '{text}' holds '{c}' (U+{(int)c:X4}), which the field kind cannot hold ({allowed}). Choose a kind that holds it (e.g. alnum) or correct the text.");
        }
    }

    /// <summary><paramref name="count"/> synthetic fields of the kind, drawn by <see cref="SyntheticFieldGenerator"/> and prepared as a saved model would.</summary>
    public static LineRows Synthesize(SyntheticFieldOptions? options, ICharacterSource? characters, InputShape shape, int count,
        LinePreparation preparation, CancellationToken cancellation)
    {
        var kind = shape.Kind;
        options ??= new SyntheticFieldOptions { Kind = LineRecognizerTrainer.SyntheticKindFor(kind) };
        var generator = characters is null ? new SyntheticFieldGenerator(options) : new SyntheticFieldGenerator(options, characters);
        string allowed = CtcDecoder.AllowedCharactersFor(kind, LineImageFormat.DefaultAlphabet);
        var texts = new string[count];
        var bytes = new byte[(long)count * LineImageFormat.PixelCount];
        int planes = 4 * LineImageFormat.PixelCount;
        for (int start = 0; start < count; start += 256)
        {
            cancellation.ThrowIfCancellationRequested();
            int length = Math.Min(256, count - start);
            var argb = new byte[length * planes];
            Parallel.For(0, length, i =>
            {
                var field = generator.Generate(start + i);
                using var image = shape.Shape(field.Pixels, field.Width, field.Height, start + i);
                LinePreparation.ExtractArgb(image, argb.AsSpan(i * planes, planes));
                texts[start + i] = field.Text;
            });
            for (int i = 0; i < length; i++)
                CheckText(texts[start + i], allowed, $"Synthetic field {start + i}");
            ToBytes(preparation.PrepareArgb(argb, length)).CopyTo(bytes.AsSpan(start * LineImageFormat.PixelCount));
        }

        return new LineRows(bytes, texts);
    }

    /// <summary>What the network learns on (<see cref="LineTrainingInput"/>) and the kind whose found lines it draws.</summary>
    internal sealed record InputShape(LineTrainingInput Input, FieldKind Kind)
    {
        /// <summary>Row <paramref name="row"/>'s image as the network learns on it; <paramref name="image"/> is disposed when replaced.</summary>
        public MLImage Shape(MLImage image, long row)
        {
            if (!FindsLine(row))
                return image;
            var grey = CharacterImageConverter.ToGrey(image);
            if (FieldLineImage.Find(grey, image.Width, image.Height, Kind) is not { } line)
                return image;
            image.Dispose();
            return line.ToImage();
        }

        /// <summary>A field of grey pixels as the network learns on it.</summary>
        public MLImage Shape(byte[] grey, int width, int height, long row) =>
            FindsLine(row) && FieldLineImage.Find(grey, width, height, Kind) is { } line ? line.ToImage() : LinePreparation.FromGrey(grey, width, height);

        private bool FindsLine(long row) => Input == LineTrainingInput.FoundLines || (Input == LineTrainingInput.Both && row % 2 == 0);
    }

    /// <summary>A seeded split: <paramref name="fraction"/> of the rows for validation, the rest for training.</summary>
    public (LineRows Train, LineRows Validation) Split(double fraction, int seed)
    {
        int validationCount = (int)Math.Round(Count * fraction);
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        return (Select(order.Skip(validationCount).Order()), Select(order.Take(validationCount).Order()));
    }

    public LineRows Concat(LineRows other) => new([.. pixels, .. other.pixels], [.. Texts, .. other.Texts]);

    /// <summary>All lines as a <c>N×1×32×256</c> byte tensor (ink × 255).</summary>
    public Tensor PixelTensor() => tensor(pixels, [Count, 1, LineImageFormat.Height, LineImageFormat.Width]);

    /// <summary>Lines of <see cref="PixelTensor"/> (bytes, ink × 255) as the network reads them: float32 in [0, 1].</summary>
    public static Tensor NetworkInput(Tensor lineBytes) => lineBytes.to(ScalarType.Float32).div(ByteScale);

    // Static, so it lives across the native calls (see TorchScalars).
    private static readonly TorchSharp.Scalar ByteScale = 255f;

    /// <summary>The CTC targets of the picked rows: their class indices (1 + alphabet position) concatenated, and their lengths.</summary>
    public (Tensor Targets, Tensor Lengths) Targets(long[] rows)
    {
        var classes = new List<long>();
        var lengths = new long[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            string text = Texts[rows[i]];
            lengths[i] = text.Length;
            foreach (char c in text)
                classes.Add(1 + LineImageFormat.DefaultAlphabet.IndexOf(c));
        }

        return (tensor(classes.ToArray(), int64), tensor(lengths, int64));
    }

    private LineRows Select(IEnumerable<int> rows)
    {
        var picked = rows.ToArray();
        var selected = new byte[(long)picked.Length * LineImageFormat.PixelCount];
        for (int i = 0; i < picked.Length; i++)
            pixels.AsSpan(picked[i] * LineImageFormat.PixelCount, LineImageFormat.PixelCount).CopyTo(selected.AsSpan(i * LineImageFormat.PixelCount));
        return new LineRows(selected, picked.Select(r => Texts[r]).ToArray());
    }

    private static byte[] ToBytes(float[] values)
    {
        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
            bytes[i] = (byte)Math.Clamp(MathF.Round(values[i] * 255f), 0f, 255f);
        return bytes;
    }
}
