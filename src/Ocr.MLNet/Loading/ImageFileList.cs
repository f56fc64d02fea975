using System.Text;

namespace Ocr.MLNet.Loading;

/// <summary>
/// The image files a loader found, each with its label and ink polarity, in the order they were added (the loaders
/// add folders and files in ordinal order, so the order is the same on every machine and every run).
/// </summary>
/// <remarks>
/// Stored compactly because SD19 has hundreds of thousands of files: each run of files from one folder with one label
/// and polarity is kept once, and the file names are packed into one string, so a file costs about 50 bytes.
/// Immutable once built.
/// </remarks>
internal sealed class ImageFileList
{
    private readonly string[] folders;
    private readonly string[] folderLabels;
    private readonly InkPolarity[] folderPolarities;
    private readonly int[] folderIndices;
    private readonly string names;
    private readonly int[] nameStarts;

    private ImageFileList(string[] folders, string[] folderLabels, InkPolarity[] folderPolarities, int[] folderIndices, string names, int[] nameStarts)
    {
        this.folders = folders;
        this.folderLabels = folderLabels;
        this.folderPolarities = folderPolarities;
        this.folderIndices = folderIndices;
        this.names = names;
        this.nameStarts = nameStarts;
    }

    /// <summary>Number of files.</summary>
    public int Count => folderIndices.Length;

    /// <summary>The full path of a file.</summary>
    public string GetPath(int index) =>
        Path.Join(folders[folderIndices[index]], names.AsSpan(nameStarts[index], nameStarts[index + 1] - nameStarts[index]));

    /// <summary>The label of a file (its class).</summary>
    public string GetLabel(int index) => folderLabels[folderIndices[index]];

    /// <summary>Which way round the ink of a file is.</summary>
    public InkPolarity GetPolarity(int index) => folderPolarities[folderIndices[index]];

    /// <summary>A list of only the files at <paramref name="indices"/> (ascending), in the same order.</summary>
    public ImageFileList Keep(IReadOnlyList<int> indices)
    {
        if (indices.Count == Count)
            return this;
        var packed = new StringBuilder();
        var starts = new int[indices.Count + 1];
        var kept = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int index = indices[i];
            starts[i] = packed.Length;
            packed.Append(names, nameStarts[index], nameStarts[index + 1] - nameStarts[index]);
            kept[i] = folderIndices[index];
        }

        starts[indices.Count] = packed.Length;
        return new ImageFileList(folders, folderLabels, folderPolarities, kept, packed.ToString(), starts);
    }

    /// <summary>The full path of <paramref name="directory"/>, or a <see cref="DirectoryNotFoundException"/> naming the <paramref name="kind"/> of folder and the fix.</summary>
    public static string CheckDirectory(string directory, string kind, string fix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The {kind} folder '{root}' does not exist. {fix}");
        return root;
    }

    /// <summary>Collects files one by one, up to an optional maximum, into an <see cref="ImageFileList"/>.</summary>
    /// <param name="maxFiles">At most this many files are kept; null for all.</param>
    public sealed class Builder(int? maxFiles)
    {
        private readonly List<string> folders = [];
        private readonly List<string> folderLabels = [];
        private readonly List<InkPolarity> folderPolarities = [];
        private readonly List<int> folderIndices = [];
        private readonly StringBuilder names = new();
        private readonly List<int> nameStarts = [];

        /// <summary>Number of files added.</summary>
        public int Count => folderIndices.Count;

        /// <summary>True when the maximum number of files is reached: later files are not wanted.</summary>
        public bool IsFull => maxFiles is int max && Count >= max;

        /// <summary>Adds a file (a full path) with its label and polarity.</summary>
        public void Add(string path, string label, InkPolarity polarity)
        {
            string folder = Path.GetDirectoryName(path)!;
            int last = folders.Count - 1;
            if (last < 0 || folders[last] != folder || folderLabels[last] != label || folderPolarities[last] != polarity)
            {
                folders.Add(folder);
                folderLabels.Add(label);
                folderPolarities.Add(polarity);
            }

            folderIndices.Add(folders.Count - 1);
            nameStarts.Add(names.Length);
            names.Append(Path.GetFileName(path.AsSpan()));
        }

        /// <summary>The files added, in order.</summary>
        public ImageFileList Build() =>
            new([.. folders], [.. folderLabels], [.. folderPolarities], [.. folderIndices], names.ToString(), [.. nameStarts, names.Length]);
    }
}
