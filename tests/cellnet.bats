#!/usr/bin/env bats
# The CNN executor of cell-train (lib/cellnet_*.c) and the NAS-Bench-101 networks (lib/nb101net.c).

load helpers

@test "unit: cellnet + nb101net (PyTorch fixtures, NB101 parameter counts, gradient checks, batched conv)" {
    run "$SVGE_UNIT/test_cellnet" "$BATS_TEST_DIRNAME/fixtures/cellnet"
    assert_status 0
    assert_output_has " 0 failed"
}
