#!/usr/bin/env bash
# make_subset.sh: cut the small CIFAR-10 subsets shipped in data/cifar10/ from the full record files.
# The records are byte copies (no re-encoding); only the header's record count is rewritten.
#   train_small.jpgrec = the first 5,000 records of cifar10_train.jpgrec (500 per class)
#   train_20k.jpgrec   = the first 20,000 records of cifar10_train.jpgrec (2,000 per class; cell-train's default)
#   test_small.jpgrec  = the first 1,000 records of cifar10_test.jpgrec  (100 per class)
# Classes interleave in the full files (record k has class k % 10), so any prefix whose length is
# a multiple of 10 is class-balanced.
# Usage: bash data/cifar10/make_subset.sh DIR   (DIR holds cifar10_train.jpgrec and cifar10_test.jpgrec:
# data/cifar10/SOURCES.md says what they are)
# Needs only od, head, tail, printf (coreutils).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: bash data/cifar10/make_subset.sh DIR (with cifar10_train.jpgrec, cifar10_test.jpgrec)" >&2; exit 2; }
src=$1

# cut SRC DST N: write the header with count N, then the first N records of SRC.
cut_records() {
    local src=$1 dst=$2 n=$3
    [ "$(head -c 8 "$src")" = CIFJPG01 ] || { echo "$src: not a CIFJPG01 file" >&2; exit 1; }
    # The record lengths: stream bytes from offset 12 as unsigned decimals and walk the records
    # (1 label byte, 2-byte little-endian length L, L bytes) in awk until n are counted. awk stops
    # early, so tail/od die of SIGPIPE: hence "|| true" under pipefail, and the check after.
    local bytes
    bytes=$(tail -c +13 "$src" | od -An -v -tu1 -w3 | LC_ALL=C awk -v n="$n" '
        BEGIN { need = 0; pos = 0; k = 0 }
        {
            for (i = 1; i <= NF; i++) {
                if (skip > 0) { skip--; pos++; continue }
                h[hn++] = $i; pos++
                if (hn == 3) {
                    if (h[0] > 9) { print "bad label" > "/dev/stderr"; exit 1 }
                    skip = h[1] + 256 * h[2]; hn = 0; k++
                    if (k == n) { print pos + skip; exit 0 }
                }
            }
        }' || true)
    [ -n "$bytes" ] || { echo "$src: fewer than $n records" >&2; exit 1; }
    {
        printf 'CIFJPG01'
        printf "\\x$(printf %02x $((n & 255)))\\x$(printf %02x $(((n >> 8) & 255)))"
        printf "\\x$(printf %02x $(((n >> 16) & 255)))\\x$(printf %02x $(((n >> 24) & 255)))"
        head -c "$((12 + bytes))" "$src" | tail -c +13
    } > "$dst.tmp"
    mv "$dst.tmp" "$dst"
}

cut_records "$src/cifar10_train.jpgrec" "$here/train_small.jpgrec" 5000
cut_records "$src/cifar10_train.jpgrec" "$here/train_20k.jpgrec" 20000
cut_records "$src/cifar10_test.jpgrec" "$here/test_small.jpgrec" 1000
( cd "$here" && sha256sum train_small.jpgrec train_20k.jpgrec test_small.jpgrec )
