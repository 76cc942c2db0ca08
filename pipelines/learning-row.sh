#!/usr/bin/env bash
# learning-row.sh SPACE PREDICTOR SIZE-SEED TARGET EXTRA < PREDICTIONS.zst: one TSV row of
# pred-metrics of "predicted" against TARGET (and against EXTRA, another true field, if not ''):
# space predictor size seed n_test rmse pearson spearman kendall p_at_10 p_at_50 spearman_extra
# kendall_extra (NA: undefined, e.g. a constant prediction, or no EXTRA).
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "$0")/../bin" && pwd)}
space=$1 pred=$2 ns=$3 target=$4 extra=${5:-}
size=${ns%-*} seed=${ns#*-}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
metrics() {   # metrics TRUE: the pred-metrics record as one JSON line
    "$BIN/pred-metrics" --true "$1" --pred predicted --top 10,50 < "$tmp" | "$BIN/stream-to-jsonl"
}
main=$(metrics "$target")
if [ -n "$extra" ]; then more=$(metrics "$extra"); else more='{}'; fi
printf '%s\n%s\n' "$main" "$more" | awk -v OFS='\t' -v space="$space" -v pred="$pred" -v size="$size" -v seed="$seed" '
function field(name,   m) {
    if (match($0, "\"" name "\":[^,}]*")) { m = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3); return m == "null" ? "NA" : m }
    return "NA"
}
NR == 1 { n = field("n"); rmse = field("rmse"); r = field("pearson"); rho = field("spearman"); tau = field("kendall_tau_b")
          p10 = field("precision_at_10"); p50 = field("precision_at_50") }
NR == 2 { rho2 = field("spearman"); tau2 = field("kendall_tau_b") }
END { print space, pred, size, seed, n, rmse, r, rho, tau, p10, p50, rho2, tau2 }'
