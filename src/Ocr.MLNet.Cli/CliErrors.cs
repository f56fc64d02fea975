using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary>Turns the library's input errors into one red line and exit code 1, instead of a stack trace.</summary>
internal static class CliErrors
{
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]Cancelled.[/] A checkpoint directory, if given, holds the last finished epoch; run the same command again to resume.");
            return 130;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            // The loaders suggest their option; the CLI's name for it is --skip-bad-files.
            string message = e.Message.Replace("set SkipBadFiles = true", "pass --skip-bad-files", StringComparison.Ordinal);
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {message}");
            return 1;
        }
    }
}
