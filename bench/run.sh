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

echo "== bounded frames (formats/records.md): one zstd frame vs a frame per MiB, level 3, checksums"
[ -x "$BUILD/bench/frame_bench" ] && "$BUILD/bench/frame_bench" "$tmp/nb101.zst"
# the same records read by a tool as one frame (zstd CLI; over 64 MiB: passed on unverified)
zstd -q -dc "$tmp/nb101.zst" | zstd -q -3 --check -c > "$tmp/nb101_one.zst"
row "graph-hash, bounded frames" $N "graph-hash < $tmp/nb101.zst > /dev/null"
row "graph-hash, one frame" $N "graph-hash -q < $tmp/nb101_one.zst > /dev/null"

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
# is that task's own (ru_maxrss is a process-wide maximum). One worker thread and two, in 4
# alternating rounds of 5 s each, with the 2-thread / 1-thread ratio (the same bytes either way).
if [ -x "$BUILD/bench/model_bench" ]; then
    stream-split --ratio 0.01 --seed 1 < "$tmp/nb101.zst" > "$tmp/nb101_1pct.zst"
    for what in train encode decode; do
        "$BUILD/bench/model_bench" --what "$what" --graphs 4096 --seconds 20 --threads 1,2 --rounds 4 < "$tmp/nb101_1pct.zst"
    done
    # The same cells against the reference (automl/SVGe in PyTorch, SVGE_REF=DIR: a checkout at
    # 5cf475b), one thread each, alternating runs: bench/svge_ref.sh (skipped without SVGE_REF or torch).
    SVGE_BIN=$BIN SVGE_BUILD=$BUILD bash "$(dirname "$0")/svge_ref.sh" "$tmp/nb101_1pct.zst"
fi

echo "== cell-train network: training images/s, C (lib/cellnet) vs PyTorch (CPU), same network and size"
# The NB101 network of the best NB101 cell (highest val_acc_108ep: id 171411), forward + backward +
# optimizer step on batches of CIFAR-sized input. Size and timing: CELLNET_BENCH_SIZE (passed to both
# sides) and CELLNET_BENCH_TIME (timing options, both sides). The full NB101 size takes minutes:
# PyTorch needs ~80 s per batch-128 step on one thread here.
#   C side:       $BUILD/bench/cellnet_bench $CELLNET_BENCH_SIZE $CELLNET_BENCH_TIME --threads 1 and nproc
#                 expected to print a line starting "cellnet-c:" that contains "threads=T" and
#                 "images_per_s=R" (key=value fields, like the PyTorch line below);
#   PyTorch side: /usr/bin/python3 bench/cellnet_torch.py (Debian's python3-torch; skipped without it),
#                 lines "cellnet-torch: setting=S threads=T ... images_per_s=R" for settings 1, default, nproc.
# Then "cellnet ratio C/PyTorch: ..." at one thread, and C's one-thread rate over PyTorch's best.
CELLNET_BENCH_SIZE=${CELLNET_BENCH_SIZE:---stem 128 --stacks 3 --cells 3 --batch 128}
CELLNET_BENCH_TIME=${CELLNET_BENCH_TIME:---seconds 60 --min-steps 1}
field() { # line, key: the value of key=value in line ("" if absent)
    local v=${1##* $2=}
    if [ "$v" != "$1" ]; then echo "${v%% *}"; fi
}
c_ips=""
if [ -x "$BUILD/bench/cellnet_bench" ]; then
    # shellcheck disable=SC2086
    c_out=$("$BUILD/bench/cellnet_bench" $CELLNET_BENCH_SIZE $CELLNET_BENCH_TIME --threads 1;
            "$BUILD/bench/cellnet_bench" $CELLNET_BENCH_SIZE $CELLNET_BENCH_TIME --threads "$(nproc)") || c_out=""
    echo "$c_out"
    c_best=""
    while IFS= read -r line; do
        case $line in cellnet-c:*)
            r=$(field "$line" images_per_s)
            if [ "$(field "$line" threads)" = 1 ] && [ -z "$c_ips" ]; then c_ips=$r; fi
            if [ -z "$c_best" ] || awk -v a="$r" -v b="$c_best" 'BEGIN { exit !(a > b) }'; then c_best=$r; fi ;;
        esac
    done <<< "$c_out"
else
    echo "cellnet: $BUILD/bench/cellnet_bench not built: no C measurement"
fi
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    # shellcheck disable=SC2086
    t_status=0
    t_out=$(/usr/bin/python3 "$(dirname "$0")/cellnet_torch.py" $CELLNET_BENCH_SIZE $CELLNET_BENCH_TIME \
        --threads 1,default,nproc 2>&1) || t_status=$?
    echo "$t_out"
    [ "$t_status" = 0 ] || echo "cellnet: cellnet_torch.py exited with status $t_status (parameter count mismatch?)"
    t1="" tbest="" tbest_set=""
    while IFS= read -r line; do
        case $line in "cellnet-torch: setting="*)
            r=$(field "$line" images_per_s)
            [ "$(field "$line" threads)" = 1 ] && [ -z "$t1" ] && t1=$r
            if [ -z "$tbest" ] || awk -v a="$r" -v b="$tbest" 'BEGIN { exit !(a > b) }'; then
                tbest=$r tbest_set=$(field "$line" setting)
            fi ;;
        esac
    done <<< "$t_out"
    if [ -n "$c_ips" ] && [ -n "$t1" ]; then
        awk -v c="$c_ips" -v t="$t1" -v b="$tbest" -v s="$tbest_set" -v cb="$c_best" 'BEGIN {
            printf "cellnet ratio C/PyTorch: %.2fx at one thread (C %.2f vs PyTorch %.2f images/s); ", c / t, c, t
            printf "best against best %.2fx (C %.2f vs PyTorch %s %.2f images/s)\n", cb / b, cb, s, b }'
    else
        echo "cellnet ratio C/PyTorch: not available (C images/s: ${c_ips:-none}, PyTorch one thread: ${t1:-none})"
    fi
else
    echo "cellnet: PyTorch comparison skipped: /usr/bin/python3 cannot import torch (Debian: apt-get install python3-torch)"
fi

echo "== one Bayesian-optimisation round on NB201 (the shipped model): GP fit + acquisition vs decoding"
# 500 evaluated cells (a search's last round), 50 proposals (bo-propose: GP fit with hyperparameters,
# 10,000-point grid, L-BFGS per proposal, kriging believer), then 50 x 500 decodings (svge-decode
# --tries 500): the acquisition should cost less than the decodings. One thread each.
graph-parse nb201 | stream-split --count 500 --seed 7 | svge-encode -m "$BIN/../data/nb201/svge.model" > "$tmp/ev500.zst"
bo_out=$("$M" "bo-propose -q --y c10valid_val_200ep_mean -n 50 < $tmp/ev500.zst > $tmp/prop.zst")
dec_out=$("$M" "svge-decode -q -m $BIN/../data/nb201/svge.model --tries 500 --exclude $tmp/ev500.zst --distinct < $tmp/prop.zst > /dev/null")
awk -v a="$bo_out" -v b="$dec_out" 'BEGIN {
    split(a, x, /[= ]/); split(b, y, /[= ]/)
    printf "bo-propose (500 points, 50 proposals)  %7.2f s  peak %s MB\n", x[2], x[4]
    printf "svge-decode (50 x 500 decodings)        %7.2f s  peak %s MB\n", y[2], y[4]
    printf "acquisition / decoding: %.2f (target < 1)\n", x[2] / y[2] }'

echo "== prediction on all of NAS-Bench-101: svge-encode | predict, and the GP fits ($(nproc) worker threads each)"
# The issue's targets: predict adds less than half of svge-encode's time (constant memory); a GP fit
# with hyperparameters on 1,000 points takes less than encoding all of NB101; a sparse fit on 20,000
# points less than a minute. The VAE: data/nb101/svge.model, or (timing only: the same sizes) a model
# of the default sizes trained here for one epoch on 300 cells.
MODEL=$BIN/../data/nb101/svge.model
if [ ! -s "$MODEL" ]; then
    MODEL=$tmp/nb101-timing.model
    stream-split --count 300 --seed 1 < "$tmp/nb101.zst" | svge-train -q --epochs 1 -o "$MODEL"
    echo "(no data/nb101/svge.model: a default-size model trained for one epoch on 300 cells, for timing)"
fi
stream-to-jsonl < "$tmp/nb101.zst" | grep '"val_acc_108ep"' | jsonl-to-stream | svge-encode -m "$MODEL" > "$tmp/lab.zst"
stream-split --count 1000 --seed 1 < "$tmp/lab.zst" > "$tmp/lab1000.zst"
gp-fit -q --y val_acc_108ep -o "$tmp/gp1000" < "$tmp/lab1000.zst"
# the same points as a sparse GP (FITC, 256 inducing): its std costs M^2 = 65,536 a record, not N^2
gp-fit -q --y val_acc_108ep --sparse --inducing 256 -o "$tmp/gp1000s" < "$tmp/lab1000.zst"
stream-split --count 100 --seed 1 < "$tmp/lab.zst" \
    | svge-train -q --init "$MODEL" --surrogate val_acc_108ep --sample 100 --epochs 1 -o "$tmp/surr"
svge-encode -m "$tmp/surr" < "$tmp/nb101.zst" > "$tmp/zs.zst"
enc=$("$M" "svge-encode -m $MODEL < $tmp/nb101.zst > $tmp/z.zst")
p_std=$("$M" "predict -m $tmp/gp1000 < $tmp/z.zst > /dev/null")
p_mean=$("$M" "predict -m $tmp/gp1000 --no-std < $tmp/z.zst > /dev/null")
p_sparse=$("$M" "predict -m $tmp/gp1000s < $tmp/z.zst > /dev/null")
p_head=$("$M" "predict -m $tmp/surr < $tmp/zs.zst > /dev/null")
fit1k=$("$M" "gp-fit -q --y val_acc_108ep -o $tmp/gpb < $tmp/lab1000.zst")
fit20k=$("$M" "gp-fit -q --y val_acc_108ep -o $tmp/gps < $tmp/lab.zst")
awk -v n=$N -v e="$enc" -v a="$p_std" -v b="$p_mean" -v s="$p_sparse" -v c="$p_head" -v f="$fit1k" -v g="$fit20k" 'BEGIN {
    split(e, E, /[= ]/); split(a, A, /[= ]/); split(b, B, /[= ]/); split(s, S, /[= ]/); split(c, C, /[= ]/); split(f, F, /[= ]/); split(g, G, /[= ]/)
    printf "svge-encode                              %7.2f s %9.0f records/s  peak %s MB\n", E[2], n / E[2], E[4]
    printf "predict, GP on 1,000 points, with std    %7.2f s %9.0f records/s  peak %s MB  predict/encode %.2f (target < 0.5)\n", A[2], n / A[2], A[4], A[2] / E[2]
    printf "predict, the same GP, --no-std           %7.2f s %9.0f records/s  peak %s MB  predict/encode %.2f\n", B[2], n / B[2], B[4], B[2] / E[2]
    printf "predict, sparse GP (--sparse, M = 256)   %7.2f s %9.0f records/s  peak %s MB  predict/encode %.2f (with std)\n", S[2], n / S[2], S[4], S[2] / E[2]
    printf "predict, surrogate head                  %7.2f s %9.0f records/s  peak %s MB  predict/encode %.2f\n", C[2], n / C[2], C[4], C[2] / E[2]
    printf "gp-fit, 1,000 points (hyperparameters)   %7.2f s  fit/encode %.2f (target < 1)\n", F[2], F[2] / E[2]
    printf "gp-fit, 20,001 points (sparse FITC)      %7.2f s  (target < 60 s)\n", G[2] }'
