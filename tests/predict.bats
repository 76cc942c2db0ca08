#!/usr/bin/env bats
# predict: a GP fitted by gp-fit on 312 NB201 cells (latents of the shipped model
# data/nb201/svge.model, or adj-onehot features) predicts the CIFAR-10 validation accuracy of 1,531
# other cells. Measured when written: Spearman 0.542 on the latents, 0.774 on the features.

load helpers

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    graph-parse nb201 | svge-encode -m "$SVGE_DATA/nb201/svge.model" > "$d/all.zst"
    stream-split --ratio 0.02 --seed 3 --rest "$d/rest.zst" < "$d/all.zst" > "$d/train.zst"
    stream-split --ratio 0.1 --seed 4 < "$d/rest.zst" > "$d/test.zst"
    gp-fit -q --y c10valid_val_200ep_mean -o "$d/gp" < "$d/train.zst"
    graph-features --kind adj-onehot < "$d/train.zst" > "$d/ftrain.zst"
    graph-features --kind adj-onehot < "$d/test.zst" > "$d/ftest.zst"
    gp-fit -q -x features --y c10valid_val_200ep_mean -o "$d/gpf" < "$d/ftrain.zst"
}

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR"
    TEST="$D/test.zst"
    GP="$D/gp"
    Y=c10valid_val_200ep_mean
}

num() { grep -o "\"$1\":[^,}]*" | cut -d: -f2; }
# the records as JSON lines without the fields predict adds
strip() { stream-to-jsonl | sed -E 's/,"predicted(_std)?":[^,}]*//g'; }

@test "NB201: predictions on 1,531 held-out cells rank them (Spearman > 0.4); std > 0 and finite; every other field unchanged" {
    predict -m "$GP" < "$TEST" > "$T/p.zst"
    [ "$(stream-to-jsonl < "$T/p.zst" | wc -l)" -eq 1531 ]
    pred-metrics -t $Y -p predicted < "$T/p.zst" | stream-to-jsonl > "$T/m.json"
    rho=$(num spearman < "$T/m.json")
    echo "spearman $rho" >&3
    awk -v r="$rho" 'BEGIN { exit !(r > 0.4) }'
    # every record ends with predicted and predicted_std, the std a positive number
    [ "$(stream-to-jsonl < "$T/p.zst" | grep -Ec ',"predicted":[-0-9.e]+,"predicted_std":[0-9.e-]+\}$')" -eq 1531 ]
    stream-to-jsonl < "$T/p.zst" | num predicted_std | awk '!($1 > 0 && $1 < 1e300) { bad++ } END { exit bad > 0 }'
    stream-to-jsonl < "$TEST" > "$T/in.jsonl"
    strip < "$T/p.zst" > "$T/stripped.jsonl"
    cmp "$T/in.jsonl" "$T/stripped.jsonl"
}

@test "deterministic: the same bytes twice; --batch changes at most BLAS rounding" {
    predict -m "$GP" < "$TEST" > "$T/a.zst"
    predict -m "$GP" < "$TEST" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    predict -m "$GP" --batch 7 < "$TEST" > "$T/c.zst"
    paste <(stream-to-jsonl < "$T/a.zst" | num predicted) <(stream-to-jsonl < "$T/c.zst" | num predicted) \
        | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-12) bad++ } END { exit bad > 0 || NR != 1531 }'
}

@test "threads: --threads 1, 2, 3 and the default give the same bytes (GP, surrogate head; --batch 7 and 256); a bad record mid-stream after several rounds" {
    # 1,531 records at --batch 7: many rounds of 4 sub-batches per thread, a partial last one
    for b in 7 256; do
        predict -m "$GP" --threads 1 --batch $b < "$TEST" > "$T/t1.zst"
        for t in 2 3 0; do
            predict -m "$GP" --threads $t --batch $b < "$TEST" > "$T/t$t.zst"
            cmp "$T/t1.zst" "$T/t$t.zst"
        done
    done
    predict -m "$GP" < "$TEST" > "$T/default.zst"
    cmp "$T/t1.zst" "$T/default.zst"
    # the surrogate head (tests/embedded-model.bats fine-tunes one; here a tiny fine-tuning of 2 epochs)
    graph-parse nb201 | stream-split --count 40 --seed 1 > "$T/cells.zst"
    svge-train -q --init "$SVGE_DATA/nb201/svge.model" --surrogate $Y --sample 40 --epochs 1 -o "$T/surr" < "$T/cells.zst"
    svge-encode -m "$T/surr" < "$T/cells.zst" > "$T/z.zst"
    predict -m "$T/surr" --threads 1 --batch 3 < "$T/z.zst" > "$T/s1.zst"
    predict -m "$T/surr" --threads 3 --batch 3 < "$T/z.zst" > "$T/s3.zst"
    cmp "$T/s1.zst" "$T/s3.zst"
    [ "$(stream-to-jsonl < "$T/s1.zst" | num predicted | wc -l)" -eq 40 ]
    # record 1,000 of another model, after rounds of 2 threads x 4 x 7 records: the 999 before are written
    stream-to-jsonl < "$TEST" | awk 'NR == 1000 { sub(/"model":"[0-9a-f]+"/, "\"model\":\"0123456789abcdef\"") } { print }' \
        | jsonl-to-stream > "$T/bad.zst"
    run bash -c 'predict -m "$1" --threads 2 --batch 7 < "$2" > "$3"' _ "$GP" "$T/bad.zst" "$T/part.zst"
    assert_status 1
    assert_output_has "predict: stdin: record 1000: latent from model 0123456789abcdef"
    [ "$(stream-to-jsonl < "$T/part.zst" | wc -l)" -eq 999 ]
    # the 142 whole sub-batches of 7 as in the run without the bad record (the 5 records after them
    # are predicted as a batch of 5, which may round differently: as one thread always did)
    predict -m "$GP" --threads 1 --batch 7 < "$TEST" | stream-to-jsonl | head -994 > "$T/first.jsonl"
    stream-to-jsonl < "$T/part.zst" | head -994 | cmp - "$T/first.jsonl"
}

@test "--no-std writes only predicted, the same numbers" {
    predict -m "$GP" < "$TEST" | stream-to-jsonl | num predicted > "$T/a"
    predict -m "$GP" --no-std < "$TEST" | stream-to-jsonl > "$T/b.jsonl"
    ! grep -q predicted_std "$T/b.jsonl"
    num predicted < "$T/b.jsonl" | cmp - "$T/a"
}

@test "adj-onehot features: the GP on features predicts too (Spearman > 0.3)" {
    predict -m "$D/gpf" < "$D/ftest.zst" | pred-metrics -t $Y -p predicted | stream-to-jsonl > "$T/m.json"
    rho=$(num spearman < "$T/m.json")
    echo "spearman (adj-onehot) $rho" >&3
    awk -v r="$rho" 'BEGIN { exit !(r > 0.3) }'
}

@test "--field renames; existing fields of those names are replaced" {
    stream-to-jsonl < "$TEST" | head -3 | sed 's/}$/,"acc_hat":1.5,"acc_hat_std":"x","predicted":7}/' | jsonl-to-stream > "$T/in.zst"
    predict -m "$GP" --field acc_hat < "$T/in.zst" | stream-to-jsonl > "$T/o.jsonl"
    [ "$(grep -o '"acc_hat"' "$T/o.jsonl" | wc -l)" -eq 3 ]
    [ "$(grep -o '"acc_hat_std":[0-9]' "$T/o.jsonl" | wc -l)" -eq 3 ]
    ! grep -q '"acc_hat":1.5' "$T/o.jsonl"
    grep -q '"predicted":7' "$T/o.jsonl"
}

@test "latents of another model are refused, naming the record; the records before are written" {
    stream-to-jsonl < "$TEST" | head -5 | sed '3s/"model":"[0-9a-f]*"/"model":"00000000000000bb"/' | jsonl-to-stream > "$T/in.zst"
    run bash -c 'predict -m "$1" < "$2" > "$3"' _ "$GP" "$T/in.zst" "$T/o.zst"
    assert_status 1
    assert_output_has "predict: stdin: record 3: latent from model 00000000000000bb, the predictor was fitted on latents of model "
    [ "$(stream-to-jsonl < "$T/o.zst" | wc -l)" -eq 2 ]
    # no model field: refused unless --any-model
    stream-to-jsonl < "$TEST" | head -2 | sed 's/,"model":"[0-9a-f]*"//' | jsonl-to-stream > "$T/nomodel.zst"
    run_quiet predict -m "$GP" < "$T/nomodel.zst"
    assert_status 1
    assert_output_has 'record 1: no "model" field'
    run bash -c 'predict -m "$1" --any-model < "$2" | stream-to-jsonl' _ "$GP" "$T/nomodel.zst"
    assert_status 0
    [ "$(printf '%s\n' "$output" | grep -c '"predicted_std"')" -eq 2 ]
}

@test "features of another kind, a vector of another length, no input vector: refused, naming the record" {
    graph-features --kind path < "$TEST" > "$T/path.zst"
    run_quiet predict -m "$D/gpf" < "$T/path.zst"
    assert_status 1
    assert_output_has 'predict: stdin: record 1: "features_kind" is "path", the predictor was fitted on "features" of kind "adj-onehot"'
    stream-to-jsonl < "$TEST" | head -2 | sed '2s/"z":\[/"z":[0.5,/' | jsonl-to-stream > "$T/long.zst"
    run_quiet predict -m "$GP" < "$T/long.zst"
    assert_status 1
    assert_output_has 'record 2: field "z" has 57 numbers, want 56'
    # the latent GP on graph records: no "model" (or, with --any-model, no "z")
    graph-parse nb201 | stream-split --shard 0/15625 | graph-features --kind adj-onehot > "$T/g.zst"
    run_quiet predict -m "$GP" < "$T/g.zst"
    assert_status 1
    assert_output_has 'record 1: no "model" field'
    run_quiet predict -m "$GP" --any-model < "$T/g.zst"
    assert_status 1
    assert_output_has 'record 1: no field "z"'
}

@test "model files: missing, truncated, corrupt, and an svge model (no predictor)" {
    run_quiet predict -m "$T/nothing" < "$TEST"
    assert_status 3
    assert_output_has "predict: $T/nothing: cannot open"
    head -c 1000 "$GP" > "$T/cut"
    run_quiet predict -m "$T/cut" < "$TEST"
    assert_status 1
    assert_output_has "predict: $T/cut:"
    fixed_random_bytes 2000 5 > "$T/random"
    run_quiet predict -m "$T/random" < "$TEST"
    assert_status 1
    assert_output_has "predict: $T/random:"
    # one byte flipped in the middle: the checksum
    cp "$GP" "$T/flip"
    printf '\x55' | dd of="$T/flip" bs=1 seek=5000 conv=notrunc 2>/dev/null
    run_quiet predict -m "$T/flip" < "$TEST"
    assert_status 1
    assert_output_has "checksum mismatch"
    run_quiet predict -m "$SVGE_DATA/nb201/svge.model" < "$TEST"
    assert_status 1
    assert_output_has "predict: $SVGE_DATA/nb201/svge.model: a \"svge\" model without a surrogate head holds no predictor (fine-tune one with svge-train --init MODEL --surrogate FIELD)"
}

@test "an empty stream gives an empty stream" {
    printf '' | zstd -q -c > "$T/empty.zst"
    predict -m "$GP" < "$T/empty.zst" > "$T/o.zst"
    [ -s "$T/o.zst" ]
    [ "$(stream-to-jsonl < "$T/o.zst" | wc -l)" -eq 0 ]
}

@test "bad streams are rejected with the reader's message" {
    GOOD_RECORD_JSON=$(stream-to-jsonl < "$TEST" | head -1) assert_rejects_bad_streams predict -m "$GP"
}

@test "--help lists every option with its default" {
    run predict --help
    assert_status 0
    for s in "Usage: predict -m MODEL" "--model MODEL" "--field NAME" '(default "predicted")' "--any-model" "--no-std" "--batch N" \
        "(default 256)" "--threads N" "noise EXCLUDED" "--help" "Exit status:"; do
        assert_output_has "$s"
    done
}

@test "usage errors exit 2 with a hint" {
    for args in "" "-m" "-m $GP --batch 0" "-m $GP --batch x" "-m $GP --batch 65537" "-m $GP --frobnicate" "-m $GP a b" \
        "-m $GP --field ''"; do
        eval "run predict $args" < "$TEST"
        assert_status 2
        assert_output_has "Try 'predict --help'."
    done
    run predict < "$TEST"
    assert_output_has "no model given"
    # the wording of lib/opts.h
    run predict -m "$GP" --batch 65537 < "$TEST"
    assert_status 2; assert_output_has "predict: --batch: '65537' is not an integer in [1, 65536]"
    run predict -m "$GP" a b < "$TEST"
    assert_status 2; assert_output_has "predict: unexpected argument 'b' (one input FILE at most)"
}
