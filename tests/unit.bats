#!/usr/bin/env bats
# The C unit tests of the library (tests/unit/*.c), each a program that prints "N passed, M failed"
# and exits non-zero on a failure.

load helpers

@test "unit: json (parser, writer, shortest floats)" {
    run "$SVGE_UNIT/test_json"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: rng (bit-compatible with NumPy's legacy RandomState)" {
    run "$SVGE_UNIT/test_rng" "$BATS_TEST_DIRNAME/fixtures/numpy_rng.txt"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: metrics (digest map, form keys, reconstruction, validity, uniqueness, novelty, prior points)" {
    run "$SVGE_UNIT/test_metrics"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: latent (z packed, filled in place and read back; malformed z refused)" {
    run "$SVGE_UNIT/test_latent"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: graph_list (a stream of graphs read whole, limited, appended; wrong space or invalid graph dies)" {
    TMPDIR="$BATS_TEST_TMPDIR" run "$SVGE_UNIT/test_graph_list"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: celltrain_ckpt (cell-train's checkpoints: round trip, other settings, junk, missing)" {
    TMPDIR="$BATS_TEST_TMPDIR" run "$SVGE_UNIT/test_celltrain_ckpt"
    assert_status 0
    assert_output_has " 0 failed"
}
