
namespace Ocr.MLNet.Loading;

/// <summary>
/// Rows of image files on disk (<c>LoadFromNistSd19</c>, <c>LoadFromImageFolder</c>): each file is decoded and
/// converted by <see cref="CharacterImageConverter"/> again whenever a cursor reads its row, so memory holds only
/// the compact file list. Immutable and safe to read from several threads.
/// </summary>
internal sealed class ImageFileRows : ILoadedRows
{
    private readonly ImageFileList files;
    private readonly long maxPixels;

    private ImageFileRows(ImageFileList files, long maxPixels, IReadOnlyList<SkippedImageFile> skippedFiles)
    {
        this.files = files;
        this.maxPixels = maxPixels;
        SkippedFiles = skippedFiles;
    }

    /// <inheritdoc />
    public int Count => files.Count;

    /// <inheritdoc />
    public IReadOnlyList<SkippedImageFile> SkippedFiles { get; }

    /// <summary>
    /// Checks the listed files (see <see cref="ImageFileCheck"/>) and keeps the good ones.
    /// </summary>
    /// <param name="listed">The files the layout found.</param>
    /// <param name="root">The folder that was loaded, for the error when nothing is left.</param>
    /// <param name="verifyImages">Decode every file once now; false reads only the headers.</param>
    /// <param name="maxPixels">The largest width × height accepted, checked from each header before decoding (also when a cursor reads a row).</param>
    /// <param name="bad">Where bad files are thrown or listed; it also holds the folders the layout skipped.</param>
    /// <exception cref="CharacterDataException">A bad file (and bad files are not skipped), or no usable image at all.</exception>
    public static ImageFileRows Create(ImageFileList listed, string root, bool verifyImages, long maxPixels, BadFiles bad)
    {
        var files = ImageFileCheck.KeepGood(listed, verifyImages, maxPixels, bad);
        if (files.Count == 0)
        {
            var skipped = bad.Skipped;
            throw new CharacterDataException(
                $"No usable image was found under '{root}'"
                + (skipped.Count > 0 ? $" ({skipped.Count} file(s) or folder(s) skipped as bad, the first: {skipped[0].Path}: {skipped[0].Reason})" : "")
                + ". Check the folder and its layout.", root, null);
        }

        return new ImageFileRows(files, maxPixels, bad.Skipped);
    }

    /// <summary>The file rows behind a view that <c>LoadFromNistSd19</c> or <c>LoadFromImageFolder</c> returned; null for any other view.</summary>
    public static ImageFileRows? FromDataView(IDataView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return (view as ICharacterDataView)?.Rows as ImageFileRows;
    }

    /// <inheritdoc />
    public string GetLabel(int row)
    {
        CheckRow(row);
        return files.GetLabel(row);
    }

    /// <summary>The full path of a row's file.</summary>
    public string GetPath(int row)
    {
        CheckRow(row);
        return files.GetPath(row);
    }

    /// <summary>Decodes a row's file and writes its 1×32×32 floats.</summary>
    /// <exception cref="CharacterDataException">The file can no longer be read or decoded; the message names it.</exception>
    public void CopyPixels(int row, Span<float> destination)
    {
        CheckRow(row);
        string path = files.GetPath(row);
        using var bitmap = ImageDecoder.Decode(path, full: true, maxPixels, out string? problem)
            ?? throw new CharacterDataException(
                $"The image file '{path}' {problem}. It was listed when the data was loaded. Replace or delete it and load the data again "
                + "(VerifyImages = true, the default, finds such files when loading; SkipBadFiles = true then skips them).", path, null);
        CharacterImageConverter.ToEmnistPixels(bitmap, files.GetPolarity(row), destination);
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"The row index must be 0 to {Count - 1}.");
    }
}
