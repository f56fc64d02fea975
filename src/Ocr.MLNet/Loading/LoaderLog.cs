using Microsoft.ML.Runtime;

namespace Ocr.MLNet.Loading;

/// <summary>
/// Sends the loaders' diagnostics to <c>mlContext.Log</c>: one Warning per skipped input, so a skip is seen even by
/// code that never asks <see cref="LoadedImages.GetSkippedFiles"/>.
/// </summary>
internal static class LoaderLog
{
    /// <summary>Logs one Warning per skipped input of <paramref name="rows"/>, naming the loader, the input and the reason.</summary>
    /// <param name="catalog">The catalog the loader was called on.</param>
    /// <param name="loader">The loader's name, e.g. "LoadFromNistSd19".</param>
    /// <param name="rows">The rows it loaded.</param>
    public static void WarnSkipped(DataOperationsCatalog catalog, string loader, ILoadedRows rows)
    {
        if (rows.SkippedFiles.Count == 0)
            return;
        using var channel = MLNetInterop.EnvironmentOf(catalog).Start(loader);
        foreach (var skipped in rows.SkippedFiles)
            channel.Warning(MessageSensitivity.None, $"{loader} skipped {skipped.Path}: {skipped.Reason}");
    }
}
