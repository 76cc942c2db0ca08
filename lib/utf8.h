/* utf8.h: UTF-8 validation, shared by the stream reader, JSON and message printing. */
#ifndef SVGE_UTF8_H
#define SVGE_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF are invalid: Unicode Table 3-7). */
static inline size_t utf8_seq_len(const unsigned char *p, size_t avail) {
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

/* Offset of the first byte of p[0..n) that does not start a valid UTF-8 sequence, or n if all is
 * valid. ASCII is checked 8 bytes at a time. */
static inline size_t utf8_invalid_at(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq_len(p + i, n - i);
        if (!l) return i;
        i += l;
    }
    return n;
}

#endif
