/* json_common.c: the pieces JSON writing and reading share (json_common.h): escape classes,
 * base64, repeated keys, message quoting. */
#include "json_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ escape classes */

/* Byte classes for string output: 0 copy, 1 escape, 2 start of a multi-byte sequence. */
unsigned char json_esc_class[256];
void json_esc_init(void) {
    if (json_esc_class['"']) return;
    for (int c = 0; c < 256; c++) json_esc_class[c] = c < 0x20 || c == '"' || c == '\\' ? 1 : c >= 0x80 ? 2 : 0;
}
/* ================================================================ base64 */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *json_b64_encode(char *p, const unsigned char *s, size_t n) {
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *p++ = b64_chars[v >> 18];
        *p++ = b64_chars[(v >> 12) & 63];
        *p++ = b64_chars[(v >> 6) & 63];
        *p++ = b64_chars[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *p++ = b64_chars[v >> 18];
        *p++ = b64_chars[(v >> 12) & 63];
        *p++ = '=';
        *p++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *p++ = b64_chars[v >> 18];
        *p++ = b64_chars[(v >> 12) & 63];
        *p++ = b64_chars[(v >> 6) & 63];
        *p++ = '=';
    }
    return p;
}

static int b64_val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Strict: length a multiple of 4, '=' only as final padding, unused bits zero (so that the
 * encoding of the decoded bytes is the same text). Returns the decoded length or -1. */
long json_b64_decode(unsigned char *out, const char *s, size_t n) {
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            if (c == '=' && i + 4 == n && k >= 2 && (k == 3 || s[i + 3] == '=')) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = b64_val(c)) < 0) return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF))) return -1;
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2) out[o++] = (unsigned char)(w >> 8);
        if (pad < 1) out[o++] = (unsigned char)w;
    }
    return (long)o;
}

/* ================================================================ repeated keys */

static int key_cmp(const void *a, const void *b) {
    const json_key_ref *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    int r = x->n ? memcmp(x->p, y->p, x->n) : 0; /* msgpack-c gives empty strings a NULL pointer */
    if (r) return r;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Index of the first key that repeats an earlier one, or -1. keys[].pos must be the member index;
 * keys is reordered. Pairwise for small maps, by sorting for large ones. */
long json_first_duplicate(json_key_ref *keys, uint32_t n) {
    long dup = -1;
    if (n <= 16) {
        for (uint32_t a = 1; a < n && dup < 0; a++)
            for (uint32_t b = 0; b < a; b++)
                if (keys[a].n == keys[b].n && (!keys[a].n || memcmp(keys[a].p, keys[b].p, keys[a].n) == 0)) {
                    dup = a;
                    break;
                }
        return dup < 0 ? -1 : (long)keys[dup].pos;
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    uint32_t best = UINT32_MAX;
    for (uint32_t a = 1; a < n; a++)
        if (keys[a].n == keys[a - 1].n && (!keys[a].n || memcmp(keys[a].p, keys[a - 1].p, keys[a].n) == 0) &&
            keys[a].pos < best)
            best = keys[a].pos;
    return best == UINT32_MAX ? -1 : (long)best;
}


/* ================================================================ messages */

/* Append s to a message, printable: non-ASCII and controls as \xHH, at most 40 bytes. */
size_t json_msg_put(char *m, size_t cap, size_t at, const char *s, size_t n) {
    for (size_t i = 0; i < n && at + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 40) {
            at += (size_t)snprintf(m + at, cap - at, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') m[at++] = (char)c;
        else at += (size_t)snprintf(m + at, cap - at, "\\x%02x", c);
    }
    if (at < cap) m[at] = 0;
    return at;
}
