#!/usr/bin/env bats
# streams: what the record stream reader and writer (lib/stream.c) guarantee every tool: frames whose
# checksum is checked before their records are used, the records before an error processed and
# written, one rule for strings and keys, one nesting limit, plain messages (zstd windows, escaped
# untrusted text), and no binary on a terminal. On real NB201 cells.

load helpers

setup_file() {
    graph-parse nb201 | graph-hash > "$BATS_FILE_TMPDIR/h.zst"
    graph-parse nb201 | stream-split --count 100 --seed 1 | zstd -q -dc > "$BATS_FILE_TMPDIR/100.mp"
}

setup() {
    setup_scratch
    H="$BATS_FILE_TMPDIR/h.zst"
    MP100="$BATS_FILE_TMPDIR/100.mp"
}

# frame_starts FILE: byte offsets where a zstd frame (magic 28 b5 2f fd) begins, one a line
frame_starts() { LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$1" | cut -d: -f1; }

# flip_bit FILE OFFSET: xor the byte at OFFSET with 0x10, in place
flip_bit() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf '%03o' $((b ^ 16)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

ids() { stream-to-jsonl | jq -r .id; }

@test "the writer ends a zstd frame every MiB of records: graph-hash of NB201 (11 MiB) is 12 frames" {
    run bash -c "zstd -l '$H' | awk 'NR == 2 { print \$1 }'"
    [ "$output" -eq 12 ]
    [ "$(frame_starts "$H" | wc -l)" -eq 12 ]
    # and concatenation still works across them
    cat "$H" "$H" | stream-split --shard 0/1 > "$T/2.zst"
    [ "$(stream-to-jsonl < "$T/2.zst" | wc -l)" -eq 31250 ]
}

@test "a flipped bit mid-stream: graph-hash and bench-lookup pass on exactly the frames before it, then exit 1" {
    cp "$H" "$T/bad.zst"
    mid=$(( $(stat -c %s "$H") / 2 ))
    flip_bit "$T/bad.zst" "$mid"
    off=$(frame_starts "$H" | awk -v m="$mid" '$1 <= m' | tail -1)
    before=$(head -c "$off" "$H" | stream-to-jsonl | wc -l)
    [ "$before" -gt 1000 ] && [ "$before" -lt 15625 ]
    head -c "$off" "$H" | ids > "$T/want.ids"
    for tool in graph-hash bench-lookup; do
        run bash -c "$tool < '$T/bad.zst' > '$T/out.zst'"
        assert_status 1
        assert_output_has "$tool: stdin: corrupt stream in zstd frame"
        assert_output_has "(after record $before; no record of that frame was passed on)"
        ids < "$T/out.zst" > "$T/got.ids"
        cmp "$T/got.ids" "$T/want.ids"
    done
    # the records are whole and right: the same as the tool's output of the undamaged frames
    head -c "$off" "$H" | graph-hash | stream-to-jsonl > "$T/want.jsonl"
    graph-hash < "$T/bad.zst" 2>/dev/null | stream-to-jsonl | cmp - "$T/want.jsonl"
}

@test "a frame of another writer (zstd CLI, one 11 MiB frame) is checked whole: a flipped bit passes nothing on" {
    zstd -q -dc "$H" | zstd -q -c > "$T/one.zst"
    [ "$(frame_starts "$T/one.zst" | wc -l)" -eq 1 ]
    [ "$(stream-to-jsonl < "$T/one.zst" | wc -l)" -eq 15625 ]
    flip_bit "$T/one.zst" $(( $(stat -c %s "$T/one.zst") / 2 ))
    run bash -c "graph-hash < '$T/one.zst' > '$T/out.zst'"
    assert_status 1
    assert_output_has "corrupt stream in zstd frame 1 (after record 0;"
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 0 ]
}

@test "a frame over 64 MiB is passed on as it comes, with a note (and still checked at its end)" {
    # 70 records of 1 MiB strings, one zstd frame
    awk 'BEGIN { s = "x"; for (i = 0; i < 20; i++) s = s s; for (i = 0; i < 70; i++) printf "{\"v\":1,\"id\":%d,\"s\":\"%s\"}\n", i, s }' |
        jsonl-to-stream | zstd -q -dc | zstd -q -1 -c > "$T/big.zst"
    run bash -c "stream-split --shard 0/1 < '$T/big.zst' | stream-to-jsonl | wc -l"
    assert_status 0
    assert_output_has "stream-split: stdin: zstd frame 1 holds more than 64 MiB: its records are passed on before its checksum is checked"
    assert_output_has "70"
}

@test "truncation: graph-hash writes every record before the cut, as a whole stream, then exits 1" {
    { cat "$MP100"; printf '\x82\xa1v\x01\xa2id'; } | zstd -q -c > "$T/cut.zst"
    run bash -c "graph-hash < '$T/cut.zst' > '$T/out.zst'"
    assert_status 1
    assert_output_has "graph-hash: stdin: record 101: truncated"
    zstd -q -t "$T/out.zst"
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 100 ]
    # cut inside a zstd frame: the records of the whole frames before it
    zstd -q -c "$MP100" > "$T/a.zst"
    cat "$T/a.zst" "$H" | head -c $(( $(stat -c %s "$T/a.zst") + 300000 )) > "$T/cut2.zst"
    run bash -c "graph-hash < '$T/cut2.zst' > '$T/out2.zst'"
    assert_status 1
    assert_output_has "truncated stream: input ends inside zstd frame"
    k=$(frame_starts "$H" | awk '$1 < 300000' | tail -1)
    [ "$k" -gt 0 ]
    [ "$(stream-to-jsonl < "$T/out2.zst" | wc -l)" -eq $(( 100 + $(head -c "$k" "$H" | stream-to-jsonl | wc -l) )) ]
}

@test "truncation: svge-encode encodes and writes every record before the cut (fewer than a batch), then exits 1" {
    { cat "$MP100"; printf '\x82\xa1v\x01\xa2id'; } | zstd -q -c > "$T/cut.zst"
    run bash -c "svge-encode -m '$SVGE_DATA/nb201/svge.model' < '$T/cut.zst' > '$T/out.zst'"
    assert_status 1
    assert_output_has "svge-encode: stdin: record 101: truncated"
    stream-to-jsonl < "$T/out.zst" > "$T/out.jsonl"
    [ "$(wc -l < "$T/out.jsonl")" -eq 100 ]
    [ "$(jq -r '.z | length' "$T/out.jsonl" | sort -u)" = 56 ]
    zstd -q -c "$MP100" | svge-encode -m "$SVGE_DATA/nb201/svge.model" | stream-to-jsonl | cmp - "$T/out.jsonl"
}

@test "truncation: stream-top writes the top of what it read as a valid stream, then exits 1" {
    { cat "$MP100"; printf '\x82\xa1v\x01\xa2id'; } | zstd -q -c > "$T/cut.zst"
    run bash -c "stream-top --by c10_test_12ep -n 5 < '$T/cut.zst' > '$T/out.zst'"
    assert_status 1
    assert_output_has "stream-top: stdin: record 101: truncated"
    zstd -q -c "$MP100" | stream-top --by c10_test_12ep -n 5 | stream-to-jsonl > "$T/want.jsonl"
    stream-to-jsonl < "$T/out.zst" | cmp - "$T/want.jsonl"
    [ "$(wc -l < "$T/want.jsonl")" -eq 5 ]
}

@test "strings must be UTF-8 and keys unique at any depth, in every tool (msgpack bin is exempt)" {
    # record 2: a nested map with a key twice; record 2': invalid UTF-8 deep in an array
    { cat "$MP100"; printf '\x82\xa1v\x01\xa4meta\x82\xa1k\x01\xa1k\x02'; } | zstd -q -c > "$T/dup.zst"
    { cat "$MP100"; printf '\x82\xa1v\x01\xa4meta\x91\x81\xa1k\xa2a\xff'; } | zstd -q -c > "$T/utf.zst"
    { cat "$MP100"; printf '\x82\xa1v\x01\xa4\xc3\x28id\x01'; } | zstd -q -c > "$T/key.zst"
    for cmd in graph-hash bench-lookup "svge-encode -m $SVGE_DATA/nb201/svge.model" "stream-split --shard 0/1"; do
        run_quiet $cmd < "$T/dup.zst"
        assert_status 1
        assert_output_has 'stdin: record 101: field "meta": key "k" appears twice in a map'
        run_quiet $cmd < "$T/utf.zst"
        assert_status 1
        assert_output_has 'stdin: record 101: field "meta"[0]."k": string is not valid UTF-8 (byte 0xff at offset 1)'
        run_quiet $cmd < "$T/key.zst"
        assert_status 1
        assert_output_has 'stdin: record 101: a field name is not valid UTF-8 (byte 0xc3 at offset 0)'
    done
    # bin is not text: any bytes pass
    printf '\x82\xa1v\x01\xa1b\xc4\x02\xff\xc3' | zstd -q -c | stream-split --shard 0/1 | stream-to-jsonl | grep -q '"b":{"$base64":"/8M="}'
}

@test "nesting: 31 levels round-trip through stream-to-jsonl and jsonl-to-stream; 32 are refused by both" {
    deep() { printf '{"v":1,"x":'; printf '[%.0s' $(seq "$1"); printf '%.0s]' $(seq "$1"); printf '}\n'; }
    # the record's map is level 1
    deep 30 > "$T/31.json"
    deep 31 > "$T/32.json"
    jsonl-to-stream < "$T/31.json" | stream-to-jsonl | cmp - "$T/31.json"
    run_quiet jsonl-to-stream < "$T/32.json"
    assert_status 1
    assert_output_has "nesting deeper than 31 levels"
    # the same 32 levels as msgpack: the reader refuses them in every tool, with the limit named
    { printf '\x82\xa1v\x01\xa1x'; printf '\x91%.0s' $(seq 30); printf '\x90'; } | zstd -q -c > "$T/32.zst"
    for tool in stream-to-jsonl graph-hash; do
        run_quiet $tool < "$T/32.zst"
        assert_status 1
        assert_output_has "$tool: stdin: record 1: nested deeper than 31 levels (the limit of the format)"
    done
    { printf '\x82\xa1v\x01\xa1x'; printf '\x91%.0s' $(seq 29); printf '\x90'; } | zstd -q -c | stream-to-jsonl | cmp - "$T/31.json"
}

@test "a stream written with zstd --long=31 is not called corrupt: the window, the limit and the fix" {
    zstd -q -dc "$H" | zstd -q --long=31 -c > "$T/long.zst"
    run_quiet graph-hash < "$T/long.zst"
    assert_status 1
    assert_output_has "graph-hash: stdin: zstd frame 1 needs a 2048 MiB window to decode"
    assert_output_has "the limit is 128 MiB: recompress it, e.g. zstd -dc --long=31 FILE | zstd -c > NEW.zst"
    # the fix works
    zstd -q -dc --long=31 "$T/long.zst" | zstd -q -c | graph-hash --verify | stream-to-jsonl | wc -l | grep -qx 15625
}

@test "messages escape control characters and invalid UTF-8 from the data; printable UTF-8 stays" {
    printf '{"v":1,"space":"nb\\u001b[31mX\\n201","n":1}\n' | jsonl-to-stream > "$T/esc.zst"
    run bash -c "graph-hash < '$T/esc.zst' 2>&1 > /dev/null"
    assert_status 1
    assert_output_has 'nb\x1b[31mX\n201'
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" != *$'\e'* ]]
    run graph-hash "$T/$(printf 'caf\xc3\xa9\x1b')"
    assert_status 3
    assert_output_has "$T/café\\x1b: cannot open"
    run graph-hash "$T/$(printf 'a\xffb\x7f')"
    assert_output_has "$T/a\\xffb\\x7f: cannot open"
}

@test "a terminal on stdout: stream writers refuse (exit 2) unless -f/--force" {
    zstd -q -c "$MP100" > "$T/in.zst"
    run script -qec "graph-hash < '$T/in.zst'; echo rc=\$?" /dev/null
    assert_output_has "graph-hash: stdout is a terminal: refusing to write a binary record stream (pipe it into a tool, e.g. stream-to-jsonl, or give --force)"
    assert_output_has "rc=2"
    run script -qec "graph-hash -f < '$T/in.zst' | wc -c; graph-hash --force < '$T/in.zst' > /dev/tty; echo rc=\$?" /dev/null
    assert_output_has "rc=0"
    [[ "$output" != *"terminal"* ]]
    # pred-metrics has a -f of its own: --force only
    run script -qec "pred-metrics -t c10_test_12ep -p c10_test_12ep < '$T/in.zst'; echo rc=\$?" /dev/null
    assert_output_has "rc=2"
    run script -qec "pred-metrics -t c10_test_12ep -p c10_test_12ep --force < '$T/in.zst' > /dev/tty; echo rc=\$?" /dev/null
    assert_output_has "rc=0"
    # a pipe is not a terminal: stream-to-jsonl (text) writes to a terminal as before
    run script -qec "stream-to-jsonl < '$T/in.zst' | wc -l; stream-to-jsonl < '$T/in.zst' > /dev/tty; echo rc=\$?" /dev/null
    assert_output_has "rc=0"
}

@test "every tool that writes a stream lists --force in --help" {
    for f in "$BATS_TEST_DIRNAME"/../bin/*.c; do
        grep -q 'rw_open(NULL' "$f" || continue
        tool=$(basename "$f" .c)
        run "$tool" --help
        assert_status 0
        [[ "$output" =~ --force\ +write\ the\ record\ stream\ even\ when\ stdout\ is\ a\ terminal ]] || { echo "$tool: no --force line" >&2; return 1; }
    done
}

@test "truncation: svge-decode decodes and writes every latent point before the cut, then exits 1" {
    zstd -q -c "$MP100" | svge-encode -m "$SVGE_DATA/nb201/svge.model" | zstd -q -dc > "$T/z.mp"
    { cat "$T/z.mp"; printf '\x82\xa1v\x01\xa2id'; } | zstd -q -c > "$T/cut.zst"
    run bash -c "svge-decode -m '$SVGE_DATA/nb201/svge.model' < '$T/cut.zst' > '$T/out.zst'"
    assert_status 1
    assert_output_has "svge-decode: stdin: record 101: truncated"
    [ "$(stream-to-jsonl < "$T/out.zst" | wc -l)" -eq 100 ]
}
