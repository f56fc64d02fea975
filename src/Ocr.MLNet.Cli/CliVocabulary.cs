using System.Globalization;
using System.Text.RegularExpressions;

namespace Ocr.MLNet.Cli;

/// <summary>
/// The library's messages advise its callers in its option names (<c>set SkipBadFiles = true</c>, <c>Use another
/// CheckpointDirectory</c>); a CLI user has flags instead, or no such setting at all. This is the one place that rewrites
/// that advice in the CLI's words: its flag where it has one, else what its user can do. Every error, warning and per-file
/// problem the CLI prints goes through <see cref="InCliTerms"/>.
/// </summary>
internal static partial class CliVocabulary
{
    private static readonly string ImageSizeLimit =
        string.Create(CultureInfo.InvariantCulture, $"{CharacterImageLoaderOptions.DefaultMaxImagePixels:N0} pixels (4096×4096)");

    private static readonly string ScaleDown = $"If the image is genuine, scale it down to at most {ImageSizeLimit}: ocr-mlnet has no option to raise the limit";

    /// <summary>The library's words, and the CLI's; applied in order.</summary>
    private static readonly (Regex Library, string Cli)[] Advice =
    [
        (new(@"set SkipBadFiles = true"), "pass --skip-bad-files"),
        // A file that changed after loading: the CLI always checks files when loading (VerifyImages is the library's default).
        (new(@"\(VerifyImages = true, the default, finds such files when loading; SkipBadFiles = true then skips them\)"),
            "(ocr-mlnet checks every image when it loads the data; --skip-bad-files then skips the bad ones)"),
        // The CLI has no flag for the image size cap: the user can only make the image smaller. Callers without an option
        // get no advice from the library, the loaders and the field reader name their option.
        (new(@"refused before decoding(?!\. If the image is genuine)"), $"refused before decoding. {ScaleDown}"),
        (new(@"If the image is genuine, raise (?:\w+Options\.)?MaxImagePixels"), ScaleDown),
        (new(@"(?:\w+Options\.)?MaxImagePixels = "), ""),
        (new(@"(?:\w+Options\.)?MaxImagePixels"), $"the image size limit ({ImageSizeLimit})"),
        (new(@"read a form page with ReadForm"), "read a form page with 'ocr-mlnet read --form'"),
        (new(@" \(MaxPieces\)"), ""),
        (new(@"Use another CheckpointDirectory"), "Use another --checkpoint-dir"),
        (new(@"now Epochs = (\d+) \(set Epochs to (\d+) or more to continue it\)"), "now --epochs $1 (pass --epochs $2 or more to continue it)"),
        (new(@"set ValidationFraction = 0"), "pass --validation-fraction 0"),
        (new(@"synthetic fields \(SyntheticFields\)"), "synthetic fields (--synthetic N)"),
        (new(@"\bDevice = (\w+), but"), "--device $1, but"),
        // The CLI is built on TorchSharp's CPU backend: no package a user could add makes CUDA appear.
        (new(@"Reference a TorchSharp CUDA backend package and check the driver, or use Device = Auto or Cpu"),
            "ocr-mlnet trains on TorchSharp's CPU backend: pass --device Auto or Cpu"),
    ];

    /// <summary>The library's names of the trainers' settings and the CLI's flags, for the settings a checkpoint compares.</summary>
    private static readonly IReadOnlyDictionary<string, string> Flags = TrainCommand.OptionNames
        .Concat(TrainFieldsCommand.OptionNames)
        .DistinctBy(pair => pair.Key)
        .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);

    /// <summary><paramref name="message"/> with the library's advice in the CLI's words (unchanged where it names no library option).</summary>
    public static string InCliTerms(string message)
    {
        foreach (var (library, cli) in Advice)
            message = library.Replace(message, cli);
        // "The checkpoint … belongs to a different run: BatchSize: checkpoint 8, now 16; …": the settings by their flags.
        return CheckpointDifference().Replace(message, m => Flags.TryGetValue(m.Groups["name"].Value, out string? flag) ? $"{flag}: checkpoint" : m.Value);
    }

    [GeneratedRegex(@"(?<=belongs to a different run: .*)\b(?<name>[A-Z][A-Za-z]*): checkpoint")]
    private static partial Regex CheckpointDifference();
}
