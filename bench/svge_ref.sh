#!/usr/bin/env bash
# bench/svge_ref.sh CELLS: our SVGe (bench/model_bench) against the reference (automl/SVGe in
# PyTorch, bench/svge_torch.py), one thread each, same cells, same dims and batch; run by
# bench/run.sh (make bench) on 4,096 NB101 cells, or alone:
#     SVGE_REF=DIR bench/svge_ref.sh CELLS.zst      (CELLS.zst: NB101 graph records)
# The reference: git clone https://github.com/automl/SVGe && git -C SVGe checkout 5cf475b; then
# make bench SVGE_REF=$PWD/SVGe. Without SVGE_REF, or without torch in /usr/bin/python3 (Debian's
# python3-torch), it prints "svge vs reference: skipped: ..." and exits 0.
#
# The host's speed drifts (shared vCPUs), so the two sides are not timed in two blocks: per task
# (train, encode, decode), SVGE_REF_PAIRS pairs (3) of runs of SVGE_REF_SECONDS timed seconds (10)
# each, alternating C / reference, the order of each pair reversed from the last (C R, R C, C R, ...:
# a linear drift cancels). Each pair's ratio is C graphs/s over reference graphs/s; the summary line
# gives each side's median rate and the median ratio:
#   svge vs reference (1 thread), train: C 72.1 graphs/s, reference 41.9 graphs/s, ratio 1.72 (pairs: 1.70 1.72 1.75)
# SVGE_REF_TASKS (train encode decode) picks tasks; SVGE_REF_GRAPHS (4096) the cells kept.
set -euo pipefail
BIN=${SVGE_BIN:-$(dirname "$0")/../bin}
BUILD=${SVGE_BUILD:-$(dirname "$0")/../build/release}
PY=/usr/bin/python3
HERE=$(dirname "$0")
PAIRS=${SVGE_REF_PAIRS:-3}
SECONDS_EACH=${SVGE_REF_SECONDS:-10}
TASKS=${SVGE_REF_TASKS:-train encode decode}
GRAPHS=${SVGE_REF_GRAPHS:-4096}
cells=${1:?usage: SVGE_REF=DIR bench/svge_ref.sh CELLS.zst}

skip() { echo "svge vs reference: skipped: $*"; exit 0; }
[ -n "${SVGE_REF:-}" ] || skip "SVGE_REF is not set (a checkout of the reference: git clone https://github.com/automl/SVGe && git -C SVGe checkout 5cf475b; then make bench SVGE_REF=\$PWD/SVGe)"
if [ ! -f "$SVGE_REF/models/SVGe.py" ] || [ ! -f "$SVGE_REF/datasets/utils_data.py" ]; then
    skip "SVGE_REF=$SVGE_REF is not a checkout of automl/SVGe (no models/SVGe.py, datasets/utils_data.py)"
fi
"$PY" -c 'import torch' 2>/dev/null || skip "$PY cannot import torch (Debian: apt-get install python3-torch)"
[ -x "$BUILD/bench/model_bench" ] || skip "$BUILD/bench/model_bench not built"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN/stream-to-jsonl" < "$cells" > "$tmp/cells.jsonl"

rate() { # task, output: graphs/s from the line "TASK: N graphs in S s = ..." (N / S), "" if absent
    awk -v t="$1" 'match($0, "^" t " *: ") {
        n = split(substr($0, RLENGTH + 1), f, " ")
        if (n >= 5 && f[2] == "graphs" && f[3] == "in" && f[5] == "s" && f[4] > 0) { printf "%.6g\n", f[1] / f[4]; exit }
    }' <<< "$2"
}
median() { # numbers as arguments
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
run_c() {
    "$BUILD/bench/model_bench" --what "$1" --graphs "$GRAPHS" --seconds "$SECONDS_EACH" --threads 1 < "$cells"
}
run_ref() {
    "$PY" "$HERE/svge_torch.py" --ref "$SVGE_REF" --what "$1" --graphs "$GRAPHS" --seconds "$SECONDS_EACH" \
        --threads 1 < "$tmp/cells.jsonl"
}

echo "== svge vs reference (automl/SVGe in PyTorch, $SVGE_REF), one thread each, $PAIRS alternating pairs of ${SECONDS_EACH} s per task"
for task in $TASKS; do
    cs=() rs=() ratios=()
    for ((p = 1; p <= PAIRS; p++)); do
        if ((p % 2)); then order="c ref"; else order="ref c"; fi
        c_out="" r_out=""
        for side in $order; do
            if [ "$side" = c ]; then c_out=$(run_c "$task" 2>&1) || true
            else r_out=$(run_ref "$task" 2>&1) || true; fi
        done
        c=$(rate "$task" "$c_out") r=$(rate "$task" "$r_out")
        if [ -z "$c" ] || [ -z "$r" ]; then
            echo "$c_out"; echo "$r_out"
            echo "svge vs reference, $task: pair $p failed (no rate from $([ -z "$c" ] && echo model_bench || echo svge_torch.py))"
            continue
        fi
        if [ "$p" = 1 ]; then # the settings, once per task
            grep -m1 '^== model_bench' <<< "$c_out" || true
            grep -m1 '^== svge_torch' <<< "$r_out" || true
        fi
        grep "^$task *:" <<< "$c_out" | sed 's/^/  C:         /'
        grep "^$task *:\|^decode: mean" <<< "$r_out" | sed 's/^/  reference: /'
        ratio=$(awk -v a="$c" -v b="$r" 'BEGIN { printf "%.2f", a / b }')
        printf '  pair %d (%s first): C %.1f graphs/s, reference %.1f graphs/s, ratio %s\n' "$p" "${order%% *}" "$c" "$r" "$ratio"
        cs+=("$c") rs+=("$r") ratios+=("$ratio")
    done
    if [ "${#ratios[@]}" -gt 0 ]; then
        awk -v t="$task" -v c="$(median "${cs[@]}")" -v r="$(median "${rs[@]}")" -v q="$(median "${ratios[@]}")" -v l="${ratios[*]}" \
            'BEGIN { printf "svge vs reference (1 thread), %s: C %.1f graphs/s, reference %.1f graphs/s, ratio %.2f (pairs: %s)\n", t, c, r, q, l }'
    else
        echo "svge vs reference (1 thread), $task: no pair completed"
    fi
done
