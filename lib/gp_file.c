/* gp_file.c: a fitted GP as config values and named float32 tensors of a model file, and back;
 * see gp.h ("Model files"). */
#include "gp.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static gp_status efile(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static gp_status efile(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return GP_EFILE;
}

static const char *kind_name(const gp_model *g) {
    return !g->sparse ? "exact" : g->sparse_kind == GP_VFE ? "vfe" : "fitc";
}

/* ---- save ---- */

/* Add the hi/lo pair of n doubles v as tensors name, name_lo of shape (s0[,s1]) at dst (2n floats). */
static void put_pair(gp_saved *s, const char *prefix, const char *name, const double *v, size_t n, int ndim,
                     uint64_t s0, uint64_t s1, float *dst) {
    for (size_t i = 0; i < n; i++) {
        const float hi = (float)v[i];
        dst[i] = hi;
        dst[n + i] = (float)(v[i] - (double)hi);
    }
    for (int h = 0; h < 2; h++) {
        char *nm = s->names[s->nvalues + s->ntensors];
        snprintf(nm, MF_MAX_NAME + 1, "%s.%s%s", prefix, name, h ? "_lo" : "");
        mf_tensor *t = &s->tensors[s->ntensors++];
        memset(t, 0, sizeof *t);
        t->name = nm;
        t->ndim = ndim;
        t->shape[0] = s0;
        t->shape[1] = s1;
        t->data = dst + (size_t)h * n;
    }
}

/* The lower triangle of L (P,P) by rows into out (P(P+1)/2). */
static void pack_lower(double *out, const double *L, int P) {
    size_t k = 0;
    for (int i = 0; i < P; i++)
        for (int j = 0; j <= i; j++) out[k++] = L[(size_t)i * P + j];
}

gp_status gp_save_values(const gp_model *g, const char *prefix, gp_saved *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (strlen(prefix) + 12 > MF_MAX_NAME) {
        efile(err, errlen, "GP prefix \"%s\" is too long", prefix);
        return GP_EINPUT;
    }
    const int P = g->P, d = g->d, nls = g->nls;
    const size_t tri = (size_t)P * (P + 1) / 2;
    /* values */
    struct { const char *k; int isint; int64_t i; double f; } vals[] = {
        {"d", 1, d, 0}, {"nls", 1, nls, 0}, {"P", 1, P, 0}, {"n_train", 1, g->n_train, 0},
        {"log_sf2", 0, 0, g->theta[nls]}, {"log_sn2", 0, 0, g->theta[nls + 1]}, {"y_mean", 0, 0, g->y_mean},
        {"y_std", 0, 0, g->y_std}, {"jitter", 0, 0, g->jitter}, {"lml", 0, 0, g->lml},
    };
    char *nm = s->names[s->nvalues];
    snprintf(nm, MF_MAX_NAME + 1, "%s.kind", prefix);
    s->values[s->nvalues++] = mf_str(nm, kind_name(g));
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        nm = s->names[s->nvalues];
        snprintf(nm, MF_MAX_NAME + 1, "%s.%s", prefix, vals[i].k);
        s->values[s->nvalues++] = vals[i].isint ? mf_int(nm, vals[i].i) : mf_float(nm, vals[i].f);
    }
    /* tensors */
    const size_t n_basis = (size_t)P * d, total = 2 * (n_basis + (size_t)nls + (size_t)P + tri * (g->L2 ? 2 : 1));
    s->buf = xmalloc(total * sizeof *s->buf);
    float *p = s->buf;
    double *tmp = xmalloc((tri > n_basis ? tri : n_basis) * sizeof *tmp);
    put_pair(s, prefix, "basis", g->basis, n_basis, 2, (uint64_t)P, (uint64_t)d, p);
    p += 2 * n_basis;
    put_pair(s, prefix, "log_ls", g->theta, (size_t)nls, 1, (uint64_t)nls, 0, p);
    p += 2 * (size_t)nls;
    put_pair(s, prefix, "alpha", g->alpha, (size_t)P, 1, (uint64_t)P, 0, p);
    p += 2 * (size_t)P;
    pack_lower(tmp, g->L1, P);
    put_pair(s, prefix, "L1", tmp, tri, 1, (uint64_t)tri, 0, p);
    p += 2 * tri;
    if (g->L2) {
        pack_lower(tmp, g->L2, P);
        put_pair(s, prefix, "L2", tmp, tri, 1, (uint64_t)tri, 0, p);
    }
    free(tmp);
    return GP_OK;
}

void gp_saved_free(gp_saved *s) {
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* ---- load ---- */

static const mf_value *value(const model_file *m, const char *prefix, const char *k, mf_kind kind,
                             char *err, size_t errlen) {
    char nm[MF_MAX_NAME + 16];
    snprintf(nm, sizeof nm, "%s.%s", prefix, k);
    const mf_value *v = mf_find(m, MF_CONFIG, nm);
    if (!v) efile(err, errlen, "no config value \"%s\"", nm);
    else if (v->kind != kind && !(kind == MF_FLOAT && v->kind == MF_INT)) {
        efile(err, errlen, "config value \"%s\" is of the wrong kind", nm);
        v = NULL;
    }
    return v;
}

/* Doubles of the pair name, name_lo (n values, shape (s0[,s1])) into out; -1 with err if absent,
 * of another shape or not finite. */
static int get_pair(const model_file *m, const char *prefix, const char *name, int ndim, uint64_t s0,
                    uint64_t s1, double *out, size_t n, char *err, size_t errlen) {
    const float *h[2];
    for (int k = 0; k < 2; k++) {
        char nm[MF_MAX_NAME + 16], e[200];
        snprintf(nm, sizeof nm, "%s.%s%s", prefix, name, k ? "_lo" : "");
        const uint64_t shape[2] = {s0, s1};
        if (mf_check_tensor(m, nm, ndim, shape, e, sizeof e) != 0) {
            efile(err, errlen, "%s", e);
            return -1;
        }
        h[k] = mf_find_tensor(m, nm)->data;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (double)h[0][i] + (double)h[1][i];
        if (!isfinite(out[i])) {
            efile(err, errlen, "tensor \"%s.%s\" element %zu is not finite", prefix, name, i);
            return -1;
        }
    }
    return 0;
}

/* Unpack the lower triangle tri (P(P+1)/2) into L (P,P); -1 if a diagonal element is not > 0. */
static int unpack_lower(double *L, const double *tri, int P) {
    size_t k = 0;
    memset(L, 0, (size_t)P * P * sizeof *L);
    for (int i = 0; i < P; i++)
        for (int j = 0; j <= i; j++) L[(size_t)i * P + j] = tri[k++];
    for (int i = 0; i < P; i++)
        if (!(L[(size_t)i * P + i] > 0)) return -1;
    return 0;
}

gp_status gp_load(gp_model *g, const model_file *m, const char *prefix, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    const mf_value *v[11];
    static const char *keys[11] = {"kind", "d", "nls", "P", "n_train", "log_sf2", "log_sn2", "y_mean",
                                   "y_std", "jitter", "lml"};
    for (int i = 0; i < 11; i++)
        if (!(v[i] = value(m, prefix, keys[i], i == 0 ? MF_STR : i < 5 ? MF_INT : MF_FLOAT, err, errlen)))
            return GP_EFILE;
    const char *kind = v[0]->p;
    if (strcmp(kind, "exact") && strcmp(kind, "fitc") && strcmp(kind, "vfe"))
        return efile(err, errlen, "%s.kind is \"%s\", not exact, fitc or vfe", prefix, kind);
    const int64_t d = v[1]->i, nls = v[2]->i, P = v[3]->i, nt = v[4]->i;
    if (d < 1 || d > 1000000 || (nls != 1 && nls != d) || P < 1 || P > 100000 || nt < 2 || nt > INT32_MAX ||
        (!strcmp(kind, "exact") && nt != P))
        return efile(err, errlen, "%s: bad sizes (d %lld, nls %lld, P %lld, n_train %lld)", prefix,
                     (long long)d, (long long)nls, (long long)P, (long long)nt);
    double f[6];
    for (int i = 0; i < 6; i++) {
        f[i] = v[5 + i]->kind == MF_INT ? (double)v[5 + i]->i : v[5 + i]->f;
        if (!isfinite(f[i])) return efile(err, errlen, "%s.%s is not finite", prefix, keys[5 + i]);
    }
    if (!(f[3] > 0) || f[4] < 0) return efile(err, errlen, "%s: y_std must be > 0 and jitter >= 0", prefix);
    if (fabs(f[0]) > 700 || fabs(f[1]) > 700) return efile(err, errlen, "%s: variances out of range", prefix);
    g->d = (int)d;
    g->nls = (int)nls;
    g->P = (int)P;
    g->n_train = (int)nt;
    g->sparse = strcmp(kind, "exact") != 0;
    g->sparse_kind = !strcmp(kind, "vfe") ? GP_VFE : GP_FITC;
    g->y_mean = f[2];
    g->y_std = f[3];
    g->jitter = f[4];
    g->lml = f[5];
    const size_t tri = (size_t)P * (size_t)(P + 1) / 2;
    /* the big tensors must be present with their shapes before anything of their size is allocated */
    {
        const char *big[3] = {"basis", "L1", "L2"};
        const uint64_t sh[3][2] = {{(uint64_t)P, (uint64_t)d}, {(uint64_t)tri, 0}, {(uint64_t)tri, 0}};
        for (int k = 0; k < (g->sparse ? 3 : 2); k++) {
            char nm[MF_MAX_NAME + 16], e[200];
            snprintf(nm, sizeof nm, "%s.%s", prefix, big[k]);
            if (mf_check_tensor(m, nm, k ? 1 : 2, sh[k], e, sizeof e) != 0) {
                efile(err, errlen, "%s", e);
                memset(g, 0, sizeof *g);
                return GP_EFILE;
            }
        }
    }
    g->theta = xmalloc((size_t)(nls + 2) * sizeof *g->theta);
    g->basis = xmalloc((size_t)P * d * sizeof *g->basis);
    g->alpha = xmalloc((size_t)P * sizeof *g->alpha);
    g->L1 = xmalloc((size_t)P * P * sizeof *g->L1);
    if (g->sparse) g->L2 = xmalloc((size_t)P * P * sizeof *g->L2);
    double *t = xmalloc(tri * sizeof *t);
    g->theta[nls] = f[0];
    g->theta[nls + 1] = f[1];
    int bad = get_pair(m, prefix, "basis", 2, (uint64_t)P, (uint64_t)d, g->basis, (size_t)(P * d), err, errlen) ||
              get_pair(m, prefix, "log_ls", 1, (uint64_t)nls, 0, g->theta, (size_t)nls, err, errlen) ||
              get_pair(m, prefix, "alpha", 1, (uint64_t)P, 0, g->alpha, (size_t)P, err, errlen);
    for (int64_t k = 0; !bad && k < nls; k++)
        if (fabs(g->theta[k]) > 700) bad = efile(err, errlen, "%s.log_ls[%lld] out of range", prefix, (long long)k);
    if (!bad) {
        bad = get_pair(m, prefix, "L1", 1, (uint64_t)tri, 0, t, tri, err, errlen);
        if (!bad && unpack_lower(g->L1, t, (int)P) != 0)
            bad = efile(err, errlen, "%s.L1 is not a Cholesky factor (diagonal not positive)", prefix);
    }
    if (!bad && g->sparse) {
        bad = get_pair(m, prefix, "L2", 1, (uint64_t)tri, 0, t, tri, err, errlen);
        if (!bad && unpack_lower(g->L2, t, (int)P) != 0)
            bad = efile(err, errlen, "%s.L2 is not a Cholesky factor (diagonal not positive)", prefix);
    }
    free(t);
    if (bad) {
        gp_free(g);
        return GP_EFILE;
    }
    return GP_OK;
}
