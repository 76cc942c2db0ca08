#!/usr/bin/env bats
# The DGMG baseline (VS-GAE) training path (lib/dgmg.c): parameter counts (4,872,746 / 4,873,860 /
# 4,874,417), the bidirectional single-stream layer against a naive per-edge implementation, the
# whole model's gradient (all 66 tensors) against finite differences, batch invariance,
# determinism and a short training run.

load helpers

@test "unit: dgmg (counts, bidirectional layer, gradients, batch invariance, determinism)" {
    run "$SVGE_UNIT/test_dgmg"
    assert_status 0
    assert_output_has " 0 failed"
}
