#!/usr/bin/env bats
# The whole SVGe VAE for training (lib/svge.c): parameter counts (2,245,121 / 2,245,985 /
# 2,246,417), the loss terms (recon batch mean + beta * KL summed over batch and dims) and the
# documented eps draws, the whole model's gradient (all 82 tensors, through the
# reparameterisation and the KL) against finite differences, bitwise determinism, save/load (same
# parameters and model id, other spaces and shapes refused), checkpoint resume (6 steps = 3 + save
# + load + 3, bitwise) and overfitting four NAS-Bench-201 cells.

load helpers

@test "unit: svge (gradients, determinism, save/load, checkpoint resume, overfit)" {
    run "$SVGE_UNIT/test_svge" "$BATS_TEST_TMPDIR"
    assert_status 0
    assert_output_has " 0 failed"
}
