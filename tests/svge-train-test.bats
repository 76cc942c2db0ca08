#!/usr/bin/env bats
# svge-train --test FILE: after each epoch the model in eval mode (z = mu) on a held-out graph
# stream, its mean recon and KL (and the surrogate's MSE) in the --metrics TSV (test_recon,
# test_kl, test_mse) and in the -v epoch line. Training is unchanged (the same model bytes); the
# test columns are computed as the training columns are (same numbers when training does not move
# and has no noise); --resume with --test onto a log without the test columns keeps one TSV.
# Tiny sizes: 200 NB201 training graphs, 50 test graphs, --ndim 8 --gdim 4, 2 epochs.

load helpers

TINY=(--ndim 8 --gdim 4 -q)

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    graph-parse nb201 | stream-split --count 250 --seed 1 | stream-split --count 200 --seed 1 --rest "$d/test.zst" > "$d/train.zst"
}

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR"
}

# The number of tab-separated fields of every line of a TSV, sorted unique (one number: consistent).
fields() { awk -F'\t' '{ print NF }' "$1" | sort -u | tr '\n' ' '; }

@test "--help documents --test, its columns and its cost" {
    run svge-train --help
    assert_status 0
    assert_output_has "--test FILE"
    assert_output_has "test_recon, test_kl (test_mse) with --test"
    assert_output_has "eval mode (z = mu, no noise)"
    assert_output_has "% of an epoch"
    assert_output_has "with -v"
}

@test "--test: test_recon and test_kl columns, the -v epoch line, and the same model bytes as without" {
    svge-train "${TINY[@]}" --epochs 2 -o "$T/a" --metrics "$T/a.tsv" "$D/train.zst"
    run svge-train "${TINY[@]}" -v --epochs 2 -o "$T/b" --metrics "$T/b.tsv" --test "$D/test.zst" "$D/train.zst"
    assert_status 0
    assert_output_has "svge-train: $D/test.zst: 50 records read"
    [[ "$output" =~ epoch\ 2/2\ loss\ [0-9.]+\ recon\ [0-9.]+\ kl\ [0-9.e+-]+\ test\ recon\ [0-9.]+\ kl\ [0-9.e+-]+\ \([0-9.]+\ s\)\ lr ]]
    cmp "$T/a" "$T/b"
    [ "$(head -1 "$T/b.tsv")" = "$(printf 'epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\ttest_recon\ttest_kl')" ]
    [ "$(fields "$T/b.tsv")" = "9 " ]
    [ "$(wc -l < "$T/b.tsv")" = 3 ]
    # the training columns are the run's without --test
    [ "$(cut -f1-5 "$T/a.tsv")" = "$(cut -f1-5 "$T/b.tsv")" ]
    # finite, positive test values
    awk -F'\t' 'NR > 1 && !($8 > 0 && $9 > 0 && $8 < 1e6 && $9 < 1e9) { exit 1 }' "$T/b.tsv"
    # a test set larger than a batch, a training set smaller than one (8 graphs, batch 32): still the same bytes
    stream-split --count 8 --seed 3 < "$D/train.zst" > "$T/small.zst"
    svge-train "${TINY[@]}" --epochs 2 -o "$T/c" "$T/small.zst"
    svge-train "${TINY[@]}" --epochs 2 -o "$T/d" --test "$D/test.zst" "$T/small.zst"
    cmp "$T/c" "$T/d"
    # and the DGMG model
    svge-train "${TINY[@]}" --model dgmg --epochs 1 -o "$T/e" "$T/small.zst"
    svge-train "${TINY[@]}" --model dgmg --epochs 1 -o "$T/f" --metrics "$T/f.tsv" --test "$D/test.zst" "$T/small.zst"
    cmp "$T/e" "$T/f"
    [ "$(fields "$T/f.tsv")" = "9 " ]
}

@test "--test columns are the training columns' measure: no noise, no learning, the training set as the test set" {
    # --lr 0: the model does not move; --eps-scale 0: z = mu in training too; one batch of all 8
    stream-split --count 8 --seed 3 < "$D/train.zst" > "$T/small.zst"
    svge-train "${TINY[@]}" --epochs 2 --lr 0 --eps-scale 0 --batch 8 -o "$T/m" --metrics "$T/m.tsv" \
        --test "$T/small.zst" "$T/small.zst"
    cat "$T/m.tsv"
    # recon (3) = test_recon (8), kl (4) = test_kl (9), to float rounding (the batch's order differs)
    awk -F'\t' 'function d(a, b) { return (a > b ? a - b : b - a) / (b > 0 ? b : 1) }
        NR > 1 && (d($3, $8) > 1e-5 || d($4, $9) > 1e-5) { exit 1 }' "$T/m.tsv"
    # batches of 3: the mean of the 3 batches' means (kl: of their sums), as training averages
    svge-train "${TINY[@]}" --epochs 1 --lr 0 --eps-scale 0 --batch 3 -o "$T/m3" --metrics "$T/m3.tsv" \
        --test "$T/small.zst" "$T/small.zst"
    cat "$T/m3.tsv"
    # kl: a sum over each batch, so batches of 3, 3, 2 give the KL of all 8 graphs / 3 batches, a
    # third of the full batch's; recon: a batch mean, so about the same
    k8=$(awk -F'\t' 'NR == 2 { print $9 }' "$T/m.tsv")
    k3=$(awk -F'\t' 'NR == 2 { print $9 }' "$T/m3.tsv")
    awk -v a="$k3" -v b="$k8" 'BEGIN { r = a / (b / 3); exit !(r > 0.99999 && r < 1.00001) }'
}

@test "--test is checked as the training input is: another space, an invalid graph, no records, a bad stream" {
    graph-parse enas6 | stream-split --count 3 --seed 1 > "$T/enas.zst"
    run svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --test "$T/enas.zst" "$D/train.zst"
    assert_status 1
    assert_output_has "svge-train: $T/enas.zst: record 1: space enas6, but the training set so far is nb201 (one space per model)"
    echo '{"v":1,"space":"nb201","ops":["input","avg_pool_3x3","nor_conv_1x1","skip_connect","nor_conv_1x1","skip_connect","skip_connect","output"],"edges":[[0,1],[0,2],[0,4],[1,3],[3,1],[1,5],[2,6],[3,6],[4,7],[5,7],[6,7]]}' |
        jsonl-to-stream > "$T/cyc"
    run svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --test "$T/cyc" "$D/train.zst"
    assert_status 1
    assert_output_has "svge-train: $T/cyc: record 1: invalid nb201 graph"
    printf '' | jsonl-to-stream > "$T/none"
    run svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --test "$T/none" "$D/train.zst"
    assert_status 1
    assert_output_has "svge-train: --test $T/none: no graph records: nothing to test on"
    printf 'junk' > "$T/junk"
    run svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --test "$T/junk" "$D/train.zst"
    assert_status 1
    assert_output_has "svge-train: $T/junk: "
    run svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --test "$T/missing" "$D/train.zst"
    assert_status 3
    run svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --test - < "$D/train.zst"
    assert_status 2
    assert_output_has "svge-train: --test -: stdin is the training input; give the test set as a file"
    run svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --test ""
    assert_status 2
    [ ! -e "$T/m" ]
    # stdin as the test set when the training set is a file
    svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --metrics "$T/m.tsv" --test - "$D/train.zst" < "$D/test.zst"
    [ "$(fields "$T/m.tsv")" = "9 " ]
}

@test "--resume with --test onto a log without test columns: the new header, earlier lines' test fields empty" {
    svge-train "${TINY[@]}" --epochs 2 -o "$T/m" --metrics "$T/log.tsv" --checkpoint "$T/ck" "$D/train.zst"
    [ "$(fields "$T/log.tsv")" = "7 " ]
    svge-train -q --epochs 4 --resume "$T/ck" --checkpoint "$T/ck" -o "$T/m" --metrics "$T/log.tsv" \
        --test "$D/test.zst" "$D/train.zst"
    cat "$T/log.tsv"
    [ "$(head -1 "$T/log.tsv")" = "$(printf 'epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\ttest_recon\ttest_kl')" ]
    [ "$(fields "$T/log.tsv")" = "9 " ]
    [ "$(cut -f1 "$T/log.tsv" | tr '\n' ' ')" = "epoch 1 2 3 4 " ]
    [ "$(awk -F'\t' 'NR > 1 { print ($8 == "" ? "-" : "t") ($9 == "" ? "-" : "t") }' "$T/log.tsv" | tr '\n' ' ')" = "-- -- tt tt " ]
    # the same model as an uninterrupted run with --test, whose test columns are the resumed ones
    svge-train "${TINY[@]}" --epochs 4 -o "$T/whole" --metrics "$T/whole.tsv" --test "$D/test.zst" "$D/train.zst"
    cmp "$T/m" "$T/whole"
    [ "$(tail -n 2 "$T/whole.tsv" | cut -f8,9)" = "$(tail -n 2 "$T/log.tsv" | cut -f8,9)" ]
    # resumed again without --test: the test columns stay, the new line's empty
    svge-train -q --epochs 5 --resume "$T/ck" -o "$T/m" --metrics "$T/log.tsv" "$D/train.zst"
    [ "$(fields "$T/log.tsv")" = "9 " ]
    [ "$(tail -1 "$T/log.tsv" | cut -f1,8,9)" = "$(printf '5\t\t')" ]
}

@test "--test with --surrogate: test_mse too" {
    Y=c10valid_val_200ep_mean
    svge-train -q --surrogate $Y --ndim 8 --gdim 8 --epochs 2 -o "$T/a" "$D/train.zst"
    svge-train -q --surrogate $Y --ndim 8 --gdim 8 --epochs 2 -o "$T/b" --metrics "$T/b.tsv" --test "$D/test.zst" "$D/train.zst"
    cmp "$T/a" "$T/b"
    [ "$(head -1 "$T/b.tsv")" = "$(printf 'epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\tmse\ttest_recon\ttest_kl\ttest_mse')" ]
    [ "$(fields "$T/b.tsv")" = "11 " ]
    awk -F'\t' 'NR > 1 && !($11 > 0) { exit 1 }' "$T/b.tsv"
    # the test records need the field
    graph-parse nb201 | stream-split --count 5 --seed 9 | stream-to-jsonl | jq -c 'del(.'$Y')' | jsonl-to-stream > "$T/nofield"
    run svge-train -q --surrogate $Y --ndim 8 --gdim 8 --epochs 1 -o "$T/c" --test "$T/nofield" "$D/train.zst"
    assert_status 1
    assert_output_has "svge-train: $T/nofield: record 1: no \"$Y\""
}
