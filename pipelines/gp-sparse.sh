#!/usr/bin/env bash
# gp-sparse.sh SPACE DIR TARGET MODEL SIZE SEEDS MS > TABLE.tsv: the sparse GP (gp-fit --sparse
# --inducing M, FITC) against the exact GP on learning-SPACE's training sets of SIZE cells (DIR/cells/
# SIZE-S.zst, the same seeds) and its test cells (DIR/test.zst), latents of MODEL. One row per
# (M, seed), M = each of MS then "exact": rmse spearman kendall p_at_50 of the mean against TARGET;
# std_spearman: Spearman of the std against the exact GP's std; std_ratio: the median of
# std / exact std; cover95: the share of test cells whose TARGET lies within 1.96 sqrt(std^2 +
# noise^2) of the mean (noise: the fit's noise std, gp-fit's report).
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "$0")/../bin" && pwd)}
space=$1 dir=$2 target=$3 model=$4 size=$5 seeds=$6 ms=$7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN/svge-encode" -m "$model" < "$dir/test.zst" > "$tmp/test-z.zst"
printf 'space\tsize\tM\tseed\trmse\tspearman\tkendall\tp_at_50\tstd_spearman\tstd_ratio\tcover95\n'
noise_of() { sed -n 's/.*noise std \([0-9.e+-]*\) .*/\1/p'; }
for s in $seeds; do
    "$BIN/svge-encode" -m "$model" < "$dir/cells/$size-$s.zst" > "$tmp/z.zst"
    noise_exact=$("$BIN/gp-fit" --y "$target" --seed "$s" -o "$tmp/exact" < "$tmp/z.zst" 2>&1 | noise_of)
    "$BIN/predict" -m "$tmp/exact" --field exact < "$tmp/test-z.zst" > "$tmp/ex.zst"
    for m in $ms exact; do
        if [ "$m" = exact ]; then
            mf=$tmp/exact noise=$noise_exact
        else
            mf=$tmp/sparse
            noise=$("$BIN/gp-fit" --y "$target" --seed "$s" --sparse --inducing "$m" -o "$mf" < "$tmp/z.zst" 2>&1 | noise_of)
        fi
        "$BIN/predict" -m "$mf" < "$tmp/ex.zst" > "$tmp/p.zst"
        mean=$("$BIN/pred-metrics" --true "$target" --pred predicted --top 50 < "$tmp/p.zst" | "$BIN/stream-to-jsonl")
        std=$("$BIN/pred-metrics" --true exact_std --pred predicted_std < "$tmp/p.zst" | "$BIN/stream-to-jsonl")
        cal=$("$BIN/stream-to-jsonl" < "$tmp/p.zst" | jq -rs --arg y "$target" --argjson nz "$noise" '
            (map(.predicted_std / .exact_std) | sort | .[length / 2 | floor]) as $ratio
            | ((map(select((.[$y] - .predicted | fabs) <= 1.96 * ((.predicted_std * .predicted_std + $nz * $nz) | sqrt)))
                | length) / length) as $cover
            | "\($ratio) \($cover)"')
        jq -rn --arg sp "$space" --arg n "$size" --arg m "$m" --arg s "$s" --arg cal "$cal" --argjson a "$mean" --argjson b "$std" \
            '[$sp, $n, $m, $s, $a.rmse, $a.spearman, $a.kendall_tau_b, $a.precision_at_50, ($b.spearman // "NA"),
              ($cal | split(" ") | .[0], .[1])] | @tsv'
    done
done
