#!/usr/bin/env bats
# The reference's decoding behaviours kept on purpose (lib/reference_merge.c): its forward/backward merge
# (formats/reference.md §8 bug 2) and its "most common" pick that is really the first valid (bug 4).

load helpers

@test "unit: reference_merge (the reference's merge on hand-worked graphs, first-valid pick)" {
    run "$SVGE_UNIT/test_reference_merge"
    assert_status 0
    assert_output_has " 0 failed"
}
