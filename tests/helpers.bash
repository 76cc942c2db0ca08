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
