#!/usr/bin/env bats
# pipelines/Makefile: the quick version of the NB201 experiment runs end to end (split, train,
# metrics, results table) on the embedded data.

load helpers

@test "pipelines QUICK=1: NB201 split 14,062/1,563, a trained model, metrics and a results row" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/results-nb201.md" \
        SPACES=nb201
    assert_status 0
    [ "$(stream-to-jsonl < "$out/nb201/train.zst" | wc -l)" -eq 14062 ]
    [ "$(stream-to-jsonl < "$out/nb201/test.zst" | wc -l)" -eq 1563 ]
    [ -s "$out/nb201/model.svge" ]
    [ "$(wc -l < "$out/nb201/train-log.tsv")" -eq 3 ]   # header + 2 epochs
    stream-to-jsonl < "$out/nb201/metrics.zst" | grep -q '"kind":"svge-metrics","model":"[0-9a-f]\{16\}","space":"nb201"'
    grep -q '^| nb201 | [01]\.[0-9]\{4\} |' "$out/results-nb201.md"
}
