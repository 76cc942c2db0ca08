#!/usr/bin/env bats
# Output files by name (lib/outfile.h): a regular file through a temporary file renamed into
# place, a device or FIFO written through, a symbolic link followed (and kept); unusable paths found
# before the work; no temporary file left by a signal; two outputs naming one file refused; and
# svge-train's --resume refusing other training data. Devices are private nodes (mknod), never the
# real /dev/null.

load helpers

TINY=(--ndim 8 --gdim 4 --epochs 1)

setup_file() {
    graph-parse nb201 | stream-split --count 200 --seed 1 > "$BATS_FILE_TMPDIR/d200.zst"
    graph-parse nb201 | stream-split --count 200 --seed 2 > "$BATS_FILE_TMPDIR/e200.zst"
    graph-parse nb201 | stream-split --count 2000 --seed 1 > "$BATS_FILE_TMPDIR/d2000.zst"
}

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR/d200.zst"
    E="$BATS_FILE_TMPDIR/e200.zst"
}

# A private character device like /dev/null at $T/null (root only).
private_null() {
    [ "$(id -u)" -eq 0 ] || skip "mknod needs root"
    mknod -m 666 "$T/null" c 1 3 2> /dev/null || skip "mknod failed"
}

# No temporary file left in $T.
no_tmp() {
    local left
    left=$(find "$T" -name '*.tmp.*')
    [ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
}

@test "a character device output (a private /dev/null) is written through and stays a device" {
    private_null
    run_quiet stream-split --count 20 --rest "$T/null" "$D"
    assert_status 0
    [ -c "$T/null" ]
    run svge-train "${TINY[@]}" -q -o "$T/null" --checkpoint "$T/null" --metrics "$T/null" "$D"
    assert_status 0
    [ -c "$T/null" ]
    no_tmp
}

@test "a FIFO output gets the bytes and stays a FIFO" {
    stream-split --count 20 --seed 1 --rest "$T/rest.zst" "$D" > /dev/null
    mkfifo "$T/fifo"
    timeout 60 cat "$T/fifo" > "$T/got" &
    stream-split --count 20 --seed 1 --rest "$T/fifo" "$D" > /dev/null
    wait
    [ -p "$T/fifo" ]
    cmp "$T/rest.zst" "$T/got"
    # a model file too
    svge-train "${TINY[@]}" -q -o "$T/m" "$D"
    timeout 60 cat "$T/fifo" > "$T/gotm" &
    svge-train "${TINY[@]}" -q -o "$T/fifo" "$D"
    wait
    [ -p "$T/fifo" ]
    cmp "$T/m" "$T/gotm"
    no_tmp
}

@test "a symbolic link output stays a link and its final target gets the content" {
    stream-split --count 20 --seed 1 --rest "$T/rest.zst" "$D" > /dev/null
    mkdir "$T/sub"
    ln -s sub/target.zst "$T/link"   # relative: to the link's directory
    ln -s "$T/link" "$T/link2"       # a link to a link
    stream-split --count 20 --seed 1 --rest "$T/link2" "$D" > /dev/null
    [ -L "$T/link" ] && [ -L "$T/link2" ]
    [ -f "$T/sub/target.zst" ] && [ ! -L "$T/sub/target.zst" ]
    cmp "$T/rest.zst" "$T/sub/target.zst"
    # a checkpoint through a link, replaced on the second run
    ln -s sub/ck "$T/cklink"
    svge-train "${TINY[@]}" -q -o "$T/m" --checkpoint "$T/cklink" "$D"
    svge-train "${TINY[@]}" -q --seed 2 -o "$T/m2" --checkpoint "$T/cklink" "$D"
    [ -L "$T/cklink" ] && [ -f "$T/sub/ck" ]
    no_tmp
}

@test "a directory output fails before the work starts, naming the path (exit 3)" {
    mkdir "$T/adir"
    run svge-train "${TINY[@]}" -o "$T/adir" "$D"
    assert_status 3
    assert_output_has "svge-train: $T/adir: is a directory"
    [[ "$output" != *epoch* ]]
    run svge-train "${TINY[@]}" -o "$T/m" --checkpoint "$T/adir" "$D"
    assert_status 3
    assert_output_has "svge-train: $T/adir: is a directory"
    [[ "$output" != *epoch* ]]
    run_quiet stream-split --count 20 --rest "$T/adir" "$D"
    assert_status 3
    assert_output_has "stream-split: $T/adir: is a directory"
    [ -d "$T/adir" ] && [ ! -e "$T/m" ]
}

@test "an output in a missing directory fails before the work starts (gp-fit: before the fit)" {
    run svge-train "${TINY[@]}" -o "$T/m" --metrics "$T/nodir/met" "$D"
    assert_status 3
    assert_output_has "svge-train: $T/nodir/met: cannot write in directory '$T/nodir'"
    [[ "$output" != *epoch* ]]
    printf '%s\n' '{"v":1,"x":[0.1],"y":0.5}' '{"v":1,"x":[0.3],"y":0.7}' '{"v":1,"x":[0.9],"y":0.6}' \
        | jsonl-to-stream > "$T/pts.zst"
    run gp-fit --x x --y y -o "$T/nodir/gp" "$T/pts.zst"
    assert_status 3
    assert_output_has "gp-fit: $T/nodir/gp: cannot write in directory '$T/nodir'"
    run_quiet search-report --y y --curves "$T/nodir/c.tsv" "$T/pts.zst"
    assert_status 3
    assert_output_has "search-report: $T/nodir/c.tsv: cannot write in directory"
}

@test "SIGINT, SIGTERM, SIGHUP: no temporary file left, the exit status is the signal's" {
    local sig code
    for sig in INT:130 TERM:143 HUP:129; do
        code=${sig#*:}
        sig=${sig%:*}
        # stream-split holds --rest's temporary file while its input is still coming
        mkfifo "$T/in"
        env --default-signal="$sig" stream-split --count 5 --rest "$T/rest.zst" "$T/in" > /dev/null &
        local pid=$!
        exec 8> "$T/in"
        cat "$D" >&8
        for _ in $(seq 100); do [ -n "$(find "$T" -name 'rest.zst.tmp.*')" ] && break; sleep 0.05; done
        [ -n "$(find "$T" -name 'rest.zst.tmp.*')" ]
        kill -s "$sig" "$pid"
        local st=0
        wait "$pid" || st=$?
        exec 8>&-
        rm "$T/in"
        [ "$st" -eq "$code" ] || { echo "SIG$sig: exit $st, want $code" >&2; return 1; }
        [ ! -e "$T/rest.zst" ]
        no_tmp
    done
}

@test "svge-train killed mid-run: no temporary file, the checkpoint of an epoch (every epoch by default)" {
    env --default-signal=INT svge-train --ndim 8 --gdim 4 --epochs 100000 -q -o "$T/m" --checkpoint "$T/ck" \
        --metrics "$T/met" "$BATS_FILE_TMPDIR/d2000.zst" &
    local pid=$!
    for _ in $(seq 600); do [ -e "$T/ck" ] && break; sleep 0.05; done
    [ -e "$T/ck" ]
    # the first checkpoint comes after epoch 1, not 10: the metrics (rewritten every epoch) are short
    [ "$(tail -n +2 "$T/met" | wc -l)" -lt 9 ]
    sleep 0.3
    kill -s INT "$pid"
    local st=0
    wait "$pid" || st=$?
    [ "$st" -eq 130 ]
    no_tmp
    [ ! -e "$T/m" ]
    # whole metrics lines, and the checkpoint resumes
    [ "$(head -1 "$T/met" | cut -f1)" = epoch ]
    awk -F'\t' 'NR > 1 && NF != 7 { exit 1 }' "$T/met"
    run svge-train -q --resume "$T/ck" --epochs 100000 --max-minutes 0.000001 -o "$T/m" "$BATS_FILE_TMPDIR/d2000.zst"
    assert_status 0
    [ -s "$T/m" ]
}

@test "a failed rename: exit 3, no temporary file left, the old file kept" {
    local SHIM="$SVGE_UNIT/libfailio.so"
    [ -e "$SHIM" ] || skip "no $SHIM"
    # under SAN=1 the shim comes before the sanitizer runtime (as in io-errors.bats)
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    echo old > "$T/m"
    echo old > "$T/rest.zst"
    run env LD_PRELOAD="$SHIM" FAILIO_RENAME=1 svge-train "${TINY[@]}" -q -o "$T/m" --metrics "$T/met" "$D"
    assert_status 3
    assert_output_has "svge-train: $T/met: cannot rename into place: Input/output error"
    run env LD_PRELOAD="$SHIM" FAILIO_RENAME=1 svge-train "${TINY[@]}" -q -o "$T/m" "$D"
    assert_status 3
    assert_output_has "svge-train: $T/m: cannot rename into place: Input/output error"
    run env LD_PRELOAD="$SHIM" FAILIO_RENAME=1 bash -c 'stream-split --count 5 --rest "$1" "$2" > /dev/null' _ "$T/rest.zst" "$D"
    assert_status 3
    assert_output_has "stream-split: $T/rest.zst: cannot rename into place"
    [ "$(cat "$T/m")" = old ] && [ "$(cat "$T/rest.zst")" = old ]
    no_tmp
}

@test "two outputs naming one file are a usage error: -o X --checkpoint X, ./X, a symbolic link, --metrics" {
    run svge-train "${TINY[@]}" -o "$T/x" --checkpoint "$T/x" "$D"
    assert_status 2
    assert_output_has "svge-train: -o $T/x and --checkpoint $T/x are the same file"
    cd "$T"
    run svge-train "${TINY[@]}" -o x --checkpoint ./x "$D"
    assert_status 2
    assert_output_has "are the same file"
    : > existing
    ln -s existing alias
    run svge-train "${TINY[@]}" -o alias --checkpoint "$T/existing" "$D"
    assert_status 2
    assert_output_has "are the same file"
    mkdir sub
    run svge-train "${TINY[@]}" -o m --metrics "$T/sub/../m" "$D"
    assert_status 2
    run svge-train "${TINY[@]}" -o m --checkpoint ck --metrics ./ck "$D"
    assert_status 2
    assert_output_has "--checkpoint ck and --metrics ./ck are the same file"
    [ ! -e x ] && [ ! -e m ] && [ ! -s existing ]
}

@test "--resume refuses other training data of the same count (exit 1) and names an option that differs (exit 2)" {
    svge-train "${TINY[@]}" -q --epochs 2 -o "$T/m" --checkpoint "$T/ck" "$D"
    run svge-train -q --resume "$T/ck" --epochs 3 -o "$T/r" "$E"
    assert_status 1
    assert_output_has "svge-train: --resume $T/ck: the training data differ from the checkpoint's (digest "
    # the same graphs in another order are other training data too
    stream-split --count 200 --seed 9 "$D" > "$T/shuffled.zst"
    run svge-train -q --resume "$T/ck" --epochs 3 -o "$T/r" "$T/shuffled.zst"
    assert_status 1
    assert_output_has "the training data differ"
    run svge-train -q --resume "$T/ck" --epochs 3 --lr 0.001 -o "$T/r" "$D"
    assert_status 2
    assert_output_has "svge-train: --resume: --lr 0.001 differs from the checkpoint's 0.0001"
    run svge-train -q --resume "$T/ck" --epochs 3 --seed 2 -o "$T/r" "$D"
    assert_status 2
    assert_output_has "--seed 2 differs from the checkpoint's 1"
    [ ! -e "$T/r" ]
    # the same data: resumes, bitwise the uninterrupted run, with no note on this machine
    svge-train "${TINY[@]}" -q --epochs 3 -o "$T/straight" "$D"
    run svge-train --resume "$T/ck" --epochs 3 -o "$T/r" "$D"
    assert_status 0
    [[ "$output" != *"not be bitwise"* ]]
    cmp "$T/straight" "$T/r"
}

@test "a checkpoint records the data's digest, the CPU and the BLAS (a resume on another notes it); the model file does not" {
    svge-train "${TINY[@]}" -q -o "$T/m" --checkpoint "$T/ck" "$D"
    grep -aq train_data_md5 "$T/ck"
    grep -aq OpenBLAS "$T/ck"
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    [ -z "$cpu" ] || grep -aqF "$cpu" "$T/ck"
    ! grep -aq train_data_md5 "$T/m"
    # another BLAS kernel (OpenBLAS's DYNAMIC_ARCH picks the CPU's; this one forces an older core's)
    # rounds differently: a resume says so
    run env OPENBLAS_CORETYPE=Sandybridge svge-train --resume "$T/ck" --epochs 2 -o "$T/r" "$D"
    assert_status 0
    assert_output_has "svge-train: note: --resume $T/ck: the checkpoint was written on "
    assert_output_has "Sandybridge"
    assert_output_has ": the continuation will not be bitwise identical to an uninterrupted run"
}

@test "cell-train --resume refuses other images of the same count" {
    local A=(--stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 2 --batch 16 --train-images 32 --test-images 20 --no-timing -q)
    printf '%s\n' '{"v":1,"id":7,"space":"nb101","ops":["input","maxpool3x3","conv1x1-bn-relu","output"],"edges":[[0,1],[0,2],[1,3],[2,3]]}' \
        | jsonl-to-stream > "$T/small.zst"
    cell-train "${A[@]}" --checkpoint "$T/ck" --max-minutes 0.000001 < "$T/small.zst" > /dev/null 2>&1
    run_quiet cell-train "${A[@]}" --train "$SVGE_DATA/cifar10/test_small.jpgrec" --checkpoint "$T/ck" --resume < "$T/small.zst"
    assert_status 2
    assert_output_has "the checkpoint $T/ck was made with other images"
    run_quiet cell-train "${A[@]}" --checkpoint "$T/ck" --resume < "$T/small.zst"
    assert_status 0
}
