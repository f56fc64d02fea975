using System.CommandLine;
using System.Globalization;

namespace Ocr.MLNet.Cli;

/// <summary>The <c>--time-budget</c> option of the training commands: a duration such as 25m, 90s, 1h or 00:25:00.</summary>
internal static class TimeBudgetOption
{
    /// <summary>The word that turns a default budget off.</summary>
    public const string None = "none";

    /// <summary>A new option (System.CommandLine options belong to one command each), defaulting to <paramref name="defaultBudget"/> when there is one.</summary>
    public static Option<string?> Create(TimeSpan? defaultBudget = null) => new("--time-budget")
    {
        Description = "Fit the run into a time, e.g. 25m or 90s: the epochs that fit are planned from the first batches' speed (at most --epochs) and corrected after each epoch, and the learning-rate schedule runs over them"
            + (defaultBudget is null ? "." : $". '{None}' trains every epoch."),
        DefaultValueFactory = defaultBudget is { } shown ? _ => string.Create(CultureInfo.InvariantCulture, $"{shown.TotalMinutes:0.##}m") : null,
    };

    /// <summary>The budget <paramref name="text"/> names, or null when the option was not given or is <see cref="None"/>.</summary>
    /// <exception cref="ArgumentException">The text is neither a positive duration nor <see cref="None"/>.</exception>
    public static TimeSpan? Parse(string? text)
    {
        if (text is null || text.Trim().Equals(None, StringComparison.OrdinalIgnoreCase))
            return null;
        text = text.Trim();
        if (text.Length > 1 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0)
        {
            switch (char.ToLowerInvariant(text[^1]))
            {
                case 's': return TimeSpan.FromSeconds(value);
                case 'm': return TimeSpan.FromMinutes(value);
                case 'h': return TimeSpan.FromHours(value);
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span
            : throw new ArgumentException($"--time-budget {text}: give a duration such as 25m, 90s or 1h, or '{None}'.");
    }
}
