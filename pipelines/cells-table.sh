#!/usr/bin/env bash
# cells-table.sh FIELD TRAINED.zst: a Markdown table of cell-train's records, one row per cell: its
# ops, the ranking FIELD it was chosen by, and what cell-train measured.
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "$0")/../bin" && pwd)}
by=$1
shift
echo "| cell | ops | $by | test accuracy | train accuracy | parameters | epochs | seconds |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for f in "$@"; do
    "$BIN/stream-to-jsonl" < "$f" | awk -v by="$by" '
    function field(name,   m) { if (match($0, "\"" name "\":[^,}]*")) { m = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3); gsub(/"/, "", m); return m } return "-" }
    function ops(   m) { if (match($0, /"ops":\[[^]]*\]/)) { m = substr($0, RSTART + 7, RLENGTH - 8); gsub(/"/, "", m); gsub(/-bn-relu/, "", m); return m } return "-" }
    { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", field("id"), ops(), field(by), field("test_accuracy"),
      field("train_accuracy"), field("parameters"), field("train_epochs"), field("train_seconds") }'
done
