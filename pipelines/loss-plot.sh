#!/usr/bin/env bash
# loss-plot.sh METRICS.tsv OUT.png [TITLE]: the loss curves of svge-train --metrics, by gnuplot: one
# PNG with a panel per loss, against the epoch: reconstruction loss (log scale) and KL, train and,
# where the TSV has them (--test), test; a third panel for the surrogate's MSE if the TSV has mse.
# Epochs where ReduceLROnPlateau lowered the learning rate are marked (dashed, with the new lr).
# Any svge-train metrics TSV: with or without the test and mse columns, test fields empty in some
# rows (a run resumed with --test). A PNG (gnuplot's pngcairo, else its png terminal).
# Exit status: 0 ok, 1 a TSV that is not svge-train's metrics, 2 usage, 3 no gnuplot (apt-get
# install gnuplot-nox) or gnuplot failed.
set -euo pipefail
me=loss-plot.sh
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,9p' "$0" | cut -c3-; exit 0; fi
[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "$me: usage: $me METRICS.tsv OUT.png [TITLE]" >&2; exit 2; }
tsv=$1 out=$2 title=${3:-$(basename "$1")}
[ -r "$tsv" ] || { echo "$me: $tsv: cannot read" >&2; exit 3; }
head -1 "$tsv" | grep -q $'^epoch\tloss\trecon\tkl\tlr\t' ||
    { echo "$me: $tsv: not an svge-train --metrics TSV (header)" >&2; exit 1; }
[ "$(wc -l < "$tsv")" -ge 2 ] || { echo "$me: $tsv: no epochs" >&2; exit 1; }
term=$(bash "$(dirname "$0")/png-terminal.sh" "$me") # exit 3 without gnuplot

# the data, by column name, as whitespace columns (NaN where absent or empty):
# epoch recon kl test_recon test_kl mse test_mse lr
dat=$(mktemp "${TMPDIR:-/tmp}/loss-plot.XXXXXX")
trap 'rm -f "$dat"' EXIT
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    function v(name) { return (name in c) && $c[name] != "" ? $c[name] : "NaN" }
    { print v("epoch"), v("recon"), v("kl"), v("test_recon"), v("test_kl"), v("mse"), v("test_mse"), v("lr") }' \
    "$tsv" > "$dat"
# which series have a value somewhere (gnuplot refuses a plot whose points are all undefined)
has() { awk -v k="$1" '$k != "NaN" { f = 1; exit } END { exit !f }' "$dat"; }
# log scale for recon if every value is positive
logy=$(awk '$2 != "NaN" && $2 <= 0 { f = 1 } END { print f ? "unset logscale y" : "set logscale y" }' "$dat")
# the lr reductions: a dashed line at each epoch whose lr is below the previous epoch's
marks=$(awk 'NR > 1 && $8 != "NaN" && p != "NaN" && $8 + 0 < p + 0 {
        printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lc rgb \"gray40\"\n", $1, $1
        printf "set label \"lr %s\" at %s, graph 0.96 left offset 0.5, 0 textcolor rgb \"gray40\" font \",8\"\n", $8, $1 }
    { p = $8 }' "$dat")
q() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
panel() { # panel TRAIN_COLUMN TEST_COLUMN NAME: the plot command of one panel
    local p="$(q "$dat") using 1:$1 with lines lw 2 lc 1 title \"train\""
    if has "$2"; then p+=", $(q "$dat") using 1:$2 with linespoints lw 2 pt 7 ps 0.4 lc 2 title \"test\""; fi
    printf 'plot %s\n' "$p"
}
# whole epochs on the x axis: a tick per epoch when there are few
xt=$(awk 'END { print NR <= 12 ? "set xtics 1" : "" }' "$dat")
rows=2
if has 6; then rows=3; fi
{
    printf 'set terminal %s size 900,%d\n' "$term" $((rows * 330))
    printf 'set output %s\n' "$(q "$out")"
    printf 'set multiplot layout %d,1 title %s noenhanced\n' $rows "$(q "$title")"
    printf 'set grid\nset autoscale xfix\nset key top right\nset xlabel "epoch"\nset datafile missing "NaN"\n'
    printf '%s\n%s\n' "$xt" "$marks"
    printf '%s\nset ylabel "reconstruction loss (batch mean)"\n' "$logy"
    panel 2 4
    printf 'unset logscale y\nset ylabel "KL (summed over the batch)"\n'
    panel 3 5
    if [ $rows = 3 ]; then printf 'set ylabel "surrogate MSE"\n'; panel 6 7; fi
    printf 'unset multiplot\n'
} | gnuplot || { echo "$me: gnuplot failed" >&2; exit 3; }
echo "$me: wrote $out" >&2
