#!/usr/bin/env bash
# Trains the pretrained model that ships inside Ocr.MLNet, and scores it on every labelled set in ../shared/data.
#
#   bash tools/train-pretrained.sh [--evaluate-only] [DATA_ROOT]      (default DATA_ROOT: ../shared/data)
#
# The model is `ocr-mlnet train` with every option at its default, on EMNIST bymerge-dev less the balanced held-out
# split that train makes by default (100 images per class, seed 1), so the figures on that split are honest. Writes,
# beside the model in src/Ocr.MLNet/Pretrained/: the model zip, its training history, the training log and metrics.md.
set -euo pipefail
cd "$(dirname "$0")/.."
evaluate_only=false
if [ "${1:-}" = "--evaluate-only" ]; then evaluate_only=true; shift; fi
data="${1:-../shared/data}"
out=src/Ocr.MLNet/Pretrained
model="$out/ocr-mlnet-emnist47.zip"
dotnet build src/Ocr.MLNet.Cli -c Release
cli="dotnet src/Ocr.MLNet.Cli/bin/Release/net10.0/ocr-mlnet.dll"

if ! $evaluate_only; then
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/training-log.txt"
  echo "\$ ocr-mlnet train --data $data/emnist-bymerge-dev --model $model" | tee -a "$out/training-log.txt"
  start=$(date +%s)
  # The log keeps the epoch lines, not the progress bar's redraws.
  $cli train --data "$data/emnist-bymerge-dev" --model "$model" 2>&1 | tee /dev/stderr | grep -Ev '^(epoch [0-9]+/[0-9]+ .*%|preparing: .*%)$' >> "$out/training-log.txt"
  echo "training took $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/training-log.txt"
fi

{
  echo "# Metrics of $(basename "$model")"
  echo
  echo "Scored $(date -u '+%Y-%m-%d %H:%M UTC') by tools/train-pretrained.sh through the saved model (ONNX Runtime), $(nproc) cores."
  evaluate() {
    local title="$1"; shift
    echo
    echo "## $title"
    echo
    echo '```'
    echo "\$ ocr-mlnet evaluate $*"
    $cli evaluate --model "$model" "$@" 2>&1
    echo '```'
  }
  evaluate "Balanced held-out split of bymerge-dev (100 per class, never trained on)" --data "$data/emnist-bymerge-dev" --holdout-per-class 100
  evaluate "EMNIST MNIST test (digits)" --data "$data/emnist-mnist-test"
  evaluate "EMNIST Balanced test, the 304 images available" --data "$data/emnist-balanced-partial" --split test-18496-18799
  evaluate "EMNIST ByClass test, look-alike classes merged (62 → 47)" --data "$data/emnist-byclass-test" --merge
  evaluate "NIST SD19 vowels, by file path (128×128 PNGs, as an app gives them; i o u merged into I O U)" --data "$data/nist-sd19-by_class-vowels" --by-path --merge
} > "$out/metrics.md"
echo "Wrote $model, $(basename "$model" .zip).history.json, training-log.txt and metrics.md in $out."
