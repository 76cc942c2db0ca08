#!/usr/bin/env bats
# The progress line of long jobs (lib/progress.h): on a terminal (a pty from util-linux's script),
# graph-parse, svge-decode, svge-metrics and svge-train rewrite one line in place (\r) with the
# count, the rate and (when the total is known) the ETA, and clear it at the end; with -q, or with
# stderr a pipe or a file, nothing of it appears. The first line appears after half a second, so
# each job here is made to last a few seconds.

load helpers

M="$BATS_TEST_DIRNAME/../data/nb201/svge.model"

setup_file() {
    graph-parse nb201 | stream-split --ratio 0.9 --seed 1 --rest "$BATS_FILE_TMPDIR/test.zst" > "$BATS_FILE_TMPDIR/train.zst"
    svge-encode -q -m "$M" < "$BATS_FILE_TMPDIR/test.zst" | stream-split --count 20 > "$BATS_FILE_TMPDIR/z.zst"
    stream-split --count 200 < "$BATS_FILE_TMPDIR/train.zst" > "$BATS_FILE_TMPDIR/small.zst"
}

setup() {
    setup_scratch
    F="$BATS_FILE_TMPDIR"
}

# on_tty CMD: runs the shell command CMD with a terminal as stdin, stdout and stderr (its own
# redirections apply); $output: what the terminal showed
on_tty() {
    command -v script > /dev/null || skip "util-linux script not installed"
    run script -qec "$1" /dev/null
}

# the progress line was drawn ("\r\e[K" then the tool's name) and cleared last (or, with a third
# argument, cleared before that text: svge-train's epoch lines)
assert_progress() { # tool text [then]
    assert_status 0
    [[ "$output" == *$'\r\e[K'"$1: "*"$2"* ]] || { echo "no progress line of $1 with '$2' in: $(printf '%q' "$output")"; false; }
    if [ -n "${3:-}" ]; then
        [[ "$output" == *$'\r\e[K'"$3"* ]] || { echo "not cleared before '$3': $(printf '%q' "$output")"; false; }
    else
        [[ "$output" == *$'\r\e[K' ]] || { echo "not cleared at the end: $(printf '%q' "$output")"; false; }
    fi
}

@test "graph-parse nb101 on a terminal: cells so far and cells/s, then cleared; nothing with -q" {
    on_tty "graph-parse nb101 > '$T/out.zst'"
    assert_progress graph-parse "cells/s"
    [[ "$output" =~ graph-parse:\ [0-9]+\ cells,\ [0-9]+\ cells/s ]]
    on_tty "graph-parse -q nb101 > '$T/out.zst'"
    assert_status 0
    [ -z "$output" ]
}

@test "svge-metrics on a terminal: reconstruction: done/total graphs, graphs/s, ETA" {
    on_tty "svge-metrics -m '$M' --train '$F/small.zst' --limit 20 --encode-times 5 --decode-times 30 --prior-samples 0 < '$F/test.zst' > '$T/m.zst'"
    assert_progress svge-metrics "/20 graphs, "
    [[ "$output" =~ svge-metrics:\ reconstruction:\ [0-9]+/20\ graphs,\ [0-9]+\ graphs/s,\ ETA\ [0-9]+\ s ]]
    [ "$(stream-to-jsonl < "$T/m.zst" | jq .n_recon_decodings)" = 3000 ]
}

@test "svge-decode on a terminal: graphs decoded and graphs/s" {
    on_tty "svge-decode -m '$M' --tries 200 < '$F/z.zst' > '$T/d.zst'"
    assert_progress svge-decode "graphs/s"
    [ "$(stream-to-jsonl < "$T/d.zst" | wc -l)" = 20 ]
}

@test "svge-train on a terminal: epoch, graphs, graphs/s, loss and ETA; the epoch lines stay" {
    on_tty "svge-train --ndim 64 --gdim 8 --epochs 40 --batch 8 -o '$T/m.model' < '$F/small.zst'"
    assert_progress svge-train "graphs/s, loss " "svge-train: epoch "
    [[ "$output" =~ svge-train:\ epoch\ [0-9]+/40:\ [0-9]+/200\ graphs,\ [0-9]+\ graphs/s,\ loss\ [0-9.e+-]+\ recon\ [0-9.e+-]+\ kl\ [0-9.e+-]+,\ ETA\ [0-9] ]]
    assert_output_has "svge-train: epoch 40/40 loss "
}

@test "stderr not a terminal: the same jobs write no progress (stderr as before: empty, or only the messages)" {
    graph-parse nb101 2> "$T/e1" > /dev/null
    svge-metrics -m "$M" --train "$F/small.zst" --limit 20 --encode-times 5 --decode-times 5 --prior-samples 0 \
        < "$F/test.zst" 2> "$T/e2" > /dev/null
    svge-decode -m "$M" --tries 50 < "$F/z.zst" 2>&1 > /dev/null | cat > "$T/e3"
    [ ! -s "$T/e1" ] && [ ! -s "$T/e2" ] && [ ! -s "$T/e3" ]
    svge-train --ndim 64 --gdim 8 --epochs 10 --batch 8 -o "$T/m.model" < "$F/small.zst" 2> "$T/e4"
    ! grep -q $'\r' "$T/e4"
    # svge-train: no epoch lines either (quiet in pipelines: --metrics is the record), only the
    # first line and the last
    ! grep -q '^svge-train: epoch ' "$T/e4"
    [ "$(wc -l < "$T/e4")" = 2 ]
    # -v: one line per epoch
    svge-train -v --ndim 64 --gdim 8 --epochs 10 --batch 8 -o "$T/m.model" < "$F/small.zst" 2> "$T/e5"
    ! grep -q $'\r' "$T/e5"
    [ "$(grep -c '^svge-train: epoch ' "$T/e5")" = 10 ]
}

@test "an error mid-job starts on a cleared line, not glued to the progress text (graph-parse, a bad last row)" {
    mkdir -p "$T/data/nb101"
    { zstd -q -dc "$SVGE_DATA/nb101/cells.csv.zst"; echo "garbage,row"; } | zstd -q -c > "$T/data/nb101/cells.csv.zst"
    cp "$SVGE_DATA/nb101/val_accuracies.csv.zst" "$T/data/nb101/"
    on_tty "SVGE_DATA='$T/data' graph-parse nb101 > '$T/out.zst'"
    [ "$status" -eq 1 ]
    # whether or not the job lasted long enough for a progress line (half a second), what follows the
    # last clear (\r ESC[K) is the message itself, from its first byte
    rest="${output##*$'\r\e[K'}"
    [[ "$rest" == "graph-parse: $T/data/nb101/cells.csv.zst: line "* ]] || { echo "$(printf '%q' "$output")"; false; }
}
