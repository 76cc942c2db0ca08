#!/usr/bin/env bats
# Decoding with the DGMG / VS-GAE baseline (lib/generate.h with the DGMG decoder config, lib/vae.h): the unit
# test (structure, determinism, batch independence, teacher-forcing agreement), then svge-decode
# and svge-metrics on DGMG model files made here by svge-train --model dgmg on real NB201 cells, at
# tiny sizes: a 2-epoch model (--ndim 8 --gdim 4) of 8 cells, and a model overfit to 4 cells
# (--ndim 32 --gdim 8, 400 epochs at lr 5e-3: the settings of svge-overfit.bats; a third of a second).

load helpers

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    graph-parse nb201 | stream-split --shard 0/2000 > "$d/g8.zst"
    graph-parse nb201 | stream-split --shard 0/4000 > "$d/g4.zst"
    svge-train -q --model dgmg --ndim 8 --gdim 4 --batch 3 --epochs 2 -o "$d/m" < "$d/g8.zst"
    svge-train -q --model dgmg --ndim 8 --gdim 4 --batch 3 --epochs 2 --seed 2 -o "$d/m2" < "$d/g8.zst"
    svge-train -q --model dgmg --ndim 32 --gdim 8 --epochs 400 --lr 5e-3 --batch 4 --seed 1 -o "$d/fit" < "$d/g4.zst"
    svge-encode -m "$d/m" < "$d/g8.zst" > "$d/z8.zst"
    svge-encode -m "$d/m2" < "$d/g8.zst" > "$d/z8-m2.zst"
}

setup() {
    setup_scratch
    F="$BATS_FILE_TMPDIR"
    M="$F/m"
    Z="$F/z8.zst"
    ID=$(stream-to-jsonl < "$Z" | head -1 | grep -o '"model":"[0-9a-f]*"' | cut -d'"' -f4)
}

# The records of a stream on stdin as JSON lines without the running "id" (which numbers the output).
noid() { stream-to-jsonl | sed 's/"id":[0-9]*,//'; }
# The graphs of a stream on stdin as the graph records of the input (no hash, id, source_id, decode...).
bare() { stream-to-jsonl | sed 's/,"hash".*//; s/,"source_id".*//; s/"id":[0-9]*,//'; }

@test "unit: dgmg decode (structure, no forced END, determinism, batch independence, teacher forcing)" {
    run "$SVGE_UNIT/test_dgmg_generate"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "svge-decode on a DGMG model: nb201 graph records with the model id, forward only, sample and argmax" {
    for mode in sample argmax; do
        svge-decode -m "$M" --mode "$mode" --samples 3 < "$Z" > "$T/out.zst"
        stream-to-jsonl < "$T/out.zst" > "$T/out.jsonl"
        [ "$(wc -l < "$T/out.jsonl")" -eq 24 ]
        [ "$(grep -Ec '^\{"v":1,"id":[0-9]+,"space":"nb201","ops":\["input"[^]]*\],"edges":\[\[0,1\][][0-9,]*\],"source_id":[0-9]+,"decode":\{"mode":"'$mode'","seed":1,"sample":[012],"tries":1,"valid":(true|false),"merged":false,"merge":"union","pick":"mode"\},"z":\[[^],]+(,[^],]+){3}\],"model":"'"$ID"'"\}$' "$T/out.jsonl")" -eq 24 ]
        # at most DGMG_GEN_MAX_NODES = 14 nodes
        jq -e -s 'all(.[]; (.ops | length) >= 2 and (.ops | length) <= 14)' "$T/out.jsonl" > /dev/null
        # --forward-only is implied: accepted, same bytes
        svge-decode -m "$M" --mode "$mode" --samples 3 --forward-only < "$Z" | cmp - "$T/out.zst"
    done
}

@test "a DGMG model on 1, 2 and 3 threads: svge-encode, svge-decode and svge-metrics give the same bytes" {
    local t
    svge-encode -m "$M" --batch 3 --threads 1 < "$F/g8.zst" > "$T/z1.zst"
    svge-decode -m "$M" --samples 150 --threads 1 < "$Z" > "$T/d1.zst"   # 1200 rows: groups of 512, steps of 256
    svge-metrics -m "$M" --train "$F/g8.zst" --prior-samples 100 --threads 1 "$F/g8.zst" > "$T/m1.zst"
    for t in 2 3; do
        svge-encode -m "$M" --batch 3 --threads $t < "$F/g8.zst" | cmp - "$T/z1.zst"
        svge-decode -m "$M" --samples 150 --threads $t < "$Z" | cmp - "$T/d1.zst"
        svge-metrics -m "$M" --train "$F/g8.zst" --prior-samples 100 --threads $t "$F/g8.zst" | cmp - "$T/m1.zst"
    done
}

@test "svge-decode --help says DGMG decodes forward only" {
    run svge-decode --help
    assert_status 0
    assert_output_has 'A DGMG model (svge-train --model dgmg, config kind "dgmg") decodes as the reference'
    assert_output_has "forward only (--forward-only is implied)"
    assert_output_has "a DGMG model always decodes forward only"
    run svge-metrics --help
    assert_status 0
    assert_output_has "A DGMG model (svge-train --model dgmg)"
    assert_output_has "implied for DGMG"
}

@test "deterministic: the same seed gives the same bytes, another seed other graphs; argmax ignores the seed" {
    svge-decode -m "$M" --samples 4 --seed 5 < "$Z" > "$T/a.zst"
    svge-decode -m "$M" --samples 4 --seed 5 < "$Z" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    svge-decode -m "$M" --samples 4 --seed 6 < "$Z" | noid | sed 's/"seed":6/"seed":5/' > "$T/c"
    noid < "$T/a.zst" > "$T/a"
    ! cmp -s "$T/a" "$T/c" || false
    svge-decode -m "$M" --mode argmax --seed 5 < "$Z" | noid | sed 's/"seed":5/"seed":1/' > "$T/d"
    svge-decode -m "$M" --mode argmax < "$Z" | noid > "$T/e"
    cmp "$T/d" "$T/e"
}

@test "batch independence: a graph does not depend on --samples, on the input after it or on the batching" {
    # 8 points x 70 samples = 560 units: more than one flush of svge-decode (512) and several DGMG steps
    # of 256 rows; sample s of point p is the same as with --samples s+1, and as for a prefix of the input
    svge-decode -m "$M" --samples 70 --seed 3 < "$Z" | noid > "$T/all"
    [ "$(wc -l < "$T/all")" -eq 560 ]
    grep '"sample":0,' "$T/all" > "$T/s0"
    svge-decode -m "$M" --seed 3 < "$Z" | noid > "$T/one"
    cmp "$T/s0" "$T/one"
    grep -E '"sample":(0|1|2),' "$T/all" | head -6 > "$T/p0"
    stream-to-jsonl < "$Z" | head -2 | jsonl-to-stream | svge-decode -m "$M" --samples 3 --seed 3 | noid > "$T/prefix"
    cmp "$T/p0" "$T/prefix"
}

@test "argmax overfit: a tiny DGMG trained on 4 cells reconstructs every one; sampling >= 95 %" {
    bare < "$F/g4.zst" > "$T/orig"
    [ "$(wc -l < "$T/orig")" -eq 4 ]
    svge-encode -m "$F/fit" < "$F/g4.zst" | svge-decode -m "$F/fit" --mode argmax | bare > "$T/dec"
    diff "$T/orig" "$T/dec"
    # the most common valid of --tries 5 sampled decodings: valid
    svge-encode -m "$F/fit" < "$F/g4.zst" | svge-decode -m "$F/fit" --tries 5 | stream-to-jsonl > "$T/tries"
    [ "$(grep -c '"tries":5,"valid":true' "$T/tries")" -eq 4 ]
    svge-metrics -m "$F/fit" --train "$F/g4.zst" --prior-samples 0 < "$F/g4.zst" | stream-to-jsonl > "$T/met"
    jq -e '.recon_acc >= 0.95 and .forward_only == true' "$T/met" > /dev/null
}

@test "before training the same check fails (the test can fail)" {
    svge-train -q --model dgmg --ndim 32 --gdim 8 --epochs 1 --lr 5e-3 --batch 4 --seed 1 -o "$T/m1" < "$F/g4.zst"
    bare < "$F/g4.zst" > "$T/orig"
    svge-encode -m "$T/m1" < "$F/g4.zst" | svge-decode -m "$T/m1" --mode argmax | bare > "$T/dec"
    ! diff -q "$T/orig" "$T/dec" || false
}

@test "svge-metrics on a DGMG model: the four metrics, forward only, no mismatches, deterministic" {
    svge-metrics -m "$F/fit" --train "$F/g4.zst" --prior-samples 100 --decode-times 5 --table < "$F/g4.zst" \
        > "$T/a.zst" 2> "$T/table"
    stream-to-jsonl < "$T/a.zst" > "$T/a"
    jq -e '.kind == "svge-metrics" and .forward_only == true and .n_nmismatch == 0 and .n_test == 4
           and .n_recon_decodings == 200 and .n_prior_decodings == 1000 and .n_valid > 0
           and ([.recon_acc, .recon_acc_iso, .validity, .uniqueness, .uniqueness_iso, .novelty, .novelty_iso]
                | all(. != null and . >= 0 and . <= 1))' "$T/a" > /dev/null
    [ "$(jq -r .model "$T/a")" = "$(svge-encode -m "$F/fit" < "$F/g4.zst" | stream-to-jsonl | head -1 | jq -r .model)" ]
    grep -q "forward only" "$T/table"
    for m in recon_acc validity uniqueness novelty; do grep -q "^  $m " "$T/table"; done
    svge-metrics -m "$F/fit" --train "$F/g4.zst" --prior-samples 100 --decode-times 5 < "$F/g4.zst" | cmp - "$T/a.zst"
    # --forward-only is accepted and changes nothing
    svge-metrics -m "$F/fit" --train "$F/g4.zst" --prior-samples 100 --decode-times 5 --forward-only < "$F/g4.zst" \
        | cmp - "$T/a.zst"
}

@test "bad input: a latent of another model, a wrong latent dimension, graphs of another space" {
    other=$(stream-to-jsonl < "$F/z8-m2.zst" | head -1 | jq -r .model)
    [ "$other" != "$ID" ]
    { stream-to-jsonl < "$Z" | head -2; stream-to-jsonl < "$F/z8-m2.zst"; } | jsonl-to-stream > "$T/in.zst"
    run_quiet svge-decode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has "svge-decode: stdin: record 3: latent from model $other, this is model $ID"
    printf '%s\n' '{"v":1,"model":"'"$ID"'","z":[1,2,3]}' | jsonl-to-stream > "$T/short.zst"
    run_quiet svge-decode -m "$M" < "$T/short.zst"
    assert_status 1
    assert_output_has "svge-decode: stdin: record 1: field \"z\" has 3 numbers, this model's latent has 4"
    graph-parse enas6 | stream-split --shard 0/2000 > "$T/enas.zst"
    run_quiet svge-metrics -m "$M" --train "$F/g8.zst" < "$T/enas.zst"
    assert_status 1
    assert_output_has "record 1: graph of space enas6, the model is for nb201"
}
