#!/usr/bin/env bash
# Makes a folder that runs the benchmarks' `gpu` harness on a Linux x64 machine with an NVIDIA GPU, CUDA 13 and cuDNN 9, and
# no .NET: the harness (framework-dependent), this machine's .NET runtime beside it, and ONNX Runtime's GPU build in place of
# the CPU one. What a real app does instead: reference Microsoft.ML.OnnxRuntime.Gpu.Linux (see benchmarks/README.md).
#   bash benchmarks/gpu/bundle.sh OUT_DIR [--keep-sm 90]
# --keep-sm N zeroes the provider's kernels for other GPU generations (a third of the size compressed) when the GPU is known.
set -euo pipefail
out=${1:?usage: bundle.sh OUT_DIR [--keep-sm N]}
keep_sm=""
if [[ ${2:-} == --keep-sm ]]; then keep_sm=${3:?--keep-sm needs a number such as 90}; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
# The newest Gpu.Linux build served at or below the project's ONNX Runtime version (1.31.1 has no GPU build; 1.31.0 has the same C API).
ort_gpu_version=1.31.0
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ocr-mlnet
package=$cache/microsoft.ml.onnxruntime.gpu.linux.$ort_gpu_version.nupkg
mkdir -p "$cache"
if [[ ! -s $package ]]; then
  curl -fsSL -o "$package.partial" "https://api.nuget.org/v3-flatcontainer/microsoft.ml.onnxruntime.gpu.linux/$ort_gpu_version/microsoft.ml.onnxruntime.gpu.linux.$ort_gpu_version.nupkg"
  mv "$package.partial" "$package"
fi

rm -rf "$out" && mkdir -p "$out"
dotnet publish "$root/benchmarks/Ocr.MLNet.Benchmarks" -c Release -r linux-x64 --self-contained false -o "$out/app" -v quiet -nologo
# Inference needs neither libtorch (training) nor OpenCV (the field reader).
rm -f "$out"/app/libtorch*.so "$out"/app/libc10*.so "$out"/app/libLibTorchSharp.so "$out"/app/libOpenCvSharpExtern.so "$out"/app/libgomp*.so* \
  "$out"/app/libcapstone.so "$out"/app/*.dbg "$out"/app/libtorchbind_test.so "$out"/app/libbackend_with_compiler.so "$out"/app/libjitbackend_test.so
unzip -q -o -j "$package" 'runtimes/linux-x64/native/libonnxruntime.so' 'runtimes/linux-x64/native/libonnxruntime_providers_shared.so' \
  'runtimes/linux-x64/native/libonnxruntime_providers_cuda.so' -d "$out/app"
if [[ -n $keep_sm ]]; then
  python3 "$root/benchmarks/gpu/keep_gpu_arch.py" "$out/app/libonnxruntime_providers_cuda.so" "$keep_sm"
fi

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\./ { v = $2 } END { print v }')
mkdir -p "$out/dotnet/shared/Microsoft.NETCore.App" "$out/dotnet/host"
cp "$dotnet_root/dotnet" "$out/dotnet/"
cp -r "$dotnet_root/host/fxr" "$out/dotnet/host/"
cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$runtime" "$out/dotnet/shared/Microsoft.NETCore.App/"
cp "$root/benchmarks/gpu/run.sh" "$out/"
du -sh "$out"
