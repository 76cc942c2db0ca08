#!/usr/bin/env bats
# cell-train: NB101 (and ENAS) graph records -> the same records plus accuracies measured by training
# the network on CIFAR-10. Real binary, real (shipped) CIFAR-10 images, tiny networks (stem 4,
# one stack of one cell) and a few dozen images, so each run takes well under a second.

load helpers

TINY=(--stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 1 --batch 16 --train-images 32 --test-images 20 --no-timing -q)

# the best NB101 cell (id 171411) and a small one (id 7, 4 vertices), with extra fields
BEST='{"v":1,"id":171411,"space":"nb101","ops":["input","conv3x3-bn-relu","maxpool3x3","conv3x3-bn-relu","conv1x1-bn-relu","conv3x3-bn-relu","output"],"edges":[[0,1],[0,5],[0,6],[1,2],[2,3],[3,4],[3,5],[4,5],[5,6]],"note":"keep me","val_acc_108ep":0.94911861}'
SMALL='{"v":1,"id":7,"space":"nb101","ops":["input","maxpool3x3","conv1x1-bn-relu","output"],"edges":[[0,1],[0,2],[1,3],[2,3]],"x":[1,2]}'

setup() {
    setup_scratch
    printf '%s\n' "$BEST" "$SMALL" | jsonl-to-stream > "$T/two.zst"
    printf '%s\n' "$SMALL" | jsonl-to-stream > "$T/small.zst"
    printf '%s\n' "$BEST" | jsonl-to-stream > "$T/best.zst"
}

# ---------------------------------------------------------------- output

@test "adds accuracies, loss, parameters and epochs; every other field passes through in order" {
    run sh -c 'cell-train "$@" < "$0" | stream-to-jsonl' "$T/two.zst" "${TINY[@]}"
    assert_status 0
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
    # the input fields first, unchanged and in order, then the new ones
    printf '%s\n' "$output" | sed -n 1p | grep -q '^{"v":1,"id":171411,"space":"nb101",.*"note":"keep me","val_acc_108ep":0.94911861,"train_accuracy":'
    printf '%s\n' "$output" | sed -n 2p | grep -q '"x":\[1,2\],"train_accuracy":'
    printf '%s\n' "$output" | grep -Eq '"train_accuracy":(0|1|0\.[0-9]+),"test_accuracy":(0|1|0\.[0-9]+),"train_loss":[0-9.]+,"parameters":[0-9]+,"train_epochs":1}$'
    [[ "$output" != *train_seconds* ]]
}

@test "train_seconds is there unless --no-timing; the parameter count is the network's" {
    run sh -c 'cell-train --stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 1 --batch 16 --train-images 32 --test-images 20 -q < "$0" | stream-to-jsonl' "$T/small.zst"
    assert_status 0
    assert_output_has '"train_epochs":1,"train_seconds":'
    # stem 4 -> cell 4: stem 3*3*3*4 + 8 (BN); projection 0->2: 4*2+4 (vertex 2 has 2 channels);
    # conv1x1 2->2: 4+4; projection of the input into the maxpool vertex 1: 4*2+4; dense 4*10+10
    assert_output_has '"parameters":'"$((108 + 8 + 12 + 8 + 12 + 50))"','
}

@test "deterministic: the same command gives the same bytes; another seed, other results" {
    cell-train "${TINY[@]}" < "$T/two.zst" > "$T/a.zst"
    cell-train "${TINY[@]}" < "$T/two.zst" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    cell-train "${TINY[@]}" --seed 5 < "$T/two.zst" > "$T/c.zst"
    ! cmp -s "$T/a.zst" "$T/c.zst"
}

@test "--threads: the same bytes for every thread count (NB101 and ENAS networks, checkpoints too)" {
    local E=(--enas-filters 4 --epochs 1 --batch 16 --train-images 32 --test-images 21 --no-timing -q)
    graph-parse enas6 | stream-split --shard 0/20000 > "$T/e6.zst"
    cat "$T/two.zst" "$T/e6.zst" > "$T/mix.zst"
    # the default (one thread per CPU) is --threads 1's output; 3 threads for 4 tasks, 5 for more
    # threads than tasks; --test-images 21 leaves the last evaluation batch fewer images than tasks
    cell-train "${TINY[@]}" --test-images 21 < "$T/mix.zst" > "$T/default.zst"
    for t in 1 2 3 5; do
        cell-train "${TINY[@]}" --test-images 21 --threads "$t" < "$T/mix.zst" | cmp - "$T/default.zst"
    done
    for t in 1 3; do
        cell-train "${E[@]}" --enas-separable --threads "$t" < "$T/e6.zst" > "$T/sep$t.zst"
        cell-train "${E[@]}" --enas-mode shared --threads "$t" < "$T/e6.zst" > "$T/shared$t.zst"
    done
    cmp "$T/sep1.zst" "$T/sep3.zst"
    cmp "$T/shared1.zst" "$T/shared3.zst"
    # checkpoints hold elapsed seconds, so they are compared by what a resume at the other thread count writes
    local A=(--stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 2 --batch 16 --train-images 32 --test-images 20 --no-timing -q)
    cell-train "${A[@]}" --threads 1 --checkpoint "$T/ck1" --max-minutes 0.000001 < "$T/best.zst" > /dev/null 2>&1
    cell-train "${A[@]}" --threads 2 --checkpoint "$T/ck2" --max-minutes 0.000001 < "$T/best.zst" > /dev/null 2>&1
    cell-train "${A[@]}" --threads 1 < "$T/best.zst" > "$T/full.zst"
    cell-train "${A[@]}" --threads 2 --checkpoint "$T/ck1" --resume < "$T/best.zst" | cmp - "$T/full.zst"
    cell-train "${A[@]}" --threads 1 --checkpoint "$T/ck2" --resume < "$T/best.zst" | cmp - "$T/full.zst"
}

@test "a record's result does not depend on its position in the stream" {
    cell-train "${TINY[@]}" < "$T/two.zst" | stream-to-jsonl | sed -n 2p > "$T/second"
    cell-train "${TINY[@]}" < "$T/small.zst" | stream-to-jsonl > "$T/alone"
    cmp "$T/second" "$T/alone"
}

@test "existing result fields are replaced, not duplicated" {
    printf '%s\n' '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2]],"test_accuracy":"old","parameters":-1}' \
        | jsonl-to-stream > "$T/in.zst"
    run sh -c 'cell-train "$@" < "$0" | stream-to-jsonl' "$T/in.zst" "${TINY[@]}"
    assert_status 0
    [ "$(printf '%s\n' "$output" | grep -o '"test_accuracy"' | wc -l)" -eq 1 ]
    [[ "$output" != *old* ]]
    [[ "$output" != *'"parameters":-1'* ]]
}

@test "empty input: empty output, exit 0; progress lines on stderr, one per epoch" {
    : | zstd -q -c > /dev/null
    printf '' | jsonl-to-stream > "$T/empty.zst"
    run sh -c 'cell-train "$@" < "$0" | stream-to-jsonl | wc -l' "$T/empty.zst" "${TINY[@]}"
    assert_status 0
    [ "$output" = 0 ]
    run sh -c 'cell-train --stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 2 --batch 16 --train-images 32 --test-images 20 < "$0" 2>&1 >/dev/null' "$T/small.zst"
    assert_status 0
    [ "$(printf '%s\n' "$output" | grep -c 'record 1 epoch [12]/2: loss')" -eq 2 ]
    assert_output_has "record 1: test accuracy"
}

@test "reads CIFAR-10 binary batches (data_batch_N.bin format)" {
    # 40 records: label k % 10, then 3072 pseudo-random pixel bytes
    LC_ALL=C awk 'BEGIN { srand(3); for (k = 0; k < 40; k++) { printf "%c", k % 10; for (i = 0; i < 3072; i++) printf "%c", int(rand() * 256) } }' > "$T/batch.bin"
    [ "$(stat -c %s "$T/batch.bin")" -eq $((40 * 3073)) ]
    run sh -c 'cell-train "$@" < "$0" | stream-to-jsonl' "$T/small.zst" "${TINY[@]}" --train "$T/batch.bin" --test "$T/batch.bin"
    assert_status 0
    assert_output_has '"train_accuracy":'
}

@test "--checkpoint, --max-minutes and --resume: an interrupted run ends with the same bytes" {
    local A=(--stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 2 --batch 16 --train-images 32 --test-images 20 --no-timing -q)
    cell-train "${A[@]}" < "$T/two.zst" > "$T/full.zst"
    # stops after the first epoch (any elapsed time exceeds 0.000001 minutes), before any record is done
    run sh -c 'cell-train "$@" < "$0" > "$0.out"' "$T/two.zst" "${A[@]}" --checkpoint "$T/ck" --max-minutes 0.000001
    assert_status 0
    assert_output_has "stopped after"
    assert_output_has "rerun with --resume"
    [ "$(stream-to-jsonl < "$T/two.zst.out" | wc -l)" -eq 0 ]
    [ -f "$T/ck" ]
    # finishes record 1, stops after record 2's first epoch
    cell-train "${A[@]}" --checkpoint "$T/ck" --resume --max-minutes 0.000001 < "$T/two.zst" > "$T/part.zst" 2> /dev/null
    [ "$(stream-to-jsonl < "$T/part.zst" | wc -l)" -eq 1 ]
    cell-train "${A[@]}" --checkpoint "$T/ck" --resume < "$T/two.zst" > "$T/resumed.zst"
    cmp "$T/full.zst" "$T/resumed.zst"
    # a finished checkpoint replays its results
    cell-train "${A[@]}" --checkpoint "$T/ck" --resume < "$T/two.zst" > "$T/again.zst"
    cmp "$T/full.zst" "$T/again.zst"
    [ -z "$(ls "$T" | grep '\.tmp\.')" ] # no temporary checkpoint left behind
}

@test "--resume refuses a checkpoint of other options or other input" {
    local A=(--stem-channels 4 --stacks 1 --cells-per-stack 1 --epochs 2 --batch 16 --train-images 32 --test-images 20 --no-timing -q)
    cell-train "${A[@]}" --checkpoint "$T/ck" --max-minutes 0.000001 < "$T/two.zst" > /dev/null 2>&1
    run_quiet cell-train "${A[@]}" --checkpoint "$T/ck" --resume --seed 3 < "$T/two.zst"
    assert_status 2
    assert_output_has "the checkpoint $T/ck has seed 0, this run 3"
    run_quiet cell-train "${A[@]}" --checkpoint "$T/ck" --resume < "$T/small.zst"
    assert_status 1
    assert_output_has "record 1: not the cell the checkpoint $T/ck was training"
    run_quiet cell-train "${A[@]}" --checkpoint "$T/missing" --resume < "$T/two.zst"
    assert_status 3
    assert_output_has "$T/missing"
    printf 'not a checkpoint' > "$T/junk"
    run_quiet cell-train "${A[@]}" --checkpoint "$T/junk" --resume < "$T/two.zst"
    assert_status 1
    assert_output_has "$T/junk"
}

# ---------------------------------------------------------------- bad input

@test "ENAS-6 and ENAS-12 architectures train as ENAS macro networks, in a stream with NB101 cells" {
    local E=(--enas-filters 4 --epochs 1 --batch 16 --train-images 32 --test-images 20 --no-timing -q)
    graph-parse enas6 | stream-split --shard 0/10000 > "$T/e6.zst"   # ENAS-6 lines 0, 10,000, 20,000
    # a 12-layer architecture in D-VAE's line format: layer i's op, then its skip bits
    echo '[[0],[1,0],[2,1,0],[3,0,1,0],[4,0,0,1,0],[5,0,0,0,1,0],[0,0,0,0,0,1,0],[1,0,0,0,0,0,1,0],[2,0,0,0,0,0,0,1,0],[3,0,0,0,0,0,0,0,1,0],[4,0,0,0,0,0,0,0,0,1,0],[5,0,0,0,0,0,0,0,0,0,1,0]], 0.5' > "$T/e12.txt"
    graph-parse enas12 "$T/e12.txt" > "$T/e12.zst"
    cat "$T/e6.zst" "$T/e12.zst" "$T/small.zst" | cell-train "${E[@]}" > "$T/out.zst"
    stream-to-jsonl < "$T/out.zst" > "$T/out.jsonl"
    [ "$(grep -c '"test_accuracy":[0-9.e-]*,"train_loss":[0-9.e-]*,"parameters":[1-9][0-9]*,"train_epochs":1}$' "$T/out.jsonl")" -eq 5 ]
    [ "$(grep -o '"space":"[a-z0-9]*"' "$T/out.jsonl" | tr '\n' ' ')" = '"space":"enas6" "space":"enas6" "space":"enas6" "space":"enas12" "space":"nb101" ' ]
    # the network follows the options: more filters, more parameters; the two modes differ
    p4=$(head -1 "$T/out.jsonl" | grep -o '"parameters":[0-9]*')
    p8=$(stream-split --shard 0/3 < "$T/e6.zst" | cell-train "${E[@]}" --enas-filters 8 | stream-to-jsonl | grep -o '"parameters":[0-9]*')
    [ "${p8#*:}" -gt "${p4#*:}" ]
    ps=$(stream-split --shard 0/3 < "$T/e6.zst" | cell-train "${E[@]}" --enas-mode shared | stream-to-jsonl | grep -o '"parameters":[0-9]*')
    [ "$ps" != "$p4" ]
    run_quiet cell-train "${E[@]}" --enas-filters 5 < "$T/e6.zst"
    assert_status 2
    assert_output_has "--enas-filters: '5' is odd"
    run_quiet cell-train "${E[@]}" --enas-mode both < "$T/e6.zst"
    assert_status 2
}

@test "rejects graphs of other spaces and invalid NB101 cells, naming the record" {
    graph-parse nb201 | stream-split --shard 0/15625 > "$T/nb201.zst"
    run_quiet cell-train "${TINY[@]}" < "$T/nb201.zst"
    assert_status 1
    assert_output_has "cell-train: stdin: record 1: a graph of space nb201; cell-train trains nb101 / nb101x cells and enas6 / enas12 architectures"
    # vertex 2 does not reach the output
    printf '%s\n' "$SMALL" '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","output"],"edges":[[0,1],[0,2],[1,3]]}' \
        | jsonl-to-stream > "$T/bad.zst"
    run sh -c 'cell-train "$@" < "$0" > "$0.out"' "$T/bad.zst" "${TINY[@]}"
    assert_status 1
    assert_output_has "record 2: invalid nb101 cell"
    # the record before the bad one was trained and written
    [ "$(stream-to-jsonl < "$T/bad.zst.out" | wc -l)" -eq 1 ]
    printf '%s\n' '{"v":1,"space":"nb101","ops":["input","conv9x9","output"],"edges":[[0,1],[1,2]]}' | jsonl-to-stream > "$T/op.zst"
    run_quiet cell-train "${TINY[@]}" < "$T/op.zst"
    assert_status 1
    assert_output_has "record 1:"
    assert_output_has "conv9x9"
}

@test "rejects malformed streams" {
    GOOD_RECORD_JSON=$SMALL assert_rejects_bad_streams cell-train "${TINY[@]}"
}

@test "missing, corrupt and wrong-size data files" {
    run_quiet cell-train "${TINY[@]}" --train "$T/nonexistent.jpgrec" < "$T/small.zst"
    assert_status 3
    assert_output_has "cell-train: $T/nonexistent.jpgrec: cannot open"
    head -c 5000 /dev/zero > "$T/zero.bin"
    run_quiet cell-train "${TINY[@]}" --train "$T/zero.bin" < "$T/small.zst"
    assert_status 1
    assert_output_has "$T/zero.bin: bad magic"
    head -c 3000 "$SVGE_DATA/cifar10/test_small.jpgrec" > "$T/trunc.jpgrec"
    run_quiet cell-train "${TINY[@]}" --test "$T/trunc.jpgrec" < "$T/small.zst"
    assert_status 1
    assert_output_has "$T/trunc.jpgrec: header says 1000 records"
    # record 0's JPEG says 16x16 (its SOF0 size bytes patched)
    perl -e 'local $/; binmode STDIN; $d = <STDIN>; $i = index($d, "\xff\xc0"); substr($d, $i + 5, 4) = pack("nn", 16, 16); binmode STDOUT; print $d' \
        < "$SVGE_DATA/cifar10/test_small.jpgrec" > "$T/small16.jpgrec"
    run_quiet cell-train "${TINY[@]}" --test "$T/small16.jpgrec" < "$T/small.zst"
    assert_status 1
    assert_output_has "record 0: JPEG is 16x16 with 3 components (expected 32x32 with 3)"
    run_quiet cell-train "${TINY[@]}" --train-images 30000 < "$T/small.zst"
    assert_status 1
    assert_output_has "--train-images 30000, the file has 20000"
}

@test "impossible budgets and bad options are usage errors (exit 2)" {
    local c
    for c in "--epochs 0|--epochs: '0' is not an integer in [1, 100000]" \
             "--batch 0|--batch: '0' is not an integer in [1, 4096]" \
             "--stem-channels 0|--stem-channels: '0' is not an integer in [1, 4096]" \
             "--stacks 7|--stacks: '7' is not an integer in [1, 6]" \
             "--cells-per-stack 0|--cells-per-stack: '0'" \
             "--train-images 0|--train-images: '0'" \
             "--lr nan|--lr: 'nan' is not a number" \
             "--lr -1|--lr: '-1' is not a number" \
             "--optimizer adam|--optimizer: 'adam' is not one of rmsprop, sgd" \
             "--resume|--resume needs --checkpoint FILE" \
             "--max-minutes 5|--max-minutes needs --checkpoint FILE" \
             "--threads 257|--threads: '257' is not an integer in [0, 256]" \
             "--threads -1|--threads: '-1' is not an integer in [0, 256]" \
             "--threads x|--threads: 'x' is not an integer in [0, 256]" \
             "--bogus|unknown option '--bogus'"; do
        # shellcheck disable=SC2086
        run_quiet cell-train ${c%%|*} < "$T/small.zst"
        assert_status 2
        assert_output_has "${c#*|}"
    done
    run cell-train --help
    assert_status 0
    assert_output_has "--stem-channels N"
    assert_output_has "--checkpoint FILE"
}

@test "networks too large for the machine or the image are refused with a reason" {
    run_quiet cell-train "${TINY[@]}" --stem-channels 4096 --stacks 3 < "$T/best.zst"
    assert_status 1
    assert_output_has "record 1: cannot build the network: conv_bn_relu: more than 2147483648 parameters"
    run_quiet cell-train "${TINY[@]}" --stem-channels 2048 --batch 4096 --train-images 5000 < "$T/small.zst"
    assert_status 1
    assert_output_has "GiB"
    # the best cell's output takes 1 input: stem 1 fits; a cell whose output has 3 inputs does not
    printf '%s\n' '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","output"],"edges":[[0,1],[0,2],[0,3],[1,4],[2,4],[3,4]]}' \
        | jsonl-to-stream > "$T/fan3.zst"
    run_quiet cell-train "${TINY[@]}" --stem-channels 2 < "$T/fan3.zst"
    assert_status 1
    assert_output_has "record 1: cannot build the network: stem 2 channels cannot be split"
}
