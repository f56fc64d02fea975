using Spectre.Console;

namespace Ocr.MLNet.Cli;

/// <summary>Turns the library's input errors into one red line on standard error and exit code 1, instead of a stack trace.</summary>
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
            CliConsole.Error.MarkupLine("[yellow]Cancelled.[/] A checkpoint directory, if given, holds the last finished epoch; run the same command again to resume.");
            return 130;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            // The library's message, with its advice in the CLI's flags (CliVocabulary).
            CliConsole.WriteError(e.Message);
            return 1;
        }
    }
}
