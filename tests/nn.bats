#!/usr/bin/env bats
# The neural-network layers (lib/nn.c): every backward against central finite differences.

load helpers

@test "unit: nn layers (finite-difference gradient checks, GRU forward by hand)" {
    run "$SVGE_UNIT/test_nn"
    assert_status 0
    assert_output_has " 0 failed"
}
