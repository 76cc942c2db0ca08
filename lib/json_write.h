/* json_write.h: msgpack objects -> compact JSON text (RFC 8259), for stream-to-jsonl.
 *
 * nil/bool/int/str/array/map map naturally; floats print as the shortest decimal that reads back to
 * the same float64 (or float32) bits (fmtfloat.h), and always look like floats ("1.0", "1e+16"), so
 * that reading the text back gives a float again; bin becomes {"$base64": "..."}. Errors: ext,
 * non-string map keys, a key twice in a map, a map whose only key is "$base64" (it would read back
 * as bin), invalid UTF-8, NaN/Inf.
 *
 * Round trip (with json_read.h): msgpack -> JSON -> msgpack gives the same records, except that a
 * float32 comes back as the float64 of the same value (JSON has one number type); for streams
 * written by msgpack-c without float32 the bytes are identical. */
#ifndef SVGE_JSON_WRITE_H
#define SVGE_JSON_WRITE_H

#include <msgpack.h>
#include <stddef.h>

/* The writer only guards its recursion (msgpack-c never builds objects deeper than 32). */
#define JSON_WRITE_MAX_DEPTH 64

/* A growing output buffer. */
typedef struct {
    char *p;
    size_t len, cap;
} json_buf;

void jb_free(json_buf *b);
/* Make room for n more bytes. */
void jb_reserve(json_buf *b, size_t n);

/* Append o as JSON text (no newline). Returns 0, or -1 with the place and the problem in why
 * (e.g. `field "ops"[3]: string is not valid UTF-8`); b->len is then unspecified. */
int json_write(json_buf *b, const msgpack_object *o, char *why, size_t whylen);

#endif
