using System.Globalization;

namespace Ocr.MLNet;

/// <summary>
/// The one way options are validated: each options class lists every problem it finds, then this reports them all in
/// one <see cref="ArgumentException"/>, in one wording, so a user fixes every value in one go.
/// </summary>
internal static class OptionsValidation
{
    /// <summary>The default advice after the list of problems.</summary>
    public const string DefaultFix = "Correct these values and try again.";

    /// <summary>Adds "<c>name = value (rule)</c>" when <paramref name="valid"/> is false.</summary>
    public static void Check(this List<string> problems, bool valid, string name, object? value, string rule)
    {
        if (!valid)
            problems.Add($"{name} = {Format(value)} ({rule})");
    }

    /// <summary>Throws "Invalid {options}: problem; problem. {fix}" when there is any problem.</summary>
    /// <exception cref="ArgumentException">There is at least one problem.</exception>
    public static void ThrowIfAny(this List<string> problems, string options, string fix = DefaultFix, string paramName = "options")
    {
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {options}: {string.Join("; ", problems)}. {fix}", paramName);
    }

    /// <summary>A value as the messages show it: strings quoted, numbers in the invariant culture.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
