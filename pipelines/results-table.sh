#!/usr/bin/env bash
# results-table.sh METRICS.zst...: one Markdown table of svge-metrics records (one row per space).
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "$0")/../bin" && pwd)}
echo "| space | recon | recon (iso) | valid | unique | unique (iso) | novel | novel (iso) | test graphs |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for f in "$@"; do
    "$BIN/stream-to-jsonl" < "$f" | awk '
    function field(name,   m) { if (match($0, "\"" name "\":[^,}]*")) { m = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3); gsub(/"/, "", m); return m } return "?" }
    { printf "| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %s |\n", field("space"), field("recon_acc"), field("recon_acc_iso"),
      field("validity"), field("uniqueness"), field("uniqueness_iso"), field("novelty"), field("novelty_iso"), field("n_test") }'
done
