/* mpscan.c: see mpscan.h. Header layouts from the msgpack specification. */
#include "mpscan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static uint64_t be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

const char *mpscan_kind(uint8_t b) {
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) return "integer";
    if (b <= 0x8f || b == 0xde || b == 0xdf) return "map";
    if (b <= 0x9f || b == 0xdc || b == 0xdd) return "array";
    if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb)) return "string";
    switch (b) {
    case 0xc0: return "nil";
    case 0xc2: case 0xc3: return "boolean";
    case 0xc4: case 0xc5: case 0xc6: return "binary";
    case 0xca: case 0xcb: return "float";
    case 0xc1: return "invalid byte";
    default: return "extension";
    }
}

int mpscan_object(const uint8_t *p, size_t avail, size_t max_bytes, uint32_t max_items,
                  size_t *len, char *why, size_t whylen) {
    uint64_t left[MPSCAN_MAX_DEPTH + 1] = {1}; /* objects still to scan at each open depth */
    int depth = 0;        /* containers open around the next object */
    uint64_t items = 0;   /* array elements and map keys/values seen so far */
    size_t pos = 0;
    for (;;) {
        while (depth > 0 && left[depth] == 0) depth--;
        if (left[depth] == 0) break;
        if (pos >= avail) goto need_more;
        uint8_t b = p[pos];
        size_t hdr = 1;     /* header bytes, first byte included */
        uint64_t skip = 0;  /* payload bytes after the header */
        uint64_t children = 0;
        int lenbytes = 0;   /* size of a length field that follows the first byte */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, nil, bool: one byte */
        } else if (b <= 0x8f) {
            children = 2u * (b & 0x0f);
        } else if (b <= 0x9f) {
            children = b & 0x0f;
        } else if (b <= 0xbf) {
            skip = b & 0x1f;
        } else {
            switch (b) {
            case 0xc1:
                snprintf(why, whylen, "invalid msgpack byte 0xc1 at offset %zu", pos);
                return MPSCAN_ERROR;
            case 0xc4: case 0xd9: lenbytes = 1; break;
            case 0xc5: case 0xda: lenbytes = 2; break;
            case 0xc6: case 0xdb: lenbytes = 4; break;
            case 0xc7: lenbytes = 1; hdr = 2; break; /* ext 8: length, then type byte */
            case 0xc8: lenbytes = 2; hdr = 2; break;
            case 0xc9: lenbytes = 4; hdr = 2; break;
            case 0xca: skip = 4; break;
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break; /* fixext: type byte + data */
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: case 0xde: lenbytes = 2; break;
            case 0xdd: case 0xdf: lenbytes = 4; break;
            default: break;
            }
            if (lenbytes) {
                if (pos + 1 + (size_t)lenbytes > avail) goto need_more;
                uint64_t n = be(p + pos + 1, lenbytes);
                hdr += (size_t)lenbytes;
                if (b == 0xdc || b == 0xdd) {
                    children = n;
                } else if (b == 0xde || b == 0xdf) {
                    children = 2 * n;
                } else {
                    skip = n;
                    if (n > max_bytes) {
                        snprintf(why, whylen, "%s of %llu bytes exceeds the limit of %zu bytes per record",
                                 mpscan_kind(b), (unsigned long long)n, max_bytes);
                        return MPSCAN_ERROR;
                    }
                }
            }
        }
        if (children) {
            items += children;
            if (items > max_items) {
                snprintf(why, whylen, "%s header claims %llu elements; a record may hold at most %u",
                         mpscan_kind(b), (unsigned long long)(b == 0xde || b == 0xdf || b <= 0x8f ? children / 2 : children),
                         max_items);
                return MPSCAN_ERROR;
            }
        }
        if (pos + hdr + skip > avail) goto need_more;
        if (b == 0xca) {
            uint32_t u = (uint32_t)be(p + pos + 1, 4);
            float f;
            memcpy(&f, &u, 4);
            if (!isfinite(f)) {
                snprintf(why, whylen, "%s float at offset %zu (NaN and infinities are not allowed)",
                         isnan(f) ? "NaN" : "infinite", pos);
                return MPSCAN_ERROR;
            }
        } else if (b == 0xcb) {
            uint64_t u = be(p + pos + 1, 8);
            double d;
            memcpy(&d, &u, 8);
            if (!isfinite(d)) {
                snprintf(why, whylen, "%s float at offset %zu (NaN and infinities are not allowed)",
                         isnan(d) ? "NaN" : "infinite", pos);
                return MPSCAN_ERROR;
            }
        }
        pos += hdr + (size_t)skip;
        left[depth]--;
        if ((b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf)) {
            if (depth == MPSCAN_MAX_DEPTH) {
                snprintf(why, whylen, "nested deeper than %d levels (the limit of the format) at offset %zu",
                         MPSCAN_MAX_DEPTH, pos - hdr);
                return MPSCAN_ERROR;
            }
            left[++depth] = children;
        }
        if (pos > max_bytes) goto too_big;
    }
    *len = pos;
    return MPSCAN_OK;
need_more:
    if (avail >= max_bytes) goto too_big;
    return MPSCAN_NEED_MORE;
too_big:
    snprintf(why, whylen, "record larger than the limit of %zu bytes", max_bytes);
    return MPSCAN_ERROR;
}
