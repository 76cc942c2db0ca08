#!/usr/bin/env bash
# schedules-plot.sh OUT.png TITLE NAME=METRICS.tsv ...: two or more training runs' reconstruction loss
# per epoch in one picture (train: lines; test, where the TSV has it: points), to compare schedules
# (e.g. the reference's Adam lr 1e-4 against SCHEDULE=fast's 1e-3 on NB101: data/nb101/MODEL.md).
# Each METRICS.tsv is an svge-train --metrics file. A PNG (gnuplot's pngcairo, else png).
# Exit status: 0 ok, 1 a TSV that is not svge-train's metrics, 2 usage, 3 no gnuplot or it failed.
set -euo pipefail
me=schedules-plot.sh
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,6p' "$0" | cut -c3-; exit 0; fi
[ $# -ge 3 ] || { echo "$me: usage: $me OUT.png TITLE NAME=METRICS.tsv ..." >&2; exit 2; }
out=$1 title=$2
shift 2
term=$(bash "$(dirname "$0")/png-terminal.sh" "$me") # exit 3 without gnuplot
tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedules-plot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
q() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
plots=() i=0
for arg in "$@"; do
    [[ $arg == *=* ]] || { echo "$me: $arg: want NAME=METRICS.tsv" >&2; exit 2; }
    name=${arg%%=*} tsv=${arg#*=}
    [ -r "$tsv" ] || { echo "$me: $tsv: cannot read" >&2; exit 3; }
    head -1 "$tsv" | grep -q $'^epoch\tloss\trecon\tkl\tlr\t' ||
        { echo "$me: $tsv: not an svge-train --metrics TSV (header)" >&2; exit 1; }
    i=$((i + 1))
    # epoch, train recon, test recon (NaN where absent)
    awk -F'\t' 'NR == 1 { for (k = 1; k <= NF; k++) c[$k] = k; next }
        { t = ("test_recon" in c) && $c["test_recon"] != "" ? $c["test_recon"] : "NaN"; print $c["epoch"], $c["recon"], t }' \
        "$tsv" > "$tmp/$i.dat"
    plots+=("$(q "$tmp/$i.dat") using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc $i title $(q "$name: train")")
    if awk '$3 != "NaN" { f = 1 } END { exit !f }' "$tmp/$i.dat"; then
        plots+=("$(q "$tmp/$i.dat") using 1:3 with points pt 6 ps 1.2 lc $i title $(q "$name: test (after the epoch)")")
    fi
done
{
    printf 'set terminal %s size 900,500\nset output %s\n' "$term" "$(q "$out")"
    printf 'set title %s noenhanced\nset grid\nset logscale y\nset xlabel "epoch"\n' "$(q "$title")"
    printf 'set ylabel "reconstruction loss (batch mean)"\nset key top right noenhanced\nset datafile missing "NaN"\nset xtics 1\n'
    printf 'plot %s\n' "$(IFS=,; echo "${plots[*]}")"
} | gnuplot || { echo "$me: gnuplot failed" >&2; exit 3; }
echo "$me: wrote $out" >&2
