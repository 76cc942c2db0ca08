/* gp.c: Gaussian-process regression: kernel, marginal likelihood, hyperparameter fit, exact and
 * sparse factorisation, prediction and expected improvement; see gp.h. Model files: gp_file.c. */
#include "gp.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbfgs.h"
#include "rng.h"
#include "standardize.h"
#include "vmath.h"
#include "util.h"

/* LAPACK (in OpenBLAS), column-major. A row-major symmetric matrix is its own column-major
 * transpose, so "U" on a row-major array factors A = L L^T with L in the row-major lower triangle. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);

#define LOG_2PI 1.8378770664093454836
#define JITTER_START 1e-8
#define JITTER_MAX 1e-2
#define PREDICT_CHUNK 256


static gp_status fail(gp_status s, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static gp_status fail(gp_status s, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return s;
}

void gp_opts_default(gp_opts *o) {
    *o = (gp_opts){.ard = 1, .fit_hyper = 1, .theta0 = NULL, .iters = 50, .restarts = 3, .seed = 1,
                   .noise_floor = 1e-6, .exact_max = GP_EXACT_MAX, .inducing = 1000,
                   .sparse_kind = GP_FITC, .hyper_subset = 1000};
}

void gp_free(gp_model *g) {
    free(g->basis);
    free(g->alpha);
    free(g->L1);
    free(g->L2);
    free(g->theta);
    memset(g, 0, sizeof *g);
}

double gp_noise_var(const gp_model *g) { return exp(g->theta[g->nls + 1]) * g->y_std * g->y_std; }

/* ---- kernel ---- */

/* out (N,d) = X (N,d) / ls (ls per dimension if nls = d, else shared); nrm (N) = squared row norms. */
#define GP_MAX_DIM_STACK 512 /* scale_rows keeps up to this many inverse length-scales on the stack */
static void scale_rows(double *out, double *nrm, const double *X, int N, int d, int nls,
                       const double *theta) {
    double inv_ls[GP_MAX_DIM_STACK];
    double *inv = d <= GP_MAX_DIM_STACK ? inv_ls : xmalloc((size_t)d * sizeof *inv);
    for (int k = 0; k < d; k++) inv[k] = exp(-theta[nls == 1 ? 0 : k]); /* the same value as per element */
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            const double v = X[(size_t)i * d + k] * inv[k];
            out[(size_t)i * d + k] = v;
            s += v * v;
        }
        nrm[i] = s;
    }
    if (inv != inv_ls) free(inv);
}

/* K (A,B) = sf2 exp(-|a_i - b_j|^2 / 2) of scaled rows As (A,d), Bs (B,d), norms na (A), nb (B). */
static void kern_cross(double *K, const double *As, const double *na, int A, const double *Bs,
                       const double *nb, int B, int d, double sf2) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, A, B, d, -2.0, As, d, Bs, d, 0.0, K, B);
    for (int i = 0; i < A; i++) {
        double *k = K + (size_t)i * B;
        /* r2 clamped to [0, 1400]: rounding can make it negative, and exp(-700) ~ 1e-304 is as good as
         * the smaller true value while keeping libmvec's exp off its slow path for huge arguments */
        for (int j = 0; j < B; j++) {
            const double r2 = na[i] + nb[j] + k[j];
            k[j] = -0.5 * (r2 > 0.0 ? (r2 < 1400.0 ? r2 : 1400.0) : 0.0);
        }
        vexp_d(k, (size_t)B); /* vectorised: in scalar exp this was most of the prediction's time */
        for (int j = 0; j < B; j++) k[j] *= sf2;
    }
}

/* K (N,N), both triangles, = sf2 exp(-|x_i - x_j|^2 / 2) of scaled rows Xs (N,d), norms nx (N). */
static void kern_sym(double *K, const double *Xs, const double *nx, int N, int d, double sf2) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, N, d, -2.0, Xs, d, 0.0, K, N);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < i; j++) {
            const double v = sf2 * exp(-0.5 * fmax(nx[i] + nx[j] + K[(size_t)i * N + j], 0.0));
            K[(size_t)i * N + j] = v;
            K[(size_t)j * N + i] = v;
        }
        K[(size_t)i * N + i] = sf2;
    }
}

/* Factor the symmetric A (n,n) (both triangles filled) in place into its lower Cholesky factor
 * (strict upper triangle zeroed), adding jitter to the diagonal if needed (gp.h). dpotrf only
 * writes the lower triangle, so a failed attempt is undone from the upper one and diag (n,
 * scratch). *jitter receives the jitter added. Returns 0, or -1 if even the largest jitter fails. */
static int chol_jitter(double *A, int n, double *diag, double *jitter) {
    double mean = 0;
    for (int i = 0; i < n; i++) {
        diag[i] = A[(size_t)i * n + i];
        mean += diag[i];
    }
    mean = fabs(mean / n);
    if (!(mean > 0) || !isfinite(mean)) mean = 1.0;
    double jit = 0;
    for (;;) {
        int info = 0;
        dpotrf_("U", &n, A, &n, &info);
        if (info == 0) break;
        jit = jit == 0 ? JITTER_START * mean : jit * 10;
        if (jit > JITTER_MAX * mean * 1.0000001) {
            *jitter = jit / 10;
            return -1;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) A[(size_t)i * n + j] = A[(size_t)j * n + i];
            A[(size_t)i * n + i] = diag[i] + jit;
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) A[(size_t)i * n + j] = 0;
    *jitter = jit;
    return 0;
}

/* ---- marginal likelihood ---- */

gp_status gp_lml(const double *X, const double *ys, int N, int d, int nls, const double *theta,
                 double *lml, double *grad, double *jitter) {
    const double sf2 = exp(theta[nls]), sn2 = exp(theta[nls + 1]);
    const size_t NN = (size_t)N * N;
    double *Xs = xmalloc((size_t)N * d * sizeof *Xs);   /* (N,d) scaled inputs */
    double *nx = xmalloc((size_t)N * sizeof *nx);       /* (N) */
    /* (N,N) noise-free kernel, later (N,d) AX: room for the larger (d > N with few points) */
    double *Kf = xmalloc((NN > (size_t)N * d ? NN : (size_t)N * d) * sizeof *Kf);
    double *L = xmalloc(NN * sizeof *L);                /* (N,N) Cholesky, then inverse */
    double *al = xmalloc((size_t)N * sizeof *al);       /* (N) alpha */
    double *diag = xmalloc((size_t)N * sizeof *diag);   /* (N) */
    scale_rows(Xs, nx, X, N, d, nls, theta);
    kern_sym(Kf, Xs, nx, N, d, sf2);
    memcpy(L, Kf, NN * sizeof *L);
    for (int i = 0; i < N; i++) L[(size_t)i * N + i] += sn2;
    double jit = 0;
    gp_status st = GP_OK;
    if (chol_jitter(L, N, diag, &jit) != 0) {
        st = GP_ENUMERIC;
        goto out;
    }
    memcpy(al, ys, (size_t)N * sizeof *al);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, N, L, N, al, 1);
    double f = -0.5 * cblas_ddot(N, al, 1, al, 1) - 0.5 * N * LOG_2PI;
    for (int i = 0; i < N; i++) f -= log(L[(size_t)i * N + i]);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, N, L, N, al, 1);
    *lml = f;
    if (grad) {
        /* dlml/dtheta = 1/2 tr(W dK/dtheta), W = alpha alpha^T - K^-1. */
        int info = 0;
        dpotri_("U", &N, L, &N, &info); /* K^-1 in the row-major lower triangle */
        if (info != 0) {
            st = GP_ENUMERIC;
            goto out;
        }
        const int np = nls + 2;
        for (int p = 0; p < np; p++) grad[p] = 0;
        double trW = 0, sumA = 0;
        double *r = diag; /* (N) row sums of A = W o Kf */
        for (int i = 0; i < N; i++) r[i] = 0;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < i; j++) {
                const double a = (al[i] * al[j] - L[(size_t)i * N + j]) * Kf[(size_t)i * N + j];
                L[(size_t)i * N + j] = a;
                r[i] += a;
                r[j] += a;
                sumA += 2 * a;
            }
            const double w = al[i] * al[i] - L[(size_t)i * N + i];
            trW += w;
            const double a = w * Kf[(size_t)i * N + i];
            L[(size_t)i * N + i] = a;
            r[i] += a;
            sumA += a;
        }
        grad[nls] = 0.5 * sumA;
        grad[nls + 1] = 0.5 * sn2 * trW;
        /* d/dlog ls_k: 1/2 sum_ij A_ij (xs_ik - xs_jk)^2 = sum_i r_i xs_ik^2 - sum_i xs_ik (A Xs)_ik */
        double *AX = Kf; /* (N,d), Kf no longer needed */
        cblas_dsymm(CblasRowMajor, CblasLeft, CblasLower, N, d, 1.0, L, N, Xs, d, 0.0, AX, d);
        for (int i = 0; i < N; i++)
            for (int k = 0; k < d; k++) {
                const double x = Xs[(size_t)i * d + k];
                grad[nls == 1 ? 0 : k] += r[i] * x * x - x * AX[(size_t)i * d + k];
            }
    }
out:
    if (jitter) *jitter = jit;
    free(Xs);
    free(nx);
    free(Kf);
    free(L);
    free(al);
    free(diag);
    return st;
}

/* ---- L-BFGS on a box ---- */

typedef struct {
    const double *X, *ys;
    int N, d, nls;
} lml_ctx;

/* f = -lml, g = -grad; -1 if the factorisation fails or the value is not finite. */
static int neg_lml(void *vc, const double *th, double *f, double *g) {
    const lml_ctx *c = vc;
    double l;
    if (gp_lml(c->X, c->ys, c->N, c->d, c->nls, th, &l, g, NULL) != GP_OK || !isfinite(l)) return -1;
    *f = -l;
    for (int p = 0; p < c->nls + 2; p++) {
        g[p] = -g[p];
        if (!isfinite(g[p])) return -1;
    }
    return 0;
}

/* Hyperparameters of standardised targets ys (N) at X (N,d) (see gp.h): theta (nls + 2) receives
 * the best restart's, *lml its log marginal likelihood. */
static gp_status fit_hyper(const double *X, const double *ys, int N, int d, int nls, const gp_opts *o,
                           double *theta, double *lml, char *err, size_t errlen) {
    const int np = nls + 2;
    double s = 0; /* mean per-dimension standard deviation of X */
    for (int k = 0; k < d; k++) {
        double m = 0, v = 0;
        for (int i = 0; i < N; i++) m += X[(size_t)i * d + k];
        m /= N;
        for (int i = 0; i < N; i++) v += (X[(size_t)i * d + k] - m) * (X[(size_t)i * d + k] - m);
        s += sqrt(v / N);
    }
    s /= d;
    if (!(s > 0)) s = 1;
    double *lo = xmalloc((size_t)np * sizeof *lo), *hi = xmalloc((size_t)np * sizeof *hi);
    double *t0 = xmalloc((size_t)np * sizeof *t0), *t = xmalloc((size_t)np * sizeof *t);
    for (int p = 0; p < nls; p++) {
        lo[p] = log(1e-3 * s);
        hi[p] = log(1e4 * s);
        t0[p] = log(sqrt((double)d) * s);
    }
    lo[nls] = log(1e-4), hi[nls] = log(1e4), t0[nls] = 0;
    lo[nls + 1] = log(o->noise_floor), hi[nls + 1] = log(10.0), t0[nls + 1] = log(0.1);
    if (o->theta0) memcpy(t0, o->theta0, (size_t)np * sizeof *t0);
    lbfgs_clamp(t0, lo, hi, np);
    lml_ctx c = {X, ys, N, d, nls};
    rng_mt r;
    rng_seed(&r, o->seed);
    double best = INFINITY;
    /* with several starting points, each gets the first fifth of the iterations and the best one
     * continues for the rest (a fresh L-BFGS memory) */
    const int explore = o->restarts > 1 ? (o->iters + 4) / 5 : o->iters;
    for (int rs = 0; rs < o->restarts; rs++) {
        memcpy(t, t0, (size_t)np * sizeof *t);
        if (rs > 0) {
            const double shift = 2 * rng_double(&r) - 1;
            for (int p = 0; p < nls; p++) t[p] += shift + (nls > 1 ? rng_double(&r) - 0.5 : 0);
            t[nls] = 2 * rng_double(&r) - 1;
            t[nls + 1] = log(10.0) * (-3 + 2.5 * rng_double(&r));
            lbfgs_clamp(t, lo, hi, np);
        }
        const double f = lbfgs_box(neg_lml, &c, t, np, lo, hi, explore);
        if (f < best) {
            best = f;
            memcpy(theta, t, (size_t)np * sizeof *t);
        }
    }
    if (explore < o->iters && isfinite(best)) best = lbfgs_box(neg_lml, &c, theta, np, lo, hi, o->iters - explore);
    free(lo); free(hi); free(t0); free(t);
    if (!isfinite(best))
        return fail(GP_ENUMERIC, err, errlen, "the kernel matrix could not be factored at any starting point");
    *lml = -best;
    return GP_OK;
}

/* ---- fit ---- */

/* Exact GP on X (N,d), ys (N) at g->theta: fills basis, alpha, L1, jitter, lml. */
static gp_status fit_exact(gp_model *g, const double *X, const double *ys, int N, char *err,
                           size_t errlen) {
    const int d = g->d, nls = g->nls;
    double *Xs = xmalloc((size_t)N * d * sizeof *Xs), *nx = xmalloc((size_t)N * sizeof *nx);
    double *L = xmalloc((size_t)N * N * sizeof *L), *al = xmalloc((size_t)N * sizeof *al);
    scale_rows(Xs, nx, X, N, d, nls, g->theta);
    kern_sym(L, Xs, nx, N, d, exp(g->theta[nls]));
    const double sn2 = exp(g->theta[nls + 1]);
    for (int i = 0; i < N; i++) L[(size_t)i * N + i] += sn2;
    free(Xs);
    const int rc = chol_jitter(L, N, nx, &g->jitter);
    free(nx);
    if (rc != 0) {
        free(L);
        free(al);
        return fail(GP_ENUMERIC, err, errlen, "the %d-point kernel matrix is not positive definite even with jitter %g",
                    N, g->jitter);
    }
    memcpy(al, ys, (size_t)N * sizeof *al);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, N, L, N, al, 1);
    double f = -0.5 * cblas_ddot(N, al, 1, al, 1) - 0.5 * N * LOG_2PI;
    for (int i = 0; i < N; i++) f -= log(L[(size_t)i * N + i]);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, N, L, N, al, 1);
    g->lml = f;
    g->P = N;
    g->basis = xmalloc((size_t)N * d * sizeof *g->basis);
    memcpy(g->basis, X, (size_t)N * d * sizeof *g->basis);
    g->alpha = al;
    g->L1 = L;
    return GP_OK;
}

/* M rows of X (N,d) by k-means++ seeding (D^2 sampling) on the scaled rows, or all rows if M >= N;
 * fewer if the remaining points all coincide with chosen ones. Returns the count, idx (M) the rows. */
static int pick_inducing(int *idx, const double *Xs, int N, int d, int M, uint32_t seed) {
    if (M >= N) {
        for (int i = 0; i < N; i++) idx[i] = i;
        return N;
    }
    rng_mt r;
    rng_seed(&r, seed ^ 0x5eed1d0cu);
    double *D = xmalloc((size_t)N * sizeof *D); /* (N) squared distance to the nearest centre */
    int m = 0, c = (int)rng_interval(&r, (uint32_t)N - 1);
    for (int i = 0; i < N; i++) D[i] = INFINITY;
    for (;;) {
        idx[m++] = c;
        double tot = 0;
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                const double v = Xs[(size_t)i * d + k] - Xs[(size_t)c * d + k];
                s += v * v;
            }
            if (s < D[i]) D[i] = s;
            tot += D[i];
        }
        if (m == M || !(tot > 0)) break;
        double u = rng_double(&r) * tot;
        c = -1;
        for (int i = 0; i < N; i++) {
            if (D[i] > 0) c = i;
            u -= D[i];
            if (u < 0 && D[i] > 0) break;
        }
    }
    free(D);
    return m;
}

/* Sparse GP on X (N,d), ys (N) at g->theta (gp.h). */
static gp_status fit_sparse(gp_model *g, const double *X, const double *ys, int N, int M, uint32_t seed,
                            char *err, size_t errlen) {
    const int d = g->d, nls = g->nls;
    const double sf2 = exp(g->theta[nls]), sn2 = exp(g->theta[nls + 1]);
    double *Xs = xmalloc((size_t)N * d * sizeof *Xs), *nx = xmalloc((size_t)N * sizeof *nx);
    scale_rows(Xs, nx, X, N, d, nls, g->theta);
    int *idx = xmalloc((size_t)(M < N ? M : N) * sizeof *idx);
    M = pick_inducing(idx, Xs, N, d, M, seed);
    double *Z = xmalloc((size_t)M * d * sizeof *Z), *Zs = xmalloc((size_t)M * d * sizeof *Zs);
    double *nz = xmalloc((size_t)M * sizeof *nz);
    for (int m = 0; m < M; m++) {
        memcpy(Z + (size_t)m * d, X + (size_t)idx[m] * d, (size_t)d * sizeof *Z);
        memcpy(Zs + (size_t)m * d, Xs + (size_t)idx[m] * d, (size_t)d * sizeof *Z);
        nz[m] = nx[idx[m]];
    }
    free(idx);
    double *Lm = xmalloc((size_t)M * M * sizeof *Lm);      /* (M,M) */
    double *V = xmalloc((size_t)M * N * sizeof *V);        /* (M,N) Kmn, then Lm^-1 Kmn */
    double *LB = xmalloc((size_t)M * M * sizeof *LB);      /* (M,M) */
    double *lam = xmalloc((size_t)N * sizeof *lam);        /* (N) */
    double *al = xmalloc((size_t)M * sizeof *al);          /* (M) */
    double *scr = xmalloc((size_t)M * sizeof *scr);
    gp_status st = GP_OK;
    kern_sym(Lm, Zs, nz, M, d, sf2);
    if (chol_jitter(Lm, M, scr, &g->jitter) != 0) {
        st = fail(GP_ENUMERIC, err, errlen, "the inducing points' kernel matrix is not positive definite even with jitter %g",
                  g->jitter);
        goto out;
    }
    kern_cross(V, Zs, nz, M, Xs, nx, N, d, sf2);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, M, N, 1.0, Lm, M, V, N);
    for (int i = 0; i < N; i++) lam[i] = 0;
    if (g->sparse_kind == GP_FITC)
        for (int m = 0; m < M; m++)
            for (int i = 0; i < N; i++) lam[i] += V[(size_t)m * N + i] * V[(size_t)m * N + i];
    for (int i = 0; i < N; i++) {
        lam[i] = g->sparse_kind == GP_FITC ? sn2 + fmax(sf2 - lam[i], 0.0) : sn2;
        lam[i] = 1.0 / sqrt(lam[i]); /* Lambda^-1/2 */
    }
    for (int m = 0; m < M; m++)
        for (int i = 0; i < N; i++) V[(size_t)m * N + i] *= lam[i];
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, M, N, 1.0, V, N, 0.0, LB, M);
    for (int m = 0; m < M; m++) {
        LB[(size_t)m * M + m] += 1.0;
        for (int j = m + 1; j < M; j++) LB[(size_t)m * M + j] = LB[(size_t)j * M + m];
    }
    double jb = 0;
    if (chol_jitter(LB, M, scr, &jb) != 0 || jb != 0) {
        st = fail(GP_ENUMERIC, err, errlen, "I + V Lambda^-1 V^T is not positive definite");
        goto out;
    }
    for (int i = 0; i < N; i++) lam[i] *= ys[i]; /* Lambda^-1/2 ys */
    cblas_dgemv(CblasRowMajor, CblasNoTrans, M, N, 1.0, V, N, lam, 1, 0.0, al, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, M, LB, M, al, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, M, LB, M, al, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, M, Lm, M, al, 1);
    g->P = M;
    g->basis = Z;
    Z = NULL;
    g->alpha = al;
    al = NULL;
    g->L1 = Lm;
    Lm = NULL;
    g->L2 = LB;
    LB = NULL;
out:
    free(Xs); free(nx); free(Z); free(Zs); free(nz); free(Lm); free(V); free(LB); free(lam); free(al);
    free(scr);
    return st;
}

gp_status gp_fit(gp_model *g, const float *X, const double *y, int N, int d, const gp_opts *o,
                 char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    gp_opts def;
    if (!o) {
        gp_opts_default(&def);
        o = &def;
    }
    if (N < 2) return fail(GP_EINPUT, err, errlen, "a GP needs at least 2 points, got %d", N);
    if (d < 1) return fail(GP_EINPUT, err, errlen, "inputs need at least 1 dimension, got %d", d);
    if (o->iters < 0 || o->restarts < 1 || o->inducing < 1 || o->exact_max < 1 || o->hyper_subset < 2 ||
        !(o->noise_floor > 0) || !(o->noise_floor < 10) || (!o->fit_hyper && !o->theta0) ||
        (o->sparse_kind != GP_FITC && o->sparse_kind != GP_VFE))
        return fail(GP_EINPUT, err, errlen, "bad GP options");
    const int nls = o->ard ? d : 1;
    if (o->theta0)
        for (int p = 0; p < nls + 2; p++)
            if (!isfinite(o->theta0[p])) return fail(GP_EINPUT, err, errlen, "hyperparameter %d is not finite", p);
    for (size_t i = 0; i < (size_t)N * d; i++)
        if (!isfinite(X[i]))
            return fail(GP_ENONFINITE, err, errlen, "input %zu, dimension %zu is not finite (%g)", i / d, i % d,
                        (double)X[i]);
    for (int i = 0; i < N; i++)
        if (!isfinite(y[i])) return fail(GP_ENONFINITE, err, errlen, "target %d is not finite (%g)", i, y[i]);
    double mean, sd;
    if (standardize_moments(y, (size_t)N, &mean, &sd))
        return fail(GP_ECONST, err, errlen, "the %d targets are constant (y = %.17g): nothing to regress", N, mean);
    if (o->standard) {
        if (!isfinite(o->standard[0]) || !(o->standard[1] > 0) || !isfinite(o->standard[1]))
            return fail(GP_EINPUT, err, errlen, "bad standardisation (mean %g, std %g)", o->standard[0], o->standard[1]);
        mean = o->standard[0];
        sd = o->standard[1];
    }

    double *Xd = xmalloc((size_t)N * d * sizeof *Xd), *ys = xmalloc((size_t)N * sizeof *ys);
    for (size_t i = 0; i < (size_t)N * d; i++) Xd[i] = X[i];
    for (int i = 0; i < N; i++) ys[i] = (y[i] - mean) / sd;
    g->d = d;
    g->nls = nls;
    g->n_train = N;
    g->y_mean = mean;
    g->y_std = sd;
    g->sparse_kind = o->sparse_kind;
    g->theta = xmalloc((size_t)(nls + 2) * sizeof *g->theta);
    gp_status st = GP_OK;

    /* hyperparameters: on all points, or on a seeded subset */
    const int S = N <= o->hyper_subset ? N : o->hyper_subset;
    double *Xh = Xd, *yh = ys;
    if (S < N) {
        uint32_t *perm = xmalloc((size_t)N * sizeof *perm);
        rng_mt r;
        rng_seed(&r, o->seed);
        rng_permutation(&r, (uint32_t)N, perm);
        Xh = xmalloc((size_t)S * d * sizeof *Xh);
        yh = xmalloc((size_t)S * sizeof *yh);
        for (int i = 0; i < S; i++) {
            memcpy(Xh + (size_t)i * d, Xd + (size_t)perm[i] * d, (size_t)d * sizeof *Xh);
            yh[i] = ys[perm[i]];
        }
        free(perm);
    }
    double lml = 0;
    if (o->fit_hyper) {
        st = fit_hyper(Xh, yh, S, d, nls, o, g->theta, &lml, err, errlen);
    } else {
        memcpy(g->theta, o->theta0, (size_t)(nls + 2) * sizeof *g->theta);
        if (gp_lml(Xh, yh, S, d, nls, g->theta, &lml, NULL, NULL) != GP_OK)
            st = fail(GP_ENUMERIC, err, errlen, "the kernel matrix is not positive definite even with jitter");
    }
    if (Xh != Xd) {
        free(Xh);
        free(yh);
    }
    if (st == GP_OK) {
        if (N <= o->exact_max) {
            st = fit_exact(g, Xd, ys, N, err, errlen);
        } else {
            g->sparse = 1;
            st = fit_sparse(g, Xd, ys, N, o->inducing, o->seed, err, errlen);
            g->lml = lml;
        }
    }
    free(Xd);
    free(ys);
    if (st != GP_OK) gp_free(g);
    return st;
}

/* ---- prediction ---- */

/* Standardised mean (B) and variance (B) at scaled rows Xs (B,d), norms nx (B); bs, nb: the scaled
 * basis. K (B,P) scratch. */
static void predict_chunk(const gp_model *g, const double *Xs, const double *nx, int B, const double *bs,
                          const double *nb, double *K, double *mean, double *var) {
    const int P = g->P, nls = g->nls;
    const double sf2 = exp(g->theta[nls]);
    kern_cross(K, Xs, nx, B, bs, nb, P, g->d, sf2);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, B, P, 1.0, K, P, g->alpha, 1, 0.0, mean, 1);
    if (!var) return;
    /* rows of K L1^-T are (L1^-1 k)^T */
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, B, P, 1.0, g->L1, P, K, P);
    for (int b = 0; b < B; b++) var[b] = sf2 - cblas_ddot(P, K + (size_t)b * P, 1, K + (size_t)b * P, 1);
    if (g->L2) {
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, B, P, 1.0, g->L2, P, K, P);
        for (int b = 0; b < B; b++) var[b] += cblas_ddot(P, K + (size_t)b * P, 1, K + (size_t)b * P, 1);
    }
}

void gp_kernel(const gp_model *g, const double *A, int nA, const double *Bm, int nB, double *K) {
    const int d = g->d;
    double *as = xmalloc((size_t)nA * d * sizeof *as), *na = xmalloc((size_t)nA * sizeof *na);
    double *bs = xmalloc((size_t)nB * d * sizeof *bs), *nb = xmalloc((size_t)nB * sizeof *nb);
    scale_rows(as, na, A, nA, d, g->nls, g->theta);
    scale_rows(bs, nb, Bm, nB, d, g->nls, g->theta);
    kern_cross(K, as, na, nA, bs, nb, nB, d, exp(g->theta[g->nls]));
    free(as); free(na); free(bs); free(nb);
}

void gp_predict(const gp_model *g, const float *Xs, int B, double *mean, double *var) {
    const int d = g->d, P = g->P;
    double *bs = xmalloc((size_t)P * d * sizeof *bs), *nb = xmalloc((size_t)P * sizeof *nb);
    scale_rows(bs, nb, g->basis, P, d, g->nls, g->theta);
    const int C = B < PREDICT_CHUNK ? B : PREDICT_CHUNK;
    double *xd = xmalloc((size_t)C * d * sizeof *xd), *xs = xmalloc((size_t)C * d * sizeof *xs);
    double *nx = xmalloc((size_t)C * sizeof *nx), *K = xmalloc((size_t)C * P * sizeof *K);
    for (int b0 = 0; b0 < B; b0 += C) {
        const int n = B - b0 < C ? B - b0 : C;
        for (size_t i = 0; i < (size_t)n * d; i++) xd[i] = Xs[(size_t)b0 * d + i];
        scale_rows(xs, nx, xd, n, d, g->nls, g->theta);
        predict_chunk(g, xs, nx, n, bs, nb, K, mean + b0, var ? var + b0 : NULL);
    }
    for (int b = 0; b < B; b++) {
        mean[b] = g->y_mean + g->y_std * mean[b];
        if (var) var[b] = g->y_std * g->y_std * fmax(var[b], 0.0);
    }
    free(bs); free(nb); free(xd); free(xs); free(nx); free(K);
}

void gp_predict_grad(const gp_model *g, const double *x, double *mean, double *var, double *dmean,
                     double *dvar) {
    const int d = g->d, P = g->P, nls = g->nls;
    const double sf2 = exp(g->theta[nls]);
    double *bs = xmalloc((size_t)P * d * sizeof *bs), *nb = xmalloc((size_t)P * sizeof *nb);
    double *xs = xmalloc((size_t)d * sizeof *xs), *k = xmalloc((size_t)P * sizeof *k);
    double *v = xmalloc((size_t)P * sizeof *v), *w = xmalloc((size_t)P * sizeof *w);
    double *t = xmalloc((size_t)d * sizeof *t);
    double nx;
    scale_rows(bs, nb, g->basis, P, d, nls, g->theta);
    scale_rows(xs, &nx, x, 1, d, nls, g->theta);
    kern_cross(k, xs, &nx, 1, bs, nb, P, d, sf2);
    const double mu = cblas_ddot(P, k, 1, g->alpha, 1);
    memcpy(v, k, (size_t)P * sizeof *v);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, P, g->L1, P, v, 1);
    double vs = sf2 - cblas_ddot(P, v, 1, v, 1);
    if (g->L2) {
        memcpy(w, v, (size_t)P * sizeof *w);
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, P, g->L2, P, w, 1);
        vs += cblas_ddot(P, w, 1, w, 1);
    }
    const double ys2 = g->y_std * g->y_std;
    if (mean) *mean = g->y_mean + g->y_std * mu;
    if (var) *var = ys2 * fmax(vs, 0.0);
    /* dk_i/dx_j = -k_i (xs_j - bs_ij) / ls_j, so for weights c: d(c.k)/dx_j =
     * -(xs_j sum_i c_i k_i - sum_i c_i k_i bs_ij) / ls_j */
    if (dmean) {
        for (int i = 0; i < P; i++) w[i] = g->alpha[i] * k[i];
        double sw = 0;
        for (int i = 0; i < P; i++) sw += w[i];
        cblas_dgemv(CblasRowMajor, CblasTrans, P, d, 1.0, bs, d, w, 1, 0.0, t, 1);
        for (int j = 0; j < d; j++) dmean[j] = -g->y_std * (xs[j] * sw - t[j]) * exp(-g->theta[nls == 1 ? 0 : j]);
    }
    if (dvar) {
        if (vs <= 0) {
            for (int j = 0; j < d; j++) dvar[j] = 0;
        } else {
            /* u = C k with var = sf2 - k^T C k: C = L1^-T L1^-1 (- L1^-T L2^-T L2^-1 L1^-1) */
            if (g->L2) {
                memcpy(w, v, (size_t)P * sizeof *w);
                cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, P, g->L2, P, w, 1);
                cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, P, g->L2, P, w, 1);
                for (int i = 0; i < P; i++) v[i] -= w[i];
            }
            cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, P, g->L1, P, v, 1);
            for (int i = 0; i < P; i++) w[i] = v[i] * k[i];
            double sw = 0;
            for (int i = 0; i < P; i++) sw += w[i];
            cblas_dgemv(CblasRowMajor, CblasTrans, P, d, 1.0, bs, d, w, 1, 0.0, t, 1);
            /* dvar = -2 u^T dk */
            for (int j = 0; j < d; j++) dvar[j] = 2 * ys2 * (xs[j] * sw - t[j]) * exp(-g->theta[nls == 1 ? 0 : j]);
        }
    }
    free(bs); free(nb); free(xs); free(k); free(v); free(w); free(t);
}

/* ---- expected improvement ---- */

double gp_ei(double mu, double sigma, double fbest, double xi, double *dmu, double *dsigma) {
    const double imp = mu - fbest - xi;
    if (!(sigma > 0)) {
        if (dmu) *dmu = imp > 0 ? 1 : 0;
        if (dsigma) *dsigma = 0;
        return imp > 0 ? imp : 0;
    }
    const double z = imp / sigma;
    const double Phi = 0.5 * erfc(-z * M_SQRT1_2), phi = exp(-0.5 * z * z) / sqrt(2 * M_PI);
    if (dmu) *dmu = Phi;
    if (dsigma) *dsigma = phi;
    const double ei = imp * Phi + sigma * phi;
    return ei > 0 ? ei : 0;
}

double gp_ei_x(const gp_model *g, const double *x, double fbest, double xi, double *grad) {
    const int d = g->d;
    double mu, var, dmu, dsig;
    double *dm = grad ? xmalloc((size_t)d * sizeof *dm) : NULL, *dv = grad ? xmalloc((size_t)d * sizeof *dv) : NULL;
    gp_predict_grad(g, x, &mu, &var, dm, dv);
    const double sigma = sqrt(var);
    const double ei = gp_ei(mu, sigma, fbest, xi, &dmu, &dsig);
    if (grad)
        for (int j = 0; j < d; j++) grad[j] = dmu * dm[j] + (sigma > 0 ? dsig * dv[j] / (2 * sigma) : 0);
    free(dm);
    free(dv);
    return ei;
}
