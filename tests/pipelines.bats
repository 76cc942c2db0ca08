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

@test "pipelines QUICK=1 cells: the best cells of a stream (default: NB101 by validation accuracy) trained by cell-train, with a table" {
    out="$BATS_TEST_TMPDIR/p"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out" BIN="$SVGE_BIN" "$out/cells.md"
    assert_status 0
    [ "$(stream-to-jsonl < "$out/cells/trained.zst" | wc -l)" -eq 3 ]
    # the three best NB101 cells by the table's validation accuracy, in that order
    want=$(graph-parse nb101 | stream-top --by val_acc_108ep -n 3 --skip-missing | stream-to-jsonl | grep -o '^{"v":1,"id":[0-9]*' | cut -d: -f3)
    [ "$(grep -o '^| [0-9]* |' "$out/cells.md" | tr -d '| \n')" = "$(echo $want | tr -d ' ')" ]
    [ "$(stream-to-jsonl < "$out/cells/trained.zst" | grep -c '"test_accuracy":[01][.0-9e-]*.*"parameters":[1-9]')" -eq 3 ]
    # another stream and ranking field: the 2 NB201 cells with the best CIFAR-100 validation accuracy
    graph-parse nb201 | stream-split --shard 0/50 > "$BATS_TEST_TMPDIR/c.zst"
    run make -s -C "$BATS_TEST_DIRNAME/../pipelines" QUICK=1 OUT="$out/b" BIN="$SVGE_BIN" "$out/b/cells/best.zst" \
        CELLS="$BATS_TEST_TMPDIR/c.zst" CELLS_BY=c100_val_200ep_mean CELLS_TOP=2
    assert_status 0
    [ "$(stream-to-jsonl < "$out/b/cells/best.zst" | grep -c '"space":"nb201"')" -eq 2 ]
}
