#!/usr/bin/env bats
# README's walk-through "Your own graphs": its code blocks, extracted from README.md and run as
# they are (bin/ is the build's), in a scratch directory; the Python block only where python3 has
# the msgpack and zstandard modules (the tests do not depend on Python).

load helpers

README="$BATS_TEST_DIRNAME/../README.md"

# block N: the N-th ```sh block of the section "### Your own graphs"
block() {
    awk -v n="$1" '/^### / { s = ($0 == "### Your own graphs") } s && /^```sh$/ { k++; b = (k == n); next }
                   b && /^```$/ { b = 0 } b' "$README"
}

setup() {
    setup_scratch
    cd "$T"
    ln -s "$SVGE_BIN" bin
}

@test "walk-through: JSON cells to records, train, encode, decode, metrics and jq, every command as README has it" {
    block 1 > walk.sh
    [ "$(grep -c '^bin/' walk.sh)" -ge 6 ]
    run bash -euo pipefail walk.sh
    assert_status 0
    [ "$(stream-to-jsonl < cells.zst | wc -l)" = 8 ]
    # the field the tools do not know is carried along, and graph-hash added the hash
    [ "$(stream-to-jsonl < encoded.zst | jq -c 'select(.mine) | [.id, (.z | length), (.hash | length)]')" = '[7,8,32]' ]
    # the claim: argmax decoding gives back all 8 cells
    diff <(stream-to-jsonl < cells.zst | jq -c '[.ops, (.edges | sort)]') \
         <(svge-decode -m my.model --mode argmax < encoded.zst | stream-to-jsonl | jq -c '[.ops, .edges]')
    [ "$(stream-to-jsonl < metrics.zst | jq -c '[.kind, .n_test, .n_prior_decodings]')" = '["svge-metrics",8,1000]' ]
    assert_output_has "recon_acc"
    # the jq line's output: 8 lines of [id, z]
    [ "$(printf '%s\n' "$output" | grep -cE '^\[[0-7],\[-?[0-9]')" = 8 ]
}

@test "walk-through: reading z from Python (msgpack + zstandard), where the modules are installed" {
    local py
    for py in python3 /usr/bin/python3; do
        "$py" -c 'import msgpack, zstandard' 2> /dev/null && break
        py=
    done
    [ -n "$py" ] || skip "no python3 with the msgpack and zstandard modules"
    mkdir py && ln -s "$(command -v "$py")" py/python3
    block 1 > walk.sh
    bash -euo pipefail walk.sh > /dev/null 2>&1
    block 2 > py.sh
    grep -q '^python3 ' py.sh
    run env PATH="$T/py:$PATH" bash -euo pipefail py.sh
    assert_status 0
    [ "${#lines[@]}" = 8 ]
    [[ "${lines[0]}" =~ ^0\ [0-9a-f]{16}\ \[-?[0-9.]+(,\ -?[0-9.]+){7}\]$ ]]
}
