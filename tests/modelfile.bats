#!/usr/bin/env bats
# Model files (formats/model.md) and the optimizer state they carry: the C unit tests of
# lib/modelfile.c and lib/adam.c, each printing "N passed, M failed".

load helpers

@test "unit: modelfile (round trip, version, checksum, truncation, hostile sizes, atomic writes)" {
    run "$SVGE_UNIT/test_modelfile" "$BATS_TEST_TMPDIR"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: adam (PyTorch Adam and ReduceLROnPlateau, checkpoint resume)" {
    run "$SVGE_UNIT/test_adam" "$BATS_TEST_TMPDIR"
    assert_status 0
    assert_output_has " 0 failed"
}
