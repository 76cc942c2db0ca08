#!/usr/bin/env bats
# search-report: best objective against evaluations per search method over seeds, from search logs.
# Hand-made logs (JSON lines through jsonl-to-stream) whose means, stds and regrets are worked out
# by hand below, and random-search logs drawn from the real NB201 table checked against awk.

load helpers

# The hand-made log: three runs, maximising y (t: a "test" number of each cell).
#   bo/1:     y 1 3 2   best 1 3 3   best cell: eval 2 (t 30)
#   bo/2:     y 2 4     best 2 4     best cell: eval 2 (t 40); shorter: carries 4 to eval 3
#   random/1: y 1 4 4   best 1 4 4   tie at 4: the best cell is the first, eval 2 (t 41)
# With optimum 4: bo best@1 = (1+2)/2 = 1.5, std sqrt(0.5^2 + 0.5^2) = 0.7071067811865476 (n - 1);
# best@2 = (3+4)/2 = 3.5; best@3 = (3 + carried 4)/2 = 3.5 (1 run ended); final regret (1 + 0)/2 = 0.5,
# std 0.7071...; 1 of 2 runs at the optimum, at eval 2; test mean (30+40)/2 = 35.
LOG=(
'{"v":1,"id":1,"y":1,"t":10,"search":{"method":"bo","seed":1,"round":0,"eval":1,"best":1}}'
'{"v":1,"id":2,"y":3,"t":30,"search":{"method":"bo","seed":1,"round":1,"eval":2,"best":3}}'
'{"v":1,"id":3,"y":2,"t":20,"search":{"method":"bo","seed":1,"round":2,"eval":3,"best":3}}'
'{"v":1,"id":4,"y":2,"t":21,"search":{"method":"bo","seed":2,"round":0,"eval":1,"best":2}}'
'{"v":1,"id":5,"y":4,"t":40,"search":{"method":"bo","seed":2,"round":1,"eval":2,"best":4}}'
'{"v":1,"id":6,"y":1,"t":11,"search":{"method":"random","seed":1,"round":0,"eval":1,"best":1}}'
'{"v":1,"id":7,"y":4,"t":41,"search":{"method":"random","seed":1,"round":0,"eval":2,"best":4}}'
'{"v":1,"id":8,"y":4,"t":42,"search":{"method":"random","seed":1,"round":0,"eval":3,"best":4}}'
)
S=0.7071067811865476

setup() {
    setup_scratch
    printf '%s\n' "${LOG[@]}" > "$T/log.jsonl"
    jsonl-to-stream < "$T/log.jsonl" > "$T/log.zst"
}

# num KEY: the value of KEY in the JSON line on stdin
num() { grep -o "\"$1\":[^,}]*" | cut -d: -f2; }
# expect FILE KEY=VALUE...: each KEY of the JSON line in FILE has VALUE
expect() {
    local f=$1 kv; shift
    for kv in "$@"; do
        [ "$(num "${kv%%=*}" < "$f")" = "${kv#*=}" ] || { echo "${kv%%=*}: $(num "${kv%%=*}" < "$f"), expected ${kv#*=}" >&2; return 1; }
    done
}
# line N of the records on stdin, as JSON
rec() { stream-to-jsonl | sed -n "${1}p"; }
# run search-report on the log with one line changed by the sed script $1
run_edited() {
    local ed=$1; shift
    sed "$ed" "$T/log.jsonl" | jsonl-to-stream > "$T/bad.zst"
    run search-report --y y "$@" "$T/bad.zst"
}

# ---------------------------------------------------------------- the numbers

@test "records: per-budget mean and std, carry, regret, runs at the optimum, test of the best cell (by hand)" {
    search-report --y y --test t --optimum 4 --budgets 1,2,3,4 --format record < "$T/log.zst" > "$T/o.zst"
    [ "$(stream-to-jsonl < "$T/o.zst" | wc -l)" -eq 2 ]
    rec 1 < "$T/o.zst" > "$T/bo"
    rec 2 < "$T/o.zst" > "$T/rs"
    grep -q '^{"v":1,"kind":"search-report","y":"y","method":"bo","seeds":2,"evals_min":2,"evals_max":3,"optimum":4.0,"optimum_from":"given",' "$T/bo"
    # best@4 is null: 4 is above every bo run's length
    expect "$T/bo" best_mean_at_1=1.5 best_std_at_1=$S ended_at_1=0 best_mean_at_2=3.5 best_mean_at_3=3.5 \
        ended_at_3=1 best_mean_at_4=null ended_at_4=null final_best_mean=3.5 regret_mean=0.5 regret_std=$S \
        at_optimum=1 at_optimum_eval_mean=2.0 test_mean=35.0
    # one seed: std 0; the tie at 4 picks eval 2's cell (t 41, not 42)
    expect "$T/rs" seeds=1 best_std_at_2=0.0 regret_mean=0.0 at_optimum_eval_mean=2.0 test_mean=41.0
}

@test "without --optimum the optimum is the logs' best; a higher --optimum: nobody reaches it" {
    search-report --y y --format record "$T/log.zst" | rec 1 > "$T/bo"
    [ "$(num optimum < "$T/bo")" = 4.0 ]
    grep -q '"optimum_from":"logs"' "$T/bo"
    ! grep -q '"test"' "$T/bo"
    search-report --y y --optimum 5 --format record "$T/log.zst" | rec 1 > "$T/bo5"
    expect "$T/bo5" regret_mean=1.5 at_optimum=0 at_optimum_eval_mean=null
    run search-report --y y "$T/log.zst"
    assert_status 0
    assert_output_has "optimum 4 (the best in the logs: no --optimum or --pool)"
}

@test "curves TSV: one row per method per eval 1..its longest run, carried runs counted in 'ended'" {
    search-report --y y --optimum 4 --curves "$T/c.tsv" "$T/log.zst" > /dev/null
    [ "$(head -1 "$T/c.tsv")" = "$(printf 'eval\tmethod\tseeds\tended\tbest_mean\tbest_std\tbest_min\tbest_max\tregret_mean\tat_optimum_share')" ]
    [ "$(wc -l < "$T/c.tsv")" -eq 7 ]
    grep -qx "$(printf '1\tbo\t2\t0\t1.5\t%s\t1.0\t2.0\t2.5\t0.0' $S)" "$T/c.tsv"
    grep -qx "$(printf '2\tbo\t2\t0\t3.5\t%s\t3.0\t4.0\t0.5\t0.5' $S)" "$T/c.tsv"
    grep -qx "$(printf '3\tbo\t2\t1\t3.5\t%s\t3.0\t4.0\t0.5\t0.5' $S)" "$T/c.tsv"
    grep -qx "$(printf '2\trandom\t1\t0\t4.0\t0.0\t4.0\t4.0\t0.0\t1.0')" "$T/c.tsv"
    [ "$(cut -f2 "$T/c.tsv" | uniq | tr '\n' ' ')" = "method bo random " ]
}

@test "table: one row per method, budgets above every run '-', carried budgets starred" {
    run search-report --y y --test t --optimum 4 --budgets 1,3,4 "$T/log.zst"
    assert_status 0
    assert_output_has "| method | seeds | evals | best@1 | best@3 | best@4 | regret | at opt | eval to opt | test |"
    assert_output_has "| bo | 2 | 2-3 | 1.5 ± 0.71 | 3.5 ± 0.71* | - | 0.5 ± 0.71 | 1/2 | 2.0 | 35 ± 7.1 |"
    assert_output_has "| random | 1 | 3 | 1 ± 0 | 4 ± 0 | - | 0 ± 0 | 1/1 | 2.0 | 41 ± 0 |"
    assert_output_has "*: some runs ended before B and count with their final best"
}

@test "interleaved runs and concatenated logs give the same report" {
    search-report --y y --format record "$T/log.zst" > "$T/a.zst"
    # bo/2's records between bo/1's, random's first half in another file
    sed -n '4p;1p;5p;2p;3p;6p' "$T/log.jsonl" | jsonl-to-stream > "$T/p1.zst"
    sed -n '7,8p' "$T/log.jsonl" | jsonl-to-stream > "$T/p2.zst"
    cat "$T/p1.zst" "$T/p2.zst" | search-report --y y --format record | cmp - "$T/a.zst"
}

@test "real NB201: 3 random-search runs of 30 cells; final best and --pool's optimum and test equal awk's and stream-top's" {
    Y=c10valid_val_200ep_mean TF=c10_test_200ep_1seed
    graph-parse nb201 > "$T/nb201.zst"
    for s in 1 2 3; do
        stream-split --count 30 --seed "$s" < "$T/nb201.zst" | stream-to-jsonl \
            | awk -v s="$s" -v y="$Y" '{
                match($0, "\"" y "\":[^,}]*"); v = substr($0, RSTART + length(y) + 3, RLENGTH - length(y) - 3) + 0
                if (NR == 1 || v > b) b = v
                sub(/}$/, ",\"search\":{\"method\":\"random\",\"seed\":" s ",\"round\":0,\"eval\":" NR ",\"best\":" b "}}")
                print }'
    done > "$T/rs.jsonl"
    jsonl-to-stream < "$T/rs.jsonl" > "$T/rs.zst"
    search-report --y $Y --test $TF --pool "$T/nb201.zst" --budgets 10,30 --format record "$T/rs.zst" | stream-to-jsonl > "$T/o"
    top=$(stream-top --by $Y -n 1 < "$T/nb201.zst" | stream-to-jsonl)
    [ "$(num optimum < "$T/o")" = "$(num $Y <<< "$top")" ]
    grep -q '"optimum_from":"pool"' "$T/o"
    [ "$(num pool_best_test < "$T/o")" = "$(num $TF <<< "$top")" ]
    want=$(grep -o '"best":[^}]*' "$T/rs.jsonl" | awk -F: 'NR % 30 == 0 { s += $2 } END { printf "%.10f\n", s / 3 }')
    [ "$(printf '%.10f\n' "$(num final_best_mean < "$T/o")")" = "$want" ]
    [ "$(num best_mean_at_30 < "$T/o")" = "$(num final_best_mean < "$T/o")" ]
    awk -v a="$(num best_mean_at_10 < "$T/o")" -v b="$want" 'BEGIN { exit !(a <= b) }'
}

# ---------------------------------------------------------------- bad input (exit 1)

@test "bad input: no search map, a missing or ill-typed search field, no objective" {
    run_edited '4s/"search":{[^}]*}/"srch":1/'
    assert_status 1; assert_output_has "search-report: $T/bad.zst: record 4: no field \"search\""
    run_edited '4s/"search":{[^}]*}/"search":[1]/'
    assert_status 1; assert_output_has "record 4: field \"search\" is an array, not a map"
    run_edited '2s/"method":"bo",//'
    assert_status 1; assert_output_has "record 2: no field \"method\" in \"search\""
    run_edited '2s/"seed":1/"seed":"1"/'
    assert_status 1; assert_output_has "record 2: field \"seed\" of \"search\" is a string, not an integer"
    run_edited '2s/"eval":2,//'
    assert_status 1; assert_output_has "record 2: no field \"eval\" in \"search\""
    run_edited '2s/,"best":3//'
    assert_status 1; assert_output_has "record 2: no field \"best\" in \"search\""
    run_edited '2s/"best":3/"best":[3]/'
    assert_status 1; assert_output_has "record 2: field \"best\" of \"search\" is an array, not a number"
    run_edited '3s/"y":2,//'
    assert_status 1; assert_output_has "record 3: no field \"y\""
    run_edited '3s/"y":2/"y":"2"/'
    assert_status 1; assert_output_has "record 3: field \"y\" is a string, not a number"
    run_edited '1s/"t":10,//' --test t
    assert_status 1; assert_output_has "record 1: no field \"t\""
}

@test "bad input: a non-finite objective is refused by the stream reader" {
    # {"v":1,"y":inf,"search":{...}} as raw msgpack
    printf '\x83\xa1v\x01\xa1y\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00\xa6search\x81\xa6method\xa2bo' | zstd -q -c > "$T/inf.zst"
    run search-report --y y "$T/inf.zst"
    assert_status 1; assert_output_has "record 1: infinite float"
    GOOD_RECORD_JSON=${LOG[0]} assert_rejects_bad_streams search-report --y y
}

@test "bad input: evals not 1..n in order, a duplicate (method, seed, eval), a wrong best, no records" {
    run_edited '5s/"eval":2/"eval":3/'
    assert_status 1; assert_output_has "record 5: method \"bo\", seed 2: eval 3, expected 2 (a run's evals must be 1, 2, ... in order)"
    run_edited '1s/"eval":1/"eval":0/'
    assert_status 1; assert_output_has "record 1: method \"bo\", seed 1: eval 0, expected 1"
    run_edited '5s/"eval":2/"eval":1/'
    assert_status 1; assert_output_has "record 5: duplicate evaluation: method \"bo\", seed 2, eval 1 is also record 4"
    # the same run again in a second log
    cat "$T/log.zst" "$T/log.zst" > "$T/twice.zst"
    run search-report --y y "$T/twice.zst"
    assert_status 1; assert_output_has "record 9: duplicate evaluation: method \"bo\", seed 1, eval 1 is also record 1"
    run_edited '3s/"best":3/"best":2/'
    assert_status 1; assert_output_has "record 3: method \"bo\", seed 1, eval 3: \"best\" is 2 but the best \"y\" so far is 3"
    printf '' | jsonl-to-stream > "$T/none.zst"
    run search-report --y y "$T/none.zst"
    assert_status 1; assert_output_has "search-report: $T/none.zst: no records: nothing to report"
    run_edited '1,3s/"bo"/"b|o"/'
    assert_status 1; assert_output_has "method \"b|o\": a tab, newline or '|' in a method name"
    printf '%s\n' '{"v":1,"x":1}' | jsonl-to-stream > "$T/pool.zst"
    run search-report --y y --pool "$T/pool.zst" "$T/log.zst"
    assert_status 1; assert_output_has "search-report: $T/pool.zst: no record with \"y\": no optimum"
}

# ---------------------------------------------------------------- usage and I/O

@test "usage: --y required, bad budgets, --optimum with --pool, bad format; --help" {
    run search-report "$T/log.zst"
    assert_status 2; assert_output_has "--y FIELD is required"
    run search-report --y y --budgets 0 "$T/log.zst"
    assert_status 2; assert_output_has "search-report: --budgets: '0' is not an integer in [1, 1000000000]"
    run search-report --y y --budgets 5,5 "$T/log.zst"
    assert_status 2; assert_output_has "--budgets '5,5': 5 twice"
    run search-report --y y --optimum 1 --pool "$T/log.zst" "$T/log.zst"
    assert_status 2; assert_output_has "--optimum and --pool: give one"
    run search-report --y y --optimum nan "$T/log.zst"
    assert_status 2
    run search-report --y y --format json "$T/log.zst"
    assert_status 2; assert_output_has "--format: 'json' is not one of table, record"
    run search-report --help
    assert_status 0
    for o in --y --test --optimum --pool --budgets --curves --format "default 50,100,200,300,500" "Carry rule"; do
        assert_output_has "$o"
    done
}

@test "I/O: a missing log or pool, an unwritable --curves: exit 3" {
    run search-report --y y "$T/nope.zst"
    assert_status 3
    run search-report --y y --pool "$T/nope.zst" "$T/log.zst"
    assert_status 3
    run search-report --y y --curves "$T/no/such/dir/c.tsv" "$T/log.zst"
    assert_status 3; assert_output_has "c.tsv: cannot write in directory"
}

# ---------------------------------------------------------------- pipelines/search-plot.sh

@test "search-plot.sh: a PNG from a hand-made curves TSV; a TSV of another kind is refused" {
    PLOT="$BATS_TEST_DIRNAME/../pipelines/search-plot.sh"
    {
        printf 'eval\tmethod\tseeds\tended\tbest_mean\tbest_std\tbest_min\tbest_max\tregret_mean\tat_optimum_share\n'
        printf '1\tbo\t2\t0\t0.5\t0.1\t0.4\t0.6\t0.4\t0.0\n2\tbo\t2\t0\t0.8\t0.1\t0.7\t0.9\t0.1\t0.5\n3\tbo\t2\t1\t0.9\t0.0\t0.9\t0.9\t0.0\t1.0\n'
        printf '1\trandom search\t1\t0\t0.3\t0.0\t0.3\t0.3\t0.6\t0.0\n2\trandom search\t1\t0\t0.6\t0.0\t0.6\t0.6\t0.3\t0.0\n'
    } > "$T/c.tsv"
    printf 'a\tb\n1\t2\n' > "$T/other.tsv"
    run "$PLOT" "$T/other.tsv" "$T/x.png" t
    assert_status 1; assert_output_has "not search-report --curves output"
    run "$PLOT" "$T/c.tsv"
    assert_status 2
    if ! command -v gnuplot > /dev/null; then
        skip "gnuplot is not installed: no picture"
    fi
    run "$PLOT" "$T/c.tsv" "$T/c.png" 'NB201: "bo" against random'
    assert_status 0
    [ "$(head -c 8 "$T/c.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
    [ "$(grep -c '^# ' "$T/c.dat")" -eq 2 ]
}

@test "--best K: each method's K best distinct cells, best first, ties to the first found, named by arch or ops and edges" {
    # give the cells names: bo's y=3 and random's two y=4 cells share names with others
    jq -c 'if .id == 2 or .id == 3 then .arch = "A" elif .id == 5 then .arch = "B" elif .id == 7 or .id == 8 then .arch = "B"
           else .ops = ["input", "output"] | .edges = [[0, 1]] end' "$T/log.jsonl" | jsonl-to-stream > "$T/named.zst"
    run search-report --y y --test t --optimum 4 --best 2 < "$T/named.zst"
    assert_status 0
    printf '%s\n' "$output" > "$T/report"
    # bo: B (y 4, seed 2 eval 2), then A (y 3, first found at seed 1 eval 2; id 3 is A again: not listed twice)
    grep '^bo ' "$T/report" > "$T/bo"
    [ "$(wc -l < "$T/bo")" -eq 2 ]
    run awk '{ print $2, $3, $4, $5 $6, $7 }' "$T/bo"
    [ "${lines[0]}" = "4 0 40 2,2 B" ]
    [ "${lines[1]}" = "3 1 30 1,2 A" ]
    # random: B once (the first of the tie: eval 2, t 41), then the unnamed cell by its ops and edges
    grep '^random ' "$T/report" > "$T/r"
    run awk '{ print $2, $4, $5 $6, $7, $8, $9, $10 }' "$T/r"
    [ "${lines[0]}" = "4 41 1,2 B   " ]
    [ "${lines[1]}" = "1 11 1,1 input output | 0>1" ]
    run search-report --y y --best 2 --format record < "$T/named.zst"
    assert_status 2
}
