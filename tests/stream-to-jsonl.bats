#!/usr/bin/env bats
# stream-to-jsonl: record streams -> JSON lines; bad streams are named and refused.
# Hand-made records are msgpack bytes written with printf and compressed with zstd.

load helpers

setup() { setup_scratch; }

# mp BYTES: a stream holding the msgpack bytes (printf escapes) in $T/in.
mp() { printf "$1" | zstd -q -c > "$T/in"; }

@test "stream-to-jsonl --help shows usage and every option" {
    run stream-to-jsonl --help
    assert_status 0
    assert_output_has "Usage: stream-to-jsonl"
    assert_output_has "--help"
    assert_output_has '$base64'
    assert_output_has "Exit status"
}

@test "stream-to-jsonl: unknown options and extra arguments are usage errors (exit 2)" {
    run stream-to-jsonl --pretty
    assert_status 2
    assert_output_has "unknown option '--pretty'"
    assert_output_has "Try 'stream-to-jsonl --help'"
    run stream-to-jsonl -x
    assert_status 2
    run stream-to-jsonl a b
    assert_status 2
    assert_output_has "unexpected argument 'b'"
}

@test "stream-to-jsonl: every msgpack type in its JSON form, keys in stored order" {
    # {"v":1, "n":nil, "t":true, "f":false, "u":uint64 max, "i":int64 min, "s":"x", "a":[1,-1],
    #  "m":{"k":2}, "d":1.0 (float64), "g":0.1 (float32), "b":bin "abc"}
    mp '\x8c\xa1v\x01\xa1n\xc0\xa1t\xc3\xa1f\xc2\xa1u\xcf\xff\xff\xff\xff\xff\xff\xff\xff\xa1i\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xa1s\xa1x\xa1a\x92\x01\xff\xa1m\x81\xa1k\x02\xa1d\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\xa1g\xca\x3d\xcc\xcc\xcd\xa1b\xc4\x03abc'
    run stream-to-jsonl "$T/in"
    assert_status 0
    [ "$output" = '{"v":1,"n":null,"t":true,"f":false,"u":18446744073709551615,"i":-9223372036854775808,"s":"x","a":[1,-1],"m":{"k":2},"d":1.0,"g":0.1,"b":{"$base64":"YWJj"}}' ]
}

@test "stream-to-jsonl: floats are shortest round-trip decimals and always look like floats" {
    # 1e-05, 1e+16, 0.1+0.2, 100.0, -0.0, 5e-324 (float64); 1/3 (float32)
    mp '\x82\xa1v\x01\xa1x\x97\xcb\x3e\xe4\xf8\xb5\x88\xe3\x68\xf1\xcb\x43\x41\xc3\x79\x37\xe0\x80\x00\xcb\x3f\xd3\x33\x33\x33\x33\x33\x34\xcb\x40\x59\x00\x00\x00\x00\x00\x00\xcb\x80\x00\x00\x00\x00\x00\x00\x00\xcb\x00\x00\x00\x00\x00\x00\x00\x01\xca\x3e\xaa\xaa\xab'
    run stream-to-jsonl < "$T/in"
    assert_status 0
    [ "$output" = '{"v":1,"x":[1e-05,1e+16,0.30000000000000004,100.0,-0.0,5e-324,0.33333334]}' ]
}

@test "stream-to-jsonl: strings are escaped per RFC 8259, UTF-8 passes through" {
    # "a<01>"\<7f>é<tab><nl>"
    mp '\x82\xa1v\x01\xa1s\xaba\x01"\\\x7f\xc3\xa9\x09\x0a\x1f/'
    run stream-to-jsonl < "$T/in"
    assert_status 0
    [ "$output" = "$(printf '{"v":1,"s":"a\\u0001\\"\\\\\x7f\xc3\xa9\\t\\n\\u001f/"}')" ]
}

@test "stream-to-jsonl: real data round trips through JSON (nb101, nb201, enas6)" {
    for sp in nb201 enas6 nb101; do
        graph-parse "$sp" > "$T/$sp.zst"
        stream-to-jsonl < "$T/$sp.zst" > "$T/a.jsonl"
        jsonl-to-stream < "$T/a.jsonl" > "$T/b.zst"
        stream-to-jsonl < "$T/b.zst" > "$T/b.jsonl"
        cmp "$T/a.jsonl" "$T/b.jsonl"
        # the msgpack bytes themselves come back identical
        cmp <(zstd -dc < "$T/$sp.zst") <(zstd -dc < "$T/b.zst")
    done
    [ "$(wc -l < "$T/a.jsonl")" -eq 423624 ]
}

@test "stream-to-jsonl: float32 values come back as float64 with the same value" {
    mp '\x82\xa1v\x01\xa1g\x92\xca\x3d\xcc\xcc\xcd\xca\x3f\x80\x00\x00'
    stream-to-jsonl < "$T/in" > "$T/a.jsonl"
    [ "$(cat "$T/a.jsonl")" = '{"v":1,"g":[0.1,1.0]}' ]
    jsonl-to-stream < "$T/a.jsonl" | zstd -dc | od -An -tx1 | tr -d ' \n' > "$T/hex"
    # float64 0.1 and 1.0 (0xcb ...): the same values as float32, as float64
    [ "$(cat "$T/hex")" = "82a17601a16792cb3fb999999999999acb3ff0000000000000" ]
}

@test "stream-to-jsonl: concatenated streams and FILE or '-' as input" {
    mp '\x81\xa1v\x01'
    cat "$T/in" "$T/in" > "$T/two"
    run stream-to-jsonl "$T/two"
    assert_status 0
    [ "$output" = $'{"v":1}\n{"v":1}' ]
    run stream-to-jsonl - < "$T/two"
    assert_status 0
    [ "${#lines[@]}" -eq 2 ]
}

@test "stream-to-jsonl: an empty stream (no records) gives no output" {
    jsonl-to-stream < /dev/null > "$T/empty.zst"
    run stream-to-jsonl < "$T/empty.zst"
    assert_status 0
    [ -z "$output" ]
}

# ---------------------------------------------------------------- bad input

@test "stream-to-jsonl: every malformed stream is refused with the reader's message" {
    assert_rejects_bad_streams stream-to-jsonl
}

@test "stream-to-jsonl: a non-map after a good record: the good one is still written" {
    mp '\x81\xa1v\x01\x92\x01\x02'
    run stream-to-jsonl < "$T/in"
    assert_status 1
    assert_output_has "record 2: not a map"
    assert_output_has '{"v":1}'
}

@test "stream-to-jsonl: ext values have no JSON form; earlier records are still written" {
    mp '\x81\xa1v\x01\x82\xa1v\x01\xa1x\x91\xd4\x05\x00'
    run bash -c "stream-to-jsonl < '$T/in' > '$T/out'"
    assert_status 1
    assert_output_has 'stream-to-jsonl: stdin: record 2: field "x"[0]: msgpack ext values (type 5) have no JSON form'
    [ "$(cat "$T/out")" = '{"v":1}' ]
}

@test "stream-to-jsonl: non-string map keys (nested too) name the record" {
    mp '\x82\xa1v\x01\x01\x02'
    run stream-to-jsonl < "$T/in"
    assert_status 1
    assert_output_has "record 1: key 2 is not a string"
    mp '\x82\xa1v\x01\xa1m\x81\xc3\x01'
    run stream-to-jsonl < "$T/in"
    assert_status 1
    assert_output_has 'record 1: field "m": key 1 is not a string'
}

@test "stream-to-jsonl: a nested map with a key twice is refused (JSON objects need unique keys)" {
    mp '\x82\xa1v\x01\xa1m\x82\xa1k\x01\xa1k\x02'
    run stream-to-jsonl < "$T/in"
    assert_status 1
    assert_output_has 'record 1: field "m": key "k" appears twice in a map'
}

@test "stream-to-jsonl: invalid UTF-8 in a string names the record and field" {
    mp '\x82\xa1v\x01\xa1s\xa2a\xff'
    run stream-to-jsonl < "$T/in"
    assert_status 1
    assert_output_has 'record 1: field "s": string is not valid UTF-8'
    # an encoded surrogate (CESU-8) is not UTF-8 either
    mp '\x82\xa1v\x01\xa1s\x91\xa3\xed\xa0\x80'
    run stream-to-jsonl < "$T/in"
    assert_status 1
    assert_output_has 'field "s"[0]: string is not valid UTF-8'
}

@test "stream-to-jsonl: a map whose only key is \$base64 is refused (it would read back as bin)" {
    mp '\x82\xa1v\x01\xa1m\x81\xa7$base64\xa1x'
    run stream-to-jsonl < "$T/in"
    assert_status 1
    assert_output_has 'field "m": a map whose only key is "$base64"'
}

@test "stream-to-jsonl: missing file is an I/O error (exit 3)" {
    run stream-to-jsonl "$T/nope"
    assert_status 3
    assert_output_has "cannot open"
}

@test "stream-to-jsonl: write errors exit 3, with where: stdout" {
    mp '\x81\xa1v\x01'
    run bash -c "stream-to-jsonl < '$T/in' > /dev/full"
    assert_status 3
    assert_output_has "stream-to-jsonl: stdout: write error: No space left on device"
}
