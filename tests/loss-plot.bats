#!/usr/bin/env bats
# pipelines/loss-plot.sh: the loss curves of an svge-train --metrics TSV (recon and KL per epoch,
# train and test; the surrogate's MSE) as a PNG: a tiny training's TSV with test columns, one
# resumed with --test (test fields empty in its first lines), a surrogate's with mse, and the shipped
# NB201 log (no test columns). Skipped without gnuplot; the refusals are checked before that.

load helpers

setup() {
    setup_scratch
    PLOT="$BATS_TEST_DIRNAME/../pipelines/loss-plot.sh"
}

# is_png FILE: the PNG file magic
is_png() { [ "$(head -c 4 "$1")" = $'\x89PNG' ] || { echo "$1: not a PNG: $(head -c 16 "$1" | od -c | head -2)"; false; }; }

@test "loss-plot.sh: usage, a TSV of another kind and one without epochs are refused" {
    run "$PLOT"
    assert_status 2
    assert_output_has "loss-plot.sh: usage: loss-plot.sh METRICS.tsv OUT.png [TITLE]"
    run "$PLOT" --help
    assert_status 0
    assert_output_has "reconstruction loss (log scale) and KL"
    printf 'a\tb\n1\t2\n' > "$T/other.tsv"
    run "$PLOT" "$T/other.tsv" "$T/x.png"
    assert_status 1
    assert_output_has "loss-plot.sh: $T/other.tsv: not an svge-train --metrics TSV (header)"
    printf 'epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\n' > "$T/empty.tsv"
    run "$PLOT" "$T/empty.tsv" "$T/x.png"
    assert_status 1
    assert_output_has "no epochs"
    run "$PLOT" "$T/missing.tsv" "$T/x.png"
    assert_status 3
    [ ! -e "$T/x.png" ]
}

@test "loss-plot.sh: PNGs of a tiny training with --test, of one resumed with --test, of a surrogate's, of the shipped NB201 log" {
    command -v gnuplot > /dev/null || skip "gnuplot is not installed (apt-get install gnuplot-nox): no picture"
    graph-parse nb201 | stream-split --count 250 --seed 1 | stream-split --count 200 --seed 1 --rest "$T/test.zst" > "$T/train.zst"
    # with test columns; --plateau-patience 0 and a high lr so that an lr reduction is likely marked
    svge-train -q --ndim 8 --gdim 4 --epochs 4 --lr 0.05 --plateau-patience 0 -o "$T/m" --metrics "$T/t.tsv" \
        --test "$T/test.zst" "$T/train.zst"
    head -1 "$T/t.tsv" | grep -q $'\ttest_recon\ttest_kl$'
    run "$PLOT" "$T/t.tsv" "$T/t.png" "tiny: train and test"
    assert_status 0
    assert_output_has "loss-plot.sh: wrote $T/t.png"
    is_png "$T/t.png"
    # resumed with --test: the first epochs have empty test fields
    svge-train -q --ndim 8 --gdim 4 --epochs 2 -o "$T/r" --metrics "$T/r.tsv" --checkpoint "$T/ck" "$T/train.zst"
    svge-train -q --epochs 4 --resume "$T/ck" -o "$T/r" --metrics "$T/r.tsv" --test "$T/test.zst" "$T/train.zst"
    [ "$(sed -n 2p "$T/r.tsv" | cut -f8)" = "" ]
    "$PLOT" "$T/r.tsv" "$T/r.png"
    is_png "$T/r.png"
    # a surrogate's: the mse and test_mse columns (a third panel)
    svge-train -q --surrogate c10valid_val_200ep_mean --ndim 8 --gdim 8 --epochs 2 -o "$T/s" --metrics "$T/s.tsv" \
        --test "$T/test.zst" "$T/train.zst"
    "$PLOT" "$T/s.tsv" "$T/s.png"
    is_png "$T/s.png"
    # the shipped model's log: no test columns
    ! head -1 "$SVGE_DATA/nb201/svge-train-log.tsv" | grep -q test_
    "$PLOT" "$SVGE_DATA/nb201/svge-train-log.tsv" "$T/nb201.png" "nb201"
    is_png "$T/nb201.png"
    # nothing left beside the pictures
    [ "$(ls "$T" | grep -c -v -e '\.png$' -e '\.tsv$' -e '\.zst$' -e '^[msr]$' -e '^ck$')" = 0 ]
}

@test "schedules-plot.sh: two runs' recon per epoch in one PNG (the shipped ENAS-6 log, with test, and NB201's); refusals" {
    S="$BATS_TEST_DIRNAME/../pipelines/schedules-plot.sh"
    run "$S"
    assert_status 2
    assert_output_has "usage: schedules-plot.sh OUT.png TITLE NAME=METRICS.tsv"
    run "$S" "$T/x.png" title "$SVGE_DATA/enas6/svge-train-log.tsv"
    assert_status 2
    assert_output_has "want NAME=METRICS.tsv"
    printf 'a\tb\n1\t2\n' > "$T/other.tsv"
    run "$S" "$T/x.png" title "a=$T/other.tsv"
    assert_status 1
    assert_output_has "not an svge-train --metrics TSV (header)"
    [ ! -e "$T/x.png" ]
    command -v gnuplot > /dev/null || skip "gnuplot is not installed (apt-get install gnuplot-nox): no picture"
    run "$S" "$T/s.png" "two runs" "enas6=$SVGE_DATA/enas6/svge-train-log.tsv" "nb201=$SVGE_DATA/nb201/svge-train-log.tsv"
    assert_status 0
    is_png "$T/s.png"
    [ "$(stat -c %s "$T/s.png")" -gt 5000 ]
}
