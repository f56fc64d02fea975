#!/usr/bin/env bash
# One device call for the recipe search: unpack the split that `dotnet $B recipe --export DIR` wrote (packed as
# `tar cJf .gpu/recipe-data.tar.xz -C DIR .`, carried with the call) and run recipe_search.py on it under a time limit.
# Results stream to $OUT/results.jsonl; the finished runs' held-out probabilities are packed into $OUT/probs.npz.
#   OMP_NUM_THREADS=1 WORKERS=12 SEARCH_SECONDS=470 VARIANTS=base,e30,... bash benchmarks/gpu/recipe_search.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nvidia-smi -L; nproc
python3 -c "import torch, numpy; print(torch.__version__, numpy.__version__, torch.cuda.is_available())"
data=$(mktemp -d) probs=$(mktemp -d)
tar xJf "${RECIPE_DATA:-.gpu/recipe-data.tar.xz}" -C "$data" && ls -la "$data"
export PYTHONUNBUFFERED=1
timeout -s INT "${SEARCH_SECONDS:-470}" python3 -u "$here/recipe_search.py" --data "$data" --out "$OUT" --probs "$probs" \
  --workers "${WORKERS:-12}" --variants "$VARIANTS" 2>&1 | tee "$OUT/log.txt"
rm -rf "$data" "$probs"
ls -la "$OUT"
