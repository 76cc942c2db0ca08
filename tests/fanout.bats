#!/usr/bin/env bats
# pipelines/fanout: a record filter run on N contiguous shards through GNU parallel (this machine's
# job slots here), its outputs concatenated in input order: the same records as one process.

load helpers

FANOUT="$BATS_TEST_DIRNAME/../pipelines/fanout"
export BIN="$SVGE_BIN"
TINY=(--stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 1 --batch 16 --train-images 32 --test-images 20 --no-timing -q)

setup() {
    setup_scratch
    command -v parallel > /dev/null || skip "GNU parallel is not installed (apt-get install parallel)"
    C100="$BATS_FILE_TMPDIR/nb201-100.zst"
    [ -s "$C100" ] || { graph-parse nb201 | stream-split --count 100 > "$C100.tmp" && mv "$C100.tmp" "$C100"; }
}

@test "bench-lookup on 100 NB201 cells: -j 2, -j 3 and -j 7 give the records of one process, in order" {
    bench-lookup < "$C100" | stream-to-jsonl > "$T/one"
    [ "$(wc -l < "$T/one")" -eq 100 ]
    for j in 2 3 7; do
        "$FANOUT" -j $j -- bench-lookup < "$C100" > "$T/out$j.zst"
        stream-to-jsonl < "$T/out$j.zst" | cmp - "$T/one"
    done
}

@test "cell-train (tiny, --no-timing) on 4 NB101 cells: -j 2 gives the same records as one process" {
    graph-parse nb101 | stream-split --count 4 --seed 3 > "$T/cells.zst"
    cell-train "${TINY[@]}" < "$T/cells.zst" | stream-to-jsonl > "$T/one"
    [ "$(wc -l < "$T/one")" -eq 4 ]
    grep -q '"test_accuracy":' "$T/one"
    "$FANOUT" -j 2 -- cell-train "${TINY[@]}" < "$T/cells.zst" | stream-to-jsonl | cmp - "$T/one"
}

@test "more shards than records (empty shards), and a filter that drops records, keep the input order" {
    stream-split --count 5 < "$C100" > "$T/five.zst"
    "$FANOUT" -j 8 -- cat < "$T/five.zst" | stream-to-jsonl | cmp - <(stream-to-jsonl < "$T/five.zst")
    # stream-top drops all but the best of each shard: not the same as one process, but in shard order
    "$FANOUT" -j 4 -- stream-top --by c10valid_val_200ep_mean -n 1 < "$C100" | stream-to-jsonl > "$T/tops"
    [ "$(wc -l < "$T/tops")" -eq 4 ]
    for k in 0 1 2 3; do
        stream-split --chunk $k/4 "$C100" | stream-top --by c10valid_val_200ep_mean -n 1 | stream-to-jsonl
    done | cmp - "$T/tops"
}

@test "--sshloginfile with GNU parallel's ':' (this machine): the same records; --dry-run shows the transfer" {
    echo "2/:" > "$T/hosts"
    bench-lookup < "$C100" | stream-to-jsonl > "$T/one"
    "$FANOUT" -j 3 --sshloginfile "$T/hosts" -- bench-lookup < "$C100" 2> /dev/null | stream-to-jsonl | cmp - "$T/one"
    run "$FANOUT" -j 2 --sshloginfile "$T/hosts" --dry-run -- bench-lookup -q
    assert_status 0
    assert_output_has "'--sshloginfile' '$T/hosts' '--transferfile' '{}' '--return' '{}.out' '--cleanup'"
    assert_output_has "'cd '\\''$PWD'\\'' && '\\''bench-lookup'\\'' '\\''-q'\\'' < {} > {}.out'"
    assert_output_has "TMP/shard.0 TMP/shard.1"
}

@test "a CMD failing in one shard: exit 1, the shard and its records named, nothing on stdout" {
    stream-to-jsonl < "$C100" | sed '80s/"ops":\["input","[a-z_0-9]*"/"ops":["input","conv9x9"/' | jsonl-to-stream > "$T/bad.zst"
    run bash -c '"$0" -j 2 -- bench-lookup < "$1" > "$2"' "$FANOUT" "$T/bad.zst" "$T/out.zst"
    assert_status 1
    assert_output_has "bench-lookup: stdin: record 30: field \"ops\": node 1: unknown operation \"conv9x9\""
    assert_output_has "fanout: shard 1/2 (records 50..99 of 100): exit status 1: bench-lookup"
    assert_output_has "fanout: 1 of 2 shards failed: no output written"
    [[ "$output" != *"shard 0/2"* ]]
    [ ! -s "$T/out.zst" ]
    # a command that does not exist fails every shard
    run bash -c '"$0" -j 2 -- no-such-command < "$1" > /dev/null' "$FANOUT" "$C100"
    assert_status 1
    assert_output_has "fanout: shard 0/2 (records 0..49 of 100): exit status 127: no-such-command"
    assert_output_has "fanout: 2 of 2 shards failed"
}

@test "bad input: empty or not a record stream: exit 1 with the reader's message" {
    run bash -c '"$0" -j 2 -- cat < /dev/null' "$FANOUT"
    assert_status 1
    assert_output_has "stream-split: stdin: empty input: not a record stream"
    fixed_random_bytes 300 2 > "$T/junk"
    run bash -c '"$0" -j 2 -- cat < "$1"' "$FANOUT" "$T/junk"
    assert_status 1
    assert_output_has "stream-split: stdin: not a record stream"
}

@test "usage: -j 0, no -j, no CMD, an unknown option, an unreadable --sshloginfile; --help" {
    run "$FANOUT" -j 0 -- cat
    assert_status 2; assert_output_has "fanout: -j: '0' is not an integer in [1, 1000]"
    run "$FANOUT" -j x -- cat
    assert_status 2; assert_output_has "fanout: -j: 'x' is not an integer in [1, 1000]"
    run "$FANOUT" -- cat
    assert_status 2; assert_output_has "fanout: -j N is required"
    run "$FANOUT" -j 2
    assert_status 2; assert_output_has "fanout: no command: give it after --"
    run "$FANOUT" -j 2 --
    assert_status 2; assert_output_has "fanout: no command"
    run "$FANOUT" -j 2 --bogus -- cat
    assert_status 2; assert_output_has "fanout: unknown option '--bogus'"
    run "$FANOUT" -j 2 cat
    assert_status 2; assert_output_has "fanout: unexpected argument 'cat' (the command follows --)"
    run "$FANOUT" -j
    assert_status 2; assert_output_has "fanout: -j: a value is missing"
    run "$FANOUT" -j 2 --sshloginfile "$T/none" -- cat
    assert_status 3; assert_output_has "fanout: --sshloginfile: cannot read"
    run "$FANOUT" --help
    assert_status 0
    for o in --jobs --sshloginfile --dry-run "srun --exclusive" "same checkout" "Exit status"; do assert_output_has "$o"; done
}
