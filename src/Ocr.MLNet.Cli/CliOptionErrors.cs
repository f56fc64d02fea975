using System.Text.RegularExpressions;

namespace Ocr.MLNet.Cli;

/// <summary>
/// Runs the library's options validation before any data is loaded and reports its problems with the CLI's option names
/// (<c>--batch-size 0: must be at least 1</c>) instead of the library's (<c>BatchSize = 0</c>).
/// </summary>
internal static partial class CliOptionErrors
{
    /// <summary>Calls <paramref name="validate"/>; rewrites an <see cref="ArgumentException"/> from it with <paramref name="optionNames"/> (library name → CLI option).</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message uses the CLI's names where there is one.</exception>
    public static void Validate(Action validate, IReadOnlyDictionary<string, string> optionNames)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            var problems = Problem().Matches(e.Message);
            if (problems.Count == 0)
                throw;

            var parts = problems.Select(p =>
            {
                string name = p.Groups["name"].Value, value = p.Groups["value"].Value, rule = Rename(p.Groups["rule"].Value, optionNames);
                return optionNames.TryGetValue(name, out string? option) ? $"{option} {value}: {rule}" : $"{name} = {value} ({rule})";
            });
            throw new ArgumentException($"{string.Join("; ", parts)}. Correct these options and run the command again.", e);
        }
    }

    private static string Rename(string text, IReadOnlyDictionary<string, string> optionNames) =>
        Regex.Replace(text, @"\b[A-Z][A-Za-z]*\b", m => optionNames.TryGetValue(m.Value, out string? option) ? option : m.Value);

    // "Name = value (rule)" as OptionsValidation writes it; a rule may hold one pair of brackets, e.g. "must be in (0, 1)".
    [GeneratedRegex(@"(?<name>[A-Z][A-Za-z.]*) = (?<value>.+?) \((?<rule>[^()]*(?:\([^()]*\)[^()]*)?)\)(?=; |\. |\.?$)")]
    private static partial Regex Problem();
}
