#!/usr/bin/env bats
# Model files (formats/model.md) and the optimizer state they carry: the C unit tests of
# lib/modelfile.c and lib/adam.c, each printing "N passed, M failed".

load helpers

@test "unit: modelfile (round trip, version, checksum, truncation, hostile sizes, atomic writes)" {
    run "$SVGE_UNIT/test_modelfile" "$BATS_TEST_TMPDIR"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: adam (PyTorch Adam and ReduceLROnPlateau, checkpoint resume)" {
    run "$SVGE_UNIT/test_adam" "$BATS_TEST_TMPDIR"
    assert_status 0
    assert_output_has " 0 failed"
}

# ---------------------------------------------------------------- reading (issue 12): header first,
# then the body only as far as its lengths say. `timeout 5` makes a regression fail instead of hang.

setup() {
    setup_scratch
    M="$SVGE_DATA/nb201/svge.model"
}

@test "read: /dev/zero is refused at its first bytes, not read to the 2 GiB limit" {
    run timeout 5 svge-encode -m /dev/zero < /dev/null
    assert_status 1
    assert_output_has 'svge-encode: /dev/zero: not a model file (no "SVGEMDL" magic'
}

@test "read: 100 MB that are not a model are refused at their first bytes" {
    head -c 100M /dev/zero | tr '\0' 'x' > "$T/x100"
    run timeout 5 svge-decode -m "$T/x100" < /dev/null
    assert_status 1
    assert_output_has "svge-decode: $T/x100: not a model file"
}

@test "read: a good header then endless zeros through a pipe stops where the body ends" {
    run timeout 5 bash -c 'svge-encode -m <(head -c 12 "$1"; cat /dev/zero) < /dev/null' _ "$M"
    assert_status 1
    assert_output_has "checksum mismatch"
}

@test "read: a whole model then endless bytes through a pipe: stray bytes, found at once" {
    run timeout 5 bash -c 'svge-encode -m <(cat "$1" /dev/zero) < /dev/null' _ "$M"
    assert_status 1
    assert_output_has "stray bytes after the end of the model (byte $(stat -c %s "$M"))"
}

@test "read: a model through a pipe is read as from the file" {
    graph-parse nb201 | stream-split --shard 0/2000 > "$T/g.zst"
    svge-encode -m "$M" < "$T/g.zst" | stream-to-jsonl > "$T/file.jsonl"
    run bash -c 'svge-encode -m <(cat "$1") < "$2" | stream-to-jsonl > "$3"' _ "$M" "$T/g.zst" "$T/pipe.jsonl"
    assert_status 0
    cmp "$T/file.jsonl" "$T/pipe.jsonl"
}

@test "read: a truncated model names the path and how much is missing" {
    head -c 1000 "$M" > "$T/cut"
    run svge-encode -m "$T/cut" < /dev/null
    assert_status 1
    assert_output_has "svge-encode: $T/cut: checksum mismatch: the file is truncated (1000 bytes: its body goes on past the end) or corrupt"
    n=$(stat -c %s "$M")
    head -c $((n - 3)) "$M" > "$T/cut3"
    run svge-encode -m "$T/cut3" < /dev/null
    assert_status 1
    assert_output_has "$T/cut3: checksum mismatch: the file is truncated ($((n - 3)) bytes: its body and checksum take $n) or corrupt"
}

@test "read: a model with bytes after it is refused (1 byte, 100 MB)" {
    n=$(stat -c %s "$M")
    { cat "$M"; printf x; } > "$T/ext1"
    run svge-encode -m "$T/ext1" < /dev/null
    assert_status 1
    assert_output_has "svge-encode: $T/ext1: $((n + 1)) bytes, but the model ends at byte $n: 1 stray byte(s) after it"
    { cat "$M"; head -c 100M /dev/zero; } > "$T/ext100"
    run timeout 5 predict -m "$T/ext100" < /dev/null
    assert_status 1
    assert_output_has "predict: $T/ext100: $((n + 104857600)) bytes, but the model ends at byte $n: 104857600 stray byte(s) after it"
}

@test "read: a wrong magic and a version from the future are refused by the header alone" {
    { printf 'SVGEMDX\0'; tail -c +9 "$M"; } > "$T/magic"
    run svge-encode -m "$T/magic" < /dev/null
    assert_status 1
    assert_output_has "svge-encode: $T/magic: not a model file (no \"SVGEMDL\" magic at the start; see formats/model.md)"
    # version 2, then endless zeros: refused after 12 bytes
    run timeout 5 bash -c 'svge-encode -m <(printf "SVGEMDL\0\2\0\0\0"; cat /dev/zero) < /dev/null' _
    assert_status 1
    assert_output_has "format version 2 is not supported (this tool reads version 1)"
    { head -c 8 "$M"; printf '\2\0\0\0'; tail -c +13 "$M"; } > "$T/v2"
    run svge-decode -m "$T/v2" < /dev/null
    assert_status 1
    assert_output_has "svge-decode: $T/v2: format version 2 is not supported (this tool reads version 1)"
}

@test "read: a cell-train checkpoint is read the same way (--resume /dev/zero, a checkpoint with a byte more)" {
    graph-parse nb101 | stream-top --by val_acc_108ep -n 1 --skip-missing > "$T/c.zst"
    args=(--no-timing --epochs 1 --stem-channels 2 --stacks 1 --train-images 64 --test-images 16 --train-eval-images 16 --batch 32)
    cell-train -q "${args[@]}" --checkpoint "$T/ck" < "$T/c.zst" > /dev/null
    printf x >> "$T/ck"
    run_quiet cell-train -q "${args[@]}" --checkpoint "$T/ck" --resume < "$T/c.zst"
    assert_status 1
    assert_output_has "cell-train: $T/ck:"
    assert_output_has "1 stray byte(s) after it"
    ln -s /dev/zero "$T/zero"
    run_quiet timeout 5 cell-train -q "${args[@]}" --checkpoint "$T/zero" --resume < "$T/c.zst"
    assert_status 1
    assert_output_has "cell-train: $T/zero: not a model file"
}
