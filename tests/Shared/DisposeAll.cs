namespace Ocr.MLNet.Tests;

/// <summary>Disposes several objects together, e.g. the bitmaps a test draws: <c>using var owned = DisposeAll.Of(bitmaps);</c>.</summary>
internal sealed class DisposeAll : IDisposable
{
    private readonly List<IDisposable> items;

    private DisposeAll(IEnumerable<IDisposable> items) => this.items = [.. items];

    public static DisposeAll Of(IEnumerable<IDisposable> items) => new(items);

    public void Dispose()
    {
        foreach (var item in items)
            item.Dispose();
    }
}
