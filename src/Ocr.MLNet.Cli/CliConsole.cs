using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary>
/// Where the CLI writes: results (tables, JSON, what was saved) to standard output, errors and warnings to standard error,
/// so that <c>ocr-mlnet predict … &gt; results.txt</c> keeps only results and a script still sees why a run failed.
/// </summary>
internal static class CliConsole
{
    /// <summary>Standard error as a Spectre console: colours on a terminal, whole lines when redirected (logs, CI).</summary>
    public static IAnsiConsole Error { get; } = CreateError();

    /// <summary>Writes "error: <paramref name="message"/>" to standard error, in the CLI's words (<see cref="CliVocabulary"/>).</summary>
    public static void WriteError(string message) =>
        Error.MarkupLineInterpolated($"[red]error:[/] {CliVocabulary.InCliTerms(message)}");

    /// <summary>Writes "warning: <paramref name="message"/>" to standard error, in the CLI's words.</summary>
    public static void WriteWarning(string message) =>
        Error.MarkupLineInterpolated($"[yellow]warning:[/] {CliVocabulary.InCliTerms(message)}");

    private static IAnsiConsole CreateError()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        // Redirected, Spectre assumes 80 columns and wraps messages mid-path: one message, one line, for logs and grep.
        if (Console.IsErrorRedirected)
            console.Profile.Width = 4096;
        return console;
    }
}
