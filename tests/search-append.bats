#!/usr/bin/env bats
# search-append: the loop's bookkeeping: drops invalid, duplicate, unknown and over-budget cells,
# numbers the evaluations after the log's, keeps the best so far; bad input.

load helpers

Y=c10valid_val_200ep_mean

setup() {
    setup_scratch
    printf '' | zstd -q > "$T/empty.zst"
    graph-parse nb201 | stream-split --count 6 --seed 9 --keep-order > "$T/six.zst"
}

@test "round 0 into an empty log: every cell numbered 1..n with the running best" {
    search-append -q --log "$T/empty.zst" --y $Y --method random --seed 3 < "$T/six.zst" > "$T/log.zst"
    stream-to-jsonl < "$T/six.zst" | jq -r ".$Y" > "$T/acc"
    # the running maximum by hand
    awk 'NR == 1 || $1 > m { m = $1 } { printf "%d %s\n", NR, m }' "$T/acc" > "$T/want"
    stream-to-jsonl < "$T/log.zst" | jq -r '"\(.search.eval) \(.search.best)"' > "$T/got"
    [ "$(wc -l < "$T/got")" -eq 6 ]
    run paste -d' ' "$T/want" "$T/got"
    for l in "${lines[@]}"; do
        set -- $l
        [ "$1" = "$3" ] && awk -v a="$2" -v b="$4" 'BEGIN { exit !(a + 0 == b + 0) }'
    done
    run bash -c "stream-to-jsonl < '$T/log.zst' | jq -c '.search | [.method, .seed, .round]' | sort -u"
    [ "$output" = '["random",3,0]' ]
}

@test "a later round: numbering continues after the log, duplicates of the log and of the round are dropped" {
    stream-split --count 3 --seed 1 < "$T/six.zst" > "$T/three.zst"
    search-append -q --log "$T/empty.zst" --y $Y --method bo < "$T/three.zst" > "$T/log.zst"
    # the round: the six cells (three of them already in the log) and one of them twice
    cat "$T/six.zst" "$T/six.zst" > "$T/round.zst"
    run bash -c "search-append --log '$T/log.zst' --y $Y --method bo --round 1 < '$T/round.zst' > '$T/new.zst'"
    assert_status 0
    assert_output_has "round 1 (bo, seed 0): +3 -> 6 evaluations"
    assert_output_has "dropped: 9 duplicate, 0 invalid, 0 unknown, 0 over budget"
    run bash -c "stream-to-jsonl < '$T/new.zst' | jq -r .search.eval | tr '\n' ' '"
    [ "$output" = "4 5 6 " ]
}

@test "invalid cells and cells without the objective are dropped and counted; --budget stops the run" {
    stream-to-jsonl < "$T/six.zst" | jq -c 'if .id % 3 == 0 then del(.'$Y') else . end' > "$T/j"
    # an invalid NB201 graph: the output fed by the input directly
    echo '{"v":1,"space":"nb201","ops":["input","output"],"edges":[[0,1]]}' >> "$T/j"
    jsonl-to-stream < "$T/j" > "$T/round.zst"
    unknown=$(stream-to-jsonl < "$T/six.zst" | jq 'select(.id % 3 == 0)' | jq -s length)
    run bash -c "search-append --log '$T/empty.zst' --y $Y --method m --budget 2 < '$T/round.zst' | stream-to-jsonl | wc -l"
    assert_status 0
    assert_output_has "1 invalid, $unknown unknown, $((6 - unknown - 2)) over budget"
    [ "${lines[-1]}" -eq 2 ]
}

@test "--minimize keeps the smallest as the best" {
    search-append -q --log "$T/empty.zst" --y $Y --method m --minimize < "$T/six.zst" > "$T/log.zst"
    want=$(stream-to-jsonl < "$T/six.zst" | jq -s "map(.$Y) | min")
    got=$(stream-to-jsonl < "$T/log.zst" | jq -s '.[-1].search.best')
    [ "$want" = "$got" ]
}

@test "NB101: isomorphic cells are duplicates" {
    # the same cell twice, its two middle nodes swapped
    printf '%s\n' \
      '{"v":1,"space":"nb101","ops":["input","conv3x3-bn-relu","maxpool3x3","output"],"edges":[[0,1],[0,2],[1,3],[2,3]],"acc":0.9}' \
      '{"v":1,"space":"nb101","ops":["input","maxpool3x3","conv3x3-bn-relu","output"],"edges":[[0,1],[0,2],[1,3],[2,3]],"acc":0.9}' \
      | jsonl-to-stream > "$T/iso.zst"
    run bash -c "search-append --log '$T/empty.zst' --y acc --method m < '$T/iso.zst' | stream-to-jsonl | wc -l"
    assert_output_has "+1 -> 1 evaluations"
    assert_output_has "1 duplicate"
}

@test "bad input: a log record without the objective, a non-number objective, not a graph, bad streams" {
    stream-to-jsonl < "$T/six.zst" | jq -c "del(.$Y)" | jsonl-to-stream > "$T/nolabel.zst"
    run_quiet search-append --log "$T/nolabel.zst" --y $Y --method m < "$T/six.zst"
    assert_status 1
    assert_output_has "record 1: no field \"$Y\": a log holds evaluated cells only"
    stream-to-jsonl < "$T/six.zst" | jq -c ".$Y = \"high\"" | jsonl-to-stream > "$T/str.zst"
    run_quiet search-append --log "$T/empty.zst" --y $Y --method m < "$T/str.zst"
    assert_status 1
    assert_output_has "field \"$Y\" is a string, not a number"
    echo '{"v":1,"x":1}' | jsonl-to-stream > "$T/ng.zst"
    run_quiet search-append --log "$T/empty.zst" --y $Y --method m < "$T/ng.zst"
    assert_status 1
    assert_output_has "stdin: record 1:"
    run_quiet search-append --log "$T/missing.zst" --y $Y --method m < "$T/six.zst"
    assert_status 3
    assert_rejects_bad_streams search-append --log "$T/empty.zst" --y $Y --method m
}

@test "usage errors exit 2" {
    run search-append --y $Y --method m < "$T/six.zst"
    assert_status 2
    assert_output_has "--log LOG is required"
    run search-append --log "$T/empty.zst" --method m < "$T/six.zst"
    assert_status 2
    assert_output_has "--y FIELD is required"
    run search-append --log "$T/empty.zst" --y $Y < "$T/six.zst"
    assert_status 2
    assert_output_has "--method NAME is required"
    run search-append --log "$T/empty.zst" --y $Y --method m --round -1 < "$T/six.zst"
    assert_status 2
    run search-append --help
    assert_status 0
    assert_output_has "Exit status:"
}
