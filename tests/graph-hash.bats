#!/usr/bin/env bats
# graph-hash: NAS-Bench-101's graph hash on real data, its invariances, and bad input.
# Official hashes quoted below come from data/nb101/cells.csv.zst (the NAS-Bench-101 cell table).

load helpers

setup() {
    setup_scratch
}

# JSON lines -> stream in $T/in.zst
mk() { printf '%s\n' "$@" | jsonl-to-stream > "$T/in.zst"; }
# Hashes of a stream, one per line.
hashes() { stream-to-jsonl | grep -o '"hash": *"[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}'; }
nrec() { stream-to-jsonl | wc -l; }

# Cell 300257 of the table (official hash 1901ab36...) and the same cell with its inner nodes
# renumbered by another topological order (node i -> p[i], p = 0 2 1 5 3 4 6).
CELL='{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv1x1-bn-relu","maxpool3x3","output"],"edges":[[0,1],[0,2],[0,4],[1,3],[1,5],[2,3],[3,6],[4,5],[5,6]]}'
CELL_PERM='{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","conv1x1-bn-relu","maxpool3x3","conv3x3-bn-relu","output"],"edges":[[0,1],[0,2],[0,3],[1,5],[2,4],[2,5],[3,4],[4,6],[5,6]]}'
CELL_HASH=1901ab361a558c8036df8ffe4d123f65

# ---------------------------------------------------------------- real data

@test "nb101: graph-parse | graph-hash --verify agrees on all 423,624 official hashes" {
    run sh -c 'graph-parse nb101 --no-accuracies | graph-hash --verify > "$1"' sh "$T/out.zst"
    assert_status 0
    [ "$(nrec < "$T/out.zst")" -eq 423624 ]
}

@test "nb101: --verify writes the records unchanged" {
    graph-parse nb101 --no-accuracies | stream-split --shard 0/50 > "$T/in.zst"
    graph-hash --verify < "$T/in.zst" | stream-to-jsonl > "$T/out.jsonl"
    stream-to-jsonl < "$T/in.zst" > "$T/in.jsonl"
    cmp "$T/in.jsonl" "$T/out.jsonl"
}

@test "nb101: hashing from scratch gives the official hashes, in record order" {
    graph-parse nb101 --no-accuracies | stream-split --shard 3/40 > "$T/in.zst"
    hashes < "$T/in.zst" > "$T/official"
    # Drop the hashes, then compute them again.
    stream-to-jsonl < "$T/in.zst" | sed 's/,"hash": *"[0-9a-f]*"//' | jsonl-to-stream > "$T/bare.zst"
    [ -z "$(hashes < "$T/bare.zst")" ]
    graph-hash < "$T/bare.zst" | hashes > "$T/ours"
    [ "$(wc -l < "$T/ours")" -gt 10000 ]
    cmp "$T/official" "$T/ours"
}

@test "nb201 and enas6: every record's hash verifies, and hashing is deterministic" {
    for s in nb201 enas6; do
        graph-parse "$s" > "$T/$s.zst"
        graph-hash --verify < "$T/$s.zst" > /dev/null
        graph-hash < "$T/$s.zst" > "$T/a.zst"
        graph-hash < "$T/$s.zst" > "$T/b.zst"
        cmp "$T/a.zst" "$T/b.zst"
        hashes < "$T/$s.zst" > "$T/want"
        hashes < "$T/a.zst" > "$T/got"
        cmp "$T/want" "$T/got"
    done
    # With "none" as an operation node, NB201's 15,625 cells are 15,625 different graphs.
    [ "$(hashes < "$T/nb201.zst" | sort -u | wc -l)" -eq 15625 ]
}

# ---------------------------------------------------------------- invariances

@test "renumbering a cell's inner nodes keeps its hash (the official one)" {
    mk "$CELL" "$CELL_PERM"
    run sh -c 'graph-hash < "$1" | stream-to-jsonl' sh "$T/in.zst"
    assert_status 0
    [ "$(printf '%s\n' "$output" | grep -c "\"hash\":\"$CELL_HASH\"")" -eq 2 ]
}

@test "changing one operation changes the hash" {
    mk "${CELL/conv1x1-bn-relu/conv3x3-bn-relu}"
    graph-hash < "$T/in.zst" | hashes > "$T/h"
    [ "$(wc -l < "$T/h")" -eq 1 ]
    [ "$(cat "$T/h")" != "$CELL_HASH" ]
}

@test "nb101: nodes off every input->output path are pruned before hashing" {
    # CELL with a maxpool inserted before the output, fed by the input and feeding nothing:
    # 8 nodes and 10 edges before pruning, the official cell after.
    mk '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv1x1-bn-relu","maxpool3x3","maxpool3x3","output"],"edges":[[0,1],[0,2],[0,4],[0,6],[1,3],[1,5],[2,3],[3,7],[4,5],[5,7]],"id":9}'
    run sh -c 'graph-hash < "$1" | stream-to-jsonl' sh "$T/in.zst"
    assert_status 0
    assert_output_has "\"hash\":\"$CELL_HASH\""
    # the record's other fields, graph included, pass through unchanged
    assert_output_has '"id":9'
    assert_output_has '[0,6]'
}

@test "an existing hash is replaced, other fields kept in order" {
    mk '{"v":1,"hash":"00000000000000000000000000000000","space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2]],"acc":0.5}'
    run sh -c 'graph-hash < "$1" | stream-to-jsonl' sh "$T/in.zst"
    assert_status 0
    [ "$output" = '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2]],"acc":0.5,"hash":"b49ac8c578b4561d79ac7087988f1c61"}' ]
}

# ---------------------------------------------------------------- --verify

@test "--verify: a wrong hash names the record and both hashes" {
    mk "${CELL%\}},\"hash\":\"$CELL_HASH\"}" "${CELL%\}},\"hash\":\"0123456789abcdef0123456789abcdef\"}"
    run graph-hash --verify < "$T/in.zst"
    assert_status 1
    assert_output_has "graph-hash: stdin: record 2: hash mismatch: record says 0123456789abcdef0123456789abcdef, graph gives $CELL_HASH"
}

@test "--verify: the records before a mismatch are written as a valid stream" {
    mk "${CELL%\}},\"hash\":\"$CELL_HASH\"}" "${CELL%\}},\"hash\":\"$CELL_HASH\"}" "${CELL%\}},\"hash\":\"0123456789abcdef0123456789abcdef\"}"
    run sh -c 'graph-hash --verify < "$1" > "$2"' sh "$T/in.zst" "$T/out.zst"
    assert_status 1
    [ "$(nrec < "$T/out.zst")" -eq 2 ]
}

@test "--verify: a missing or ill-typed hash is an error" {
    mk "$CELL"
    run graph-hash --verify < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: no "hash" field to verify'
    mk "${CELL%\}},\"hash\":42}"
    run graph-hash --verify < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: field "hash" is an integer, not a string'
    mk "${CELL%\}},\"hash\":\"1901ab\"}"
    run graph-hash --verify < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: field "hash": "1901ab" is not 32 hex digits'
}

# ---------------------------------------------------------------- invalid graphs

@test "a cycle is an error naming the record" {
    mk "$CELL" '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2],[2,1],[2,3]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'graph-hash: stdin: record 2: cycle 1->2->1'
}

@test "a self-loop is an error" {
    mk '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1],[1,1],[1,2]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: self-loop on node 1'
}

@test "nb101: no path from input to output is an error" {
    mk '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: no path from the input (node 0) to the output (node 2)'
}

@test "nb101: a cell still too big after pruning is an error" {
    mk '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","output"],"edges":[[0,1],[1,2],[2,3],[3,4],[4,5],[5,6],[6,7]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: 8 nodes; nb101 graphs have 2 to 7'
}

@test "too many nodes is an error" {
    mk '{"v":1,"space":"enas6","ops":["input","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","conv3x3","output"],"edges":[]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: field "ops": 15 nodes; graphs have at most 14'
}

@test "an unknown operation or space is an error" {
    mk '{"v":1,"space":"nb101","ops":["input","conv9x9","output"],"edges":[[0,1],[1,2]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: field "ops": node 1: unknown operation "conv9x9" in nb101'
    mk '{"v":1,"space":"nb999","ops":["input","output"],"edges":[[0,1]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: field "space": unknown space "nb999"'
}

@test "missing or ill-typed graph fields are errors" {
    mk '{"v":1,"ops":["input","output"],"edges":[[0,1]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: no "space" field'
    mk '{"v":1,"space":"nb101","edges":[[0,1]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: no "ops" field'
    mk '{"v":1,"space":"nb101","ops":"input","edges":[[0,1]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: field "ops" is a string, not an array'
    mk '{"v":1,"space":"nb101","ops":["input","output"],"edges":[[0,5]]}'
    run graph-hash < "$T/in.zst"
    assert_status 1
    assert_output_has 'record 1: field "edges": edge 0: node 5 does not exist (2 nodes)'
}

@test "--skip-invalid drops invalid graphs and counts them" {
    mk "$CELL" '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","output"],"edges":[[0,1]]}' \
       '{"v":1,"space":"nb101","ops":["input","conv9x9","output"],"edges":[[0,1],[1,2]]}' "$CELL_PERM"
    run sh -c 'graph-hash --skip-invalid < "$1" > "$2"' sh "$T/in.zst" "$T/out.zst"
    assert_status 0
    assert_output_has 'graph-hash: skipped 2 records with an invalid graph'
    [ "$(hashes < "$T/out.zst" | grep -c "$CELL_HASH")" -eq 2 ]
}

# ---------------------------------------------------------------- bad streams

@test "every malformed stream is refused with the reader's message (exit 1)" {
    assert_rejects_bad_streams graph-hash
    assert_rejects_bad_streams graph-hash --verify
}

# ---------------------------------------------------------------- library

@test "unit: MD5 and the graph hash, with and without the vector code" {
    run "$SVGE_UNIT/test_graph_hash"
    assert_status 0
    assert_output_has ' passed, 0 failed'
    SVGE_NO_SIMD=1 run "$SVGE_UNIT/test_graph_hash"
    assert_status 0
    assert_output_has ' passed, 0 failed'
}

# ---------------------------------------------------------------- usage

@test "--help lists every option" {
    run graph-hash --help
    assert_status 0
    assert_output_has 'Usage: graph-hash'
    assert_output_has '--verify'
    assert_output_has '--skip-invalid'
    assert_output_has '--help'
}

@test "unknown options and extra arguments are usage errors" {
    run graph-hash --bogus
    assert_status 2
    assert_output_has "graph-hash: unknown option '--bogus'"
    assert_output_has "Try 'graph-hash --help'."
    run graph-hash a b
    assert_status 2
    assert_output_has 'unexpected argument'
}

@test "an unreadable input file is an I/O error" {
    run graph-hash "$T/does-not-exist"
    assert_status 3
    assert_output_has 'cannot open'
}
