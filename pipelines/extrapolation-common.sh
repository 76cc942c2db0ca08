# extrapolation-common.sh: sourced by extrapolation-table.sh and extrapolation-enas12-table.sh with
# the report's directory as $1. Sets BIN, here, d, the VAE's and the surrogate's meta (vid vepochs
# vgraphs, sid sepochs sgraphs: model-meta.sh of $EX_MODEL and $d/surrogate.svge) and mse (the
# surrogate's last epoch's MSE from $d/surrogate.log.tsv, or -); defines j FILE (the records as JSON
# lines) and thousands N (with thousands separators).
BIN=${BIN:-$(cd "$(dirname "$0")/../bin" && pwd)}
here=$(cd "$(dirname "$0")" && pwd)
d=$1
j() { "$BIN/stream-to-jsonl" < "$1"; }
thousands() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
read -r vid vepochs vgraphs <<< "$(bash "$here/model-meta.sh" "$EX_MODEL")"
read -r sid sepochs sgraphs <<< "$(bash "$here/model-meta.sh" "$d/surrogate.svge")"
mse=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "mse") c = i } NR > 1 && c { m = $c } END { print (m == "" ? "-" : m) }' \
    "$d/surrogate.log.tsv" 2> /dev/null || echo -)
