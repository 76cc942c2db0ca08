#!/usr/bin/env bats
# bo-propose: GP fit on evaluated latents, batch EI with the kriging believer, free points (decoded
# by svge-decode) or a pool of encoded cells; determinism; bad input.

load helpers

M="$BATS_TEST_DIRNAME/../data/nb201/svge.model"
Y=c10valid_val_200ep_mean

setup_file() {
    local d="$BATS_FILE_TMPDIR"
    # 40 evaluated NB201 cells (the shipped model's latents) and a pool of 300 encoded cells that
    # contains them
    graph-parse nb201 | stream-split --count 300 --seed 3 | svge-encode -m "$M" > "$d/pool.zst"
    stream-split --count 40 --seed 4 < "$d/pool.zst" > "$d/ev.zst"
}

setup() {
    setup_scratch
    P="$BATS_FILE_TMPDIR/pool.zst"
    E="$BATS_FILE_TMPDIR/ev.zst"
}

@test "free points: n proposals of the model's dimension, tagged with its id, that svge-decode decodes" {
    bo-propose -q --y $Y -n 8 --grid 2000 < "$E" > "$T/p.zst"
    run bash -c "stream-to-jsonl < '$T/p.zst' | jq -c '[.id, (.z|length), .model, .proposal.method, (.proposal.ei >= 0), (.proposal.std > 0)]' | sort -u"
    [ "${#lines[@]}" -eq 8 ]
    [[ "${lines[0]}" == '[0,56,"b30d71a9ec86891e","bo",true,true]' ]]
    run bash -c "svge-decode -q -m '$M' --tries 20 < '$T/p.zst' | stream-to-jsonl | jq -r .space | sort | uniq -c"
    [[ "$output" == *"8 nb201"* ]]
}

@test "free points lie inside the box of the evaluated latents" {
    bo-propose -q --y $Y -n 5 --grid 1000 < "$E" | stream-to-jsonl | jq -c .z > "$T/z"
    stream-to-jsonl < "$E" | jq -c .z > "$T/ez"
    run jq -n --slurpfile p "$T/z" --slurpfile e "$T/ez" '
        [range(0; 56) as $j | ($e | map(.[$j]) | min) as $lo | ($e | map(.[$j]) | max) as $hi
         | $p[] | .[$j] | (. >= $lo - 1e-6 and . <= $hi + 1e-6)] | all'
    [ "$output" = true ]
}

@test "deterministic: the same bytes twice; another seed, other points; the batch is spread out" {
    bo-propose -q --y $Y -n 6 --grid 1000 < "$E" > "$T/a.zst"
    bo-propose -q --y $Y -n 6 --grid 1000 < "$E" > "$T/b.zst"
    bo-propose -q --y $Y -n 6 --grid 1000 --seed 2 < "$E" > "$T/c.zst"
    cmp "$T/a.zst" "$T/b.zst"
    ! cmp -s "$T/a.zst" "$T/c.zst"
    run bash -c "stream-to-jsonl < '$T/a.zst' | jq -c .z | sort -u | wc -l"
    [ "$output" -eq 6 ]
}

@test "--minimize of -FIELD proposes the same points as maximising FIELD" {
    stream-to-jsonl < "$E" | jq -c ".neg = -.$Y" | jsonl-to-stream > "$T/neg.zst"
    bo-propose -q --y $Y -n 4 --grid 500 < "$T/neg.zst" | stream-to-jsonl | jq -c .z > "$T/max"
    bo-propose -q --y neg --minimize -n 4 --grid 500 < "$T/neg.zst" | stream-to-jsonl | jq -c .z > "$T/min"
    cmp "$T/max" "$T/min"
}

@test "--pool: unevaluated, distinct pool records, passed through with the proposal added; the first has the largest EI" {
    bo-propose -q --y $Y -n 20 --pool "$P" < "$E" > "$T/p.zst"
    stream-to-jsonl < "$E" | jq -r .hash | sort > "$T/evh"
    stream-to-jsonl < "$T/p.zst" | jq -r .hash | sort > "$T/ph"
    [ "$(wc -l < "$T/ph")" -eq 20 ]
    [ "$(sort -u "$T/ph" | wc -l)" -eq 20 ]
    [ -z "$(comm -12 "$T/evh" "$T/ph")" ]
    # fields of the pool record kept (arch, accuracies), proposal last
    run bash -c "stream-to-jsonl < '$T/p.zst' | head -1 | jq -r 'keys_unsorted | .[-1], (index(\"arch\") != null)'"
    [ "${lines[0]}" = proposal ]
    [ "${lines[1]}" = true ]
    # EI of the batch's first pick >= every later pick's (fantasies only lower EI)
    run bash -c "stream-to-jsonl < '$T/p.zst' | jq -s '.[0].proposal.ei >= (map(.proposal.ei) | max)'"
    [ "$output" = true ]
}

@test "--pool with fewer candidates than asked: all of them and a warning" {
    stream-split --count 45 --seed 4 < "$P" > "$T/small.zst" # the 40 evaluated + 5 more
    run bash -c "bo-propose --y $Y -n 10 --pool '$T/small.zst' < '$E' | stream-to-jsonl | wc -l"
    assert_status 0
    assert_output_has "warning:"
    assert_output_has "only 5 candidates"
    [ "${lines[-1]}" -eq 5 ]
}

@test "--require keeps only pool records with the field" {
    stream-to-jsonl < "$P" | jq -c 'if .id % 2 == 0 then .tag = 1 else . end' | jsonl-to-stream > "$T/tagged.zst"
    run bash -c "bo-propose -q --y $Y -n 10 --pool '$T/tagged.zst' --require tag < '$E' | stream-to-jsonl | jq '.id % 2' | sort -u"
    [ "$output" = 0 ]
}

@test "bad input: all objectives equal, one point, no objective, latents of another model, pool of another dimension" {
    stream-to-jsonl < "$E" | jq -c ".$Y = 0.5" | jsonl-to-stream > "$T/const.zst"
    run_quiet bo-propose --y $Y < "$T/const.zst"
    assert_status 1
    assert_output_has "all 40 objectives \"$Y\" are equal (0.5)"
    stream-split --count 1 < "$E" > "$T/one.zst"
    run_quiet bo-propose --y $Y < "$T/one.zst"
    assert_status 1
    assert_output_has "1 evaluated record: the GP needs at least 2"
    run_quiet bo-propose --y nope < "$E"
    assert_status 1
    assert_output_has "record 1: no field \"nope\""
    stream-to-jsonl < "$E" | jq -c '.model = (if input_line_number == 3 then "0123456789abcdef" else .model end)' | jsonl-to-stream > "$T/mixed.zst"
    run_quiet bo-propose --y $Y < "$T/mixed.zst"
    assert_status 1
    assert_output_has "all inputs must come from the same model"
    stream-to-jsonl < "$P" | jq -c '.z = .z[0:8]' | jsonl-to-stream > "$T/short.zst"
    run_quiet bo-propose --y $Y --pool "$T/short.zst" < "$E"
    assert_status 1
    assert_output_has "has 8 numbers, the evaluated records' have 56"
    stream-to-jsonl < "$P" | jq -c '.model = "0123456789abcdef"' | jsonl-to-stream > "$T/other.zst"
    run_quiet bo-propose --y $Y --pool "$T/other.zst" < "$E"
    assert_status 1
    assert_output_has "encode the pool with the same model"
    stream-to-jsonl < "$E" | jq -c 'del(.ops)' | jsonl-to-stream > "$T/nograph.zst"
    run_quiet bo-propose --y $Y --pool "$P" < "$T/nograph.zst"
    assert_status 1
    assert_output_has "stdin: record 1: no \"ops\" field"
}

@test "more points than --exact-max is refused" {
    run_quiet bo-propose --y $Y --exact-max 10 < "$E"
    assert_status 1
    assert_output_has "40 points: bo-propose fits an exact GP, at most 10 points"
}

@test "bad streams are refused" {
    GOOD_RECORD_JSON=$(stream-to-jsonl < "$E" | head -1) assert_rejects_bad_streams bo-propose --y $Y
}

@test "usage errors exit 2" {
    run bo-propose < "$E"
    assert_status 2
    assert_output_has "--y FIELD is required"
    run bo-propose --y $Y -n 0 < "$E"
    assert_status 2
    assert_output_has "--batch: '0' is not an integer in [1, 10000]"
    run bo-propose --y $Y --require x < "$E"
    assert_status 2
    assert_output_has "--require needs --pool"
    run bo-propose --y $Y --bogus < "$E"
    assert_status 2
    assert_output_has "unknown option"
    run bo-propose --help
    assert_status 0
    assert_output_has "Exit status:"
}

@test "--warp error-log: the GP on -log(1 - accuracy); other proposals, mean and std still in accuracy units" {
    bo-propose -q --y $Y -n 5 --pool "$P" < "$E" > "$T/none.zst"
    bo-propose -q --y $Y -n 5 --pool "$P" --warp error-log < "$E" > "$T/warp.zst"
    ! cmp -s "$T/none.zst" "$T/warp.zst"
    run bash -c "stream-to-jsonl < '$T/warp.zst' | jq -c '[.proposal.mean > 0.5 and .proposal.mean < 1, .proposal.std > 0 and .proposal.std < 0.5] | all' | sort -u"
    [ "$output" = true ]
    # the same as fitting FIELD' = -log(1 - FIELD) by hand, without the warp (same picks)
    stream-to-jsonl < "$E" | jq -c ".w = -((1 - .$Y) | log)" | jsonl-to-stream > "$T/w.zst"
    a=$(stream-to-jsonl < "$T/warp.zst" | jq -r .id | tr '\n' ' ')
    b=$(bo-propose -q --y w -n 5 --pool "$P" < "$T/w.zst" | stream-to-jsonl | jq -r .id | tr '\n' ' ')
    [ "$a" = "$b" ]
    # an accuracy of 1 or more cannot be warped
    stream-to-jsonl < "$E" | jq -c "if .id == $(stream-to-jsonl < "$E" | sed -n 3p | jq .id) then .$Y = 1 else . end" | jsonl-to-stream > "$T/one.zst"
    run_quiet bo-propose --y $Y --warp error-log < "$T/one.zst"
    assert_status 1
    assert_output_has "record 3: \"$Y\" is 1: --warp error-log needs values below 1"
    run_quiet bo-propose --y $Y --warp error-log --minimize < "$E"
    assert_status 2
    run_quiet bo-propose --y $Y --warp log < "$E"
    assert_status 2
    assert_output_has "'log' is not one of none, error-log"
}

@test "--near: candidates around the best evaluated points (with scale 0 and no refinement: exactly those points)" {
    bo-propose -q --y $Y -n 3 --grid 0 --near 100 --near-scale 0 --near-top 5 --local-iters 0 < "$E" \
        | stream-to-jsonl | jq -c .z | sort -u > "$T/p"
    stream-to-jsonl < "$E" | jq -s -c "sort_by(-.$Y) | .[0:5] | .[] | .z" | sort -u > "$T/top"
    [ "$(wc -l < "$T/p")" -ge 1 ]
    [ -z "$(comm -23 "$T/p" "$T/top")" ]
    run_quiet bo-propose --y $Y --grid 0 < "$E"
    assert_status 2
    assert_output_has "--grid 0 needs --near N"
}
