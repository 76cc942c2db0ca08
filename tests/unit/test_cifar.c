/* test_cifar.c: lib/cifar.c on the shipped subsets and on malformed inputs.
 * Usage: test_cifar DATA_CIFAR_DIR   (the folder holding train_small.jpgrec and test_small.jpgrec)
 *
 * The subsets: record counts, labels k % 10 (so 100 / 500 per class), pixel range, normalization.
 * Bad inputs, written to a fresh temporary folder: bad magic, header count beyond the file,
 * truncated record, label 12, a zero length, a JPEG without its SOI marker, a JPEG cut in half,
 * a 16x16 and a grayscale JPEG (encoded here with libjpeg), trailing bytes, a missing file; each
 * must give the right exit code and a message naming the record. The CIFAR-10 binary batch format
 * is read from a small batch written here. cifar_load's die() is checked in a child process.
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include "cifar.h"
#include "util.h"

#include "check.h"

#include <jpeglib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];
static char errbuf[1024];

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static const char *write_tmp(const char *name, const void *data, size_t len) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) { perror(path); exit(2); }
    return path;
}

/* .jpgrec image of records given as (label, jpeg, len) triples; count written as hdr_n. */
typedef struct { uint8_t *b; size_t len, cap; } bytes;

static void put(bytes *o, const void *p, size_t n) {
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2;
        o->b = realloc(o->b, o->cap);
        if (!o->b) { perror("realloc"); exit(2); }
    }
    memcpy(o->b + o->len, p, n);
    o->len += n;
}

static void put_header(bytes *o, uint32_t n) {
    uint8_t h[12] = {'C', 'I', 'F', 'J', 'P', 'G', '0', '1', (uint8_t)n, (uint8_t)(n >> 8),
                     (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    put(o, h, 12);
}

static void put_record(bytes *o, unsigned label, const uint8_t *jpg, size_t L) {
    uint8_t h[3] = {(uint8_t)label, (uint8_t)L, (uint8_t)(L >> 8)};
    put(o, h, 3);
    put(o, jpg, L);
}

/* Encode a w x h image with libjpeg (comps 3: RGB, 1: grayscale) into a malloc'd buffer. */
static uint8_t *encode_jpeg(int w, int h, int comps, unsigned long *len) {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    unsigned char *out = NULL;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &out, len);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = comps;
    ci.in_color_space = comps == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 95, TRUE);
    jpeg_start_compress(&ci, TRUE);
    unsigned char row[64 * 3];
    while (ci.next_scanline < ci.image_height) {
        for (int k = 0; k < w * comps; k++) row[k] = (unsigned char)(100 + (k % 3) * 40); // flat colour
        JSAMPROW rp = row;
        jpeg_write_scanlines(&ci, &rp, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return out;
}

/* cifar_read on a file must fail with code and a message containing want. */
static void expect_fail(const char *what, const char *path, int code, const char *want) {
    cifar_set s;
    int rc = cifar_read(&s, path, 0, errbuf, sizeof errbuf);
    int ok = rc == code && strstr(errbuf, want) != NULL && s.n == 0 && s.pixels == NULL;
    char msg[1400];
    snprintf(msg, sizeof msg, "%s: expected exit %d and \"%s\", got %d \"%s\"", what, code, want, rc, errbuf);
    check(ok, __LINE__, msg);
}

static void test_subset(const char *dir, const char *name, int n_want) {
    char path[512], what[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cifar_set s;
    int rc = cifar_read(&s, path, 0, errbuf, sizeof errbuf);
    snprintf(what, sizeof what, "%s: reads (%s)", name, errbuf);
    check(rc == 0, __LINE__, what);
    if (rc) return;
    snprintf(what, sizeof what, "%s: %d images (got %d)", name, n_want, s.n);
    check(s.n == n_want, __LINE__, what);
    int per[10] = {0}, interleaved = 1;
    for (int k = 0; k < s.n; k++) {
        per[s.labels[k]]++;
        if (s.labels[k] != k % 10) interleaved = 0;
    }
    int balanced = 1;
    for (int c = 0; c < 10; c++) balanced &= per[c] == n_want / 10;
    snprintf(what, sizeof what, "%s: %d images per class", name, n_want / 10);
    check(balanced, __LINE__, what);
    snprintf(what, sizeof what, "%s: label of record k is k %% 10", name);
    check(interleaved, __LINE__, what);
    /* pixels: the full byte range is used, and the mean is a natural-image mean (not 0, not gray) */
    int lo = 255, hi = 0;
    double mean[3] = {0};
    for (int k = 0; k < s.n; k++)
        for (int c = 0; c < 3; c++)
            for (int q = 0; q < 1024; q++) {
                int v = s.pixels[(size_t)k * CIFAR_PIXELS + c * 1024 + q];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
                mean[c] += v / 255.0 / (1024.0 * s.n);
            }
    snprintf(what, sizeof what, "%s: pixels span 0..255 (got %d..%d)", name, lo, hi);
    check(lo == 0 && hi == 255, __LINE__, what);
    int close_mean = 1;
    for (int c = 0; c < 3; c++) close_mean &= fabs(mean[c] - CIFAR_MEAN[c]) < 0.03;
    snprintf(what, sizeof what, "%s: channel means %.3f %.3f %.3f near CIFAR-10's", name, mean[0],
             mean[1], mean[2]);
    check(close_mean, __LINE__, what);
    /* normalized batch: values within the affine image of [0,1], overall mean near 0, std near 1 */
    int nb = 100;
    float *x = malloc((size_t)nb * CIFAR_PIXELS * sizeof(float));
    int *y = malloc((size_t)nb * sizeof(int));
    int idx[100];
    for (int k = 0; k < nb; k++) idx[k] = (k * 37) % s.n;
    cifar_batch(x, y, &s, idx, nb);
    double sum = 0, sum2 = 0;
    int in_range = 1, labels_ok = 1;
    for (int k = 0; k < nb; k++) {
        labels_ok &= y[k] == s.labels[idx[k]];
        for (int c = 0; c < 3; c++)
            for (int q = 0; q < 1024; q++) {
                float v = x[(size_t)k * CIFAR_PIXELS + c * 1024 + q];
                float want = (s.pixels[(size_t)idx[k] * CIFAR_PIXELS + c * 1024 + q] / 255.0f - CIFAR_MEAN[c]) / CIFAR_STD[c];
                if (fabsf(v - want) > 1e-5f) in_range = 0;
                sum += v; sum2 += (double)v * v;
            }
    }
    double m = sum / (nb * 3072.0), sd = sqrt(sum2 / (nb * 3072.0) - m * m);
    snprintf(what, sizeof what, "%s: batch normalized as (p/255 - mean)/std, labels gathered", name);
    check(in_range && labels_ok, __LINE__, what);
    snprintf(what, sizeof what, "%s: normalized batch mean %.3f std %.3f near 0, 1", name, m, sd);
    check(fabs(m) < 0.25 && fabs(sd - 1) < 0.25, __LINE__, what);
    free(x); free(y);
    cifar_free(&s);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_cifar DATA_CIFAR_DIR\n");
        return 2;
    }
    tool_init("test_cifar");
    const char *dir = argv[1];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_cifar.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }

    test_subset(dir, "test_small.jpgrec", 1000);
    test_subset(dir, "train_small.jpgrec", 5000);

    /* max_n: only the first records */
    char path[512];
    snprintf(path, sizeof path, "%s/test_small.jpgrec", dir);
    cifar_set s, s20;
    CHECK(cifar_read(&s, path, 0, errbuf, sizeof errbuf) == 0);
    CHECK(cifar_read(&s20, path, 20, errbuf, sizeof errbuf) == 0 && s20.n == 20);
    CHECK(s.n == 1000 && memcmp(s.pixels, s20.pixels, 20 * CIFAR_PIXELS) == 0);
    cifar_free(&s20);

    /* the real records, to build bad files from: record 0 and record 1 of test_small */
    size_t flen;
    uint8_t *f = read_all(path, &flen);
    const uint8_t *r0 = f + 12, *j0 = r0 + 3;
    size_t L0 = (size_t)r0[1] | (size_t)r0[2] << 8;
    const uint8_t *r1 = j0 + L0, *j1 = r1 + 3;
    size_t L1 = (size_t)r1[1] | (size_t)r1[2] << 8;

    bytes o = {0};
    put_header(&o, 2); put_record(&o, r0[0], j0, L0); put_record(&o, r1[0], j1, L1);
    {   // a well-formed 2-record file reads back the same pixels as the subset
        cifar_set t;
        int rc = cifar_read(&t, write_tmp("good.jpgrec", o.b, o.len), 0, errbuf, sizeof errbuf);
        CHECK(rc == 0 && t.n == 2 && t.labels[1] == 1 && memcmp(t.pixels, s.pixels, 2 * CIFAR_PIXELS) == 0);
        if (rc == 0) cifar_free(&t);
    }
    o.b[7] = '2'; // "CIFJPG02"
    expect_fail("bad magic", write_tmp("magic.jpgrec", o.b, o.len), EXIT_DATA, "bad magic");
    expect_fail("truncated header", write_tmp("hdr.jpgrec", o.b, 10), EXIT_DATA, "bad magic");
    o.b[7] = '1';
    expect_fail("header only", write_tmp("hdronly.jpgrec", o.b, 11), EXIT_DATA, "truncated header");
    expect_fail("truncated record", write_tmp("trunc.jpgrec", o.b, o.len - 100), EXIT_DATA,
                "record 1: truncated");
    expect_fail("truncated record header", write_tmp("trunc2.jpgrec", o.b, 12 + 3 + L0 + 2),
                EXIT_DATA, "record 1: truncated");
    expect_fail("count beyond the file", write_tmp("trail.jpgrec", f, 12 + 3 + L0 + 3 + L1 + 5),
                EXIT_DATA, "header says 1000 records but the file has only");
    {
        bytes t = {0};
        put_header(&t, 2); put_record(&t, r0[0], j0, L0); put_record(&t, r1[0], j1, L1);
        put(&t, "xyz", 3);
        expect_fail("trailing bytes", write_tmp("trail2.jpgrec", t.b, t.len), EXIT_DATA,
                    "3 trailing bytes");
        t.b[8] = 0xff; t.b[9] = 0xff; t.b[10] = 0xff; t.b[11] = 0x7f; // N = 2^31-1: bounded before allocation
        expect_fail("huge count", write_tmp("huge.jpgrec", t.b, t.len), EXIT_DATA, "records but the file has only");
        t.b[8] = 0; t.b[9] = 0; t.b[10] = 0; t.b[11] = 0;
        expect_fail("zero count", write_tmp("zero.jpgrec", t.b, t.len), EXIT_DATA, "0 records");
        free(t.b);
    }
    o.b[12 + 3 + L0] = 12; // record 1's label
    expect_fail("label 12", write_tmp("label.jpgrec", o.b, o.len), EXIT_DATA, "record 1: label 12");
    o.b[12 + 3 + L0] = 1;
    {
        bytes t = {0};
        put_header(&t, 2); put_record(&t, 0, j0, L0); put_record(&t, 1, j1, 0); put(&t, "abcd", 4);
        expect_fail("zero length", write_tmp("len0.jpgrec", t.b, t.len), EXIT_DATA, "record 1: empty JPEG");
        free(t.b);
    }
    {   // corrupt JPEG bytes: no SOI marker; a JPEG cut in half (libjpeg only warns: an error here)
        uint8_t *bad = malloc(L1);
        memcpy(bad, j1, L1);
        bad[0] = 0x12; bad[1] = 0x34;
        bytes t = {0};
        put_header(&t, 2); put_record(&t, 0, j0, L0); put_record(&t, 1, bad, L1);
        expect_fail("corrupt JPEG", write_tmp("soi.jpgrec", t.b, t.len), EXIT_DATA, "record 1: corrupt JPEG");
        t.len = 0;
        put_header(&t, 2); put_record(&t, 0, j0, L0); put_record(&t, 1, j1, L1 / 2);
        expect_fail("half JPEG", write_tmp("half.jpgrec", t.b, t.len), EXIT_DATA, "record 1: corrupt JPEG");
        /* random bytes anywhere (header or entropy-coded data; JPEG has no checksum, so garbage
         * in the image data may decode silently): never a crash, and an error names the record */
        int robust = 1, errors = 0;
        unsigned seed = 12345;
        for (size_t at = 0; at + 8 <= L1; at += 16) {
            memcpy(bad, j1, L1);
            for (int q = 0; q < 8; q++) bad[at + q] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
            t.len = 0;
            put_header(&t, 1); put_record(&t, 3, bad, L1);
            cifar_set u;
            int rc = cifar_read(&u, write_tmp("garbage.jpgrec", t.b, t.len), 0, errbuf, sizeof errbuf);
            if (rc == 0) cifar_free(&u);
            else if (rc != EXIT_DATA || !strstr(errbuf, "record 0: ")) robust = 0;
            else errors++;
        }
        CHECK(robust);     // random bytes: a clean success or a clean record error
        CHECK(errors > 0); // and some of them (at least those in the headers) are caught
        free(bad); free(t.b);
    }
    {   // wrong geometry: 16x16 RGB, 32x32 grayscale, 32x32 RGB fine (and flat colour decodes flat)
        unsigned long l16, lg, l32;
        uint8_t *p16 = encode_jpeg(16, 16, 3, &l16), *pg = encode_jpeg(32, 32, 1, &lg);
        uint8_t *p32 = encode_jpeg(32, 32, 3, &l32);
        bytes t = {0};
        put_header(&t, 2); put_record(&t, 0, j0, L0); put_record(&t, 1, p16, l16);
        expect_fail("16x16 JPEG", write_tmp("small.jpgrec", t.b, t.len), EXIT_DATA,
                    "record 1: JPEG is 16x16 with 3 components (expected 32x32 with 3)");
        t.len = 0;
        put_header(&t, 1); put_record(&t, 4, pg, lg);
        expect_fail("grayscale JPEG", write_tmp("gray.jpgrec", t.b, t.len), EXIT_DATA,
                    "record 0: JPEG is 32x32 with 1 component");
        t.len = 0;
        put_header(&t, 1); put_record(&t, 4, p32, l32);
        cifar_set u;
        int rc = cifar_read(&u, write_tmp("made.jpgrec", t.b, t.len), 0, errbuf, sizeof errbuf);
        CHECK(rc == 0 && u.n == 1 && u.labels[0] == 4);
        if (rc == 0) {
            int ok = 1;
            for (int c = 0; c < 3; c++)
                for (int q = 0; q < 1024; q++)
                    if (abs(u.pixels[c * 1024 + q] - (100 + 40 * c)) > 3) ok = 0;
            CHECK(ok); // RGB planes in R, G, B order
            cifar_free(&u);
        }
        free(p16); free(pg); free(p32); free(t.b);
    }
    expect_fail("missing file", "/nonexistent/dir/x.jpgrec", EXIT_IO, "cannot open");

    {   // CIFAR-10 binary batch: 3 records of 1 label + 3072 bytes (R, G, B planes)
        size_t R = 3073, nb = 3;
        uint8_t *bb = malloc(R * nb);
        for (size_t k = 0; k < nb; k++) {
            bb[k * R] = (uint8_t)(7 + k);
            for (size_t q = 0; q < 3072; q++) bb[k * R + 1 + q] = (uint8_t)(q * 7 + k);
        }
        bb[2 * R] = 2;
        cifar_set u;
        int rc = cifar_read(&u, write_tmp("data_batch_1.bin", bb, R * nb), 0, errbuf, sizeof errbuf);
        CHECK(rc == 0 && u.n == 3 && u.labels[0] == 7 && u.labels[1] == 8 && u.labels[2] == 2);
        if (rc == 0) {
            CHECK(memcmp(u.pixels + CIFAR_PIXELS, bb + R + 1, 3072) == 0);
            cifar_free(&u);
        }
        bb[R] = 10;
        expect_fail("binary label 10", write_tmp("bad_batch.bin", bb, R * nb), EXIT_DATA, "record 1: label 10");
        expect_fail("binary wrong size", write_tmp("short_batch.bin", bb, R * nb - 1), EXIT_DATA,
                    "not a multiple of 3073");
        expect_fail("empty file", write_tmp("empty.bin", bb, 0), EXIT_DATA, "bad magic");
        free(bb);
    }
    {   // cifar_load dies with exit 1 and "record 1: label 12" (checked in a child)
        o.b[12 + 3 + L0] = 12;
        const char *lp = write_tmp("label_die.jpgrec", o.b, o.len);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stderr)) _exit(9);
            cifar_set u;
            cifar_load(&u, lp, 0);
            _exit(0);
        }
        int st = 0;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == EXIT_DATA);
    }
    free(o.b);
    free(f);
    cifar_free(&s);

    /* clean up the temporary folder */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary();
}
