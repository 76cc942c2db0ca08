#!/usr/bin/env bash
# search-plot.sh CURVES.tsv OUT.png TITLE: the picture of search-report's --curves TSV, by gnuplot:
# the mean best objective against the number of evaluations, one line per method (in the TSV's
# order), with a band from the worst to the best seed (best_min .. best_max), and the optimum (best_mean
# + regret_mean) as a dashed line; the y axis from the lowest mean after a tenth of the evaluations to
# the optimum. A PNG (gnuplot's
# pngcairo, else its png terminal). Writes OUT.png's data beside it as OUT.dat (one block per method).
# Exit status: 0 ok, 1 a TSV that is not search-report's, 2 usage, 3 no gnuplot (apt-get install
# gnuplot-nox) or gnuplot failed.
set -euo pipefail
me=search-plot.sh
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,7p' "$0" | cut -c3-; exit 0; fi
[ $# -eq 3 ] || { echo "$me: usage: $me CURVES.tsv OUT.png TITLE" >&2; exit 2; }
tsv=$1 out=$2 title=$3
[ -r "$tsv" ] || { echo "$me: $tsv: cannot read" >&2; exit 3; }
want=$(printf 'eval\tmethod\tseeds\tended\tbest_mean\tbest_std\tbest_min\tbest_max\tregret_mean\tat_optimum_share')
[ "$(head -1 "$tsv")" = "$want" ] || { echo "$me: $tsv: not search-report --curves output (header)" >&2; exit 1; }
[ "$(wc -l < "$tsv")" -ge 2 ] || { echo "$me: $tsv: no rows" >&2; exit 1; }
term=$(bash "$(dirname "$0")/png-terminal.sh" "$me") # exit 3 without gnuplot

# OUT.dat: one block per method (two blank lines between, as gnuplot's index wants): eval mean min max
dat=${out%.png}.dat
awk -F'\t' 'NR > 1 { if ($2 != m) { if (NR > 2) printf "\n\n"; m = $2; printf "# %s\n", m } print $1, $5, $7, $8 }' "$tsv" > "$dat"
mapfile -t methods < <(awk -F'\t' 'NR > 1 && !($2 in s) { s[$2] = 1; print $2 }' "$tsv")
q() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
opt=$(awk -F'\t' 'NR == 2 { printf "%.17g", $5 + $9 }' "$tsv")
# y range: from the lowest mean curve after a tenth of the evaluations to the optimum (the first
# evaluations, far below, would squeeze the part where the methods differ)
yrange=$(awk -F'\t' -v opt="$opt" 'NR > 1 { if ($1 + 0 > emax) emax = $1 + 0; e[NR] = $1; m[NR] = $5 }
    END { lo = opt; for (i in e) if (e[i] >= emax / 10 && m[i] < lo) lo = m[i]; pad = (opt - lo) * 0.15;
          if (pad <= 0) pad = 0.001; printf "[%.17g:%.17g]", lo - pad, opt + pad }' "$tsv")
plot="$opt with lines dt 2 lw 1 lc rgb \"gray40\" title \"optimum ($(printf '%.6g' "$opt"))\""
for i in "${!methods[@]}"; do
    plot+="${plot:+, }$(q "$dat") index $i using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc $((i + 1)) notitle"
    plot+=", $(q "$dat") index $i using 1:2 with lines lw 2 lc $((i + 1)) title $(q "${methods[$i]}")"
done
gnuplot <<GP || { echo "$me: gnuplot failed" >&2; exit 3; }
set terminal $term size 900,600
set output $(q "$out")
set title $(q "$title") noenhanced
set xlabel "evaluations"
set ylabel "best objective (mean over seeds; band: worst to best seed)"
set key bottom right noenhanced
set yrange $yrange
set grid
plot $plot
GP
echo "$me: wrote $out" >&2
