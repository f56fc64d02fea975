namespace Ocr.MLNet.Loading;

/// <summary>
/// What a loader does with a bad file, folder or in-memory image: throw a <see cref="CharacterDataException"/> that
/// names it (the default, so nothing is dropped silently), or with <c>SkipBadFiles</c> skip it and list it as a
/// <see cref="SkippedImageFile"/>, in the order found.
/// </summary>
internal sealed class BadFiles(bool skip)
{
    private readonly List<SkippedImageFile> skipped = [];

    /// <summary>The inputs skipped so far, in the order they were found.</summary>
    public IReadOnlyList<SkippedImageFile> Skipped => skipped.AsReadOnly();

    /// <summary>Throws <paramref name="message"/> naming <paramref name="path"/>, or when skipping lists the input with <paramref name="reason"/>.</summary>
    /// <param name="path">Full path of the file or folder, or "image #index" for an in-memory image.</param>
    /// <param name="message">The whole error: what is wrong and what to do.</param>
    /// <param name="reason">What is wrong, as listed in <see cref="SkippedImageFile.Reason"/>.</param>
    public void Report(string path, string message, string reason)
    {
        if (!skip)
            throw new CharacterDataException(message, path, null);
        skipped.Add(new SkippedImageFile(path, reason));
    }

    /// <summary>Reports a bad file or folder: the error is <paramref name="problem"/> then <paramref name="fix"/>; the listed reason is the problem.</summary>
    public void Bad(string path, string problem, string fix) => Report(path, $"{problem} {fix}", problem);

    /// <summary>Reports a class folder without files (both image loaders' layouts have class folders).</summary>
    public void EmptyClassFolder(string folder, string label) =>
        Bad(folder, $"The class folder '{folder}' (class \"{label}\") holds no image files.",
            "Put the class's images in it or delete it, or set SkipBadFiles = true to skip it.");
}
