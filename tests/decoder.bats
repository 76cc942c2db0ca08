#!/usr/bin/env bats
# The SVGe decoder's teacher-forced training path (lib/decoder.c): parameter counts
# (1,399,382 / 1,399,996 / 1,400,303) and names, the loss against a naive double-precision
# implementation, batch invariance (loss and dc), and the whole decoder's gradient (all parameters
# and dc) against finite differences.

load helpers

@test "unit: decoder (naive loss, batch invariance, finite-difference gradients, parameter counts)" {
    run "$SVGE_UNIT/test_decoder"
    assert_status 0
    assert_output_has " 0 failed"
}
