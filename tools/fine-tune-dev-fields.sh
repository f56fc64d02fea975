#!/usr/bin/env bash
# Fine-tunes the packaged line model on the first 400 rows of names-dev and cheque-amounts-dev (the rows their
# PROVENANCE.md lets us train on), and the packaged character model on the names' characters (train-field-characters),
# and scores, on the last 100 rows of each (never trained on), the segmentation reader (its character network in int8,
# the reader's default, and in float32), the packaged line model, the default reader (auto: the line model for digits,
# both combined for capitals), the fine-tuned models alone, the default reader with the fine-tuned line model and, for the
# names, with both fine-tuned models; the HSF page with the packaged models. The fine-tuned models are for benchmarks only and never ship.
#
#   bash tools/fine-tune-dev-fields.sh [OUT_DIR] [DATA_ROOT]      (defaults: /tmp/ocr-mlnet-fine-tuned, ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/ocr-mlnet-fine-tuned}"
fields="${2:-../shared/data}/handwritten-fields"
mkdir -p "$out"
dotnet build src/Ocr.MLNet.Cli -c Release -v quiet
cli="dotnet src/Ocr.MLNet.Cli/bin/Release/net10.0/ocr-mlnet.dll"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), load $(cut -d' ' -f1-3 /proc/loadavg)"

for set in "cheque-amounts-dev digits" "names-dev upper"; do
  read -r name kind <<< "$set"
  echo "== fine-tuning on $name rows 1-400"
  start=$(date +%s)
  $cli train-fields --data "$fields/$name" --first 400 --kind "$kind" --from pretrained --model "$out/$name-lines.zip" | grep -E "Epoch|Saved|Time budget|Training on"
  echo "fine-tuning took $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
  readers=("segmentation --method segmentation" "segmentation-float32 --method segmentation --float32" "packaged-lines --method lines"
    "default --method auto" "fine-tuned-lines --method lines --model $out/$name-lines.zip" "fine-tuned-auto --method auto --model $out/$name-lines.zip")
  if [ "$kind" = upper ]; then
    echo "== fine-tuning the character model on $name rows 1-400"
    start=$(date +%s)
    $cli train-field-characters --data "$fields/$name" --first 400 --kind "$kind" --model "$out/$name-characters.zip" | grep -E "Cut|Epoch|Saved"
    echo "fine-tuning took $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
    readers+=("fine-tuned-characters --method segmentation --model $out/$name-characters.zip"
      "fine-tuned-both --method auto --model $out/$name-characters.zip --line-model $out/$name-lines.zip")
  fi
  for reader in "${readers[@]}"; do
    read -r label args <<< "$reader"
    echo "== $name rows 401-500, $label"
    $cli evaluate-fields --data "$fields/$name" --kind "$kind" --skip 400 $args --report "$out/report-$name-$label"
  done
done
for reader in "segmentation --method segmentation" "packaged-lines --method lines" "auto"; do
  read -r label args <<< "$reader"
  echo "== nist-hsf-page, $label"
  $cli evaluate-fields --data "$fields/nist-hsf-page" ${args#auto}
done
