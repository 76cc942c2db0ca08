/* json_write.c: msgpack -> JSON text (json_write.h): the output buffer, strings with their
 * escapes and UTF-8 checks, numbers, base64 bin, and messages that name the failing field. */
#include "json_write.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmtfloat.h"
#include "json_common.h"
#include "util.h"


/* ================================================================ buffers */

void jb_free(json_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void jb_reserve(json_buf *b, size_t n) {
    if (b->cap - b->len >= n) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}


/* ================================================================ writer */

/* Where we are in the record, for messages. */
typedef struct {
    const char *key; /* NULL for an array index */
    uint32_t klen;
    uint32_t idx;
} path_elem;

typedef struct {
    json_buf *b;
    char *why;
    size_t whylen;
    int depth;
    path_elem path[JSON_WRITE_MAX_DEPTH + 1];
} wctx;

__attribute__((format(printf, 2, 3))) static int wfail(wctx *w, const char *fmt, ...) {
    size_t at = 0, cap = w->whylen;
    char *m = w->why;
    if (!cap) return -1;
    m[0] = 0;
    if (w->depth > 0) {
        at += (size_t)snprintf(m, cap, "field ");
        for (int i = 0; i < w->depth && at < cap; i++) {
            const path_elem *pe = &w->path[i];
            if (pe->key) {
                if (i > 0 && at < cap - 1) m[at++] = '.';
                if (at < cap - 1) m[at++] = '"';
                at = json_msg_put(m, cap, at, pe->key, pe->klen);
                if (at < cap - 1) m[at++] = '"';
            } else at += (size_t)snprintf(m + at, cap - at, "[%u]", pe->idx);
        }
        if (at < cap) at += (size_t)snprintf(m + at, cap - at, ": ");
    }
    if (at < cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m + at, cap - at, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int write_str(wctx *w, const char *s, size_t n) {
    json_buf *b = w->b;
    jb_reserve(b, 6 * n + 2);
    if (n == 0) { /* s may be NULL */
        b->p[b->len++] = '"';
        b->p[b->len++] = '"';
        return 0;
    }
    char *p = b->p + b->len;
    const unsigned char *u = (const unsigned char *)s;
    *p++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !json_esc_class[u[run]]) run++;
        memcpy(p, s + i, run - i);
        p += run - i;
        i = run;
        if (i == n) break;
        unsigned char c = u[i];
        if (json_esc_class[c] == 2) {
            size_t l = utf8_seq_len(u + i, n - i);
            if (!l) return wfail(w, "string is not valid UTF-8 (byte 0x%02x at offset %zu)", c, i);
            memcpy(p, s + i, l);
            p += l;
            i += l;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\t': *p++ = 't'; break;
        case '\r': *p++ = 'r'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = "0123456789abcdef"[c >> 4];
            *p++ = "0123456789abcdef"[c & 15];
        }
        i++;
    }
    *p++ = '"';
    b->len = (size_t)(p - b->p);
    return 0;
}

/* A map with a key twice would not read back (JSON objects here have unique keys). Keys that are
 * not strings are left to the caller's loop, which names them. */
static int check_map_keys(wctx *w, const msgpack_object_map *m) {
    json_key_ref small[16], *keys = m->size <= 16 ? small : xmalloc(m->size * sizeof *keys);
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->size; i++)
        if (m->ptr[i].key.type == MSGPACK_OBJECT_STR)
            keys[n++] = (json_key_ref){m->ptr[i].key.via.str.ptr, m->ptr[i].key.via.str.size, i};
    long dup = json_first_duplicate(keys, n);
    if (keys != small) free(keys);
    if (dup < 0) return 0;
    const msgpack_object_str *k = &m->ptr[dup].key.via.str;
    char name[200];
    size_t at = json_msg_put(name, sizeof name, 0, k->ptr, k->size);
    name[at < sizeof name ? at : sizeof name - 1] = 0;
    w->depth--;
    return wfail(w, "key \"%s\" appears twice in a map", name);
}

static int write_obj(wctx *w, const msgpack_object *o) {
    json_buf *b = w->b;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        jb_reserve(b, 4);
        memcpy(b->p + b->len, "null", 4);
        b->len += 4;
        return 0;
    case MSGPACK_OBJECT_BOOLEAN:
        jb_reserve(b, 5);
        memcpy(b->p + b->len, o->via.boolean ? "true" : "false", o->via.boolean ? 4 : 5);
        b->len += o->via.boolean ? 4 : 5;
        return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        jb_reserve(b, 21);
        b->len = (size_t)(fmt_u64(b->p + b->len, o->via.u64) - b->p);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
        jb_reserve(b, 21);
        char *p = b->p + b->len;
        uint64_t u = o->via.i64 < 0 ? (uint64_t)0 - (uint64_t)o->via.i64 : (uint64_t)o->via.i64;
        if (o->via.i64 < 0) *p++ = '-';
        b->len = (size_t)(fmt_u64(p, u) - b->p);
        return 0;
    }
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        if (!isfinite(o->via.f64))
            return wfail(w, "%s is not allowed (JSON has no NaN or Infinity)",
                         isnan(o->via.f64) ? "NaN" : "Infinity");
        jb_reserve(b, JSON_NUM_MAX);
        int n = o->type == MSGPACK_OBJECT_FLOAT32 ? json_fmt_float(b->p + b->len, (float)o->via.f64)
                                                  : json_fmt_double(b->p + b->len, o->via.f64);
        b->len += (size_t)n;
        return 0;
    }
    case MSGPACK_OBJECT_STR:
        return write_str(w, o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN: {
        size_t n = o->via.bin.size;
        jb_reserve(b, 16 + (n + 2) / 3 * 4);
        char *p = b->p + b->len;
        memcpy(p, "{\"$base64\":\"", 12);
        p = json_b64_encode(p + 12, (const unsigned char *)o->via.bin.ptr, n);
        *p++ = '"';
        *p++ = '}';
        b->len = (size_t)(p - b->p);
        return 0;
    }
    case MSGPACK_OBJECT_EXT:
        return wfail(w, "msgpack ext values (type %d) have no JSON form", o->via.ext.type);
    case MSGPACK_OBJECT_ARRAY:
    case MSGPACK_OBJECT_MAP:
        break;
    default:
        return wfail(w, "unknown msgpack type %d", (int)o->type);
    }
    if (w->depth >= JSON_WRITE_MAX_DEPTH) return wfail(w, "nested deeper than %d levels", JSON_WRITE_MAX_DEPTH);
    path_elem *pe = &w->path[w->depth++];
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        const msgpack_object_array *a = &o->via.array;
        jb_reserve(b, 1);
        b->p[b->len++] = '[';
        pe->key = NULL;
        for (uint32_t i = 0; i < a->size; i++) {
            pe->idx = i;
            if (i) {
                jb_reserve(b, 1);
                b->p[b->len++] = ',';
            }
            if (write_obj(w, &a->ptr[i]) < 0) return -1;
        }
        jb_reserve(b, 1);
        b->p[b->len++] = ']';
    } else {
        const msgpack_object_map *m = &o->via.map;
        if (m->size == 1 && m->ptr[0].key.type == MSGPACK_OBJECT_STR && m->ptr[0].key.via.str.size == 7 &&
            memcmp(m->ptr[0].key.via.str.ptr, "$base64", 7) == 0) {
            w->depth--;
            return wfail(w, "a map whose only key is \"$base64\" has no JSON form (it would read back as bin)");
        }
        if (m->size > 1 && check_map_keys(w, m) < 0) return -1;
        jb_reserve(b, 1);
        b->p[b->len++] = '{';
        for (uint32_t i = 0; i < m->size; i++) {
            const msgpack_object *k = &m->ptr[i].key;
            if (k->type != MSGPACK_OBJECT_STR) {
                pe->key = NULL;
                pe->idx = i;
                w->depth--;
                return wfail(w, "map key %u is %s, JSON keys must be strings", i + 1,
                             k->type == MSGPACK_OBJECT_NIL ? "nil" :
                             k->type == MSGPACK_OBJECT_BOOLEAN ? "a boolean" :
                             k->type == MSGPACK_OBJECT_ARRAY ? "an array" :
                             k->type == MSGPACK_OBJECT_MAP ? "a map" :
                             k->type == MSGPACK_OBJECT_BIN ? "bin" :
                             k->type == MSGPACK_OBJECT_EXT ? "ext" :
                             (k->type == MSGPACK_OBJECT_FLOAT32 || k->type == MSGPACK_OBJECT_FLOAT64) ? "a float"
                                                                                                  : "an integer");
            }
            pe->key = k->via.str.ptr;
            pe->klen = k->via.str.size;
            if (i) {
                jb_reserve(b, 1);
                b->p[b->len++] = ',';
            }
            if (write_str(w, k->via.str.ptr, k->via.str.size) < 0) return -1;
            jb_reserve(b, 1);
            b->p[b->len++] = ':';
            if (write_obj(w, &m->ptr[i].val) < 0) return -1;
        }
        jb_reserve(b, 1);
        b->p[b->len++] = '}';
    }
    w->depth--;
    return 0;
}

int json_write(json_buf *b, const msgpack_object *o, char *why, size_t whylen) {
    wctx w = {.b = b, .why = why, .whylen = whylen, .depth = 0};
    json_esc_init();
    return write_obj(&w, o);
}
