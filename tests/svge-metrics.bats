#!/usr/bin/env bats
# svge-metrics: the reference's evaluation (formats/reference.md §5.1 reconstruction accuracy, §5.2 prior
# validity / uniqueness / novelty) on tiny models trained here by svge-train (NB201 cells, --ndim 8
# or 16, --gdim 4): the record's fields and their ranges, relations between the index-wise and the
# isomorphism-aware counts, determinism, --encode-times x --decode-times, --limit, --table, an
# overfit model that reconstructs far better than an untrained one, and bad input.

load helpers

# 16 NB201 cells (every 1000th) and a 2-epoch model of them, shared by the tests of this file
setup_file() {
    export D="$BATS_FILE_TMPDIR"
    graph-parse nb201 | stream-split --shard 0/1000 > "$D/g16.zst"
    svge-train -q -o "$D/tiny.mdl" --epochs 2 --ndim 8 --gdim 4 --batch 8 --seed 1 < "$D/g16.zst"
}

setup() {
    setup_scratch
}

# field NAME: the value of NAME in the one JSON line on stdin ("" if absent)
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2-; }
# in01 X: X is a number in [0, 1]
in01() { awk -v x="$1" 'BEGIN { exit !(x != "" && x + 0 >= 0 && x + 0 <= 1) }'; }
# metrics ARGS...: run svge-metrics with the tiny model, the 16 graphs as TRAIN and TEST, as JSON
metrics() { svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" "$@" < "$D/g16.zst" | stream-to-jsonl; }

@test "the record: kind, model id, space, counts, and every metric in [0,1]" {
    metrics --limit 4 --prior-samples 20 > "$T/out.jsonl"
    [ "$(wc -l < "$T/out.jsonl")" -eq 1 ]
    line=$(cat "$T/out.jsonl")
    [ "$(field kind <<< "$line")" = '"svge-metrics"' ]
    [[ "$(field model <<< "$line")" =~ ^\"[0-9a-f]{16}\"$ ]]
    [ "$(field space <<< "$line")" = '"nb201"' ]
    [ "$(field v <<< "$line")" = 1 ]
    [ "$(field n_test <<< "$line")" = 4 ]
    [ "$(field n_train <<< "$line")" = 16 ]
    [ "$(field n_recon_decodings <<< "$line")" = 400 ]   # 4 graphs x 10 encodings x 10 decodings
    [ "$(field n_prior_decodings <<< "$line")" = 200 ]   # 20 samples x 10 decodings
    for f in recon_acc recon_acc_iso validity; do in01 "$(field $f <<< "$line")"; done
    # no valid decoding from a 2-epoch model: uniqueness and novelty are undefined, so absent
    if [ "$(field n_valid <<< "$line")" = 0 ]; then
        [ -z "$(field uniqueness <<< "$line")" ]
        [ -z "$(field novelty <<< "$line")" ]
    fi
}

@test "an overfit model: all seven metrics present, in [0,1], consistent, recon far above untrained" {
    graph-parse nb201 | stream-split --shard 0/4000 > "$T/g4.zst"
    # 400 epochs at lr 5e-3 on 4 cells (under a second; the setting of svge-overfit.bats, which
    # reconstructs all 4 in argmax mode); 2 epochs for the untrained baseline
    svge-train -q -o "$T/fit.mdl" --epochs 400 --ndim 32 --gdim 8 --batch 4 --lr 5e-3 --seed 1 < "$T/g4.zst"
    svge-train -q -o "$T/raw.mdl" --epochs 2 --ndim 32 --gdim 8 --batch 4 --lr 5e-3 --seed 1 < "$T/g4.zst"
    line=$(svge-metrics -m "$T/fit.mdl" --train "$T/g4.zst" --prior-samples 20 < "$T/g4.zst" | stream-to-jsonl)
    for f in recon_acc recon_acc_iso validity uniqueness uniqueness_iso novelty novelty_iso; do
        in01 "$(field $f <<< "$line")" || { echo "$f: $line" >&2; return 1; }
    done
    hits=$(field recon_hits <<< "$line"); hits_iso=$(field recon_hits_iso <<< "$line")
    valid=$(field n_valid <<< "$line")
    uniq=$(field n_unique <<< "$line"); uniq_iso=$(field n_unique_iso <<< "$line")
    intr=$(field n_in_train <<< "$line"); intr_iso=$(field n_in_train_iso <<< "$line")
    # index-wise equality implies equal keys; keys are coarser than exact forms
    [ "$hits" -le "$hits_iso" ]
    [ "$uniq_iso" -le "$uniq" ]
    [ "$intr" -le "$intr_iso" ]
    [ "$uniq" -le "$valid" ]
    [ "$intr" -le "$valid" ]
    [ "$valid" -le 200 ]
    # the metrics are the counts' ratios
    awk -v h="$hits" -v a="$(field recon_acc <<< "$line")" 'BEGIN { exit !(h / 400 == a) }'
    awk -v v="$valid" -v i="$intr" -v n="$(field novelty <<< "$line")" 'BEGIN { exit !(1 - i / v == n) }'
    # it does reconstruct (0.99 when written), and some prior decodings are training cells
    awk -v a="$(field recon_acc <<< "$line")" 'BEGIN { exit !(a >= 0.9) }'
    [ "$intr" -gt 0 ]
    raw=$(svge-metrics -m "$T/raw.mdl" --train "$T/g4.zst" --prior-samples 0 < "$T/g4.zst" | stream-to-jsonl)
    awk -v a="$(field recon_acc <<< "$raw")" 'BEGIN { exit !(a < 0.05) }'
}

@test "deterministic bytes; the seed changes the decodings" {
    svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --limit 4 --prior-samples 20 < "$D/g16.zst" > "$T/a.zst"
    svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --limit 4 --prior-samples 20 < "$D/g16.zst" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --limit 4 --prior-samples 20 --seed 2 < "$D/g16.zst" > "$T/c.zst"
    run cmp -s "$T/a.zst" "$T/c.zst"
    [ "$status" -ne 0 ]
}

@test "--threads 1, 2, 3 and the default give the same bytes (several encoder and decoder chunks)" {
    local S="$SVGE_DATA/nb201/svge.model" t
    graph-parse nb201 | stream-split --shard 0/30 > "$T/train.zst"   # 500+ graphs: 3 encoder chunks
    for run in "$D/tiny.mdl $D/g16.zst --prior-samples 1000" "$D/tiny.mdl $T/train.zst --limit 3 --prior-samples 500 --forward-only" \
               "$S $T/train.zst --limit 8 --encode-times 1 --decode-times 100 --prior-samples 60"; do
        # shellcheck disable=SC2086
        set -- $run
        local model=$1 train=$2
        shift 2
        svge-metrics -m "$model" --train "$train" "$@" --threads 1 "$D/g16.zst" > "$T/t1.zst"
        for t in 2 3; do
            svge-metrics -m "$model" --train "$train" "$@" --threads $t "$D/g16.zst" | cmp - "$T/t1.zst"
        done
        svge-metrics -m "$model" --train "$train" "$@" "$D/g16.zst" | cmp - "$T/t1.zst"
    done
}

@test "--encode-times E --decode-times M is M*E decodings of the mean: 2 x 5 = 1 x 10" {
    metrics --limit 4 --prior-samples 5 --encode-times 2 --decode-times 5 \
        | sed 's/"encode_times":2,"decode_times":5/X/' > "$T/a"
    metrics --limit 4 --prior-samples 5 --encode-times 1 --decode-times 10 \
        | sed 's/"encode_times":1,"decode_times":10/X/' > "$T/b"
    cmp "$T/a" "$T/b"
    grep -q '"n_recon_decodings":40,' "$T/a"
}

@test "--limit, --prior-samples 0, --forward-only, TEST as a file argument" {
    line=$(metrics --limit 0 --prior-samples 0)
    [ "$(field n_test <<< "$line")" = 0 ]
    [ "$(field n_prior_decodings <<< "$line")" = 0 ]
    [ -z "$(field recon_acc <<< "$line")" ]
    [ -z "$(field validity <<< "$line")" ]
    line=$(metrics --limit 3 --prior-samples 2 --prior-decodes 3 --forward-only)
    [ "$(field n_test <<< "$line")" = 3 ]
    [ "$(field n_prior_decodings <<< "$line")" = 6 ]
    [ "$(field forward_only <<< "$line")" = true ]
    [ "$(field n_nmismatch <<< "$line")" = 0 ]
    # --limit stops reading: whatever follows the first N records is not looked at
    { cat "$D/g16.zst"; printf 'garbage'; } > "$T/tail.zst"
    svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --limit 2 --prior-samples 1 < "$T/tail.zst" > /dev/null
    a=$(svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --limit 5 --prior-samples 3 "$D/g16.zst" | stream-to-jsonl)
    [ "$a" = "$(metrics --limit 5 --prior-samples 3)" ]
}

@test "--merge reference decodes with the reference's merge (recorded), union by default" {
    line=$(metrics --limit 4 --prior-samples 10)
    [ "$(field merge <<< "$line")" = '"union"' ]
    line=$(metrics --limit 4 --prior-samples 10 --merge reference)
    [ "$(field merge <<< "$line")" = '"reference"' ]
    [ "$(field n_recon_decodings <<< "$line")" = 400 ]
    v=$(field validity <<< "$line"); in01 "$v"
    run svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --merge both < "$D/g16.zst"
    assert_status 2
}

@test "--table prints the metrics on stderr, stdout stays a stream" {
    run_quiet svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --limit 2 --prior-samples 5 --table "$D/g16.zst"
    assert_status 0
    assert_output_has "index-wise"
    assert_output_has "recon_acc"
    assert_output_has "validity"
    assert_output_has "novelty"
    assert_output_has "test graphs 2, training graphs 16"
    svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --limit 2 --prior-samples 5 --table "$D/g16.zst" 2> /dev/null \
        | stream-to-jsonl | grep -q '"kind":"svge-metrics"'
}

@test "--help documents the defaults and the strict validity" {
    run svge-metrics --help
    assert_status 0
    assert_output_has "--encode-times N   encodings per test graph (default 10)"
    assert_output_has "--prior-samples N  latent points drawn from the prior (default 1000"
    assert_output_has "--threads N        worker threads, 0 = one per CPU (the default)"
    assert_output_has "validity was"
    assert_output_has "lenient"
}

@test "usage errors: no model, no --train, bad numbers, both inputs stdin (exit 2)" {
    run svge-metrics --train "$D/g16.zst"
    assert_status 2
    assert_output_has "no model"
    run svge-metrics -m "$D/tiny.mdl"
    assert_status 2
    assert_output_has "no training stream"
    run svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --decode-times 0
    assert_status 2
    assert_output_has "--decode-times"
    run svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --seed x
    assert_status 2
    run svge-metrics -m "$D/tiny.mdl" --train - -
    assert_status 2
    run svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --bogus
    assert_status 2
    assert_output_has "Try"
    for v in -1 x 257; do
        run svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" --threads "$v" "$D/g16.zst"
        assert_status 2
        assert_output_has "svge-metrics: --threads: '$v' is not an integer in [0, 256]"
    done
}

@test "graphs of another space, a missing model or a training stream without graphs (exit 1 or 3)" {
    graph-parse enas6 | stream-split --shard 0/10000 > "$T/enas.zst"
    run_quiet svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" "$T/enas.zst"
    assert_status 1
    assert_output_has "record 1: graph of space enas6, the model is for nb201"
    run_quiet svge-metrics -m "$D/tiny.mdl" --train "$T/enas.zst" "$D/g16.zst"
    assert_status 1
    assert_output_has "$T/enas.zst: record 1"
    printf '' | zstd -q -c > "$T/none.zst"
    run_quiet svge-metrics -m "$D/tiny.mdl" --train "$T/none.zst" "$D/g16.zst"
    assert_status 1
    assert_output_has "no training graphs"
    run_quiet svge-metrics -m "$T/nope.mdl" --train "$D/g16.zst" "$D/g16.zst"
    assert_status 3
    echo junk > "$T/junk.mdl"   # a model file that cannot be loaded is bad input, as in svge-encode and svge-decode
    run_quiet svge-metrics -m "$T/junk.mdl" --train "$D/g16.zst" "$D/g16.zst"
    assert_status 1
    echo '{"v":1,"space":"nb201","ops":["input","bogus","output"],"edges":[[0,1],[1,2]]}' | jsonl-to-stream > "$T/bad.zst"
    run_quiet svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst" "$T/bad.zst"
    assert_status 1
    assert_output_has "record 1"
}

@test "bad test streams are refused with the reader's message" {
    assert_rejects_bad_streams svge-metrics -m "$D/tiny.mdl" --train "$D/g16.zst"
}
