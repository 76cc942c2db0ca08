#!/usr/bin/env bats
# I/O errors in the middle of a stream: every tool exits 3 and names stdin or stdout.
# An LD_PRELOAD shim (tests/shim/failio.c) makes read() on fd 0 or write() on fd 1 fail on cue.
# (stream-to-jsonl writes through stdio, which the shim cannot reach; /dev/full covers it.)

load helpers

setup() {
    setup_scratch
    SHIM="$SVGE_UNIT/libfailio.so"
    # the sanitizer build's runtime must come first unless told otherwise
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    graph-parse nb201 > "$T/in.zst"
}

# fails_with WHAT CMD...: run CMD on $T/in.zst with the shim armed by WHAT=1 call's grace.
fails_with() {
    local what=$1; shift
    run env LD_PRELOAD="$SHIM" "$what=1" bash -c 'exec "$@" < "$0" > /dev/null' "$T/in.zst" "$@"
}

@test "a read error in the middle of the input stream: exit 3, 'stdin: read error'" {
    for tool in graph-hash bench-lookup stream-split "stream-split --shard 0/2" stream-to-jsonl; do
        fails_with FAILIO_READ_AFTER $tool
        assert_status 3
        assert_output_has "${tool%% *}: stdin: read error: Input/output error"
    done
}

@test "a write error on the output stream: exit 3, 'stdout: write error'" {
    for tool in graph-hash bench-lookup stream-split "stream-split --shard 0/2"; do
        fails_with FAILIO_WRITE_AFTER $tool
        assert_status 3
        assert_output_has "${tool%% *}: stdout: write error: Input/output error"
    done
}

@test "graph-parse and jsonl-to-stream: read errors on their text input exit 3" {
    zstd -q -dc "$SVGE_DATA/nb201/accuracies.csv.zst" > "$T/nb201.csv"
    run env LD_PRELOAD="$SHIM" FAILIO_READ_AFTER=1 bash -c 'exec graph-parse nb201 - < "$0" > /dev/null' "$T/nb201.csv"
    assert_status 3; assert_output_has "graph-parse: stdin: read error"
    stream-to-jsonl < "$T/in.zst" > "$T/in.jsonl"
    run env LD_PRELOAD="$SHIM" FAILIO_READ_AFTER=1 bash -c 'exec jsonl-to-stream < "$0" > /dev/null' "$T/in.jsonl"
    assert_status 3; assert_output_has "jsonl-to-stream: stdin: read error"
    run env LD_PRELOAD="$SHIM" FAILIO_WRITE_AFTER=0 bash -c 'exec jsonl-to-stream < "$0" > /dev/null' "$T/in.jsonl"
    assert_status 3; assert_output_has "jsonl-to-stream: stdout: write error"
}

@test "without the shim armed, the same commands succeed (the shim itself is harmless)" {
    run env LD_PRELOAD="$SHIM" bash -c 'exec graph-hash < "$0" > /dev/null' "$T/in.zst"
    assert_status 0
}
