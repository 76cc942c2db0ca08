#!/usr/bin/env bash
# bench/run.sh: throughput and peak memory of the stream tools on all of NAS-Bench-101 (make bench).
# Not part of the tests: timings on a shared machine are noisy. Prints one line per measurement.
set -euo pipefail
BIN=${SVGE_BIN:-$(dirname "$0")/../bin}
BUILD=${SVGE_BUILD:-$(dirname "$0")/../build/release}
export PATH="$BIN:$PATH"
M=$BUILD/bench/measure
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
N=423624

row() { # name, records, command
    local out
    out=$("$M" "$3")
    local wall=${out#wall_s=}; wall=${wall%% *}
    local rss=${out##*peak_rss_mb=}
    awk -v n="$1" -v r="$2" -v w="$wall" -v m="$rss" \
        'BEGIN { printf "%-34s %9d records %7.3f s %11.0f records/s  peak %7.1f MB\n", n, r, w, r / w, m }'
}

echo "== stream tools on NAS-Bench-101 ($N cells), $(nproc) cores"
graph-parse nb101 > "$tmp/nb101.zst"
stream-to-jsonl < "$tmp/nb101.zst" > "$tmp/nb101.jsonl"
row "graph-parse nb101 (parse+join+write)" $N "graph-parse nb101 > /dev/null"
row "stream-to-jsonl" $N "stream-to-jsonl < $tmp/nb101.zst > /dev/null"
row "jsonl-to-stream" $N "jsonl-to-stream < $tmp/nb101.jsonl > /dev/null"
row "graph-hash (recompute all hashes)" $N "graph-hash < $tmp/nb101.zst > /dev/null"
row "bench-lookup (hash + join)" $N "bench-lookup < $tmp/nb101.zst > /dev/null"
row "stream-split --ratio 0.9 (buffers)" $N "stream-split --ratio 0.9 --seed 1 < $tmp/nb101.zst > /dev/null"
[ -x "$BUILD/bench/hash_bench" ] && "$BUILD/bench/hash_bench" "$tmp/nb101.zst"

echo "== peak memory, 1x vs 4x input (streaming tools must stay flat)"
cat "$tmp/nb101.zst" "$tmp/nb101.zst" "$tmp/nb101.zst" "$tmp/nb101.zst" > "$tmp/x4.zst"
stream-to-jsonl < "$tmp/x4.zst" > "$tmp/x4.jsonl"
for tool in stream-to-jsonl graph-hash "stream-split --shard 0/2"; do
    row "$tool 1x" $N "$tool < $tmp/nb101.zst > /dev/null"
    row "$tool 4x" $((4 * N)) "$tool < $tmp/x4.zst > /dev/null"
done
row "jsonl-to-stream 1x" $N "jsonl-to-stream < $tmp/nb101.jsonl > /dev/null"
row "jsonl-to-stream 4x" $((4 * N)) "jsonl-to-stream < $tmp/x4.jsonl > /dev/null"

echo "== SVGe model (NB101 dims, batch 128)"
# 4,096 real NB101 cells (1% split, seed 1, first 4,096); one process per task so that each peak RSS
# is that task's own (ru_maxrss is a process-wide maximum). One OpenBLAS thread.
if [ -x "$BUILD/bench/model_bench" ]; then
    stream-split --ratio 0.01 --seed 1 < "$tmp/nb101.zst" > "$tmp/nb101_1pct.zst"
    for what in train encode decode; do
        "$BUILD/bench/model_bench" --what "$what" --graphs 4096 --seconds 10 < "$tmp/nb101_1pct.zst"
    done
fi
