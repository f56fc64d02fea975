using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML;

namespace Ocr.MLNet.Loading;

/// <summary>
/// An EMNIST split held compactly in memory: the raw IDX bytes (one byte per pixel, one per label) and
/// the label mapping. Rows are in file order. Pixels come out as the network wants them, built on demand
/// by <see cref="CopyPixels(int, Span{float})"/>: the image turned <b>upright</b> (EMNIST stores it
/// transposed: <c>upright[r, c] = stored[c, r]</c>), ink bright on dark scaled to [0, 1]
/// (<c>byte / 255f</c>), and the 28×28 image centred in 32×32 by 2 zero pixels on every side, row-major
/// (<c>pixels[(r + 2) * 32 + (c + 2)] = upright[r, c] / 255f</c>).
/// </summary>
/// <remarks>
/// This is the bulk path for training loops (fill a whole batch with
/// <see cref="CopyPixels(ReadOnlySpan{int}, Span{float})"/>). For ML.NET pipelines use
/// <c>mlContext.Data.LoadFromEmnist(...)</c> or <see cref="AsDataView"/>, which expose the same rows as an
/// <see cref="IDataView"/> with a <c>Label</c> string column and a <c>Pixels</c> float vector of 1×32×32.
/// The instance is immutable and safe to read from several threads. Memory: 784 bytes + 1 byte per image.
/// </remarks>
internal sealed class EmnistDataset : ILoadedRows
{
    /// <summary>Side of a stored EMNIST image in pixels (28).</summary>
    public const int SourceImageSide = IdxReader.ImageSide;

    /// <summary>Zero pixels added on each side of the 28×28 image (2).</summary>
    public const int Padding = (CharacterFormat.ImageSide - SourceImageSide) / 2;

    private const int SourcePixelCount = SourceImageSide * SourceImageSide;

    private static readonly float[] Scale = CreateScale();

    private readonly byte[] pixels;
    private readonly byte[] labels;
    private readonly int[] classIndexByLabel;

    private EmnistDataset(string imagesPath, string labelsPath, EmnistMapping mapping, byte[] pixels, byte[] labels, int count)
    {
        ImagesPath = imagesPath;
        LabelsPath = labelsPath;
        Mapping = mapping;
        this.pixels = pixels;
        this.labels = labels;
        Count = count;
        classIndexByLabel = mapping.ClassIndexByLabel.ToArray();
    }

    /// <summary>Full path of the IDX images file.</summary>
    public string ImagesPath { get; }

    /// <summary>Full path of the IDX labels file.</summary>
    public string LabelsPath { get; }

    /// <summary>The label mapping (from the <c>*-mapping.txt</c> file).</summary>
    public EmnistMapping Mapping { get; }

    /// <summary>Number of rows (images).</summary>
    public int Count { get; }

    /// <summary>
    /// Every class the mapping defines, one character each ("0", "A", "a", …), in label-value order; the
    /// class index of a row (<see cref="GetClassIndex"/>) indexes this list. A class may have no rows (see
    /// <see cref="CountRowsPerClass"/>).
    /// </summary>
    public IReadOnlyList<string> ClassNames => Mapping.ClassNames;

    /// <summary>Loads a split from its three files.</summary>
    /// <param name="imagesPath">IDX images file (magic 2051), raw or gzip-compressed (detected from the content).</param>
    /// <param name="labelsPath">IDX labels file (magic 2049) of the same split, raw or gzip-compressed.</param>
    /// <param name="mappingPath">The split's <c>*-mapping.txt</c> file.</param>
    /// <param name="maxRows">Read only the first this many rows (the rest of the files is not read or checked); <see langword="null"/> for all.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="EmnistDataException">A file is malformed, truncated, the counts disagree, or a label is missing from the mapping.</exception>
    public static EmnistDataset Load(string imagesPath, string labelsPath, string mappingPath, int? maxRows = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imagesPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(labelsPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(mappingPath);
        if (maxRows is < 1)
            throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "MaxRows must be at least 1 (or null for all rows).");

        var mapping = EmnistMapping.Load(mappingPath);
        using var images = IdxReader.Open(imagesPath, IdxKind.Images);
        using var labels = IdxReader.Open(labelsPath, IdxKind.Labels);
        if (images.Count != labels.Count)
        {
            throw new EmnistDataException(
                $"The EMNIST images and labels files disagree: the images file '{images.Path}' declares {images.Count} images "
                + $"but the labels file '{labels.Path}' declares {labels.Count} labels (the counts at byte offset 4 of each). "
                + "Pass the images and labels files of the same split (same name up to '-images-idx3-ubyte' / '-labels-idx1-ubyte').",
                images.Path, 4);
        }

        int count = maxRows is int max ? Math.Min(max, images.Count) : images.Count;
        byte[] labelBytes = labels.ReadItems(count);
        CheckLabels(labelBytes, mapping, labels);
        byte[] pixelBytes = images.ReadItems(count);
        return new EmnistDataset(images.Path, labels.Path, mapping, pixelBytes, labelBytes, count);
    }

    /// <summary>
    /// Loads a split from a directory by name: finds <c>*-{split}-images-idx3-ubyte[.gz]</c>, the matching
    /// <c>*-{split}-labels-idx1-ubyte[.gz]</c> and <c>{prefix}-mapping.txt</c> (e.g. split "test" in NIST's
    /// extracted <c>gzip</c> folder finds emnist-byclass-test-* if that is the only test split there).
    /// </summary>
    /// <param name="directory">Directory holding the files.</param>
    /// <param name="split">The split part of the file names, e.g. "test", "train" or "dev".</param>
    /// <param name="maxRows">Read only the first this many rows; <see langword="null"/> for all.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file of the split is missing or ambiguous; the message lists what the directory holds.</exception>
    /// <exception cref="EmnistDataException">A file is malformed (see <see cref="Load(string, string, string, int?)"/>).</exception>
    public static EmnistDataset Load(string directory, string split, int? maxRows = null)
    {
        var files = EmnistFiles.Find(directory, split);
        return Load(files.ImagesPath, files.LabelsPath, files.MappingPath, maxRows);
    }

    /// <summary>
    /// The splits a directory holds, from its <c>emnist-{set}-{split}-images-idx3-ubyte[.gz]</c> file names
    /// (e.g. "dev" for emnist-bymerge-dev-images-idx3-ubyte.gz); empty when it holds no EMNIST images file.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static IReadOnlyList<string> FindSplits(string directory) => EmnistFiles.FindSplits(directory);

    /// <summary>The label value of a row as stored in the labels file.</summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    public int GetLabelValue(int row)
    {
        CheckRow(row);
        return labels[row];
    }

    /// <summary>The class index of a row: an index into <see cref="ClassNames"/>.</summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    public int GetClassIndex(int row)
    {
        CheckRow(row);
        return classIndexByLabel[labels[row]];
    }

    /// <summary>The label of a row: its character, e.g. "A", "a" or "7".</summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    public string GetLabel(int row) => ClassNames[GetClassIndex(row)];

    /// <summary>EMNIST has no bad-file skipping: a malformed file throws, so nothing is ever skipped.</summary>
    IReadOnlyList<SkippedImageFile> ILoadedRows.SkippedFiles => [];

    /// <summary>Number of rows of each class, indexed like <see cref="ClassNames"/>.</summary>
    public int[] CountRowsPerClass()
    {
        var counts = new int[ClassNames.Count];
        for (int i = 0; i < Count; i++)
            counts[classIndexByLabel[labels[i]]]++;
        return counts;
    }

    /// <summary>
    /// Writes one row's image into <paramref name="destination"/> (at least <see cref="CharacterFormat.PixelCount"/> floats):
    /// upright, scaled to [0, 1], padded to 32×32, row-major.
    /// </summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    /// <param name="destination">Receives 1024 floats; the rest of it is left alone.</param>
    public void CopyPixels(int row, Span<float> destination)
    {
        CheckRow(row);
        if (destination.Length < CharacterFormat.PixelCount)
            throw new ArgumentException($"The destination holds {destination.Length} floats; one image needs {CharacterFormat.PixelCount}.", nameof(destination));
        WriteImage(row, destination[..CharacterFormat.PixelCount]);
    }

    /// <summary>
    /// Writes several rows' images one after another into <paramref name="destination"/> (at least
    /// <c>rows.Length × 1024</c> floats), e.g. a shuffled mini-batch in N×1×32×32 layout.
    /// </summary>
    /// <param name="rows">Row indices, in the order wanted; repeats are allowed.</param>
    /// <param name="destination">Receives <c>rows.Length × 1024</c> floats.</param>
    public void CopyPixels(ReadOnlySpan<int> rows, Span<float> destination)
    {
        if (destination.Length < (long)rows.Length * CharacterFormat.PixelCount)
        {
            throw new ArgumentException(
                $"The destination holds {destination.Length} floats; {rows.Length} images need {(long)rows.Length * CharacterFormat.PixelCount}.",
                nameof(destination));
        }

        foreach (int row in rows)
            CheckRow(row);
        for (int i = 0; i < rows.Length; i++)
            WriteImage(rows[i], destination.Slice(i * CharacterFormat.PixelCount, CharacterFormat.PixelCount));
    }

    /// <summary>
    /// An <see cref="IDataView"/> over these rows (file order, no copy): column <paramref name="labelColumnName"/>
    /// (string) and column <paramref name="pixelsColumnName"/> (float vector 1×32×32), built per row as the cursor
    /// moves. This is what <c>mlContext.Data.LoadFromEmnist</c> returns.
    /// </summary>
    /// <param name="labelColumnName">Name of the label column.</param>
    /// <param name="pixelsColumnName">Name of the pixels column.</param>
    public IDataView AsDataView(string labelColumnName = EmnistLoaderOptions.DefaultLabelColumnName,
        string pixelsColumnName = EmnistLoaderOptions.DefaultPixelsColumnName)
    {
        EmnistLoaderOptions.ValidateColumnNames(labelColumnName, pixelsColumnName, null);
        return new CharacterDataView<EmnistDataset>(this, labelColumnName, pixelsColumnName);
    }

    /// <summary>The stored (transposed) 28×28 bytes of a row, as in the IDX file.</summary>
    internal ReadOnlySpan<byte> GetStoredPixels(int row)
    {
        CheckRow(row);
        return pixels.AsSpan(row * SourcePixelCount, SourcePixelCount);
    }

    private void WriteImage(int row, Span<float> destination)
    {
        // Callers checked the row and that destination holds CharacterFormat.PixelCount floats: index without bounds checks.
        // upright[r, c] = stored[c, r]; output[(r + 2) * 32 + (c + 2)] = upright[r, c] / 255f; border 0.
        destination[..((Padding * CharacterFormat.ImageSide) + Padding)].Clear();
        destination[(((Padding + SourceImageSide - 1) * CharacterFormat.ImageSide) + Padding + SourceImageSide)..].Clear();
        ref byte stored = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(pixels), (nint)row * SourcePixelCount);
        ref float scale = ref MemoryMarshal.GetArrayDataReference(Scale);
        ref float output = ref MemoryMarshal.GetReference(destination);
        for (int r = 0; r < SourceImageSide; r++)
        {
            ref float line = ref Unsafe.Add(ref output, ((r + Padding) * CharacterFormat.ImageSide) + Padding);
            ref byte column = ref Unsafe.Add(ref stored, r);
            for (int c = 0; c < SourceImageSide; c++)
                Unsafe.Add(ref line, c) = Unsafe.Add(ref scale, Unsafe.Add(ref column, c * SourceImageSide));

            if (r < SourceImageSide - 1)
            {
                // The right border of this line and the left border of the next one are contiguous.
                for (int k = SourceImageSide; k < SourceImageSide + (2 * Padding); k++)
                    Unsafe.Add(ref line, k) = 0f;
            }
        }
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"The row index must be 0 to {Count - 1}.");
    }

    private static void CheckLabels(ReadOnlySpan<byte> labels, EmnistMapping mapping, IdxReader reader)
    {
        var table = mapping.ClassIndexByLabel;
        int first = -1;
        int unknownRows = 0;
        var unknownValues = new SortedSet<int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (table[labels[i]] >= 0)
                continue;
            if (first < 0)
                first = i;
            unknownRows++;
            unknownValues.Add(labels[i]);
        }

        if (first < 0)
            return;

        long offset = reader.HeaderLength + first;
        throw new EmnistDataException(
            $"Label {labels[first]} at row {first} of the labels file '{reader.Path}' ({reader.OffsetText(offset)}) is not in "
            + $"the mapping file '{mapping.SourcePath}', which defines labels {mapping.DescribeLabelValues()}. "
            + $"{unknownRows} row(s) in all carry unmapped label value(s) {string.Join(", ", unknownValues)}. "
            + "Pass the mapping file of the same split as the labels (e.g. emnist-byclass-mapping.txt for emnist-byclass-*).",
            reader.Path, offset);
    }

    private static float[] CreateScale()
    {
        var scale = new float[256];
        for (int i = 0; i < scale.Length; i++)
            scale[i] = i / 255f;
        return scale;
    }
}
