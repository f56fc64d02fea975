#!/usr/bin/env bash
# Trains the line recognizer that ships inside Ocr.MLNet, on synthetic fields only, and scores it on every labelled
# field set in ../shared/data/handwritten-fields.
#
#   bash tools/train-pretrained-lines.sh [--evaluate-only] [DATA_ROOT]      (default DATA_ROOT: ../shared/data)
#
# The model is `ocr-mlnet train-fields` on 50,000 synthetic fields (names, amounts and digit boxes) composed from EMNIST
# ByClass characters, every other one as the line of writing the field reader finds in it (so the model reads both a
# whole field and the reader's cleaned line), 2 % of them held out to validate on, within a 50-minute time budget (the epochs follow from the
# first batches' speed: the run is reproducible on one machine). The handwritten-fields folders are never trained on:
# their images may not ship in a package. Writes, beside the model in src/Ocr.MLNet/Pretrained/: the model zip, its
# training history, the training log and lines-metrics.md.
set -euo pipefail
cd "$(dirname "$0")/.."
evaluate_only=false
if [ "${1:-}" = "--evaluate-only" ]; then evaluate_only=true; shift; fi
data="${1:-../shared/data}"
out=src/Ocr.MLNet/Pretrained
model="$out/ocr-mlnet-lines.zip"
log="$out/lines-training-log.txt"
dotnet build src/Ocr.MLNet.Cli -c Release
# A copy of the build runs, so rebuilding the tree during the hour of training cannot touch its files.
run_dir="$(mktemp -d)"
trap 'rm -rf "$run_dir"' EXIT
cp -r src/Ocr.MLNet.Cli/bin/Release/net10.0/. "$run_dir"
cli="dotnet $run_dir/ocr-mlnet.dll"

if ! $evaluate_only; then
  args=(train-fields --synthetic 50000 --kind alnum --input Both --epochs 8 --time-budget 50m --validation-fraction 0.02 --emnist "$data/emnist-byclass-test" --model "$model")
  { echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "\$ ocr-mlnet ${args[*]}"; } | tee "$log"
  start=$(date +%s)
  $cli "${args[@]}" 2>&1 | tee -a "$log"
  echo "training took $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
fi

fields="$data/handwritten-fields"
{
  echo "# Metrics of $(basename "$model")"
  echo
  echo "Scored $(date -u '+%Y-%m-%d %H:%M UTC') by tools/train-pretrained-lines.sh, $(nproc) cores. The model never saw these fields."
  evaluate() {
    local title="$1"; shift
    echo
    echo "## $title"
    echo
    echo '```'
    echo "\$ ocr-mlnet evaluate-fields $*"
    $cli evaluate-fields --model "$model" "$@" 2>&1
    echo '```'
  }
  evaluate "names-dev, validation rows (the last 100), the default reader (segmentation for names)" --data "$fields/names-dev" --kind upper --skip 400
  evaluate "names-dev, validation rows (the last 100), the line model" --data "$fields/names-dev" --kind upper --skip 400 --method lines
  evaluate "names-dev, all 500 rows, the line model" --data "$fields/names-dev" --kind upper --method lines
  evaluate "cheque-amounts-dev, validation rows (the last 100)" --data "$fields/cheque-amounts-dev" --kind digits --skip 400
  evaluate "cheque-amounts-dev, all 500 rows" --data "$fields/cheque-amounts-dev" --kind digits
  evaluate "NIST HSF page (30 boxes)" --data "$fields/nist-hsf-page"
} > "$out/lines-metrics.md"
echo "Wrote $model, its history, $(basename "$log") and lines-metrics.md in $out."
