#!/usr/bin/env bats
# svge-train --model dgmg: the DGMG / VS-GAE baseline (lib/dgmg.h) trained by the same tool, saved
# as a model file of config kind "dgmg" with its 66 named tensors. Tiny configurations only
# (--ndim 8 --gdim 4, 8 real NAS-Bench-201 cells, a few epochs): the model file and its kind,
# bitwise determinism and resume, --max-minutes, svge-encode on it (z of gdim), and the usage errors
# of --model. Decoding DGMG models: tests/dgmg-decode.bats.

load helpers

TINY=(--model dgmg --ndim 8 --gdim 4 --batch 3 -q)

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR/nb201-8.zst"
    if [ ! -s "$D" ]; then
        graph-parse nb201 | stream-split --shard 0/2000 > "$D.tmp" && mv "$D.tmp" "$D"
    fi
}

# has_bytes FILE PATTERN: the bytes of FILE match PATTERN (the msgpack header holds e.g. "kind", one length
# byte, "dgmg").
has_bytes() { LC_ALL=C grep -a -q "$2" "$1"; }

# The number of tensors named like DGMG parameters in a model file.
ntensors() { LC_ALL=C grep -a -o '\(Encoder\|Decoder\)\.[A-Za-z0-9_.]*' "$1" | wc -l; }

@test "--help documents --model and its default" {
    run svge-train --help
    assert_status 0
    assert_output_has "--model KIND"
    assert_output_has "(default svge)"
    assert_output_has "dgmg"
}

@test "trains a DGMG model: kind dgmg, 66 tensors, metrics with one line per epoch" {
    run svge-train -v --model dgmg --ndim 8 --gdim 4 --batch 8 --epochs 3 --lr 1e-3 -o "$T/m" --metrics "$T/met" < "$D"
    assert_status 0
    assert_output_has "svge-train: nb201: 8 graphs, 1 batches of 8"
    assert_output_has "epoch 3/3 loss "
    [ "$(head -c 7 "$T/m")" = SVGEMDL ]
    has_bytes "$T/m" 'kind.dgmg'
    ! has_bytes "$T/m" 'kind.svge' || false
    [ "$(ntensors "$T/m")" -eq 66 ]
    has_bytes "$T/m" 'Decoder.generator.prop.NodeEmb.GNNLayers.1.msg_rev.weight'
    [ "$(head -1 "$T/met")" = "$(printf 'epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds')" ]
    [ "$(tail -n +2 "$T/met" | wc -l)" -eq 3 ]
    ! ls "$T" | grep -q tmp || false
}

@test "not the svge model: the same options give another model, and the default is svge" {
    svge-train "${TINY[@]}" --epochs 1 -o "$T/d" < "$D"
    svge-train --ndim 8 --gdim 4 --batch 3 -q --epochs 1 -o "$T/s" < "$D"
    svge-train --model svge --ndim 8 --gdim 4 --batch 3 -q --epochs 1 -o "$T/s2" < "$D"
    cmp "$T/s" "$T/s2"
    ! cmp -s "$T/d" "$T/s" || false
    has_bytes "$T/s" 'kind.svge'
}

@test "deterministic: the same input and seed give the same bytes; another seed does not" {
    svge-train "${TINY[@]}" --epochs 2 -o "$T/a" < "$D"
    svge-train "${TINY[@]}" --epochs 2 -o "$T/b" < "$D"
    cmp "$T/a" "$T/b"
    svge-train "${TINY[@]}" --epochs 2 --seed 2 -o "$T/c" < "$D"
    ! cmp -s "$T/a" "$T/c" || false
}

@test "resume: 1 epoch + checkpoint, then --resume to 3, is bitwise the 3-epoch model" {
    svge-train "${TINY[@]}" --epochs 3 -o "$T/straight" --metrics "$T/met1" < "$D"
    svge-train "${TINY[@]}" --epochs 1 -o "$T/half" --checkpoint "$T/c" --metrics "$T/met2" < "$D"
    has_bytes "$T/c" 'kind.dgmg'
    has_bytes "$T/c" 'optim.adam.m'
    ! cmp -s "$T/half" "$T/straight" || false
    # the kind comes from the checkpoint
    svge-train -q --resume "$T/c" --epochs 3 -o "$T/resumed" --metrics "$T/met2" < "$D"
    cmp "$T/straight" "$T/resumed"
    [ "$(tail -n +2 "$T/met2" | wc -l)" -eq 3 ]
    [ "$(cut -f1-5 "$T/met1")" = "$(cut -f1-5 "$T/met2")" ]
    # a checkpoint every epoch does not change the model
    svge-train "${TINY[@]}" --epochs 3 -o "$T/with-ckpt" --checkpoint "$T/c2" --checkpoint-every 1 < "$D"
    cmp "$T/straight" "$T/with-ckpt"
    svge-train -q --model dgmg --resume "$T/c2" --epochs 3 -o "$T/again" < "$D"
    cmp "$T/straight" "$T/again"
}

@test "resume: another --model than the checkpoint's is a usage error" {
    svge-train "${TINY[@]}" --epochs 1 -o "$T/m" --checkpoint "$T/c" < "$D"
    run svge-train -q --model svge --resume "$T/c" --epochs 2 -o "$T/x" < "$D"
    assert_status 2
    assert_output_has "--model svge differs from the checkpoint's dgmg"
    [ ! -e "$T/x" ]
}

@test "--max-minutes stops after the first epoch past the limit and writes that model" {
    run svge-train --model dgmg --ndim 8 --gdim 4 --batch 3 --epochs 1000 --max-minutes 0.000001 -o "$T/m" < "$D"
    assert_status 0
    assert_output_has "stopped after epoch 1 of 1000: --max-minutes"
    svge-train "${TINY[@]}" --epochs 1 -o "$T/one" < "$D"
    cmp "$T/m" "$T/one"
}

@test "svge-encode reads a DGMG model: z (and z_logvar) of gdim floats, eval mode, deterministic" {
    svge-train "${TINY[@]}" --epochs 2 -o "$T/m" < "$D"
    svge-encode -m "$T/m" --logvar < "$D" > "$T/out.zst"
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 8 ]
    [ "$(stream-to-jsonl < "$T/out.zst" | grep -Ec ',"z":\[[^],]+(,[^],]+){3}\],"z_logvar":\[[^],]+(,[^],]+){3}\],"model":"[0-9a-f]{16}"\}$')" -eq 8 ]
    [ "$(stream-to-jsonl < "$T/out.zst" | grep -o '"model":"[0-9a-f]*"' | sort -u | wc -l)" -eq 1 ]
    svge-encode -m "$T/m" --logvar < "$D" > "$T/again.zst"
    cmp "$T/out.zst" "$T/again.zst"
    # eval mode: a batch of one gives the same z (up to BLAS rounding of the last bits)
    svge-encode -m "$T/m" --batch 1 < "$D" | stream-to-jsonl | grep -o '"z":\[[^]]*\]' > "$T/z1"
    stream-to-jsonl < "$T/out.zst" | grep -o '"z":\[[^]]*\]' > "$T/z8"
    [ "$(wc -l < "$T/z1")" -eq 8 ]
    paste -d' ' <(tr -d '"z:[]' < "$T/z1") <(tr -d '"z:[]' < "$T/z8") |
        awk '{ n = split($1, a, ","); split($2, b, ","); for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > 1e-4) exit 1 } }'
}

@test "--model: an unknown kind or no value is a usage error (exit 2)" {
    run svge-train --model bogus -o "$T/m" < "$D"
    assert_status 2
    assert_output_has "--model: 'bogus' is not one of svge, dgmg"
    run svge-train -o "$T/m" --model
    assert_status 2
    [ ! -e "$T/m" ]
}
