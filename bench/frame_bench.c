/* frame_bench: the cost of bounded zstd frames (lib/stream.c) against one frame.
 *
 *   frame_bench [FILE]
 *
 * Reads a record stream (FILE or stdin; e.g. graph-parse nb101), keeps its msgpack bytes, then
 * compresses them at the writer's level (3, with checksums) as one frame and as the writer does
 * (a frame ended after the record that brings it to STREAM_FRAME_BYTES), and decompresses each.
 * Prints per layout: frames, compressed bytes, ratio, compression and decompression MB/s (of
 * msgpack bytes, best of 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "stream.h"
#include "util.h"

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Compress src in chunks that end after the record crossing STREAM_FRAME_BYTES, as the writer does:
 * each chunk ends a frame (bounded), or only the last does (one frame, the writer before). */
static size_t compress(const bytes *src, const size_t *ends, size_t nrec, int bounded, bytes *out,
                       size_t *frames) {
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    out->n = 0;
    *frames = 0;
    size_t from = 0;
    uint8_t buf[1 << 16];
    for (size_t i = 0; i < nrec; i++) {
        int last = i + 1 == nrec;
        if (!last && ends[i] - from < STREAM_FRAME_BYTES) continue;
        ZSTD_EndDirective mode = bounded || last ? ZSTD_e_end : ZSTD_e_continue;
        ZSTD_inBuffer in = {src->p + from, ends[i] - from, 0};
        size_t left;
        do {
            ZSTD_outBuffer o = {buf, sizeof buf, 0};
            left = ZSTD_compressStream2(c, &o, &in, mode);
            if (ZSTD_isError(left)) die(EXIT_IO, "zstd: %s", ZSTD_getErrorName(left));
            put(out, buf, o.pos);
        } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
        from = ends[i];
        *frames += mode == ZSTD_e_end;
    }
    ZSTD_freeCCtx(c);
    return out->n;
}

static void decompress(const bytes *z, size_t want) {
    ZSTD_DCtx *d = ZSTD_createDCtx();
    static uint8_t buf[1 << 17];
    ZSTD_inBuffer in = {z->p, z->n, 0};
    size_t got = 0;
    while (in.pos < in.size) {
        ZSTD_outBuffer o = {buf, sizeof buf, 0};
        size_t r = ZSTD_decompressStream(d, &o, &in);
        if (ZSTD_isError(r)) die(EXIT_DATA, "zstd: %s", ZSTD_getErrorName(r));
        got += o.pos;
    }
    if (got != want) die(EXIT_DATA, "decompressed %zu bytes, want %zu", got, want);
    ZSTD_freeDCtx(d);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    if (argc > 2) die_usage("usage: frame_bench [FILE]");
    rec_reader *r = rr_open(argc == 2 ? argv[1] : NULL);
    bytes src = {0}, z = {0};
    size_t *ends = NULL, nrec = 0, cap = 0;
    while (rr_next(r)) {
        size_t len;
        const char *raw = rr_raw(r, &len);
        put(&src, raw, len);
        if (nrec == cap) ends = xrealloc(ends, (cap = cap ? 2 * cap : 1024) * sizeof *ends);
        ends[nrec++] = src.n;
    }
    rr_close(r);
    if (!nrec) die(EXIT_DATA, "no records");
    for (int k = 0; k < 2; k++) {
        double best_c = 1e30, best_d = 1e30;
        size_t frames = 0;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_seconds();
            compress(&src, ends, nrec, k, &z, &frames);
            double t1 = now_seconds();
            decompress(&z, src.n);
            double t2 = now_seconds();
            if (t1 - t0 < best_c) best_c = t1 - t0;
            if (t2 - t1 < best_d) best_d = t2 - t1;
        }
        printf("frames %-13s %zu records, %.1f MB msgpack: %6zu frames, %9zu bytes, ratio %.3f, "
               "compress %.0f MB/s, decompress %.0f MB/s\n",
               k ? "bounded 1 MiB" : "one", nrec, src.n / 1e6, frames, z.n, (double)src.n / (double)z.n,
               src.n / 1e6 / best_c, src.n / 1e6 / best_d);
    }
    free(src.p);
    free(z.p);
    free(ends);
    return EXIT_OK;
}
