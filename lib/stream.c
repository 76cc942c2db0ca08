/* stream.c: record stream reader and writer (see stream.h and formats/records.md). */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "mpscan.h"
#include "outfile.h"
#include "util.h"

/* ---------------------------------------------------------------- reader */

#define IN_CHUNK (128u << 10) /* compressed bytes per read() */

struct rec_reader {
    int fd;
    char *name;
    ZSTD_DCtx *dctx;
    uint8_t *in;             /* compressed input buffer [IN_CHUNK] */
    ZSTD_inBuffer zin;
    size_t zret;             /* last ZSTD_decompressStream result: 0 = at a frame boundary */
    uint64_t bytes_in;       /* compressed bytes read so far */
    int eof;                 /* read() returned 0 */
    uint8_t *buf;            /* decompressed msgpack bytes: records live in [start, end) */
    size_t cap, start, end;
    size_t cur_start, cur_len; /* raw bytes of the record last returned */
    uint64_t count;          /* records returned */
    msgpack_unpacked unp;
};

rec_reader *rr_open(const char *path) {
    int fd = open_input(path);
    rec_reader *r = xcalloc(1, sizeof *r);
    r->fd = fd;
    r->name = xstrdup(input_name(path));
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) die(EXIT_IO, "out of memory (zstd)");
    r->in = xmalloc(IN_CHUNK);
    r->zin.src = r->in;
    r->cap = ZSTD_DStreamOutSize() * 2;
    r->buf = xmalloc(r->cap);
    msgpack_unpacked_init(&r->unp);
    return r;
}

void rr_close(rec_reader *r) {
    if (!r) return;
    note(VERB_VERBOSE, "%s: %llu records read", r->name, (unsigned long long)r->count);
    if (r->fd > 0) close(r->fd);
    msgpack_unpacked_destroy(&r->unp);
    ZSTD_freeDCtx(r->dctx);
    free(r->in);
    free(r->buf);
    free(r->name);
    free(r);
}

const char *rr_name(const rec_reader *r) { return r->name; }
uint64_t rr_count(const rec_reader *r) { return r->count; }

const char *rr_raw(const rec_reader *r, size_t *len) {
    *len = r->cur_len;
    return (const char *)r->buf + r->cur_start;
}

_Noreturn void rr_fail(const rec_reader *r, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(EXIT_DATA, "%s: record %llu: %s", r->name, (unsigned long long)r->count, msg);
}

/* Die about the record being read (number count+1). */
static _Noreturn void fail_next(const rec_reader *r, const char *msg) {
    die(EXIT_DATA, "%s: record %llu: %s", r->name, (unsigned long long)r->count + 1, msg);
}

/* Decompress more bytes into buf[end..]. Returns 1 if bytes were added, 0 at a clean end of input.
 * Dies on read errors, corrupt zstd, or input that ends inside a frame. */
static int fill(rec_reader *r) {
    if (r->start > 0) { /* keep only the unread part */
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < ZSTD_DStreamOutSize()) {
        r->cap = r->cap * 2;
        r->buf = xrealloc(r->buf, r->cap);
    }
    for (;;) {
        if (r->zin.pos == r->zin.size && !r->eof) {
            size_t n = read_some(r->fd, r->in, IN_CHUNK, r->name);
            if (n == 0) {
                r->eof = 1;
            } else {
                if (r->bytes_in == 0 && n >= 4 && !(r->in[0] == 0x28 && r->in[1] == 0xb5 && r->in[2] == 0x2f &&
                                                   r->in[3] == 0xfd) && (r->in[0] & 0xf0) != 0x50)
                    die(EXIT_DATA, "%s: not a record stream (no zstd frame at the start; see formats/records.md)",
                        r->name);
                r->bytes_in += n;
                r->zin.size = n;
                r->zin.pos = 0;
            }
        }
        if (r->zin.pos == r->zin.size && r->eof) {
            if (r->zret != 0) { /* mid-frame: the decoder may still hold output */
                ZSTD_outBuffer rest = {r->buf + r->end, r->cap - r->end, 0};
                size_t ret = ZSTD_decompressStream(r->dctx, &rest, &r->zin);
                if (!ZSTD_isError(ret)) r->zret = ret;
                r->end += rest.pos;
                if (rest.pos > 0) return 1;
            }
            if (r->bytes_in == 0) die(EXIT_DATA, "%s: empty input: not a record stream", r->name);
            if (r->zret != 0)
                die(EXIT_DATA, "%s: truncated stream: input ends inside a zstd frame (after record %llu)", r->name,
                    (unsigned long long)r->count);
            return 0;
        }
        ZSTD_outBuffer out = {r->buf + r->end, r->cap - r->end, 0};
        size_t ret = ZSTD_decompressStream(r->dctx, &out, &r->zin);
        if (ZSTD_isError(ret))
            die(EXIT_DATA, "%s: corrupt stream after record %llu: %s", r->name, (unsigned long long)r->count,
                ZSTD_getErrorName(ret));
        r->zret = ret;
        r->end += out.pos;
        if (out.pos > 0) return 1;
    }
}

static int key_is(const msgpack_object *k, const char *s) {
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, s, n) == 0;
}

/* Check what every record must be: a map with string keys, no key twice, "v" == 1. */
static void check_record(const rec_reader *r, const msgpack_object *o) {
    char msg[256];
    const msgpack_object_kv *kv = o->via.map.ptr;
    uint32_t n = o->via.map.size;
    const msgpack_object *v = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (kv[i].key.type != MSGPACK_OBJECT_STR) {
            snprintf(msg, sizeof msg, "key %u is not a string", i + 1);
            fail_next(r, msg);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (kv[j].key.via.str.size == kv[i].key.via.str.size &&
                memcmp(kv[j].key.via.str.ptr, kv[i].key.via.str.ptr, kv[i].key.via.str.size) == 0) {
                snprintf(msg, sizeof msg, "field \"%.*s\" appears twice", (int)(kv[i].key.via.str.size > 64 ? 64 : kv[i].key.via.str.size),
                         kv[i].key.via.str.ptr);
                fail_next(r, msg);
            }
        }
        if (key_is(&kv[i].key, "v")) v = &kv[i].val;
    }
    if (!v) fail_next(r, "no \"v\" field: not a record of this format (see formats/records.md)");
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) fail_next(r, "field \"v\" is not a positive integer");
    if (v->via.u64 != STREAM_FORMAT_VERSION) {
        snprintf(msg, sizeof msg, "format version %llu is not supported (this tool reads version %d)",
                 (unsigned long long)v->via.u64, STREAM_FORMAT_VERSION);
        fail_next(r, msg);
    }
}

const msgpack_object *rr_next(rec_reader *r) {
    char why[256];
    size_t len = 0;
    int ended = 0; /* the input has ended */
    r->start += r->cur_len; /* drop the record last returned */
    r->cur_len = 0;
    for (;;) {
        int res = r->end > r->start
                      ? mpscan_object(r->buf + r->start, r->end - r->start, STREAM_MAX_RECORD_BYTES,
                                      STREAM_MAX_RECORD_ITEMS, &len, why, sizeof why)
                      : MPSCAN_NEED_MORE;
        if (res == MPSCAN_OK) break;
        if (res == MPSCAN_ERROR) fail_next(r, why);
        if (ended) {
            snprintf(why, sizeof why, "truncated: the stream ends inside the record (%zu bytes of it present)",
                     r->end - r->start);
            fail_next(r, why);
        }
        /* Need more: grow the unread part at least twofold so rescans stay cheap. */
        size_t have = r->end - r->start, want = have * 2 + 1;
        while (r->end - r->start < want) {
            if (!fill(r)) {
                if (r->end == r->start) return NULL; /* clean end between records */
                ended = 1; /* scan what there is once more */
                break;
            }
            if (have == 0) break;
        }
    }
    uint8_t first = r->buf[r->start];
    if (!((first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf)) {
        snprintf(why, sizeof why, "not a map but %s %s", strchr("aeiou", mpscan_kind(first)[0]) ? "an" : "a",
                 mpscan_kind(first));
        fail_next(r, why);
    }
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&r->unp, (const char *)r->buf + r->start, len, &off);
    if (ret != MSGPACK_UNPACK_SUCCESS || off != len)
        fail_next(r, ret == MSGPACK_UNPACK_NOMEM_ERROR ? "msgpack: out of memory or nested too deeply"
                                                       : "malformed msgpack");
    check_record(r, &r->unp.data);
    r->cur_start = r->start;
    r->cur_len = len;
    r->count++;
    return &r->unp.data;
}

/* ---------------------------------------------------------------- writer */

#define OUT_FLUSH (1u << 20) /* compress once this many msgpack bytes are pending */

struct rec_writer {
    int fd;
    outfile *of;            /* the file by name (NULL for stdout) */
    char *path;
    ZSTD_CCtx *cctx;
    msgpack_sbuffer sbuf;   /* packed records not yet compressed */
    size_t committed;       /* sbuf bytes that form whole records */
    msgpack_packer pk;
    uint8_t *out;
    size_t outcap;
    uint64_t count;
    int closed;
};

static void write_all(rec_writer *w, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            w->closed = 1; /* a temporary file is removed on the way out (lib/outfile.h) */
            die(EXIT_IO, "%s: write error: %s", w->path ? w->path : "stdout", strerror(e));
        }
        p += k;
        n -= (size_t)k;
    }
}

/* Compress sbuf[0..committed) with the given directive and write it out. */
static void compress_pending(rec_writer *w, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in = {w->sbuf.data, w->committed, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->out, w->outcap, 0};
        size_t left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
        if (ZSTD_isError(left)) die(EXIT_IO, "zstd compression failed: %s", ZSTD_getErrorName(left));
        write_all(w, w->out, out.pos);
        if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0) break;
    }
    /* keep any partial record packed after the last boundary */
    if (w->sbuf.size > w->committed)
        memmove(w->sbuf.data, w->sbuf.data + w->committed, w->sbuf.size - w->committed);
    w->sbuf.size -= w->committed;
    w->committed = 0;
}

/* Exit hook: on a fatal error, end the stream after the last whole record (stdout) or remove the
 * temporary file (files appear whole or not at all). */
static void writer_on_die(void *arg) {
    rec_writer *w = arg;
    if (w->closed) return;
    w->closed = 1;
    if (w->of) {
        of_abort(w->of);
        w->of = NULL;
        return;
    }
    w->sbuf.size = w->committed;
    compress_pending(w, ZSTD_e_end);
}

rec_writer *rw_open(const char *path, int level) {
    rec_writer *w = xcalloc(1, sizeof *w);
    if (!path || strcmp(path, "-") == 0) {
        w->fd = 1;
    } else {
        w->of = of_open(path, 0);
        w->fd = of_fd(w->of);
        w->path = xstrdup(path);
    }
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) die(EXIT_IO, "out of memory (zstd)");
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level ? level : 3);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    msgpack_sbuffer_init(&w->sbuf);
    msgpack_packer_init(&w->pk, &w->sbuf, msgpack_sbuffer_write);
    w->outcap = ZSTD_CStreamOutSize();
    w->out = xmalloc(w->outcap);
    on_die(writer_on_die, w);
    return w;
}

msgpack_packer *rw_packer(rec_writer *w) { return &w->pk; }
uint64_t rw_count(const rec_writer *w) { return w->count; }

void rw_end_record(rec_writer *w) {
    w->committed = w->sbuf.size;
    w->count++;
    if (w->committed >= OUT_FLUSH) compress_pending(w, ZSTD_e_continue);
}

void rw_write_raw(rec_writer *w, const char *buf, size_t len) {
    msgpack_sbuffer_write(&w->sbuf, buf, len);
    rw_end_record(w);
}

void rw_close(rec_writer *w) {
    if (!w) return;
    if (!w->closed) {
        w->sbuf.size = w->committed;
        compress_pending(w, ZSTD_e_end);
        w->closed = 1;
        if (w->of) {
            outfile *f = w->of;
            w->of = NULL;
            of_commit(f);
        }
        note(VERB_VERBOSE, "%s: %llu records written", w->path ? w->path : "stdout", (unsigned long long)w->count);
    }
    on_die_remove(writer_on_die, w);
    ZSTD_freeCCtx(w->cctx);
    msgpack_sbuffer_destroy(&w->sbuf);
    free(w->out);
    free(w->path);
    free(w);
}
