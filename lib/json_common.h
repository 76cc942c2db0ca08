/* json_common.h: what JSON writing (json_write.h) and reading (json_read.h) share: UTF-8
 * validation (utf8.h), the byte classes of string escaping, base64 (msgpack bin <-> {"$base64": ...}), the
 * search for a repeated key, and quoting a key for a message. */
#ifndef SVGE_JSON_COMMON_H
#define SVGE_JSON_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "utf8.h"

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
