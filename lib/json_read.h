/* json_read.h: JSON text (RFC 8259) -> msgpack, for jsonl-to-stream.
 *
 * A strict parser builds a flat tree (json_doc) which json_pack/json_encode turn into msgpack.
 * Integers without fraction or exponent become msgpack ints (beyond int64/uint64: float64), other
 * numbers float64; an object whose only member is "$base64" must hold canonical base64 and becomes
 * msgpack bin. Duplicate keys, NaN/Infinity, unpaired \u surrogates and invalid UTF-8 are errors.
 * The reverse is json_write.h (its header says what a round trip keeps). */
#ifndef SVGE_JSON_READ_H
#define SVGE_JSON_READ_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "mpscan.h"

/* The parser rejects containers nested deeper than the stream reader does (mpscan.h), so every
 * record we pack can be read back and every record read can be printed and parsed again. */
#define JSON_MAX_DEPTH MPSCAN_MAX_DEPTH

typedef enum {
    JSON_NULL, JSON_FALSE, JSON_TRUE,
    JSON_INT,     /* v.i: negative integers */
    JSON_UINT,    /* v.u: non-negative integers */
    JSON_FLOAT,   /* v.f */
    JSON_STRING,  /* n bytes at json_str() */
    JSON_BIN,     /* n bytes at json_str(): a decoded {"$base64": ...} object */
    JSON_ARRAY,   /* n elements follow */
    JSON_OBJECT,  /* n members follow, each a key (JSON_STRING) then a value */
} json_type;

/* Nodes are stored in document order; a container's children follow it, and `next` is the index
 * just past its whole subtree. */
typedef struct {
    uint8_t type;       /* json_type */
    uint8_t in_src;     /* string bytes are in the source text (no escapes), else in the arena */
    uint32_t n;
    uint32_t next;
    uint32_t pos;       /* byte offset in the text, for messages */
    union {
        int64_t i;
        uint64_t u;
        double f;
        size_t off;     /* string bytes: offset into the source or the arena */
    } v;
} json_node;

typedef struct {
    json_node *nodes;
    size_t n_nodes, cap_nodes;
    char *arena;        /* unescaped strings and decoded base64 */
    size_t arena_len, arena_cap;
    const char *src;    /* the text last parsed (must outlive json_pack) */
    size_t src_len;
    size_t max_nodes;   /* reject texts with more values than this (0: no limit) */
    size_t err_pos;     /* on error: byte offset of the problem (0-based) */
    char err[200];      /* on error: the problem */
} json_doc;

void json_doc_init(json_doc *d);
void json_doc_free(json_doc *d);

/* Parse exactly one JSON value (surrounded by optional whitespace) from text[0..len).
 * Returns 0, or -1 with d->err and d->err_pos set. text needs no NUL terminator. */
int json_parse(json_doc *d, const char *text, size_t len);

static inline const char *json_str(const json_doc *d, const json_node *nd) {
    return (nd->in_src ? d->src : d->arena) + nd->v.off;
}

/* Pack the subtree at node index i as msgpack. */
void json_pack(msgpack_packer *pk, const json_doc *d, size_t i);
/* The same bytes written straight into out; returns the length. Several times faster than the
 * packer's callback per value. For the root, out needs json_packed_size(d) bytes, which is at most
 * JSON_ENCODE_BOUND(d): every header takes at most 9 bytes and no string grows when decoded. */
size_t json_encode(const json_doc *d, size_t i, char *out);
#define JSON_ENCODE_BOUND(d) (9 * (d)->n_nodes + (d)->src_len)
/* Bytes json_pack / json_encode produce for the root (a pass over the nodes). */
size_t json_packed_size(const json_doc *d);

#endif
