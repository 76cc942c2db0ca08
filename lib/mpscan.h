/* mpscan.h: a structural pre-scan of msgpack bytes, run before msgpack-c builds any object.
 *
 * It finds where one object ends without allocating, so that no length or element count read
 * from the input can cause a large allocation: every str/bin/ext length must fit in max_bytes,
 * every array/map count in max_items (counted over the whole object). It also rejects the bytes
 * msgpack never uses (0xc1), NaN and infinite floats, and containers nested deeper than
 * MPSCAN_MAX_DEPTH (the object itself is level 1; empty containers count). No recursion: a count of
 * pending objects per open level. */
#ifndef SVGE_MPSCAN_H
#define SVGE_MPSCAN_H
#include <stddef.h>
#include <stdint.h>

/* The deepest nesting of arrays and maps: msgpack-c's unpacker fails on more than 31 nested
 * non-empty containers. The JSON tools use the same limit (json_read.h). */
#define MPSCAN_MAX_DEPTH 31

enum { MPSCAN_NEED_MORE = 0, MPSCAN_OK = 1, MPSCAN_ERROR = -1 };

/* Scan one object at p[0..avail). On MPSCAN_OK, *len is its size in bytes. On MPSCAN_ERROR, why
 * holds the reason. MPSCAN_NEED_MORE: the object continues past avail (and within the limits).
 * top_type receives the first byte's kind as a word ("map", "array", "integer", ...). */
int mpscan_object(const uint8_t *p, size_t avail, size_t max_bytes, uint32_t max_items,
                  size_t *len, char *why, size_t whylen);
/* The kind of object a msgpack first byte starts, as a word for messages. */
const char *mpscan_kind(uint8_t first);
#endif
