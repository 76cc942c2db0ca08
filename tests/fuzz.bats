#!/usr/bin/env bats
# The libFuzzer targets (tests/fuzz/*.c, `make fuzz`) still build with clang, and each runs a few
# seconds on its seed corpus (tests/fuzz/corpus/<target>) without a finding. Skipped, saying why,
# where clang or its libFuzzer runtime (Debian: clang, libclang-rt-14-dev) is missing.

load helpers

ROOT="$BATS_TEST_DIRNAME/.."

setup_file() {
    if ! command -v clang > /dev/null; then return 0; fi
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
        > "$BATS_FILE_TMPDIR/probe.c"
    clang -fsanitize=fuzzer "$BATS_FILE_TMPDIR/probe.c" -o "$BATS_FILE_TMPDIR/probe" 2> /dev/null \
        && touch "$BATS_FILE_TMPDIR/have-libfuzzer"
}

need_libfuzzer() {
    command -v clang > /dev/null || skip "clang is not installed (make fuzz needs it: apt-get install clang libclang-rt-14-dev)"
    [ -e "$BATS_FILE_TMPDIR/have-libfuzzer" ] || skip "clang cannot link libFuzzer (apt-get install libclang-rt-14-dev)"
}

@test "make fuzz-build: every target compiles and links with clang" {
    need_libfuzzer
    run env -u MAKEFLAGS -u MFLAGS make -C "$ROOT" -j2 fuzz-build
    assert_status 0
    for f in "$ROOT"/tests/fuzz/*.c; do
        t=$(basename "$f" .c)
        [ -x "$ROOT/build/fuzz/$t" ] || { echo "no build/fuzz/$t" >&2; return 1; }
        [ -d "$ROOT/tests/fuzz/corpus/$t" ] || { echo "no seed corpus tests/fuzz/corpus/$t" >&2; return 1; }
    done
}

@test "each fuzz target runs 2 seconds on its seeds without a finding" {
    need_libfuzzer
    for f in "$ROOT"/tests/fuzz/*.c; do
        t=$(basename "$f" .c)
        [ -x "$ROOT/build/fuzz/$t" ] || skip "build/fuzz/$t not built (the test above failed)"
        mkdir -p "$BATS_TEST_TMPDIR/$t"
        run "$ROOT/build/fuzz/$t" -max_total_time=2 -print_final_stats=1 -artifact_prefix="$BATS_TEST_TMPDIR/$t/" \
            "$BATS_TEST_TMPDIR/$t" "$ROOT/tests/fuzz/corpus/$t"
        [ "$status" -eq 0 ] || { echo "$t: exit $status" >&2; echo "$output" | tail -30 >&2; return 1; }
        assert_output_has "stat::number_of_executed_units"
    done
}
