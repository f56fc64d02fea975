using Microsoft.ML.OnnxRuntime;

namespace Ocr.MLNet;

/// <summary>
/// Running ONNX models on a CUDA GPU. The app chooses the ONNX Runtime build: the CPU package that Ocr.MLNet depends on
/// has no CUDA provider, and ONNX Runtime's CPU library lacks even the entry point that adds one (ML.NET's
/// <see cref="MLContext.FallbackToCpu"/> does not catch that), so the provider's presence is checked before asking for it.
/// </summary>
internal static class OnnxRuntimeGpu
{
    private const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>What an app references to run on a GPU; named in every message about a missing provider.</summary>
    public const string GpuPackages = "Microsoft.ML.OnnxRuntime.Gpu.Linux (CUDA 13 and cuDNN 9 installed) or Microsoft.ML.OnnxRuntime.Gpu.Windows";

    /// <summary>Whether the ONNX Runtime library this process loaded was built with the CUDA provider.</summary>
    public static bool HasCudaProvider() => OrtEnv.Instance().GetAvailableProviders().Contains(CudaProvider);

    /// <summary>The error for a GPU asked for through <paramref name="setting"/> when this ONNX Runtime has no CUDA provider.</summary>
    public static InvalidOperationException NoCudaProvider(string setting, int deviceId) => new(
        $"{setting} is {deviceId}, but the ONNX Runtime this app loaded has no CUDA provider (it has {string.Join(", ", OrtEnv.Instance().GetAvailableProviders())}). "
        + $"Reference {GpuPackages} in the app instead of the CPU package Microsoft.ML.OnnxRuntime, or set FallbackToCpu to score on the CPU.");

    /// <summary>
    /// Session options that run on GPU <paramref name="gpuDeviceId"/> when it is set and can be used, else on the CPU.
    /// </summary>
    /// <param name="intraOpThreads">ONNX Runtime's intra-op threads (0: its choice).</param>
    /// <param name="gpuDeviceId">The CUDA device, or null for the CPU.</param>
    /// <param name="fallbackToCpu">Whether a GPU that cannot be used means the CPU (true) or an exception (false).</param>
    /// <param name="setting">The option's name for messages.</param>
    /// <param name="usesGpu">Whether the CUDA provider was added.</param>
    /// <exception cref="InvalidOperationException">The GPU cannot be used and <paramref name="fallbackToCpu"/> is false.</exception>
    public static SessionOptions CreateSessionOptions(int intraOpThreads, int? gpuDeviceId, bool fallbackToCpu, string setting, out bool usesGpu)
    {
        var options = new SessionOptions { IntraOpNumThreads = intraOpThreads };
        usesGpu = false;
        if (gpuDeviceId is not { } device)
            return options;
        if (!HasCudaProvider())
        {
            if (fallbackToCpu)
                return options;
            options.Dispose();
            throw NoCudaProvider(setting, device);
        }

        try
        {
            // TF32 products (the provider's default on Ampere and later) round to 10 mantissa bits: the preprocessing graph's
            // exact byte arithmetic would drift by whole grey levels and move the ink box, so the GPU computes in full fp32.
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(new Dictionary<string, string>
            {
                ["device_id"] = device.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["use_tf32"] = "0",
            });
            options.AppendExecutionProvider_CUDA(cuda);
            usesGpu = true;
            return options;
        }
        catch (OnnxRuntimeException) when (fallbackToCpu)
        {
            // The provider is there but the CUDA libraries are not: the CPU, as asked.
            options.Dispose();
            return new SessionOptions { IntraOpNumThreads = intraOpThreads };
        }
        catch (OnnxRuntimeException e)
        {
            options.Dispose();
            throw new InvalidOperationException(
                $"{setting} is {device}, but ONNX Runtime's CUDA provider cannot start on it ({e.Message.TrimEnd('.')}). "
                + "Check the device number (nvidia-smi lists them) and that CUDA 13 and cuDNN 9 libraries are on the library path, or set FallbackToCpu to score on the CPU.", e);
        }
    }
}
