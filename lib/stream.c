/* stream.c: record stream reader and writer (see stream.h and formats/records.md). */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader: the window size for a message */
#include <zstd.h>
#include <zstd_errors.h>

#include "json_common.h"
#include "mpscan.h"
#include "opts.h"
#include "outfile.h"
#include "utf8.h"
#include "util.h"

/* ---------------------------------------------------------------- reader */

#define IN_CHUNK (128u << 10)       /* compressed bytes per read() */
#define WINDOW_LOG_MAX 27           /* zstd window: 128 MiB at most (zstd's own default limit) */

struct rec_reader {
    int fd;
    char *name;
    ZSTD_DCtx *dctx;
    uint8_t *in;             /* compressed input buffer [IN_CHUNK] */
    ZSTD_inBuffer zin;
    size_t zret;             /* last ZSTD_decompressStream result: 0 = at a frame boundary */
    uint8_t hdr[ZSTD_FRAMEHEADERSIZE_MAX]; /* the start of the current frame, for messages */
    size_t hdrlen;
    uint64_t frames;         /* frames begun */
    uint64_t bytes_in;       /* compressed bytes read so far */
    int eof;                 /* read() returned 0 */
    int unverified;          /* the current frame outgrew STREAM_MAX_VERIFIED_FRAME */
    uint8_t *buf;            /* decompressed msgpack bytes: [start, ready) checked by their frame's
                              * checksum (or of an unverified frame), [ready, end) not yet */
    size_t cap, start, ready, end;
    size_t cur_start, cur_len; /* raw bytes of the record last returned */
    uint64_t count;          /* records returned */
    msgpack_unpacked unp;
    int err_code;            /* a deferred error: raised by the next rr_next or rr_close */
    char *err;
    rec_reader *next_open;   /* the list of open readers, for the exit check */
};

static rec_reader *g_open;

/* Exit check: a tool that stopped at rr_next's NULL and exited without rr_close still fails. */
static void raise_at_exit(void) {
    for (rec_reader *r = g_open; r; r = r->next_open)
        if (r->err_code) die_at_exit(r->err_code, "%s", r->err);
}

rec_reader *rr_open(const char *path) {
    static int hooked;
    int fd = open_input(path);
    rec_reader *r = xcalloc(1, sizeof *r);
    r->fd = fd;
    r->name = xstrdup(input_name(path));
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) die(EXIT_IO, "out of memory (zstd)");
    ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
    r->in = xmalloc(IN_CHUNK);
    r->zin.src = r->in;
    r->cap = ZSTD_DStreamOutSize() * 2;
    r->buf = xmalloc(r->cap);
    msgpack_unpacked_init(&r->unp);
    if (!hooked) atexit(raise_at_exit);
    hooked = 1;
    r->next_open = g_open;
    g_open = r;
    return r;
}

/* Die with the deferred error, once. */
static void raise_deferred(rec_reader *r) {
    if (!r->err_code) return;
    int code = r->err_code;
    r->err_code = 0;
    die(code, "%s", r->err);
}

/* Die with any open reader's deferred error (rw_close: no output is finished as if whole). */
static void raise_all_deferred(void) {
    for (rec_reader *r = g_open; r; r = r->next_open) raise_deferred(r);
}

void rr_close(rec_reader *r) {
    if (!r) return;
    raise_deferred(r);
    note(VERB_VERBOSE, "%s: %llu records read", r->name, (unsigned long long)r->count);
    for (rec_reader **p = &g_open; *p; p = &(*p)->next_open)
        if (*p == r) {
            *p = r->next_open;
            break;
        }
    if (r->fd > 0) close(r->fd);
    msgpack_unpacked_destroy(&r->unp);
    ZSTD_freeDCtx(r->dctx);
    free(r->in);
    free(r->buf);
    free(r->err);
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

/* Keep an error for later: "<input>: message". Always returns -1. */
static int defer(rec_reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int defer(rec_reader *r, int code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(r->name) + strlen(msg) + 3;
    r->err = xrealloc(r->err, n);
    snprintf(r->err, n, "%s: %s", r->name, msg);
    r->err_code = code;
    return -1;
}

/* Defer an error about the record being read (number count+1). */
static int fail_next(rec_reader *r, const char *msg) {
    return defer(r, EXIT_DATA, "record %llu: %s", (unsigned long long)r->count + 1, msg);
}

/* A zstd error, said plainly: a frame whose window is over the limit is not corrupt. */
static int zstd_failed(rec_reader *r, size_t ret) {
    if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge) {
        ZSTD_frameHeader fh;
        char need[64] = "a window";
        if (ZSTD_getFrameHeader(&fh, r->hdr, r->hdrlen) == 0)
            snprintf(need, sizeof need, "a %llu MiB window", (unsigned long long)(fh.windowSize >> 20));
        return defer(r, EXIT_DATA,
                     "zstd frame %llu needs %s to decode (written with zstd --long?); the limit is %u MiB: "
                     "recompress it, e.g. zstd -dc --long=31 FILE | zstd -c > NEW.zst",
                     (unsigned long long)r->frames, need, 1u << (WINDOW_LOG_MAX - 20));
    }
    return defer(r, EXIT_DATA, "corrupt stream in zstd frame %llu (after record %llu; no record of that frame "
                 "was passed on): %s", (unsigned long long)r->frames, (unsigned long long)r->count,
                 ZSTD_getErrorName(ret));
}

/* Decompress until more checked bytes are ready: the rest of a frame, whose checksum zstd verifies
 * at its end, before any of it is released. A frame that outgrows STREAM_MAX_VERIFIED_FRAME is
 * released as it comes instead (its checksum is still checked at its end). Returns 1 if bytes
 * became ready, 0 at a clean end of input, -1 on an error (deferred). */
static int fill(rec_reader *r) {
    if (r->start > 0) { /* keep only the unread part */
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->ready -= r->start;
        r->start = 0;
    }
    for (;;) {
        if (r->cap - r->end < ZSTD_DStreamOutSize()) {
            r->cap = r->cap * 2;
            r->buf = xrealloc(r->buf, r->cap);
        }
        if (r->zin.pos == r->zin.size && !r->eof) {
            size_t n = read_some(r->fd, r->in, IN_CHUNK, r->name);
            if (n == 0) {
                r->eof = 1;
            } else {
                if (r->bytes_in == 0 && n >= 4 && !(r->in[0] == 0x28 && r->in[1] == 0xb5 && r->in[2] == 0x2f &&
                                                   r->in[3] == 0xfd) && (r->in[0] & 0xf0) != 0x50)
                    return defer(r, EXIT_DATA, "not a record stream (no zstd frame at the start; see formats/records.md)");
                r->bytes_in += n;
                r->zin.size = n;
                r->zin.pos = 0;
            }
        }
        if (r->zin.pos == r->zin.size && r->eof && r->zret == 0) {
            if (r->bytes_in == 0) return defer(r, EXIT_DATA, "empty input: not a record stream");
            return 0;
        }
        if (r->zret == 0 && r->zin.pos < r->zin.size) { /* a frame begins */
            r->hdrlen = r->zin.size - r->zin.pos < sizeof r->hdr ? r->zin.size - r->zin.pos : sizeof r->hdr;
            memcpy(r->hdr, r->in + r->zin.pos, r->hdrlen);
            r->frames++;
        }
        size_t room = r->cap - r->end, held = r->end - r->ready;
        if (!r->unverified && room > STREAM_MAX_VERIFIED_FRAME + 1 - held)
            room = STREAM_MAX_VERIFIED_FRAME + 1 - held; /* so that the bound is noticed */
        ZSTD_outBuffer out = {r->buf + r->end, room, 0};
        size_t ret = ZSTD_decompressStream(r->dctx, &out, &r->zin);
        if (ZSTD_isError(ret)) return zstd_failed(r, ret);
        r->zret = ret;
        r->end += out.pos;
        if (ret == 0) { /* the frame ended and its checksum matched */
            r->unverified = 0;
            if (r->end > r->ready) {
                r->ready = r->end;
                return 1;
            }
            continue;
        }
        if (!r->unverified && r->end - r->ready > STREAM_MAX_VERIFIED_FRAME) {
            r->unverified = 1;
            note(VERB_NORMAL, "%s: zstd frame %llu holds more than %u MiB: its records are passed on before its "
                 "checksum is checked", r->name, (unsigned long long)r->frames, STREAM_MAX_VERIFIED_FRAME >> 20);
        }
        if (r->unverified && r->end > r->ready) {
            r->ready = r->end;
            return 1;
        }
        if (r->zin.pos == r->zin.size && r->eof && out.pos == 0)
            return defer(r, EXIT_DATA, "truncated stream: input ends inside zstd frame %llu (after record %llu; "
                         "no record of that frame was passed on)", (unsigned long long)r->frames,
                         (unsigned long long)r->count);
    }
}

static int key_is(const msgpack_object *k, const char *s) {
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, s, n) == 0;
}

/* Where a problem is: the keys and array indices down to it, formatted only for a message. */
typedef struct {
    const msgpack_object *key[MPSCAN_MAX_DEPTH + 1]; /* NULL: an array index */
    uint32_t idx[MPSCAN_MAX_DEPTH + 1];
    int depth;
} obj_path;

/* msg = 'field "a"[2]."b": ' + problem (the problem alone for the record itself). Returns -1. */
static int path_fail(const obj_path *p, char *msg, size_t cap, const char *problem) {
    size_t at = 0;
    msg[0] = 0;
    for (int i = 0; i < p->depth && at + 8 < cap; i++) {
        if (i == 0) at += (size_t)snprintf(msg, cap, "field ");
        if (p->key[i]) {
            if (i > 0) msg[at++] = '.';
            msg[at++] = '"';
            at = json_msg_put(msg, cap - 2, at, p->key[i]->via.str.ptr, p->key[i]->via.str.size);
            msg[at++] = '"';
            msg[at] = 0;
        } else {
            at += (size_t)snprintf(msg + at, cap - at, "[%u]", p->idx[i]);
        }
    }
    if (at < cap) snprintf(msg + at, cap - at, "%s%s", p->depth ? ": " : "", problem);
    return -1;
}

static int utf8_fail(const obj_path *p, char *msg, size_t cap, const char *what, const msgpack_object *o) {
    const unsigned char *u = (const unsigned char *)o->via.str.ptr;
    size_t bad = utf8_invalid_at(u, o->via.str.size);
    if (bad == o->via.str.size) return 0;
    char problem[96];
    snprintf(problem, sizeof problem, "%s is not valid UTF-8 (byte 0x%02x at offset %zu)", what, u[bad], bad);
    return path_fail(p, msg, cap, problem);
}

/* What every string and map in a record must be, at any depth: strings valid UTF-8 (msgpack bin is
 * exempt), map keys strings and none twice. 0 if so; else -1 and the problem in msg. Depth is
 * bounded by mpscan (MPSCAN_MAX_DEPTH). */
static int check_object(const msgpack_object *o, obj_path *p, char *msg, size_t cap) {
    char problem[128];
    int d = p->depth;
    if (o->type == MSGPACK_OBJECT_STR) return utf8_fail(p, msg, cap, "string", o);
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        p->depth = d + 1;
        p->key[d] = NULL;
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            const msgpack_object *e = &o->via.array.ptr[i];
            if (e->type != MSGPACK_OBJECT_STR && e->type != MSGPACK_OBJECT_ARRAY && e->type != MSGPACK_OBJECT_MAP)
                continue;
            p->idx[d] = i;
            if (check_object(e, p, msg, cap)) return -1;
        }
        p->depth = d;
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_MAP) return 0;
    const msgpack_object_kv *kv = o->via.map.ptr;
    uint32_t n = o->via.map.size;
    for (uint32_t i = 0; i < n; i++) {
        if (kv[i].key.type != MSGPACK_OBJECT_STR) {
            snprintf(problem, sizeof problem, "key %u is not a string", i + 1);
            return path_fail(p, msg, cap, problem);
        }
        if (utf8_fail(p, msg, cap, d ? "a key" : "a field name", &kv[i].key)) return -1;
    }
    json_key_ref small[16], *keys = n <= 16 ? small : xmalloc(n * sizeof *keys);
    for (uint32_t i = 0; i < n; i++) keys[i] = (json_key_ref){kv[i].key.via.str.ptr, kv[i].key.via.str.size, i};
    long dup = json_first_duplicate(keys, n);
    if (keys != small) free(keys);
    if (dup >= 0) {
        char key[64];
        json_msg_put(key, sizeof key, 0, kv[dup].key.via.str.ptr, kv[dup].key.via.str.size);
        snprintf(problem, sizeof problem, d ? "key \"%s\" appears twice in a map" : "field \"%s\" appears twice", key);
        return path_fail(p, msg, cap, problem);
    }
    p->depth = d + 1;
    for (uint32_t i = 0; i < n; i++) {
        p->key[d] = &kv[i].key;
        if (check_object(&kv[i].val, p, msg, cap)) return -1;
    }
    p->depth = d;
    return 0;
}

/* Check what every record must be: a map as above, with "v" == 1. 0 if so. */
static int check_record(rec_reader *r, const msgpack_object *o) {
    char msg[320];
    obj_path p;
    p.depth = 0;
    if (check_object(o, &p, msg, sizeof msg)) return fail_next(r, msg);
    const msgpack_object *v = NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++)
        if (key_is(&o->via.map.ptr[i].key, "v")) v = &o->via.map.ptr[i].val;
    if (!v) return fail_next(r, "no \"v\" field: not a record of this format (see formats/records.md)");
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return fail_next(r, "field \"v\" is not a positive integer");
    if (v->via.u64 != STREAM_FORMAT_VERSION) {
        snprintf(msg, sizeof msg, "format version %llu is not supported (this tool reads version %d)",
                 (unsigned long long)v->via.u64, STREAM_FORMAT_VERSION);
        return fail_next(r, msg);
    }
    return 0;
}

const msgpack_object *rr_next(rec_reader *r) {
    char why[256];
    size_t len = 0;
    int ended = 0; /* the input has ended */
    raise_deferred(r);
    r->start += r->cur_len; /* drop the record last returned */
    r->cur_len = 0;
    for (;;) {
        int res = r->ready > r->start
                      ? mpscan_object(r->buf + r->start, r->ready - r->start, STREAM_MAX_RECORD_BYTES,
                                      STREAM_MAX_RECORD_ITEMS, &len, why, sizeof why)
                      : MPSCAN_NEED_MORE;
        if (res == MPSCAN_OK) break;
        if (res == MPSCAN_ERROR) return fail_next(r, why), NULL;
        if (ended) {
            snprintf(why, sizeof why, "truncated: the stream ends inside the record (%zu bytes of it present)",
                     r->ready - r->start);
            return fail_next(r, why), NULL;
        }
        /* Need more: grow the unread part at least twofold so rescans stay cheap. */
        size_t have = r->ready - r->start, want = have * 2 + 1;
        while (r->ready - r->start < want) {
            int got = fill(r);
            if (got < 0) return NULL;
            if (got == 0) {
                if (r->ready == r->start) return NULL; /* clean end between records */
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
        return fail_next(r, why), NULL;
    }
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&r->unp, (const char *)r->buf + r->start, len, &off);
    if (ret != MSGPACK_UNPACK_SUCCESS || off != len)
        return fail_next(r, ret == MSGPACK_UNPACK_NOMEM_ERROR ? "msgpack: out of memory" : "malformed msgpack"), NULL;
    if (check_record(r, &r->unp.data)) return NULL;
    r->cur_start = r->start;
    r->cur_len = len;
    r->count++;
    return &r->unp.data;
}

/* ---------------------------------------------------------------- writer */


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
        if (isatty(1) && !opt_force()) {
            free(w);
            die(EXIT_USAGE, "stdout is a terminal: refusing to write a binary record stream (pipe it into a "
                "tool, e.g. stream-to-jsonl, or give --force)");
        }
        w->fd = 1;
    } else {
        w->of = of_open(path, 0);
        w->fd = of_fd(w->of);
        w->path = xstrdup(path);
    }
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) die(EXIT_IO, "out of memory (zstd)");
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level ? level : STREAM_DEFAULT_LEVEL);
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

/* A frame ends after the record that brings it to STREAM_FRAME_BYTES, so that a reader can check
 * each frame's checksum before it passes on any of its records. */
void rw_end_record(rec_writer *w) {
    w->committed = w->sbuf.size;
    w->count++;
    if (w->committed >= STREAM_FRAME_BYTES) compress_pending(w, ZSTD_e_end);
}

void rw_write_raw(rec_writer *w, const char *buf, size_t len) {
    msgpack_sbuffer_write(&w->sbuf, buf, len);
    rw_end_record(w);
}

void rw_close(rec_writer *w) {
    if (!w) return;
    if (!w->closed) {
        raise_all_deferred(); /* an input error: files are removed, stdout ends after its records */
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
