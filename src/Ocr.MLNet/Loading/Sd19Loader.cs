
namespace Ocr.MLNet.Loading;

/// <summary>
/// Lists NIST SD19 <c>by_class</c> images by <see cref="Sd19Layout"/>'s rules (what <c>LoadFromNistSd19</c> does):
/// partition folders at any depth, filtered by <see cref="Sd19LoaderOptions.Partitions"/>, each file labelled with
/// its folder's class; SD19 scans are dark ink on light paper.
/// </summary>
internal static class Sd19Loader
{
    /// <summary>Lists and checks the images under <paramref name="directory"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (and <c>SkipBadFiles</c> is off), or no SD19 partition folder at all.</exception>
    public static ImageFileRows Load(string directory, Sd19LoaderOptions? options)
    {
        options ??= new Sd19LoaderOptions();
        options.Validate();
        string root = ImageFileList.CheckDirectory(directory, "NIST SD19",
            "Pass the folder that holds SD19's by_class folders (e.g. the extracted by_class.zip), or one of its class folders.");
        var wanted = options.Partitions is { Count: > 0 } p ? new HashSet<string>(p, StringComparer.Ordinal) : null;
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var bad = new BadFiles(options.SkipBadFiles);
        var files = new ImageFileList.Builder(options.MaxRows);
        var walk = new FolderWalk(root, bad);
        foreach (string folder in Sd19Layout.WalkFolders(root, walk))
        {
            if (!Sd19Layout.TryReadPartitionFolder(folder, out string partition, out string code))
                continue;
            found.Add(partition);
            if (wanted is not null && !wanted.Contains(partition))
                continue;
            if (!Sd19Layout.TryCharacterFromHex(code, out string label))
            {
                bad.Bad(folder, Sd19Layout.BadClassCodeProblem(folder, partition, code), "Rename or remove the folder, or set SkipBadFiles = true to skip it.");
                continue;
            }

            AddFolder(files, bad, walk, folder, partition, code, label);
        }

        if (found.Count == 0)
        {
            throw new CharacterDataException(
                $"No NIST SD19 partition folder (train_<hex> or hsf_<n>) was found under '{root}'. "
                + "Pass the by_class folder of SD19 (layout by_class/<hex>/train_<hex>/train_<hex>_NNNNN.png and by_class/<hex>/hsf_<n>/*.png), "
                + "or use LoadFromImageFolder for a tree of class-named folders.", root, null);
        }

        if (files.Count == 0 && wanted is not null && !found.Overlaps(wanted))
        {
            throw new CharacterDataException(
                $"None of the partitions asked for ({string.Join(", ", wanted.Order(StringComparer.Ordinal))}) is under '{root}', which holds "
                + $"{string.Join(", ", found)}. Set Partitions to some of those, or to null for all.", root, null);
        }

        return ImageFileRows.Create(walk.DropDuplicates(files.Build()), root, options.VerifyImages, options.MaxImagePixels, bad);
    }

    private static void AddFolder(ImageFileList.Builder files, BadFiles bad, FolderWalk walk, string folder, string partition, string code, string label)
    {
        var paths = walk.Files(folder);
        if (paths.Count == 0)
        {
            bad.EmptyClassFolder(folder, label);
            return;
        }

        foreach (string path in paths)
        {
            if (files.IsFull)
                return;
            if (Sd19Layout.FileNameProblem(partition, code, label, Path.GetFileName(path)) is string problem)
            {
                bad.Bad(path, $"The file '{path}' cannot be given a class: {problem}.", "Rename or move it, or set SkipBadFiles = true to skip it.");
                continue;
            }

            files.Add(path, label, InkPolarity.DarkOnLight);
        }
    }
}
