#!/usr/bin/env bats
# The trained models shipped in data/ (data/nb201, data/enas6, data/nb101: MODEL.md): they load, and
# they reconstruct real cells (argmax decoding of the first 200 NB201 cells, training and test split
# alike; 200 ENAS-6 architectures and 200 NB101 cells of the test splits).

load helpers

@test "data/nb201/svge.model reconstructs at least 95 % of 200 NB201 cells exactly (argmax)" {
    M="$SVGE_DATA/nb201/svge.model"
    graph-parse nb201 | stream-split --ratio 0.0128 --seed 1 --keep-order > "$T/g.zst"   # 200 cells
    stream-to-jsonl < "$T/g.zst" | sed 's/,"hash".*//; s/"id":[0-9]*,//' > "$T/orig"
    [ "$(wc -l < "$T/orig")" -eq 200 ]
    svge-encode -m "$M" < "$T/g.zst" | svge-decode -m "$M" --mode argmax | stream-to-jsonl \
        | sed 's/,"source_id".*//; s/"id":[0-9]*,//' > "$T/dec"
    same=$(paste "$T/orig" "$T/dec" | awk -F'\t' '$1 == $2' | wc -l)
    echo "exact: $same / 200" >&2
    [ "$same" -ge 190 ]
}

@test "the main job of README runs on the embedded data" {
    run bash -c "graph-parse nb201 | svge-encode -m '$SVGE_DATA/nb201/svge.model' | svge-decode -m '$SVGE_DATA/nb201/svge.model' | bench-lookup | stream-to-jsonl | head -3"
    assert_status 0
    [ "${#lines[@]}" -eq 3 ]
    [[ "${lines[0]}" == *'"lookup":"found"'* ]]
}

@test "--threads 2 and 0 (worker threads on real-size models): the bytes of one thread" {
    M="$SVGE_DATA/nb201/svge.model"
    graph-parse nb201 | stream-split --ratio 0.0128 --seed 1 --keep-order > "$T/g.zst"   # 200 cells
    svge-encode -m "$M" --threads 1 --batch 16 < "$T/g.zst" > "$T/z1.zst"
    svge-encode -m "$M" --threads 2 --batch 16 < "$T/g.zst" | cmp - "$T/z1.zst"
    svge-encode -m "$M" --threads 0 --batch 16 < "$T/g.zst" | cmp - "$T/z1.zst"
    svge-decode -m "$M" --mode argmax --samples 3 --threads 1 < "$T/z1.zst" > "$T/d1.zst"
    svge-decode -m "$M" --mode argmax --samples 3 --threads 2 < "$T/z1.zst" | cmp - "$T/d1.zst"
    svge-decode -m "$M" --mode argmax --samples 3 --threads 0 < "$T/z1.zst" | cmp - "$T/d1.zst"
    for tool in "svge-encode -m $M" "svge-decode -m $M" "svge-metrics -m $M" "svge-train -o $T/x"; do
        # shellcheck disable=SC2086
        run_quiet $tool --threads 257 < /dev/null
        assert_status 2
        assert_output_has "--threads: '257' is not an integer in [0, 256]"
    done
}

# argmax_exact MODEL GRAPHS.zst MIN: encode the 200 graphs of GRAPHS.zst with MODEL, decode them by
# argmax with the union and with the reference merge, and check that at least MIN of the 200 come
# back exactly (index-wise, as the records print)
argmax_exact() {
    local m=$1 g=$2 min=$3 merge same
    stream-to-jsonl < "$g" | sed 's/,"hash".*//; s/"id":[0-9]*,//' > "$T/orig"
    [ "$(wc -l < "$T/orig")" -eq 200 ]
    svge-encode -m "$m" < "$g" > "$T/z.zst"
    for merge in union reference; do
        svge-decode -m "$m" --mode argmax --merge $merge < "$T/z.zst" | stream-to-jsonl \
            | sed 's/,"source_id".*//; s/"id":[0-9]*,//' > "$T/dec"
        same=$(paste "$T/orig" "$T/dec" | awk -F'\t' '$1 == $2' | wc -l)
        echo "$merge: exact $same / 200" >&2
        [ "$same" -ge "$min" ] || return 1
    done
}

@test "data/enas6/svge.model reconstructs 200 ENAS-6 test architectures (argmax; the union and the reference merge)" {
    # the reference's test split: D-VAE's lines after the first 1,000, 90/10 with seed 1; its first 200
    graph-parse enas6 | stream-to-jsonl | tail -n +1001 | jsonl-to-stream \
        | stream-split --ratio 0.9 --seed 1 --rest "$T/test.zst" > /dev/null
    stream-split --ratio 0.1052 --seed 1 --keep-order < "$T/test.zst" > "$T/g.zst"   # 200 of the 1,902
    argmax_exact "$SVGE_DATA/enas6/svge.model" "$T/g.zst" 190   # measured: 198 (union), 199 (reference)
}

@test "data/nb101/svge.model reconstructs 200 random NB101 test cells (argmax; the union and the reference merge)" {
    # the reference's test split (90/10 with seed 1), 200 of its 42,363 cells drawn with seed 1
    graph-parse nb101 | stream-split --ratio 0.9 --seed 1 --rest "$T/test.zst" > /dev/null
    stream-split --count 200 --seed 1 < "$T/test.zst" > "$T/g.zst"
    # measured: 196 (union), 197 (reference), after 16 epochs (data/nb101/MODEL.md); 194 and 195
    # after 11, 168 and 174 after 6
    argmax_exact "$SVGE_DATA/nb101/svge.model" "$T/g.zst" 185
}
