#!/usr/bin/env bats
# evo-propose: regularised evolution's proposer: Q children, each one mutation of a tournament
# winner among the last P evaluated records with the objective. Real data: NB201's 15,625 cells,
# NB101's 423,624 (20,001 with val_acc_108ep) and D-VAE's ENAS-6 architectures; evaluated streams
# drawn from them.

load helpers

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    propose_pools
    stream-split --count 200 --seed 7 < "$d/nb201.zst" > "$d/ev201.zst"
    # 100 of the 20,001 labelled NB101 cells
    stream-top --by val_acc_108ep -n 20001 --skip-missing < "$d/nb101.zst" | stream-split --count 100 --seed 3 > "$d/ev101.zst"
    graph-parse enas6 | stream-split --count 100 --seed 4 > "$d/ev6.zst"
}

setup() {
    setup_scratch
    propose_vars
    E201="$BATS_FILE_TMPDIR/ev201.zst"
    E101="$BATS_FILE_TMPDIR/ev101.zst"
    E6="$BATS_FILE_TMPDIR/ev6.zst"
    Y=c10valid_val_200ep_mean
}

# diffs EVALUATED.json CHILDREN.json: for each child, "KIND OPS EDGES": its mutation and how many
# operations and edges differ from its parent's (found by id in the evaluated records)
diffs() {
    jq -n -r --slurpfile ev "$1" --slurpfile out "$2" '
        ($ev | map({(.id | tostring): .}) | add) as $m
        | $out[] | . as $c | $m[$c.proposal.parent | tostring] as $p
        | [$c.proposal.mutation,
           ([range(0; $c.ops | length) | select($c.ops[.] != $p.ops[.])] | length),
           (($c.edges - $p.edges) + ($p.edges - $c.edges) | length)] | @tsv'
}

# checks the children of a stream against the evaluated one: COUNT children, valid, new, distinct
new_children() {
    local out=$1 ev=$2 count=$3
    graph_keys < "$out" > "$T/out.h"
    graph_keys < "$ev" > "$T/ev.h"
    [ "$(wc -l < "$T/out.h")" -eq "$count" ]
    [ "$(sort -u "$T/out.h" | wc -l)" -eq "$count" ]
    [ -z "$(comm -12 "$T/out.h" "$T/ev.h")" ]
}

@test "nb201: children are valid, new, distinct, each one operation away from its parent" {
    evo-propose -n 40 --y $Y --seed 1 < "$E201" > "$T/out.zst"
    new_children "$T/out.zst" "$E201" 40
    stream-to-jsonl < "$E201" > "$T/ev.json"
    stream-to-jsonl < "$T/out.zst" > "$T/out.json"
    [ "$(diffs "$T/ev.json" "$T/out.json" | sort -u)" = "$(printf 'op\t1\t0')" ]
    [ "$(jq -r .proposal.method "$T/out.json" | sort -u)" = evolution ]
    # graph records: v, id (the output position), space, ops, edges, arch, proposal; arch as NB201 writes it
    [ "$(jq -c 'keys_unsorted' "$T/out.json" | sort -u)" = '["v","id","space","ops","edges","arch","proposal"]' ]
    [ "$(jq -r .id "$T/out.json" | tr '\n' ' ')" = "$(seq 0 39 | tr '\n' ' ')" ]
    bench-lookup --missing fail < "$T/out.zst" | stream-to-jsonl | jq -r .arch > "$T/arch"
    [ "$(wc -l < "$T/arch")" -eq 40 ]
    # the same with --pool: the pool's records (its ids and accuracies), the same children
    evo-propose -n 40 --y $Y --seed 1 --pool "$P201" < "$E201" | stream-to-jsonl > "$T/pool.json"
    [ "$(diffs "$T/ev.json" "$T/pool.json" | sort -u)" = "$(printf 'op\t1\t0')" ]
    [ "$(jq -c .ops "$T/pool.json")" = "$(jq -c .ops "$T/out.json")" ]
    [ "$(jq 'select(.c10valid_val_200ep_mean == null)' "$T/pool.json" | wc -l)" -eq 0 ]
}

@test "seeded: the same seed gives the same bytes, another seed other children" {
    evo-propose -n 20 --y $Y --seed 4 < "$E201" > "$T/a.zst"
    evo-propose -n 20 --y $Y --seed 4 "$E201" > "$T/b.zst"
    cmp "$T/a.zst" "$T/b.zst"
    evo-propose -n 20 --y $Y --seed 5 < "$E201" > "$T/c.zst"
    [ "$(stream-to-jsonl < "$T/a.zst" | jq -c .ops)" != "$(stream-to-jsonl < "$T/c.zst" | jq -c .ops)" ]
    evo-propose -n 20 --y $Y --seed 4 --pool "$P201" < "$E201" > "$T/p1.zst"
    evo-propose -n 20 --y $Y --seed 4 --pool "$P201" < "$E201" > "$T/p2.zst"
    cmp "$T/p1.zst" "$T/p2.zst"
}

@test "T = P: every parent is the population's best; the population is the last P records with the field" {
    best=$(stream-top --by $Y -n 1 < "$E201" | stream-to-jsonl | jq .id)
    evo-propose -n 10 --y $Y -P 200 -T 200 < "$E201" | stream-to-jsonl | jq .proposal.parent | sort -u > "$T/p"
    [ "$(cat "$T/p")" = "$best" ]
    # the last 50 records: their best
    best50=$(stream-to-jsonl < "$E201" | tail -50 | jq -s -c "sort_by(-.$Y) | .[0].id")
    [ "$best50" != "$best" ]
    [ "$(evo-propose -n 10 --y $Y -P 50 -T 50 < "$E201" | stream-to-jsonl | jq .proposal.parent | sort -u)" = "$best50" ]
}

@test "P = 1: the parent is always the last evaluated record that has the field" {
    last=$(stream-to-jsonl < "$E201" | tail -1 | jq .id)
    [ "$(evo-propose -n 8 --y $Y -P 1 -T 1 < "$E201" | stream-to-jsonl | jq .proposal.parent | sort -u)" = "$last" ]
    # a later record without the field is not in the population (but is evaluated: never a child)
    stream-to-jsonl < "$P201" | grep '^{"v":1,"id":5,' | jq -c "del(.$Y)" | jsonl-to-stream > "$T/nofield.zst"
    cat "$E201" "$T/nofield.zst" > "$T/ev.zst"
    evo-propose -n 8 --y $Y -P 1 -T 1 < "$T/ev.zst" > "$T/out.zst"
    [ "$(stream-to-jsonl < "$T/out.zst" | jq .proposal.parent | sort -u)" = "$last" ]
    new_children "$T/out.zst" "$T/ev.zst" 8
}

@test "a tournament larger than the population so far takes all of it" {
    stream-split --shard 0/5000 < "$P201" > "$T/ev3.zst"     # 4 records (ids 0 5000 10000 15000)
    evo-propose -n 5 --y $Y < "$T/ev3.zst" > "$T/out.zst"    # defaults P 50, T 10
    new_children "$T/out.zst" "$T/ev3.zst" 5
    best=$(stream-top --by $Y -n 1 < "$T/ev3.zst" | stream-to-jsonl | jq .id)
    [ "$(stream-to-jsonl < "$T/out.zst" | jq .proposal.parent | sort -u)" = "$best" ]
}

@test "nb101 --pool --require val_acc_108ep: labelled pool cells, new, one mutation from the parent" {
    evo-propose -n 30 --y val_acc_108ep --pool "$P101" --require val_acc_108ep --seed 2 < "$E101" > "$T/out.zst"
    new_children "$T/out.zst" "$E101" 30
    stream-to-jsonl < "$T/out.zst" > "$T/out.json"
    [ "$(jq 'select(.val_acc_108ep == null)' "$T/out.json" | wc -l)" -eq 0 ]
    [ "$(jq -r .proposal.mutation "$T/out.json" | sort -u | grep -cv '^op$\|^edge$\|^random$')" -eq 0 ]
    [ "$(jq -r .proposal.mutation "$T/out.json" | grep -c '^op$\|^edge$')" -ge 15 ]
    evo-propose -n 30 --y val_acc_108ep --pool "$P101" --require val_acc_108ep --seed 2 < "$E101" | cmp - "$T/out.zst"
    # without a pool: the mutated graph itself (pruned as nasbench does); an op child has the same
    # edges and one other operation, an edge child of as many nodes one edge more or less
    evo-propose -n 30 --y val_acc_108ep --seed 2 < "$E101" > "$T/free.zst"
    new_children "$T/free.zst" "$E101" 30
    stream-to-jsonl < "$E101" > "$T/ev.json"
    stream-to-jsonl < "$T/free.zst" > "$T/free.json"
    diffs "$T/ev.json" "$T/free.json" > "$T/d"
    [ "$(grep -c '^op' "$T/d")" -ge 5 ]
    [ "$(grep '^op' "$T/d" | sort -u)" = "$(printf 'op\t1\t0')" ]
    jq -n -r --slurpfile ev "$T/ev.json" --slurpfile out "$T/free.json" '
        ($ev | map({(.id | tostring): .}) | add) as $m
        | $out[] | select(.proposal.mutation == "edge") | . as $c | $m[$c.proposal.parent | tostring] as $p
        | select(($c.ops | length) == ($p.ops | length))
        | "\($c.ops == $p.ops) \(($c.edges - $p.edges) + ($p.edges - $c.edges) | length)"' > "$T/same-n"
    [ "$(wc -l < "$T/same-n")" -ge 2 ]
    [ "$(sort -u "$T/same-n")" = "true 1" ]
}

@test "enas6: one layer's operation or one skip connection, never a chain edge or an edge into the output" {
    evo-propose -n 60 --y ws_val_acc --seed 3 < "$E6" > "$T/out.zst"
    new_children "$T/out.zst" "$E6" 60
    stream-to-jsonl < "$E6" > "$T/ev.json"
    stream-to-jsonl < "$T/out.zst" > "$T/out.json"
    diffs "$T/ev.json" "$T/out.json" | sort -u > "$T/d"
    [ "$(cat "$T/d")" = "$(printf 'edge\t0\t1\nop\t1\t0')" ]
    # the flipped edge u -> v: a skip into a layer (v <= 6, v >= u + 2)
    jq -n -r --slurpfile ev "$T/ev.json" --slurpfile out "$T/out.json" '
        ($ev | map({(.id | tostring): .edges}) | add) as $m
        | $out[] | select(.proposal.mutation == "edge") | $m[.proposal.parent | tostring] as $p
        | ((.edges - $p) + ($p - .edges))[0] | "\(.[0]) \(.[1])"' > "$T/flips"
    [ "$(wc -l < "$T/flips")" -ge 10 ]
    awk '$2 > 6 || $2 < $1 + 2 { bad = 1 } END { exit bad }' "$T/flips"
}

@test "no admissible mutation: a new tournament, then a random pool cell, or fewer children" {
    # all 24 neighbours of one NB201 cell evaluated (without accuracy), the cell itself the population
    stream-to-jsonl < "$P201" | grep '^{"v":1,"id":100,' > "$T/cell.json"
    jq -c '. as $c | range(1; 7) as $i
           | ["nor_conv_1x1","nor_conv_3x3","avg_pool_3x3","skip_connect","none"][] | select(. != $c.ops[$i]) as $op
           | {v: 1, space: "nb201", ops: ($c.ops | .[$i] = $op), edges: $c.edges}' "$T/cell.json" > "$T/nb.json"
    [ "$(wc -l < "$T/nb.json")" -eq 24 ]
    cat "$T/nb.json" "$T/cell.json" | jsonl-to-stream > "$T/ev.zst"
    run_quiet evo-propose -n 3 --y $Y < "$T/ev.zst"
    assert_status 0
    assert_output_has "evo-propose: warning: only 0 children for -n 3: 100 tournaments found no admissible mutation"
    # one neighbour left out: it is the only child
    { tail -n +2 "$T/nb.json"; cat "$T/cell.json"; } | jsonl-to-stream > "$T/ev23.zst"
    evo-propose -n 3 --y $Y < "$T/ev23.zst" 2>/dev/null | stream-to-jsonl | jq -c .ops > "$T/got"
    [ "$(cat "$T/got")" = "$(head -1 "$T/nb.json" | jq -c .ops)" ]
    # with a pool: random admissible pool cells stand in, counted
    evo-propose -n 3 --y $Y --pool "$P201" < "$T/ev.zst" 2> "$T/err" | stream-to-jsonl > "$T/r.json"
    [ "$(jq -r .proposal.mutation "$T/r.json" | sort -u)" = random ]
    [ "$(jq -c .proposal "$T/r.json" | head -1)" = '{"method":"evolution","mutation":"random"}' ]
    grep -q "3 of 3 children are random pool cells (100 tournaments found no admissible mutation)" "$T/err"
}

@test "a tiny pool: 5 cells, 3 evaluated, -n 10 gives the 2 others and a warning" {
    stream-split --shard 0/3125 < "$P201" > "$T/pool5.zst"
    stream-split --shard 0/5 < "$T/pool5.zst" > "$T/a.zst"
    stream-split --shard 2/5 < "$T/pool5.zst" > "$T/b.zst"
    stream-split --shard 4/5 < "$T/pool5.zst" > "$T/c.zst"
    cat "$T/a.zst" "$T/b.zst" "$T/c.zst" > "$T/ev.zst"
    run_quiet evo-propose -n 10 --y $Y --pool "$T/pool5.zst" "$T/ev.zst"
    assert_status 0
    assert_output_has "evo-propose: warning: only 2 children for -n 10: no admissible pool cell is left"
    [ "$(evo-propose -n 10 --y $Y --pool "$T/pool5.zst" "$T/ev.zst" 2>/dev/null | stream-to-jsonl | jq .id | sort -n | tr '\n' ' ')" = "3125 9375 " ]
}

@test "an empty population, a field that is not a number: bad input naming the stream or record" {
    run_quiet evo-propose -n 1 --y no_such_field < "$E201"
    assert_status 1
    assert_output_has "evo-propose: stdin: no record with a field \"no_such_field\" among 200: the population is empty"
    run_quiet evo-propose -n 1 --y $Y "$EMPTY"
    assert_status 1
    assert_output_has "evo-propose: $EMPTY: no record with a field \"$Y\" among 0: the population is empty"
    run_quiet evo-propose -n 1 --y arch < "$E201"
    assert_status 1
    assert_output_has "evo-propose: stdin: record 1: field \"arch\" is a string, not a number"
    stream-to-jsonl < "$E201" | head -3 | jq -c ".$Y = [1]" | jsonl-to-stream > "$T/arr.zst"
    run_quiet evo-propose -n 1 --y $Y < "$T/arr.zst"
    assert_status 1
    assert_output_has "record 1: field \"$Y\" is an array, not a number"
}

@test "bad streams: the evaluated stream and the pool, named" {
    assert_rejects_bad_streams evo-propose -n 1 --y $Y
    head -c 20000 "$P201" > "$T/cut.zst"
    run_quiet evo-propose -n 1 --y $Y --pool "$T/cut.zst" < "$E201"
    assert_status 1
    assert_output_has "evo-propose: $T/cut.zst: "
    assert_output_has "truncated"
    run_quiet evo-propose -n 1 --y $Y --pool "$T/missing.zst" < "$E201"
    assert_status 3
}

@test "usage errors exit 2; --help documents the options and the mutation rule" {
    for args in "" "--y x" "-n 1" "-n 0 --y x" "-n 1000001 --y x" "-n 1 --y ''" "-n 1 --y x -P 0" \
                "-n 1 --y x -T 0" "-n 1 --y x -P 10 -T 11" "-n 1 --y x -T 51" "-n 1 --y x --require f" \
                "-n 1 --y x --pool -" "-n 1 --y x --pool /dev/null" "-n 1 --y x --bogus" "-n 1 --y x a b"; do
        eval "run evo-propose $args" < "$EMPTY"
        assert_status 2
    done
    run evo-propose -n 1 --y x -P 10 -T 11
    assert_output_has "evo-propose: --tournament 11 is larger than --population 10"
    run evo-propose -n 1 --y x --require f
    assert_output_has "evo-propose: --require needs --pool"
    run evo-propose -n 1 --y x --pool /dev/null
    assert_output_has "evo-propose: --pool: '/dev/null' is not a regular file (the pool is read twice)"
    run evo-propose --help
    assert_status 0
    for s in "--count Q" "--y FIELD" "--population P" "(default 50)" "--tournament T" "(default 10)" "--pool POOL" \
             "--require FIELD" "--seed S" "probability 1/2" "after 100 tournaments" "Exit status"; do
        assert_output_has "$s"
    done
}
