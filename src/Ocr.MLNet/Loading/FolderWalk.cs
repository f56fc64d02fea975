namespace Ocr.MLNet.Loading;

/// <summary>
/// Walks a folder tree for the loaders, following symbolic links but never reading a file twice: every folder is
/// known by its real path (links resolved), a folder whose real path was already entered is not entered again, a
/// link back to a folder above it (a loop) is a bad folder (thrown, or with <c>SkipBadFiles</c> skipped) naming both
/// paths, and a file reached through links under two names is listed once (<see cref="DropDuplicates"/>).
/// </summary>
/// <remarks>
/// Real paths cost a system call only for links: a plain entry's real path is its real parent's plus its name. The
/// set of real file paths is built only when the walk met a link, so a tree without links (SD19 holds 814,255 files)
/// costs nothing beyond the listing.
/// </remarks>
internal sealed class FolderWalk
{
    /// <summary>More links than this in one path is a loop the system would refuse anyway (Linux stops at 40).</summary>
    private const int MaxLinkDepth = 40;

    private readonly BadFiles bad;
    private readonly Dictionary<string, string> realByListed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> listedByReal = new(StringComparer.Ordinal);

    /// <summary>Starts a walk at <paramref name="root"/> (a full path of an existing folder).</summary>
    /// <param name="root">The folder the loader was given.</param>
    /// <param name="bad">Where loops are thrown or listed.</param>
    public FolderWalk(string root, BadFiles bad)
    {
        this.bad = bad;
        Root = root;
        string real = RealPath(root);
        realByListed[root] = real;
        listedByReal[real] = root;
    }

    /// <summary>The folder the walk started at.</summary>
    public string Root { get; }

    /// <summary>True once a symbolic link (to a file or a folder) was met.</summary>
    public bool SawLink { get; private set; }

    /// <summary>
    /// The subfolders of <paramref name="folder"/> (a folder this walk returned, or the root) to enter, full paths
    /// in ordinal order: a link to a folder already entered is left out, a link to a folder above (a loop) is reported.
    /// </summary>
    public List<string> Subfolders(string folder)
    {
        string realParent = realByListed[folder];
        var result = new List<string>();
        foreach (var child in new DirectoryInfo(folder).EnumerateDirectories().OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            string listed = Path.Join(folder, child.Name);
            string real;
            if (IsLink(child))
            {
                SawLink = true;
                try
                {
                    real = RealPath(listed);
                }
                catch (IOException e)
                {
                    bad.Bad(listed, $"The folder '{listed}' is a symbolic link that cannot be followed ({e.Message}).",
                        "Fix or remove the link, or set SkipBadFiles = true to skip it.");
                    continue;
                }
            }
            else
            {
                real = Path.Join(realParent, child.Name);
            }

            if (IsSameOrBelow(realParent, real))
            {
                string above = listedByReal.GetValueOrDefault(real, real);
                bad.Bad(listed, $"The folder '{listed}' is a symbolic link back to '{above}', a folder above it (its real path is '{real}'): a loop, "
                    + "which would read the same files again and again.", "Remove the link, or set SkipBadFiles = true to skip it.");
                continue;
            }

            // Reached before under another name (two links to one folder): its files are listed once, where first reached.
            if (!listedByReal.TryAdd(real, listed))
                continue;
            realByListed[listed] = real;
            result.Add(listed);
        }

        return result;
    }

    /// <summary>The files directly in <paramref name="folder"/> (a folder this walk returned, or the root), full paths in ordinal order.</summary>
    public List<string> Files(string folder)
    {
        var result = new List<string>();
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles())
        {
            if (IsLink(file))
                SawLink = true;
            result.Add(Path.Join(folder, file.Name));
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>The files of <paramref name="folder"/> and every folder below it, full paths in ordinal order.</summary>
    public List<string> FilesBelow(string folder)
    {
        var result = new List<string>();
        var stack = new Stack<string>();
        stack.Push(folder);
        while (stack.Count > 0)
        {
            string current = stack.Pop();
            result.AddRange(Files(current));
            var children = Subfolders(current);
            for (int i = children.Count - 1; i >= 0; i--)
                stack.Push(children[i]);
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>
    /// The files of <paramref name="files"/> less those whose real path an earlier file already has (one file
    /// reached through links under two names), in the same order; <paramref name="files"/> itself when the walk met no link.
    /// </summary>
    /// <exception cref="CharacterDataException">A link to a file cannot be followed (and bad files are not skipped).</exception>
    public ImageFileList DropDuplicates(ImageFileList files)
    {
        if (!SawLink)
            return files;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var keep = new List<int>(files.Count);
        for (int index = 0; index < files.Count; index++)
        {
            string path = files.GetPath(index);
            string real;
            try
            {
                var info = new FileInfo(path);
                real = IsLink(info) ? RealPath(path) : Path.Join(realByListed[Path.GetDirectoryName(path)!], info.Name);
            }
            catch (IOException)
            {
                // A broken link: kept, so that the check of the files names it as unreadable.
                real = path;
            }

            if (seen.Add(real))
                keep.Add(index);
        }

        return files.Keep(keep);
    }

    /// <summary>
    /// The real path of <paramref name="path"/>: absolute, with every symbolic link along it resolved (as the C
    /// library's realpath). Throws an <see cref="IOException"/> for more links than the system follows (a loop of links).
    /// </summary>
    public static string RealPath(string path) => RealPath(Path.GetFullPath(path), 0);

    private static string RealPath(string full, int depth)
    {
        if (depth > MaxLinkDepth)
            throw new IOException($"more than {MaxLinkDepth} symbolic links in a row, a loop of links");
        string root = Path.GetPathRoot(full) ?? "";
        string current = root;
        foreach (string part in full[root.Length..].Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar))
        {
            if (part.Length == 0)
                continue;
            string next = Path.Join(current, part);
            // LinkTarget is null for an entry that is no link or does not exist.
            if (new FileInfo(next).LinkTarget is string target)
                next = RealPath(Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Join(current, target)), depth + 1);

            current = next;
        }

        return current;
    }

    /// <summary>True when <paramref name="folder"/> is <paramref name="ancestor"/> or lies below it (real paths).</summary>
    private static bool IsSameOrBelow(string folder, string ancestor) =>
        folder == ancestor
        || (folder.StartsWith(ancestor, StringComparison.Ordinal)
            && (ancestor.EndsWith(Path.DirectorySeparatorChar) || folder[ancestor.Length] == Path.DirectorySeparatorChar));

    private static bool IsLink(FileSystemInfo info) => (info.Attributes & FileAttributes.ReparsePoint) != 0;
}
