#!/usr/bin/env bats
# gp-fit: a Gaussian process (lib/gp.h) from records' input vectors to a target, written as a model
# file of config kind "gp". Real data: NB201 cells encoded by the shipped model data/nb201/svge.model
# (all 15,625 in about a second), a seeded 2 % of them (312 cells) as the training set; and the same
# cells' adj-onehot features. Hand-written records for the refusals.

load helpers

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    graph-parse nb201 | stream-split --ratio 0.02 --seed 3 > "$d/g.zst"
    svge-encode -m "$SVGE_DATA/nb201/svge.model" < "$d/g.zst" > "$d/z.zst"
    graph-features --kind adj-onehot < "$d/g.zst" > "$d/f.zst"
}

setup() {
    setup_scratch
    Z="$BATS_FILE_TMPDIR/z.zst"
    F="$BATS_FILE_TMPDIR/f.zst"
    Y=c10valid_val_200ep_mean
}

mk() { printf '%s\n' "$@" | jsonl-to-stream > "$T/in.zst"; }
R1='{"v":1,"z":[0.1,0.2],"model":"00000000000000aa","acc":0.5}'
R2='{"v":1,"z":[0.3,0.1],"model":"00000000000000aa","acc":0.7}'
R3='{"v":1,"z":[0.9,0.4],"model":"00000000000000aa","acc":0.6}'

@test "fits an exact GP on 312 NB201 latents and reports it; the model file is of kind gp and records the inputs' model" {
    run gp-fit --y $Y -o "$T/gp" < "$Z"
    assert_status 0
    assert_output_has "gp-fit: 312 points"
    assert_output_has '56 dimensions of "z" (model '
    assert_output_has "exact GP"
    assert_output_has "jitter: none (0)"
    assert_output_has "length-scales (ARD, 56): min "
    assert_output_has "noise std "
    assert_output_has " s"
    [ -s "$T/gp" ]
    id=$(stream-to-jsonl < "$Z" | head -1 | grep -o '"model":"[0-9a-f]*"' | cut -d'"' -f4)
    for s in x_field y_field provenance_field provenance "$Y" "$id" gp.basis gp.L1 gp.alpha; do
        grep -aq -- "$s" "$T/gp"
    done
    # deterministic: the same bytes twice; -q says nothing
    run gp-fit -q --y $Y -o "$T/gp2" < "$Z"
    assert_status 0
    [ -z "$output" ]
    cmp "$T/gp" "$T/gp2"
}

@test "adj-onehot features: the provenance is features_kind; a sparse GP and a shared length-scale on request" {
    run gp-fit -q -x features --y $Y -o "$T/gpf" < "$F"
    assert_status 0
    grep -aq features_kind "$T/gpf"
    grep -aq adj-onehot "$T/gpf"
    run gp-fit -x features --y $Y --exact-max 200 --inducing 50 --shared-lengthscale --iters 10 -o "$T/gps" < "$F"
    assert_status 0
    assert_output_has "sparse GP (FITC), 50 inducing points"
    assert_output_has "length-scale (shared): "
    assert_output_has '84 dimensions of "features" (features_kind adj-onehot)'
}

@test "--sparse fits FITC below --exact-max; with every point inducing it predicts what the exact GP does" {
    run gp-fit --sparse --inducing 312 --y $Y -o "$T/sp" < "$Z"
    assert_status 0
    assert_output_has "sparse GP (FITC), 312 inducing points"
    gp-fit -q --y $Y -o "$T/ex" < "$Z"
    ! cmp -s "$T/sp" "$T/ex"   # a different model file (kind fitc, an L2 factor)
    grep -aq fitc "$T/sp"
    # M = N: FITC is the exact GP; mean and std agree to rounding on all 312 points
    predict -m "$T/ex" --field ex < "$Z" | predict -m "$T/sp" | stream-to-jsonl \
        | jq -s '[(map((.predicted - .ex) | fabs) | max), (map((.predicted_std - .ex_std) | fabs) | max),
                  (map(.ex_std) | max)] | @tsv' -r > "$T/d"
    read -r dmean dstd smax < "$T/d"
    awk -v a="$dmean" -v b="$dstd" -v s="$smax" 'BEGIN { exit !(a < 1e-9 && b < 1e-9 && s > 1e-5) }'
    # fewer inducing points: another model, still a GP with a std
    gp-fit -q --sparse --inducing 50 --y $Y -o "$T/sp50" < "$Z"
    predict -m "$T/sp50" < "$Z" | stream-to-jsonl | grep -c '"predicted_std"' > "$T/n"
    [ "$(cat "$T/n")" -eq 312 ]
    # --sparse and --exact-max exclude each other
    run gp-fit --sparse --exact-max 100 --y $Y -o "$T/x" < "$Z"
    assert_status 2
    assert_output_has "gp-fit: --sparse and --exact-max exclude each other"
}

@test "a record without the target is refused, naming it; --skip-missing passes over it and counts it" {
    mk "$R1" '{"v":1,"z":[0.5,0.5],"model":"00000000000000aa"}' "$R2" "$R3"
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has 'gp-fit: stdin: record 2: no field "acc"'
    [ ! -e "$T/m" ]
    run gp-fit --skip-missing --y acc -o "$T/m" < "$T/in.zst"
    assert_status 0
    assert_output_has "3 points (1 skipped"
}

@test "bad inputs: fewer than 2 points, a constant target, a non-numeric target, differing lengths, no vector" {
    mk "$R1"
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has "gp-fit: stdin: 1 record with \"acc\": a GP needs at least 2 points"
    mk '{"v":1,"z":[0.1,0.2],"model":"00000000000000aa","acc":0.5}' '{"v":1,"z":[0.3,0.2],"model":"00000000000000aa","acc":0.5}'
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has "constant"
    mk "$R1" '{"v":1,"z":[0.1,0.2],"model":"00000000000000aa","acc":"high"}'
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 2: field "acc" is a string, not a number'
    mk "$R1" "$R2" '{"v":1,"z":[0.3,0.1,0.5],"model":"00000000000000aa","acc":0.7}'
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 3: field "z" has 3 numbers, the first record'"'"'s had 2'
    mk "$R1" '{"v":1,"model":"00000000000000aa","acc":0.7}'
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 2: no field "z"'
    mk "$R1" '{"v":1,"z":[0.3,"a"],"model":"00000000000000aa","acc":0.7}'
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 2: field "z": element 1 is a string, not a number'
    [ ! -e "$T/m" ]
}

@test "inputs of differing provenance are refused, naming the first record that differs" {
    mk "$R1" "$R2" '{"v":1,"z":[0.3,0.1],"model":"00000000000000bb","acc":0.7}' "$R3"
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has 'gp-fit: stdin: record 3: "model" is "00000000000000bb", record 1'"'"'s was "00000000000000aa"'
    mk "$R1" '{"v":1,"z":[0.3,0.1],"acc":0.7}'
    run_quiet gp-fit --y acc -o "$T/m" < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 2: no field "model"'
    # features of two kinds
    { stream-to-jsonl < "$F" | head -3; stream-to-jsonl < "$F" | sed -n 4p | sed 's/"features_kind":"adj-onehot"/"features_kind":"path"/'; } \
        | jsonl-to-stream > "$T/mixed.zst"
    run_quiet gp-fit -x features --y $Y -o "$T/m" < "$T/mixed.zst"
    assert_status 1
    assert_output_has 'record 4: "features_kind" is "path", record 1'"'"'s was "adj-onehot"'
}

@test "bad streams are rejected with the reader's message" {
    GOOD_RECORD_JSON='{"v":1,"z":[0.1,0.2],"model":"00000000000000aa","c10valid_val_200ep_mean":0.5}' \
        assert_rejects_bad_streams gp-fit --y c10valid_val_200ep_mean -o "$BATS_TEST_TMPDIR/m"
}

@test "an output that cannot be written is an I/O error" {
    run_quiet gp-fit -q --y $Y -o "$T/no/such/dir/gp" < "$Z"
    assert_status 3
}

@test "--help lists every option with its default" {
    run gp-fit --help
    assert_status 0
    for s in "Usage: gp-fit --y FIELD -o MODEL" "--x FIELD" '(default "z")' "--y FIELD" "--output MODEL" "--skip-missing" \
        "--exact-max N" "(default 4000)" "--sparse" "--inducing M" "(default 1000)" "--seed S" "(default 1)" \
        "--shared-lengthscale" "--iters N" "(default 50)" "--quiet" "--threads N" "--help" "Exit status:"; do
        assert_output_has "$s"
    done
}

@test "usage errors exit 2 with a hint" {
    for args in "" "--y acc" "-o m" "--y acc -o m --exact-max 1" "--y acc -o m --inducing 0" "--y acc -o m --iters x" \
        "--y acc -o m --frobnicate" "--y acc -o m a b" "--y '' -o m"; do
        eval "run gp-fit $args" < "$Z"
        assert_status 2
        assert_output_has "Try 'gp-fit --help'."
    done
    # the wording of lib/opts.h
    run gp-fit --y acc -o m --exact-max 1 < "$Z"
    assert_status 2; assert_output_has "gp-fit: --exact-max: '1' is not an integer in [2, 20000]"
    run gp-fit --y acc -o m --seed 2147483648 < "$Z"
    assert_status 2; assert_output_has "gp-fit: --seed: '2147483648' is not an integer in [0, 2147483647]"
    run gp-fit --y acc -o m a b < "$Z"
    assert_status 2; assert_output_has "gp-fit: unexpected argument 'b' (one input FILE at most)"
}

@test "fewer points than dimensions (10 latents of 56): fits, and predict uses it (lib/gp once overran a buffer here)" {
    stream-to-jsonl < "$Z" | head -10 | jsonl-to-stream > "$T/ten.zst"
    run gp-fit --y $Y -o "$T/gp" < "$T/ten.zst"
    assert_status 0
    assert_output_has "10 points"
    predict -m "$T/gp" < "$Z" | stream-to-jsonl | grep -c '"predicted_std"' > "$T/n"
    [ "$(cat "$T/n")" -eq 312 ]
}
