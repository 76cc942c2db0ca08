# helpers.bash: loaded by every bats file (load helpers).
# The suite runs the real binaries ($SVGE_BIN, set by `make check`) on the real data in data/.

: "${SVGE_BIN:=$BATS_TEST_DIRNAME/../bin}"
: "${SVGE_UNIT:=$BATS_TEST_DIRNAME/../build/release/tests}"
: "${SVGE_DATA:=$BATS_TEST_DIRNAME/../data}"
export SVGE_DATA
PATH="$SVGE_BIN:$PATH"

# A private scratch folder per test.
setup_scratch() {
    T="$BATS_TEST_TMPDIR"
}

# assert_status CODE: the last `run` exited with CODE; print its output otherwise.
assert_status() {
    if [ "$status" -ne "$1" ]; then
        echo "expected exit $1, got $status; output:" >&2
        echo "$output" >&2
        return 1
    fi
}

# assert_output_has TEXT: the last `run`'s output (stdout+stderr) contains TEXT.
assert_output_has() {
    if [[ "$output" != *"$1"* ]]; then
        echo "expected output to contain: $1" >&2
        echo "got: $output" >&2
        return 1
    fi
}

# Deterministic pseudo-random bytes (no /dev/urandom in tests): N bytes from seed S.
fixed_random_bytes() {
    local n=$1 seed=${2:-1}
    LC_ALL=C awk -v n="$n" -v s="$seed" 'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }'
}

# json_to_stream: JSON lines on stdin -> record stream on stdout.
json_to_stream() { jsonl-to-stream "$@"; }
stream_to_json() { stream-to-jsonl "$@"; }

# run_quiet CMD ARGS...: like `run`, with the command's stdout (a record stream) discarded, so that
# $output holds only the messages.
run_quiet() { run bash -c '"$@" > /dev/null' run_quiet "$@"; }

# assert_rejects_bad_streams TOOL [ARGS...]: the cases every stream reader must refuse, with the
# reader's message and exit 1: empty input, random bytes, truncated zstd, valid zstd holding invalid
# msgpack, a record that is not a map, an array header claiming 2^32-1 elements, NaN and infinity,
# another format version, no or an ill-typed "v", a duplicate key (top level and nested), invalid
# UTF-8, nesting deeper than the limit, and a record cut short after a
# good one (an NB201 cell; set GOOD_RECORD_JSON to a JSON record for a tool that wants another).
# The tool reads stdin; its stdout is discarded.
assert_rejects_bad_streams() {
    local d="$BATS_TEST_TMPDIR/bad-streams"
    mkdir -p "$d"
    # a real, valid graph record (NB201 cell 0, or $GOOD_RECORD_JSON for tools of another space) as raw msgpack
    if [ -n "${GOOD_RECORD_JSON:-}" ]; then
        printf '%s\n' "$GOOD_RECORD_JSON" | jsonl-to-stream | zstd -q -dc > "$d/good.mp"
    else
        graph-parse nb201 | stream-split --shard 0/15625 | zstd -q -dc > "$d/good.mp"
    fi
    : > "$d/empty"
    fixed_random_bytes 4096 11 > "$d/random"
    graph-parse nb201 | head -c 20000 > "$d/truncated"
    printf '\x82\xa1v\x01\xa2id\xc1' | zstd -q -c > "$d/c1"
    printf '\x93\x01\x02\x03' | zstd -q -c > "$d/array"
    printf '\x81\xa1v\xdd\xff\xff\xff\xff' | zstd -q -c > "$d/huge"
    printf '\x82\xa1v\x01\xa1x\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00' | zstd -q -c > "$d/nan"
    printf '\x82\xa1v\x01\xa1x\xca\x7f\x80\x00\x00' | zstd -q -c > "$d/inf"
    printf '\x81\xa1v\x02' | zstd -q -c > "$d/v2"
    printf '\x81\xa2id\x01' | zstd -q -c > "$d/nov"
    printf '\x81\xa1v\xa11' | zstd -q -c > "$d/vstr"
    printf '\x83\xa1v\x01\xa2id\x01\xa2id\x02' | zstd -q -c > "$d/dup"
    printf '\x82\xa1v\x01\xa1m\x82\xa1k\x01\xa1k\x02' | zstd -q -c > "$d/ndup"
    printf '\x82\xa1v\x01\xa1s\x91\xa2a\xff' | zstd -q -c > "$d/utf8"
    { printf '\x82\xa1v\x01\xa1x'; printf '\x91%.0s' $(seq 30); printf '\x90'; } | zstd -q -c > "$d/deep"
    { cat "$d/good.mp"; printf '\x82\xa1v\x01\xa2id'; } | zstd -q -c > "$d/cut"
    local -a cases=(
        "empty|stdin: empty input: not a record stream"
        "random|stdin: not a record stream"
        "truncated|truncated"
        "c1|stdin: record 1: invalid msgpack byte 0xc1"
        "array|stdin: record 1: not a map but an array"
        "huge|stdin: record 1: array header claims 4294967295 elements"
        "nan|stdin: record 1: NaN float"
        "inf|stdin: record 1: infinite float"
        "v2|stdin: record 1: format version 2 is not supported"
        "nov|stdin: record 1: no \"v\" field"
        "vstr|stdin: record 1: field \"v\" is not a positive integer"
        "dup|stdin: record 1: field \"id\" appears twice"
        "ndup|stdin: record 1: field \"m\": key \"k\" appears twice in a map"
        "utf8|stdin: record 1: field \"s\"[0]: string is not valid UTF-8 (byte 0xff at offset 1)"
        "deep|stdin: record 1: nested deeper than 31 levels"
        "cut|stdin: record 2: truncated"
    )
    local c file want
    for c in "${cases[@]}"; do
        file=${c%%|*}
        want=${c#*|}
        run bash -c '"$@" > /dev/null' _ "$@" < "$d/$file"
        if [ "$status" -ne 1 ] || [[ "$output" != "$1: "* ]] || [[ "$output" != *"$want"* ]]; then
            echo "case $file: expected exit 1 and \"$1: ...$want\"; got exit $status: $output" >&2
            return 1
        fi
    done
}

# The proposers' tests (random-propose, evo-propose). propose_pools (in setup_file): the real pools
# in $BATS_FILE_TMPDIR, nb201.zst and nb101.zst (every cell), and empty.zst (an empty stream);
# propose_vars (in setup): their paths as P201, P101, EMPTY.
propose_pools() {
    graph-parse nb201 > "$BATS_FILE_TMPDIR/nb201.zst"
    graph-parse nb101 > "$BATS_FILE_TMPDIR/nb101.zst"
    printf '' | zstd -q > "$BATS_FILE_TMPDIR/empty.zst"
}
propose_vars() {
    P201="$BATS_FILE_TMPDIR/nb201.zst"
    P101="$BATS_FILE_TMPDIR/nb101.zst"
    EMPTY="$BATS_FILE_TMPDIR/empty.zst"
}

# graph_keys: the graph keys of the records of a stream on stdin, recomputed by graph-hash (which
# refuses an invalid graph), one a line, sorted.
graph_keys() { graph-hash | stream-to-jsonl | jq -r .hash | sort; }
