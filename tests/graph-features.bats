#!/usr/bin/env bats
# graph-features: the adj-onehot and path (BANANAS) encodings, on all real NB201 cells, the best NB101
# cell worked by hand, and small hand-written cells (the library's own unit tests: test_encodings).

load helpers

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR/nb201.zst"
    [ -s "$D" ] || { graph-parse nb201 > "$D.tmp" && mv "$D.tmp" "$D"; }
}

# the features arrays of a stream on stdin, one per line, without brackets
feats() { stream-to-jsonl | grep -o '"features":\[[^]]*\]' | sed 's/"features":\[//; s/\]$//'; }
# the 0-based indices of the ones of each features line on stdin, space-separated
ones() { awk -F, '{ s = ""; for (i = 1; i <= NF; i++) if ($i == "1.0") s = s (s == "" ? "" : " ") (i - 1); print s }'; }
# a record stream of one graph from JSON
rec() { printf '%s\n' "$1" | jsonl-to-stream; }

@test "adj-onehot: all 15,625 NB201 cells give distinct 84-long 0/1 vectors, records otherwise unchanged" {
    graph-features --kind adj-onehot < "$D" > "$T/f.zst"
    feats < "$T/f.zst" > "$T/f.txt"
    [ "$(wc -l < "$T/f.txt")" -eq 15625 ]
    [ "$(sort -u "$T/f.txt" | wc -l)" -eq 15625 ]
    [ "$(awk -F, 'NF != 84' "$T/f.txt" | wc -l)" -eq 0 ]
    [ "$(tr ',' '\n' < "$T/f.txt" | sort -u | tr '\n' ' ')" = "0.0 1.0 " ]
    # every cell: the same 10 edges and 8 one-hots, so 18 ones
    [ "$(ones < "$T/f.txt" | awk '{ print NF }' | sort -u)" = 18 ]
    # the record is the input record plus the two fields at the end
    stream-to-jsonl < "$D" | head -1 | sed 's/}$//' > "$T/in.txt"
    stream-to-jsonl < "$T/f.zst" | head -1 > "$T/out.txt"
    [ "$(sed 's/,"features":\[.*//' "$T/out.txt")" = "$(cat "$T/in.txt")" ]
    grep -q ',"features_kind":"adj-onehot"}$' "$T/out.txt"
}

@test "path: NB201 cells have 156 features and 3 or 4 paths (3 when both 2-node paths carry the same operations)" {
    graph-features -k path < "$D" | feats > "$T/p.txt"
    [ "$(awk -F, 'NF != 156' "$T/p.txt" | wc -l)" -eq 0 ]
    ones < "$T/p.txt" | awk '{ print NF }' | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ' > "$T/counts"
    # ops 1 = 2 and 5 = 6: 5 x 5 x 5 x 5 = 625 cells
    [ "$(cat "$T/counts")" = "3:625 4:15000 " ]
    # cell 0 (|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|):
    # nodes 1..6 = avg_pool, conv1x1, skip, conv1x1, skip, skip (digits 2 0 3 0 3 3); I = 5, lengths
    # 1, 2, 3 start at 1, 6, 31. 0-4-7 [conv1x1]: 1 + 0 = 1; 0-1-5-7 [avg, skip]: 6 + 2 + 5*3 = 23;
    # 0-2-6-7 [conv1x1, skip]: 6 + 0 + 15 = 21; 0-1-3-6-7 [avg, skip, skip]: 31 + 2 + 15 + 75 = 123
    [ "$(head -1 "$T/p.txt" | ones)" = "1 21 23 123" ]
}

@test "path: the best NB101 cell (id 171411), by hand" {
    # ops: 0 input, 1 conv3x3, 2 maxpool, 3 conv3x3, 4 conv1x1, 5 conv3x3, 6 output; edges 0-1 0-5 0-6
    # 1-2 2-3 3-4 3-5 4-5 5-6. Digits (BANANAS): conv3x3 0, conv1x1 1, maxpool 2; index sum 3^(i-1) (o_i + 1).
    #   0-6: the empty path, 0;  0-5-6 [c3]: 1;
    #   0-1-2-3-5-6 [c3 mp c3 c3]: 1 + 3*3 + 9*1 + 27*1 = 46;
    #   0-1-2-3-4-5-6 [c3 mp c3 c1 c3]: 1 + 3*3 + 9*1 + 27*2 + 81*1 = 154
    graph-parse nb101 | stream-to-jsonl | grep '"id":171411,' | jsonl-to-stream > "$T/best.zst"
    stream-to-jsonl < "$T/best.zst" | grep -q '"ops":\["input","conv3x3-bn-relu","maxpool3x3","conv3x3-bn-relu","conv1x1-bn-relu","conv3x3-bn-relu","output"\],"edges":\[\[0,1\],\[0,5\],\[0,6\],\[1,2\],\[2,3\],\[3,4\],\[3,5\],\[4,5\],\[5,6\]\]'
    graph-features -k path < "$T/best.zst" | feats > "$T/p.txt"
    [ "$(awk -F, '{ print NF }' "$T/p.txt")" = 364 ]
    [ "$(ones < "$T/p.txt")" = "0 1 46 154" ]
    # truncated at 3 inner nodes: 1 + 3 + 9 + 27 = 40 features, the two short paths
    graph-features -k path --max-path 3 < "$T/best.zst" > "$T/p3.zst"
    [ "$(feats < "$T/p3.zst" | ones)" = "0 1" ]
    [ "$(feats < "$T/p3.zst" | awk -F, '{ print NF }')" = 40 ]
    stream-to-jsonl < "$T/p3.zst" | grep -q '"features_kind":"path:3"}$'
    # adj-onehot: edges (0,1) 0, (0,5) 4, (0,6) 5, (1,2) 6, (2,3) 11, (3,4) 15, (3,5) 16, (4,5) 18,
    # (5,6) 20; one-hots 21 + 5 p + type: 22, 26 + 3, 31 + 4, 36 + 3, 41 + 2, 46 + 3, 51 + 0
    [ "$(graph-features -k adj-onehot < "$T/best.zst" | feats | ones)" = "0 4 5 6 11 15 16 18 20 22 29 35 39 43 49 51" ]
}

@test "small hand-written cells; ENAS-6 lengths; an existing field is replaced; --field" {
    rec '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2]]}' > "$T/c3.zst"
    # adj: (0,1) 0, (1,2) 6; one-hots 21 + 0 + 1, 21 + 5 + 3, 21 + 10 + 0. path: [c3] = 1
    [ "$(graph-features -k adj-onehot < "$T/c3.zst" | feats | ones)" = "0 6 22 29 31" ]
    [ "$(graph-features -k path < "$T/c3.zst" | feats | ones)" = "1" ]
    rec '{"v":1,"space":"nb101","ops":["input","conv1x1-bn-relu","conv3x3-bn-relu","maxpool3x3","output"],"edges":[[0,1],[0,2],[0,4],[1,3],[2,3],[3,4]]}' > "$T/c5.zst"
    # paths: 0-4: 0; 0-2-3-4 [c3 mp]: 1 + 3*3 = 10; 0-1-3-4 [c1 mp]: 2 + 9 = 11
    [ "$(graph-features -k path < "$T/c5.zst" | feats | ones)" = "0 10 11" ]
    [ "$(graph-features -k adj-onehot < "$T/c5.zst" | feats | ones)" = "0 1 3 7 11 15 22 28 34 40 41" ]
    # running twice replaces the fields (once each, the latest kind)
    graph-features -k path < "$T/c5.zst" | graph-features -k adj-onehot | stream-to-jsonl > "$T/twice.json"
    [ "$(grep -o '"features' "$T/twice.json" | wc -l)" -eq 2 ]
    grep -q '"features_kind":"adj-onehot"}$' "$T/twice.json"
    graph-features -k path --field paths < "$T/c5.zst" | graph-features -k adj-onehot | stream-to-jsonl > "$T/both.json"
    grep -q '"paths":\[.*"paths_kind":"path","features":\[.*"features_kind":"adj-onehot"}$' "$T/both.json"
    # ENAS-6: 92 and 55,987 (I = 6 operations, L = 6)
    graph-parse enas6 | stream-to-jsonl | head -3 | jsonl-to-stream > "$T/enas.zst"
    [ "$(graph-features -k adj-onehot < "$T/enas.zst" | feats | awk -F, '{ print NF }' | sort -u)" = 92 ]
    [ "$(graph-features -k path < "$T/enas.zst" | feats | awk -F, '{ print NF }' | sort -u)" = 55987 ]
}

@test "invalid graphs: an error naming the record, or dropped and counted with --skip-invalid" {
    rec '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2]]}' > "$T/good.zst"
    rec '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,2]]}' > "$T/dangling.zst"
    rec '{"v":1,"space":"nb101","ops":["input","output"]}' > "$T/noedges.zst"
    rec '{"v":1,"space":"nb101","ops":["input","conv5x5","output"],"edges":[[0,1],[1,2]]}' > "$T/badop.zst"
    cat "$T/good.zst" "$T/dangling.zst" > "$T/t.zst"
    run_quiet graph-features -k path < "$T/t.zst"
    assert_status 1
    assert_output_has "graph-features: stdin: record 2: "
    for f in noedges badop; do
        run_quiet graph-features -k adj-onehot < "$T/$f.zst"
        assert_status 1
        assert_output_has "stdin: record 1: "
    done
    cat "$T/good.zst" "$T/dangling.zst" "$T/badop.zst" "$T/good.zst" > "$T/t.zst"
    run bash -c 'graph-features -k path --skip-invalid < "$1" | stream-to-jsonl | wc -l' _ "$T/t.zst"
    assert_status 0
    assert_output_has "skipped 2 records with an invalid graph"
    [ "$(printf '%s\n' "$output" | tail -1)" -eq 2 ]
}

@test "bad streams are rejected with the reader's message" {
    assert_rejects_bad_streams graph-features --kind path
}

@test "usage errors exit 2; --help documents the kinds, lengths and options" {
    for args in "" "-k" "-k paths" "--kind adj-onehot --max-path 2" "-k path --max-path 13" "-k path --max-path x" \
                "-k path --field ''" "-k path --bogus" "-k path a b"; do
        eval "run graph-features $args" < "$D"
        assert_status 2
        assert_output_has "Try 'graph-features --help'."
    done
    # the wording of lib/opts.h
    run graph-features -k paths < "$D"
    assert_status 2; assert_output_has "graph-features: --kind: 'paths' is not one of adj-onehot, path"
    run graph-features -k path --max-path 13 < "$D"
    assert_status 2; assert_output_has "graph-features: --max-path: '13' is not an integer in [0, 12]"
    run graph-features -k path a b < "$D"
    assert_status 2; assert_output_has "graph-features: unexpected argument 'b' (one input FILE at most)"
    # a length the space cannot have: NB201's longest path has 3 inner nodes
    run_quiet graph-features -k path --max-path 4 < "$D"
    assert_status 2
    assert_output_has "the longest path of nb201 has 3 inner nodes"
    run graph-features --help
    assert_status 0
    for s in "--kind KIND" "adj-onehot" "path" "--max-path L" "--field NAME" "--skip-invalid" "364" "156" "55,987" \
             '"features_kind"' "Exit status"; do
        assert_output_has "$s"
    done
}

@test "I/O errors exit 3 naming stdin or stdout" {
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    run env LD_PRELOAD="$SVGE_UNIT/libfailio.so" FAILIO_READ_AFTER=1 bash -c 'exec graph-features -k path < "$0" > /dev/null' "$D"
    assert_status 3
    assert_output_has "graph-features: stdin: read error"
    run env LD_PRELOAD="$SVGE_UNIT/libfailio.so" FAILIO_WRITE_AFTER=1 bash -c 'exec graph-features -k path < "$0" > /dev/null' "$D"
    assert_status 3
    assert_output_has "graph-features: stdout: write error"
}
