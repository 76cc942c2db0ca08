#!/usr/bin/env bats
# pred-metrics: RMSE, MAE, Pearson, Spearman, Kendall tau-b and precision@k of a predicted field
# against a true one. Checked on all 15,625 real NB201 cells (CIFAR-10 test accuracy of one seed
# "predicting" the validation accuracy) against awk (sums, average ranks, the O(N^2) definition of
# tau-b) and stream-top (the top-k sets), and on the identities of a field against itself.

load helpers

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR/nb201.zst"
    [ -s "$D" ] || { graph-parse nb201 > "$D.tmp" && mv "$D.tmp" "$D"; }
    TF=c10valid_val_200ep_mean
    PF=c10_test_200ep_1seed
}

# num KEY: the value of KEY in the JSON line(s) on stdin
num() { grep -o "\"$1\":[^,}]*" | cut -d: -f2; }
# close A B: |A - B| <= 1e-9 (1 + |B|)
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(d <= 1e-9 * (1 + m)) }'; }
# the (true, pred) pairs of a graph stream on stdin, one "x y" line per record, in input order
xy() { stream-to-jsonl | sed -E "s/.*\"$PF\":([^,}]*).*\"$TF\":([^,}]*).*/\\2 \\1/"; }
# one record as JSON, from the tool's output stream on stdin
json() { stream-to-jsonl; }
# average ranks (1-based) of the numbers on stdin, one per line, in input order
avg_ranks() {
    awk '{ print NR "\t" $1 }' | sort -t$'\t' -k2,2g -k1,1n \
        | awk -F'\t' '{ id[NR] = $1; v[NR] = $2 } END {
            for (a = 1; a <= NR; a = b) { for (b = a + 1; b <= NR && v[b] == v[a]; b++); r = (a + b - 1) / 2; for (p = a; p < b; p++) print id[p] "\t" r }
          }' | sort -t$'\t' -k1,1n | cut -f2
}
# Pearson's r of the "x y" lines on stdin
pearson_awk() {
    awk '{ x[NR] = $1; y[NR] = $2; sx += $1; sy += $2 } END {
        mx = sx / NR; my = sy / NR
        for (i = 1; i <= NR; i++) { dx = x[i] - mx; dy = y[i] - my; sxx += dx * dx; syy += dy * dy; sxy += dx * dy }
        printf "%.17g\n", sxy / sqrt(sxx * syy) }'
}

@test "a field against itself: r = rho = tau = 1, RMSE = MAE = 0, every precision@k = 1" {
    pred-metrics --true $TF --pred $TF < "$D" | json > "$T/o.json"
    [ "$(num n < "$T/o.json")" = 15625 ]
    for k in rmse mae; do [ "$(num $k < "$T/o.json")" = "0.0" ]; done
    for k in pearson spearman kendall_tau_b precision_at_10 precision_at_50 precision_at_100; do
        [ "$(num $k < "$T/o.json")" = "1.0" ]
    done
    # and against its negation (added through JSON): r = rho = tau = -1, every precision@k = 0
    stream-to-jsonl < "$D" | sed -E "s/\"$TF\":([^,}]*)/&,\"neg\":-\\1/" | jsonl-to-stream > "$T/neg.zst"
    pred-metrics --true $TF --pred neg < "$T/neg.zst" | json > "$T/n.json"
    for k in pearson spearman kendall_tau_b; do [ "$(num $k < "$T/n.json")" = "-1.0" ]; done
    [ "$(num precision_at_10 < "$T/n.json")" = "0.0" ]
}

@test "RMSE, MAE and Pearson on all NB201 cells equal awk's" {
    pred-metrics -t $TF -p $PF < "$D" | json > "$T/o.json"
    xy < "$D" > "$T/xy"
    [ "$(wc -l < "$T/xy")" -eq 15625 ]
    want=$(awk '{ d = $2 - $1; s += d * d; a += d < 0 ? -d : d } END { printf "%.17g %.17g\n", sqrt(s / NR), a / NR }' "$T/xy")
    close "$(num rmse < "$T/o.json")" "${want% *}"
    close "$(num mae < "$T/o.json")" "${want#* }"
    close "$(num pearson < "$T/o.json")" "$(pearson_awk < "$T/xy")"
    # a good but imperfect predictor
    awk -v r="$(num pearson < "$T/o.json")" 'BEGIN { exit !(r > 0.9 && r < 1) }'
}

@test "Spearman (average ranks of real ties) on all NB201 cells equals awk's; Kendall tau-b on 1,500 cells equals the O(N^2) definition" {
    pred-metrics -t $TF -p $PF < "$D" | json > "$T/o.json"
    xy < "$D" > "$T/xy"
    # NB201 has many tied accuracies (e.g. the 10 % of cells that do not learn): ranks are averaged
    [ "$(cut -d' ' -f1 "$T/xy" | sort | uniq -d | wc -l)" -gt 100 ]
    cut -d' ' -f1 "$T/xy" | avg_ranks > "$T/rx"
    cut -d' ' -f2 "$T/xy" | avg_ranks > "$T/ry"
    close "$(num spearman < "$T/o.json")" "$(paste -d' ' "$T/rx" "$T/ry" | pearson_awk)"
    # tau-b by its definition, every pair, on the first 1,500 cells
    stream-to-jsonl < "$D" | head -1500 | jsonl-to-stream > "$T/head.zst"
    head -1500 "$T/xy" > "$T/xy1500"
    want=$(awk '{ x[NR] = $1; y[NR] = $2 } END {
        for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) {
            sx = (x[j] > x[i]) - (x[j] < x[i]); sy = (y[j] > y[i]) - (y[j] < y[i])
            s += sx * sy; n1 += sx == 0; n2 += sy == 0 }
        n0 = NR * (NR - 1) / 2; printf "%.17g\n", s / sqrt((n0 - n1) * (n0 - n2)) }' "$T/xy1500")
    got=$(pred-metrics -t $TF -p $PF < "$T/head.zst" | json | num kendall_tau_b)
    close "$got" "$want"
}

@test "precision@k is the overlap of stream-top's true and predicted top k (ties in input order), also --ascending" {
    ids() { stream-to-jsonl | grep -o '"id":[0-9]*' | sort; }
    pred-metrics -t $TF -p $PF --top 1,7,10,100,1000 < "$D" | json > "$T/o.json"
    for k in 1 7 10 100 1000; do
        stream-top --by $TF -n $k < "$D" | ids > "$T/a"
        stream-top --by $PF -n $k < "$D" | ids > "$T/b"
        hits=$(comm -12 "$T/a" "$T/b" | wc -l)
        close "$(num precision_at_$k < "$T/o.json")" "$(awk -v h=$hits -v k=$k 'BEGIN { printf "%.17g", h / k }')"
    done
    # the worst: hundreds of cells tie at the bottom, so the tie rule decides
    pred-metrics -t $TF -p $PF --top 50 --ascending < "$D" | json > "$T/l.json"
    grep -q '"top":"smallest"' "$T/l.json"
    stream-top --by $TF -n 50 -a < "$D" | ids > "$T/a"
    stream-top --by $PF -n 50 -a < "$D" | ids > "$T/b"
    close "$(num precision_at_50 < "$T/l.json")" "$(awk -v h=$(comm -12 "$T/a" "$T/b" | wc -l) 'BEGIN { print h / 50 }')"
}

@test "hand-worked ties through the tool: x = 1 2 2 3, y = 1 3 2 2 (tests/unit/test_rankmetrics.c)" {
    printf '{"v":1,"t":%s,"p":%s}\n' 1 1 2 3 2 2 3 2 | jsonl-to-stream > "$T/t.zst"
    pred-metrics -t t -p p --top 1,2,3,5 < "$T/t.zst" | json > "$T/o.json"
    close "$(num pearson < "$T/o.json")" 0.5
    close "$(num spearman < "$T/o.json")" 0.5
    close "$(num kendall_tau_b < "$T/o.json")" 0.4
    close "$(num mae < "$T/o.json")" 0.5
    close "$(num rmse < "$T/o.json")" 0.70710678118654757
    [ "$(num precision_at_1 < "$T/o.json")" = "0.0" ]
    [ "$(num precision_at_2 < "$T/o.json")" = "0.5" ]
    [ "$(num precision_at_3 < "$T/o.json")" = "1.0" ]
    # k > N: null, and "undefined" says why
    [ "$(num precision_at_5 < "$T/o.json" | head -1)" = "null" ]
    grep -q '"undefined":{"precision_at_5":"k is larger than the number of pairs"}' "$T/o.json"
    # the record's keys, in order
    [ "$(grep -o '"[a-z_0-9]*":' "$T/o.json" | tr -d '":' | tr '\n' ' ')" = "v kind true pred top n skipped rmse mae pearson spearman kendall_tau_b precision_at_1 precision_at_2 precision_at_3 precision_at_5 undefined precision_at_5 " ]
}

@test "a constant field: the correlations are null with the reason, no division by zero" {
    printf '{"v":1,"t":%s,"p":0.1}\n' 1 2 3 | jsonl-to-stream > "$T/t.zst"
    run bash -c 'pred-metrics -t t -p p --top 2 < "$1" | stream-to-jsonl' _ "$T/t.zst"
    assert_status 0
    assert_output_has '"pearson":null,"spearman":null,"kendall_tau_b":null,"precision_at_2":0.5'
    assert_output_has '"undefined":{"pearson":"the predicted field is constant","spearman":"the predicted field is constant","kendall_tau_b":"the predicted field is constant"}'
    run pred-metrics -t p -p t -f table < "$T/t.zst"
    assert_status 0
    assert_output_has "null: the true field is constant"
}

@test "--group: one record per group in order of first appearance, each equal to the metrics of its records alone" {
    # NB201 cells tagged by id parity (strings), and by id mod 3 (integers)
    stream-to-jsonl < "$D" | awk '{ sub(/^\{"v":1,/, "{\"v\":1,\"half\":\"" (NR % 2 ? "odd" : "even") "\",\"third\":" NR % 3 ","); print }' > "$T/g.jsonl"
    jsonl-to-stream < "$T/g.jsonl" > "$T/g.zst"
    pred-metrics -t $TF -p $PF --group half < "$T/g.zst" | json > "$T/o.json"
    [ "$(wc -l < "$T/o.json")" -eq 2 ]
    [ "$(num group < "$T/o.json" | tr '\n' ' ')" = '"odd" "even" ' ]
    grep '"odd"' "$T/g.jsonl" | jsonl-to-stream | pred-metrics -t $TF -p $PF | json > "$T/odd.json"
    [ "$(sed 's/,"group_by":"half","group":"odd"//' "$T/o.json" | head -1)" = "$(cat "$T/odd.json")" ]
    pred-metrics -t $TF -p $PF -g third < "$T/g.zst" | json > "$T/o3.json"
    [ "$(num group < "$T/o3.json" | tr '\n' ' ')" = "1 2 0 " ]
    [ "$(num n < "$T/o3.json" | tr '\n' ' ')" = "5209 5208 5208 " ]
    run pred-metrics -t $TF -p $PF -g third -f table < "$T/g.zst"
    assert_status 0
    assert_output_has "group by: third"
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 5 ]
    # a group value that is neither a string nor an integer; a group of one record
    printf '{"v":1,"t":1,"p":2,"g":1.5}\n' | jsonl-to-stream > "$T/f.zst"
    run_quiet pred-metrics -t t -p p -g g < "$T/f.zst"
    assert_status 1
    assert_output_has 'record 1: field "g" is a float, not a string or an integer'
    printf '{"v":1,"t":%s,"p":2,"g":"%s"}\n' 1 a 2 a 3 b | jsonl-to-stream > "$T/one.zst"
    run_quiet pred-metrics -t t -p p -g g < "$T/one.zst"
    assert_status 1
    assert_output_has 'group g = "b": 1 record'
}

@test "records without a field: an error naming the record, or skipped and counted (NB101: 20,001 of 423,624)" {
    printf '{"v":1,"t":%s,"p":%s}\n' 1 1 2 3 | jsonl-to-stream > "$T/a.zst"
    printf '{"v":1,"t":5}\n' | jsonl-to-stream > "$T/b.zst"
    cat "$T/a.zst" "$T/b.zst" "$T/a.zst" > "$T/t.zst"
    run_quiet pred-metrics -t t -p p < "$T/t.zst"
    assert_status 1
    assert_output_has 'pred-metrics: stdin: record 3: no field "p" (--skip-missing'
    pred-metrics -t t -p p --skip-missing < "$T/t.zst" | json > "$T/o.json"
    [ "$(num n < "$T/o.json")" = 4 ] && [ "$(num skipped < "$T/o.json")" = 1 ]
    graph-parse nb101 | pred-metrics -t val_acc_108ep -p val_acc_36ep --skip-missing | json > "$T/nb101.json"
    [ "$(num n < "$T/nb101.json")" = 20001 ] && [ "$(num skipped < "$T/nb101.json")" = 403623 ]
    awk -v r="$(num spearman < "$T/nb101.json")" 'BEGIN { exit !(r > 0.3 && r < 1) }'
}

@test "bad values and too few records are refused (exit 1)" {
    printf '{"v":1,"t":1,"p":"high"}\n' | jsonl-to-stream > "$T/s.zst"
    run_quiet pred-metrics -t t -p p < "$T/s.zst"
    assert_status 1
    assert_output_has 'record 1: field "p" is a string, not a number'
    printf '{"v":1,"t":true,"p":1}\n' | jsonl-to-stream > "$T/b.zst"
    run_quiet pred-metrics -t t -p p < "$T/b.zst"
    assert_status 1
    assert_output_has 'field "t" is a boolean, not a number'
    printf '{"v":1,"t":1,"p":1}\n' | jsonl-to-stream > "$T/one.zst"
    run_quiet pred-metrics -t t -p p < "$T/one.zst"
    assert_status 1
    assert_output_has 'stdin: 1 record with both "t" and "p": the metrics need at least 2'
    : | jsonl-to-stream > "$T/e.zst"
    run_quiet pred-metrics -t t -p p < "$T/e.zst"
    assert_status 1
    assert_output_has '0 records'
    # NaN and infinity are refused by the stream reader (the "nan" and "inf" cases below)
    assert_rejects_bad_streams pred-metrics -t $TF -p $PF
}

@test "--format table writes aligned text on stdout" {
    run pred-metrics -t $TF -p $PF --format table --top 10 < "$D"
    assert_status 0
    assert_output_has "true: $TF   pred: $PF   top-k: the largest values"
    assert_output_has "kendall_tau_b"
    assert_output_has "p@10"
    [ "$(printf '%s\n' "$output" | sed -n 3p | awk '{ print $1, $2 }')" = "(all) 15625" ]
}

@test "usage errors exit 2; --help documents the options, the keys and the tie rules" {
    for args in "" "-t a" "-p b" "-t a -p b --top 0" "-t a -p b --top 5,5" "-t a -p b --top 1,,2" "-t a -p b --top x" \
                "-t a -p b -f json" "-t '' -p b" "-t a -p b --bogus" "-t a -p b x y" "-t a -p b -g ''"; do
        eval "run pred-metrics $args" < "$D"
        assert_status 2
        assert_output_has "Try 'pred-metrics --help'."
    done
    # the wording of lib/opts.h
    run pred-metrics -t a -p b --top 5,0 < "$D"
    assert_status 2; assert_output_has "pred-metrics: --top: '0' is not an integer in [1, 1000000000]"
    run pred-metrics -t a -p b -f json < "$D"
    assert_status 2; assert_output_has "pred-metrics: --format: 'json' is not one of stream, table"
    run pred-metrics -t a -p b x y < "$D"
    assert_status 2; assert_output_has "pred-metrics: unexpected argument 'y' (one input FILE at most)"
    run pred-metrics --help
    assert_status 0
    for s in "--true FIELD" "--pred FIELD" "--top K" "(default 10,50,100)" "--ascending" "--group FIELD" "--skip-missing" \
             "--format F" '"kendall_tau_b"' '"precision_at_K"' '"undefined"' "average rank" "input order" "Exit status"; do
        assert_output_has "$s"
    done
}

@test "I/O errors exit 3 naming stdin or stdout" {
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    run env LD_PRELOAD="$SVGE_UNIT/libfailio.so" FAILIO_READ_AFTER=1 bash -c 'exec pred-metrics -t c10valid_val_200ep_mean -p c10_test_200ep_1seed < "$0" > /dev/null' "$D"
    assert_status 3
    assert_output_has "pred-metrics: stdin: read error"
    run bash -c 'exec pred-metrics -t c10valid_val_200ep_mean -p c10_test_200ep_1seed -f table < "$0" > /dev/full' "$D"
    assert_status 3
    assert_output_has "pred-metrics: stdout: write error"
    run bash -c 'exec pred-metrics -t c10valid_val_200ep_mean -p c10_test_200ep_1seed < "$0" > /dev/full' "$D"
    assert_status 3
    assert_output_has "pred-metrics: stdout: write error"
}
