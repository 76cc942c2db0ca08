#!/usr/bin/env bats
# svge-encode: graph records -> the same records plus the latent mean "z" and the model id.
# A tiny model (--ndim 8 --gdim 4, 50 epochs on 16 real NB201 cells: a tenth of a second) is
# trained once per file by setup_file.

load helpers

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    graph-parse nb201 | stream-split --shard 0/1000 > "$d/g16.zst"
    svge-train -q --ndim 8 --gdim 4 --batch 8 --lr 0.01 --epochs 50 -o "$d/m" < "$d/g16.zst"
    svge-train -q --ndim 8 --gdim 4 --batch 8 --lr 0.01 --epochs 50 --seed 2 -o "$d/m2" < "$d/g16.zst"
}

setup() {
    setup_scratch
    G="$BATS_FILE_TMPDIR/g16.zst"
    M="$BATS_FILE_TMPDIR/m"
}

mk() { printf '%s\n' "$@" | jsonl-to-stream > "$T/in.zst"; }
# The "z" arrays (or the field named $1) of a stream on stdin, one per line, numbers space-separated.
zs() { stream-to-jsonl | grep -o "\"${1:-z}\":\[[^]]*\]" | sed 's/^.*\[//; s/\]$//; s/,/ /g'; }
# The records of a stream on stdin as JSON lines without the fields "z", "z_logvar" and "model".
strip() { stream-to-jsonl | sed 's/,"z":\[[^]]*\]//; s/,"z_logvar":\[[^]]*\]//; s/,"model":"[^"]*"//'; }

CELL='{"v":1,"id":7,"space":"nb201","ops":["input","avg_pool_3x3","nor_conv_1x1","skip_connect","nor_conv_1x1","skip_connect","skip_connect","output"],"edges":[[0,1],[0,2],[0,4],[1,3],[1,5],[2,6],[3,6],[4,7],[5,7],[6,7]]'

# ---------------------------------------------------------------- output

@test "adds z (gdim float32 numbers) and the model id, every other field passed through in order" {
    svge-encode -m "$M" < "$G" > "$T/out.zst"
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 16 ]
    # every record ends with "z" of 4 numbers, then "model": 16 hex digits, the same in every record
    [ "$(stream-to-jsonl < "$T/out.zst" | grep -Ec ',"z":\[[^],]+(,[^],]+){3}\],"model":"[0-9a-f]{16}"\}$')" -eq 16 ]
    [ "$(stream-to-jsonl < "$T/out.zst" | grep -o '"model":"[0-9a-f]*"' | sort -u | wc -l)" -eq 1 ]
    stream-to-jsonl < "$G" > "$T/in.jsonl"
    strip < "$T/out.zst" > "$T/stripped.jsonl"
    cmp "$T/in.jsonl" "$T/stripped.jsonl"
    # different graphs, different points
    [ "$(zs < "$T/out.zst" | sort -u | wc -l)" -eq 16 ]
}

@test "the model id is the model file's; another model gives another id and other points" {
    svge-encode -m "$M" < "$G" | stream-to-jsonl | grep -o '"model":"[0-9a-f]*"' | sort -u > "$T/id1"
    svge-encode -m "$BATS_FILE_TMPDIR/m2" < "$G" | stream-to-jsonl | grep -o '"model":"[0-9a-f]*"' | sort -u > "$T/id2"
    ! cmp -s "$T/id1" "$T/id2"
    cp "$M" "$T/copy"
    svge-encode -m "$T/copy" < "$G" | stream-to-jsonl | grep -o '"model":"[0-9a-f]*"' | sort -u > "$T/id3"
    cmp "$T/id1" "$T/id3"
}

@test "existing z, z_logvar and model are replaced" {
    mk "$CELL,\"z\":[1,2],\"model\":\"0000000000000000\",\"z_logvar\":\"x\",\"acc\":0.5}"
    run sh -c 'svge-encode -m "$1" < "$2" | stream-to-jsonl' sh "$M" "$T/in.zst"
    assert_status 0
    [ "$(printf '%s\n' "$output" | grep -o '"z"' | wc -l)" -eq 1 ]
    [[ "$output" != *z_logvar* ]]
    [[ "$output" != *0000000000000000* ]]
    assert_output_has '"acc":0.5,"z":['
    assert_output_has '"id":7,'
}

@test "--logvar adds z_logvar; z is the same with or without it" {
    svge-encode -m "$M" < "$G" > "$T/a.zst"
    svge-encode -m "$M" --logvar < "$G" > "$T/b.zst"
    [ "$(zs z_logvar < "$T/b.zst" | awk 'NF == 4' | wc -l)" -eq 16 ]
    zs < "$T/a.zst" > "$T/za"
    zs < "$T/b.zst" > "$T/zb"
    cmp "$T/za" "$T/zb"
    [ "$(stream-to-jsonl < "$T/b.zst" | grep -c '"z":\[[^]]*\],"z_logvar":\[[^]]*\],"model":"[0-9a-f]\{16\}"}$')" -eq 16 ]
}

@test "deterministic: the same bytes twice" {
    svge-encode -m "$M" --logvar < "$G" > "$T/a.zst"
    svge-encode -m "$M" --logvar < "$G" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
}

@test "--batch changes nothing but BLAS rounding (values within 1e-5 relative)" {
    # Other row counts in the encoder's matrix products may change the last float bits.
    svge-encode -m "$M" --logvar --batch 1 < "$G" > "$T/a.zst"
    svge-encode -m "$M" --logvar --batch 5 < "$G" > "$T/b.zst"
    svge-encode -m "$M" --logvar < "$G" > "$T/c.zst"
    strip < "$T/a.zst" > "$T/sa"
    strip < "$T/c.zst" > "$T/sc"
    cmp "$T/sa" "$T/sc"
    for f in a b; do
        for field in z z_logvar; do
            zs $field < "$T/$f.zst" > "$T/x"
            zs $field < "$T/c.zst" > "$T/y"
            [ "$(wc -l < "$T/x")" -eq 16 ]
            paste -d' ' "$T/x" "$T/y" | awk '{ for (i = 1; i <= 4; i++) { d = $i - $(i+4); if (d < 0) d = -d;
                m = $(i+4) < 0 ? -$(i+4) : $(i+4); if (d > 1e-5 * (m + 1)) { print "differs: " $0; exit 1 } } }'
        done
    done
}

@test "--threads 1, 2, 3 and the default give the same bytes (many batches, the default batch, the shipped model)" {
    local S="$SVGE_DATA/nb201/svge.model" t
    graph-parse nb201 | stream-split --shard 0/150 > "$T/g.zst"
    [ "$(stream-to-jsonl < "$T/g.zst" | wc -l)" -ge 100 ]
    for args in "--batch 7" "--batch 7 --logvar" "" "--batch 30"; do
        for model in "$M" "$S"; do
            # shellcheck disable=SC2086
            svge-encode -m "$model" $args --threads 1 < "$T/g.zst" > "$T/t1.zst"
            for t in 2 3; do
                # shellcheck disable=SC2086
                svge-encode -m "$model" $args --threads $t < "$T/g.zst" | cmp - "$T/t1.zst"
            done
            # shellcheck disable=SC2086
            svge-encode -m "$model" $args < "$T/g.zst" | cmp - "$T/t1.zst"
        done
    done
}

@test "a model rebuilt for a larger space mid-stream (nb101x after nb101): the same bytes for every --threads" {
    graph-parse nb101 --no-accuracies | stream-split --shard 0/4000 > "$T/nb101.zst"
    svge-train -q --ndim 8 --gdim 4 --epochs 1 -o "$T/m101" < "$T/nb101.zst"
    graph-gen nb101-8 --valid-only | stream-split --shard 0/64 > "$T/x.zst"
    cat "$T/nb101.zst" "$T/x.zst" "$T/nb101.zst" > "$T/both.zst"
    svge-encode -q -m "$T/m101" --batch 7 --threads 1 < "$T/both.zst" > "$T/t1.zst"
    [ "$(stream-to-jsonl < "$T/t1.zst" | grep -c nb101x)" -gt 0 ]
    svge-encode -q -m "$T/m101" --batch 7 --threads 2 < "$T/both.zst" | cmp - "$T/t1.zst"
    svge-encode -q -m "$T/m101" --batch 7 --threads 3 < "$T/both.zst" | cmp - "$T/t1.zst"
}

@test "an empty stream gives an empty stream" {
    : | jsonl-to-stream > "$T/empty.zst"
    [ "$(stream-to-jsonl < "$T/empty.zst" | wc -l)" -eq 0 ]
    svge-encode -m "$M" < "$T/empty.zst" > "$T/out.zst"
    [ -s "$T/out.zst" ]
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 0 ]
}

# ---------------------------------------------------------------- bad records

@test "a graph of another space is refused, naming the record; the records before are written" {
    mk "$CELL}" '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2]]}'
    run_quiet svge-encode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has "svge-encode: stdin: record 2: graph of space nb101, this model is for nb201"
    run sh -c 'svge-encode -m "$1" < "$2" 2>/dev/null | stream-to-jsonl | wc -l' sh "$M" "$T/in.zst"
    [ "$output" -eq 1 ]
}

@test "too many nodes, an invalid graph and a record without a graph are refused" {
    mk '{"v":1,"space":"nb201","ops":["input","none","none","none","none","none","none","none","output"],"edges":[[0,1],[1,8]]}'
    run_quiet svge-encode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has "svge-encode: stdin: record 1: invalid nb201 graph: 9 nodes; nb201 graphs have exactly 8"
    mk "$CELL}" '{"v":1,"space":"nb201","ops":["input","nor_conv_3x3","output"],"edges":[[0,1],[1,2]]}'
    run_quiet svge-encode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has "svge-encode: stdin: record 2: invalid nb201 graph:"
    mk '{"v":1,"id":3}'
    run_quiet svge-encode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has 'svge-encode: stdin: record 1: no "space" field'
    mk "${CELL/nor_conv_1x1/conv9x9}}"
    run_quiet svge-encode -m "$M" < "$T/in.zst"
    assert_status 1
    assert_output_has "record 1:"
    assert_output_has "conv9x9"
}

@test "bad streams are rejected with the reader's message" {
    assert_rejects_bad_streams svge-encode -m "$M"
}

# ---------------------------------------------------------------- model file and usage

@test "a missing, unreadable or corrupt model file" {
    run_quiet svge-encode -m "$T/nothing" < "$G"
    assert_status 3
    assert_output_has "svge-encode: $T/nothing: cannot open"
    head -c 1000 "$M" > "$T/cut"
    run_quiet svge-encode -m "$T/cut" < "$G"
    assert_status 1
    assert_output_has "svge-encode: $T/cut:"
    fixed_random_bytes 2000 5 > "$T/random"
    run_quiet svge-encode -m "$T/random" < "$G"
    assert_status 1
    assert_output_has "svge-encode: $T/random:"
}

@test "--help lists every option with its default" {
    run svge-encode --help
    assert_status 0
    for s in "Usage: svge-encode -m MODEL" "--model MODEL" "--logvar" "--batch N" "(default 512)" \
             "--threads N" "0 = one per CPU (the default)" "--help" "Exit status"; do
        assert_output_has "$s"
    done
}

@test "usage errors exit 2 with a hint" {
    for args in "" "-m" "-m $M --batch 0" "-m $M --batch x" "-m $M --batch 65537" "-m $M --frobnicate" "-m $M a b"; do
        run svge-encode $args < "$G"
        assert_status 2
        assert_output_has "Try 'svge-encode --help'."
    done
    run svge-encode < "$G"
    assert_output_has "no model given"
    for v in -1 x 257; do
        run svge-encode -m "$M" --threads "$v" < "$G"
        assert_status 2
        assert_output_has "svge-encode: --threads: '$v' is not an integer in [0, 256]"
    done
}
