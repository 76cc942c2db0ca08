/* cifar.c: CIFAR-10 readers (see cifar.h): .jpgrec files decoded with libjpeg(-turbo) from memory,
 * and the standard binary batches. The whole file is read into memory first (46 MB for the full
 * training set), then parsed with every length checked against what is left before it is used. */
#include "cifar.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

const float CIFAR_MEAN[3] = {125.3f / 255.0f, 123.0f / 255.0f, 113.9f / 255.0f};
const float CIFAR_STD[3] = {63.0f / 255.0f, 62.1f / 255.0f, 66.7f / 255.0f};

/* Largest file accepted: the full training set as binary batches is 50,000 * 3073 = 154 MB. */
#define CIFAR_MAX_FILE ((size_t)1 << 30)
#define JPGREC_MAGIC "CIFJPG01"
#define JPGREC_HEADER 12     /* magic + uint32 N */
#define JPGREC_REC_HEADER 3  /* uint8 label + uint16 L */
#define BIN_RECORD (1 + CIFAR_PIXELS)

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* The whole file into *buf (xmalloc'd), its size in *len. 0 or EXIT_IO / EXIT_DATA (too large). */
static int slurp(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return fail(err, errlen, EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    size_t cap = 1 << 16;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > CIFAR_MAX_FILE) {
            close(fd);
            return fail(err, errlen, EXIT_DATA, "%s: file of %lld bytes is larger than the %zu allowed",
                        path, (long long)st.st_size, CIFAR_MAX_FILE);
        }
        cap = (size_t)st.st_size + 1; // +1: reaching it means the file grew; also never 0
    }
    uint8_t *b = xmalloc(cap);
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > CIFAR_MAX_FILE) {
                free(b);
                close(fd);
                return fail(err, errlen, EXIT_DATA, "%s: larger than the %zu bytes allowed", path,
                            CIFAR_MAX_FILE);
            }
            cap *= 2;
            b = xrealloc(b, cap);
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(b);
            close(fd);
            return fail(err, errlen, EXIT_IO, "%s: read error: %s", path, strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = n;
    return 0;
}

/* ---- libjpeg with an error manager that returns instead of exiting ----
 * libjpeg's default error_exit calls exit(); ours longjmps back to decode_jpeg with the message.
 * Warnings (emit_message level -1: corrupt or truncated data that libjpeg would paper over with
 * gray pixels) are treated the same way: a damaged image is an error, not a silent gray patch. */
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_err_exit(j_common_ptr ci) {
    jpeg_err *e = (jpeg_err *)ci->err;
    (*ci->err->format_message)(ci, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_err_emit(j_common_ptr ci, int level) {
    if (level >= 0) return; // trace messages
    jpeg_err_exit(ci);
}

/* Decode one JPEG of len bytes into chw (3,32,32) bytes. 0, or -1 with a message in msg. */
static int decode_jpeg(const uint8_t *data, size_t len, uint8_t *chw, char *msg, size_t msglen) {
    struct jpeg_decompress_struct ci;
    jpeg_err je;
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jpeg_err_exit;
    je.pub.emit_message = jpeg_err_emit;
    je.msg[0] = 0;
    if (setjmp(je.jump)) {
        jpeg_destroy_decompress(&ci);
        snprintf(msg, msglen, "corrupt JPEG: %s", je.msg);
        return -1;
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, data, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    if (ci.image_width != CIFAR_SIDE || ci.image_height != CIFAR_SIDE || ci.num_components != 3) {
        snprintf(msg, msglen, "JPEG is %ux%u with %d component%s (expected 32x32 with 3)",
                 (unsigned)ci.image_width, (unsigned)ci.image_height, ci.num_components,
                 ci.num_components == 1 ? "" : "s");
        jpeg_destroy_decompress(&ci);
        return -1;
    }
    ci.out_color_space = JCS_RGB;
    jpeg_start_decompress(&ci);
    if (ci.output_width != CIFAR_SIDE || ci.output_height != CIFAR_SIDE || ci.output_components != 3) {
        snprintf(msg, msglen, "JPEG does not decode to 32x32 RGB");
        jpeg_destroy_decompress(&ci);
        return -1;
    }
    uint8_t row[CIFAR_SIDE * 3];
    while (ci.output_scanline < ci.output_height) {
        int y = (int)ci.output_scanline;
        JSAMPROW rp = row;
        if (jpeg_read_scanlines(&ci, &rp, 1) != 1) {
            snprintf(msg, msglen, "JPEG ends early");
            jpeg_destroy_decompress(&ci);
            return -1;
        }
        // interleaved RGB -> three planes
        for (int x = 0; x < CIFAR_SIDE; x++)
            for (int c = 0; c < 3; c++)
                chw[c * CIFAR_SIDE * CIFAR_SIDE + y * CIFAR_SIDE + x] = row[x * 3 + c];
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    return 0;
}

static void set_alloc(cifar_set *set, size_t n) {
    set->n = (int)n;
    set->pixels = xmalloc(n * CIFAR_PIXELS + 1);
    set->labels = xmalloc(n + 1);
}

/* .jpgrec body: b (len bytes) starts with the magic. */
static int parse_jpgrec(cifar_set *set, const char *path, const uint8_t *b, size_t len, int max_n,
                        char *err, size_t errlen) {
    if (len < JPGREC_HEADER)
        return fail(err, errlen, EXIT_DATA, "%s: truncated header (%zu bytes)", path, len);
    uint32_t N = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    if (N == 0) return fail(err, errlen, EXIT_DATA, "%s: header says 0 records", path);
    // bound N by the file before allocating: a record takes at least 4 bytes (3 + a 1-byte JPEG)
    size_t body = len - JPGREC_HEADER;
    if (N > body / (JPGREC_REC_HEADER + 1))
        return fail(err, errlen, EXIT_DATA, "%s: header says %u records but the file has only %zu bytes",
                    path, (unsigned)N, len);
    size_t n = (max_n > 0 && (uint32_t)max_n < N) ? (size_t)max_n : N;
    set_alloc(set, n);
    size_t pos = JPGREC_HEADER;
    char msg[JMSG_LENGTH_MAX + 64];
    for (size_t k = 0; k < n; k++) {
        if (len - pos < JPGREC_REC_HEADER)
            return fail(err, errlen, EXIT_DATA, "%s: record %zu: truncated (file ends at byte %zu)",
                        path, k, len);
        unsigned label = b[pos];
        size_t L = (size_t)b[pos + 1] | (size_t)b[pos + 2] << 8; // uint16: at most 65535 by construction
        pos += JPGREC_REC_HEADER;
        if (label >= CIFAR_CLASSES)
            return fail(err, errlen, EXIT_DATA, "%s: record %zu: label %u (expected 0..9)", path, k, label);
        if (L == 0) return fail(err, errlen, EXIT_DATA, "%s: record %zu: empty JPEG (length 0)", path, k);
        if (L > len - pos)
            return fail(err, errlen, EXIT_DATA,
                        "%s: record %zu: truncated: JPEG length %zu but only %zu bytes left", path, k,
                        L, len - pos);
        if (decode_jpeg(b + pos, L, set->pixels + k * CIFAR_PIXELS, msg, sizeof msg) != 0)
            return fail(err, errlen, EXIT_DATA, "%s: record %zu: %s", path, k, msg);
        set->labels[k] = (uint8_t)label;
        pos += L;
    }
    if (n == N && pos != len)
        return fail(err, errlen, EXIT_DATA, "%s: %zu trailing bytes after the %u records", path,
                    len - pos, (unsigned)N);
    return 0;
}

/* CIFAR-10 binary batch: len a non-zero multiple of 3073 (checked by the caller). */
static int parse_binary(cifar_set *set, const char *path, const uint8_t *b, size_t len, int max_n,
                        char *err, size_t errlen) {
    size_t N = len / BIN_RECORD;
    if (N > (size_t)0x7fffffff) return fail(err, errlen, EXIT_DATA, "%s: too many records", path);
    size_t n = (max_n > 0 && (size_t)max_n < N) ? (size_t)max_n : N;
    set_alloc(set, n);
    for (size_t k = 0; k < n; k++) {
        const uint8_t *r = b + k * BIN_RECORD;
        if (r[0] >= CIFAR_CLASSES)
            return fail(err, errlen, EXIT_DATA, "%s: record %zu: label %u (expected 0..9)", path, k,
                        (unsigned)r[0]);
        set->labels[k] = r[0];
        memcpy(set->pixels + k * CIFAR_PIXELS, r + 1, CIFAR_PIXELS); // already R,G,B planes
    }
    return 0;
}

void cifar_free(cifar_set *set) {
    free(set->pixels);
    free(set->labels);
    set->pixels = set->labels = NULL;
    set->n = 0;
}

int cifar_read(cifar_set *set, const char *path, int max_n, char *err, size_t errlen) {
    set->n = 0;
    set->pixels = set->labels = NULL;
    if (err && errlen) err[0] = 0;
    uint8_t *b;
    size_t len;
    int rc = slurp(path, &b, &len, err, errlen);
    if (rc) return rc;
    if (len >= 8 && memcmp(b, JPGREC_MAGIC, 8) == 0)
        rc = parse_jpgrec(set, path, b, len, max_n, err, errlen);
    else if (len > 0 && len % BIN_RECORD == 0)
        rc = parse_binary(set, path, b, len, max_n, err, errlen);
    else
        rc = fail(err, errlen, EXIT_DATA,
                  "%s: bad magic (not \"CIFJPG01\") and the size, %zu bytes, is not a multiple of "
                  "3073 (a CIFAR-10 binary batch)", path, len);
    free(b);
    if (rc) cifar_free(set);
    return rc;
}

void cifar_load(cifar_set *set, const char *path, int max_n) {
    char err[512];
    int rc = cifar_read(set, path, max_n, err, sizeof err);
    if (rc) die(rc, "%s", err);
}

void cifar_normalize(float *out, const uint8_t *pixels, int count) {
    // out (count,3,32,32), pixels (count,3,32,32): (p/255 - mean[c]) / std[c]
    enum { PLANE = CIFAR_SIDE * CIFAR_SIDE };
    for (int c = 0; c < 3; c++) {
        // a lookup table per channel: 256 values instead of a divide per pixel
        float lut[256];
        for (int v = 0; v < 256; v++) lut[v] = ((float)v / 255.0f - CIFAR_MEAN[c]) / CIFAR_STD[c];
        for (int k = 0; k < count; k++) {
            const uint8_t *p = pixels + (size_t)k * CIFAR_PIXELS + c * PLANE;
            float *o = out + (size_t)k * CIFAR_PIXELS + c * PLANE;
            for (int q = 0; q < PLANE; q++) o[q] = lut[p[q]];
        }
    }
}

void cifar_batch(float *x, int *y, const cifar_set *set, const int *idx, int count) {
    // x (count,3,32,32), y (count)
    for (int k = 0; k < count; k++) {
        int i = idx ? idx[k] : k;
        cifar_normalize(x + (size_t)k * CIFAR_PIXELS, set->pixels + (size_t)i * CIFAR_PIXELS, 1);
        if (y) y[k] = set->labels[i];
    }
}
