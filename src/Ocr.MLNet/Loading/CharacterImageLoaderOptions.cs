
namespace Ocr.MLNet.Loading;

/// <summary>
/// Options shared by the image loaders (<c>LoadFromNistSd19</c>, <c>LoadFromImageFolder</c>, <c>LoadFromImages</c>).
/// The defaults are those of the short overloads.
/// </summary>
public abstract class CharacterImageLoaderOptions
{
    /// <summary>Name of the output label column (string: the character or class name). Default "Label".</summary>
    public string LabelColumnName { get; set; } = EmnistLoaderOptions.DefaultLabelColumnName;

    /// <summary>Name of the output pixels column (float vector of 1×32×32 = 1024, EMNIST's convention). Default "Pixels".</summary>
    public string PixelsColumnName { get; set; } = EmnistLoaderOptions.DefaultPixelsColumnName;

    /// <summary>
    /// Skip bad files and folders (damaged or non-image files, empty class folders, unknown class codes) instead of
    /// throwing, and list each with its reason, read by <see cref="LoadedImages.GetSkippedFiles"/>. Default
    /// <see langword="false"/>: the first bad file throws a <see cref="CharacterDataException"/> naming it, so
    /// nothing is dropped silently.
    /// </summary>
    public bool SkipBadFiles { get; set; }

    /// <summary>
    /// Decode every image once when loading (in parallel), so that a damaged file is found then (and thrown or
    /// skipped) rather than when a cursor reaches it. Default <see langword="true"/>. With <see langword="false"/>
    /// loading only lists the files and reads each file's header; a file whose image data is damaged then throws
    /// a <see cref="CharacterDataException"/> from the cursor. The images are never kept: each row is decoded again
    /// when a cursor reads it.
    /// </summary>
    public bool VerifyImages { get; set; } = true;

    /// <summary>Load at most this many rows (in file order); <see langword="null"/> (the default) loads all.</summary>
    public int? MaxRows { get; set; }

    /// <summary>The default of <see cref="MaxImagePixels"/>: 4096 × 4096 = 16,777,216 pixels (64 MiB decoded).</summary>
    public const long DefaultMaxImagePixels = 4096L * 4096;

    /// <summary>
    /// The largest image accepted, in pixels (width × height). The size is read from each image's header before it
    /// is decoded, so a small file that declares a huge image (a decompression bomb: a few hundred bytes of PNG can
    /// declare 60000×60000 pixels, 13 GiB decoded) is a bad file, thrown or with <see cref="SkipBadFiles"/> skipped,
    /// instead of exhausting memory. Default <see cref="DefaultMaxImagePixels"/> (4096 × 4096); character images
    /// are far smaller. Raise it for genuinely large scans.
    /// </summary>
    public long MaxImagePixels { get; set; } = DefaultMaxImagePixels;

    /// <summary>Checks every option and throws one <see cref="ArgumentException"/> that lists every invalid value.</summary>
    internal void Validate()
    {
        var problems = EmnistLoaderOptions.CommonProblems(LabelColumnName, PixelsColumnName, MaxRows);
        if (MaxImagePixels < 1)
            problems.Add($"{nameof(MaxImagePixels)} must be at least 1 (default {DefaultMaxImagePixels:N0} = 4096×4096), got {MaxImagePixels}");
        AddProblems(problems);
        problems.ThrowIfAny(GetType().Name);
    }

    /// <summary>Adds the problems of the derived class's own options.</summary>
    private protected virtual void AddProblems(List<string> problems)
    {
    }

    private protected static string Show(string? value) => value is null ? "null" : $"\"{value}\"";
}

/// <summary>Options of <c>mlContext.Data.LoadFromNistSd19(...)</c>.</summary>
public sealed class Sd19LoaderOptions : CharacterImageLoaderOptions
{
    /// <summary>The partition folder names SD19's <c>by_class</c> uses: "train" and "hsf_0" to "hsf_7".</summary>
    public static readonly IReadOnlyList<string> KnownPartitions =
        ["train", "hsf_0", "hsf_1", "hsf_2", "hsf_3", "hsf_4", "hsf_5", "hsf_6", "hsf_7"];

    /// <summary>
    /// The partitions to load: "train" (the <c>train_&lt;hex&gt;</c> folders) and/or "hsf_0" … "hsf_7". Per the SD19
    /// user's guide, <c>train_&lt;hex&gt;</c> holds the writers of hsf_{0,1,2,3,6,7} and hsf_4 is the suggested test
    /// set, so do not combine "train" with those hsf partitions. <see langword="null"/> or empty (the default)
    /// loads every partition folder found.
    /// </summary>
    public IList<string>? Partitions { get; set; }

    private protected override void AddProblems(List<string> problems)
    {
        if (Partitions is null)
            return;
        foreach (string? partition in Partitions)
        {
            if (partition is null || !KnownPartitions.Contains(partition))
                problems.Add($"{nameof(Partitions)} holds {Show(partition)}; use \"train\" or \"hsf_0\" to \"hsf_7\"");
        }
    }
}

/// <summary>Options of <c>mlContext.Data.LoadFromImageFolder(...)</c> and <c>LoadFromImages(...)</c>.</summary>
public sealed class ImageFolderLoaderOptions : CharacterImageLoaderOptions
{
    /// <summary>
    /// Which way round the ink of the images is. Default <see cref="InkPolarity.Detect"/>: decided per image from
    /// the mean of its border (light border = dark ink on light paper, like SD19).
    /// </summary>
    public InkPolarity InkPolarity { get; set; } = InkPolarity.Detect;

    private protected override void AddProblems(List<string> problems)
    {
        if (!Enum.IsDefined(InkPolarity))
            problems.Add($"{nameof(InkPolarity)} must be Detect, DarkOnLight or LightOnDark, got {(int)InkPolarity}");
    }
}
