#!/usr/bin/env bats
# pipelines/convert-state-dict.py: the reference's state_dict (here: its .npz form) <-> our model
# files. A tiny model (--ndim 8 --gdim 4, 1 epoch on 8 NB201 cells) is exported to .npz and
# converted back; the result must be the same file, byte for byte. Python is optional for the
# suite: every test is skipped unless Debian's /usr/bin/python3 has msgpack and numpy (torch is
# never needed here).

load helpers

PY=/usr/bin/python3
CONV="$BATS_TEST_DIRNAME/../pipelines/convert-state-dict.py"

have_python() { [ -x "$PY" ] && "$PY" -c 'import msgpack, numpy' 2> /dev/null; }

setup_file() {
    have_python || return 0
    local d="$BATS_FILE_TMPDIR"
    graph-parse nb201 | stream-split --shard 0/2000 > "$d/g.zst"
    svge-train -q -o "$d/m" --ndim 8 --gdim 4 --epochs 1 < "$d/g.zst"
    "$PY" "$CONV" --export-npz "$d/m" -o "$d/m.npz" 2> /dev/null
}

setup() {
    have_python || skip "needs /usr/bin/python3 with msgpack and numpy"
    setup_scratch
    G="$BATS_FILE_TMPDIR/g.zst"
    M="$BATS_FILE_TMPDIR/m"
    NPZ="$BATS_FILE_TMPDIR/m.npz"
}

# z of every record that svge-encode gives with model $1 on the test graphs (model id removed)
zs_with() { svge-encode -m "$1" < "$G" | stream-to-jsonl | sed 's/,"model":"[0-9a-f]*"//'; }

# npz_edit OUT PYTHON-STATEMENTS: load $NPZ as dict d, run the statements, save d to OUT
npz_edit() {
    "$PY" -c 'import sys, numpy as np
z = np.load(sys.argv[1]); d = {k: z[k] for k in z.files}
exec(sys.argv[3])
np.savez(open(sys.argv[2], "wb"), **d)' "$NPZ" "$1" "$2"
}

@test "export: one array per tensor, 82 with PyTorch's names and shapes" {
    run "$PY" -c 'import sys, numpy as np
z = np.load(sys.argv[1])
print(len(z.files), z["Encoder.NodeEmb.NodeInit.weight"].shape, z["Decoder.generator.nodes.f_s_1.weight"].shape, z["Encoder.NodeEmb.NodeInit.weight"].dtype)' "$NPZ"
    assert_status 0
    # K 7, ndim 8 -> NodeInit (7,4); f_s_1 (ndim+gdim, 2 ndim + 2 gdim) = (12,24)
    [ "$output" = "82 (7, 4) (12, 24) float32" ]
}

@test "npz -> model with the same config and meta: the same bytes as svge-train wrote" {
    run "$PY" "$CONV" --from-npz "$NPZ" --space nb201 --ndim 8 --gdim 4 --meta-from "$M" -o "$T/m2"
    assert_status 0
    assert_output_has "82 tensors"
    cmp "$M" "$T/m2"
}

@test "npz -> model with its own meta (dims from the shapes): svge-encode gives the same z" {
    run "$PY" "$CONV" --from-npz "$NPZ" --space nb201 -o "$T/m3"
    assert_status 0
    zs_with "$M" > "$T/a"
    zs_with "$T/m3" > "$T/b"
    [ "$(grep -c '"z":\[' "$T/a")" -eq 8 ]
    cmp "$T/a" "$T/b"
    # and the converted file round-trips through export again
    "$PY" "$CONV" --export-npz "$T/m3" -o "$T/m3.npz" 2> /dev/null
    "$PY" "$CONV" --from-npz "$T/m3.npz" --space nb201 --meta-from "$T/m3" -o "$T/m4" 2> /dev/null
    cmp "$T/m3" "$T/m4"
}

@test "unused tensors (e.g. SVGE_acc's Accuracy head) are listed and ignored" {
    npz_edit "$T/x.npz" 'd["Accuracy.lin_layers.0.weight"] = np.zeros((2, 4), np.float32)'
    run "$PY" "$CONV" --from-npz "$T/x.npz" --space nb201 --meta-from "$M" -o "$T/m5"
    assert_status 0
    assert_output_has "not used by the model, ignored: Accuracy.lin_layers.0.weight"
    cmp "$M" "$T/m5"
}

@test "a missing tensor: exit 1 naming it, nothing written" {
    npz_edit "$T/x.npz" 'del d["Decoder.generator.nodeInit.f_start.bias"]'
    run "$PY" "$CONV" --from-npz "$T/x.npz" --space nb201 --ndim 8 --gdim 4 -o "$T/bad"
    assert_status 1
    assert_output_has 'tensor "Decoder.generator.nodeInit.f_start.bias" is missing'
    [ ! -e "$T/bad" ]
    [ -z "$(ls "$T" | grep '^bad')" ]
}

@test "a tensor of another shape: exit 1 naming it and both shapes" {
    npz_edit "$T/x.npz" 'd["Encoder.GraphEmb_var.g_m.weight"] = np.zeros((1, 9), np.float32)'
    run "$PY" "$CONV" --from-npz "$T/x.npz" --space nb201 --ndim 8 --gdim 4 -o "$T/bad"
    assert_status 1
    assert_output_has 'tensor "Encoder.GraphEmb_var.g_m.weight" has shape [1,9], this model needs [1,8]'
    [ ! -e "$T/bad" ]
}

@test "the wrong space or dims: exit 1 listing the misshapen tensors" {
    run "$PY" "$CONV" --from-npz "$NPZ" --space nb101 --ndim 8 --gdim 4 -o "$T/bad"
    assert_status 1
    assert_output_has 'tensor "Encoder.NodeEmb.NodeInit.weight" has shape [7,4], this model needs [5,4]'
    run "$PY" "$CONV" --from-npz "$NPZ" --space nb201 --ndim 8 --gdim 6 -o "$T/bad"
    assert_status 1
    assert_output_has 'tensor "Encoder.GraphEmb_mean.f_m.weight" has shape [4,8], this model needs [6,8]'
    [ ! -e "$T/bad" ]
}

@test "a corrupt model file is refused by --export-npz" {
    cp "$M" "$T/c"
    "$PY" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-100] ^= 1; open(sys.argv[1], "wb").write(b)' "$T/c"
    run "$PY" "$CONV" --export-npz "$T/c" -o "$T/c.npz"
    assert_status 1
    assert_output_has "checksum mismatch"
    [ ! -e "$T/c.npz" ]
}

@test "usage errors: no input, no --space" {
    run "$PY" "$CONV" -o "$T/x"
    assert_status 2
    run "$PY" "$CONV" --from-npz "$NPZ" -o "$T/x"
    assert_status 2
    assert_output_has "--space is required"
}
