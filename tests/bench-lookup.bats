#!/usr/bin/env bats
# bench-lookup: the benchmark oracle, on the real tables in data/.

load helpers

setup() { setup_scratch; }

# one JSON record -> stream
rec() { echo "$1" | jsonl-to-stream; }

@test "bench-lookup --help documents the fields and options" {
    run bench-lookup --help
    assert_status 0
    for w in lookup bench_id --table --missing found not-found invalid; do assert_output_has "$w"; done
}

@test "bench-lookup finds every NB101 cell and adds the 20,001 known accuracies" {
    graph-parse nb101 --no-accuracies | bench-lookup | stream-to-jsonl > "$T/out.jsonl"
    [ "$(wc -l < "$T/out.jsonl")" -eq 423624 ]
    [ "$(grep -c '"lookup":"found"' "$T/out.jsonl")" -eq 423624 ]
    [ "$(grep -c '"val_acc_108ep"' "$T/out.jsonl")" -eq 20001 ]
    head -1 "$T/out.jsonl" | grep -q '"lookup":"found","bench_id":0,"val_acc_4ep":0.54046476,"val_acc_12ep":0.69401044,"val_acc_36ep":0.81550479,"val_acc_108ep":0.83583736,"training_time_108ep_s":284.243,"trainable_parameters":882570}$'
}

@test "bench-lookup prunes NB101 cells as nasbench does: a dangling node finds the pruned cell" {
    # table cell 67: input, conv3x3, conv3x3, output; 0->1, 0->2, 0->3, 1->3, 2->3 (val_acc_108ep 0.94290864)
    rec '{"v":1,"id":7,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","maxpool3x3","output"],"edges":[[0,1],[0,2],[0,3],[0,4],[1,4],[2,4]]}' \
        | bench-lookup | stream-to-jsonl > "$T/got.jsonl"
    grep -q '"id":7,' "$T/got.jsonl"
    grep -q '"lookup":"found","bench_id":67,' "$T/got.jsonl"
    grep -q '"val_acc_108ep":0.94290864' "$T/got.jsonl"
    # the same cell with its two conv nodes' in-edges from the input given in another order of nodes
    rec '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","output"],"edges":[[0,2],[0,1],[0,3],[2,3],[1,3]]}' \
        | bench-lookup | stream-to-jsonl | grep -q '"bench_id":67,'
}

@test "bench-lookup nb201 and enas6: every graph of the table finds itself" {
    graph-parse nb201 | bench-lookup --missing fail | stream-to-jsonl > "$T/nb201.jsonl"
    [ "$(grep -c '"lookup":"found"' "$T/nb201.jsonl")" -eq 15625 ]
    graph-parse enas6 | bench-lookup --missing fail | stream-to-jsonl > "$T/enas.jsonl"
    [ "$(grep -c '"lookup":"found"' "$T/enas.jsonl")" -eq 20020 ]
}

@test "bench-lookup keeps the record's own fields and passes unknown ones through" {
    rec '{"v":1,"space":"nb201","ops":["input","avg_pool_3x3","nor_conv_1x1","skip_connect","nor_conv_1x1","skip_connect","skip_connect","output"],"edges":[[0,1],[0,2],[0,4],[1,3],[1,5],[2,6],[3,6],[4,7],[5,7],[6,7]],"c10_test_12ep":0.5,"mine":[1,2]}' \
        | bench-lookup | stream-to-jsonl > "$T/o.jsonl"
    grep -q '"c10_test_12ep":0.5,' "$T/o.jsonl"
    grep -q '"mine":\[1,2\]' "$T/o.jsonl"
    grep -q '"bench_id":0,' "$T/o.jsonl"
    grep -q '"c10valid_val_200ep_mean":0.819827' "$T/o.jsonl"
    [ "$(grep -o '"c10_test_12ep"' "$T/o.jsonl" | wc -l)" -eq 1 ]
}

@test "bench-lookup: invalid and unknown graphs are marked, dropped or fatal as asked" {
    invalid='{"v":1,"space":"nb201","ops":["input","none","none","none","none","none","none","output"],"edges":[[0,1]]}'
    enas12='{"v":1,"space":"enas12","ops":["input","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","output"],"edges":[[0,1],[1,2],[2,3],[3,4],[4,5],[5,6],[6,7],[7,8],[8,9],[9,10],[10,11],[11,12],[12,13]]}'
    rec "$invalid" | bench-lookup | stream-to-jsonl | grep -q '"lookup":"invalid"'
    rec "$enas12" | bench-lookup | stream-to-jsonl | grep -q '"lookup":"not-found"'
    [ "$(rec "$invalid" | bench-lookup --missing drop | stream-to-jsonl | wc -l)" -eq 0 ]
    rec "$invalid" > "$T/in.zst"
    run_quiet bench-lookup --missing fail < "$T/in.zst"
    assert_status 1; assert_output_has "record 1: invalid nb201 graph: missing edge 0->2 of the NAS-Bench-201 cell"
}

@test "bench-lookup --table: any record stream is a table" {
    graph-parse enas6 | stream-split --shard 0/2 > "$T/half.zst"
    graph-parse enas6 | bench-lookup --table "$T/half.zst" | stream-to-jsonl > "$T/o.jsonl"
    found=$(grep -c '"lookup":"found"' "$T/o.jsonl")
    [ "$found" -ge 10010 ] && [ "$found" -lt 20020 ]
    run_quiet bench-lookup --table "$T/nope.zst" < "$T/half.zst"
    assert_status 3; assert_output_has "nope.zst: cannot open"
}

@test "bench-lookup: usage errors exit 2" {
    run_quiet bench-lookup --missing maybe
    assert_status 2; assert_output_has "--missing: 'maybe' is not one of keep, drop, fail"
    run_quiet bench-lookup extra
    assert_status 2; assert_output_has "unexpected argument 'extra'"
    run_quiet bench-lookup --frobnicate
    assert_status 2
}

@test "bench-lookup: every malformed stream is refused with the reader's message" {
    assert_rejects_bad_streams bench-lookup
}

@test "bench-lookup: missing or ill-typed graph fields, cycles, self-loops, unknown ops and spaces" {
    check() { # json, message
        rec "$1" > "$T/in.zst"
        run_quiet bench-lookup < "$T/in.zst"
        assert_status 1
        assert_output_has "stdin: record 1: "; assert_output_has "$2"
    }
    check '{"v":1}' 'no "space" field'
    printf '\x82\xa1v\x02\xa5space\xa5nb101' | zstd -q -c > "$T/v2.zst"
    run_quiet bench-lookup < "$T/v2.zst"
    assert_status 1; assert_output_has 'record 1: format version 2 is not supported (this tool reads version 1)'
    printf '\x81\xa5space\xa5nb101' | zstd -q -c > "$T/nov.zst"
    run_quiet bench-lookup < "$T/nov.zst"
    assert_status 1; assert_output_has 'record 1: no "v" field'
    check '{"v":1,"space":"nb999","ops":[],"edges":[]}' 'unknown space "nb999"'
    check '{"v":1,"space":"nb101","ops":"input","edges":[]}' 'field "ops" is a string, not an array'
    check '{"v":1,"space":"nb101","ops":["input","conv9x9","output"],"edges":[]}' 'node 1: unknown operation "conv9x9" in nb101'
    check '{"v":1,"space":"nb101","ops":["input","output"],"edges":[[0,5]]}' 'node 5 does not exist'
    check '{"v":1,"space":"nb101","ops":["input","output"],"edges":[[0,1],[0,1]]}' 'edge 0->1 listed twice'
    check '{"v":1,"space":"nb101","ops":["input","output"],"edges":[["0",1]]}' 'source is not a node index'
    check '{"v":1,"space":"nb101","ops":["input","output","output","output","output","output","output","output","output","output","output","output","output","output","output"],"edges":[]}' '15 nodes; graphs have at most 14'
    # cycles and self-loops are not errors of the stream but invalid graphs
    rec '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,1],[1,2]]}' | bench-lookup | stream-to-jsonl | grep -q '"lookup":"invalid"'
    rec '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","maxpool3x3","output"],"edges":[[0,1],[1,2],[2,1],[2,3]]}' > "$T/cyc.zst"
    run_quiet bench-lookup --missing fail < "$T/cyc.zst"
    assert_status 1; assert_output_has "invalid nb101 graph: cycle 1->2->1"
}

@test "an NB201 cell without its arch string gets the official one" {
    setup_scratch
    graph-parse nb201 | stream-split --count 5 --seed 2 > "$T/five.zst"
    stream-to-jsonl < "$T/five.zst" | jq -r .arch > "$T/want"
    stream-to-jsonl < "$T/five.zst" | jq -c 'del(.arch, .hash, .c10valid_val_200ep_mean)' | jsonl-to-stream \
        | bench-lookup | stream-to-jsonl | jq -r .arch > "$T/got"
    [ "$(wc -l < "$T/got")" -eq 5 ]
    cmp "$T/want" "$T/got"
}
