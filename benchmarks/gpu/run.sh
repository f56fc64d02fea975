#!/usr/bin/env bash
# Runs a GPU harness from a folder made by bundle.sh: bash run.sh gpu --model M.zip --images DIR [--rows N --batch N --rounds N]
# (or gpu-nodes: the preprocessing graph's intermediates on the GPU against the CPU).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# ONNX Runtime's CUDA provider loads CUDA 13's cuBLAS, cuRAND and runtime, and cuDNN 9: the system's, or pip's nvidia-* wheels'.
libdirs=$(find /usr/local /usr/lib /opt \( -name 'libcublasLt.so.13*' -o -name 'libcudart.so.13*' -o -name 'libcurand.so.10*' -o -name 'libcudnn.so.9*' \) -not -path '*stubs*' \
  -printf '%h\n' 2>/dev/null | sort -u | paste -sd: -)
# The driver's libcuda.so.1 where the loader cache does not list it (a driver mounted under /usr/local/nvidia).
if ! ldconfig -p | grep -q 'libcuda\.so\.1' && [[ -e /usr/local/nvidia/lib64/libcuda.so.1 ]]; then libdirs=${libdirs:+$libdirs:}/usr/local/nvidia/lib64; fi
echo "CUDA library folders: ${libdirs:-none found}"
export LD_LIBRARY_PATH=$here/app${libdirs:+:$libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export DOTNET_ROOT=$here/dotnet DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
exec "$here/dotnet/dotnet" "$here/app/Ocr.MLNet.Benchmarks.dll" "$@"
