#!/usr/bin/env bats
# graph-parse: the benchmarks' native files -> graph records, on the real data in data/.

load helpers

setup() { setup_scratch; }

nb201_header='index,arch_str,c10_test_200ep_1seed'
nb201_row() { echo "$1,$2,93.5000"; }
good_arch='|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|'
enas_line='[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7302'

@test "graph-parse --help lists every space and option" {
    run graph-parse --help
    assert_status 0
    for w in nb101 nb201 enas6 enas12 --accuracies --no-accuracies; do assert_output_has "$w"; done
}

@test "graph-parse nb101: all 423,624 cells, 20,001 with the real accuracies" {
    graph-parse nb101 | stream-to-jsonl > "$T/nb101.jsonl"
    [ "$(wc -l < "$T/nb101.jsonl")" -eq 423624 ]
    [ "$(grep -c '"val_acc_108ep"' "$T/nb101.jsonl")" -eq 20001 ]
    [ "$(grep -c '"trainable_parameters"' "$T/nb101.jsonl")" -eq 20001 ]
    # the first cell of the table, with its official hash and accuracies
    [ "$(head -1 "$T/nb101.jsonl")" = '{"v":1,"id":0,"space":"nb101","ops":["input","output"],"edges":[[0,1]],"hash":"043721b9c7fe8c5fad811d47d83132ec","val_acc_4ep":0.54046476,"val_acc_12ep":0.69401044,"val_acc_36ep":0.81550479,"val_acc_108ep":0.83583736,"training_time_108ep_s":284.243,"trainable_parameters":882570}' ]
    # ids run 0..423623 in order
    tail -1 "$T/nb101.jsonl" | grep -q '^{"v":1,"id":423623,'
    # a cell without accuracy has no accuracy field (never a made-up value)
    ! tail -1 "$T/nb101.jsonl" | grep -q acc
}

@test "graph-parse nb101 hashes equal the official column (recomputed by graph-hash --verify)" {
    graph-parse nb101 | graph-hash --verify > /dev/null
}

@test "graph-parse nb101 --no-accuracies: structure only" {
    run bash -c 'graph-parse nb101 --no-accuracies | stream-to-jsonl | grep -c "\"val_acc\|trainable"'
    [ "$output" = "0" ]
}

@test "graph-parse nb201: 15,625 cells, every accuracy column on every cell" {
    graph-parse nb201 | stream-to-jsonl > "$T/nb201.jsonl"
    [ "$(wc -l < "$T/nb201.jsonl")" -eq 15625 ]
    for col in c10_test_200ep_1seed c100_test_200ep_1seed in16_test_200ep_1seed c10valid_val_200ep_mean \
               c10valid_val_200ep_seeds c100_val_200ep_mean c100_val_200ep_seeds in16_val_200ep_mean \
               in16_val_200ep_seeds c10_test_12ep c10valid_val_12ep c100_test_12ep c100_val_12ep in16_test_12ep in16_val_12ep; do
        [ "$(grep -c "\"$col\":" "$T/nb201.jsonl")" -eq 15625 ]
    done
    # percentages become fractions: the published optimum 91.6067 % (cifar10-valid, 200 epochs)
    [ "$(grep -c '"c10valid_val_200ep_mean":0.916067,' "$T/nb201.jsonl")" -eq 1 ]
    head -1 "$T/nb201.jsonl" | grep -q '"arch":"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"'
    head -1 "$T/nb201.jsonl" | grep -q '"ops":\["input","avg_pool_3x3","nor_conv_1x1","skip_connect","nor_conv_1x1","skip_connect","skip_connect","output"\],"edges":\[\[0,1\],\[0,2\],\[0,4\],\[1,3\],\[1,5\],\[2,6\],\[3,6\],\[4,7\],\[5,7\],\[6,7\]\]'
    # 15,625 distinct cells, 15,625 distinct hashes? NB201 has isomorphic cells, so fewer hashes
    [ "$(grep -o '"id":[0-9]*' "$T/nb201.jsonl" | sort -u | wc -l)" -eq 15625 ]
}

@test "graph-parse enas6: every one of the 20,020 lines is a record" {
    graph-parse enas6 | stream-to-jsonl > "$T/enas.jsonl"
    [ "$(wc -l < "$T/enas.jsonl")" -eq 20020 ]
    [ "$(head -1 "$T/enas.jsonl")" = '{"v":1,"id":0,"space":"enas6","ops":["input","sepconv3x3","avgpool3x3","maxpool3x3","conv3x3","conv5x5","sepconv5x5","output"],"edges":[[0,1],[0,4],[0,5],[1,2],[1,4],[1,5],[2,3],[2,4],[2,5],[3,4],[3,5],[4,5],[4,6],[5,6],[6,7]],"hash":"5ab3c5e3cdf1482cb16db2c8636daada","arch":"[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]","ws_val_acc":0.7302}' ]
}

@test "graph-parse enas12: generated 12-layer lines become 14-node graphs" {
    {
        echo '[[0], [1, 0], [2, 0, 1], [3, 0, 0, 0], [4, 1, 0, 0, 0], [5, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1], [2, 0, 0, 0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0, 0, 0, 0, 1], [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]], 0.6038'
        echo '[[1], [1, 0], [1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], 0.5'
    } > "$T/s12.txt"
    graph-parse enas12 "$T/s12.txt" | stream-to-jsonl > "$T/out.jsonl"
    [ "$(wc -l < "$T/out.jsonl")" -eq 2 ]
    head -1 "$T/out.jsonl" | grep -q '"ops":\["input","conv3x3","sepconv3x3","conv5x5","sepconv5x5","avgpool3x3","maxpool3x3","conv3x3","sepconv3x3","conv5x5","sepconv5x5","avgpool3x3","maxpool3x3","output"\]'
    head -1 "$T/out.jsonl" | grep -q '\[1,3\]'      # layer 3's skip flag f1 -> edge 1->3
    head -1 "$T/out.jsonl" | grep -q '\[12,13\]\]'  # the output fed by the last layer
    tail -1 "$T/out.jsonl" | grep -q '"edges":\[\[0,1\],\[1,2\],\[2,3\],\[3,4\],\[4,5\],\[5,6\],\[6,7\],\[7,8\],\[8,9\],\[9,10\],\[10,11\],\[11,12\],\[12,13\]\]'
    # the list form round-trips
    head -1 "$T/out.jsonl" | grep -qF "\"arch\":\"$(head -1 "$T/s12.txt" | sed 's/, 0.6038$//')\""
}

@test "graph-parse is deterministic and reads plain or zstd input alike" {
    graph-parse nb201 > "$T/a.zst"
    graph-parse nb201 > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    zstd -dc "$SVGE_DATA/nb201/accuracies.csv.zst" > "$T/nb201.csv"
    graph-parse nb201 "$T/nb201.csv" | cmp - "$T/a.zst"
    graph-parse nb201 - < "$T/nb201.csv" | cmp - "$T/a.zst"
}

@test "graph-parse: streams concatenate" {
    graph-parse enas6 > "$T/e.zst"
    cat "$T/e.zst" "$T/e.zst" | stream-to-jsonl > "$T/ee.jsonl"
    [ "$(wc -l < "$T/ee.jsonl")" -eq 40040 ]
}

# ---------------------------------------------------------------- usage errors

@test "graph-parse: missing or unknown space, unknown option, enas12 without FILE: usage error (2)" {
    run graph-parse
    assert_status 2; assert_output_has "missing SPACE"
    run graph-parse nb301
    assert_status 2; assert_output_has 'unknown space "nb301" (known: nb101, nb201, enas6, enas12, nb101x)'
    run graph-parse nb201 --bogus
    assert_status 2; assert_output_has "Try 'graph-parse --help'"
    run graph-parse enas12
    assert_status 2; assert_output_has "no enas12 data ships"
    run_quiet graph-parse nb201 --accuracies x
    assert_status 2; assert_output_has "are for nb101"
}

@test "graph-parse: a missing file is an I/O error (3)" {
    run graph-parse nb201 "$T/nope.csv"
    assert_status 3; assert_output_has "nope.csv: cannot open"
}

# ---------------------------------------------------------------- bad data

@test "graph-parse: empty input, header only, random bytes, gzip, truncated zstd" {
    : > "$T/empty"
    run graph-parse nb201 "$T/empty"
    assert_status 1; assert_output_has "empty file (no CSV header)"
    run graph-parse enas6 "$T/empty"
    assert_status 1; assert_output_has "no architecture lines"
    echo "$nb201_header" > "$T/hdr.csv"
    run graph-parse nb201 "$T/hdr.csv"
    assert_status 1; assert_output_has "no cells (only a header)"
    fixed_random_bytes 5000 7 > "$T/rand"
    for s in nb101 nb201 enas6; do
        run_quiet graph-parse "$s" "$T/rand"
        assert_status 1; assert_output_has "graph-parse: $T/rand: "
    done
    printf 'x' | gzip > "$T/g.gz"
    run graph-parse nb101 "$T/g.gz"
    assert_status 1; assert_output_has "gzip-compressed"
    zstd -dc "$SVGE_DATA/nb201/accuracies.csv.zst" | head -c 200000 | zstd -q -c | head -c 30000 > "$T/trunc.zst"
    run graph-parse nb201 "$T/trunc.zst"
    assert_status 1; assert_output_has "truncated zstd input"
}

@test "graph-parse nb201: malformed arch strings name the line and the problem" {
    check() { # arch, expected message
        { echo "$nb201_header"; nb201_row 0 "$good_arch"; nb201_row 1 "$1"; } > "$T/bad.csv"
        run_quiet graph-parse nb201 "$T/bad.csv"
        assert_status 1
        assert_output_has "bad.csv: line 3: "
        assert_output_has "$2"
    }
    check '|nor_conv_3x3~0|+|none~0|skip_connect~1|' "expected '+' before node 3's group"
    check '|conv_7x7~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|' 'unknown operation "conv_7x7"'
    check '|none~1|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|' 'must come from node 0'
    check "${good_arch}junk" "unexpected text after the third group"
    check 'nor_conv_3x3' "expected '|'"
    check '' "expected '|'"
}

@test "graph-parse nb201: NaN, empty or non-numeric accuracies and wrong column counts are refused" {
    for v in nan inf '' 12abc 1e5; do
        { echo "$nb201_header"; echo "0,$good_arch,$v"; } > "$T/bad.csv"
        run_quiet graph-parse nb201 "$T/bad.csv"
        assert_status 1; assert_output_has "line 2: column c10_test_200ep_1seed"
    done
    { echo "$nb201_header"; echo "0,$good_arch"; } > "$T/bad.csv"
    run graph-parse nb201 "$T/bad.csv"
    assert_status 1; assert_output_has "line 2: 2 columns; the header has 3"
    { echo "$nb201_header"; echo "\"0\",$good_arch,1"; } > "$T/bad.csv"
    run graph-parse nb201 "$T/bad.csv"
    assert_status 1; assert_output_has "quoted CSV fields are not supported"
}

@test "graph-parse enas6: malformed lines name the line and the problem" {
    check() { # line, expected message
        { echo "$enas_line"; echo "$1"; } > "$T/bad.txt"
        run_quiet graph-parse enas6 "$T/bad.txt"
        assert_status 1
        assert_output_has "bad.txt: line 2: $2"
    }
    check '[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1]], 0.7' "5 layers; enas6 has 6"
    check '[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]], 0.7' "more than 6 layers"
    check '[[7], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7' "layer 1: operation 7 is not 0..5"
    check '[[1], [4, 2], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7' "layer 2: skip flag 2 is not 0 or 1"
    check '[[1], [4, 0, 1], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7' "layer 2 has more than 2 entries"
    check '[[1], [4], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7' "layer 2 has 1 entries, not 2 (operation and 1 skip flags)"
    check '[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]' 'expected ", accuracy"'
    check '[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], nan' 'accuracy "nan" is not a finite number'
    check '[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 1.5' "accuracy 1.5 is not in [0, 1]"
    check '__import__("os").system("true"), 0.7' "no ']': not an ENAS architecture line"
    check '[os.system("x")], 0.7' "expected '[' to open layer 1"
    check '[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]] x], 0.7' "unexpected text after the list"
    check '' "empty line"
}

@test "graph-parse nb101: cycles, self-loops, too many nodes, unknown operations, dangling nodes" {
    hdr='hash,num_vertices,adjacency,ops'
    check() { # num_vertices, adjacency, ops, expected message
        { echo "$hdr"; echo "043721b9c7fe8c5fad811d47d83132ec,2,0100,-1:-2"; echo "00000000000000000000000000000000,$1,$2,$3"; } > "$T/bad.csv"
        run_quiet graph-parse nb101 "$T/bad.csv" --no-accuracies
        assert_status 1
        assert_output_has "bad.csv: line 3: $4"
    }
    check 3 010001100 -1:0:-2 "invalid nb101 cell: cycle 0->1->2->0"
    check 3 011011000 -1:0:-2 "invalid nb101 cell: self-loop on node 1"
    check 3 001000010 -1:0:-2 "invalid nb101 cell: edge 2->1 goes against the node order"
    check 8 0000000000000000000000000000000000000000000000000000000000000000 -1:0:0:0:0:0:0:-2 "column num_vertices: \"8\" is not in 2..7"
    check 3 011001000 -1:5:-2 "ops: unknown operation 5"
    check 3 011000000 -1:0:-2 "invalid nb101 cell: node 1 is not on any input->output path"
    check 3 0110010 -1:0:-2 "adjacency has 7 characters, not 9"
    check 3 011001000 -1:0 "ops: 3 entries expected, separated by ':'"
    check 3 011001000 0:0:-2 'invalid nb101 cell: node 0 is "conv3x3-bn-relu", not "input"'
}

@test "graph-parse nb101: an accuracy row that matches no cell is an error, after the whole stream" {
    { echo 'hash,val_acc_108ep'; echo 'ffffffffffffffffffffffffffffffff,0.9'; } > "$T/acc.csv"
    run bash -c "graph-parse nb101 --accuracies '$T/acc.csv' > '$T/out.zst'"
    assert_status 1; assert_output_has "1 accuracy rows match no cell"
    { echo 'hash,val_acc_108ep'; echo 'xyz,0.9'; } > "$T/acc.csv"
    run graph-parse nb101 --accuracies "$T/acc.csv"
    assert_status 1; assert_output_has 'column hash: "xyz" is not 32 hex digits'
}

@test "graph-parse: output written before an error is a valid stream of whole records" {
    { zstd -dc "$SVGE_DATA/nb201/accuracies.csv.zst" | head -4; echo "3,|bad|,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"; } > "$T/part.csv"
    run bash -c "graph-parse nb201 '$T/part.csv' > '$T/out.zst'"
    assert_status 1
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 3 ]
}
