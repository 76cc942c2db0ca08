/* bo.c: batch expected improvement with kriging-believer fantasies; see bo.h. */
#include "bo.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lbfgs.h"
#include "util.h"

static void copy_theta(bo_state *s) {
    const int np = s->g.nls + 2;
    s->theta = xmalloc((size_t)np * sizeof *s->theta);
    memcpy(s->theta, s->g.theta, (size_t)np * sizeof *s->theta);
}

gp_status bo_init(bo_state *s, const float *X, const double *y, int n, int d, int q_max, const gp_opts *o,
                  char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (n > o->exact_max) {
        snprintf(err, errlen, "%d points: bo-propose fits an exact GP, at most %d points", n, o->exact_max);
        return GP_EINPUT;
    }
    gp_status st = gp_fit(&s->g, X, y, n, d, o, err, errlen);
    if (st != GP_OK) return st;
    s->d = d;
    s->n = n;
    s->q_max = q_max;
    s->X = xmalloc((size_t)(n + q_max) * d * sizeof *s->X);
    s->y = xmalloc((size_t)(n + q_max) * sizeof *s->y);
    memcpy(s->X, X, (size_t)n * d * sizeof *X);
    memcpy(s->y, y, (size_t)n * sizeof *y);
    s->fbest = -INFINITY;
    for (int i = 0; i < n; i++) s->fbest = fmax(s->fbest, y[i]);
    copy_theta(s);
    s->standard[0] = s->g.y_mean;
    s->standard[1] = s->g.y_std;
    s->refit = *o;
    s->refit.fit_hyper = 0;
    s->refit.theta0 = s->theta;
    s->refit.standard = s->standard;
    s->refit.exact_max = INT_MAX;
    s->refit.hyper_subset = 2; /* the refit's log likelihood is not used: compute it on 2 points only */
    return GP_OK;
}

void bo_free(bo_state *s) {
    gp_free(&s->g);
    free(s->X);
    free(s->y);
    free(s->theta);
    free(s->cand);
    free(s->K);
    free(s->mean);
    free(s->var);
    free(s->taken);
    memset(s, 0, sizeof *s);
}

/* Rows per chunk of the candidates' variance (a (chunk, P) scratch). */
#define VAR_CHUNK 1024

void bo_set_candidates(bo_state *s, const double *C, int B) {
    const int d = s->d, P = s->g.P, ld = s->n + s->q_max;
    const double ys = s->g.y_std, sf2 = exp(s->g.theta[s->g.nls]);
    free(s->cand); free(s->K); free(s->mean); free(s->var); free(s->taken);
    s->B = B;
    s->cand = xmalloc((size_t)B * d * sizeof *s->cand);
    memcpy(s->cand, C, (size_t)B * d * sizeof *C);
    s->K = xmalloc((size_t)B * ld * sizeof *s->K);
    s->mean = xmalloc((size_t)B * sizeof *s->mean);
    s->var = xmalloc((size_t)B * sizeof *s->var);
    s->taken = xcalloc((size_t)B, 1);
    double *T = xmalloc((size_t)VAR_CHUNK * P * sizeof *T);
    for (int b0 = 0; b0 < B; b0 += VAR_CHUNK) {
        const int m = B - b0 < VAR_CHUNK ? B - b0 : VAR_CHUNK;
        gp_kernel(&s->g, C + (size_t)b0 * d, m, s->g.basis, P, T); /* (m, P) */
        for (int i = 0; i < m; i++) {
            memcpy(s->K + (size_t)(b0 + i) * ld, T + (size_t)i * P, (size_t)P * sizeof *T);
            s->mean[b0 + i] = s->g.y_mean + ys * cblas_ddot(P, T + (size_t)i * P, 1, s->g.alpha, 1);
        }
        /* rows of T L^-T are (L^-1 k*)^T: var = sf2 - |L^-1 k*|^2 */
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, m, P, 1.0, s->g.L1, P, T, P);
        for (int i = 0; i < m; i++)
            s->var[b0 + i] = ys * ys * fmax(sf2 - cblas_ddot(P, T + (size_t)i * P, 1, T + (size_t)i * P, 1), 0.0);
    }
    free(T);
}

double bo_candidate_ei(const bo_state *s, int b, double xi) {
    return gp_ei(s->mean[b], sqrt(s->var[b]), s->fbest, xi, NULL, NULL);
}

int bo_best_candidate(const bo_state *s, double xi) {
    int best = -1;
    double best_ei = -1;
    for (int b = 0; b < s->B; b++) {
        if (s->taken[b]) continue;
        const double ei = bo_candidate_ei(s, b, xi);
        if (ei > best_ei) {
            best_ei = ei;
            best = b;
        }
    }
    return best;
}

void bo_predict(const bo_state *s, const double *x, double *mean, double *var) {
    gp_predict_grad(&s->g, x, mean, var, NULL, NULL);
}

typedef struct {
    const bo_state *s;
    double xi;
} neg_ei_ctx;

/* -log EI and its gradient: the logarithm makes the steps independent of EI's scale, which spans
 * hundreds of orders of magnitude away from the data. EI = 0 (underflow) cannot be evaluated. */
static int neg_log_ei(void *ctx, const double *x, double *f, double *grad) {
    const neg_ei_ctx *c = ctx;
    const double ei = gp_ei_x(&c->s->g, x, c->s->fbest, c->xi, grad);
    if (!(ei > 0) || !isfinite(ei)) return -1;
    *f = -log(ei);
    for (int j = 0; j < c->s->d; j++) grad[j] = -grad[j] / ei;
    return 0;
}

double bo_refine(const bo_state *s, double *x, const double *lo, const double *hi, int iters, double xi) {
    neg_ei_ctx c = {s, xi};
    double *x0 = xmalloc((size_t)s->d * sizeof *x0);
    memcpy(x0, x, (size_t)s->d * sizeof *x0);
    const double e0 = gp_ei_x(&s->g, x0, s->fbest, xi, NULL);
    double e = iters > 0 && e0 > 0 ? exp(-lbfgs_box(neg_log_ei, &c, x, s->d, lo, hi, iters)) : e0;
    if (!(e >= e0)) { /* the box clamp or a failed start: keep the start */
        memcpy(x, x0, (size_t)s->d * sizeof *x0);
        e = e0;
    }
    free(x0);
    return e;
}

gp_status bo_fantasize(bo_state *s, const double *x, char *err, size_t errlen) {
    if (s->nf >= s->q_max) {
        snprintf(err, errlen, "no room for another fantasised point (%d)", s->q_max);
        return GP_EINPUT;
    }
    const int d = s->d, P = s->g.P, ld = s->n + s->q_max;
    const double ys2 = s->g.y_std * s->g.y_std;
    /* the point as the refit stores it (float32, like the latents written out) */
    double *xr = xmalloc((size_t)d * sizeof *xr);
    for (int j = 0; j < d; j++) xr[j] = (float)x[j];
    x = xr;
    double mean, var;
    gp_predict_grad(&s->g, x, &mean, &var, NULL, NULL);
    const double denom = var + gp_noise_var(&s->g);
    /* w = (K + sn2 I)^-1 k*(x) = L^-T L^-1 k*(x) (P) */
    double *w = xmalloc((size_t)P * sizeof *w);
    gp_kernel(&s->g, x, 1, s->g.basis, P, w);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, P, s->g.L1, P, w, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, P, s->g.L1, P, w, 1);
    if (s->B > 0) {
        double *kx = xmalloc((size_t)s->B * sizeof *kx), *cov = xmalloc((size_t)s->B * sizeof *cov);
        gp_kernel(&s->g, s->cand, s->B, x, 1, kx); /* (B, 1) */
        memcpy(cov, kx, (size_t)s->B * sizeof *cov);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, s->B, P, -1.0, s->K, ld, w, 1, 1.0, cov, 1);
        for (int b = 0; b < s->B; b++) {
            const double c = ys2 * cov[b];
            s->var[b] = fmax(s->var[b] - c * c / denom, 0.0);
            s->K[(size_t)b * ld + P] = kx[b];
        }
        free(kx);
        free(cov);
    }
    free(w);
    for (int j = 0; j < d; j++) s->X[(size_t)(s->n + s->nf) * d + j] = (float)x[j];
    free(xr);
    s->y[s->n + s->nf] = mean;
    s->nf++;
    s->fbest = fmax(s->fbest, mean);
    gp_free(&s->g);
    return gp_fit(&s->g, s->X, s->y, s->n + s->nf, d, &s->refit, err, errlen);
}
