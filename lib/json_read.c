/* json_read.c: a strict RFC 8259 parser into a flat tree, and that tree packed as msgpack
 * (json_read.h): msgpack-c's packer, or the same bytes written directly. */
#include "json_read.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_common.h"
#include "util.h"

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
        while (i < n && !json_esc_class[s[i]]) i++;
        if (i >= n) return perr(c, start - 1, "unterminated string");
        if (s[i] == '"') {
            d->nodes[idx].in_src = 1;
            d->nodes[idx].v.off = start;
            d->nodes[idx].n = (uint32_t)(i - start);
            c->i = i + 1;
            return 0;
        }
        if (s[i] >= 0x80) {
            size_t l = utf8_seq_len(s + i, n - i);
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
        while (run < n && !json_esc_class[s[run]]) run++;
        memcpy(o, s + i, run - i);
        o += run - i;
        i = run;
        if (i >= n) return perr(c, start - 1, "unterminated string");
        unsigned char ch = s[i];
        if (ch == '"') break;
        if (ch >= 0x80) {
            size_t l = utf8_seq_len(s + i, n - i);
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
    json_key_ref small[16], *keys = n <= 16 ? small : xmalloc(n * sizeof *keys);
    size_t k = idx + 1;
    for (uint32_t m = 0; m < n; m++) {
        keys[m] = (json_key_ref){json_str(d, &d->nodes[k]), d->nodes[k].n, (uint32_t)k};
        k = d->nodes[k + 1].next;
    }
    long dup = json_first_duplicate(keys, n);
    if (keys != small) free(keys);
    if (dup < 0) return 0;
    const json_node *key = &d->nodes[dup];
    char name[200];
    size_t at = json_msg_put(name, sizeof name, 0, json_str(d, key), key->n);
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
        long m = json_b64_decode((unsigned char *)d->arena + d->arena_len, txt, len);
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
    json_esc_init();
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
