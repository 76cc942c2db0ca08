#!/usr/bin/env bats
# The SVGe encoder (lib/mpass.c, lib/encoder.c): message-passing layer and whole-encoder gradients
# against finite differences, the dense identity against per-edge messages, batch invariance,
# parameter counts (845,739 / 845,989 / 846,114) and initialisation.

load helpers

@test "unit: encoder (finite-difference gradients, per-edge forward, batching, parameter counts)" {
    run "$SVGE_UNIT/test_encoder"
    assert_status 0
    assert_output_has " 0 failed"
}
