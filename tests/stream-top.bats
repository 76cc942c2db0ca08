#!/usr/bin/env bats
# stream-top: the K records with the largest (or smallest) value of a field, best first, unchanged;
# ties in input order; bounded memory. Checked against sort(1) on all 15,625 real NB201 cells.

load helpers

setup() {
    setup_scratch
    D="$BATS_FILE_TMPDIR/nb201.zst"
    [ -s "$D" ] || { graph-parse nb201 > "$D.tmp" && mv "$D.tmp" "$D"; }
}

# value of FIELD, then the record's id, per line of a stream on stdin
vals() { stream-to-jsonl | grep -o "\"id\":[0-9]*\\|\"$1\":[^,}]*" | paste - - | sed 's/"id"://; s/"[a-z0-9_]*"://' ; }

@test "the 5 best NB201 cells by CIFAR-10 validation accuracy, as sort(1) ranks them, records unchanged" {
    stream-top --by c10valid_val_200ep_mean -n 5 < "$D" > "$T/top.zst"
    [ "$(stream-to-jsonl < "$T/top.zst" | wc -l)" -eq 5 ]
    # the same ranking from sort: value descending, then id ascending (input order)
    want=$(vals c10valid_val_200ep_mean < "$D" | awk '{print $2 "\t" $1}' | sort -t$'\t' -k1,1gr -k2,2n | head -5 | cut -f2)
    got=$(vals c10valid_val_200ep_mean < "$T/top.zst" | cut -f1)
    [ "$got" = "$want" ]
    # each output record is byte-for-byte the input record (same JSON)
    id=$(echo "$got" | head -1)
    stream-to-jsonl < "$D" | grep "^{\"v\":1,\"id\":$id," > "$T/in.json"
    stream-to-jsonl < "$T/top.zst" | head -1 | cmp - "$T/in.json"
}

@test "--ascending keeps the smallest; ties keep input order" {
    stream-top --by c10valid_val_200ep_mean -n 4 --ascending < "$D" > "$T/low.zst"
    want=$(vals c10valid_val_200ep_mean < "$D" | awk '{print $2 "\t" $1}' | sort -t$'\t' -k1,1g -k2,2n | head -4 | cut -f2)
    [ "$(vals c10valid_val_200ep_mean < "$T/low.zst" | cut -f1)" = "$want" ]
    # many cells share the worst value (10 %): the first ones of the input come out, in order
    printf '{"v":1,"id":%d,"score":%s}\n' 0 0.5 1 0.7 2 0.5 3 0.7 4 0.1 | jsonl-to-stream > "$T/t.zst"
    [ "$(stream-top --by score -n 3 < "$T/t.zst" | vals score | cut -f1 | tr '\n' ' ')" = "1 3 0 " ]
    [ "$(stream-top --by score -n 2 -a < "$T/t.zst" | vals score | cut -f1 | tr '\n' ' ')" = "4 0 " ]
}

@test "K above the record count: all records, ranked; an empty stream gives an empty stream" {
    printf '{"v":1,"id":%d,"score":%s}\n' 0 3 1 -2 2 7.5 | jsonl-to-stream > "$T/t.zst"
    [ "$(stream-top --by score -n 1000000 < "$T/t.zst" | vals score | cut -f1 | tr '\n' ' ')" = "2 0 1 " ]
    : | jsonl-to-stream > "$T/e.zst"
    stream-top --by score < "$T/e.zst" > "$T/out.zst"
    [ -s "$T/out.zst" ]
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 0 ]
}

@test "records without the field: an error naming the record, or passed over with --skip-missing" {
    printf '{"v":1,"id":%d,"score":%s}\n' 0 1 1 2 | jsonl-to-stream > "$T/a.zst"
    printf '{"v":1,"id":2}\n' | jsonl-to-stream > "$T/b.zst"
    cat "$T/a.zst" "$T/b.zst" > "$T/t.zst"
    run stream-top --by score < "$T/t.zst"
    assert_status 1
    assert_output_has "record 3: no field \"score\""
    [ "$(stream-top --by score --skip-missing < "$T/t.zst" | vals score | cut -f1 | tr '\n' ' ')" = "1 0 " ]
    # NB101: only 20,001 of 423,624 cells have a validation accuracy
    [ "$(graph-parse nb101 | stream-top --by val_acc_108ep -n 2 --skip-missing | stream-to-jsonl | wc -l)" -eq 2 ]
}

@test "a field that is not a number is refused" {
    printf '{"v":1,"id":0,"score":"high"}\n' | jsonl-to-stream > "$T/t.zst"
    run stream-top --by score < "$T/t.zst"
    assert_status 1
    assert_output_has "field \"score\" is a string, not a number"
    run stream-top --by space < "$D"
    assert_status 1
}

@test "bad streams are rejected with the reader's message" {
    assert_rejects_bad_streams stream-top --by c10valid_val_200ep_mean
}

@test "usage errors exit 2; --help documents the options" {
    for args in "" "--by" "--by x -n 0" "--by x -n 1000001" "--by x -n y" "--by ''" "--by x --bogus" "--by x a b"; do
        eval "run stream-top $args" < "$D"
        assert_status 2
    done
    run stream-top --help
    assert_status 0
    for s in "--by FIELD" "--count K" "(default 10)" "--ascending" "--skip-missing" "Exit status"; do
        assert_output_has "$s"
    done
}
