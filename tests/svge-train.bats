#!/usr/bin/env bats
# svge-train: graph records -> model file. Tiny configurations only (--ndim 8 --gdim 4, 8 real
# NAS-Bench-201 cells, a few epochs): the model file and the metrics, the loss going down, bitwise
# determinism, bitwise resume from a checkpoint, --max-minutes, usage errors, bad input (every bad
# stream, mixed spaces, an invalid graph, no records) and an unwritable output directory.

load helpers

TINY=(--ndim 8 --gdim 4 --batch 3 -q)

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR/nb201-8.zst"
    if [ ! -s "$D" ]; then
        graph-parse nb201 | stream-split --shard 0/2000 > "$D.tmp" && mv "$D.tmp" "$D"
    fi
}

# The epoch losses (column 2) of a metrics file, one per line.
losses() { tail -n +2 "$1" | cut -f2; }

@test "--help lists every option with its default" {
    run svge-train --help
    assert_status 0
    for opt in --output --epochs --batch --lr --beta --eps-scale --ndim --gdim --seed --max-minutes \
        --checkpoint --checkpoint-every --resume --metrics --alpha --plateau-factor --plateau-patience --layers \
        --quiet --help; do
        assert_output_has "$opt"
    done
    assert_output_has "(default 300)"
    assert_output_has "128 nb101, 32 nb201"
    assert_output_has "(default 0.0001)"
    assert_output_has "(default 0.005)"
    assert_output_has "(default 250)"
    assert_output_has "(default 56)"
    assert_output_has "(default 0.5: CE + BCE"
    assert_output_has "(default 0.1)"
    assert_output_has "(default 10)"
}

@test "--alpha: 0.5 is the default's bytes, another value trains another model" {
    svge-train "${TINY[@]}" --epochs 2 -o "$T/d" < "$D"
    svge-train "${TINY[@]}" --epochs 2 --alpha 0.5 -o "$T/half" < "$D"
    cmp "$T/d" "$T/half"
    svge-train "${TINY[@]}" --epochs 2 --alpha 0.9 -o "$T/a9" --metrics "$T/met9" < "$D"
    ! cmp -s "$T/d" "$T/a9"
    # the loss is 2[(1-alpha) CE + alpha BCE]: with the weights frozen (lr 0, no noise, one batch)
    # the recon of alpha 0 (2 CE) and of alpha 1 (2 BCE) average to the default's (CE + BCE)
    local frozen=(--ndim 8 --gdim 4 --batch 8 --eps-scale 0 --lr 0 --epochs 1 -q)
    svge-train "${frozen[@]}" --alpha 0 -o "$T/a0" --metrics "$T/met0" < "$D"
    svge-train "${frozen[@]}" --alpha 1 -o "$T/a1" --metrics "$T/met1" < "$D"
    svge-train "${frozen[@]}" -o "$T/d1" --metrics "$T/metd" < "$D"
    paste "$T/met0" "$T/met1" "$T/metd" | awk -F'\t' 'NR == 2 { ce = $3 / 2; bce = $10 / 2; d = ce + bce - $17
        print "CE", ce, "BCE", bce, "default", $17; if (!(ce > 0.1 && bce > 0.1 && d * d < 1e-8 * $17 * $17)) exit 1 }'

    # the setting is part of the model: a resume must not contradict it
    svge-train "${TINY[@]}" --epochs 1 --alpha 0.9 --checkpoint "$T/c" -o "$T/x" < "$D"
    run svge-train --resume "$T/c" --alpha 0.5 --epochs 2 -o "$T/y" < "$D"
    assert_status 2
    assert_output_has "--alpha 0.5 differs from the checkpoint's 0.9"
    run svge-train --resume "$T/c" --epochs 2 -o "$T/y" < "$D"
    assert_status 0
}

@test "--layers: 1 and 3 layers per direction train, encode and decode; the count is part of the model" {
    svge-train "${TINY[@]}" --epochs 2 -o "$T/l2" < "$D"
    svge-train "${TINY[@]}" --epochs 2 --layers 3 -o "$T/l3" --checkpoint "$T/c3" < "$D"
    svge-train "${TINY[@]}" --epochs 2 --layers 1 -o "$T/l1" < "$D"
    # 2 more (or fewer) layers in each of 4 streams: bigger (smaller) files
    [ "$(stat -c %s "$T/l3")" -gt "$(stat -c %s "$T/l2")" ]
    [ "$(stat -c %s "$T/l1")" -lt "$(stat -c %s "$T/l2")" ]
    local n
    for n in 1 2 3; do
        svge-encode -m "$T/l$n" < "$D" > "$T/z$n"
        run sh -c "svge-decode -m '$T/l$n' < '$T/z$n' | stream-to-jsonl | wc -l"
        assert_status 0
        [ "$output" -eq 8 ]
    done
    ! cmp -s "$T/z2" "$T/z3"
    # a resume keeps the checkpoint's count and refuses another
    run svge-train --resume "$T/c3" --layers 2 --epochs 3 -o "$T/x" < "$D"
    assert_status 2
    assert_output_has "--layers 2 differs from the checkpoint's 3"
    svge-train --resume "$T/c3" --epochs 3 -q -o "$T/x" < "$D"
    svge-train "${TINY[@]}" --epochs 3 --layers 3 -o "$T/l3x" < "$D"
    cmp "$T/x" "$T/l3x"
}

@test "--plateau-factor and --plateau-patience drive the learning-rate schedule" {
    # a learning rate so small that the loss cannot improve by the 1e-4 threshold: with patience 0
    # every epoch after the first is a bad one and halves the rate (PyTorch ignores changes of the
    # rate below its eps 1e-8, so the rate is not tiny)
    # (one batch per epoch and no noise: every epoch's loss is the same)
    local flat=(--ndim 8 --gdim 4 --batch 8 --eps-scale 0 -q)
    svge-train "${flat[@]}" --epochs 4 --lr 1e-6 --plateau-factor 0.5 --plateau-patience 0 \
        --metrics "$T/met" -o "$T/m" < "$D"
    [ "$(tail -n +2 "$T/met" | cut -f5 | tr '\n' ' ')" = "1e-06 1e-06 5e-07 2.5e-07 " ]
    # the reference's patience 10: no change in 4 epochs
    svge-train "${flat[@]}" --epochs 4 --lr 1e-6 --metrics "$T/met10" -o "$T/m10" < "$D"
    [ "$(tail -n +2 "$T/met10" | cut -f5 | sort -u)" = "1e-06" ]
}

@test "trains: a model file, metrics with a header and a decreasing loss, with -v one line per epoch on stderr" {
    # one full batch per epoch, so that the loss goes down without minibatch noise
    run svge-train -v --ndim 8 --gdim 4 --batch 8 --epochs 3 --lr 1e-3 -o "$T/m" --metrics "$T/met" < "$D"
    assert_status 0
    assert_output_has "svge-train: nb201: 8 graphs, 1 batches of 8"
    assert_output_has "epoch 3/3 loss "
    assert_output_has " graphs/s "
    [ -s "$T/m" ]
    [ "$(head -c 7 "$T/m")" = SVGEMDL ]
    [ "$(head -1 "$T/met")" = "$(printf 'epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds')" ]
    [ "$(tail -n +2 "$T/met" | wc -l)" -eq 3 ]
    run losses "$T/met"
    echo "$output"
    awk 'NR > 1 && $1 >= prev { exit 1 } { prev = $1 }' <<< "$output"
    ! ls "$T" | grep -q tmp
}

@test "the last partial batch counts: 8 graphs in batches of 3 are 3 batches" {
    run svge-train --ndim 8 --gdim 4 --batch 3 --epochs 1 -o "$T/m" < "$D"
    assert_status 0
    assert_output_has "8 graphs, 3 batches of 3"
}

@test "stderr not a terminal: the first and last lines, no epoch lines (--metrics is the record); -v adds them" {
    run svge-train --ndim 8 --gdim 4 --batch 3 --epochs 2 -o "$T/m" < "$D"
    assert_status 0
    [ "${#lines[@]}" = 2 ]
    assert_output_has "svge-train: nb201: 8 graphs, 3 batches of 3"
    assert_output_has "svge-train: wrote $T/m (model "
    [[ "$output" != *"epoch 1/2"* ]]
    run svge-train -v --ndim 8 --gdim 4 --batch 3 --epochs 2 -o "$T/m" < "$D"
    assert_status 0
    assert_output_has "svge-train: epoch 1/2 loss "
    assert_output_has "svge-train: epoch 2/2 loss "
    # warnings stay: --max-minutes stopping early is said without -v, and with -q
    run svge-train -q --ndim 8 --gdim 4 --batch 3 --epochs 1000 --max-minutes 0.00001 -o "$T/m" < "$D"
    assert_status 0
    assert_output_has "stopped after epoch 1 of 1000: --max-minutes"
}

@test "deterministic: the same input and seed give the same model bytes; another seed does not" {
    svge-train "${TINY[@]}" --epochs 3 -o "$T/a" < "$D"
    svge-train "${TINY[@]}" --epochs 3 -o "$T/b" < "$D"
    cmp "$T/a" "$T/b"
    svge-train "${TINY[@]}" --epochs 3 --seed 2 -o "$T/c" < "$D"
    ! cmp -s "$T/a" "$T/c"
}

@test "--threads 1, 2, 3 and the default: the same model, checkpoint and metrics, bytes (--test, --surrogate too)" {
    # the real dims' layout with small sizes: the tasks (encoder streams and readouts, decoder
    # directions, Adam halves) are the same at every size
    graph-parse nb201 | stream-split --shard 0/200 > "$T/train.zst"   # 79 cells
    graph-parse nb201 | stream-split --shard 1/500 > "$T/test.zst"    # 32 cells
    local A=(--ndim 16 --gdim 6 --batch 7 --epochs 2 -q --test "$T/test.zst")
    for t in 1 2 3 default; do
        local th=(--threads "$t")
        [ "$t" = default ] && th=()
        svge-train "${A[@]}" "${th[@]}" -o "$T/m$t" --checkpoint "$T/c$t" --metrics "$T/met$t" < "$T/train.zst"
        cut -f1-5,8- "$T/met$t" > "$T/cols$t"   # all but graphs_per_s and seconds
    done
    for t in 2 3 default; do
        cmp "$T/m1" "$T/m$t"
        cmp "$T/c1" "$T/c$t"
        cmp "$T/cols1" "$T/cols$t"
    done
    grep -q test_recon "$T/cols1"
    # resumed on another thread count: bitwise the uninterrupted run, and no note about it
    svge-train "${A[@]}" --epochs 1 --threads 1 --checkpoint "$T/half" -o "$T/h" < "$T/train.zst"
    run svge-train --resume "$T/half" --threads 2 --epochs 2 --test "$T/test.zst" -o "$T/r" < "$T/train.zst"
    assert_status 0
    [[ "$output" != *"not be bitwise"* ]]
    cmp "$T/m1" "$T/r"
    # surrogate fine-tuning (the head's step, vae_surrogate_step) as well
    graph-parse nb201 | stream-split --shard 0/300 > "$T/lab.zst"
    for t in 1 2; do
        svge-train --ndim 16 --gdim 8 --batch 7 --epochs 1 -q --surrogate c10valid_val_200ep_mean --sample 20 --threads "$t" \
            -o "$T/s$t" < "$T/lab.zst"
    done
    cmp "$T/s1" "$T/s2"
}

@test "resume: 2 epochs + checkpoint, then --resume to 4, is bitwise the 4-epoch model" {
    svge-train "${TINY[@]}" --epochs 4 -o "$T/straight" < "$D"
    svge-train "${TINY[@]}" --epochs 2 --checkpoint "$T/c" --checkpoint-every 2 -o "$T/half" < "$D"
    [ -s "$T/c" ]
    ! cmp -s "$T/half" "$T/straight"
    svge-train -q --resume "$T/c" --epochs 4 -o "$T/resumed" < "$D"
    cmp "$T/straight" "$T/resumed"
    # a checkpoint taken mid-run (every epoch) changes nothing either
    svge-train "${TINY[@]}" --epochs 4 --checkpoint "$T/c1" --checkpoint-every 1 -o "$T/with-ckpt" < "$D"
    cmp "$T/straight" "$T/with-ckpt"
}

@test "resume: contradicting model options or too few epochs are usage errors" {
    svge-train "${TINY[@]}" --epochs 2 --checkpoint "$T/c" -o "$T/m" < "$D"
    run svge-train --resume "$T/c" --ndim 10 --epochs 4 -o "$T/x" < "$D"
    assert_status 2
    assert_output_has "--ndim 10 differs from the checkpoint's 8"
    run svge-train --resume "$T/c" --epochs 1 -o "$T/x" < "$D"
    assert_status 2
    assert_output_has "already done 2 epochs"
    [ ! -e "$T/x" ]
}

@test "--max-minutes stops after the first epoch past the limit and writes that model" {
    run svge-train --ndim 8 --gdim 4 --batch 3 --epochs 1000 --max-minutes 0.000001 -o "$T/m" --metrics "$T/met" < "$D"
    assert_status 0
    assert_output_has "stopped after epoch 1 of 1000: --max-minutes"
    [ -s "$T/m" ]
    [ "$(tail -n +2 "$T/met" | wc -l)" -eq 1 ]
    svge-train "${TINY[@]}" --epochs 1 -o "$T/one" < "$D"
    cmp "$T/m" "$T/one"
}

@test "usage errors exit 2" {
    run svge-train < "$D"
    assert_status 2
    assert_output_has "-o MODEL"
    assert_output_has "Try 'svge-train --help'."
    local bad
    for bad in "--epochs 0" "--epochs x" "--batch 0" "--batch -1" "--lr -1" "--lr nan" "--beta abc" \
        "--ndim 7" "--ndim 0" "--gdim 0" "--seed 4294967296" "--max-minutes -2" "--checkpoint-every 0" \
        "--alpha 1.5" "--alpha -0.1" "--plateau-factor 1" "--plateau-factor 0" "--plateau-patience -1" \
        "--alpha 0.7 --model dgmg" "--layers 0" "--layers 9" "--layers 3 --model dgmg" "--bogus" "-x"; do
        run svge-train -o "$T/m" $bad < "$D"
        [ "$status" -eq 2 ] || { echo "$bad: exit $status: $output" >&2; return 1; }
    done
    run svge-train -o "$T/m" --bogus < "$D"
    assert_output_has "unknown option '--bogus'"
    run svge-train -o "$T/m" a b
    assert_status 2
    [ ! -e "$T/m" ]
}

@test "bad streams are refused with the reader's message, and no model file is written" {
    assert_rejects_bad_streams svge-train -o "$T/m"
    [ ! -e "$T/m" ]
    [ "$(ls "$T")" = bad-streams ] || { ls "$T" >&2; return 1; }
}

@test "bad input: mixed spaces, an invalid graph (a cycle), no records" {
    { cat "$D"; graph-parse enas6 | stream-split --shard 0/100000; } > "$T/mixed"
    run svge-train -o "$T/m" < "$T/mixed"
    assert_status 1
    assert_output_has "svge-train: stdin: record 9: space enas6, but the training set so far is nb201"
    echo '{"v":1,"space":"nb201","ops":["input","avg_pool_3x3","nor_conv_1x1","skip_connect","nor_conv_1x1","skip_connect","skip_connect","output"],"edges":[[0,1],[0,2],[0,4],[1,3],[3,1],[1,5],[2,6],[3,6],[4,7],[5,7],[6,7]]}' |
        jsonl-to-stream > "$T/cyc"
    run svge-train -o "$T/m" < "$T/cyc"
    assert_status 1
    assert_output_has "svge-train: stdin: record 1: invalid nb201 graph"
    printf '' | jsonl-to-stream > "$T/none"
    run svge-train -o "$T/m" "$T/none"
    assert_status 1
    assert_output_has "no graph records"
    [ ! -e "$T/m" ]
}

@test "an unwritable output directory is an I/O error (exit 3), found before training" {
    run svge-train "${TINY[@]}" -o "$T/no/such/dir/m" < "$D"
    assert_status 3
    assert_output_has "svge-train: $T/no/such/dir/m: cannot write in directory"
    run svge-train "${TINY[@]}" -o "$T/m" --checkpoint "$T/nodir/c" < "$D"
    assert_status 3
    run svge-train "${TINY[@]}" -o "$T/m" --metrics "$T/nodir/met" < "$D"
    assert_status 3
    [ ! -e "$T/m" ]
}
