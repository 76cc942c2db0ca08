#!/usr/bin/env bats
# The CNN executor's window kernels (lib/cnn.c) and the CIFAR-10 reader (lib/cifar.c) that cell-train builds on.

load helpers

@test "unit: cnn kernels (forward vs direct loops, finite-difference gradient checks)" {
    run "$SVGE_UNIT/test_cnn"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: cifar reader (shipped subsets, malformed files, binary batches)" {
    run "$SVGE_UNIT/test_cifar" "$SVGE_DATA/cifar10"
    assert_status 0
    assert_output_has " 0 failed"
}
