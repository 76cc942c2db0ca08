/* textin.c: line reader over plain or zstd-compressed text (see textin.h). */
#include "textin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "util.h"

#define RAW_CHUNK (256u << 10)

struct text_reader {
    int fd;
    char *name;
    int zst;           /* input is zstd-compressed */
    int started, eof;
    ZSTD_DCtx *dctx;
    size_t zret;
    uint8_t *raw;      /* bytes as read */
    ZSTD_inBuffer zin;
    char *buf;         /* text: unread lines in [start, end) */
    size_t cap, start, end;
    size_t max_line;
    uint64_t line;
};

text_reader *tr_open(const char *path) { return tr_open_max(path, TEXT_MAX_LINE); }

text_reader *tr_open_max(const char *path, size_t max_line) {
    int fd = open_input(path);
    text_reader *t = xcalloc(1, sizeof *t);
    t->fd = fd;
    t->name = xstrdup(input_name(path));
    t->raw = xmalloc(RAW_CHUNK);
    t->zin.src = t->raw;
    t->max_line = max_line;
    t->cap = max_line + 2 * RAW_CHUNK;
    t->buf = xmalloc(t->cap);
    return t;
}

void tr_close(text_reader *t) {
    if (!t) return;
    if (t->fd > 0) close(t->fd);
    ZSTD_freeDCtx(t->dctx);
    free(t->raw);
    free(t->buf);
    free(t->name);
    free(t);
}

uint64_t tr_lineno(const text_reader *t) { return t->line; }
const char *tr_name(const text_reader *t) { return t->name; }

_Noreturn void tr_fail(const text_reader *t, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(EXIT_DATA, "%s: line %llu: %s", t->name, (unsigned long long)t->line, msg);
}

/* Append more text to buf[end..]. Returns 0 at the end of input. */
static int fill(text_reader *t) {
    if (t->start > 0) {
        memmove(t->buf, t->buf + t->start, t->end - t->start);
        t->end -= t->start;
        t->start = 0;
    }
    for (;;) {
        if (t->zin.pos == t->zin.size && !t->eof) {
            size_t n = read_some(t->fd, t->raw, RAW_CHUNK, t->name);
            if (n == 0) t->eof = 1;
            t->zin.size = n;
            t->zin.pos = 0;
            if (!t->started && n > 0) {
                t->started = 1;
                if (n >= 4 && t->raw[0] == 0x28 && t->raw[1] == 0xb5 && t->raw[2] == 0x2f && t->raw[3] == 0xfd) {
                    t->zst = 1;
                    t->dctx = ZSTD_createDCtx();
                    if (!t->dctx) die(EXIT_IO, "out of memory (zstd)");
                } else if (n >= 2 && t->raw[0] == 0x1f && t->raw[1] == 0x8b) {
                    die(EXIT_DATA, "%s: gzip-compressed; decompress it first (zcat FILE | %s ... -)", t->name,
                        tool_name());
                }
            }
        }
        size_t room = t->cap - t->end - 1; /* one byte spare for tr_line's NUL */
        if (t->zin.pos == t->zin.size && t->eof) {
            if (t->zst && t->zret != 0) { /* mid-frame: the decoder may still hold output */
                ZSTD_outBuffer out = {t->buf + t->end, room, 0};
                size_t ret = ZSTD_decompressStream(t->dctx, &out, &t->zin);
                if (!ZSTD_isError(ret)) t->zret = ret;
                t->end += out.pos;
                if (out.pos > 0) return 1;
                if (t->zret != 0) die(EXIT_DATA, "%s: truncated zstd input (ends inside a frame)", t->name);
            }
            return 0;
        }
        if (!t->zst) {
            size_t n = t->zin.size - t->zin.pos;
            if (n > room) n = room;
            memcpy(t->buf + t->end, t->raw + t->zin.pos, n);
            t->zin.pos += n;
            t->end += n;
            return 1;
        }
        ZSTD_outBuffer out = {t->buf + t->end, room, 0};
        size_t ret = ZSTD_decompressStream(t->dctx, &out, &t->zin);
        if (ZSTD_isError(ret)) die(EXIT_DATA, "%s: corrupt zstd input: %s", t->name, ZSTD_getErrorName(ret));
        t->zret = ret;
        t->end += out.pos;
        if (out.pos > 0) return 1;
    }
}

char *tr_line(text_reader *t, size_t *len) {
    size_t scanned = 0;
    for (;;) {
        char *s = t->buf + t->start;
        char *nl = memchr(s + scanned, '\n', t->end - t->start - scanned);
        if (nl || (t->eof && t->zin.pos == t->zin.size && t->end > t->start)) {
            size_t n = nl ? (size_t)(nl - s) : t->end - t->start;
            t->line++;
            if (n > t->max_line) tr_fail(t, "longer than %zu MiB", t->max_line >> 20);
            if (memchr(s, 0, n)) tr_fail(t, "contains a NUL byte (binary input?)");
            t->start += nl ? n + 1 : n;
            if (n > 0 && s[n - 1] == '\r') n--;
            s[n] = 0; /* overwrites the '\n' (or spare room at the end) */
            *len = n;
            return s;
        }
        scanned = t->end - t->start;
        if (scanned > t->max_line) {
            t->line++;
            tr_fail(t, "longer than %zu MiB", t->max_line >> 20);
        }
        if (!fill(t) && t->end == t->start) return NULL;
    }
}

int csv_split(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n < max) fields[n] = p;
        n++;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    return n;
}
