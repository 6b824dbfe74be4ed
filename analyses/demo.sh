#!/usr/bin/env bash
# The demo behind `make demo`: diagnostics, a fitted generator and a comparison report on bundled data.
# Usage: bash analyses/demo.sh [VENV] [OUT]
set -euo pipefail
VENV=${1:-.venv}
OUT=${2:-demo_output}
HT="$VENV/bin/heavytail"
mkdir -p "$OUT"
export MPLBACKEND=Agg

echo "== Bundled datasets"
"$HT" datasets

DANISH=$("$HT" datasets --path danish)
LOSSALAE=$("$HT" datasets --path lossalae)

echo
echo "== Tail diagnostics of the Danish fire losses (Hill, GPD above 10, return levels)"
"$HT" diagnose "$DANISH" --threshold 10 --out "$OUT/danish_diagnose"

echo
echo "== Truncated diffusion on Loss-ALAE: fit, then draw 5000 synthetic rows"
"$HT" fit "$LOSSALAE" --preprocessing log --seed 0 --param quick=true --out "$OUT/lossalae_model" --force
"$HT" sample "$OUT/lossalae_model" -n 5000 --seed 1 --out "$OUT/lossalae_synthetic.csv" --force

echo
echo "== Which generator reproduces the Loss-ALAE extremes best? (quick comparison)"
"$HT" compare "$LOSSALAE" --quick --seed 0 --out "$OUT/lossalae_compare" --force

echo
echo "Demo finished. Look at:"
echo "  $OUT/danish_diagnose/        (summary.csv and PNG figures)"
echo "  $OUT/lossalae_synthetic.csv  (synthetic rows)"
echo "  $OUT/lossalae_compare/report.html  (ranked comparison with figures)"
