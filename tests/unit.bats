#!/usr/bin/env bats
# The C unit tests of the library (tests/unit/*.c), each a program that prints "N passed, M failed"
# and exits non-zero on a failure.

load helpers

@test "unit: json (parser, writer, shortest floats)" {
    run "$SVGE_UNIT/test_json"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: rng (bit-compatible with NumPy's legacy RandomState)" {
    run "$SVGE_UNIT/test_rng" "$BATS_TEST_DIRNAME/fixtures/numpy_rng.txt"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: svge_ref (our SVGe and DGMG against the reference PyTorch tensors, NB101 and NB201, batch 1)" {
    run "$SVGE_UNIT/test_svge_ref" "$BATS_TEST_DIRNAME/fixtures/svge"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: metrics (digest map, form keys, reconstruction, validity, uniqueness, novelty, prior points)" {
    run "$SVGE_UNIT/test_metrics"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: rankmetrics (hand-worked values with ties; Kendall tau-b against the O(N^2) definition)" {
    run "$SVGE_UNIT/test_rankmetrics"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: latent (z packed, filled in place and read back; malformed z refused)" {
    run "$SVGE_UNIT/test_latent"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: encodings (adj-onehot and path encodings of hand-worked NB101 and NB201 cells; paths against brute force)" {
    run "$SVGE_UNIT/test_encodings"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: graph_list (a stream of graphs read whole, limited, appended; wrong space or invalid graph dies)" {
    TMPDIR="$BATS_TEST_TMPDIR" run "$SVGE_UNIT/test_graph_list"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: gp (closed form, gradients by finite differences, jitter, sparse = exact, EI, model files)" {
    run "$SVGE_UNIT/test_gp" "$BATS_TEST_TMPDIR"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: celltrain_ckpt (cell-train's checkpoints: round trip, other settings, junk, missing)" {
    TMPDIR="$BATS_TEST_TMPDIR" run "$SVGE_UNIT/test_celltrain_ckpt"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: surrogate (the SVGE_acc head and the fine-tuning objective: finite differences for SVGe and DGMG with a head, overfit, model files)" {
    run "$SVGE_UNIT/test_surrogate"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: bo (kriging believer's rank-one updates = a refitted GP, EI argmax by hand, refinement, determinism)" {
    run "$SVGE_UNIT/test_bo"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: stream (UTF-8 validation, the nesting limit; a deferred reader error fails a program that never closes)" {
    run "$SVGE_UNIT/test_stream"
    assert_status 0
    assert_output_has " 0 failed"
    graph-parse nb201 | stream-split --count 10 --seed 1 | zstd -q -dc > "$BATS_TEST_TMPDIR/10.mp"
    { cat "$BATS_TEST_TMPDIR/10.mp"; printf '\x82\xa1v\x01\xa2id'; } | zstd -q -c > "$BATS_TEST_TMPDIR/cut.zst"
    run "$SVGE_UNIT/test_stream" forget "$BATS_TEST_TMPDIR/cut.zst"
    assert_status 1
    assert_output_has "10 records"
    assert_output_has "test_stream: $BATS_TEST_TMPDIR/cut.zst: record 11: truncated"
    zstd -q -c "$BATS_TEST_TMPDIR/10.mp" > "$BATS_TEST_TMPDIR/whole.zst"
    run "$SVGE_UNIT/test_stream" forget "$BATS_TEST_TMPDIR/whole.zst"
    assert_status 0
}

@test "unit: parallel (every task once, on thread i mod T, pools of 1 to 5 threads reused)" {
    run "$SVGE_UNIT/test_parallel"
    assert_status 0
    assert_output_has " 0 failed"
}

@test "unit: vae_team (encoding and generation on 1 to 3 threads: the bits of one model, group by group)" {
    graph-parse nb201 | stream-split --shard 0/150 > "$BATS_TEST_TMPDIR/g.zst"
    run "$SVGE_UNIT/test_vae_team" "$SVGE_DATA/nb201/svge.model" "$BATS_TEST_TMPDIR/g.zst"
    assert_status 0
    assert_output_has " 0 failed"
}
