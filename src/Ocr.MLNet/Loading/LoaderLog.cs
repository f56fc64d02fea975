using System.Reflection;
using Microsoft.ML.Runtime;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Sends the loaders' diagnostics to <c>mlContext.Log</c>: one Warning per skipped input, so a skip is seen even by
/// code that never asks <see cref="LoadedImages.GetSkippedFiles"/>.
/// </summary>
internal static class LoaderLog
{
    // ML.NET keeps a catalog's environment behind an internal interface. Without it (a future ML.NET) loading works
    // and only the log is quiet; LoadedImages.GetSkippedFiles still reports every skip.
    private static readonly PropertyInfo? EnvironmentProperty =
        typeof(DataOperationsCatalog).GetProperty("Microsoft.ML.Data.IInternalCatalog.Environment", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Logs one Warning per skipped input of <paramref name="rows"/>, naming the loader, the input and the reason.</summary>
    /// <param name="catalog">The catalog the loader was called on.</param>
    /// <param name="loader">The loader's name, e.g. "LoadFromNistSd19".</param>
    /// <param name="rows">The rows it loaded.</param>
    public static void WarnSkipped(DataOperationsCatalog catalog, string loader, ILoadedRows rows)
    {
        if (rows.SkippedFiles.Count == 0 || EnvironmentProperty?.GetValue(catalog) is not IHostEnvironment environment)
            return;
        using var channel = environment.Start(loader);
        foreach (var skipped in rows.SkippedFiles)
            channel.Warning(MessageSensitivity.None, $"{loader} skipped {skipped.Path}: {skipped.Reason}");
    }
}
