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

@test "unit: svge_ref (our SVGe and DGMG against the reference PyTorch tensors, NB101 and NB201, batch 1)" {
    run "$SVGE_UNIT/test_svge_ref" "$BATS_TEST_DIRNAME/fixtures/svge"
    assert_status 0
    assert_output_has " 0 failed"
}
