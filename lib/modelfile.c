/* modelfile.c: model file writer and reader (see modelfile.h and formats/model.md). */
#include "modelfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpscan.h"
#include "outfile.h"
#include "util.h"

#define HEAD_BYTES 12 /* magic (8) + version (4) */
#define TAIL_BYTES 8  /* checksum */

uint64_t mf_fnv1a64(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

mf_value mf_str(const char *key, const char *s) { return (mf_value){key, MF_STR, 0, 0, s, strlen(s)}; }

static size_t tensor_count(const mf_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_le64(const uint8_t *p) {
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* ---------------------------------------------------------------- writer */

static void pack_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void check_name(const char *path, const char *what, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > MF_MAX_NAME) die(EXIT_DATA, "%s: %s name is empty or longer than %d bytes", path, what, MF_MAX_NAME);
}

static void pack_section(msgpack_packer *pk, const char *path, const char *sname, const mf_value *v, size_t n) {
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < n; i++) {
        check_name(path, sname, v[i].key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[i].key, v[j].key) == 0) die(EXIT_DATA, "%s: %s key \"%s\" given twice", path, sname, v[i].key);
        pack_cstr(pk, v[i].key);
        switch (v[i].kind) {
        case MF_INT: msgpack_pack_int64(pk, v[i].i); break;
        case MF_FLOAT:
            if (!isfinite(v[i].f)) die(EXIT_DATA, "%s: %s value \"%s\" is not finite", path, sname, v[i].key);
            msgpack_pack_double(pk, v[i].f);
            break;
        case MF_STR:
            msgpack_pack_str(pk, v[i].len);
            msgpack_pack_str_body(pk, v[i].p, v[i].len);
            break;
        case MF_BIN:
            msgpack_pack_bin(pk, v[i].len);
            msgpack_pack_bin_body(pk, v[i].p, v[i].len);
            break;
        default: die(EXIT_DATA, "%s: %s value \"%s\" has no kind", path, sname, v[i].key);
        }
    }
}

/* Atomically for a regular file, through for a device or FIFO (lib/outfile.h). */
static void write_file(const char *path, const uint8_t *p, size_t n) {
    outfile *f = of_open(path, 0);
    of_write(f, p, n);
    of_commit(f);
}

void mf_write(const char *path, const mf_contents *c, char id[MF_ID_LEN + 1]) {
    static const char *const secname[3] = {"config", "meta", "state"};
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    uint8_t head[HEAD_BYTES];
    memcpy(head, MF_MAGIC, 8);
    put_le32(head + 8, MF_FORMAT_VERSION);
    msgpack_sbuffer_write(&sb, (const char *)head, HEAD_BYTES);

    msgpack_pack_map(&pk, 4);
    for (int s = 0; s < 3; s++) {
        pack_cstr(&pk, secname[s]);
        pack_section(&pk, path, secname[s], c->sec[s], c->nsec[s]);
    }
    pack_cstr(&pk, "tensors");
    msgpack_pack_array(&pk, c->ntensors);
    for (size_t i = 0; i < c->ntensors; i++) {
        const mf_tensor *t = &c->tensors[i];
        check_name(path, "tensor", t->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->name, c->tensors[j].name) == 0) die(EXIT_DATA, "%s: tensor \"%s\" given twice", path, t->name);
        if (t->ndim < 0 || t->ndim > MF_MAX_DIMS)
            die(EXIT_DATA, "%s: tensor \"%s\" has %d dimensions (at most %d)", path, t->name, t->ndim, MF_MAX_DIMS);
        size_t n = tensor_count(t);
        msgpack_pack_map(&pk, 4);
        pack_cstr(&pk, "name");
        pack_cstr(&pk, t->name);
        pack_cstr(&pk, "dtype");
        pack_cstr(&pk, "f32");
        pack_cstr(&pk, "shape");
        msgpack_pack_array(&pk, (size_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) msgpack_pack_uint64(&pk, t->shape[d]);
        pack_cstr(&pk, "data");
        if (n > (UINT32_MAX / 4)) die(EXIT_DATA, "%s: tensor \"%s\" is too large", path, t->name);
        msgpack_pack_bin(&pk, n * 4);
        uint8_t le[4096];
        size_t k = 0;
        for (size_t e = 0; e < n; e++) {
            float f = t->data[e];
            if (!isfinite(f)) die(EXIT_DATA, "%s: tensor \"%s\" element %zu is %s", path, t->name, e, isnan(f) ? "NaN" : "infinite");
            uint32_t u;
            memcpy(&u, &f, 4);
            put_le32(le + k, u);
            k += 4;
            if (k == sizeof le || e + 1 == n) {
                msgpack_pack_bin_body(&pk, le, k);
                k = 0;
            }
        }
    }
    uint64_t sum = mf_fnv1a64(sb.data, sb.size);
    uint8_t tail[TAIL_BYTES];
    put_le64(tail, sum);
    msgpack_sbuffer_write(&sb, (const char *)tail, TAIL_BYTES);
    if (sb.size > MF_MAX_FILE_BYTES) die(EXIT_DATA, "%s: model file would exceed %zu bytes", path, MF_MAX_FILE_BYTES);
    write_file(path, (const uint8_t *)sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (id) snprintf(id, MF_ID_LEN + 1, "%016llx", (unsigned long long)sum);
}

/* ---------------------------------------------------------------- reader */

struct model_file {
    char *name;
    char id[MF_ID_LEN + 1];
    mf_contents c;
    mf_value *sec[3];
    mf_tensor *tensors;
    float *data;      /* all tensors' elements, one block */
    char **strs;      /* copies of keys, names and string values, freed with the file */
    size_t nstrs, capstrs;
    uint8_t **bins;
    size_t nbins, capbins;
};

void mf_free(model_file *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nstrs; i++) free(m->strs[i]);
    for (size_t i = 0; i < m->nbins; i++) free(m->bins[i]);
    free(m->strs);
    free(m->bins);
    for (int s = 0; s < 3; s++) free(m->sec[s]);
    free(m->tensors);
    free(m->data);
    free(m->name);
    free(m);
}

static char *keep_str(model_file *m, const char *p, size_t n) {
    if (m->nstrs == m->capstrs) {
        m->capstrs = m->capstrs ? 2 * m->capstrs : 64;
        m->strs = xrealloc(m->strs, m->capstrs * sizeof *m->strs);
    }
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return m->strs[m->nstrs++] = s;
}

static const void *keep_bin(model_file *m, const char *p, size_t n) {
    if (m->nbins == m->capbins) {
        m->capbins = m->capbins ? 2 * m->capbins : 8;
        m->bins = xrealloc(m->bins, m->capbins * sizeof *m->bins);
    }
    uint8_t *b = xmalloc(n ? n : 1);
    memcpy(b, p, n);
    return m->bins[m->nbins++] = b;
}

/* A parse error: format the message into err and return -1. */
static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int str_is(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

/* A key for messages: at most 64 bytes of it. */
#define KEYFMT "\"%.*s\""
#define KEYARG(o) (int)((o)->via.str.size > 64 ? 64 : (o)->via.str.size), (o)->via.str.ptr

static int parse_section(model_file *m, int s, const char *sname, const msgpack_object *o, char *err, size_t el) {
    if (o->type != MSGPACK_OBJECT_MAP) return fail(err, el, "\"%s\" is not a map", sname);
    uint32_t n = o->via.map.size;
    mf_value *v = m->sec[s] = xcalloc(n ? n : 1, sizeof *v);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *x = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 || k->via.str.size > MF_MAX_NAME)
            return fail(err, el, "%s key %u is not a string of 1 to %d bytes", sname, i + 1, MF_MAX_NAME);
        for (uint32_t j = 0; j < i; j++)
            if (o->via.map.ptr[j].key.via.str.size == k->via.str.size &&
                memcmp(o->via.map.ptr[j].key.via.str.ptr, k->via.str.ptr, k->via.str.size) == 0)
                return fail(err, el, "%s key " KEYFMT " appears twice", sname, KEYARG(k));
        v[i].key = keep_str(m, k->via.str.ptr, k->via.str.size);
        switch (x->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (x->via.u64 > INT64_MAX) return fail(err, el, "%s value " KEYFMT " is out of range", sname, KEYARG(k));
            v[i].kind = MF_INT;
            v[i].i = (int64_t)x->via.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            v[i].kind = MF_INT;
            v[i].i = x->via.i64;
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            v[i].kind = MF_FLOAT;
            v[i].f = x->via.f64; /* finite: mpscan rejects NaN and infinity */
            break;
        case MSGPACK_OBJECT_STR:
            v[i].kind = MF_STR;
            v[i].p = keep_str(m, x->via.str.ptr, x->via.str.size);
            v[i].len = x->via.str.size;
            break;
        case MSGPACK_OBJECT_BIN:
            v[i].kind = MF_BIN;
            v[i].p = keep_bin(m, x->via.bin.ptr, x->via.bin.size);
            v[i].len = x->via.bin.size;
            break;
        default:
            return fail(err, el, "%s value " KEYFMT " is not an integer, float, string or bin", sname, KEYARG(k));
        }
    }
    m->c.sec[s] = v;
    m->c.nsec[s] = n;
    return 0;
}

/* Check one tensor entry; on success fill t (name kept, data not yet) and point *bin at its bytes. */
static int parse_tensor(model_file *m, uint32_t idx, const msgpack_object *o, mf_tensor *t, const char **bin,
                        char *err, size_t el) {
    if (o->type != MSGPACK_OBJECT_MAP) return fail(err, el, "tensor %u is not a map", idx + 1);
    const msgpack_object *name = NULL, *dtype = NULL, *shape = NULL, *data = NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *x = &o->via.map.ptr[i].val;
        const msgpack_object **slot = str_is(k, "name") ? &name : str_is(k, "dtype") ? &dtype
                                      : str_is(k, "shape") ? &shape : str_is(k, "data") ? &data : NULL;
        if (!slot) continue; /* unknown fields are ignored */
        if (*slot) return fail(err, el, "tensor %u: field " KEYFMT " appears twice", idx + 1, KEYARG(k));
        *slot = x;
    }
    if (!name || name->type != MSGPACK_OBJECT_STR || name->via.str.size == 0 || name->via.str.size > MF_MAX_NAME)
        return fail(err, el, "tensor %u: \"name\" is missing or not a string of 1 to %d bytes", idx + 1, MF_MAX_NAME);
    if (!dtype || !str_is(dtype, "f32"))
        return fail(err, el, "tensor " KEYFMT ": \"dtype\" is missing or not \"f32\"", KEYARG(name));
    if (!shape || shape->type != MSGPACK_OBJECT_ARRAY || shape->via.array.size > MF_MAX_DIMS)
        return fail(err, el, "tensor " KEYFMT ": \"shape\" is missing or not an array of at most %d sizes",
                    KEYARG(name), MF_MAX_DIMS);
    if (!data || data->type != MSGPACK_OBJECT_BIN)
        return fail(err, el, "tensor " KEYFMT ": \"data\" is missing or not a bin", KEYARG(name));
    /* The element count, bounded by the bytes present: no overflow, no allocation from the shape. */
    uint64_t count = 1;
    t->ndim = (int)shape->via.array.size;
    for (int d = 0; d < t->ndim; d++) {
        const msgpack_object *x = &shape->via.array.ptr[d];
        if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return fail(err, el, "tensor " KEYFMT ": shape element %d is not an unsigned integer", KEYARG(name), d + 1);
        t->shape[d] = x->via.u64;
        if (x->via.u64 != 0 && count > ((uint64_t)data->via.bin.size / 4) / x->via.u64)
            return fail(err, el, "tensor " KEYFMT ": shape is larger than its %u data bytes", KEYARG(name),
                        data->via.bin.size);
        count *= x->via.u64;
    }
    if (count * 4 != data->via.bin.size)
        return fail(err, el, "tensor " KEYFMT ": shape holds %llu floats but data has %u bytes", KEYARG(name),
                    (unsigned long long)count, data->via.bin.size);
    for (uint32_t j = 0; j < idx; j++)
        if (strlen(m->tensors[j].name) == name->via.str.size &&
            memcmp(m->tensors[j].name, name->via.str.ptr, name->via.str.size) == 0)
            return fail(err, el, "tensor " KEYFMT " appears twice", KEYARG(name));
    t->name = keep_str(m, name->via.str.ptr, name->via.str.size);
    *bin = data->via.bin.ptr;
    return 0;
}

static int parse_body(model_file *m, const msgpack_object *root, char *err, size_t el) {
    static const char *const secname[3] = {"config", "meta", "state"};
    if (root->type != MSGPACK_OBJECT_MAP) return fail(err, el, "the header is not a map");
    const msgpack_object *sec[3] = {NULL, NULL, NULL}, *tensors = NULL;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr[i].key, *x = &root->via.map.ptr[i].val;
        const msgpack_object **slot = str_is(k, "config") ? &sec[0] : str_is(k, "meta") ? &sec[1]
                                      : str_is(k, "state") ? &sec[2] : str_is(k, "tensors") ? &tensors : NULL;
        if (!slot) continue; /* unknown sections are ignored */
        if (*slot) return fail(err, el, "section " KEYFMT " appears twice", KEYARG(k));
        *slot = x;
    }
    if (!sec[0]) return fail(err, el, "no \"config\" section");
    if (!tensors) return fail(err, el, "no \"tensors\" section");
    for (int s = 0; s < 3; s++) {
        if (!sec[s]) {
            m->sec[s] = xcalloc(1, sizeof *m->sec[s]);
            m->c.sec[s] = m->sec[s];
            continue;
        }
        if (parse_section(m, s, secname[s], sec[s], err, el)) return -1;
    }
    if (tensors->type != MSGPACK_OBJECT_ARRAY) return fail(err, el, "\"tensors\" is not an array");
    uint32_t nt = tensors->via.array.size;
    m->tensors = xcalloc(nt ? nt : 1, sizeof *m->tensors);
    const char **bins = xcalloc(nt ? nt : 1, sizeof *bins);
    size_t total = 0;
    for (uint32_t i = 0; i < nt; i++) {
        if (parse_tensor(m, i, &tensors->via.array.ptr[i], &m->tensors[i], &bins[i], err, el)) {
            free(bins);
            return -1;
        }
        total += tensor_count(&m->tensors[i]); /* each bounded by bytes in the file */
    }
    /* All lengths are checked against the file: allocate and convert. */
    float *data = m->data = xmalloc((total ? total : 1) * sizeof(float));
    for (uint32_t i = 0; i < nt; i++) {
        mf_tensor *t = &m->tensors[i];
        size_t n = tensor_count(t);
        const uint8_t *b = (const uint8_t *)bins[i];
        for (size_t e = 0; e < n; e++) {
            uint32_t u = get_le32(b + 4 * e);
            memcpy(&data[e], &u, 4);
            if (!isfinite(data[e])) {
                free(bins);
                return fail(err, el, "tensor \"%s\": element %zu is %s", t->name, e, isnan(data[e]) ? "NaN" : "infinite");
            }
        }
        t->data = data;
        data += n;
    }
    free(bins);
    m->c.tensors = m->tensors;
    m->c.ntensors = nt;
    return 0;
}

/* Magic and version of the first len bytes (len < HEAD_BYTES: what there is). 0 or -1 with err. */
static int check_head(const uint8_t *buf, size_t len, char *err, size_t el) {
    if (len < 8 || memcmp(buf, MF_MAGIC, 8) != 0) {
        if (len < 8 && (len == 0 || memcmp(buf, MF_MAGIC, len) == 0))
            return fail(err, el, "truncated model file (%zu bytes)", len);
        return fail(err, el, "not a model file (no \"SVGEMDL\" magic at the start; see formats/model.md)");
    }
    if (len < HEAD_BYTES) return fail(err, el, "truncated model file (%zu bytes)", len);
    uint32_t version = get_le32(buf + 8);
    if (version != MF_FORMAT_VERSION)
        return fail(err, el, "format version %u is not supported (this tool reads version %u)", version, MF_FORMAT_VERSION);
    return 0;
}

/* Where the body's msgpack map says the file ends (body + checksum), or 0 if the body is malformed
 * or continues past len (then *more is set). */
static size_t declared_end(const uint8_t *buf, size_t len, int *more, char *why, size_t wl) {
    size_t olen = 0;
    int r = mpscan_object(buf + HEAD_BYTES, len - HEAD_BYTES, MF_MAX_FILE_BYTES, MF_MAX_ITEMS, &olen, why, wl);
    *more = r == MPSCAN_NEED_MORE;
    return r == MPSCAN_OK ? HEAD_BYTES + olen + TAIL_BYTES : 0;
}

/* The checksum failed: a truncated file, a valid model with bytes after it, or corruption. */
static int bad_checksum(const uint8_t *buf, size_t len, uint64_t stored, uint64_t sum, char *err, size_t el) {
    char why[256];
    int more;
    size_t end = declared_end(buf, len, &more, why, sizeof why);
    if (end && end < len && get_le64(buf + end - TAIL_BYTES) == mf_fnv1a64(buf, end - TAIL_BYTES))
        return fail(err, el, "%zu stray byte(s) after the end of the model (byte %zu)", len - end, end);
    if (more) return fail(err, el, "checksum mismatch: the file is truncated (%zu bytes: its body goes on past the end) or corrupt", len);
    if (end > len)
        return fail(err, el, "checksum mismatch: the file is truncated (%zu bytes: its body and checksum take %zu) or corrupt", len, end);
    return fail(err, el, "checksum mismatch (stored %016llx, computed %016llx): the file is corrupt or truncated",
                (unsigned long long)stored, (unsigned long long)sum);
}

model_file *mf_parse(const uint8_t *buf, size_t len, const char *name, char *err, size_t el) {
    if (check_head(buf, len < HEAD_BYTES ? len : HEAD_BYTES, err, el)) return NULL;
    if (len < HEAD_BYTES + TAIL_BYTES + 1) {
        fail(err, el, "truncated model file (%zu bytes)", len);
        return NULL;
    }
    uint64_t stored = get_le64(buf + len - TAIL_BYTES), sum = mf_fnv1a64(buf, len - TAIL_BYTES);
    if (stored != sum) {
        bad_checksum(buf, len, stored, sum, err, el);
        return NULL;
    }
    /* Structure and limits first (no allocation from lengths), then msgpack-c builds the objects. */
    const uint8_t *body = buf + HEAD_BYTES;
    size_t blen = len - HEAD_BYTES - TAIL_BYTES, olen = 0;
    char why[256];
    int res = mpscan_object(body, blen, blen, MF_MAX_ITEMS, &olen, why, sizeof why);
    if (res == MPSCAN_ERROR) {
        fail(err, el, "header: %s", why);
        return NULL;
    }
    if (res != MPSCAN_OK) {
        fail(err, el, "header: truncated msgpack");
        return NULL;
    }
    if (olen != blen) {
        fail(err, el, "%zu stray bytes after the header", blen - olen);
        return NULL;
    }
    msgpack_unpacked unp;
    msgpack_unpacked_init(&unp);
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&unp, (const char *)body, blen, &off);
    if (ret != MSGPACK_UNPACK_SUCCESS || off != blen) {
        msgpack_unpacked_destroy(&unp);
        fail(err, el, ret == MSGPACK_UNPACK_NOMEM_ERROR ? "header: nested too deeply" : "header: malformed msgpack");
        return NULL;
    }
    model_file *m = xcalloc(1, sizeof *m);
    m->name = xstrdup(name ? name : "model");
    int bad = parse_body(m, &unp.data, err, el);
    msgpack_unpacked_destroy(&unp);
    if (bad) {
        mf_free(m);
        return NULL;
    }
    snprintf(m->id, sizeof m->id, "%016llx", (unsigned long long)sum);
    return m;
}

/* Up to n bytes into p (fewer only at the end of input). */
static size_t read_upto(int fd, uint8_t *p, size_t n, const char *name) {
    size_t got = 0, k;
    while (got < n && (k = read_some(fd, p + got, n - got, name)) > 0) got += k;
    return got;
}

/* The header with a bounded read (magic and version first: /dev/zero fails at once), then the body
 * in growing reads until its msgpack lengths say where it ends, then the checksum and one byte more
 * (a longer file is refused). Never more than MF_MAX_FILE_BYTES, nor past a regular file's size. */
model_file *mf_read(const char *path) {
    int fd = open_input(path);
    const char *name = input_name(path);
    char err[512], why[256];
    uint8_t head[HEAD_BYTES];
    size_t len = read_upto(fd, head, HEAD_BYTES, name);
    if (check_head(head, len, err, sizeof err)) die(EXIT_DATA, "%s: %s", name, err);
    struct stat st;
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular && (uint64_t)st.st_size > MF_MAX_FILE_BYTES)
        die(EXIT_DATA, "%s: %lld bytes: larger than a model file may be (%zu)", name, (long long)st.st_size,
            MF_MAX_FILE_BYTES);
    size_t cap = 1 << 16;
    if (regular && (size_t)st.st_size < cap) cap = (size_t)st.st_size + 1; /* +1: see the end in one read */
    if (cap < HEAD_BYTES + 1) cap = HEAD_BYTES + 1;
    uint8_t *buf = xmalloc(cap);
    memcpy(buf, head, HEAD_BYTES);
    size_t end, want, limit = regular ? (size_t)st.st_size + 1 : MF_MAX_FILE_BYTES + 1;
    int more, eof = 0;
    for (;;) {
        end = declared_end(buf, len, &more, why, sizeof why);
        if (end) want = end + 1; /* one byte past the checksum: is there more? */
        else if (!more && !regular) die(EXIT_DATA, "%s: corrupt model file: header: %s", name, why);
        else want = 2 * cap; /* not known yet (or corrupt: a regular file is read whole for its checksum) */
        if (want > limit) want = limit;
        if (eof || len >= want) break;
        if (want > cap) buf = xrealloc(buf, cap = want);
        size_t k = read_upto(fd, buf + len, want - len, name);
        eof = k < want - len;
        len += k;
    }
    if (len > MF_MAX_FILE_BYTES) {
        free(buf);
        die(EXIT_DATA, "%s: larger than a model file may be (%zu bytes)", name, MF_MAX_FILE_BYTES);
    }
    if (fd > 0) close(fd);
    if (end && len > end) { /* a whole model, then more: refused unless the model itself is bad */
        model_file *m = mf_parse(buf, end, name, err, sizeof err);
        if (m) {
            mf_free(m);
            free(buf);
            if (regular)
                die(EXIT_DATA, "%s: %lld bytes, but the model ends at byte %zu: %lld stray byte(s) after it", name,
                    (long long)st.st_size, end, (long long)st.st_size - (long long)end);
            die(EXIT_DATA, "%s: stray bytes after the end of the model (byte %zu)", name, end);
        }
        free(buf);
        die(EXIT_DATA, "%s: %s", name, err);
    }
    model_file *m = mf_parse(buf, len, name, err, sizeof err);
    free(buf);
    if (!m) die(EXIT_DATA, "%s: %s", name, err);
    return m;
}

const char *mf_name(const model_file *m) { return m->name; }
const char *mf_id(const model_file *m) { return m->id; }
const mf_contents *mf_contents_of(const model_file *m) { return &m->c; }

const mf_value *mf_find(const model_file *m, mf_section s, const char *key) {
    for (size_t i = 0; i < m->c.nsec[s]; i++)
        if (strcmp(m->c.sec[s][i].key, key) == 0) return &m->c.sec[s][i];
    return NULL;
}

const mf_tensor *mf_find_tensor(const model_file *m, const char *name) {
    for (size_t i = 0; i < m->c.ntensors; i++)
        if (strcmp(m->c.tensors[i].name, name) == 0) return &m->c.tensors[i];
    return NULL;
}

static const char *const g_secname[3] = {"config", "meta", "state"};

static const mf_value *get(const model_file *m, mf_section s, const char *key) {
    const mf_value *v = mf_find(m, s, key);
    if (!v) die(EXIT_DATA, "%s: no \"%s\" in the %s section", m->name, key, g_secname[s]);
    return v;
}

int64_t mf_get_int(const model_file *m, mf_section s, const char *key) {
    const mf_value *v = get(m, s, key);
    if (v->kind != MF_INT) die(EXIT_DATA, "%s: %s \"%s\" is not an integer", m->name, g_secname[s], key);
    return v->i;
}

double mf_get_float(const model_file *m, mf_section s, const char *key) {
    const mf_value *v = get(m, s, key);
    if (v->kind == MF_INT) return (double)v->i;
    if (v->kind != MF_FLOAT) die(EXIT_DATA, "%s: %s \"%s\" is not a number", m->name, g_secname[s], key);
    return v->f;
}

const char *mf_get_str(const model_file *m, mf_section s, const char *key) {
    const mf_value *v = get(m, s, key);
    if (v->kind != MF_STR) die(EXIT_DATA, "%s: %s \"%s\" is not a string", m->name, g_secname[s], key);
    return v->p;
}

/* "[3,4]" into buf. */
static void fmt_shape(char *buf, size_t n, int ndim, const uint64_t *shape) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%llu", d ? "," : "", (unsigned long long)shape[d]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

int mf_check_tensor(const model_file *m, const char *name, int ndim, const uint64_t *shape, char *err, size_t el) {
    const mf_tensor *t = mf_find_tensor(m, name);
    if (!t) return fail(err, el, "no tensor \"%s\" in the model", name);
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (same) return 0;
    char have[160], want[160];
    fmt_shape(have, sizeof have, t->ndim, t->shape);
    fmt_shape(want, sizeof want, ndim, shape);
    return fail(err, el, "tensor \"%s\" has shape %s, this model needs %s", name, have, want);
}

const float *mf_get_tensor(const model_file *m, const char *name, int ndim, const uint64_t *shape) {
    char err[512];
    if (mf_check_tensor(m, name, ndim, shape, err, sizeof err)) die(EXIT_DATA, "%s: %s", m->name, err);
    return mf_find_tensor(m, name)->data;
}
