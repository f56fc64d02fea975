#!/usr/bin/env bash
# oneDNN's own account of a short training run: primitive calls and milliseconds per kind (convolution, reorder, ...),
# for float32 NCHW (the previous trainer's layout) and bfloat16 channels-last (the default), one process each.
# Usage: bash benchmarks/onednn-verbose.sh [images]   (after dotnet build -c Release)
set -euo pipefail
cd "$(dirname "$0")/.."
images="${1:-1280}"
harness=benchmarks/Ocr.MLNet.Benchmarks/bin/Release/net10.0/Ocr.MLNet.Benchmarks.dll
for variant in "fp32 NCHW" "bf16 channels-last"; do
  echo "== $variant, $images images, batch 128, one epoch (load $(cut -d' ' -f1-3 /proc/loadavg))"
  ONEDNN_VERBOSE=1 dotnet "$harness" layouts --images "$images" --rounds 1 --variant "$variant" \
    | awk -F, '/^onednn_verbose,v[0-9]+,info,cpu,isa/ || /^onednn_verbose,info,cpu,isa/ { print "  " $0 }
               /^onednn_verbose.*,exec,cpu,/ { for (i = 1; i <= NF; i++) if ($i == "exec") { kind = $(i + 2); break }
                                              calls[kind]++; ms[kind] += $NF }
               END { for (k in calls) printf "  %-14s %7d calls %10.1f ms\n", k, calls[k], ms[k] }' | sort -k3 -n -r
done
