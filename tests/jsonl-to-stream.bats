#!/usr/bin/env bats
# jsonl-to-stream: JSON lines -> record streams, with a strict RFC 8259 parser.
# Bad lines are named by line and column; records before them are still a valid stream.

load helpers

setup() { setup_scratch; }

# js TEXT: run jsonl-to-stream on printf TEXT, keeping the stream in $T/out.
js() {
    printf "$1" > "$T/in"
    run bash -c "jsonl-to-stream < '$T/in' > '$T/out'"
}
# back: the stream in $T/out as JSON lines.
back() { stream-to-jsonl < "$T/out"; }
# hex: the msgpack bytes of the stream in $T/out.
hex() { zstd -dc < "$T/out" | od -An -v -tx1 | tr -d ' \n'; }

@test "jsonl-to-stream --help shows usage and every option" {
    run jsonl-to-stream --help
    assert_status 0
    assert_output_has "Usage: jsonl-to-stream"
    for w in --level --help '$base64' "Exit status"; do assert_output_has "$w"; done
}

@test "jsonl-to-stream: unknown options, bad values and extra arguments are usage errors (exit 2)" {
    run jsonl-to-stream --pretty
    assert_status 2
    assert_output_has "unknown option '--pretty'"
    assert_output_has "Try 'jsonl-to-stream --help'"
    run jsonl-to-stream --level 20
    assert_status 2
    assert_output_has "--level: '20' is not an integer in [1, 19]"
    run jsonl-to-stream --level
    assert_status 2
    run jsonl-to-stream a b
    assert_status 2
}

@test "jsonl-to-stream: JSON types become msgpack types (ints stay ints, floats floats)" {
    js '{"v":1,"n":null,"t":true,"f":false,"i":-5,"u":300,"d":1.0,"e":1e2,"s":"x","a":[],"m":{}}\n'
    assert_status 0
    # fixmap 11: v 1, n nil, t true, f false, i -5 (fixint), u 300 (uint16), d 1.0 and e 100.0
    # (float64), s "x", a [], m {}
    [ "$(hex)" = "8ba17601a16ec0a174c3a166c2a169fba175cd012ca164cb3ff0000000000000a165cb4059000000000000a173a178a16190a16d80" ]
}

@test "jsonl-to-stream: integers at the int64/uint64 limits stay exact; beyond them become floats" {
    js '{"v":1,"a":[18446744073709551615,-9223372036854775808,9223372036854775807,-0]}\n{"v":1,"x":1180591620717411303424,"y":-9223372036854775809}\n'
    assert_status 0
    run back
    [ "${lines[0]}" = '{"v":1,"a":[18446744073709551615,-9223372036854775808,9223372036854775807,0]}' ]
    [ "${lines[1]}" = '{"v":1,"x":1.1805916207174113e+21,"y":-9.223372036854776e+18}' ]
}

@test "jsonl-to-stream: escapes and surrogate pairs decode to UTF-8" {
    js '{"v":1,"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\u0000"}\n'
    assert_status 0
    run back
    [ "$output" = "$(printf '{"v":1,"s":"\\"\\\\/\\b\\f\\n\\r\\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\u0000"}')" ]
}

@test "jsonl-to-stream: {\"\$base64\": ...} becomes msgpack bin and back" {
    js '{"v":1,"b":{"$base64":"AAEC/w=="},"e":{"$base64":""}}\n'
    assert_status 0
    [ "$(hex)" = "83a17601a162c404000102ffa165c400" ]
    run back
    [ "$output" = '{"v":1,"b":{"$base64":"AAEC/w=="},"e":{"$base64":""}}' ]
    js '{"v":1,"b":{"$base64":"AB=="}}\n'
    assert_status 1
    assert_output_has 'line 1: column 23: invalid base64'
    js '{"v":1,"b":{"$base64":7}}\n'
    assert_status 1
    assert_output_has 'the value of "$base64" must be a string'
}

@test "jsonl-to-stream: blank lines are skipped, CRLF and a last line without newline are fine" {
    js '\n  \n{"v":1,"a":1}\r\n\t\r\n { "v" : 1 , "a" : [ 2 ] } \n{"v":1,"a":3}'
    assert_status 0
    run back
    [ "$output" = $'{"v":1,"a":1}\n{"v":1,"a":[2]}\n{"v":1,"a":3}' ]
}

@test "jsonl-to-stream: empty input gives a valid empty stream" {
    run bash -c "jsonl-to-stream < /dev/null > '$T/out'"
    assert_status 0
    run back
    assert_status 0
    [ -z "$output" ]
}

@test "jsonl-to-stream: FILE as input; messages then name it" {
    printf '{"v":1}\n{"v":1,}\n' > "$T/x.jsonl"
    run bash -c "jsonl-to-stream '$T/x.jsonl' > '$T/out'"
    assert_status 1
    assert_output_has "jsonl-to-stream: $T/x.jsonl: line 2: column 8: expected a key"
    run jsonl-to-stream "$T/nope"
    assert_status 3
    assert_output_has "cannot open"
}

# ---------------------------------------------------------------- bad input

@test "jsonl-to-stream: records before a bad line are written as a valid stream" {
    js '{"v":1,"id":0}\n{"v":1,"id":1}\n{"v":1,"id":2,\n{"v":1,"id":3}\n'
    assert_status 1
    assert_output_has "jsonl-to-stream: stdin: line 3: column 15: expected a key (a string), found end of line"
    run back
    assert_status 0
    [ "$output" = $'{"v":1,"id":0}\n{"v":1,"id":1}' ]
}

@test "jsonl-to-stream: random bytes" {
    fixed_random_bytes 4096 3 > "$T/in"
    run bash -c "jsonl-to-stream < '$T/in' > '$T/out'"
    assert_status 1
    assert_output_has "line 1: column 1:"
}

@test "jsonl-to-stream: truncated line" {
    js '{"v":1,"a":[1,2\n'
    assert_status 1
    assert_output_has "line 1: column 16: expected ',' or ']', found end of line"
    js '{"v":1,"s":"abc\n'
    assert_status 1
    assert_output_has "line 1: column 12: unterminated string"
}

@test "jsonl-to-stream: trailing garbage" {
    js '{"v":1} x\n'
    assert_status 1
    assert_output_has "line 1: column 9: unexpected 'x' after the value"
    js '{"v":1}{"v":1}\n'
    assert_status 1
    assert_output_has "line 1: column 8: unexpected '{' after the value"
}

@test "jsonl-to-stream: bad escapes, unpaired surrogates, raw control characters" {
    js '{"v":1,"s":"a\\qb"}\n'
    assert_status 1
    assert_output_has "line 1: column 14: invalid escape: backslash followed by 'q'"
    js '{"v":1,"s":"\\u12G4"}\n'
    assert_status 1
    assert_output_has "column 13: invalid \\u escape"
    js '{"v":1,"s":"\\ud800"}\n'
    assert_status 1
    assert_output_has "column 13: unpaired surrogate \\uD800"
    js '{"v":1,"s":"\\udc00\\ud800"}\n'
    assert_status 1
    assert_output_has "unpaired surrogate \\uDC00"
    js '{"v":1,"s":"a\tb"}\n'
    assert_status 1
    assert_output_has "column 14: control character 0x09 in a string (must be escaped)"
}

@test "jsonl-to-stream: NaN and Infinity are not JSON" {
    for lit in NaN Infinity -Infinity 1e999; do
        js "{\"v\":1,\"x\":[0,$lit]}\n"
        assert_status 1
        assert_output_has "line 1: column 15:"
    done
    js '{"v":1,"x":NaN}\n'
    assert_output_has "NaN is not JSON"
    js '{"v":1,"x":1e999}\n'
    assert_output_has "number out of range"
}

@test "jsonl-to-stream: malformed numbers" {
    for n in 01 1. .5 +1 1e 0x10 -; do
        js "{\"v\":1,\"x\":$n}\n"
        assert_status 1
        assert_output_has "line 1: column"
    done
}

@test "jsonl-to-stream: deep nesting is refused (31 levels, the record included, as msgpack-c reads)" {
    # the deepest record msgpack-c can unpack: the record map and 30 non-empty arrays
    deep30=$(printf '[%.0s' {1..30}; printf 1; printf ']%.0s' {1..30})
    deep31=$(printf '[%.0s' {1..31}; printf ']%.0s' {1..31})
    js "{\"v\":1,\"x\":$deep30}\n"
    assert_status 0
    run back
    assert_status 0
    [ "$output" = "{\"v\":1,\"x\":$deep30}" ]
    js "{\"v\":1,\"x\":$deep31}\n"
    assert_status 1
    assert_output_has "line 1: column 42: nesting deeper than 31 levels"
}

@test "jsonl-to-stream: a line longer than 16 MiB is refused" {
    { printf '{"v":1,"s":"'; head -c 17000000 /dev/zero | tr '\0' a; printf '"}\n'; } > "$T/in"
    run bash -c "jsonl-to-stream < '$T/in' > '$T/out'"
    assert_status 1
    assert_output_has "line 1: longer than 16 MiB"
}

# {"v":1,"x":[0,0,...]} with N zeros: N + 5 values (the record, 2 keys, 1, the array).
zeros_line() { printf '{"v":1,"x":['; yes 0, | head -n $(( $1 - 1 )) | tr -d '\n'; printf '0]}\n'; }

@test "jsonl-to-stream: at most 1,048,576 values per record, the most a reader accepts" {
    zeros_line 1048572 > "$T/in"
    run bash -c "jsonl-to-stream < '$T/in' > '$T/out'"
    assert_status 1
    assert_output_has "line 1: column 2097155: more than 1048576 values in one record"
    # one fewer is written, and reads back
    zeros_line 1048571 > "$T/in"
    jsonl-to-stream < "$T/in" > "$T/out"
    stream-to-jsonl < "$T/out" | cmp - "$T/in"
}

@test "jsonl-to-stream: a line that is not an object" {
    js '{"v":1}\n[1,2]\n'
    assert_status 1
    assert_output_has "line 2: a record must be a JSON object, not an array"
    js '"v"\n'
    assert_output_has "line 1: a record must be a JSON object, not a string"
}

@test "jsonl-to-stream: missing v, another version, or an ill-typed v" {
    js '{"v":1}\n\n{"id":3}\n'
    assert_status 1
    assert_output_has 'jsonl-to-stream: stdin: line 3: no "v" field (records need "v": 1; see formats/records.md)'
    js '{"v":1}\n{"v":1}\n{"v":2}\n'
    assert_status 1
    assert_output_has "line 3: format version 2 is not supported"
    js '{"v":"1"}\n'
    assert_status 1
    assert_output_has 'line 1: column 6: "v" is a string, it must be the integer 1'
    js '{"v":1.0}\n'
    assert_status 1
    assert_output_has '"v" is a float'
    js '{}\n'
    assert_status 1
    assert_output_has 'no "v" field'
}

@test "jsonl-to-stream: duplicate keys" {
    js '{"v":1,"a":1,"a":2}\n'
    assert_status 1
    assert_output_has 'line 1: column 14: duplicate key "a"'
    js '{"v":1,"m":{"k":1,"\\u006b":2}}\n'
    assert_status 1
    assert_output_has 'duplicate key "k"'
}

@test "jsonl-to-stream: invalid UTF-8" {
    js '{"v":1,"s":"\xff"}\n'
    assert_status 1
    assert_output_has "line 1: column 13: invalid UTF-8 in a string (byte 0xff)"
    js '{"v":1,"s":"\xc0\xaf"}\n'
    assert_status 1
    assert_output_has "invalid UTF-8"
    js '\xef\xbb\xbf{"v":1}\n'
    assert_status 1
    assert_output_has "column 1: expected a value, found byte 0xef"
}

@test "jsonl-to-stream: write errors exit 3" {
    run bash -c "echo '{\"v\":1}' | jsonl-to-stream > /dev/full"
    assert_status 3
    assert_output_has "jsonl-to-stream: stdout: write error: No space left on device"
}
