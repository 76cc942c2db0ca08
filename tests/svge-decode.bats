#!/usr/bin/env bats
# svge-decode: records with a latent point -> decoded graph records.
# A tiny model (--ndim 8 --gdim 4, 50 epochs on 16 real NB201 cells: a tenth of a second, enough
# for a fair share of valid decodings) is trained once per file by setup_file, with its encodings.

load helpers

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    graph-parse nb201 | stream-split --shard 0/1000 > "$d/g16.zst"
    svge-train -q --ndim 8 --gdim 4 --batch 8 --lr 0.01 --epochs 50 -o "$d/m" < "$d/g16.zst"
    svge-train -q --ndim 8 --gdim 4 --batch 8 --lr 0.01 --epochs 50 --seed 2 -o "$d/m2" < "$d/g16.zst"
    svge-encode -m "$d/m" < "$d/g16.zst" > "$d/z16.zst"
    svge-encode -m "$d/m2" < "$d/g16.zst" > "$d/z16-m2.zst"
}

setup() {
    setup_scratch
    M="$BATS_FILE_TMPDIR/m"
    Z="$BATS_FILE_TMPDIR/z16.zst"
    ID=$(stream-to-jsonl < "$Z" | head -1 | grep -o '"model":"[0-9a-f]*"' | cut -d'"' -f4)
}

mk() { printf '%s\n' "$@" | jsonl-to-stream > "$T/in.zst"; }
# The graphs (ops and edges) of a stream on stdin, one per line.
graphs() { stream-to-jsonl | grep -o '"ops":.*,"edges":\[\[[^"]*\]\]'; }
# One field of every record of a stream on stdin, e.g. field '"source_id":[0-9]*'.
field() { stream-to-jsonl | grep -o "$1"; }
n() { stream-to-jsonl | wc -l; }

# ---------------------------------------------------------------- output

@test "encode -> decode: nb201 graph records with id, source_id, decode, z and model, in order" {
    svge-decode -m "$M" < "$Z" > "$T/out.zst"
    [ "$(n < "$T/out.zst")" -eq 16 ]
    stream-to-jsonl < "$T/out.zst" > "$T/out.jsonl"
    # field order and types
    [ "$(grep -Ec '^\{"v":1,"id":[0-9]+,"space":"nb201","ops":\["input",[^]]*\],"edges":\[[][0-9,]*\],"source_id":[0-9]+,"decode":\{"mode":"sample","seed":1,"sample":0,"tries":1,"valid":(true|false),"merged":(true|false),"merge":"union","pick":"mode"\},"z":\[[^]]*\],"model":"'"$ID"'"\}$' "$T/out.jsonl")" -eq 16 ]
    # ids 0..15; source ids the input ids
    [ "$(grep -o '"id":[0-9]*' "$T/out.jsonl" | cut -d: -f2 | tr '\n' ' ')" = "$(seq 0 15 | tr '\n' ' ')" ]
    stream-to-jsonl < "$Z" | grep -o '^{"v":1,"id":[0-9]*' | cut -d: -f3 > "$T/want"
    grep -o '"source_id":[0-9]*' "$T/out.jsonl" | cut -d: -f2 > "$T/got"
    cmp "$T/want" "$T/got"
    # z copied
    stream-to-jsonl < "$Z" | grep -o '"z":\[[^]]*\]' > "$T/zin"
    grep -o '"z":\[[^]]*\]' "$T/out.jsonl" > "$T/zout"
    cmp "$T/zin" "$T/zout"
}

@test "\"valid\" is graph_check's verdict: the valid outputs are exactly those graph-hash accepts" {
    svge-decode -m "$M" --mode argmax --samples 4 < "$Z" > "$T/out.zst"
    nvalid=$(field '"valid":true' < "$T/out.zst" | wc -l)
    [ "$nvalid" -gt 0 ]
    run sh -c 'graph-hash --skip-invalid < "$1" | stream-to-jsonl | wc -l' sh "$T/out.zst"
    [ "${lines[-1]}" -eq "$nvalid" ]
    # and the valid graphs encode again with this model
    graph-hash --skip-invalid < "$T/out.zst" 2>/dev/null | svge-encode -m "$M" > /dev/null
}

@test "argmax: deterministic, whatever the seed" {
    svge-decode -m "$M" --mode argmax < "$Z" | graphs > "$T/a"
    svge-decode -m "$M" --mode argmax --seed 7 < "$Z" | graphs > "$T/b"
    svge-decode -m "$M" --mode argmax --seed 123456 --samples 2 < "$Z" | graphs | awk 'NR % 2 == 1' > "$T/c"
    [ "$(wc -l < "$T/a")" -eq 16 ]
    cmp "$T/a" "$T/b"
    cmp "$T/a" "$T/c"
}

@test "sample: the same seed gives the same bytes, another seed other graphs" {
    svge-decode -m "$M" --samples 4 < "$Z" > "$T/a.zst"
    svge-decode -m "$M" --samples 4 < "$Z" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    svge-decode -m "$M" --samples 4 --seed 2 < "$Z" > "$T/c.zst"
    graphs < "$T/a.zst" > "$T/ga"
    graphs < "$T/c.zst" > "$T/gc"
    [ "$(wc -l < "$T/gc")" -eq 64 ]
    # 64 stochastic decodings: at least some differ
    [ "$(paste -d'|' "$T/ga" "$T/gc" | awk -F'|' '$1 != $2' | wc -l)" -gt 0 ]
    # and the samples of one point are not all the same
    [ "$(sort -u "$T/ga" | wc -l)" -gt 16 ]
}

@test "--samples 3: three records per point, sample 0 as without --samples" {
    svge-decode -m "$M" --samples 3 < "$Z" > "$T/s3.zst"
    [ "$(n < "$T/s3.zst")" -eq 48 ]
    [ "$(field '"sample":[0-9]*' < "$T/s3.zst" | cut -d: -f2 | tr -d '\n')" = "$(printf '012%.0s' $(seq 16))" ]
    field '"source_id":[0-9]*' < "$T/s3.zst" | uniq -c | awk '$1 != 3 { exit 1 }'
    [ "$(field '"source_id":[0-9]*' < "$T/s3.zst" | uniq | wc -l)" -eq 16 ]
    [ "$(field '"id":[0-9]*' < "$T/s3.zst" | tail -1)" = '"id":47' ]
    svge-decode -m "$M" < "$Z" | graphs > "$T/s1"
    graphs < "$T/s3.zst" | awk 'NR % 3 == 1' > "$T/s3first"
    cmp "$T/s1" "$T/s3first"
    # many samples per point run in several batches: the first three per point are the same
    svge-decode -m "$M" --samples 100 < "$Z" | graphs | awk '(NR - 1) % 100 < 3' > "$T/s100"
    graphs < "$T/s3.zst" > "$T/s3all"
    cmp "$T/s3all" "$T/s100"
}

@test "--threads 1, 2, 3 and the default give the same bytes (several row groups; the shipped model)" {
    local S="$SVGE_DATA/nb201/svge.model" t
    graph-parse nb201 | stream-split --shard 0/400 | svge-encode -m "$S" > "$T/z40.zst"
    for run in "$M $Z --samples 100" "$M $Z --tries 200 --samples 3" "$M $Z --distinct --tries 5 --samples 50" \
               "$M $Z --mode argmax --forward-only --samples 70" "$S $T/z40.zst --tries 30" "$S $T/z40.zst --samples 30"; do
        # shellcheck disable=SC2086
        set -- $run
        local model=$1 in=$2
        shift 2
        svge-decode -m "$model" "$@" --threads 1 < "$in" > "$T/t1.zst"
        [ "$(n < "$T/t1.zst")" -ge 40 ]
        for t in 2 3; do
            svge-decode -m "$model" "$@" --threads $t < "$in" | cmp - "$T/t1.zst"
        done
        svge-decode -m "$model" "$@" < "$in" | cmp - "$T/t1.zst"
    done
}

@test "--tries K: the most common valid decoding; never less valid than one try" {
    svge-decode -m "$M" --samples 4 < "$Z" > "$T/one.zst"
    svge-decode -m "$M" --samples 4 --tries 8 < "$Z" > "$T/k8.zst"
    [ "$(n < "$T/k8.zst")" -eq 64 ]
    [ "$(field '"tries":8' < "$T/k8.zst" | wc -l)" -eq 64 ]
    v1=$(field '"valid":true' < "$T/one.zst" | wc -l)
    v8=$(field '"valid":true' < "$T/k8.zst" | wc -l)
    [ "$v8" -ge "$v1" ]
    [ "$v8" -gt 0 ]
    # the same bytes twice; --tries 1 is plain decoding
    svge-decode -m "$M" --samples 4 --tries 8 < "$Z" | cmp - "$T/k8.zst"
    svge-decode -m "$M" --samples 4 --tries 1 < "$Z" | cmp - "$T/one.zst"
    # more tries than one batch of rows
    svge-decode -m "$M" --tries 600 < "$Z" > "$T/k600.zst"
    [ "$(n < "$T/k600.zst")" -eq 16 ]
}

@test "--exclude FILE: the most common valid decoding not in FILE; --distinct: every fresh output differs" {
    # graph-hash wants valid graphs
    valid_hashed() { stream-to-jsonl | jq -c 'select(.decode.valid)' | jsonl-to-stream | graph-hash; }
    svge-decode -q -m "$M" --tries 30 < "$Z" | valid_hashed > "$T/first.zst"
    stream-to-jsonl < "$T/first.zst" | jq -r '.hash' | sort -u > "$T/old"
    [ "$(wc -l < "$T/old")" -gt 0 ]
    svge-decode -q -m "$M" --tries 30 --exclude "$T/first.zst" < "$Z" > "$T/raw.zst"
    valid_hashed < "$T/raw.zst" > "$T/second.zst"
    # every fresh output is valid and not one of the excluded graphs; the others say fresh: false
    stream-to-jsonl < "$T/second.zst" | jq -r 'select(.decode.fresh) | .hash' | sort > "$T/new"
    [ "$(wc -l < "$T/new")" -gt 0 ]
    [ -z "$(comm -12 "$T/old" "$T/new")" ]
    run bash -c "stream-to-jsonl < '$T/raw.zst' | jq -c 'select(.decode.fresh) | .decode.valid' | sort -u"
    [ "$output" = true ]
    [ "$(stream-to-jsonl < "$T/raw.zst" | wc -l)" -eq 16 ]
    # without --distinct two points may decode to the same new graph; with it, never
    svge-decode -q -m "$M" --tries 30 --exclude "$T/first.zst" --distinct < "$Z" | valid_hashed \
        | stream-to-jsonl | jq -r 'select(.decode.fresh) | .hash' | sort > "$T/distinct"
    [ "$(sort -u "$T/distinct" | wc -l)" -eq "$(wc -l < "$T/distinct")" ]
    [ -z "$(comm -12 "$T/old" <(sort -u "$T/distinct"))" ]
    # --distinct alone: the fresh outputs are pairwise different
    svge-decode -q -m "$M" --tries 30 --distinct < "$Z" | valid_hashed | stream-to-jsonl \
        | jq -r 'select(.decode.fresh) | .hash' > "$T/d2"
    [ "$(sort -u "$T/d2" | wc -l)" -eq "$(wc -l < "$T/d2")" ]
    run_quiet svge-decode -m "$M" --exclude "$T/first.zst" --pick first < "$Z"
    assert_status 2
    echo '{"v":1,"x":1}' | jsonl-to-stream > "$T/ng.zst"
    run_quiet svge-decode -m "$M" --exclude "$T/ng.zst" < "$Z"
    assert_status 1
    assert_output_has "ng.zst: record 1: no \"space\" field"
}

@test "--forward-only: no merge" {
    svge-decode -m "$M" --forward-only --samples 2 < "$Z" > "$T/f.zst"
    [ "$(field '"merged":false' < "$T/f.zst" | wc -l)" -eq 32 ]
    svge-decode -m "$M" --samples 2 < "$Z" > "$T/u.zst"
    [ "$(field '"merged":true' < "$T/u.zst" | wc -l)" -gt 0 ]
}

@test "--merge reference: the reference's merge keeps the forward graph whole and is not the union" {
    svge-decode -m "$M" --samples 4 --merge reference < "$Z" > "$T/r.zst"
    svge-decode -m "$M" --samples 4 < "$Z" > "$T/u.zst"
    svge-decode -m "$M" --samples 4 --forward-only < "$Z" > "$T/f.zst"
    [ "$(field '"merge":"reference"' < "$T/r.zst" | wc -l)" -eq 64 ]
    # the forward graph is kept whole: every forward-only edge is in the reference's output, with
    # the same node types
    paste <(stream-to-jsonl < "$T/f.zst") <(stream-to-jsonl < "$T/r.zst") | awk -F'\t' '
        { split($1, a, "\"edges\":\\["); split(a[2], b, "\\],\"source_id"); n = split(b[1], e, "\\],\\[")
          split($1, o1, "\"ops\":"); split(o1[2], o2, "\\]"); split($2, p1, "\"ops\":"); split(p1[2], p2, "\\]")
          if (o2[1] != p2[1]) { print "ops differ: " NR; bad = 1 }
          for (i = 1; i <= n; i++) { gsub(/[][]/, "", e[i]); if (e[i] != "" && index($2, "[" e[i] "]") == 0) { print "edge " e[i] " missing: " NR; bad = 1 } } }
        END { exit bad }'
    # it is not the union (on 64 decodings of a tiny model, some differ; which backward edges it
    # adds is checked edge by edge in tests/unit/test_reference_merge.c), and forward-only ignores it
    ! cmp -s "$T/r.zst" "$T/u.zst"
    [ "$(svge-decode -m "$M" --samples 4 --forward-only --merge reference < "$Z" | graphs)" = "$(graphs < "$T/f.zst")" ]
}

@test "--pick first: of the tries, the first valid one (the reference's pick); as many valid as the mode" {
    svge-decode -m "$M" --samples 4 --tries 8 --pick first < "$Z" > "$T/first.zst"
    svge-decode -m "$M" --samples 4 --tries 8 < "$Z" > "$T/mode.zst"
    [ "$(field '"pick":"first"' < "$T/first.zst" | wc -l)" -eq 64 ]
    [ "$(field '"valid":true' < "$T/first.zst" | wc -l)" -eq "$(field '"valid":true' < "$T/mode.zst" | wc -l)" ]
    # one try: nothing to pick
    [ "$(svge-decode -m "$M" --pick first < "$Z" | graphs)" = "$(svge-decode -m "$M" < "$Z" | graphs)" ]
}

@test "z as float64 (after a JSON round trip) decodes to the same graphs" {
    stream-to-jsonl < "$Z" | jsonl-to-stream > "$T/z64.zst"
    svge-decode -m "$M" --samples 2 < "$T/z64.zst" > "$T/a.zst"
    svge-decode -m "$M" --samples 2 < "$Z" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
}

# ---------------------------------------------------------------- bad records

@test "a latent from another model is refused, naming the record and both ids" {
    other=$(stream-to-jsonl < "$BATS_FILE_TMPDIR/z16-m2.zst" | head -1 | grep -o '"model":"[0-9a-f]*"' | cut -d'"' -f4)
    [ "$other" != "$ID" ]
    { stream-to-jsonl < "$Z" | head -2; stream-to-jsonl < "$BATS_FILE_TMPDIR/z16-m2.zst"; } | jsonl-to-stream > "$T/in.zst"
    run_quiet svge-decode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has "svge-decode: stdin: record 3: latent from model $other, this is model $ID"
    # the graphs of the records before are written
    run sh -c 'svge-decode -m "$1" < "$2" 2>/dev/null | stream-to-jsonl | wc -l' sh "$M" "$T/in.zst"
    [ "$output" -eq 2 ]
    # --any-model does not accept another model either
    run_quiet svge-decode -m "$M" --any-model < "$T/in.zst"
    assert_status 1
}

@test "a latent without a model is accepted only with --any-model; without id, no source_id" {
    mk '{"v":1,"z":[0.1,-0.2,0.3,0.5]}'
    run_quiet svge-decode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has 'svge-decode: stdin: record 1: no "model" field'
    assert_output_has "--any-model"
    run sh -c 'svge-decode -m "$1" --any-model < "$2" | stream-to-jsonl' sh "$M" "$T/in.zst"
    assert_status 0
    [[ "$output" != *source_id* ]]
    assert_output_has '"model":"'"$ID"'"'
}

@test "wrong z length, non-numeric z, a missing z, out-of-range z, an ill-typed model or id" {
    local -a cases=(
        '{"v":1,"model":"'"$ID"'","z":[1,2,3]}|record 1: field "z" has 3 numbers, this model'"'"'s latent has 4'
        '{"v":1,"model":"'"$ID"'","z":[1,2,3,4,5]}|record 1: field "z" has 5 numbers'
        '{"v":1,"model":"'"$ID"'","z":[1,"2",3,4]}|record 1: field "z": element 1 is a string, not a number'
        '{"v":1,"model":"'"$ID"'","z":"1 2 3 4"}|record 1: field "z" is a string, not an array'
        '{"v":1,"model":"'"$ID"'"}|record 1: no "z" field'
        '{"v":1,"model":"'"$ID"'","z":[1,2,3,1e300]}|record 1: field "z": element 3 (1e+300) is out of float32 range'
        '{"v":1,"model":7,"z":[1,2,3,4]}|record 1: field "model" is'
        '{"v":1,"id":-1,"model":"'"$ID"'","z":[1,2,3,4]}|record 1: field "id" is'
    )
    for c in "${cases[@]}"; do
        mk "${c%%|*}"
        run_quiet svge-decode -m "$M" < "$T/in.zst"
        assert_status 1
        assert_output_has "svge-decode: stdin: ${c#*|}"
    done
}

@test "bad streams are rejected with the reader's message" {
    # The helper's valid record comes from graph-parse: give it a latent point (a graph-parse that
    # encodes its output), so that the bad streams are all that is wrong.
    mkdir -p "$T/shim"
    printf '#!/bin/sh\n"%s" "$@" | "%s" -m "%s"\n' "$(command -v graph-parse)" "$(command -v svge-encode)" "$M" \
        > "$T/shim/graph-parse"
    chmod +x "$T/shim/graph-parse"
    PATH="$T/shim:$PATH" assert_rejects_bad_streams svge-decode -m "$M"
}

@test "an empty stream gives an empty stream" {
    : | jsonl-to-stream > "$T/empty.zst"
    svge-decode -m "$M" < "$T/empty.zst" > "$T/out.zst"
    [ -s "$T/out.zst" ]
    [ "$(n < "$T/out.zst")" -eq 0 ]
}

# ---------------------------------------------------------------- model file and usage

@test "a missing or corrupt model file" {
    run_quiet svge-decode -m "$T/nothing" < "$Z"
    assert_status 3
    assert_output_has "svge-decode: $T/nothing: cannot open"
    head -c 1000 "$M" > "$T/cut"
    run_quiet svge-decode -m "$T/cut" < "$Z"
    assert_status 1
    assert_output_has "svge-decode: $T/cut:"
}

@test "--help lists every option with its default" {
    run svge-decode --help
    assert_status 0
    for s in "Usage: svge-decode -m MODEL" "--model MODEL" "--mode M" "(default sample)" "--samples N" "(default 1)" \
             "--tries K" "--seed S" "--forward-only" "--any-model" "--merge M" "--pick P" \
             "--threads N" "0 = one per CPU (the default)" "--help" "Exit status"; do
        assert_output_has "$s"
    done
}

@test "usage errors exit 2 with a hint" {
    for args in "" "-m" "-m $M --mode best" "-m $M --samples 0" "-m $M --samples x" "-m $M --tries 0" \
                "-m $M --tries 5000" "-m $M --seed -1" "-m $M --seed 4294967296" "-m $M --merge both" "-m $M --pick last" "-m $M --frobnicate" "-m $M a b"; do
        run svge-decode $args < "$Z"
        assert_status 2
        assert_output_has "Try 'svge-decode --help'."
    done
    for v in -1 x 257; do
        run svge-decode -m "$M" --threads "$v" < "$Z"
        assert_status 2
        assert_output_has "svge-decode: --threads: '$v' is not an integer in [0, 256]"
    done
}
