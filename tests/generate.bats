#!/usr/bin/env bats
# Generation, the decoder's inference (lib/generate.c): structure of generated graphs (both modes, forward-only
# and merged), determinism and batch invariance, agreement with the teacher-forced training path,
# the forward/backward union merge, and the most common valid decoding out of K tries.

load helpers

@test "unit: decode (structure, determinism, batch invariance, teacher-forcing agreement, merge, mode of K)" {
    run "$SVGE_UNIT/test_generate"
    assert_status 0
    assert_output_has " 0 failed"
}
