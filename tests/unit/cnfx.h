/* cnfx.h: reader for the tensor files of tests/fixtures/cellnet/ (format in its README.md), for the
 * unit tests. Header-only like check.h:
 *
 *   cnfx_file f;
 *   if (cnfx_load(&f, "tests/fixtures/cellnet/tiny_a.cnfx") != 0) ...   // message on stderr
 *   const cnfx_tensor *w = cnfx_get(&f, "stem.conv.weight");             // NULL if absent
 *   ... w->f[i] (float32 tensors), w->i[i] (int32), w->dims[0..ndim), w->n elements
 *   cnfx_close("what", c_values, w->f, w->n)                             // 1 if within tolerance
 *   cnfx_free(&f);
 *
 * Assumes a little-endian host (x86-64, aarch64), as the files are little-endian. */
#ifndef SVGE_TEST_CNFX_H
#define SVGE_TEST_CNFX_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CNFX_F32 = 0, CNFX_I32 = 1, CNFX_MAX_DIMS = 8 };

typedef struct {
    char name[128];
    uint32_t dtype, ndim, dims[CNFX_MAX_DIMS];
    size_t n;      /* number of elements */
    float *f;      /* dtype CNFX_F32 */
    int32_t *i;    /* dtype CNFX_I32 */
} cnfx_tensor;

typedef struct {
    uint32_t count;
    cnfx_tensor *t;
} cnfx_file;

static inline void cnfx_free(cnfx_file *cf) {
    if (!cf->t) return;
    for (uint32_t k = 0; k < cf->count; k++) free(cf->t[k].f), free(cf->t[k].i);
    free(cf->t);
    cf->t = NULL, cf->count = 0;
}

static inline int cnfx_u32(FILE *fp, uint32_t *v) { return fread(v, 4, 1, fp) == 1 ? 0 : -1; }

/* 0, or -1 after a message on stderr (cannot open, bad magic, truncated, absurd sizes). */
static inline int cnfx_load(cnfx_file *cf, const char *path) {
    memset(cf, 0, sizeof *cf);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "cnfx: cannot open %s\n", path);
        return -1;
    }
    char magic[8];
    uint32_t count;
    if (fread(magic, 1, 8, fp) != 8 || memcmp(magic, "CNFX0001", 8) != 0 || cnfx_u32(fp, &count) ||
        count > 100000)
        goto bad;
    cf->t = calloc(count ? count : 1, sizeof *cf->t);
    if (!cf->t) goto bad;
    cf->count = count;
    for (uint32_t k = 0; k < count; k++) {
        cnfx_tensor *t = &cf->t[k];
        uint32_t len;
        if (cnfx_u32(fp, &len) || len >= sizeof t->name || fread(t->name, 1, len, fp) != len) goto bad;
        t->name[len] = 0;
        if (cnfx_u32(fp, &t->dtype) || t->dtype > CNFX_I32 || cnfx_u32(fp, &t->ndim) || t->ndim > CNFX_MAX_DIMS)
            goto bad;
        t->n = 1;
        for (uint32_t d = 0; d < t->ndim; d++) {
            if (cnfx_u32(fp, &t->dims[d]) || t->dims[d] > (1u << 24)) goto bad;
            t->n *= t->dims[d];
        }
        if (t->n > ((size_t)1 << 26)) goto bad;
        void *data = malloc(t->n ? t->n * 4 : 4);
        if (!data) goto bad;
        if (t->dtype == CNFX_F32) t->f = data;
        else t->i = data;
        if (fread(data, 4, t->n, fp) != t->n) goto bad;
    }
    if (fgetc(fp) != EOF) goto bad;
    fclose(fp);
    return 0;
bad:
    fprintf(stderr, "cnfx: %s: malformed or truncated tensor file\n", path);
    fclose(fp);
    cnfx_free(cf);
    return -1;
}

/* max |a - ref| <= 1e-4 + 2e-3 max |ref| over n elements (float32 arithmetic against a float64
 * reference); prints the worst element with `what` otherwise. */
static inline int cnfx_close(const char *what, const float *a, const float *ref, size_t n) {
    double worst = 0.0, scale = 0.0;
    size_t wi = 0;
    for (size_t k = 0; k < n; k++) {
        double r = ref[k] < 0 ? -(double)ref[k] : (double)ref[k], d = (double)a[k] - ref[k];
        if (d < 0) d = -d;
        if (r > scale) scale = r;
        if (d > worst) worst = d, wi = k;
    }
    int ok = worst <= 1e-4 + 2e-3 * scale;
    if (!ok && n)
        fprintf(stderr, "%s: element %zu: C %.7g reference %.7g (max |reference| %.3g)\n", what, wi, a[wi], ref[wi],
                scale);
    return ok;
}

static inline const cnfx_tensor *cnfx_get(const cnfx_file *cf, const char *name) {
    for (uint32_t k = 0; k < cf->count; k++)
        if (strcmp(cf->t[k].name, name) == 0) return &cf->t[k];
    return NULL;
}
#endif
