using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>Decides what <see cref="TrainingPrecision.Auto"/> means on this machine.</summary>
internal static class PrecisionSupport
{
    /// <summary>A network's compute type, checked: float32, or bfloat16 for mixed precision.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Any other type.</exception>
    public static ScalarType ComputeTypeOrThrow(ScalarType value) => value is ScalarType.Float32 or ScalarType.BFloat16
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "The network computes in Float32 or BFloat16.");

    /// <summary>The number type the network computes in for <paramref name="precision"/> on <paramref name="device"/>.</summary>
    public static ScalarType Resolve(TrainingPrecision precision, Device device) => precision switch
    {
        TrainingPrecision.Float32 => ScalarType.Float32,
        TrainingPrecision.BFloat16 => ScalarType.BFloat16,
        _ => (device.type == DeviceType.CUDA ? CudaHasNativeBFloat16() : CpuHasNativeBFloat16()) ? ScalarType.BFloat16 : ScalarType.Float32,
    };

    /// <summary>
    /// True when the CPU has the instructions oneDNN uses for bfloat16 convolutions (AVX512_BF16 or AMX-BF16) and the
    /// operating system has enabled AVX-512; without them libtorch emulates bfloat16, which is slower than float32.
    /// </summary>
    public static bool CpuHasNativeBFloat16()
    {
        if (!X86Base.IsSupported || !Avx512F.IsSupported)
            return false;
        // CPUID leaf 7: sub-leaf 1 EAX bit 5 is AVX512_BF16; sub-leaf 0 EDX bit 22 is AMX-BF16.
        bool avx512Bf16 = (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
        bool amxBf16 = (X86Base.CpuId(7, 0).Edx & (1 << 22)) != 0;
        return avx512Bf16 || amxBf16;
    }

    /// <summary>True when the first CUDA GPU has compute capability 8.0 (Ampere) or later, where bfloat16 runs on tensor cores.</summary>
    public static bool CudaHasNativeBFloat16()
    {
        // TorchSharp exposes no device properties; the CUDA driver API answers in three calls.
        string driver = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(driver, out nint library))
            return false;
        try
        {
            const int computeCapabilityMajor = 75; // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
            var init = Marshal.GetDelegateForFunctionPointer<CuInit>(NativeLibrary.GetExport(library, "cuInit"));
            var deviceGet = Marshal.GetDelegateForFunctionPointer<CuDeviceGet>(NativeLibrary.GetExport(library, "cuDeviceGet"));
            var attribute = Marshal.GetDelegateForFunctionPointer<CuDeviceGetAttribute>(NativeLibrary.GetExport(library, "cuDeviceGetAttribute"));
            return init(0) == 0 && deviceGet(out int device, 0) == 0 && attribute(out int major, computeCapabilityMajor, device) == 0 && major >= 8;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            NativeLibrary.Free(library);
        }
    }

    private delegate int CuInit(uint flags);

    private delegate int CuDeviceGet(out int device, int ordinal);

    private delegate int CuDeviceGetAttribute(out int value, int attribute, int device);
}
