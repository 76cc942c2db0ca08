#!/usr/bin/env bash
# extrapolation-table.sh DIR: the Markdown report of make -C pipelines extrapolate-nb101 from the
# files in DIR (surrogate.svge and its log, gen-all.zst, gen-valid.zst, valid-ranked.zst, top.zst,
# test-top.zst, optionally top1-trained.zst). Environment: BIN, EX_MODEL (the VAE), EX_SAMPLE,
# EX_EPOCHS, EX_TOP, EX_COMMAND.
set -euo pipefail
# BIN, here, d, j, thousands, the models' meta and mse
. "$(dirname "$0")/extrapolation-common.sh"

n_all=$(j "$d/gen-all.zst" | wc -l)
n_valid=$(j "$d/gen-valid.zst" | wc -l)
n_ranked=$(j "$d/valid-ranked.zst" | wc -l)

# awk helpers on one JSON line: a scalar field, the ops (without -bn-relu), the edges, the gen field
AWKLIB='
function field(name,   m) { if (match($0, "\"" name "\":[^,}]*")) { m = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3); gsub(/"/, "", m); return m } return "-" }
function ops(   m) { if (match($0, /"ops":\[[^]]*\]/)) { m = substr($0, RSTART + 7, RLENGTH - 8); gsub(/"/, "", m); gsub(/-bn-relu/, "", m); gsub(/,/, " ", m); return m } return "-" }
function edges(   m, n) { if (match($0, /"edges":\[(\[[0-9]+,[0-9]+\],?)*\]/)) { m = substr($0, RSTART + 9, RLENGTH - 10); gsub(/\],\[/, " ", m); gsub(/[][]/, "", m); gsub(/,/, "-", m); n = split(m, t, " "); return m " (" n ")" } return "-" }
function gen(   m) { if (match($0, /"gen":\{[^}]*\}/)) { m = substr($0, RSTART + 7, RLENGTH - 8); gsub(/"/, "", m); gsub(/-bn-relu/, "", m); gsub(/,/, ", ", m); gsub(/:/, " ", m); return m } return "-" }
'

echo "# Extrapolation: a surrogate trained on 7-node NB101 cells ranks 8-node cells"
echo
echo "- command: \`$EX_COMMAND\`"
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- VAE: \`$EX_MODEL\`, model id \`$vid\`, trained $vepochs epoch(s) on $(thousands "$vgraphs") graphs (the model file's meta)"
echo "- surrogate: \`svge-train --init VAE --surrogate val_acc_108ep${EX_SURR_OPTS:+ $EX_SURR_OPTS} --skip-missing --sample $EX_SAMPLE --epochs $EX_EPOCHS --seed 1\`" \
     "on the 18,000 training cells with val_acc_108ep (90/10 split, seed 1): model id \`$sid\`, $sepochs epoch(s) on $(thousands "$sgraphs") cells, last epoch's MSE $mse"
echo "- 8-node cells: $(thousands "$n_all") generated (\`graph-gen nb101-8 --seed 1\`), $(thousands "$n_valid") valid (\`--valid-only\`);" \
     "the valid ones are encoded and ranked (\`svge-encode -m SURR | predict -m SURR\`: svge-encode takes only valid graphs)"
echo
echo "## Top $EX_TOP of the $(thousands "$n_valid") valid 8-node cells by predicted val_acc_108ep"
echo
echo "| rank | predicted | id | gen (family, op, extra edges) | ops | edges |"
echo "| --- | --- | --- | --- | --- | --- |"
j "$d/top.zst" | awk "$AWKLIB"'{ printf "| %d | %.4f | %s | %s | %s | %s |\n", NR, field("predicted"), field("id"), gen(), ops(), edges() }'
echo
# the reference's winner: family b, conv3x3, the input feeding all seven other nodes (16 edges)
j "$d/valid-ranked.zst" | awk -v n="$n_ranked" -v top="$EX_TOP" "$AWKLIB"'
    /"gen":\{"family":"b","op":"conv3x3-bn-relu","extra":\[2,3,4,5,6,7\]\}/ {
        printf "- reference winner (family b, conv3x3, the input feeding all seven other nodes; %s): rank %d of %d (predicted %.4f): %s the top %d\n",
            edges(), NR, n, field("predicted"), (NR <= top ? "among" : "not among"), top; found = 1 }
    END { if (!found) printf "- reference winner (family b, conv3x3, the input feeding all seven other nodes; 16 edges): not among the ranked cells\n" }'
echo
echo "## For comparison: the top 5 of the 7-node test cells (the other 2,001 cells with val_acc_108ep) by the same surrogate"
echo
echo "| rank | predicted | true val_acc_108ep | id | ops | edges |"
echo "| --- | --- | --- | --- | --- | --- |"
j "$d/test-top.zst" | awk "$AWKLIB"'{ printf "| %d | %.4f | %.4f | %s | %s | %s |\n", NR, field("predicted"), field("val_acc_108ep"), field("id"), ops(), edges() }'
if [ -s "$d/top1-trained.zst" ]; then
    echo
    echo "## The top-1 8-node cell trained (cell-train)"
    echo
    echo "| id | predicted | test_accuracy | train_accuracy | parameters | epochs | seconds |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    j "$d/top1-trained.zst" | awk "$AWKLIB"'{ printf "| %s | %.4f | %s | %s | %s | %s | %s |\n", field("id"), field("predicted"), field("test_accuracy"),
        field("train_accuracy"), field("parameters"), field("train_epochs"), field("train_seconds") }'
fi
