#!/usr/bin/env bash
# learning-plot.sh SPACE DIR TARGET PREDICTIONS.zst...: the pictures of DIR/learning.tsv, by gnuplot:
#   DIR/learning-curve.EXT  Spearman ρ and Kendall τ against the training size (log x), the mean over
#                           the seeds with error bars of ± 1 standard deviation, one line per predictor
#   DIR/scatter.EXT         predicted against true TARGET on the test cells, one panel per
#                           PREDICTIONS file (DIR/runs/PREDICTOR/SIZE-SEED.pred.zst)
# EXT: png (gnuplot's pngcairo, else png terminal) or svg. Without gnuplot: a message, no pictures, exit 0.
# Also writes the plotted data: DIR/summary.dat and DIR/scatter.dat.
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "$0")/../bin" && pwd)}
space=$1 dir=$2 target=$3
shift 3
if ! command -v gnuplot > /dev/null; then
    echo "learning-plot.sh: gnuplot is not installed: no pictures (apt-get install gnuplot-nox)" >&2
    exit 0
fi
terms=$(gnuplot -e 'set terminal' 2>&1)
if grep -qw pngcairo <<< "$terms"; then term='pngcairo enhanced font ",10"' ext=png scale=100
elif grep -qw png <<< "$terms"; then term='png enhanced' ext=png scale=100
else term='svg enhanced' ext=svg scale=100
fi

# summary.dat: one block per predictor (blocks separated by two blank lines, as gnuplot's index wants):
# size mean_rho std_rho mean_tau std_tau
awk -F'\t' '
NR == 1 { next }
{   key = $2 SUBSEP $3
    if (!($2 in seenp)) { seenp[$2] = 1; preds[++np] = $2 }
    if (!(key in seen)) { seen[key] = 1; sizes[$2] = sizes[$2] " " $3 }
    for (c = 8; c <= 9; c++) if ($c != "NA") { s[key, c] += $c; ss[key, c] += $c * $c; n[key, c]++ } }
function m(k, c) { return n[k, c] ? s[k, c] / n[k, c] : "NaN" }
function sd(k, c,   v) { if (n[k, c] < 2) return 0; v = (ss[k, c] - n[k, c] * m(k, c) ^ 2) / (n[k, c] - 1); return v > 0 ? sqrt(v) : 0 }
END {
    no = split("surrogate surrogate-std gp-latent gp-adj gp-path", order, " ")
    out = 0
    for (o = 1; o <= no + np; o++) {
        p = o <= no ? order[o] : preds[o - no]
        if (!(p in seenp) || (p in done)) continue
        done[p] = 1
        if (out++) printf "\n\n"
        printf "# %s\n", p
        k = split(sizes[p], sz, " ")
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (sz[j] + 0 < sz[i] + 0) { t = sz[i]; sz[i] = sz[j]; sz[j] = t }
        for (i = 1; i <= k; i++) { key = p SUBSEP sz[i]; printf "%s %s %s %s %s\n", sz[i], m(key, 8), sd(key, 8), m(key, 9), sd(key, 9) }
    }
}' "$dir/learning.tsv" > "$dir/summary.dat"
preds=$(grep '^# ' "$dir/summary.dat" | cut -c3- | tr '\n' ' ')

# scatter.dat: one block per predictions file: true predicted
titles=
: > "$dir/scatter.dat"
first=1
for f in "$@"; do
    p=$(basename "$(dirname "$f")") ns=$(basename "$f" .pred.zst)
    [ $first = 1 ] || printf '\n\n' >> "$dir/scatter.dat"
    first=0
    echo "# $p $ns" >> "$dir/scatter.dat"
    "$BIN/stream-to-jsonl" < "$f" | awk -v t="$target" '
    function field(name,   v) { if (match($0, "\"" name "\":[^,}]*")) { v = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3); return v } return "NaN" }
    { print field(t), field("predicted") }' >> "$dir/scatter.dat"
    titles="$titles ${p}:_n=${ns%-*},_seed_${ns#*-}"
done
npanel=$#
cols=$(( npanel < 2 ? 1 : 2 )) rows=$(( (npanel + 1) / 2 ))
ntest=$(awk -F'\t' 'NR == 2 { print $5 }' "$dir/learning.tsv")

gnuplot <<GP
set terminal $term size 1200,500
set output "$dir/learning-curve.$ext"
preds = "$preds"
np = words(preds)
off(i) = 1.05 ** (i - (np + 1) / 2.0)   # a small horizontal offset per predictor, so error bars do not overlap
set multiplot layout 1,2 title "$space: predictions of $target on the $ntest test cells (mean ± std over seeds)" noenhanced
set logscale x
set grid
set xlabel "training cells"
set key bottom right noenhanced
set ylabel "Spearman {/Symbol r}"
plot for [i=1:np] "$dir/summary.dat" index (i-1) using (\$1*off(i)):2:3 with yerrorlines lw 2 pt 7 title word(preds, i)
set ylabel "Kendall {/Symbol t}"
plot for [i=1:np] "$dir/summary.dat" index (i-1) using (\$1*off(i)):4:5 with yerrorlines lw 2 pt 7 title word(preds, i)
unset multiplot

set terminal $term size 1000,$(( rows * 450 ))
set output "$dir/scatter.$ext"
titles = "$titles"
unset logscale x
set size ratio -1
set multiplot layout $rows,$cols title "$space: predicted against true $target (test cells)" noenhanced
set xlabel "true" noenhanced
set ylabel "predicted"
unset key
do for [i=1:$npanel] {
    t = word(titles, i)
    t = system(sprintf("echo '%s' | tr _ ' '", t))
    set title t noenhanced
    plot "$dir/scatter.dat" index (i-1) using 1:2 with points pt 7 ps 0.4, x with lines lc rgb "gray" dt 2
}
unset multiplot
GP
echo "learning-plot.sh: wrote $dir/learning-curve.$ext and $dir/scatter.$ext" >&2
