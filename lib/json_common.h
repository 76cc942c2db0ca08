/* json_common.h: what JSON writing (json_write.h) and reading (json_read.h) share: UTF-8
 * validation, the byte classes of string escaping, base64 (msgpack bin <-> {"$base64": ...}), the
 * search for a repeated key, and quoting a key for a message. */
#ifndef SVGE_JSON_COMMON_H
#define SVGE_JSON_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF are invalid: Unicode Table 3-7). */
static inline size_t json_utf8_len(const unsigned char *p, size_t avail) {
    unsigned c = p[0];
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (avail < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if ((p[k] & 0xC0) != 0x80) return 0;
    return n;
}

/* Byte classes for strings: 0 copy, 1 escape, 2 start of a multi-byte sequence. json_esc_init
 * fills the table (once; the writer and the parser call it before use). */
extern unsigned char json_esc_class[256];
void json_esc_init(void);

/* base64 of s[0..n) at p, padded (4 * ceil(n / 3) bytes); returns the end. */
char *json_b64_encode(char *p, const unsigned char *s, size_t n);
/* Strict base64 of s[0..n) decoded into out (at most 3 * n / 4 bytes): returns the length, or -1
 * for text that is not canonical base64. */
long json_b64_decode(unsigned char *out, const char *s, size_t n);

/* A map key: its bytes, length and position (the member index, for messages). */
typedef struct {
    const char *p;
    uint32_t n, pos;
} json_key_ref;
/* Index (keys[].pos) of the first key that repeats an earlier one, or -1; keys is reordered. */
long json_first_duplicate(json_key_ref *keys, uint32_t n);

/* Append s to message m (capacity cap, at byte at), printable: non-ASCII and controls as \xHH, at
 * most 40 bytes. Returns the new end; m stays NUL-terminated. */
size_t json_msg_put(char *m, size_t cap, size_t at, const char *s, size_t n);

#endif
