/* json.c: msgpack -> JSON text (shortest round-trip floats) and a strict RFC 8259 parser whose
 * flat tree packs back into msgpack. No dependencies beyond msgpack-c and libc. */
#include "json.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ================================================================ UTF-8 */

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF are invalid: Unicode Table 3-7). */
static size_t utf8_len(const unsigned char *p, size_t avail) {
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

/* ================================================================ numbers out */

static const uint64_t pow10_u64[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, 10000000000000000000ull,
};

static char *put_u64(char *p, uint64_t u) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n) *p++ = tmp[--n];
    return p;
}

/* Text of (-1)^neg * t * 10^e10, styled as Python's repr: positional for exponents -4..15 (with at
 * least one fraction digit), else d.ddde+XX. */
static int fmt_decimal(char *out, int neg, uint64_t t, int e10) {
    char dig[21];
    int nd = (int)(put_u64(dig, t) - dig);
    while (nd > 1 && dig[nd - 1] == '0') nd--, e10++;
    int x = nd - 1 + e10; /* exponent in scientific notation */
    char *p = out;
    if (neg) *p++ = '-';
    if (x >= -4 && x <= 15) {
        if (x >= 0) {
            for (int k = 0; k <= x; k++) *p++ = k < nd ? dig[k] : '0';
            *p++ = '.';
            if (nd > x + 1) {
                memcpy(p, dig + x + 1, (size_t)(nd - x - 1));
                p += nd - x - 1;
            } else *p++ = '0';
        } else {
            *p++ = '0';
            *p++ = '.';
            for (int k = 0; k < -x - 1; k++) *p++ = '0';
            memcpy(p, dig, (size_t)nd);
            p += nd;
        }
    } else {
        *p++ = dig[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, dig + 1, (size_t)(nd - 1));
            p += nd - 1;
        }
        *p++ = 'e';
        *p++ = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        if (ax < 10) *p++ = '0';
        p = put_u64(p, ax);
    }
    *p = 0;
    return (int)(p - out);
}

/* Parse the digits and exponent of printf's "%.Ne" output. */
static void parse_e_format(const char *s, uint64_t *t, int *e10) {
    uint64_t v = 0;
    int frac = 0, seen_point = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s == '.') seen_point = 1;
        else if (*s >= '0' && *s <= '9') {
            v = v * 10 + (uint64_t)(*s - '0');
            frac += seen_point;
        }
    }
    *t = v;
    *e10 = (*s == 'e' ? atoi(s + 1) : 0) - frac;
}

/* %.15e round-trips for every normal double exactly when a decimal of at most 15 digits does, so
 * the search starts there; subnormals have fewer digits and start at 1. */
int json_fmt_double_slow(char *out, double d) {
    char buf[40];
    int neg = signbit(d) != 0;
    double a = fabs(d);
    if (a == 0) return fmt_decimal(out, neg, 0, 0);
    for (int prec = a < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, a);
        if (prec == 17 || strtod(buf, NULL) == a) break;
    }
    uint64_t t;
    int e10;
    parse_e_format(buf, &t, &e10);
    return fmt_decimal(out, neg, t, e10);
}

int json_fmt_float_slow(char *out, float f) {
    char buf[40];
    int neg = signbit(f) != 0;
    float a = fabsf(f);
    if (a == 0) return fmt_decimal(out, neg, 0, 0);
    for (int prec = a < FLT_MIN ? 1 : 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, (double)a);
        if (prec == 9 || strtof(buf, NULL) == a) break;
    }
    uint64_t t;
    int e10;
    parse_e_format(buf, &t, &e10);
    return fmt_decimal(out, neg, t, e10);
}

typedef unsigned __int128 u128;

/* Shortest decimal in the rounding interval of the binary float m * 2^e (m normalized to mbits
 * bits), nearest to it among the shortest. Exact integer arithmetic: the value and the interval
 * ends are scaled by 10^s into 128-bit fixed point with k fraction bits, where s puts the value
 * in [10^(P-1), 10^(P+1)) so the interval is wider than 1 unit. Returns 0 with t * 10^e10, or -1
 * when the value is outside the range this handles (the caller falls back to printf). */
static int shortest_fast(uint64_t m, int e, int mbits, int P, uint64_t *t_out, int *e10_out) {
    int E = e + mbits - 1;                       /* value in [2^E, 2^(E+1)) */
    int x_est = (E * 78913) >> 18;               /* floor(E*log10(2)): x_est is X or X-1 */
    int s = P - 1 - x_est;
    int k = 2 - e - s;
    if (s < 0 || s > 27 || k < 0 || k > 100) return -1;
    uint64_t p5 = 1;
    for (int i = 0; i < s; i++) p5 *= 5;
    int lower_closer = m == (1ull << (mbits - 1)); /* interval below is half as wide */
    u128 C = (u128)(4 * m) * p5;
    u128 A = (u128)(4 * m - (lower_closer ? 1 : 2)) * p5;
    u128 B = (u128)(4 * m + 2) * p5;
    u128 mask = ((u128)1 << k) - 1;
    if ((C >> k) >> 63) return -1;               /* keep everything in 64 bits */
    int incl = (m & 1) == 0;                     /* ties go to the even mantissa */
    uint64_t aq = (uint64_t)(A >> k), bq = (uint64_t)(B >> k);
    uint64_t L = ((A & mask) == 0 && incl) ? aq : aq + 1;
    uint64_t U = ((B & mask) == 0 && !incl) ? bq - 1 : bq;
    if (L > U) return -1;
    /* Largest power of ten with a multiple in [L, U]. */
    int j = 0;
    while (j < 19 && (U / pow10_u64[j + 1]) * pow10_u64[j + 1] >= L) j++;
    uint64_t p = pow10_u64[j];
    uint64_t tl = (L + p - 1) / p, tu = U / p;
    /* Nearest to the exact value C / 2^k / p. */
    uint64_t cq = (uint64_t)(C >> k);
    uint64_t t = cq / p;
    u128 r = C - (((u128)t * p) << k);
    u128 half2 = (u128)p << k;
    if (2 * r > half2 || (2 * r == half2 && (t & 1))) t++;
    if (t < tl) t = tl;
    if (t > tu) t = tu;
    *t_out = t;
    *e10_out = j - s;
    return 0;
}

int json_fmt_double(char *out, double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    int neg = (int)(bits >> 63);
    int be = (int)((bits >> 52) & 0x7FF);
    uint64_t frac = bits & ((1ull << 52) - 1);
    if (be == 0 && frac == 0) return fmt_decimal(out, neg, 0, 0);
    if (be != 0 && be != 0x7FF) {
        uint64_t t;
        int e10;
        if (shortest_fast(frac | (1ull << 52), be - 1075, 53, 17, &t, &e10) == 0)
            return fmt_decimal(out, neg, t, e10);
    }
    return json_fmt_double_slow(out, d);
}

int json_fmt_float(char *out, float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    int neg = (int)(bits >> 31);
    int be = (int)((bits >> 23) & 0xFF);
    uint32_t frac = bits & ((1u << 23) - 1);
    if (be == 0 && frac == 0) return fmt_decimal(out, neg, 0, 0);
    if (be != 0 && be != 0xFF) {
        uint64_t t;
        int e10;
        if (shortest_fast(frac | (1u << 23), be - 150, 24, 9, &t, &e10) == 0)
            return fmt_decimal(out, neg, t, e10);
    }
    return json_fmt_float_slow(out, f);
}

/* ================================================================ base64 */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(char *p, const unsigned char *s, size_t n) {
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
static long b64_decode(unsigned char *out, const char *s, size_t n) {
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

/* ================================================================ writer */

typedef struct {
    const char *p;
    uint32_t n, pos;
} key_ref;

static int key_cmp(const void *a, const void *b) {
    const key_ref *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    int r = x->n ? memcmp(x->p, y->p, x->n) : 0; /* msgpack-c gives empty strings a NULL pointer */
    if (r) return r;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Index of the first key that repeats an earlier one, or -1. keys[].pos must be the member index;
 * keys is reordered. Pairwise for small maps, by sorting for large ones. */
static long first_duplicate(key_ref *keys, uint32_t n) {
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


/* Byte classes for string output: 0 copy, 1 escape, 2 start of a multi-byte sequence. */
static unsigned char esc_class[256];
static void esc_init(void) {
    if (esc_class['"']) return;
    for (int c = 0; c < 256; c++) esc_class[c] = c < 0x20 || c == '"' || c == '\\' ? 1 : c >= 0x80 ? 2 : 0;
}

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

/* Append s to a message, printable: non-ASCII and controls as \xHH, at most 40 bytes. */
static size_t msg_put(char *m, size_t cap, size_t at, const char *s, size_t n) {
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
                at = msg_put(m, cap, at, pe->key, pe->klen);
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
        while (run < n && !esc_class[u[run]]) run++;
        memcpy(p, s + i, run - i);
        p += run - i;
        i = run;
        if (i == n) break;
        unsigned char c = u[i];
        if (esc_class[c] == 2) {
            size_t l = utf8_len(u + i, n - i);
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
    key_ref small[16], *keys = m->size <= 16 ? small : xmalloc(m->size * sizeof *keys);
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->size; i++)
        if (m->ptr[i].key.type == MSGPACK_OBJECT_STR)
            keys[n++] = (key_ref){m->ptr[i].key.via.str.ptr, m->ptr[i].key.via.str.size, i};
    long dup = first_duplicate(keys, n);
    if (keys != small) free(keys);
    if (dup < 0) return 0;
    const msgpack_object_str *k = &m->ptr[dup].key.via.str;
    char name[200];
    size_t at = msg_put(name, sizeof name, 0, k->ptr, k->size);
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
        b->len = (size_t)(put_u64(b->p + b->len, o->via.u64) - b->p);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
        jb_reserve(b, 21);
        char *p = b->p + b->len;
        uint64_t u = o->via.i64 < 0 ? (uint64_t)0 - (uint64_t)o->via.i64 : (uint64_t)o->via.i64;
        if (o->via.i64 < 0) *p++ = '-';
        b->len = (size_t)(put_u64(p, u) - b->p);
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
        p = b64_encode(p + 12, (const unsigned char *)o->via.bin.ptr, n);
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
    esc_init();
    return write_obj(&w, o);
}

/* ================================================================ parser */

typedef struct {
    json_doc *d;
    const unsigned char *s;
    size_t n, i;
    int depth;
} pctx;

__attribute__((format(printf, 3, 4))) static int perr(pctx *c, size_t pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->d->err, sizeof c->d->err, fmt, ap);
    va_end(ap);
    c->d->err_pos = pos;
    return -1;
}

/* A character for a message: 'x', or its code. */
static const char *show_char(pctx *c, size_t pos, char *buf, size_t cap) {
    if (pos >= c->n) snprintf(buf, cap, "end of line");
    else if (c->s[pos] >= 0x21 && c->s[pos] < 0x7f) snprintf(buf, cap, "'%c'", c->s[pos]);
    else snprintf(buf, cap, "byte 0x%02x", c->s[pos]);
    return buf;
}

static int unexpected(pctx *c, const char *expected) {
    char ch[24];
    return perr(c, c->i, "expected %s, found %s", expected, show_char(c, c->i, ch, sizeof ch));
}

static inline void skip_ws(pctx *c) {
    if (c->i < c->n && c->s[c->i] > ' ') return;
    while (c->i < c->n) {
        unsigned char ch = c->s[c->i];
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') break;
        c->i++;
    }
}

static inline int new_node(pctx *c, json_type t, size_t *idx) {
    json_doc *d = c->d;
    if (d->max_nodes && d->n_nodes >= d->max_nodes)
        return perr(c, c->i, "more than %zu values in one record", d->max_nodes);
    if (d->n_nodes == d->cap_nodes) {
        d->cap_nodes = d->cap_nodes ? 2 * d->cap_nodes : 256;
        d->nodes = xrealloc(d->nodes, d->cap_nodes * sizeof *d->nodes);
    }
    json_node *nd = &d->nodes[d->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->type = (uint8_t)t;
    nd->pos = (uint32_t)c->i;
    *idx = d->n_nodes++;
    return 0;
}

static void arena_reserve(json_doc *d, size_t n) {
    if (d->arena_cap - d->arena_len >= n) return;
    size_t cap = d->arena_cap ? d->arena_cap : 4096;
    while (cap - d->arena_len < n) cap *= 2;
    d->arena = xrealloc(d->arena, cap);
    d->arena_cap = cap;
}

static int hex4(const unsigned char *p) {
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int h = p[k];
        if (h >= '0' && h <= '9') h -= '0';
        else if (h >= 'a' && h <= 'f') h -= 'a' - 10;
        else if (h >= 'A' && h <= 'F') h -= 'A' - 10;
        else return -1;
        v = v << 4 | h;
    }
    return v;
}

/* A string starting at the opening quote; fills node nd (already created). */
static int parse_string(pctx *c, size_t idx) {
    const unsigned char *s = c->s;
    size_t n = c->n, start = ++c->i, i = start;
    json_doc *d = c->d;
    /* Fast scan: no escapes means the bytes stay in the source. */
    for (;;) {
        while (i < n && !esc_class[s[i]]) i++;
        if (i >= n) return perr(c, start - 1, "unterminated string");
        if (s[i] == '"') {
            d->nodes[idx].in_src = 1;
            d->nodes[idx].v.off = start;
            d->nodes[idx].n = (uint32_t)(i - start);
            c->i = i + 1;
            return 0;
        }
        if (s[i] >= 0x80) {
            size_t l = utf8_len(s + i, n - i);
            if (!l) return perr(c, i, "invalid UTF-8 in a string (byte 0x%02x)", s[i]);
            i += l;
            continue;
        }
        break; /* an escape or a control character */
    }
    /* Slow path: copy into the arena, decoding escapes. Output is never longer than input. */
    arena_reserve(d, n - start);
    char *out = d->arena + d->arena_len, *o = out;
    memcpy(o, s + start, i - start);
    o += i - start;
    for (;;) {
        size_t run = i;
        while (run < n && !esc_class[s[run]]) run++;
        memcpy(o, s + i, run - i);
        o += run - i;
        i = run;
        if (i >= n) return perr(c, start - 1, "unterminated string");
        unsigned char ch = s[i];
        if (ch == '"') break;
        if (ch >= 0x80) {
            size_t l = utf8_len(s + i, n - i);
            if (!l) return perr(c, i, "invalid UTF-8 in a string (byte 0x%02x)", ch);
            memcpy(o, s + i, l);
            o += l;
            i += l;
            continue;
        }
        if (ch < 0x20) return perr(c, i, "control character 0x%02x in a string (must be escaped)", ch);
        /* backslash */
        if (i + 1 >= n) return perr(c, start - 1, "unterminated string");
        unsigned char e = s[i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            i += 2;
            continue;
        }
        if (e != 'u') {
            char chs[24];
            c->i = i + 1;
            return perr(c, i, "invalid escape: backslash followed by %s", show_char(c, i + 1, chs, sizeof chs));
        }
        int cp = i + 6 <= n ? hex4(s + i + 2) : -1;
        if (cp < 0) return perr(c, i, "invalid \\u escape (needs 4 hex digits)");
        size_t esc_at = i;
        i += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return perr(c, esc_at, "unpaired surrogate \\u%04X", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int lo = (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u') ? hex4(s + i + 2) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) return perr(c, esc_at, "unpaired surrogate \\u%04X", cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        if (cp < 0x80) *o++ = (char)cp;
        else if (cp < 0x800) {
            *o++ = (char)(0xC0 | cp >> 6);
            *o++ = (char)(0x80 | (cp & 63));
        } else if (cp < 0x10000) {
            *o++ = (char)(0xE0 | cp >> 12);
            *o++ = (char)(0x80 | ((cp >> 6) & 63));
            *o++ = (char)(0x80 | (cp & 63));
        } else {
            *o++ = (char)(0xF0 | cp >> 18);
            *o++ = (char)(0x80 | ((cp >> 12) & 63));
            *o++ = (char)(0x80 | ((cp >> 6) & 63));
            *o++ = (char)(0x80 | (cp & 63));
        }
    }
    d->nodes[idx].in_src = 0;
    d->nodes[idx].v.off = d->arena_len;
    d->nodes[idx].n = (uint32_t)(o - out);
    d->arena_len += (size_t)(o - out);
    c->i = i + 1;
    return 0;
}

static const double pow10_dbl[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int parse_number(pctx *c, size_t idx) {
    const unsigned char *s = c->s;
    size_t n = c->n, start = c->i, i = start;
    int neg = 0;
    if (s[i] == '-') {
        neg = 1;
        i++;
        if (i < n && s[i] == 'I') return perr(c, start, "Infinity is not JSON");
    }
    if (i >= n || s[i] < '0' || s[i] > '9') {
        c->i = i;
        return unexpected(c, "a digit");
    }
    /* Significant digits go into mant (up to 19); the rest only shift the exponent. */
    uint64_t mant = 0;
    int ndig = 0, dropped = 0, exp10 = 0, is_int = 1, overflow = 0;
    if (s[i] == '0') {
        i++;
        if (i < n && s[i] >= '0' && s[i] <= '9') return perr(c, start, "leading zeros are not allowed in numbers");
    } else {
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (ndig < 19) mant = mant * 10 + (uint64_t)(s[i] - '0'), ndig++;
            else dropped++, exp10++;
        }
    }
    if (i < n && s[i] == '.') {
        is_int = 0;
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') {
            c->i = i;
            return unexpected(c, "a digit after '.'");
        }
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (mant == 0 && s[i] == '0') exp10--; /* leading zeros of a fraction */
            else if (ndig < 19) mant = mant * 10 + (uint64_t)(s[i] - '0'), ndig++, exp10--;
            else dropped++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        is_int = 0;
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        if (i >= n || s[i] < '0' || s[i] > '9') {
            c->i = i;
            return unexpected(c, "a digit in the exponent");
        }
        int ev = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (ev < 100000) ev = ev * 10 + (s[i] - '0');
        exp10 += eneg ? -ev : ev;
    }
    c->i = i;
    json_node *nd = &c->d->nodes[idx];
    if (is_int) {
        if (!dropped) {
            /* at most 19 digits: fits in uint64 */
            if (!neg) {
                nd->type = JSON_UINT;
                nd->v.u = mant;
                return 0;
            }
            if (mant <= (uint64_t)1 << 63) {
                nd->type = mant ? JSON_INT : JSON_UINT;
                nd->v.i = mant ? (int64_t)(0 - mant) : 0; /* -0 is the integer 0 */
                return 0;
            }
        } else if (!neg && dropped == 1) {
            /* 20 digits: may still fit in uint64 */
            uint64_t last = (uint64_t)(s[i - 1] - '0');
            if (mant <= (UINT64_MAX - last) / 10) {
                nd->type = JSON_UINT;
                nd->v.u = mant * 10 + last;
                return 0;
            }
        }
        overflow = 1; /* beyond int64/uint64: a float, like Python's json would not do but msgpack must */
    }
    nd->type = JSON_FLOAT;
    /* Clinger's fast path: both operands exact, one correctly rounded operation. */
    if (!dropped && !overflow && mant <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / pow10_dbl[-exp10] : v * pow10_dbl[exp10];
        nd->v.f = neg ? -v : v;
        return 0;
    }
    char small[64], *buf = small;
    size_t len = i - start;
    if (len >= sizeof small) buf = xmalloc(len + 1);
    memcpy(buf, s + start, len);
    buf[len] = 0;
    errno = 0;
    double v = strtod(buf, NULL);
    if (buf != small) free(buf);
    if (isinf(v)) return perr(c, start, "number out of range (JSON has no Infinity)");
    nd->v.f = v;
    return 0;
}

static int parse_value(pctx *c);

/* Duplicate keys among the members of the object at idx (compared after decoding escapes).
 * Reports the first repeated key. */
static int check_duplicates(pctx *c, size_t idx) {
    json_doc *d = c->d;
    uint32_t n = d->nodes[idx].n;
    if (n < 2) return 0;
    key_ref small[16], *keys = n <= 16 ? small : xmalloc(n * sizeof *keys);
    size_t k = idx + 1;
    for (uint32_t m = 0; m < n; m++) {
        keys[m] = (key_ref){json_str(d, &d->nodes[k]), d->nodes[k].n, (uint32_t)k};
        k = d->nodes[k + 1].next;
    }
    long dup = first_duplicate(keys, n);
    if (keys != small) free(keys);
    if (dup < 0) return 0;
    const json_node *key = &d->nodes[dup];
    char name[200];
    size_t at = msg_put(name, sizeof name, 0, json_str(d, key), key->n);
    name[at < sizeof name ? at : sizeof name - 1] = 0;
    return perr(c, key->pos, "duplicate key \"%s\"", name);
}

static int parse_container(pctx *c, size_t idx, int is_obj) {
    json_doc *d = c->d;
    if (++c->depth > JSON_MAX_DEPTH) return perr(c, c->i, "nesting deeper than %d levels", JSON_MAX_DEPTH);
    char close = is_obj ? '}' : ']';
    c->i++;
    skip_ws(c);
    uint32_t count = 0;
    if (c->i < c->n && c->s[c->i] == close) {
        c->i++;
    } else {
        for (;;) {
            if (is_obj) {
                if (c->i >= c->n || c->s[c->i] != '"')
                    return unexpected(c, count ? "a key (a string)" : "a key (a string) or '}'");
                size_t k = 0;
                if (new_node(c, JSON_STRING, &k) < 0 || parse_string(c, k) < 0) return -1;
                d->nodes[k].next = (uint32_t)d->n_nodes;
                skip_ws(c);
                if (c->i >= c->n || c->s[c->i] != ':') return unexpected(c, "':' after a key");
                c->i++;
                skip_ws(c);
            }
            if (parse_value(c) < 0) return -1;
            count++;
            skip_ws(c);
            if (c->i < c->n && c->s[c->i] == ',') {
                c->i++;
                skip_ws(c);
                continue;
            }
            if (c->i < c->n && c->s[c->i] == close) {
                c->i++;
                break;
            }
            return unexpected(c, is_obj ? "',' or '}'" : "',' or ']'");
        }
    }
    c->depth--;
    d->nodes[idx].n = count;
    d->nodes[idx].next = (uint32_t)d->n_nodes;
    if (!is_obj) return 0;
    if (check_duplicates(c, idx) < 0) return -1;
    /* {"$base64": "..."} alone is a bin. */
    json_node *key = &d->nodes[idx + 1];
    if (count == 1 && key->n == 7 && memcmp(json_str(d, key), "$base64", 7) == 0) {
        json_node *val = &d->nodes[idx + 2];
        if (val->type != JSON_STRING) return perr(c, val->pos, "the value of \"$base64\" must be a string");
        size_t len = val->n;
        arena_reserve(d, len / 4 * 3 + 3);
        /* reserve first: the text may itself live in the arena */
        const char *txt = json_str(d, val);
        long m = b64_decode((unsigned char *)d->arena + d->arena_len, txt, len);
        if (m < 0) return perr(c, val->pos, "invalid base64 in a \"$base64\" value");
        json_node *obj = &d->nodes[idx];
        obj->type = JSON_BIN;
        obj->in_src = 0;
        obj->v.off = d->arena_len;
        obj->n = (uint32_t)m;
        d->arena_len += (size_t)m;
        d->n_nodes = idx + 1; /* drop the key and value nodes */
        obj->next = (uint32_t)d->n_nodes;
    }
    return 0;
}

static int literal(pctx *c, const char *word, json_type t) {
    size_t len = strlen(word);
    if (c->n - c->i < len || memcmp(c->s + c->i, word, len) != 0) return unexpected(c, "a value");
    size_t idx = 0;
    if (new_node(c, t, &idx) < 0) return -1;
    c->i += len;
    c->d->nodes[idx].next = (uint32_t)c->d->n_nodes;
    return 0;
}

static int parse_value(pctx *c) {
    if (c->i >= c->n) return unexpected(c, "a value");
    unsigned char ch = c->s[c->i];
    size_t idx = 0;
    switch (ch) {
    case '{':
    case '[':
        if (new_node(c, ch == '{' ? JSON_OBJECT : JSON_ARRAY, &idx) < 0) return -1;
        return parse_container(c, idx, ch == '{');
    case '"':
        if (new_node(c, JSON_STRING, &idx) < 0 || parse_string(c, idx) < 0) return -1;
        break;
    case 't': return literal(c, "true", JSON_TRUE);
    case 'f': return literal(c, "false", JSON_FALSE);
    case 'n': return literal(c, "null", JSON_NULL);
    case 'N': return perr(c, c->i, "NaN is not JSON");
    case 'I': return perr(c, c->i, "Infinity is not JSON");
    default:
        if (ch == '-' || (ch >= '0' && ch <= '9')) {
            if (new_node(c, JSON_FLOAT, &idx) < 0 || parse_number(c, idx) < 0) return -1;
            break;
        }
        return unexpected(c, "a value");
    }
    c->d->nodes[idx].next = (uint32_t)c->d->n_nodes;
    return 0;
}

static size_t int_size_u(uint64_t u) { return u < 128 ? 1 : u < 256 ? 2 : u < 65536 ? 3 : u <= UINT32_MAX ? 5 : 9; }
static size_t int_size_i(int64_t v) {
    return v >= -32 ? 1 : v >= -128 ? 2 : v >= -32768 ? 3 : v >= INT32_MIN ? 5 : 9;
}
static size_t hdr_size(uint32_t n, size_t fix) { return n < fix ? 1 : n < 65536 ? 3 : 5; }

void json_doc_init(json_doc *d) { memset(d, 0, sizeof *d); }

void json_doc_free(json_doc *d) {
    free(d->nodes);
    free(d->arena);
    memset(d, 0, sizeof *d);
}

int json_parse(json_doc *d, const char *text, size_t len) {
    esc_init();
    d->n_nodes = 0;
    d->arena_len = 0;
    d->src = text;
    d->src_len = len;
    d->err[0] = 0;
    d->err_pos = 0;
    if (len > UINT32_MAX) {
        snprintf(d->err, sizeof d->err, "text longer than 4 GiB");
        return -1;
    }
    pctx c = {.d = d, .s = (const unsigned char *)text, .n = len, .i = 0, .depth = 0};
    skip_ws(&c);
    if (c.i >= c.n) return perr(&c, c.i, "empty text, expected a value");
    if (parse_value(&c) < 0) return -1;
    skip_ws(&c);
    if (c.i < c.n) {
        char ch[24];
        return perr(&c, c.i, "unexpected %s after the value", show_char(&c, c.i, ch, sizeof ch));
    }
    return 0;
}

/* Bytes of msgpack json_pack will write, as msgpack-c chooses formats. */
size_t json_packed_size(const json_doc *d) {
    size_t total = 0;
    for (size_t i = 0; i < d->n_nodes; i++) {
        const json_node *nd = &d->nodes[i];
        switch (nd->type) {
        case JSON_INT: total += int_size_i(nd->v.i); break;
        case JSON_UINT: total += int_size_u(nd->v.u); break;
        case JSON_FLOAT: total += 9; break;
        case JSON_STRING: total += nd->n + (nd->n < 32 ? 1 : nd->n < 256 ? 2 : nd->n < 65536 ? 3 : 5); break;
        case JSON_BIN: total += nd->n + (nd->n < 256 ? 2 : nd->n < 65536 ? 3 : 5); break;
        case JSON_ARRAY:
        case JSON_OBJECT: total += hdr_size(nd->n, 16); break;
        default: total += 1;
        }
    }
    return total;
}

/* ================================================================ packing */

static inline unsigned char *be16(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    return p + 2;
}
static inline unsigned char *be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}
static inline unsigned char *be64(unsigned char *p, uint64_t v) {
    be32(p, (uint32_t)(v >> 32));
    return be32(p + 4, (uint32_t)v);
}

/* A str/bin/array/map header in msgpack-c's choice of format: fix (if fix_lim), 8 (if op8),
 * 16, 32 bits. */
static unsigned char *put_hdr(unsigned char *p, uint32_t n, uint32_t fix_lim, unsigned char fix,
                              unsigned char op8, unsigned char op16) {
    if (n < fix_lim) *p++ = (unsigned char)(fix | n);
    else if (op8 && n < 256) *p++ = op8, *p++ = (unsigned char)n;
    else if (n < 65536) *p++ = op16, p = be16(p, n);
    else *p++ = (unsigned char)(op16 + 1), p = be32(p, n);
    return p;
}

static unsigned char *encode(const json_doc *d, size_t i, unsigned char *p) {
    const json_node *nd = &d->nodes[i];
    switch ((json_type)nd->type) {
    case JSON_NULL: *p++ = 0xc0; return p;
    case JSON_FALSE: *p++ = 0xc2; return p;
    case JSON_TRUE: *p++ = 0xc3; return p;
    case JSON_INT: {
        int64_t v = nd->v.i; /* negative */
        if (v >= -32) *p++ = (unsigned char)(int8_t)v;
        else if (v >= -128) *p++ = 0xd0, *p++ = (unsigned char)(int8_t)v;
        else if (v >= -32768) *p++ = 0xd1, p = be16(p, (uint16_t)(int16_t)v);
        else if (v >= INT32_MIN) *p++ = 0xd2, p = be32(p, (uint32_t)(int32_t)v);
        else *p++ = 0xd3, p = be64(p, (uint64_t)v);
        return p;
    }
    case JSON_UINT: {
        uint64_t u = nd->v.u;
        if (u < 128) *p++ = (unsigned char)u;
        else if (u < 256) *p++ = 0xcc, *p++ = (unsigned char)u;
        else if (u < 65536) *p++ = 0xcd, p = be16(p, (uint32_t)u);
        else if (u <= UINT32_MAX) *p++ = 0xce, p = be32(p, (uint32_t)u);
        else *p++ = 0xcf, p = be64(p, u);
        return p;
    }
    case JSON_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &nd->v.f, 8);
        *p++ = 0xcb;
        return be64(p, bits);
    }
    case JSON_STRING:
    case JSON_BIN:
        if (nd->type == JSON_STRING) p = put_hdr(p, nd->n, 32, 0xa0, 0xd9, 0xda);
        else p = put_hdr(p, nd->n, 0, 0, 0xc4, 0xc5);
        memcpy(p, json_str(d, nd), nd->n);
        return p + nd->n;
    case JSON_ARRAY:
    case JSON_OBJECT: {
        int is_obj = nd->type == JSON_OBJECT;
        p = is_obj ? put_hdr(p, nd->n, 16, 0x80, 0, 0xde) : put_hdr(p, nd->n, 16, 0x90, 0, 0xdc);
        size_t k = i + 1;
        for (uint32_t m = 0; m < nd->n * (is_obj ? 2u : 1u); m++) {
            p = encode(d, k, p);
            k = d->nodes[k].next;
        }
        return p;
    }
    }
    return p;
}

size_t json_encode(const json_doc *d, size_t i, char *out) {
    return (size_t)(encode(d, i, (unsigned char *)out) - (unsigned char *)out);
}

void json_pack(msgpack_packer *pk, const json_doc *d, size_t i) {
    const json_node *nd = &d->nodes[i];
    switch ((json_type)nd->type) {
    case JSON_NULL: msgpack_pack_nil(pk); return;
    case JSON_FALSE: msgpack_pack_false(pk); return;
    case JSON_TRUE: msgpack_pack_true(pk); return;
    case JSON_INT: msgpack_pack_int64(pk, nd->v.i); return;
    case JSON_UINT: msgpack_pack_uint64(pk, nd->v.u); return;
    case JSON_FLOAT: msgpack_pack_double(pk, nd->v.f); return;
    case JSON_STRING: msgpack_pack_str_with_body(pk, json_str(d, nd), nd->n); return;
    case JSON_BIN: msgpack_pack_bin_with_body(pk, json_str(d, nd), nd->n); return;
    case JSON_ARRAY: {
        msgpack_pack_array(pk, nd->n);
        size_t k = i + 1;
        for (uint32_t m = 0; m < nd->n; m++) {
            json_pack(pk, d, k);
            k = d->nodes[k].next;
        }
        return;
    }
    case JSON_OBJECT: {
        msgpack_pack_map(pk, nd->n);
        size_t k = i + 1;
        for (uint32_t m = 0; m < nd->n; m++) {
            const json_node *key = &d->nodes[k];
            msgpack_pack_str_with_body(pk, json_str(d, key), key->n);
            k = key->next;
            json_pack(pk, d, k);
            k = d->nodes[k].next;
        }
        return;
    }
    }
}
