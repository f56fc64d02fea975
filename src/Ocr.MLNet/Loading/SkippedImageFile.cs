
namespace Ocr.MLNet.Loading;

/// <summary>A file or folder an image loader skipped because <c>SkipBadFiles</c> was set, and why.</summary>
/// <param name="Path">Full path of the file or folder (for in-memory images, "image #index").</param>
/// <param name="Reason">What is wrong with it.</param>
public sealed record SkippedImageFile(string Path, string Reason);
