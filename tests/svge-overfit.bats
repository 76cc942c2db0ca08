#!/usr/bin/env bats
# End to end: a tiny SVGe overfits a handful of real cells to 100 % reconstruction
# (svge-train -> svge-encode -> svge-decode --mode argmax; svge-metrics for sampled decoding).

load helpers

@test "a tiny model overfits 4 NB201 cells: argmax decoding reconstructs every one, sampling >= 95 %" {
    graph-parse nb201 | stream-split --shard 0/4000 > "$T/g.zst"
    [ "$(stream-to-jsonl < "$T/g.zst" | wc -l)" -eq 4 ]
    svge-train -q -o "$T/m.svge" --ndim 32 --gdim 8 --epochs 400 --lr 5e-3 --batch 4 --seed 1 < "$T/g.zst"
    # the graphs, without the fields decoding does not reproduce
    stream-to-jsonl < "$T/g.zst" | sed 's/,"hash".*//; s/"id":[0-9]*,//' > "$T/orig"
    svge-encode -m "$T/m.svge" < "$T/g.zst" | svge-decode -m "$T/m.svge" --mode argmax | stream-to-jsonl \
        | sed 's/,"source_id".*//; s/"id":[0-9]*,//' > "$T/dec"
    diff "$T/orig" "$T/dec"
    svge-metrics -m "$T/m.svge" --train "$T/g.zst" --prior-samples 0 < "$T/g.zst" | stream-to-jsonl > "$T/met"
    awk 'match($0, /"recon_acc":[0-9.]+/) { v = substr($0, RSTART + 12, RLENGTH - 12); exit !(v >= 0.95) }' "$T/met"
}

@test "before training the same check fails (the test can fail)" {
    graph-parse nb201 | stream-split --shard 0/4000 > "$T/g.zst"
    svge-train -q -o "$T/m.svge" --ndim 32 --gdim 8 --epochs 1 --lr 5e-3 --batch 4 --seed 1 < "$T/g.zst"
    stream-to-jsonl < "$T/g.zst" | sed 's/,"hash".*//; s/"id":[0-9]*,//' > "$T/orig"
    svge-encode -m "$T/m.svge" < "$T/g.zst" | svge-decode -m "$T/m.svge" --mode argmax | stream-to-jsonl \
        | sed 's/,"source_id".*//; s/"id":[0-9]*,//' > "$T/dec"
    ! diff -q "$T/orig" "$T/dec"
}
