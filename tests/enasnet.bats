#!/usr/bin/env bats
# The ENAS macro networks (lib/enasnet.c) on the cellnet executor.

load helpers

@test "unit: enasnet (parameter counts, PyTorch reference outputs, kink-aware gradient checks, errors)" {
    run "$SVGE_UNIT/test_enasnet" "$BATS_TEST_DIRNAME/fixtures/cellnet"
    assert_status 0
    assert_output_has " 0 failed"
}
