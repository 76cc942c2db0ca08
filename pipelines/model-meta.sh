#!/usr/bin/env bash
# model-meta.sh MODEL: "ID EPOCHS TRAIN_GRAPHS" of a model file (formats/model.md): the id (the
# checksum, the last 8 bytes), and the meta's "epochs" (epochs trained, written by svge-train) and
# "train_graphs" read from the msgpack header; '-' for a meta key the file does not have.
set -euo pipefail
f=$1
[ -s "$f" ] || { echo "model-meta.sh: no model file '$f'" >&2; exit 1; }
id=$(tail -c 8 "$f" | od -An -v -tu1 | awk '{ for (i = 1; i <= NF; i++) b[n++] = $i }
    END { for (i = 7; i >= 0; i--) printf "%02x", b[i] }')
# the header (config, meta, state) comes before the tensors: the first 64 KiB hold it
meta=$(head -c 65536 "$f" | od -An -v -tu1 | awk '
    { for (i = 1; i <= NF; i++) b[n++] = $i }
    # msgpack integer at position p (ints of the header: fixint, uint8..64, int8..64)
    function int_at(p,   t, v, k, len) {
        t = b[p]
        if (t < 128) return t
        if (t == 204 || t == 208) len = 1; else if (t == 205 || t == 209) len = 2
        else if (t == 206 || t == 210) len = 4; else if (t == 207 || t == 211) len = 8; else return "-"
        v = 0; for (k = 1; k <= len; k++) v = v * 256 + b[p + k]
        if (t >= 208 && b[p + 1] >= 128) v -= 2 ^ (8 * len)
        return v
    }
    # the value after the first fixstr key KEY
    function value(key,   p, k, L, ok) {
        L = length(key)
        for (p = 0; p + L + 1 < n; p++) {
            if (b[p] != 160 + L) continue
            ok = 1
            for (k = 1; k <= L; k++) if (sprintf("%c", b[p + k]) != substr(key, k, 1)) { ok = 0; break }
            if (ok) return int_at(p + L + 1)
        }
        return "-"
    }
    END { printf "%s %s\n", value("epochs"), value("train_graphs") }')
echo "$id $meta"
