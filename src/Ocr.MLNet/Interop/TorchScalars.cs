using TorchSharp;

namespace Ocr.MLNet;

/// <summary>Scalars that live as long as the process, for the native calls that take one.</summary>
/// <remarks>
/// TorchSharp's <c>Tensor + Tensor</c>, <c>Tensor + Scalar</c> and <c>add_(Tensor)</c> pass a <see cref="Scalar"/> of 1 (the
/// <c>alpha</c>) that they create and then no longer reference, so a garbage collection during the native call can let the
/// finalizer thread free it while libtorch reads it (dotnet/TorchSharp#1434); it failed a line-training test once as
/// "Expected false to be true" in <c>Scalar::toFloat</c>. Hot training code passes <see cref="One"/>, which a static field keeps alive.
/// </remarks>
internal static class TorchScalars
{
    /// <summary>1, the <c>alpha</c> of a plain addition.</summary>
    public static readonly Scalar One = 1;
}
