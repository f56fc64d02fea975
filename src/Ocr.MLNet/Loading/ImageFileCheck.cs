namespace Ocr.MLNet.Loading;

/// <summary>
/// Checks listed image files when loading, so that a bad one is thrown or skipped then rather than found by a cursor:
/// each file is decoded once (or only its header read), in parallel, and the image is not kept.
/// </summary>
internal static class ImageFileCheck
{
    /// <summary>The problem of each file in words, or null for a good one.</summary>
    /// <param name="files">The files to check.</param>
    /// <param name="decodeFully">Decode the whole image; false reads only the header.</param>
    /// <param name="maxPixels">The largest width × height accepted (checked from the header, before decoding).</param>
    public static string?[] FindProblems(ImageFileList files, bool decodeFully, long maxPixels)
    {
        var problems = new string?[files.Count];
        Parallel.For(0, files.Count, index =>
        {
            using var bitmap = ImageDecoder.Decode(files.GetPath(index), decodeFully, maxPixels, out string? problem);
            problems[index] = problem;
        });
        return problems;
    }

    /// <summary>Checks the files, reports each bad one to <paramref name="bad"/> in list order, and returns the good ones.</summary>
    /// <exception cref="CharacterDataException">A file is bad and bad files are not skipped.</exception>
    public static ImageFileList KeepGood(ImageFileList files, bool decodeFully, long maxPixels, BadFiles bad)
    {
        var problems = FindProblems(files, decodeFully, maxPixels);
        var keep = new List<int>(files.Count);
        for (int index = 0; index < files.Count; index++)
        {
            if (problems[index] is string problem)
            {
                string path = files.GetPath(index);
                bad.Bad(path, $"The image file '{path}' {problem}.", "Replace or delete it, or set SkipBadFiles = true to skip it.");
            }
            else
            {
                keep.Add(index);
            }
        }

        return files.Keep(keep);
    }
}
