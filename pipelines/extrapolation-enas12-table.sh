#!/usr/bin/env bash
# extrapolation-enas12-table.sh DIR: the Markdown report of make -C pipelines extrapolate-enas12 from
# the files in DIR (surrogate.svge and its log, pred.zst and pred-top.zst: the 12-layer architectures
# predicted and the top EX_TOP; test-pred.zst and test-pred-top.zst: the same for the 6-layer test
# architectures, with their true ws_val_acc). Environment: BIN, EX_MODEL, EX_SAMPLE, EX_EPOCHS, EX_TOP,
# EX12_N, EX_COMMAND.
set -euo pipefail
# BIN, here, d, j, thousands, the models' meta and mse
. "$(dirname "$0")/extrapolation-common.sh"
AWKLIB='
function field(name,   m) { if (match($0, "\"" name "\":[^,}]*")) { m = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3); gsub(/"/, "", m); return m } return "-" }
function ops(   m) { if (match($0, /"ops":\[[^]]*\]/)) { m = substr($0, RSTART + 7, RLENGTH - 8); gsub(/"/, "", m); gsub(/(input|output),?/, "", m); gsub(/,/, " ", m); sub(/ +$/, "", m); return m } return "-" }
function nedges(   m) { if (match($0, /"edges":\[(\[[0-9]+,[0-9]+\],?)*\]/)) { m = substr($0, RSTART, RLENGTH); return gsub(/\],\[/, "", m) + 1 } return "-" }
'
# mean, std, min, max of "predicted" over a stream
stats() { j "$1" | awk "$AWKLIB"'{ x = field("predicted") + 0; s += x; q += x * x; if (NR == 1 || x < lo) lo = x; if (NR == 1 || x > hi) hi = x }
    END { m = s / NR; v = NR > 1 ? (q - NR * m * m) / (NR - 1) : 0; printf "%d architectures: mean %.4f, std %.4f, min %.4f, max %.4f", NR, m, sqrt(v > 0 ? v : 0), lo, hi }'; }

echo "# Extrapolation: a surrogate trained on 6-layer ENAS architectures ranks 12-layer ones"
echo
echo "- command: \`$EX_COMMAND\`"
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- VAE: \`$EX_MODEL\`, model id \`$vid\`, trained $vepochs epoch(s) on $(thousands "$vgraphs") graphs (the model file's meta)"
echo "- surrogate: \`svge-train --init VAE --surrogate ws_val_acc --sample $EX_SAMPLE --epochs $EX_EPOCHS --seed 1\`" \
     "on the 17,118 training architectures of ENAS-6 (the reference's split): model id \`$sid\`, $sepochs epoch(s) on $(thousands "$sgraphs") architectures, last epoch's MSE $mse"
echo "- 12-layer architectures: \`graph-gen enas12 -n $EX12_N --seed 1\` (each layer's operation uniform, each skip connection with probability 1/2, as ENAS's random search), encoded by the surrogate's VAE (\`svge-encode -m SURR | predict -m SURR\`); no true accuracy exists for them"
echo "- predictions, 12 layers: $(stats "$d/pred.zst")"
echo "- predictions, the 6-layer test architectures: $(stats "$d/test-pred.zst")"
echo
echo "## Top $EX_TOP of the $(thousands "$EX12_N") 12-layer architectures by predicted ws_val_acc"
echo
echo "| rank | predicted | id | operations of layers 1-12 | edges |"
echo "| --- | --- | --- | --- | --- |"
j "$d/pred-top.zst" | awk "$AWKLIB"'{ printf "| %d | %.4f | %s | %s | %s |\n", NR, field("predicted"), field("id"), ops(), nedges() }'
echo
echo "## For comparison: the top $EX_TOP of the 1,902 6-layer test architectures by the same surrogate"
echo
echo "| rank | predicted | true ws_val_acc | id | operations of layers 1-6 | edges |"
echo "| --- | --- | --- | --- | --- | --- |"
j "$d/test-pred-top.zst" | awk "$AWKLIB"'{ printf "| %d | %.4f | %.4f | %s | %s | %s |\n", NR, field("predicted"), field("ws_val_acc"), field("id"), ops(), nedges() }'
