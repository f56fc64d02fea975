using System.Globalization;

namespace Ocr.MLNet.Loading;

/// <summary>
/// The naming rules of NIST SD19's <c>by_class</c> tree: partition folders <c>train_&lt;hex&gt;</c> (the class in
/// the folder's own name) and <c>hsf_&lt;n&gt;</c> (the class in its parent folder's name), each class a hex ASCII
/// code of a digit or an English letter, and <c>train_&lt;hex&gt;_NNNNN.png</c> files that must agree with their folder.
/// </summary>
internal static class Sd19Layout
{
    /// <summary>The partition of every <c>train_&lt;hex&gt;</c> folder.</summary>
    public const string TrainPartition = "train";

    private const string TrainPrefix = "train_";
    private const string HsfPrefix = "hsf_";

    /// <summary>True for a <c>train_&lt;hex&gt;</c> or <c>hsf_&lt;n&gt;</c> folder.</summary>
    public static bool IsPartitionFolder(string folder)
    {
        string name = Path.GetFileName(folder);
        return name.StartsWith(TrainPrefix, StringComparison.Ordinal) || name.StartsWith(HsfPrefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// Reads a partition folder's partition ("train" or its own name, e.g. "hsf_4") and class code (the hex after
    /// <c>train_</c>, or the name of the <c>hsf_&lt;n&gt;</c> folder's parent); false when it is no partition folder.
    /// The code is not checked here: see <see cref="TryCharacterFromHex"/>.
    /// </summary>
    public static bool TryReadPartitionFolder(string folder, out string partition, out string code)
    {
        string name = Path.GetFileName(folder);
        if (name.StartsWith(TrainPrefix, StringComparison.Ordinal))
        {
            partition = TrainPartition;
            code = name[TrainPrefix.Length..];
            return true;
        }

        if (name.StartsWith(HsfPrefix, StringComparison.Ordinal))
        {
            partition = name;
            code = Path.GetFileName(Path.GetDirectoryName(folder)) ?? "";
            return true;
        }

        partition = code = "";
        return false;
    }

    /// <summary>"41" → "A": true for the hex ASCII code of 0-9, A-Z or a-z.</summary>
    public static bool TryCharacterFromHex(string code, out string character)
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

    /// <summary>What is wrong with a partition folder whose class code is no character (see <see cref="TryCharacterFromHex"/>).</summary>
    public static string BadClassCodeProblem(string folder, string partition, string code) => partition == TrainPartition
        ? $"The SD19 folder '{folder}' is named train_{code}, but '{code}' is not the hex ASCII code of a digit or an English letter (30-39, 41-5a, 61-7a)."
        : $"The SD19 folder '{folder}' is an hsf partition folder, but its parent folder's name '{code}' is not the hex ASCII code of a digit or an English letter (30-39, 41-5a, 61-7a); SD19's layout is by_class/<hex>/hsf_<n>/.";

    /// <summary>
    /// Why a file of a partition folder cannot take the folder's class, or null when it can: a
    /// <c>train_&lt;hex&gt;_NNNNN.png</c> in a <c>train_&lt;hex&gt;</c> folder must carry the folder's code
    /// (case aside). Other names, and every file of an <c>hsf_&lt;n&gt;</c> folder, take the folder's class.
    /// </summary>
    public static string? FileNameProblem(string partition, string code, string label, string fileName)
    {
        if (partition != TrainPartition || !fileName.StartsWith(TrainPrefix, StringComparison.Ordinal))
            return null;
        string rest = fileName[TrainPrefix.Length..];
        int underscore = rest.IndexOf('_', StringComparison.Ordinal);
        string fileCode = underscore < 0 ? Path.GetFileNameWithoutExtension(rest) : rest[..underscore];
        if (string.Equals(fileCode, code, StringComparison.OrdinalIgnoreCase))
            return null;
        return TryCharacterFromHex(fileCode, out string fileLabel)
            ? $"its name says class {fileCode} (\"{fileLabel}\") but it lies in the folder train_{code} (\"{label}\")"
            : $"its name carries '{fileCode}', which is not the hex ASCII code of a digit or an English letter";
    }

    /// <summary>
    /// Every folder under <paramref name="root"/> (itself included), depth first in ordinal order, without entering
    /// partition folders (their files are the images; their subfolders are not SD19's). Symbolic links are followed,
    /// but no folder is entered twice and a link back to a folder above is reported (see <see cref="FolderWalk"/>).
    /// </summary>
    /// <param name="root">The full path of an existing folder.</param>
    /// <param name="walk">The walk that tracks the real paths; null walks with one that skips loops silently.</param>
    public static IEnumerable<string> WalkFolders(string root, FolderWalk? walk = null)
    {
        walk ??= new FolderWalk(root, new BadFiles(skip: true));
        var stack = new Stack<string>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            string folder = stack.Pop();
            yield return folder;
            if (IsPartitionFolder(folder))
                continue;
            var children = walk.Subfolders(folder);
            for (int i = children.Count - 1; i >= 0; i--)
                stack.Push(children[i]);
        }
    }

    /// <summary>True when <paramref name="root"/> or a folder below it is a partition folder.</summary>
    public static bool ContainsPartitions(string root) => WalkFolders(root).Any(IsPartitionFolder);
}
