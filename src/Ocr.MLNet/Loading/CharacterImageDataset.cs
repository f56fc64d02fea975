using System.Globalization;
using System.Text;
using SkiaSharp;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Labelled character images from NIST SD19 <c>by_class</c> folders, a generic image folder tree or memory, each
/// row converted by <see cref="CharacterImageConverter"/> into EMNIST's convention (1×32×32 floats, ink bright on
/// dark, [0, 1], centred and scaled as EMNIST prepared SD19) when it is read.
/// </summary>
/// <remarks>
/// <para>
/// Files are listed once and decoded again each time a row is read (by <see cref="CopyPixels"/> or a cursor), so a
/// data set of hundreds of thousands of files costs only its file names in memory (about 50 bytes per file: each
/// folder path is kept once, file names are packed into one string). Wrap the view in <c>mlContext.Data.Cache</c>
/// when several passes should decode only once. In-memory images are converted once, when they are given
/// (4 KiB per image).
/// </para>
/// <para>
/// With <see cref="CharacterImageLoaderOptions.SkipBadFiles"/> the files and folders that were skipped are listed in
/// <see cref="SkippedFiles"/>; without it the first bad one throws a <see cref="CharacterDataException"/>.
/// The instance is immutable and safe to read from several threads.
/// </para>
/// </remarks>
public sealed class CharacterImageDataset : ICharacterRows
{
    private readonly string[] classNames;
    private readonly ushort[] classIndices;
    private readonly string[]? directories;
    private readonly int[]? directoryIndices;
    private readonly string? names;
    private readonly int[]? nameStarts;
    private readonly InkPolarity[]? directoryPolarity;
    private readonly float[][]? images;

    private CharacterImageDataset(string[] classNames, ushort[] classIndices, IReadOnlyList<SkippedImageFile> skipped,
        string[]? directories, int[]? directoryIndices, string? names, int[]? nameStarts, InkPolarity[]? directoryPolarity,
        float[][]? images)
    {
        this.classNames = classNames;
        this.classIndices = classIndices;
        SkippedFiles = skipped;
        this.directories = directories;
        this.directoryIndices = directoryIndices;
        this.names = names;
        this.nameStarts = nameStarts;
        this.directoryPolarity = directoryPolarity;
        this.images = images;
    }

    /// <summary>Number of rows (images).</summary>
    public int Count => classIndices.Length;

    /// <summary>The classes, in ordinal order of their labels; <see cref="GetClassIndex"/> indexes this list.</summary>
    public IReadOnlyList<string> ClassNames => classNames;

    /// <summary>
    /// The files and folders skipped because <see cref="CharacterImageLoaderOptions.SkipBadFiles"/> was set, each with
    /// its reason, in the order they were found. Empty when nothing was skipped.
    /// </summary>
    public IReadOnlyList<SkippedImageFile> SkippedFiles { get; }

    /// <summary>Lists NIST SD19 <c>by_class</c> images under <paramref name="directory"/> (see <c>mlContext.Data.LoadFromNistSd19</c>).</summary>
    /// <param name="directory">The <c>by_class</c> folder, one of its class folders, or any folder above them.</param>
    /// <param name="options">Options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (and <c>SkipBadFiles</c> is off), or no SD19 partition folder at all.</exception>
    public static CharacterImageDataset LoadNistSd19(string directory, Sd19LoaderOptions? options = null)
    {
        options ??= new Sd19LoaderOptions();
        options.Validate();
        string root = CheckDirectory(directory, "NIST SD19",
            "Pass the folder that holds SD19's by_class folders (e.g. the extracted by_class.zip), or one of its class folders.");
        var wanted = options.Partitions is { Count: > 0 } p ? new HashSet<string>(p, StringComparer.Ordinal) : null;
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var builder = new Builder(options);
        foreach (string folder in Walk(root))
        {
            string name = Path.GetFileName(folder);
            string? partition = null;
            string? code = null;
            if (name.StartsWith("train_", StringComparison.Ordinal))
            {
                partition = "train";
                code = name["train_".Length..];
            }
            else if (name.StartsWith("hsf_", StringComparison.Ordinal))
            {
                partition = name;
                code = Path.GetFileName(Path.GetDirectoryName(folder)) ?? "";
            }

            if (partition is null)
                continue;
            found.Add(partition);
            if (wanted is not null && !wanted.Contains(partition))
                continue;

            if (!TryCharacterFromHex(code!, out string label))
            {
                string problem = partition == "train"
                    ? $"The SD19 folder '{folder}' is named train_{code}, but '{code}' is not the hex ASCII code of a digit or an English letter (30-39, 41-5a, 61-7a)."
                    : $"The SD19 folder '{folder}' is an hsf partition folder, but its parent folder's name '{code}' is not the hex ASCII code of a digit or an English letter (30-39, 41-5a, 61-7a); SD19's layout is by_class/<hex>/hsf_<n>/.";
                builder.Bad(folder, problem, "Rename or remove the folder, or set SkipBadFiles = true to skip it.");
                continue;
            }

            builder.AddFolder(folder, label, InkPolarity.DarkOnLight, fileName =>
            {
                // train_<hex>_NNNNN.png must agree with its folder.
                if (partition == "train" && fileName.StartsWith("train_", StringComparison.Ordinal))
                {
                    string rest = fileName["train_".Length..];
                    int underscore = rest.IndexOf('_', StringComparison.Ordinal);
                    string fileCode = underscore < 0 ? Path.GetFileNameWithoutExtension(rest) : rest[..underscore];
                    if (!string.Equals(fileCode, code, StringComparison.OrdinalIgnoreCase))
                    {
                        return TryCharacterFromHex(fileCode, out string fileLabel)
                            ? $"its name says class {fileCode} (\"{fileLabel}\") but it lies in the folder train_{code} (\"{label}\")"
                            : $"its name carries '{fileCode}', which is not the hex ASCII code of a digit or an English letter";
                    }
                }

                return null;
            });
        }

        if (found.Count == 0)
        {
            throw new CharacterDataException(
                $"No NIST SD19 partition folder (train_<hex> or hsf_<n>) was found under '{root}'. "
                + "Pass the by_class folder of SD19 (layout by_class/<hex>/train_<hex>/train_<hex>_NNNNN.png and by_class/<hex>/hsf_<n>/*.png), "
                + "or use LoadFromImageFolder for a tree of class-named folders.", root, null);
        }

        if (builder.RowCount == 0 && wanted is not null && !found.Overlaps(wanted))
        {
            throw new CharacterDataException(
                $"None of the partitions asked for ({string.Join(", ", wanted.Order(StringComparer.Ordinal))}) is under '{root}', which holds "
                + $"{string.Join(", ", found)}. Set Partitions to some of those, or to null for all.", root, null);
        }

        return builder.Build(root);
    }

    /// <summary>Lists the images of a class-per-folder tree (see <c>mlContext.Data.LoadFromImageFolder</c>).</summary>
    /// <param name="directory">The root: each folder directly in it is a class (its name the label) and holds that class's images, in it or in subfolders.</param>
    /// <param name="options">Options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (and <c>SkipBadFiles</c> is off), or no class folder at all.</exception>
    public static CharacterImageDataset LoadImageFolder(string directory, ImageFolderLoaderOptions? options = null)
    {
        options ??= new ImageFolderLoaderOptions();
        options.Validate();
        string root = CheckDirectory(directory, "image",
            "Pass a folder that holds one folder per class (the folder name is the label) with the images inside.");
        var builder = new Builder(options);
        foreach (string file in Directory.EnumerateFiles(root).Order(StringComparer.Ordinal))
        {
            builder.Bad(file, $"The file '{file}' lies directly in the image folder '{root}', where only class folders belong, so it has no label.",
                "Move it into the folder of its class or out of the tree, or set SkipBadFiles = true to skip it.");
        }

        var classFolders = Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal).ToList();
        if (classFolders.Count == 0)
        {
            throw new CharacterDataException(
                $"The image folder '{root}' holds no class folders. Put each class's images in a folder named after the class (e.g. '{Path.Combine(root, "A")}').",
                root, null);
        }

        foreach (string classFolder in classFolders)
            builder.AddFolder(classFolder, Path.GetFileName(classFolder), options.InkPolarity, null, recursive: true);
        return builder.Build(root);
    }

    /// <summary>Converts labelled encoded images (PNG, JPEG, … bytes) held in memory.</summary>
    /// <param name="images">Label and encoded image of each row.</param>
    /// <param name="options">Options (polarity, <c>SkipBadFiles</c>); <see langword="null"/> for the defaults.</param>
    /// <exception cref="CharacterDataException">An image cannot be decoded or a label is empty (and <c>SkipBadFiles</c> is off); the message names its index.</exception>
    public static CharacterImageDataset FromImages(IEnumerable<(string Label, byte[] EncodedImage)> images, ImageFolderLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        return FromImages(images.Select(i => (i.Label, (Func<SKBitmap?>)(() => i.EncodedImage is null ? null : DecodeBytes(i.EncodedImage, full: true, out _)), true)), options);
    }

    /// <summary>Converts labelled decoded images held in memory (the bitmaps are read, not kept or disposed).</summary>
    /// <param name="images">Label and image of each row.</param>
    /// <param name="options">Options (polarity, <c>SkipBadFiles</c>); <see langword="null"/> for the defaults.</param>
    /// <exception cref="CharacterDataException">An image is null or empty or a label is empty (and <c>SkipBadFiles</c> is off); the message names its index.</exception>
    public static CharacterImageDataset FromImages(IEnumerable<(string Label, SKBitmap Image)> images, ImageFolderLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        return FromImages(images.Select(i => (i.Label, (Func<SKBitmap?>)(() => i.Image), false)), options);
    }

    /// <summary>
    /// The data set behind a view that <c>LoadFromNistSd19</c>, <c>LoadFromImageFolder</c>, <c>LoadFromImages</c> or
    /// <see cref="AsDataView"/> returned, e.g. to read <see cref="SkippedFiles"/>; <see langword="null"/> for any
    /// other view (including one wrapped by a transform or a cache).
    /// </summary>
    /// <param name="view">A view returned by one of these loaders.</param>
    public static CharacterImageDataset? FromDataView(IDataView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return (view as CharacterDataView<CharacterImageDataset>)?.Dataset;
    }

    /// <summary>The class index of a row: an index into <see cref="ClassNames"/>.</summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    public int GetClassIndex(int row)
    {
        CheckRow(row);
        return classIndices[row];
    }

    /// <summary>The label of a row, e.g. "A", "a" or "7" (for an image folder, its class folder's name).</summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    public string GetLabel(int row) => classNames[GetClassIndex(row)];

    /// <summary>The full path of a row's file, or <see langword="null"/> for an in-memory image.</summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    public string? GetPath(int row)
    {
        CheckRow(row);
        return directories is null ? null : Path.Join(directories[directoryIndices![row]], names.AsSpan(nameStarts![row], nameStarts[row + 1] - nameStarts[row]));
    }

    /// <summary>Number of rows of each class, indexed like <see cref="ClassNames"/>.</summary>
    public int[] CountRowsPerClass()
    {
        var counts = new int[classNames.Length];
        foreach (ushort index in classIndices)
            counts[index]++;
        return counts;
    }

    /// <summary>
    /// Writes one row's image into <paramref name="destination"/> (at least 1024 floats), decoding its file and
    /// converting it with <see cref="CharacterImageConverter"/>.
    /// </summary>
    /// <param name="row">Row index, 0 to <see cref="Count"/> - 1.</param>
    /// <param name="destination">Receives 1×32×32 floats.</param>
    /// <exception cref="CharacterDataException">The file can no longer be read or decoded; the message names it.</exception>
    public void CopyPixels(int row, Span<float> destination)
    {
        CheckRow(row);
        if (destination.Length < CharacterImageConverter.PixelCount)
            throw new ArgumentException($"The destination holds {destination.Length} floats; one image needs {CharacterImageConverter.PixelCount}.", nameof(destination));
        if (images is not null)
        {
            images[row].CopyTo(destination);
            return;
        }

        string path = GetPath(row)!;
        using var bitmap = Decode(path, full: true, out string? problem)
            ?? throw new CharacterDataException(
                $"The image file '{path}' {problem}. It was listed when the data was loaded. Replace or delete it and load the data again "
                + "(VerifyImages = true, the default, finds such files when loading; SkipBadFiles = true then skips them).", path, null);
        CharacterImageConverter.ToEmnistPixels(bitmap, directoryPolarity![directoryIndices![row]], destination);
    }

    /// <summary>
    /// An <see cref="IDataView"/> over these rows (no copy): a string label column and a float vector 1×32×32 pixels
    /// column, built per row as the cursor moves. This is what the <c>mlContext.Data.LoadFrom…</c> methods return.
    /// </summary>
    /// <param name="labelColumnName">Name of the label column.</param>
    /// <param name="pixelsColumnName">Name of the pixels column.</param>
    public IDataView AsDataView(string labelColumnName = EmnistLoaderOptions.DefaultLabelColumnName,
        string pixelsColumnName = EmnistLoaderOptions.DefaultPixelsColumnName)
    {
        EmnistLoaderOptions.ValidateColumnNames(labelColumnName, pixelsColumnName, null);
        return new CharacterDataView<CharacterImageDataset>(this, labelColumnName, pixelsColumnName);
    }

    /// <summary>
    /// Decodes an image file to 32-bit colour (the platform's RGBA or BGRA order); null with the problem in words when it cannot be read or decoded.
    /// With <paramref name="full"/> false only the header is read (and an empty bitmap is returned).
    /// </summary>
    internal static SKBitmap? Decode(string path, bool full, out string? problem)
    {
        problem = null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be read ({e.Message})";
            return null;
        }

        return DecodeBytes(bytes, full, out problem);
    }

    /// <summary>Decodes encoded image bytes to 32-bit colour; null with the problem in words when they cannot be decoded.</summary>
    internal static SKBitmap? DecodeBytes(byte[] bytes, bool full, out string? problem)
    {
        problem = null;
        if (bytes.Length == 0)
        {
            problem = "is empty (0 bytes), not an image";
            return null;
        }

        // SKData keeps the decoder in native code (a managed stream would call back into .NET for every read).
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            problem = "is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP)";
            return null;
        }

        // Keep the source's alpha type when it is opaque: asking an opaque PNG for unpremultiplied alpha costs a
        // colour transform per pixel.
        var alpha = codec.Info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Unpremul;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKImageInfo.PlatformColorType, alpha);
        if (info.Width < 1 || info.Height < 1)
        {
            problem = $"has no pixels ({info.Width}×{info.Height})";
            return null;
        }

        var bitmap = new SKBitmap(info);
        if (!full)
            return bitmap;
        var decoded = codec.GetPixels(info, bitmap.GetPixels());
        if (decoded != SKCodecResult.Success)
        {
            bitmap.Dispose();
            problem = $"is damaged: its {codec.EncodedFormat} image data cannot be decoded (SkiaSharp says {decoded})";
            return null;
        }

        return bitmap;
    }

    private static CharacterImageDataset FromImages(IEnumerable<(string Label, Func<SKBitmap?> Image, bool Owned)> images, ImageFolderLoaderOptions? options)
    {
        options ??= new ImageFolderLoaderOptions();
        options.Validate();
        var skipped = new List<SkippedImageFile>();
        var labels = new List<string>();
        var pixels = new List<float[]>();
        int index = -1;
        foreach (var (label, getImage, owned) in images)
        {
            index++;
            if (options.MaxRows is int max && pixels.Count >= max)
                break;
            string where = $"image #{index}";
            string? problem = null;
            SKBitmap? bitmap = null;
            try
            {
                if (string.IsNullOrWhiteSpace(label))
                    problem = "has an empty label";
                else if ((bitmap = getImage()) is null)
                    problem = owned ? "is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP) or its data is damaged" : "is null";
                else if (bitmap.Width < 1 || bitmap.Height < 1)
                    problem = $"has no pixels ({bitmap.Width}×{bitmap.Height})";
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

            if (problem is null)
                continue;
            if (!options.SkipBadFiles)
            {
                throw new CharacterDataException(
                    $"The in-memory {where} (label {Show(label)}) {problem}. Fix or remove it, or set SkipBadFiles = true to skip it.", where, null);
            }

            skipped.Add(new SkippedImageFile(where, problem));
        }

        var classes = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        CheckClassCount(classes.Length, "in-memory images");
        var lookup = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (ushort)x.i, StringComparer.Ordinal);
        return new CharacterImageDataset(classes, labels.Select(l => lookup[l]).ToArray(), skipped, null, null, null, null, null, [.. pixels]);
    }

    private static string Show(string? value) => value is null ? "null" : $"\"{value}\"";

    private static void CheckClassCount(int count, string what)
    {
        if (count > ushort.MaxValue)
            throw new CharacterDataException($"The {what} hold {count} classes; at most {ushort.MaxValue} are supported.");
    }

    private static string CheckDirectory(string directory, string kind, string fix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The {kind} folder '{root}' does not exist. {fix}");
        return root;
    }

    /// <summary>
    /// True when <paramref name="directory"/> or a folder below it is an SD19 partition folder (<c>train_&lt;hex&gt;</c> or
    /// <c>hsf_&lt;n&gt;</c>): what tells an SD19 <c>by_class</c> tree from a plain image folder tree.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static bool ContainsNistSd19Partitions(string directory) =>
        Walk(CheckDirectory(directory, "data", "Pass an existing folder.")).Any(IsPartitionFolder);

    private static bool IsPartitionFolder(string folder)
    {
        string name = Path.GetFileName(folder);
        return name.StartsWith("train_", StringComparison.Ordinal) || name.StartsWith("hsf_", StringComparison.Ordinal);
    }

    /// <summary>Every folder under <paramref name="root"/> (itself included), depth first, ordinal order, not entering partition folders' subfolders.</summary>
    private static IEnumerable<string> Walk(string root)
    {
        var stack = new Stack<string>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            string folder = stack.Pop();
            yield return folder;
            if (IsPartitionFolder(folder))
                continue;
            foreach (string child in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal).Reverse())
                stack.Push(child);
        }
    }

    /// <summary>"41" → "A": true for the hex ASCII code of 0-9, A-Z or a-z.</summary>
    internal static bool TryCharacterFromHex(string code, out string character)
    {
        character = "";
        if (code.Length is < 1 or > 2 || !int.TryParse(code, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
            return false;
        char c = (char)value;
        if (!char.IsAsciiLetterOrDigit(c))
            return false;
        character = c.ToString();
        return true;
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"The row index must be 0 to {Count - 1}.");
    }

    /// <summary>Collects folders and files, reports or throws on bad ones, and verifies the images.</summary>
    private sealed class Builder(CharacterImageLoaderOptions options)
    {
        private readonly List<SkippedImageFile> skipped = [];
        private readonly List<string> directories = [];
        private readonly List<InkPolarity> polarities = [];
        private readonly List<int> directoryIndices = [];
        private readonly List<string> labels = [];
        private readonly StringBuilder names = new();
        private readonly List<int> nameStarts = [];

        public int RowCount => directoryIndices.Count;

        public void Bad(string path, string problem, string fix)
        {
            if (!options.SkipBadFiles)
                throw new CharacterDataException($"{problem} {fix}", path, null);
            skipped.Add(new SkippedImageFile(path, problem));
        }

        public void AddFolder(string folder, string label, InkPolarity polarity, Func<string, string?>? checkName, bool recursive = false)
        {
            var files = (recursive ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories) : Directory.EnumerateFiles(folder))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                Bad(folder, $"The class folder '{folder}' (class \"{label}\") holds no image files.",
                    "Put the class's images in it or delete it, or set SkipBadFiles = true to skip it.");
                return;
            }

            int directoryIndex = -1;
            string? currentDirectory = null;
            foreach (string file in files)
            {
                if (options.MaxRows is int max && RowCount >= max)
                    return;
                string fileName = Path.GetFileName(file);
                if (checkName?.Invoke(fileName) is string nameProblem)
                {
                    Bad(file, $"The file '{file}' cannot be given a class: {nameProblem}.", "Rename or move it, or set SkipBadFiles = true to skip it.");
                    continue;
                }

                string directory = Path.GetDirectoryName(file)!;
                if (directory != currentDirectory)
                {
                    directories.Add(directory);
                    polarities.Add(polarity);
                    directoryIndex = directories.Count - 1;
                    currentDirectory = directory;
                }

                directoryIndices.Add(directoryIndex);
                nameStarts.Add(names.Length);
                names.Append(fileName);
                labels.Add(label);
            }
        }

        public CharacterImageDataset Build(string root)
        {
            nameStarts.Add(names.Length);
            string allNames = names.ToString();
            var dirs = directories.ToArray();
            var dirIndices = directoryIndices.ToArray();
            var starts = nameStarts.ToArray();
            string PathOf(int row) => Path.Join(dirs[dirIndices[row]], allNames.AsSpan(starts[row], starts[row + 1] - starts[row]));

            // Check each file: decode fully (in parallel) or read its header only.
            var problems = new string?[dirIndices.Length];
            bool full = options.VerifyImages;
            Parallel.For(0, dirIndices.Length, row =>
            {
                using var bitmap = Decode(PathOf(row), full, out string? problem);
                problems[row] = problem;
            });

            var keep = new List<int>(dirIndices.Length);
            for (int row = 0; row < dirIndices.Length; row++)
            {
                if (problems[row] is string problem)
                {
                    string path = PathOf(row);
                    Bad(path, $"The image file '{path}' {problem}.", "Replace or delete it, or set SkipBadFiles = true to skip it.");
                }
                else
                {
                    keep.Add(row);
                }
            }

            if (keep.Count == 0)
            {
                throw new CharacterDataException(
                    $"No usable image was found under '{root}'"
                    + (skipped.Count > 0 ? $" ({skipped.Count} file(s) or folder(s) skipped as bad, the first: {skipped[0].Path}: {skipped[0].Reason})" : "")
                    + ". Check the folder and its layout.", root, null);
            }

            if (keep.Count < dirIndices.Length)
            {
                // Drop the skipped rows from the packed name list.
                var packed = new StringBuilder();
                var newStarts = new int[keep.Count + 1];
                var newDirs = new int[keep.Count];
                for (int i = 0; i < keep.Count; i++)
                {
                    int row = keep[i];
                    newStarts[i] = packed.Length;
                    packed.Append(allNames, starts[row], starts[row + 1] - starts[row]);
                    newDirs[i] = dirIndices[row];
                }

                newStarts[keep.Count] = packed.Length;
                allNames = packed.ToString();
                starts = newStarts;
                dirIndices = newDirs;
            }

            var keptLabels = keep.Select(row => labels[row]).ToList();
            var classes = keptLabels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            CheckClassCount(classes.Length, $"folders under '{root}'");
            var lookup = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (ushort)x.i, StringComparer.Ordinal);
            var indices = keptLabels.Select(l => lookup[l]).ToArray();
            return new CharacterImageDataset(classes, indices, skipped.AsReadOnly(), dirs, dirIndices, allNames, starts,
                [.. polarities], null);
        }
    }
}
