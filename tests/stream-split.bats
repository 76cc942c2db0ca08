#!/usr/bin/env bats
# stream-split: numpy-compatible train/test split, round-robin shards and contiguous chunks.
# Expected permutations were computed once with NumPy 1.24 (legacy RandomState), e.g.
#   np.random.seed(1); np.random.permutation(15625)[:5] -> 14370 1409 14243 1638 1644

load helpers

# Synthetic streams need no other tool: record i is {"v":1,"id":i} packed in 10 fixed bytes
# (fixmap 2, "v", 1, "id", uint16 i), so ids can be read back with od.
mk_stream() {   # mk_stream N [FIRST] -> stream of ids FIRST..FIRST+N-1 on stdout
    LC_ALL=C awk -v n="$1" -v f="${2:-0}" 'BEGIN {
        for (i = f; i < f + n; i++) printf "\202\241v\001\242id\315%c%c", int(i / 256), i % 256 }' |
        zstd -q -c
}
syn_ids() {     # stream on stdin -> one id per line
    zstd -dc | od -An -v -tu1 | tr -s ' ' '\n' | grep -v '^$' |
        awk '{ b[NR % 10] = $1 } NR % 10 == 0 { print b[9] * 256 + b[0] }'
}
# Real records: ids through stream-to-jsonl (no jq).
ids() { stream-to-jsonl | grep -o '"id": *[0-9]*' | tr -dc '0-9\n'; }
nrec() { stream-to-jsonl | wc -l; }

setup() {
    setup_scratch
    NB201="$BATS_FILE_TMPDIR/nb201.zst"
}

# The parsed NB201 stream, made once per file by the first test that needs it.
need_nb201() {
    if [ ! -s "$NB201" ]; then
        graph-parse nb201 > "$NB201.$$"
        mv "$NB201.$$" "$NB201"
    fi
}

# ---------------------------------------------------------------- real data

@test "nb201: ratio 0.9 seed 1 gives 14,062 train and 1,563 test records" {
    need_nb201
    stream-split --ratio 0.9 --seed 1 < "$NB201" > "$T/train.zst"
    stream-split --ratio 0.9 --seed 1 --complement < "$NB201" > "$T/test.zst"
    [ "$(nrec < "$T/train.zst")" -eq 14062 ]
    [ "$(nrec < "$T/test.zst")" -eq 1563 ]
}

@test "nb201: train and test together hold every id exactly once" {
    need_nb201
    stream-split < "$NB201" | ids > "$T/a"
    stream-split --complement < "$NB201" | ids > "$T/b"
    ids < "$NB201" | sort -n > "$T/all"
    [ "$(wc -l < "$T/all")" -eq 15625 ]
    sort -n "$T/a" "$T/b" > "$T/union"
    cmp "$T/all" "$T/union"
    [ -z "$(sort -n "$T/a" "$T/b" | uniq -d)" ]
}

@test "nb201: the split is numpy's permutation(15625) with seed 1, in permutation order" {
    need_nb201
    ids < "$NB201" > "$T/in"   # ids by input position (0-based line number)
    at() { for p in "$@"; do sed -n "$((p + 1))p" "$T/in"; done; }
    stream-split --seed 1 --ratio 0.9 < "$NB201" | ids > "$T/train"
    stream-split --seed 1 --ratio 0.9 --complement < "$NB201" | ids > "$T/test"
    [ "$(head -5 "$T/train" | tr '\n' ' ')" = "$(at 14370 1409 14243 1638 1644 | tr '\n' ' ')" ]
    [ "$(tail -3 "$T/train" | tr '\n' ' ')" = "$(at 9166 474 3311 | tr '\n' ' ')" ]
    [ "$(head -5 "$T/test" | tr '\n' ' ')" = "$(at 8407 8848 4596 3235 7656 | tr '\n' ' ')" ]
    # graph-parse numbers records by position, so the ids are the permutation itself
    [ "$(head -5 "$T/train" | tr '\n' ' ')" = "14370 1409 14243 1638 1644 " ]
}

@test "nb201: same bytes on two runs; another seed gives another split" {
    need_nb201
    stream-split --seed 1 < "$NB201" > "$T/a"
    stream-split --seed 1 < "$NB201" > "$T/b"
    stream-split --seed 2 < "$NB201" > "$T/c"
    cmp "$T/a" "$T/b"
    run cmp -s "$T/a" "$T/c"
    [ "$status" -ne 0 ]
    [ "$(ids < "$T/c" | head -5 | tr '\n' ' ')" = "3126 1000 14777 1604 11537 " ]
}

@test "nb201: --rest writes the complement, --keep-order keeps input order" {
    need_nb201
    stream-split --rest "$T/rest.zst" < "$NB201" > "$T/train.zst"
    stream-split --complement < "$NB201" > "$T/test.zst"
    cmp "$T/rest.zst" "$T/test.zst"
    stream-split --keep-order < "$NB201" | ids > "$T/kept"
    ids < "$T/train.zst" | sort -n > "$T/sorted"
    cmp "$T/kept" "$T/sorted"
}

@test "nb201: shards 0/3 1/3 2/3 partition the input in order" {
    need_nb201
    ids < "$NB201" > "$T/in"
    for k in 0 1 2; do stream-split --shard "$k/3" < "$NB201" | ids > "$T/s$k"; done
    [ "$(wc -l < "$T/s0")" -eq 5209 ]
    [ "$(wc -l < "$T/s1")" -eq 5208 ]
    [ "$(wc -l < "$T/s2")" -eq 5208 ]
    awk 'NR % 3 == 2' "$T/in" > "$T/want1"
    cmp "$T/s1" "$T/want1"
    # merging the shards back gives the input's ids
    cat "$T/s0" "$T/s1" "$T/s2" | sort -n > "$T/u"
    sort -n "$T/in" | cmp - "$T/u"
}

@test "nb201: chunks 0/3 1/3 2/3 are contiguous and their concatenation is the input, from a FILE or stdin" {
    need_nb201
    for k in 0 1 2; do stream-split --chunk "$k/3" "$NB201" > "$T/c$k.zst"; done
    # records floor(k*15625/3) .. floor((k+1)*15625/3)-1: 0..5207, 5208..10415, 10416..15624
    [ "$(nrec < "$T/c0.zst")" -eq 5208 ]
    [ "$(nrec < "$T/c1.zst")" -eq 5208 ]
    [ "$(nrec < "$T/c2.zst")" -eq 5209 ]
    [ "$(ids < "$T/c1.zst" | head -1)" = "$(ids < "$NB201" | sed -n 5209p)" ]
    cat "$T/c0.zst" "$T/c1.zst" "$T/c2.zst" | stream-to-jsonl > "$T/joined"
    stream-to-jsonl < "$NB201" | cmp - "$T/joined"
    # stdin gives the same bytes as the FILE
    stream-split --chunk 1/3 < "$NB201" | cmp - "$T/c1.zst"
}

@test "--chunk: more chunks than records gives empty chunks; every record once, in order" {
    mk_stream 5 > "$T/in.zst"
    for k in 0 1 2 3 4 5 6 7; do stream-split --chunk "$k/8" "$T/in.zst" | syn_ids; done > "$T/all"
    [ "$(tr '\n' ' ' < "$T/all")" = "0 1 2 3 4 " ]
    # floor(k*5/8): chunks 0, 2, 4 are empty, 1 holds record 0
    [ "$(stream-split --chunk 0/8 "$T/in.zst" | syn_ids | wc -l)" -eq 0 ]
    [ "$(stream-split --chunk 1/8 < "$T/in.zst" | syn_ids)" = 0 ]
    run bash -c "stream-split -v --chunk 0/8 '$T/in.zst' 2>&1 >/dev/null"
    assert_output_has "5 records in, 0 in chunk 0/8"
    run bash -c "stream-split -v --chunk 7/8 '$T/in.zst' 2>&1 >/dev/null"
    assert_output_has "5 records in, 1 in chunk 7/8 (records 4..4)"
}

@test "nb201: --count N is perm[:N], the cells svge-train --sample N --seed S draws" {
    need_nb201
    stream-split --count 50 --seed 3 < "$NB201" | ids > "$T/c"
    stream-split --ratio 1 --seed 3 < "$NB201" | ids | head -50 > "$T/r"
    [ "$(wc -l < "$T/c")" -eq 50 ]
    cmp "$T/c" "$T/r"
    # --complement and --rest: perm[N:]
    stream-split --count 50 --seed 3 --complement < "$NB201" | ids > "$T/cc"
    stream-split --count 50 --seed 3 --rest "$T/rest.zst" < "$NB201" > /dev/null
    ids < "$T/rest.zst" | cmp - "$T/cc"
    stream-split --ratio 1 --seed 3 < "$NB201" | ids | tail -n +51 | cmp - "$T/cc"
    stream-split --count 15625 < "$NB201" | ids | sort -n | cmp - <(ids < "$NB201" | sort -n)
    # svge-train --sample 50 --seed 3 trains on the same cells in the same order: its surrogate is
    # byte for byte the one trained on all (--sample 0) of stream-split --count 50 --seed 3
    m="$SVGE_DATA/nb201/svge.model"
    svge-train -q --init "$m" --surrogate c10valid_val_200ep_mean --sample 50 --seed 3 --epochs 1 -o "$T/a.model" < "$NB201"
    stream-split --count 50 --seed 3 < "$NB201" > "$T/c50.zst"
    svge-train -q --init "$m" --surrogate c10valid_val_200ep_mean --sample 0 --seed 3 --epochs 1 -o "$T/b.model" < "$T/c50.zst"
    cmp "$T/a.model" "$T/b.model"
    stream-split --count 50 --seed 4 < "$NB201" > "$T/c50b.zst"   # other cells, another model
    svge-train -q --init "$m" --surrogate c10valid_val_200ep_mean --sample 0 --seed 3 --epochs 1 -o "$T/c.model" < "$T/c50b.zst"
    run cmp -s "$T/a.model" "$T/c.model"
    [ "$status" -ne 0 ]
}

@test "nb201: split records pass through byte for byte" {
    need_nb201
    stream-split --ratio 1 --keep-order < "$NB201" | zstd -dc > "$T/out"
    zstd -dc < "$NB201" | cmp - "$T/out"
}

# ---------------------------------------------------------------- synthetic streams

@test "permutation(20) seed 1: train and test in numpy's order" {
    mk_stream 20 > "$T/in.zst"
    [ "$(stream-split < "$T/in.zst" | syn_ids | tr '\n' ' ')" = "3 16 6 10 2 14 4 17 7 1 13 0 19 18 9 15 8 12 " ]
    [ "$(stream-split -c < "$T/in.zst" | syn_ids | tr '\n' ' ')" = "11 5 " ]
    [ "$(stream-split -r 0.25 -s 7 "$T/in.zst" | syn_ids | tr '\n' ' ')" = "1 17 2 5 11 " ]
    [ "$(stream-split -r 0.25 -s 7 --keep-order "$T/in.zst" | syn_ids | tr '\n' ' ')" = "1 2 5 11 17 " ]
}

@test "--count: the first N of the permutation; 0 and all records; more than the input is an error" {
    mk_stream 20 > "$T/in.zst"
    [ "$(stream-split --count 5 < "$T/in.zst" | syn_ids | tr "\n" " ")" = "3 16 6 10 2 " ]
    [ "$(stream-split --count 5 -c < "$T/in.zst" | syn_ids | wc -l)" -eq 15 ]
    [ "$(stream-split -n 5 -s 7 --keep-order "$T/in.zst" | syn_ids | tr "\n" " ")" = "$(stream-split -r 0.25 -s 7 --keep-order "$T/in.zst" | syn_ids | tr "\n" " ")" ]
    [ "$(stream-split --count 0 < "$T/in.zst" | syn_ids | wc -l)" -eq 0 ]
    [ "$(stream-split --count 20 < "$T/in.zst" | syn_ids | wc -l)" -eq 20 ]
    run bash -c "stream-split --count 21 < '$T/in.zst' > '$T/out.zst'"
    assert_status 1
    assert_output_has "stream-split: stdin: --count 21 but the input holds only 20 records"
    run stream-split --count 21 --rest "$T/rest.zst" "$T/in.zst"
    assert_status 1
    assert_output_has "in.zst: --count 21 but the input holds only 20 records"
    [ ! -e "$T/rest.zst" ]
    run bash -c "stream-split -v --count 5 < '$T/in.zst' 2>&1 >/dev/null"
    assert_output_has "20 records in: 5 train, 15 test (seed 1, count 5)"
}

@test "cat of two streams is one stream" {
    mk_stream 600 > "$T/a.zst"
    mk_stream 400 600 > "$T/b.zst"
    cat "$T/a.zst" "$T/b.zst" > "$T/ab.zst"
    [ "$(stream-split --shard 0/1 < "$T/ab.zst" | syn_ids | wc -l)" -eq 1000 ]
    [ "$(stream-split --shard 0/1 < "$T/ab.zst" | syn_ids | tail -1)" -eq 999 ]
    # 1000 records, seed 1: train = permutation(1000)[:900]
    [ "$(stream-split < "$T/ab.zst" | syn_ids | head -5 | tr '\n' ' ')" = "507 818 452 368 242 " ]
    [ "$(stream-split < "$T/ab.zst" | syn_ids | wc -l)" -eq 900 ]
    # shard outputs concatenate back to all records
    for k in 0 1 2 3; do stream-split --shard "$k/4" "$T/ab.zst"; done | syn_ids | sort -n > "$T/u"
    seq 0 999 | cmp - "$T/u"
}

@test "a stream of 0 records gives an empty valid stream" {
    printf '' | zstd -q -c > "$T/empty.zst"
    for args in "" "--complement" "--keep-order" "--shard 1/2"; do
        run bash -c "stream-split $args < '$T/empty.zst' > '$T/out.zst'"
        assert_status 0
        [ -s "$T/out.zst" ]
        [ "$(zstd -dc < "$T/out.zst" | wc -c)" -eq 0 ]
    done
    stream-split --rest "$T/rest.zst" < "$T/empty.zst" > /dev/null
    [ "$(zstd -dc < "$T/rest.zst" | wc -c)" -eq 0 ]
}

@test "small inputs: 1 record, ratio 1, tiny ratio" {
    mk_stream 1 > "$T/one.zst"
    [ "$(stream-split < "$T/one.zst" | syn_ids | wc -l)" -eq 0 ]          # int(0.9) = 0
    [ "$(stream-split -c < "$T/one.zst" | syn_ids)" = "0" ]
    [ "$(stream-split --ratio 1 < "$T/one.zst" | syn_ids)" = "0" ]
    mk_stream 50 > "$T/in.zst"
    [ "$(stream-split --ratio 1 -c < "$T/in.zst" | syn_ids | wc -l)" -eq 0 ]
    [ "$(stream-split --ratio 1e-9 < "$T/in.zst" | syn_ids | wc -l)" -eq 0 ]
    [ "$(stream-split --shard 7/9 < "$T/in.zst" | syn_ids | tr '\n' ' ')" = "7 16 25 34 43 " ]
}

@test "--help lists every option with its default" {
    run stream-split --help
    assert_status 0
    for o in --ratio --count --seed --complement --rest --keep-order --shard --chunk --verbose --help; do
        assert_output_has "$o"
    done
    assert_output_has "default 0.9"
    assert_output_has "default 1)"
}

@test "--verbose reports counts on stderr only" {
    mk_stream 20 > "$T/in.zst"
    run bash -c "stream-split -v < '$T/in.zst' 2>&1 >/dev/null"
    assert_status 0
    assert_output_has "20 records in: 18 train, 2 test (seed 1, ratio 0.9)"
}

# ---------------------------------------------------------------- bad input (exit 1)

@test "bad input: every malformed stream is refused with the reader's message, in both modes" {
    assert_rejects_bad_streams stream-split
    assert_rejects_bad_streams stream-split --shard 0/2
    assert_rejects_bad_streams stream-split --chunk 0/2
}

@test "bad input: random bytes in a FILE name the file" {
    fixed_random_bytes 500 3 > "$T/junk"
    run stream-split "$T/junk"
    assert_status 1
    assert_output_has "stream-split: $T/junk: not a record stream"
}

@test "bad input: --rest file does not appear" {
    printf '\223\001\002\003' | zstd -q -c > "$T/arr.zst"
    run stream-split --rest "$T/rest.zst" < "$T/arr.zst"
    assert_status 1
    [ ! -e "$T/rest.zst" ]
    [ -z "$(ls "$T" | grep rest)" ]
}

# ---------------------------------------------------------------- usage errors (exit 2)

@test "usage: bad ratio" {
    for r in 0 -0.5 1.5 1.0001 abc 0.5x nan inf ""; do
        run stream-split --ratio "$r" < /dev/null
        assert_status 2
        assert_output_has "--ratio: '$r' is not a number in (0, 1]"
        assert_output_has "Try 'stream-split --help'."
    done
}

@test "usage: bad seed" {
    for s in -1 4294967296 1.5 x 1x ""; do
        run stream-split --seed "$s" < /dev/null
        assert_status 2
        assert_output_has "--seed: '$s' is not an integer in [0, 4294967295]"
    done
}

@test "usage: bad count, --count with --ratio" {
    for n in -1 4294967296 1.5 x ""; do
        run stream-split --count "$n" < /dev/null
        assert_status 2
        assert_output_has "--count: '$n' is not an integer in [0, 4294967295]"
    done
    run stream-split --count 5 --ratio 0.5 < /dev/null
    assert_status 2
    assert_output_has "--count and --ratio: give one"
}

@test "usage: bad shard or chunk" {
    for o in --shard --chunk; do
        for s in 3/3 0/0 1 /3 3/ a/b -1/3 1/-3 0/3/1 ""; do
            run stream-split $o "$s" < /dev/null
            assert_status 2
            assert_output_has "$o: '$s' is not K/N with 0 <= K < N"
        done
        for other in "--ratio 0.5" "--count 5" "--seed 2"; do
            run stream-split $o 0/3 $other < /dev/null
            assert_status 2
            assert_output_has "$o cannot be combined"
        done
    done
    run stream-split --chunk 0/3 --shard 0/3 < /dev/null
    assert_status 2
    assert_output_has "--shard and --chunk: give one"
}

@test "usage: unknown option, missing value, extra argument" {
    run stream-split --bogus < /dev/null
    assert_status 2
    assert_output_has "unknown option '--bogus'"
    run stream-split -x < /dev/null
    assert_status 2
    assert_output_has "unknown option '-x'"
    run stream-split --ratio
    assert_status 2
    assert_output_has "option '--ratio' needs a value"
    run stream-split a b
    assert_status 2
    assert_output_has "unexpected argument 'b'"
}

# ---------------------------------------------------------------- I/O errors (exit 3)

@test "I/O: unreadable input, full disk, uncreatable --rest" {
    run stream-split "$T/missing.zst"
    assert_status 3
    assert_output_has "$T/missing.zst: cannot open"
    mk_stream 20 > "$T/in.zst"
    run bash -c "stream-split < '$T/in.zst' > /dev/full"
    assert_status 3
    assert_output_has "stdout: write error"
    run bash -c "stream-split --shard 0/2 < '$T/in.zst' > /dev/full"
    assert_status 3
    run stream-split --rest "$T/no/such/dir/rest.zst" < "$T/in.zst"
    assert_status 3
    assert_output_has "rest.zst: cannot write in directory"
}
