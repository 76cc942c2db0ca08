#!/usr/bin/env bats
# graph-gen: generated graph records: SVGe's 8-node NB101 extrapolation set (space nb101x) and
# random ENAS-12 architectures; and the tools that take nb101x graphs (graph-hash, bench-lookup,
# cell-train, svge-encode with an nb101 model, graph-features).

load helpers

# The reference's best extrapolation cell: family b, OP conv3x3, the new input feeding every node.
WINNER_OPS='"ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv1x1-bn-relu","output"]'
WINNER_EDGES='"edges":[[0,1],[0,2],[0,3],[0,4],[0,5],[0,6],[0,7],[1,2],[1,3],[1,5],[1,7],[2,6],[3,4],[4,5],[5,6],[6,7]]'
WINNER="{\"v\":1,\"space\":\"nb101x\",$WINNER_OPS,$WINNER_EDGES}"

setup() { setup_scratch; }

@test "graph-gen --help lists the kinds and every option with its default, and the exit status" {
    run graph-gen --help
    assert_status 0
    for w in nb101-8 enas12 --seed "default 1" --count --valid-only --quiet --verbose --help "Exit status" \
        "510 of c"; do assert_output_has "$w"; done
}

@test "nb101-8: 192 + 192 + 1,000 cells of 8 nodes in space nb101x, ids 0..1383, each saying how it was made" {
    graph-gen nb101-8 | stream-to-jsonl > "$T/all.jsonl"
    [ "$(wc -l < "$T/all.jsonl")" -eq 1384 ]
    [ "$(grep -c '"gen":{"family":"a","op":' "$T/all.jsonl")" -eq 192 ]
    [ "$(grep -c '"gen":{"family":"b","op":' "$T/all.jsonl")" -eq 192 ]
    [ "$(grep -c '"gen":{"family":"c","seed":1,"draw":' "$T/all.jsonl")" -eq 1000 ]
    [ "$(jq -c 'select(.space == "nb101x" and (.ops | length) == 8 and .ops[0] == "input" and .ops[7] == "output")' "$T/all.jsonl" | wc -l)" -eq 1384 ]
    [ "$(jq -r .id "$T/all.jsonl" | tr '\n' ' ')" = "$(seq -s ' ' 0 1383) " ]
    # family a: every subset of {0..5} feeds the new output once per operation; 6->7 always
    [ "$(jq -c 'select(.gen.family == "a") | [.gen.op, .gen.extra]' "$T/all.jsonl" | sort -u | wc -l)" -eq 192 ]
    [ "$(jq -c 'select(.gen.family == "a" and (.edges | index([[6,7]])) == null)' "$T/all.jsonl" | wc -l)" -eq 0 ]
    [ "$(jq -c 'select(.gen.family == "b" and (.edges | index([[0,1]])) == null)' "$T/all.jsonl" | wc -l)" -eq 0 ]
}

@test "nb101-8 contains the reference's best cell (8 nodes, 16 edges), as family b" {
    graph-gen nb101-8 | stream-to-jsonl > "$T/all.jsonl"
    run grep -cF "$WINNER_OPS,$WINNER_EDGES,\"gen\":{\"family\":\"b\",\"op\":\"conv3x3-bn-relu\",\"extra\":[2,3,4,5,6,7]}" "$T/all.jsonl"
    [ "$output" = 1 ]
}

@test "nb101-8 is deterministic: the same seed the same bytes; another seed changes family c only" {
    graph-gen nb101-8 > "$T/a.zst"
    graph-gen nb101-8 --seed 1 > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    graph-gen nb101-8 -s 2 > "$T/c.zst"
    stream-to-jsonl < "$T/a.zst" > "$T/a.jsonl"
    stream-to-jsonl < "$T/c.zst" > "$T/c.jsonl"
    cmp <(head -n 384 "$T/a.jsonl") <(head -n 384 "$T/c.jsonl")
    ! cmp -s <(tail -n 1000 "$T/a.jsonl" | jq -c '[.ops, .edges]') <(tail -n 1000 "$T/c.jsonl" | jq -c '[.ops, .edges]')
}

@test "nb101-8 --valid-only: 894 of 1,384 with seed 1 (every a and b, 510 of c), ids kept; graph-hash takes them all" {
    graph-gen nb101-8 --valid-only > "$T/v.zst"
    stream-to-jsonl < "$T/v.zst" > "$T/v.jsonl"
    [ "$(wc -l < "$T/v.jsonl")" -eq 894 ]
    [ "$(grep -c '"family":"c"' "$T/v.jsonl")" -eq 510 ]
    [ "$(jq -r .id "$T/v.jsonl" | tail -1)" -le 1383 ]
    # graph-hash refuses invalid graphs: the valid ones all hash; the whole set does not
    [ "$(graph-hash < "$T/v.zst" | stream-to-jsonl | grep -c '"hash":"[0-9a-f]\{32\}"')" -eq 894 ]
    [ "$(graph-gen nb101-8 | graph-features --kind adj-onehot --skip-invalid 2>/dev/null | stream-to-jsonl | wc -l)" -eq 894 ]
    run bash -c 'graph-gen nb101-8 --valid-only -v > /dev/null'
    assert_output_has "1384 nb101x graphs generated, 894 valid, 894 written"
}

@test "nb101x validity: NB101's rules without its size limits; at most 8 nodes; a dangling node is invalid" {
    # 16 edges and 8 nodes are fine in nb101x, not in nb101
    printf '%s\n' "$WINNER" | jsonl-to-stream | graph-features --kind adj-onehot | stream-to-jsonl > "$T/f.jsonl"
    [ "$(jq '.features | length' "$T/f.jsonl")" -eq 68 ]
    printf '%s\n' "${WINNER/nb101x/nb101}" | jsonl-to-stream > "$T/nb101.zst"
    run_quiet graph-features --kind adj-onehot "$T/nb101.zst"
    assert_status 1
    assert_output_has "8 nodes; nb101 graphs have 2 to 7"
    # 9 nodes
    printf '%s\n' '{"v":1,"space":"nb101x","ops":["input","maxpool3x3","maxpool3x3","maxpool3x3","maxpool3x3","maxpool3x3","maxpool3x3","maxpool3x3","output"],"edges":[[0,1],[1,2],[2,3],[3,4],[4,5],[5,6],[6,7],[7,8]]}' \
        | jsonl-to-stream > "$T/nine.zst"
    run_quiet graph-features --kind adj-onehot "$T/nine.zst"
    assert_status 1
    assert_output_has "graph-features: $T/nine.zst: record 1: 9 nodes; nb101x graphs have 2 to 8"
    # a node on no input->output path
    printf '%s\n' '{"v":1,"space":"nb101x","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","output"],"edges":[[0,1],[0,2],[1,3]]}' \
        | jsonl-to-stream > "$T/dangling.zst"
    run_quiet graph-features --kind adj-onehot "$T/dangling.zst"
    assert_status 1
    assert_output_has "node 2 is not on any input->output path"
}

@test "graph-hash on nb101x: NB101's hash (an nb101x cell that is an NB101 cell hashes as it), dangling nodes pruned" {
    small='"ops":["input","conv3x3-bn-relu","maxpool3x3","output"],"edges":[[0,1],[0,2],[1,3],[2,3]]'
    # the same cell with its inner nodes swapped, and with a dangling node added
    swapped='"ops":["input","maxpool3x3","conv3x3-bn-relu","output"],"edges":[[0,1],[0,2],[1,3],[2,3]]'
    dangling='"ops":["input","conv3x3-bn-relu","maxpool3x3","conv1x1-bn-relu","output"],"edges":[[0,1],[0,2],[0,3],[1,4],[2,4]]'
    printf '%s\n' "{\"v\":1,\"space\":\"nb101\",$small}" "{\"v\":1,\"space\":\"nb101x\",$small}" \
        "{\"v\":1,\"space\":\"nb101x\",$swapped}" "{\"v\":1,\"space\":\"nb101x\",$dangling}" \
        | jsonl-to-stream | graph-hash | stream-to-jsonl > "$T/h.jsonl"
    [ "$(jq -r .hash "$T/h.jsonl" | sort -u | wc -l)" -eq 1 ]
    # and --verify agrees on the whole valid set
    graph-gen nb101-8 --valid-only | graph-hash | graph-hash --verify > /dev/null
}

@test "bench-lookup: an nb101x cell is never in the NB101 table: not-found with a note, not an error" {
    fits='{"v":1,"space":"nb101x","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2]]}'
    printf '%s\n' "$WINNER" "$fits" | jsonl-to-stream > "$T/x.zst"
    run bash -c "bench-lookup < '$T/x.zst' | stream-to-jsonl"
    assert_status 0
    assert_output_has "bench-lookup: stdin: record 1: nb101x graph: no benchmark table has nb101x cells"
    [ "$(printf '%s\n' "$output" | grep -c '"lookup":"not-found"}$')" -eq 2 ]
    # the same small cell as space nb101 is found
    printf '%s\n' "${fits/nb101x/nb101}" | jsonl-to-stream | bench-lookup | stream-to-jsonl | grep -q '"lookup":"found","bench_id":'
    run_quiet bench-lookup --missing fail < "$T/x.zst"
    assert_status 1
    assert_output_has "bench-lookup: stdin: record 1: nb101x graph: no benchmark table has nb101x cells (NAS-Bench-101 holds cells of at most 7 nodes and 9 edges"
    # an invalid nb101x cell is "invalid"
    printf '%s\n' '{"v":1,"space":"nb101x","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1]]}' \
        | jsonl-to-stream | bench-lookup -q | stream-to-jsonl | grep -q '"lookup":"invalid"'
}

@test "cell-train trains the 8-node winner with NB101's network (tiny setting)" {
    printf '%s\n' "$WINNER" | jsonl-to-stream \
        | cell-train -q --epochs 1 --train-images 256 --test-images 64 --train-eval-images 64 --stem-channels 4 --stacks 1 --no-timing \
        | stream-to-jsonl > "$T/out.jsonl"
    jq -e '.space == "nb101x" and (.test_accuracy >= 0 and .test_accuracy <= 1) and .parameters > 0 and .train_epochs == 1' "$T/out.jsonl"
}

@test "svge-encode: an nb101 model encodes nb101x graphs of 8 nodes; the nb101 records' z do not change" {
    graph-parse nb101 --no-accuracies | stream-split --shard 0/1000 > "$T/nb101.zst"   # 424 cells
    svge-train -q --ndim 16 --gdim 8 --epochs 1 -o "$T/m" < "$T/nb101.zst"
    graph-gen nb101-8 --valid-only | stream-split --shard 0/8 > "$T/x.zst"
    cat "$T/nb101.zst" "$T/x.zst" > "$T/both.zst"
    svge-encode -q -m "$T/m" < "$T/both.zst" | stream-to-jsonl > "$T/both.jsonl"
    svge-encode -q -m "$T/m" < "$T/nb101.zst" | stream-to-jsonl > "$T/alone.jsonl"
    n=$(wc -l < "$T/alone.jsonl")
    [ "$n" -eq 424 ]
    [ "$(wc -l < "$T/both.jsonl")" -gt 500 ]
    cmp <(head -n "$n" "$T/both.jsonl") "$T/alone.jsonl"
    [ "$(tail -n +"$((n + 1))" "$T/both.jsonl" | jq -c 'select(.space == "nb101x" and (.ops | length) == 8 and (.z | length) == 8)' | wc -l)" -eq "$(($(wc -l < "$T/both.jsonl") - n))" ]
    # the same z for an 8-node graph whatever the batch
    svge-encode -q -m "$T/m" --batch 1 < "$T/x.zst" | stream-to-jsonl | jq -c .z > "$T/b1"
    svge-encode -q -m "$T/m" < "$T/x.zst" | stream-to-jsonl | jq -c .z > "$T/b512"
    [ "$(wc -l < "$T/b1")" -gt 50 ]
    python3 - "$T/b1" "$T/b512" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b)
assert max(abs(x - y) for u, v in zip(a, b) for x, y in zip(u, v)) < 1e-4
EOF
    # an invalid nb101x graph and a graph of another vocabulary are still refused, naming the record
    printf '%s\n' '{"v":1,"space":"nb101x","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1]]}' | jsonl-to-stream > "$T/bad.zst"
    run_quiet svge-encode -m "$T/m" "$T/bad.zst"
    assert_status 1
    assert_output_has "record 1: invalid nb101x graph: node 0 is not on any input->output path"
    graph-gen enas12 -n 1 > "$T/e.zst"
    run_quiet svge-encode -m "$T/m" "$T/e.zst"
    assert_status 1
    assert_output_has "record 1: graph of space enas12, this model is for nb101"
}

@test "svge-encode: an enas6 model encodes enas12 architectures (the same vocabulary, 14 nodes)" {
    graph-parse enas6 | stream-split --shard 0/100 > "$T/e6.zst"   # 201 architectures
    svge-train -q --ndim 8 --gdim 4 --epochs 1 -o "$T/m" < "$T/e6.zst"
    graph-gen enas12 -n 20 > "$T/e12.zst"
    cat "$T/e6.zst" "$T/e12.zst" | svge-encode -q -m "$T/m" | stream-to-jsonl > "$T/z.jsonl"
    [ "$(jq -c 'select((.z | length) == 4)' "$T/z.jsonl" | wc -l)" -eq 221 ]
    [ "$(jq -c 'select(.space == "enas12" and (.ops | length) == 14)' "$T/z.jsonl" | wc -l)" -eq 20 ]
}

@test "enas12 -n N: N valid 12-layer architectures with their arch; seeded; a prefix of a longer run" {
    graph-gen enas12 -n 300 --seed 7 > "$T/e.zst"
    stream-to-jsonl < "$T/e.zst" > "$T/e.jsonl"
    [ "$(wc -l < "$T/e.jsonl")" -eq 300 ]
    # graph-hash refuses any invalid graph; cell-train checks the same rules
    [ "$(graph-hash < "$T/e.zst" | stream-to-jsonl | jq -c 'select(.space == "enas12" and (.ops | length) == 14 and (.arch | startswith("[[")))' | wc -l)" -eq 300 ]
    # skip bits drawn with probability 1/2: 300 x 66 possible skips (layer i has i), about half present
    skips=$(jq '(.edges | length) - 13' "$T/e.jsonl" | paste -sd+ | bc)
    [ "$skips" -gt 9400 ] && [ "$skips" -lt 10400 ]
    # every operation appears
    [ "$(jq -r '.ops[1:13][]' "$T/e.jsonl" | sort -u | wc -l)" -eq 6 ]
    cmp <(graph-gen enas12 -n 300 --seed 7 | stream-to-jsonl) "$T/e.jsonl"
    cmp <(graph-gen enas12 -n 10 --seed 7 | stream-to-jsonl) <(head -n 10 "$T/e.jsonl")
    ! cmp -s <(graph-gen enas12 -n 10 --seed 8 | stream-to-jsonl) <(head -n 10 "$T/e.jsonl")
    # the arch string reads back as the same graph
    jq -r .arch "$T/e.jsonl" | head -3 | awk '{print $0 ", 0.5"}' > "$T/arch.txt"
    graph-parse enas12 "$T/arch.txt" | stream-to-jsonl | jq -c '[.ops, .edges]' > "$T/back"
    cmp "$T/back" <(head -n 3 "$T/e.jsonl" | jq -c '[.ops, .edges]')
}

@test "graph-gen usage errors exit 2 with a message" {
    run graph-gen
    assert_status 2
    assert_output_has "graph-gen: missing KIND (nb101-8 or enas12)"
    run graph-gen nb201
    assert_status 2
    assert_output_has "unknown KIND 'nb201'"
    run graph-gen enas12
    assert_status 2
    assert_output_has "enas12 needs --count N"
    run graph-gen nb101-8 -n 5
    assert_status 2
    assert_output_has "--count is for enas12"
    run graph-gen enas12 -n 5 --valid-only
    assert_status 2
    run graph-gen enas12 -n 0
    assert_status 2
    assert_output_has "graph-gen: --count: '0' is not an integer in [1, 100000000]"
    run graph-gen nb101-8 --seed -1
    assert_status 2
    run graph-gen nb101-8 extra
    assert_status 2
    assert_output_has "unexpected argument 'extra'"
    run graph-gen nb101-8 --bogus
    assert_status 2
    run graph-parse nb101x
    assert_status 2
    assert_output_has "nb101x has no native file"
}

@test "graph-gen: a closed stdout is an I/O error (exit 3)" {
    run bash -c 'graph-gen nb101-8 > /dev/full'
    assert_status 3
}
