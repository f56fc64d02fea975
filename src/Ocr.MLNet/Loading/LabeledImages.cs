using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Ocr.MLNet.Loading;

/// <summary>A labelled image set held compactly: one float array for all pixels, one int array for labels.</summary>
internal sealed class LabeledImages
{
    public const int PixelsPerImage = CharacterFormat.PixelCount;

    public LabeledImages(float[] pixels, int[] labels, IReadOnlyList<string> classNames)
    {
        Pixels = pixels;
        Labels = labels;
        ClassNames = classNames;
    }

    /// <summary>Row-major N×1024 pixels.</summary>
    public float[] Pixels { get; }

    /// <summary>Class index (into <see cref="ClassNames"/>) per row.</summary>
    public int[] Labels { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public int Count => Labels.Length;

    /// <summary>Splits off a seeded random <paramref name="fraction"/> of the rows (at least one when the fraction is positive).</summary>
    public (LabeledImages Train, LabeledImages Validation) Split(double fraction, int seed)
    {
        int validationCount = (int)Math.Round(Count * fraction);
        validationCount = Math.Clamp(validationCount, 1, Count - 1);
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        var validationRows = order.AsSpan(0, validationCount).ToArray();
        var trainRows = order.AsSpan(validationCount).ToArray();
        Array.Sort(validationRows);
        Array.Sort(trainRows);
        return (Take(trainRows), Take(validationRows));
    }

    private LabeledImages Take(int[] rows)
    {
        var pixels = new float[rows.Length * PixelsPerImage];
        var labels = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            Pixels.AsSpan(rows[i] * PixelsPerImage, PixelsPerImage).CopyTo(pixels.AsSpan(i * PixelsPerImage));
            labels[i] = Labels[rows[i]];
        }

        return new LabeledImages(pixels, labels, ClassNames);
    }
}

/// <summary>Checks the trainer's columns and reads an <see cref="IDataView"/> into <see cref="LabeledImages"/>.</summary>
internal static class LabeledImagesReader
{
    /// <summary>Checks a schema shape the way ML.NET's trainers do, with ML.NET's wording.</summary>
    public static void CheckSchema(SchemaShape schema, string labelColumn, string featureColumn)
    {
        if (MLNetInterop.FindColumn(schema, labelColumn) is not { } label)
            throw SchemaErrors.NotFound("label", labelColumn, $"Name the column that holds the class with LabelColumnName.");
        bool labelOk = label.Kind == SchemaShape.Column.VectorKind.Scalar
            && (label.ItemType is TextDataViewType || label.IsKey);
        if (!labelOk)
        {
            throw SchemaErrors.Mismatch("label", labelColumn, "String or Key", MLNetInterop.Describe(label),
                "Convert the labels to text or map them with mlContext.Transforms.Conversion.MapValueToKey.");
        }

        if (MLNetInterop.FindColumn(schema, featureColumn) is not { } feature)
        {
            throw SchemaErrors.NotFound("feature", featureColumn,
                $"Name the pixel column with FeatureColumnName; images become pixels with mlContext.Transforms.PrepareCharacterImages().");
        }

        if (feature.ItemType == NumberDataViewType.Single && feature.Kind != SchemaShape.Column.VectorKind.Scalar)
            return;
        string fix = feature.ItemType is ImageDataViewType
            ? "Put mlContext.Transforms.PrepareCharacterImages() before the trainer to turn the images into pixels."
            : "Load images with an Ocr.MLNet loader, or turn an image column into pixels with mlContext.Transforms.PrepareCharacterImages().";
        throw SchemaErrors.Mismatch("feature", featureColumn, $"Vector<Single, {CharacterFormat.PixelCount}> (1×32×32)", MLNetInterop.Describe(feature), fix);
    }

    /// <summary>
    /// Checks the label column and the pixel column <paramref name="pixelColumn"/> (sizes included) and reads every row.
    /// <paramref name="featureColumn"/> is the column the user named, for messages (it differs from
    /// <paramref name="pixelColumn"/> when an image column was turned into pixels first). <paramref name="classNames"/> is
    /// the class set to map labels to, or null to collect it from the data (string labels sorted ordinally, key labels in
    /// key order); <paramref name="role"/> ("training" or "validation") names the data in messages.
    /// </summary>
    public static LabeledImages Read(IDataView data, string labelColumn, string pixelColumn, string featureColumn,
        IReadOnlyList<string>? classNames, string role, CancellationToken cancellationToken)
    {
        CheckSchema(MLNetInterop.ToShape(data.Schema), labelColumn, pixelColumn);
        var type = (VectorDataViewType)data.Schema[pixelColumn].Type;
        if (type.IsKnownSize && type.Size != LabeledImages.PixelsPerImage)
        {
            throw new ArgumentOutOfRangeException(nameof(data),
                $"Schema mismatch for feature column '{featureColumn}': expected Vector<Single, {LabeledImages.PixelsPerImage}> (1×32×32), got Vector<Single, {type.Size}>. "
                + "Turn images into pixels with mlContext.Transforms.PrepareCharacterImages(), or use an Ocr.MLNet loader.");
        }

        var labelColumnInfo = data.Schema[labelColumn];
        var keyNames = labelColumnInfo.Type is KeyDataViewType ? KeyNames(labelColumnInfo) : null;
        var (rawLabels, pixels) = ReadRows(data, labelColumnInfo, data.Schema[pixelColumn], featureColumn, role, cancellationToken);
        long row = rawLabels.Length;

        if (row == 0)
            throw new InvalidDataException($"The {role} data has no rows. Give the trainer at least two classes of labelled images.");
        var names = classNames ?? (keyNames ?? rawLabels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray());
        if (classNames is null)
        {
            var present = rawLabels.Distinct(StringComparer.Ordinal).Count();
            if (present < 2)
            {
                throw new InvalidDataException(
                    $"The {role} data has only one class ('{rawLabels[0]}') in label column '{labelColumn}'. A classifier needs at least two classes: add images of other characters.");
            }
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
            index.TryAdd(names[i], i);

        var labels = new int[row];
        for (int i = 0; i < labels.Length; i++)
        {
            if (!index.TryGetValue(rawLabels[i], out labels[i]))
            {
                throw new InvalidDataException(
                    $"The {role} data has label '{rawLabels[i]}' at row {i}, which the training data does not have (classes: {string.Join(" ", names.Take(64))}). "
                    + "Validate on the same classes you train on.");
            }
        }

        return new LabeledImages(pixels, labels, names.ToArray());
    }

    /// <summary>
    /// Reads every row's label (text, or a key's value) and its 1,024 pixels into one compact array. A missing label,
    /// a pixel vector of another length or a non-finite pixel is an error that names the row; <paramref name="featureColumn"/>
    /// and <paramref name="role"/> name the column and the data in those messages.
    /// </summary>
    public static (string[] Labels, float[] Pixels) ReadRows(IDataView data, DataViewSchema.Column labelColumn, DataViewSchema.Column pixelColumn,
        string featureColumn, string role, CancellationToken cancellationToken)
    {
        const int pixelCount = LabeledImages.PixelsPerImage;
        var keyNames = labelColumn.Type is KeyDataViewType ? KeyNames(labelColumn) : null;
        var chunks = new List<float[]>();
        var labels = new List<string>();
        const int chunk = 4096;
        float[]? current = null;
        int inChunk = chunk;
        long row = 0;
        using (var cursor = data.GetRowCursor([labelColumn, pixelColumn]))
        {
            var getPixels = cursor.GetGetter<VBuffer<float>>(pixelColumn);
            Func<string?> getLabel = CreateLabelGetter(cursor, labelColumn, keyNames);
            var vector = default(VBuffer<float>);
            while (cursor.MoveNext())
            {
                if ((row & 1023) == 0)
                    cancellationToken.ThrowIfCancellationRequested();
                string? label = getLabel();
                if (string.IsNullOrEmpty(label))
                {
                    throw new InvalidDataException(
                        $"The {role} data has a missing or empty value in label column '{labelColumn.Name}' at row {row}. Every row needs a class: remove or fix that row.");
                }

                getPixels(ref vector);
                if (vector.Length != pixelCount)
                {
                    throw new InvalidDataException(
                        $"The {role} data's feature column '{featureColumn}' has {vector.Length} values at row {row}; expected {pixelCount} (1×32×32). Resize the image to 32×32.");
                }

                if (inChunk == chunk)
                {
                    current = new float[chunk * pixelCount];
                    chunks.Add(current);
                    inChunk = 0;
                }

                var target = current.AsSpan(inChunk * pixelCount, pixelCount);
                vector.CopyTo(target);
                for (int i = 0; i < pixelCount; i++)
                {
                    if (!float.IsFinite(target[i]))
                    {
                        throw new InvalidDataException(
                            $"The {role} data's feature column '{featureColumn}' has the non-finite value {target[i]} at row {row}, pixel {i}. Pixels must be finite numbers (usually in [0, 1]); fix or drop that image.");
                    }
                }

                inChunk++;
                labels.Add(label);
                row++;
            }
        }

        if (row * pixelCount > Array.MaxLength)
            throw new InvalidDataException($"The {role} data has {row} rows; at most {Array.MaxLength / pixelCount} fit in one array of pixels.");
        var all = new float[row * pixelCount];
        long offset = 0;
        foreach (var block in chunks)
        {
            int length = (int)Math.Min(block.Length, all.Length - offset);
            block.AsSpan(0, length).CopyTo(all.AsSpan((int)offset));
            offset += length;
        }

        return (labels.ToArray(), all);
    }

    private static string[]? KeyNames(DataViewSchema.Column column)
    {
        var keyType = (KeyDataViewType)column.Type;
        if (keyType.Count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(column), $"Label column '{column.Name}' has a key type with {keyType.Count} values; that is too many classes.");
        int count = (int)keyType.Count;
        var annotation = column.Annotations.Schema.GetColumnOrNull("KeyValues");
        if (annotation is { Type: VectorDataViewType { ItemType: TextDataViewType } })
        {
            var values = default(VBuffer<ReadOnlyMemory<char>>);
            column.GetKeyValues(ref values);
            return values.DenseValues().Select(v => v.ToString()).ToArray();
        }

        return Enumerable.Range(1, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    private static Func<string?> CreateLabelGetter(DataViewRowCursor cursor, DataViewSchema.Column column, string[]? keyNames)
    {
        if (column.Type is TextDataViewType)
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            var value = default(ReadOnlyMemory<char>);
            return () =>
            {
                getter(ref value);
                return value.ToString();
            };
        }

        var keyType = (KeyDataViewType)column.Type;
        var names = keyNames!;
        Func<ulong> raw = keyType.RawType == typeof(uint) ? Wrap<uint>(cursor, column, v => v)
            : keyType.RawType == typeof(ushort) ? Wrap<ushort>(cursor, column, v => v)
            : keyType.RawType == typeof(byte) ? Wrap<byte>(cursor, column, v => v)
            : Wrap<ulong>(cursor, column, v => v);
        return () =>
        {
            ulong key = raw();
            return key == 0 || key > (ulong)names.Length ? null : names[key - 1];
        };
    }

    private static Func<ulong> Wrap<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, ulong> widen)
        where T : struct
    {
        var getter = cursor.GetGetter<T>(column);
        var value = default(T);
        return () =>
        {
            getter(ref value);
            return widen(value);
        };
    }

}
