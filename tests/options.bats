#!/usr/bin/env bats
# The conventions every tool shares (lib/opts.h): -q and -v in --help and accepted, the same
# "Exit status:" section at the end of --help, one wording for a bad number, exit 2 for an unknown
# option or a missing value, and -v's summary of the records read and written (lib/stream.h).

load helpers

TOOLS=(graph-parse graph-hash bench-lookup stream-split stream-top stream-to-jsonl jsonl-to-stream
       svge-train svge-encode svge-decode svge-metrics cell-train graph-gen
       pred-metrics graph-features gp-fit predict random-propose evo-propose search-report
       bo-propose search-append)

@test "every tool: --help lists -q and -v and ends with the same Exit status section (after a blank line)" {
    local t want
    want=$(printf '%s\n' "Exit status: 0 ok, 1 bad input or data (a bad model or checkpoint file included), 2 usage" \
                         "error, 3 I/O or system error (a file that cannot be opened, read or written; no memory).")
    for t in "${TOOLS[@]}"; do
        run "$t" --help
        assert_status 0
        assert_output_has "-q, --quiet"
        assert_output_has "-v, --verbose"
        [ "$(printf '%s\n' "$output" | tail -2)" = "$want" ] || { echo "$t: $(printf '%s\n' "$output" | tail -2)"; false; }
        [ -z "$(printf '%s\n' "$output" | tail -3 | head -1)" ] || { echo "$t: no blank line before Exit status"; false; }
    done
}

@test "every tool: an unknown option and a missing value are usage errors (exit 2)" {
    local t
    for t in "${TOOLS[@]}"; do
        run "$t" --no-such-option < /dev/null
        assert_status 2
        assert_output_has "$t: unknown option '--no-such-option'"
        assert_output_has "Try '$t --help'."
    done
    for t in svge-encode svge-decode svge-metrics; do
        run "$t" -m < /dev/null
        assert_status 2
        assert_output_has "option '-m' needs a value"
    done
}

@test "bad numbers: one wording in every tool" {
    run stream-top --by x -n abc < /dev/null
    assert_status 2; assert_output_has "stream-top: --count: 'abc' is not an integer in [1, 1000000]"
    run svge-train -o "$BATS_TEST_TMPDIR/m" --epochs 0 < /dev/null
    assert_status 2; assert_output_has "svge-train: --epochs: '0' is not an integer in [1, 100000000]"
    run svge-train -o "$BATS_TEST_TMPDIR/m" --lr -1 < /dev/null
    assert_status 2; assert_output_has "svge-train: --lr: '-1' is not a number in [0, inf)"
    run svge-train -o "$BATS_TEST_TMPDIR/m" --plateau-factor 1 < /dev/null
    assert_status 2; assert_output_has "svge-train: --plateau-factor: '1' is not a number in (0, 1)"
    run svge-decode -m x --tries 0 < /dev/null
    assert_status 2; assert_output_has "svge-decode: --tries: '0' is not an integer in [1, 4096]"
    run svge-decode -m x --mode best < /dev/null
    assert_status 2; assert_output_has "svge-decode: --mode: 'best' is not one of sample, argmax"
    run svge-metrics -m x --train y --seed -1 < /dev/null
    assert_status 2; assert_output_has "svge-metrics: --seed: '-1' is not an integer in [0, 4294967295]"
    run pred-metrics -t a -p b --top 0 < /dev/null
    assert_status 2; assert_output_has "pred-metrics: --top: '0' is not an integer in [1, 1000000000]"
    run graph-features -k path --max-path x < /dev/null
    assert_status 2; assert_output_has "graph-features: --max-path: 'x' is not an integer in [0, 12]"
    run graph-features -k graph < /dev/null
    assert_status 2; assert_output_has "graph-features: --kind: 'graph' is not one of adj-onehot, path"
    run gp-fit --y a -o "$BATS_TEST_TMPDIR/m" --iters -1 < /dev/null
    assert_status 2; assert_output_has "gp-fit: --iters: '-1' is not an integer in [0, 100000]"
    run predict -m x --batch 0 < /dev/null
    assert_status 2; assert_output_has "predict: --batch: '0' is not an integer in [1, 65536]"
}

@test "-v: a summary of the records read and written; -q: nothing but errors" {
    run bash -c 'graph-parse nb201 2>/dev/null | stream-top --by c10valid_val_200ep_mean -n 3 -v 2>&1 >/dev/null'
    assert_status 0
    assert_output_has "stream-top: stdin: 15625 records read"
    assert_output_has "stream-top: stdout: 3 records written"
    run bash -c 'graph-parse nb201 | stream-split --shard 0/5000 | bench-lookup -q 2>&1 >/dev/null'
    assert_status 0
    [ -z "$output" ]
    # gp-fit: its fit report by default, nothing with -q, the report and the records read with -v
    graph-parse nb201 2>/dev/null | stream-split --shard 0/500 | graph-features -k adj-onehot > "$BATS_TEST_TMPDIR/f.zst"
    run gp-fit -x features --y c10valid_val_200ep_mean -o "$BATS_TEST_TMPDIR/gp" "$BATS_TEST_TMPDIR/f.zst"
    assert_status 0; assert_output_has "gp-fit: 32 points"
    run gp-fit -q -x features --y c10valid_val_200ep_mean -o "$BATS_TEST_TMPDIR/gp" "$BATS_TEST_TMPDIR/f.zst"
    assert_status 0; [ -z "$output" ]
    run gp-fit -v -x features --y c10valid_val_200ep_mean -o "$BATS_TEST_TMPDIR/gp" "$BATS_TEST_TMPDIR/f.zst"
    assert_status 0; assert_output_has "gp-fit: 32 points"
    assert_output_has "gp-fit: $BATS_TEST_TMPDIR/f.zst: 32 records read"
    run bash -c 'predict -v -m "$0/gp" "$0/f.zst" 2>&1 >/dev/null' "$BATS_TEST_TMPDIR"
    assert_status 0; assert_output_has "predict: stdout: 32 records written"
}

# help_columns TOOL: reads TOOL's --help on stdin; prints each option line whose description does not
# start in the column of "-h, --help"'s (or, for an option too long for it, on the next line there)
help_columns() {
    awk -v tool="$1" '
        function indent(s) { match(s, /^ */); return RLENGTH }
        { L[NR] = $0 }
        /^  -h, --help +[^ ]/ { match($0, /^  -h, --help +/); C = RLENGTH }
        END {
            if (!C) { print tool ": no \"-h, --help\" line"; exit }
            for (i = 1; i <= NR; i++) {
                s = L[i]
                if (s !~ /^  -[a-zA-Z0-9]/ && s !~ /^  --[a-z]/ && s !~ /^      --[a-z]/) continue
                ind = indent(s); body = substr(s, ind + 1); q = index(body, "  ")
                if (q == 0) { if (indent(L[i + 1]) != C) print tool ": \"" s "\": description not at column " C; continue }
                rest = substr(body, q); match(rest, /^ +/)
                if (ind + q - 1 + RLENGTH != C) print tool ": \"" s "\": description at column " ind + q - 1 + RLENGTH ", not " C
            }
        }'
}

@test "every tool of bin/: in the lists above; --help ends with the Exit status section; option descriptions in one column" {
    local t src bad=
    for src in "$BATS_TEST_DIRNAME"/../bin/*.c; do
        t=${src##*/}; t=${t%.c}
        [[ " ${TOOLS[*]} " == *" $t "* ]] || { echo "$t is not in TOOLS"; false; }
        run "$t" --help
        assert_status 0
        [ "$(printf '%s\n' "$output" | tail -2 | head -1)" = "Exit status: 0 ok, 1 bad input or data (a bad model or checkpoint file included), 2 usage" ]
        bad+=$(printf "%s\n" "$output" | help_columns "$t")$'\n'
    done
    [ -z "$(tr -d "\n" <<< "$bad")" ] || { echo "$bad"; false; }
}
