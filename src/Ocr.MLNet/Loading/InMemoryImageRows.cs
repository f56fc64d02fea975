using SkiaSharp;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Rows of images given in memory (<c>LoadFromImages</c>): each image is converted by
/// <see cref="CharacterImageConverter"/> once, when given, and its 1×32×32 floats kept (4 KiB per image), since the
/// caller's images cannot be read again later. Immutable and safe to read from several threads.
/// </summary>
internal sealed class InMemoryImageRows : ILoadedRows
{
    private readonly string[] labels;
    private readonly float[][] pixels;

    private InMemoryImageRows(string[] labels, float[][] pixels, IReadOnlyList<SkippedImageFile> skippedFiles)
    {
        this.labels = labels;
        this.pixels = pixels;
        SkippedFiles = skippedFiles;
    }

    /// <inheritdoc />
    public int Count => labels.Length;

    /// <summary>The bad images skipped, each named "image #index" (its position in the input).</summary>
    public IReadOnlyList<SkippedImageFile> SkippedFiles { get; }

    /// <summary>Converts labelled encoded images (PNG, JPEG, … bytes).</summary>
    /// <exception cref="CharacterDataException">An image cannot be decoded or a label is empty (and <c>SkipBadFiles</c> is off); the message names its index.</exception>
    public static InMemoryImageRows Create(IEnumerable<(string Label, byte[] EncodedImage)> images, ImageFolderLoaderOptions? options)
    {
        ArgumentNullException.ThrowIfNull(images);
        long maxPixels = options?.MaxImagePixels ?? CharacterImageLoaderOptions.DefaultMaxImagePixels;
        return Create(images.Select(i => (i.Label, (Func<(SKBitmap?, string?)>)(() =>
        {
            if (i.EncodedImage is null)
                return (null, "is null");
            var bitmap = ImageDecoder.DecodeBytes(i.EncodedImage, full: true, maxPixels, out string? problem);
            return (bitmap, problem);
        }), true)), options);
    }

    /// <summary>Converts labelled decoded images (the bitmaps are read, not kept or disposed).</summary>
    /// <exception cref="CharacterDataException">An image is null or empty or a label is empty (and <c>SkipBadFiles</c> is off); the message names its index.</exception>
    public static InMemoryImageRows Create(IEnumerable<(string Label, SKBitmap Image)> images, ImageFolderLoaderOptions? options)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Create(images.Select(i => (i.Label, (Func<(SKBitmap?, string?)>)(() => (i.Image, i.Image is null ? "is null" : null)), false)), options);
    }

    /// <inheritdoc />
    public string GetLabel(int row)
    {
        CheckRow(row);
        return labels[row];
    }

    /// <inheritdoc />
    public void CopyPixels(int row, Span<float> destination)
    {
        CheckRow(row);
        pixels[row].CopyTo(destination);
    }

    /// <summary>Converts each image, decoding it first when <c>Owned</c> (then it is disposed after).</summary>
    private static InMemoryImageRows Create(IEnumerable<(string Label, Func<(SKBitmap? Bitmap, string? Problem)> Image, bool Owned)> images, ImageFolderLoaderOptions? options)
    {
        options ??= new ImageFolderLoaderOptions();
        options.Validate();
        var bad = new BadFiles(options.SkipBadFiles);
        var labels = new List<string>();
        var pixels = new List<float[]>();
        int index = -1;
        foreach (var (label, getImage, owned) in images)
        {
            index++;
            if (options.MaxRows is int max && pixels.Count >= max)
                break;
            string? problem = null;
            SKBitmap? bitmap = null;
            try
            {
                if (string.IsNullOrWhiteSpace(label))
                    problem = "has an empty label";
                else if ((bitmap = ReadImage(getImage, out string? imageProblem)) is null)
                    problem = imageProblem ?? "is null";
                else if (bitmap.Width < 1 || bitmap.Height < 1)
                    problem = $"has no pixels ({bitmap.Width}×{bitmap.Height})";
                else if (ImageDecoder.TooManyPixelsProblem(bitmap.Width, bitmap.Height, options.MaxImagePixels) is string tooLarge)
                    problem = tooLarge;
                else
                {
                    pixels.Add(CharacterImageConverter.ToEmnistPixels(bitmap, options.InkPolarity));
                    labels.Add(label);
                }
            }
            finally
            {
                if (owned)
                    bitmap?.Dispose();
            }

            if (problem is not null)
            {
                string where = $"image #{index}";
                string shown = label is null ? "null" : $"\"{label}\"";
                bad.Report(where, $"The in-memory {where} (label {shown}) {problem}. Fix or remove it, or set SkipBadFiles = true to skip it.", problem);
            }
        }

        return new InMemoryImageRows([.. labels], [.. pixels], bad.Skipped);
    }

    private static SKBitmap? ReadImage(Func<(SKBitmap? Bitmap, string? Problem)> getImage, out string? problem)
    {
        var (bitmap, found) = getImage();
        problem = found;
        return bitmap;
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"The row index must be 0 to {Count - 1}.");
    }
}
