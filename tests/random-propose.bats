#!/usr/bin/env bats
# random-propose: random search's proposer: Q pool cells, uniformly without replacement, none of
# which the evaluated stream holds (isomorphism-aware graph keys). Real data: all 15,625 NB201 cells
# and NB101's 423,624 (20,001 with val_acc_108ep) as pools; evaluated streams drawn from them.

load helpers

setup_file() {
    propose_pools
    stream-split --count 200 --seed 7 < "$BATS_FILE_TMPDIR/nb201.zst" > "$BATS_FILE_TMPDIR/ev201.zst"
    stream-top --by val_acc_108ep -n 300 --skip-missing < "$BATS_FILE_TMPDIR/nb101.zst" > "$BATS_FILE_TMPDIR/ev101.zst"
}

setup() {
    setup_scratch
    propose_vars
    E201="$BATS_FILE_TMPDIR/ev201.zst"
    E101="$BATS_FILE_TMPDIR/ev101.zst"
}

@test "nb201: Q valid pool cells, none evaluated, no two alike, each the pool's record plus proposal" {
    random-propose --pool "$P201" -n 300 --seed 1 < "$E201" > "$T/out.zst"
    graph_keys < "$T/out.zst" > "$T/out.h"
    [ "$(wc -l < "$T/out.h")" -eq 300 ]
    [ "$(sort -u "$T/out.h" | wc -l)" -eq 300 ]
    graph_keys < "$E201" > "$T/ev.h"
    [ -z "$(comm -12 "$T/out.h" "$T/ev.h")" ]
    # every record: the pool's record unchanged, then "proposal": {"method": "random"}
    stream-to-jsonl < "$T/out.zst" > "$T/out.json"
    [ "$(jq -c .proposal "$T/out.json" | sort -u)" = '{"method":"random"}' ]
    [ "$(jq -c 'keys_unsorted | last' "$T/out.json" | sort -u)" = '"proposal"' ]
    id=$(jq -r .id "$T/out.json" | head -1)
    want=$(stream-to-jsonl < "$P201" | grep "^{\"v\":1,\"id\":$id,")
    [ "$(head -1 "$T/out.json" | jq -c 'del(.proposal)')" = "$(printf '%s\n' "$want" | jq -c .)" ]
}

@test "the same seed gives the same bytes; another seed other cells; an empty evaluated stream is fine" {
    random-propose --pool "$P201" -n 20 --seed 5 < "$E201" > "$T/a.zst"
    random-propose --pool "$P201" -n 20 --seed 5 "$E201" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    random-propose --pool "$P201" -n 20 --seed 6 < "$E201" > "$T/c.zst"
    run cmp -s "$T/a.zst" "$T/c.zst"
    [ "$status" -ne 0 ]
    [ "$(stream-to-jsonl < "$T/a.zst" | jq -r .id | sort)" != "$(stream-to-jsonl < "$T/c.zst" | jq -r .id | sort)" ]
    random-propose --pool "$P201" -n 20 < "$EMPTY" > "$T/e.zst"
    [ "$(stream-to-jsonl < "$T/e.zst" | wc -l)" -eq 20 ]
    # the pool may be a pipe (it is read once)
    graph-parse nb201 | random-propose --pool - -n 20 --seed 5 "$E201" | cmp - "$T/a.zst"
}

@test "nb101 --require val_acc_108ep: only cells that have it, none of the 300 evaluated" {
    random-propose --pool "$P101" --require val_acc_108ep -n 200 --seed 2 < "$E101" > "$T/out.zst"
    stream-to-jsonl < "$T/out.zst" > "$T/out.json"
    [ "$(wc -l < "$T/out.json")" -eq 200 ]
    [ "$(jq 'select(.val_acc_108ep == null)' "$T/out.json" | wc -l)" -eq 0 ]
    graph_keys < "$T/out.zst" > "$T/out.h"
    graph_keys < "$E101" > "$T/ev.h"
    [ "$(sort -u "$T/out.h" | wc -l)" -eq 200 ]
    [ -z "$(comm -12 "$T/out.h" "$T/ev.h")" ]
    # without --require most NB101 cells have no accuracy (403,623 of 423,624)
    random-propose --pool "$P101" -n 50 --seed 2 < "$E101" | stream-to-jsonl > "$T/all.json"
    [ "$(jq 'select(.val_acc_108ep == null) | .id' "$T/all.json" | wc -l)" -gt 25 ]
}

@test "fewer candidates than Q: all of them and one warning; a cell twice in the pool counts once" {
    stream-split --shard 0/3125 < "$P201" > "$T/pool5.zst"        # 5 cells: ids 0 3125 6250 9375 12500
    [ "$(stream-to-jsonl < "$T/pool5.zst" | wc -l)" -eq 5 ]
    stream-split --shard 0/5 < "$T/pool5.zst" > "$T/a.zst"
    stream-split --shard 2/5 < "$T/pool5.zst" > "$T/b.zst"
    stream-split --shard 4/5 < "$T/pool5.zst" > "$T/c.zst"
    cat "$T/a.zst" "$T/b.zst" "$T/c.zst" > "$T/ev.zst"             # 3 of them evaluated
    run_quiet random-propose --pool "$T/pool5.zst" -n 10 "$T/ev.zst"
    assert_status 0
    assert_output_has "random-propose: warning: only 2 candidates (pool cells not evaluated) for -n 10: writing them all"
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
    cat "$T/pool5.zst" "$T/pool5.zst" > "$T/pool10.zst"
    random-propose --pool "$T/pool10.zst" -n 10 "$T/ev.zst" 2>/dev/null | stream-to-jsonl | jq -r .id | sort -n > "$T/ids"
    [ "$(tr '\n' ' ' < "$T/ids")" = "3125 9375 " ]
    # all evaluated: an empty stream, and the warning
    run_quiet random-propose --pool "$T/pool5.zst" -n 1 "$T/pool5.zst"
    assert_status 0
    assert_output_has "only 0 candidates"
}

@test "bad streams: the evaluated stream and the pool, named" {
    assert_rejects_bad_streams random-propose --pool "$P201" -n 1
    : > "$T/zero"
    run_quiet random-propose --pool "$P201" -n 1 "$T/zero"
    assert_status 1
    assert_output_has "random-propose: $T/zero: empty input: not a record stream"
    head -c 20000 "$P201" > "$T/cut.zst"
    run_quiet random-propose --pool "$T/cut.zst" -n 1 < "$EMPTY"
    assert_status 1
    assert_output_has "random-propose: $T/cut.zst: "
    assert_output_has "truncated"
    printf '{"v":1,"id":1,"space":"nb201"}\n' | jsonl-to-stream > "$T/nograph.zst"
    run_quiet random-propose --pool "$T/nograph.zst" -n 1 < "$EMPTY"
    assert_status 1
    assert_output_has "random-propose: $T/nograph.zst: record 1: "
    run_quiet random-propose --pool "$T/missing.zst" -n 1 < "$EMPTY"
    assert_status 3
}

@test "usage errors exit 2; --help documents the options" {
    for args in "" "--pool x" "-n 1" "--pool x -n 0" "--pool x -n 1000001" "--pool x -n y" "--pool '' -n 1" \
                "--pool x -n 1 --require ''" "--pool x -n 1 --seed -1" "--pool x -n 1 --bogus" "--pool x -n 1 a b" \
                "--pool - -n 1"; do
        eval "run random-propose $args" < "$EMPTY"
        assert_status 2
    done
    run random-propose --pool x -n 0
    assert_output_has "random-propose: --count: '0' is not an integer in [1, 1000000]"
    run random-propose --pool - -n 1
    assert_output_has "--pool - and the evaluated stream cannot both be stdin"
    run random-propose --help
    assert_status 0
    for s in "--pool POOL" "--count Q" "--require FIELD" "--seed S" "(default 1)" "warning" "Exit status"; do
        assert_output_has "$s"
    done
}
