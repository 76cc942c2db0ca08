#!/usr/bin/env bats
# pipelines/search-run: the search loop end to end on NB201 at a tiny size (each method), the log's
# contract (evals 1..n, distinct valid cells, running best, budget), determinism, the fan-out of the
# evaluations through GNU parallel giving the same log, and usage errors.

load helpers

RUN="$BATS_TEST_DIRNAME/../pipelines/search-run"
Y=c10valid_val_200ep_mean

setup_file() {
    # the candidate pools, built once for the file
    mkdir -p "$BATS_FILE_TMPDIR/pools"
    BIN="$SVGE_BIN" "$RUN" -q --space nb201 --method random --init 4 --rounds 0 --out "$BATS_FILE_TMPDIR/warm.zst" \
        --work "$BATS_FILE_TMPDIR/pools"
}

setup() {
    setup_scratch
    W="$BATS_FILE_TMPDIR/pools"
}

tiny() { BIN="$SVGE_BIN" "$RUN" --space nb201 --init 6 --batch 4 --rounds 2 --tries 10 --work "$W" "$@"; }

# the log's contract: evals 1..n in order, distinct hashes, the running best, the method and seed
check_log() { # log method seed n
    stream-to-jsonl < "$1" > "$T/log.jsonl"
    [ "$(wc -l < "$T/log.jsonl")" -eq "$4" ]
    run jq -s -c --arg m "$2" --argjson s "$3" '
        [ (map(.search.eval) == [range(1; length + 1)]),
          (map(.search.method == $m and .search.seed == $s) | all),
          ([foreach .[] as $r (-1; [., $r.'$Y'] | max; .)] == map(.search.best)),
          (map(.search.round) | . == sort) ]' "$T/log.jsonl"
    [ "$output" = "[true,true,true,true]" ]
    [ "$(jq -c '[.ops, .edges]' "$T/log.jsonl" | sort -u | wc -l)" -eq "$4" ]
}

@test "bo: 6 initial cells + 2 rounds of 4 proposals decoded and looked up, a progress line per round" {
    run tiny --method bo --seed 3 --out "$T/bo.zst"
    assert_status 0
    assert_output_has "round 0 (bo, seed 3): +6 -> 6 evaluations"
    assert_output_has "round 2 (bo, seed 3):"
    check_log "$T/bo.zst" bo 3 14
    # the BO log carries each cell's own encoding (z of 56 and the model id) for the next GP fit
    [ "$(jq -c '[(.z | length), .model]' "$T/log.jsonl" | sort -u)" = '[56,"b30d71a9ec86891e"]' ]
}

@test "bo-local, bo-pool, bo-adj, random and evolution: the same initial design, then their own proposals" {
    for m in bo-local bo-pool bo-adj random evolution; do
        tiny -q --method $m --seed 2 --out "$T/$m.zst"
        check_log "$T/$m.zst" $m 2 14
        stream-to-jsonl < "$T/$m.zst" | jq -c 'select(.search.round == 0) | .arch' > "$T/init-$m"
    done
    cmp "$T/init-bo-pool" "$T/init-random"
    cmp "$T/init-random" "$T/init-evolution"
    cmp "$T/init-random" "$T/init-bo-adj"
    cmp "$T/init-random" "$T/init-bo-local"
    [ "$(wc -l < "$T/init-random")" -eq 6 ]
}

@test "deterministic: the same command gives the same log, bytes and all; --budget caps the run" {
    tiny -q --method evolution --seed 5 --out "$T/a.zst"
    tiny -q --method evolution --seed 5 --out "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    tiny -q --method random --seed 5 --budget 9 --out "$T/c.zst"
    check_log "$T/c.zst" random 5 9
}

@test "the evaluations fanned out through GNU parallel (two local job slots) give the same log" {
    command -v parallel > /dev/null || skip "GNU parallel not installed"
    tiny -q --method random --seed 4 --out "$T/one.zst"
    tiny -q --method random --seed 4 --out "$T/two.zst" \
        --oracle "$BATS_TEST_DIRNAME/../pipelines/fanout -j 2 -- $SVGE_BIN/bench-lookup -q"
    cmp <(stream-to-jsonl < "$T/one.zst") <(stream-to-jsonl < "$T/two.zst")
}

@test "a failing oracle stops the run with its message and a non-zero status, and leaves no log" {
    run tiny -q --method random --out "$T/x.zst" --oracle "$SVGE_BIN/bench-lookup --missing fail --table $T/nothing.zst"
    [ "$status" -ne 0 ]
    [ ! -e "$T/x.zst" ]
}

@test "usage errors exit 2" {
    run "$RUN" --method bo --out x
    assert_status 2
    assert_output_has "--space is required"
    run "$RUN" --space nb201 --method gradient --out x
    assert_status 2
    assert_output_has "'gradient' is not one of bo, bo-local, bo-pool, bo-adj, random, evolution"
    run "$RUN" --space nb101 --method bo --out x
    assert_status 2
    assert_output_has "use bo-pool for nb101"
    run "$RUN" --space nb201 --method bo --out x --init 1
    assert_status 2
    run "$RUN" --space nb201 --method bo-pool --out x --model "$T/none.model"
    assert_status 2
    assert_output_has "--method bo-pool needs a model of nb201: $T/none.model does not exist"
    run "$RUN" --space nb201 --method bo --out x --warp cube
    assert_status 2
    assert_output_has "'cube' is not one of none, error-log"
    run "$RUN" --space nb201 --method bo --out x --batch abc
    assert_status 2
    run "$RUN" --bogus
    assert_status 2
    assert_output_has "unknown option"
    run "$RUN" --help
    assert_status 0
    assert_output_has "Exit status"
}

@test "search-main (the main job) at a tiny size: a report of the three methods with the best cells as arch strings" {
    run env BIN="$SVGE_BIN" bash "$BATS_TEST_DIRNAME/../pipelines/search-main" --budget 12 --init 8 --tries 5 --out "$T/main"
    assert_status 0
    assert_output_has "round 1 (bo, seed 1): +4 -> 12 evaluations"
    for m in bo-pool bo evolution random; do
        grep -q "^| $m | 1 | 12 |" "$T/main/report.md"
        [ "$(grep -c "^$m .* |[a-z_0-9]*~0|+|" "$T/main/report.md")" -eq 3 ]
    done
    grep -q "optimum 0.916067 (the pool's best of 15625 records)" "$T/main/report.md"
    if command -v gnuplot > /dev/null; then
        [ "$(head -c 4 "$T/main/search.png" | od -An -c | tr -d ' ')" = '211PNG' ]
        assert_output_has "picture: $T/main/search.png"
    fi
}

@test "a search that trains its cells: NB101 evolution with cell-train (tiny) through pipelines/fanout as the oracle, objective test_accuracy" {
    command -v parallel > /dev/null || skip "GNU parallel not installed"
    run env BIN="$SVGE_BIN" "$RUN" -q --space nb101 --method evolution --init 4 --batch 2 --rounds 1 --y test_accuracy \
        --work "$W" --out "$T/ct.zst" --oracle "$BATS_TEST_DIRNAME/../pipelines/fanout -j 2 -- $SVGE_BIN/cell-train \
        --stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 1 --batch 16 --train-images 32 --test-images 20 --no-timing -q"
    assert_status 0
    stream-to-jsonl < "$T/ct.zst" > "$T/ct.jsonl"
    [ "$(wc -l < "$T/ct.jsonl")" -eq 6 ]
    # every cell was trained (test_accuracy, parameters) and is one of the 20,001 labelled cells
    [ "$(jq -c '[(.test_accuracy >= 0 and .test_accuracy <= 1), (.parameters > 0), (.val_acc_108ep > 0)] | all' "$T/ct.jsonl" | sort -u)" = true ]
    [ "$(jq -c '[.search.round, .search.eval]' "$T/ct.jsonl" | tr -d '\n')" = '[0,1][0,2][0,3][0,4][1,5][1,6]' ]
    # best is the running maximum of the test accuracy
    [ "$(jq -s -c '[foreach .[] as $r (-1; [., $r.test_accuracy] | max; .)] == map(.search.best)' "$T/ct.jsonl")" = true ]
}
