/* test_cnn.c: lib/cnn.c, every layer's forward against direct loops and every backward against
 * central finite differences.
 *
 * Gradients: the loss is a fixed random projection of a layer's output, L = sum_i p_i * out_i
 * (accumulated in double from the float32 forward), so dL/dout = p is what the backward receives.
 * Each input and parameter element x is perturbed by +-EPS and (L(x+EPS) - L(x-EPS)) / (2 EPS) is
 * compared with the analytic gradient: |a - n| <= RTOL * max(|a|,|n|) + ATOL. EPS is large (1e-2)
 * because conv, pools and the projection are linear (exact up to float rounding, which a larger
 * step divides away); BN is smooth, its O(EPS^2) truncation error stays ~1e-4. Max-pool inputs are
 * distinct values 0.05 apart, so a +-EPS step never changes which pixel wins a window.
 * Gradient buffers start at GRAD0 != 0, subtracted afterwards: this checks every backward
 * accumulates (+=). The checker is shown to reject a gradient that is 3% off in one element.
 * Deterministic (own xorshift PRNG), one BLAS thread. Prints "N passed, M failed"; exits 1 on
 * any failure. */
#include "cnn.h"
#include "nn.h"

#include "check.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads);

#define EPS 1e-2f
#define RTOL 1e-2
#define ATOL 1e-3
#define GRAD0 0.25f

/* ---- deterministic PRNG: xorshift64*, uniform floats in [lo, hi) ---- */
static unsigned long long rng_state = 0x2545F4914F6CDD1DULL;

static double urand01(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 40) / 16777216.0;
}

static float *fbuf(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) { perror("calloc"); exit(2); }
    return p;
}

static float *rand_buf(size_t n, float lo, float hi) {
    float *p = fbuf(n);
    for (size_t k = 0; k < n; k++) p[k] = lo + (hi - lo) * (float)urand01();
    return p;
}

/* n distinct values 0.05 apart in random order (for max pool: no near-ties). */
static float *distinct_buf(size_t n) {
    float *p = fbuf(n);
    for (size_t k = 0; k < n; k++) p[k] = 0.05f * (float)k - 0.025f * (float)n;
    for (size_t k = n; k > 1; k--) { // Fisher-Yates
        size_t j = (size_t)(urand01() * (double)k);
        float t = p[k - 1]; p[k - 1] = p[j]; p[j] = t;
    }
    return p;
}

static float *grad_buf(size_t n) {
    float *p = fbuf(n);
    for (size_t k = 0; k < n; k++) p[k] = GRAD0;
    return p;
}

static void grad_finish(float *g, size_t n) {
    if (g)
        for (size_t k = 0; k < n; k++) g[k] -= GRAD0;
}

static double project(const float *out, const float *p, size_t n) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (double)out[k] * p[k];
    return s;
}

/* ---- the finite-difference checker ---- */
typedef double (*loss_fn)(void *ctx);
typedef struct {
    const char *name;
    float *x;          /* the tensor perturbed in place */
    const float *grad; /* its analytic gradient */
    size_t n;
} tensor_grad;

/* 1 if every element of t agrees; prints the worst element otherwise (unless quiet). */
static int fd_compare(const char *layer, loss_fn f, void *ctx, const tensor_grad *t, int quiet) {
    int ok = 1;
    double worst = 0.0, wa = 0.0, wn = 0.0;
    size_t wi = 0;
    for (size_t k = 0; k < t->n; k++) {
        float save = t->x[k];
        t->x[k] = save + EPS;
        double lp = f(ctx);
        t->x[k] = save - EPS;
        double lm = f(ctx);
        t->x[k] = save;
        double num = (lp - lm) / (2.0 * EPS), ana = t->grad[k];
        double err = fabs(ana - num), tol = RTOL * fmax(fabs(ana), fabs(num)) + ATOL;
        if (err > tol) ok = 0;
        if (err / tol > worst) { worst = err / tol; wi = k; wa = ana; wn = num; }
    }
    if (!ok && !quiet)
        fprintf(stderr, "  %s d%s[%zu]: analytic %.6g numeric %.6g\n", layer, t->name, wi, wa, wn);
    return ok;
}

static void fd_check_all(const char *layer, loss_fn f, void *ctx, const tensor_grad *ts, int nt) {
    char what[160];
    for (int k = 0; k < nt; k++) {
        snprintf(what, sizeof what, "%s: gradient of %s", layer, ts[k].name);
        check(fd_compare(layer, f, ctx, &ts[k], 0), __LINE__, what);
    }
}

/* max |a - b| / (1 + |b|) over n elements */
static double max_rel_diff(const float *a, const double *b, size_t n) {
    double m = 0.0;
    for (size_t k = 0; k < n; k++) m = fmax(m, fabs(a[k] - b[k]) / (1.0 + fabs(b[k])));
    return m;
}

/* ================================================================ conv2d */
typedef struct {
    int N, C, H, W, OC, K, S, P, OH, OW;
    float *x, *Wt, *b, *out, *p, *scratch;
} conv_ctx;

static double conv_loss(void *v) {
    conv_ctx *c = v;
    conv2d_forward(c->out, c->scratch, c->x, c->Wt, c->b, c->N, c->C, c->H, c->W, c->OC, c->K, c->S,
                   c->P);
    return project(c->out, c->p, (size_t)c->N * c->OC * c->OH * c->OW);
}

/* The definition of a convolution, as a direct loop in double. */
static void conv_direct(double *ref, const conv_ctx *c) {
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->OC; o++)
            for (int y = 0; y < c->OH; y++)
                for (int x = 0; x < c->OW; x++) {
                    double s = c->b ? c->b[o] : 0.0;
                    for (int ch = 0; ch < c->C; ch++)
                        for (int i = 0; i < c->K; i++)
                            for (int j = 0; j < c->K; j++) {
                                int iy = y * c->S - c->P + i, ix = x * c->S - c->P + j;
                                if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                                s += (double)c->Wt[((o * c->C + ch) * c->K + i) * c->K + j] *
                                     c->x[((n * c->C + ch) * c->H + iy) * c->W + ix];
                            }
                    ref[((n * c->OC + o) * c->OH + y) * c->OW + x] = s;
                }
}

static void test_conv(int N, int C, int H, int W, int OC, int K, int S, int P, int bias) {
    char name[96];
    snprintf(name, sizeof name, "conv2d N%d C%d %dx%d OC%d K%d S%d P%d%s", N, C, H, W, OC, K, S, P,
             bias ? "" : " nobias");
    conv_ctx c = {N, C, H, W, OC, K, S, P, conv_out_size(H, K, S, P), conv_out_size(W, K, S, P),
                  0, 0, 0, 0, 0, 0};
    size_t nx = (size_t)N * C * H * W, nw = (size_t)OC * C * K * K;
    size_t no = (size_t)N * OC * c.OH * c.OW;
    c.x = rand_buf(nx, -1, 1);
    c.Wt = rand_buf(nw, -1, 1);
    c.b = bias ? rand_buf((size_t)OC, -1, 1) : NULL;
    c.out = fbuf(no);
    c.p = rand_buf(no, -1, 1);
    c.scratch = fbuf(conv2d_scratch_size(C, H, W, K, S, P));

    /* forward: im2col + sgemm against the direct loop */
    double *ref = malloc(no * sizeof(double));
    conv_loss(&c);
    conv_direct(ref, &c);
    char what[160];
    snprintf(what, sizeof what, "%s: forward equals the direct loop", name);
    check(max_rel_diff(c.out, ref, no) < 1e-5, __LINE__, what);

    float *dx = grad_buf(nx), *dW = grad_buf(nw), *db = bias ? grad_buf((size_t)OC) : NULL;
    conv2d_backward(dx, dW, db, c.scratch, c.p, c.x, c.Wt, N, C, H, W, OC, K, S, P);
    grad_finish(dx, nx); grad_finish(dW, nw); grad_finish(db, (size_t)OC);
    tensor_grad ts[] = {{"x", c.x, dx, nx}, {"W", c.Wt, dW, nw}, {"b", c.b, db, (size_t)OC}};
    fd_check_all(name, conv_loss, &c, ts, bias ? 3 : 2);

    /* NULL gradients are skipped: dinp alone equals the dinp of the full call */
    float *dx2 = grad_buf(nx);
    conv2d_backward(dx2, NULL, NULL, c.scratch, c.p, c.x, c.Wt, N, C, H, W, OC, K, S, P);
    grad_finish(dx2, nx);
    snprintf(what, sizeof what, "%s: dinp alone (dW, db NULL)", name);
    check(memcmp(dx, dx2, nx * sizeof(float)) == 0, __LINE__, what);

    free(ref); free(dx); free(dx2); free(dW); free(db);
    free(c.x); free(c.Wt); free(c.b); free(c.out); free(c.p); free(c.scratch);
}

/* The checker must reject a gradient that is 3% off in one element. */
static void test_checker_rejects(void) {
    conv_ctx c = {2, 2, 4, 4, 3, 3, 1, 1, 4, 4, 0, 0, 0, 0, 0, 0};
    size_t nx = 64, nw = 54, no = 96;
    c.x = rand_buf(nx, -1, 1); c.Wt = rand_buf(nw, -1, 1); c.b = NULL;
    c.out = fbuf(no); c.p = rand_buf(no, -1, 1);
    c.scratch = fbuf(conv2d_scratch_size(2, 4, 4, 3, 1, 1));
    float *dW = fbuf(nw);
    conv2d_backward(NULL, dW, NULL, c.scratch, c.p, c.x, c.Wt, 2, 2, 4, 4, 3, 3, 1, 1);
    tensor_grad t = {"W", c.Wt, dW, nw};
    CHECK(fd_compare("conv2d", conv_loss, &c, &t, 0));
    dW[7] *= 1.03f;
    if (fabsf(dW[7]) < 0.05f) dW[7] += 0.05f;
    check(!fd_compare("conv2d", conv_loss, &c, &t, 1), __LINE__, "checker rejects a wrong gradient");
    free(c.x); free(c.Wt); free(c.out); free(c.p); free(c.scratch); free(dW);
}

/* ============================================================== dwconv2d */
typedef struct { int N, C, H, W, K, S, P, OH, OW; float *x, *Wt, *out, *p; } dw_ctx;

static double dw_loss(void *v) {
    dw_ctx *c = v;
    dwconv2d_forward(c->out, c->x, c->Wt, c->N, c->C, c->H, c->W, c->K, c->S, c->P);
    return project(c->out, c->p, (size_t)c->N * c->C * c->OH * c->OW);
}

static void test_dwconv(int N, int C, int H, int W, int K, int S, int P) {
    char name[96], what[160];
    snprintf(name, sizeof name, "dwconv2d N%d C%d %dx%d K%d S%d P%d", N, C, H, W, K, S, P);
    dw_ctx c = {N, C, H, W, K, S, P, conv_out_size(H, K, S, P), conv_out_size(W, K, S, P), 0, 0, 0, 0};
    size_t nx = (size_t)N * C * H * W, nw = (size_t)C * K * K, no = (size_t)N * C * c.OH * c.OW;
    c.x = rand_buf(nx, -1, 1); c.Wt = rand_buf(nw, -1, 1);
    c.out = fbuf(no); c.p = rand_buf(no, -1, 1);
    dw_loss(&c);

    /* forward: equals a full conv2d whose weight is block-diagonal (zero across channels) */
    conv_ctx f = {N, C, H, W, C, K, S, P, c.OH, c.OW, c.x, fbuf((size_t)C * C * K * K), NULL,
                  fbuf(no), NULL, fbuf(conv2d_scratch_size(C, H, W, K, S, P))};
    for (int ch = 0; ch < C; ch++)
        memcpy(f.Wt + ((size_t)ch * C + ch) * K * K, c.Wt + (size_t)ch * K * K, (size_t)K * K * sizeof(float));
    double *ref = malloc(no * sizeof(double));
    conv_direct(ref, &f);
    snprintf(what, sizeof what, "%s: forward equals a block-diagonal conv", name);
    check(max_rel_diff(c.out, ref, no) < 1e-5, __LINE__, what);

    float *dx = grad_buf(nx), *dW = grad_buf(nw);
    dwconv2d_backward(dx, dW, c.p, c.x, c.Wt, N, C, H, W, K, S, P);
    grad_finish(dx, nx); grad_finish(dW, nw);
    tensor_grad ts[] = {{"x", c.x, dx, nx}, {"W", c.Wt, dW, nw}};
    fd_check_all(name, dw_loss, &c, ts, 2);
    free(ref); free(f.Wt); free(f.out); free(f.scratch); free(dx); free(dW);
    free(c.x); free(c.Wt); free(c.out); free(c.p);
}

/* =========================================================== batchnorm2d */
typedef struct { int N, C, HW; float *x, *gamma, *beta, *out, *cache, *p; } bn_ctx;

static double bn_loss(void *v) {
    bn_ctx *c = v; // running stats NULL: the loss must not change them
    batchnorm2d_forward_train(c->out, c->cache, c->x, c->gamma, c->beta, NULL, NULL, c->N, c->C,
                              c->HW, BN_MOMENTUM, BN_EPS);
    return project(c->out, c->p, (size_t)c->N * c->C * c->HW);
}

static void test_batchnorm(void) {
    enum { N = 3, C = 2, HW = 6 };
    const size_t nx = N * C * HW;
    bn_ctx c = {N, C, HW, rand_buf(nx, -2, 2), rand_buf(C, 0.5f, 1.5f), rand_buf(C, -1, 1),
                fbuf(nx), fbuf(batchnorm2d_cache_size(C)), rand_buf(nx, -1, 1)};
    for (size_t k = 0; k < N * HW; k++) c.x[(k / HW) * C * HW + HW + k % HW] += 3.0f; // channel 1 off 0

    /* gradients, affine */
    bn_loss(&c);
    float *dx = grad_buf(nx), *dg = grad_buf(C), *dbt = grad_buf(C);
    batchnorm2d_backward(dx, dg, dbt, c.p, c.x, c.cache, c.gamma, N, C, HW);
    grad_finish(dx, nx); grad_finish(dg, C); grad_finish(dbt, C);
    tensor_grad ts[] = {{"x", c.x, dx, nx}, {"gamma", c.gamma, dg, C}, {"beta", c.beta, dbt, C}};
    fd_check_all("batchnorm2d train", bn_loss, &c, ts, 3);

    /* gradients, affine=False (gamma, beta NULL) */
    float *gsave = c.gamma, *bsave = c.beta;
    c.gamma = c.beta = NULL;
    bn_loss(&c);
    float *dx0 = grad_buf(nx);
    batchnorm2d_backward(dx0, NULL, NULL, c.p, c.x, c.cache, NULL, N, C, HW);
    grad_finish(dx0, nx);
    tensor_grad t0 = {"x", c.x, dx0, nx};
    fd_check_all("batchnorm2d train affine=False", bn_loss, &c, &t0, 1);

    /* forward, training mode, no affine: per channel mean ~0, biased var ~1 (minus the eps) */
    int ok = 1;
    for (int ch = 0; ch < C; ch++) {
        double s = 0, s2 = 0;
        for (int n = 0; n < N; n++)
            for (int k = 0; k < HW; k++) {
                double v = c.out[(n * C + ch) * HW + k];
                s += v; s2 += v * v;
            }
        double mean = s / (N * HW), var = s2 / (N * HW) - mean * mean;
        if (fabs(mean) > 1e-5 || fabs(var - 1.0) > 1e-3) ok = 0;
    }
    CHECK(ok); // normalized output: mean 0, var 1 per channel
    c.gamma = gsave; c.beta = bsave;

    /* running statistics after one step from (0, 1): momentum 0.1, unbiased variance */
    float rm[C] = {0, 0}, rv[C] = {1, 1};
    batchnorm2d_forward_train(c.out, c.cache, c.x, c.gamma, c.beta, rm, rv, N, C, HW, BN_MOMENTUM, BN_EPS);
    ok = 1;
    for (int ch = 0; ch < C; ch++) {
        double s = 0, s2 = 0;
        for (int n = 0; n < N; n++)
            for (int k = 0; k < HW; k++) s += c.x[(n * C + ch) * HW + k];
        double mean = s / (N * HW);
        for (int n = 0; n < N; n++)
            for (int k = 0; k < HW; k++) {
                double d = c.x[(n * C + ch) * HW + k] - mean;
                s2 += d * d;
            }
        double unb = s2 / (N * HW - 1);
        if (fabs(rm[ch] - 0.1 * mean) > 1e-5 || fabs(rv[ch] - (0.9 + 0.1 * unb)) > 1e-5) ok = 0;
    }
    CHECK(ok); // running_mean = 0.1*mean, running_var = 0.9 + 0.1*unbiased var

    /* inference mode: the running statistics, not the batch's */
    float *eo = fbuf(nx);
    batchnorm2d_forward_eval(eo, c.x, c.gamma, c.beta, rm, rv, N, C, HW, BN_EPS);
    ok = 1;
    for (int n = 0; n < N; n++)
        for (int ch = 0; ch < C; ch++)
            for (int k = 0; k < HW; k++) {
                size_t at = ((size_t)n * C + ch) * HW + k;
                double want = c.gamma[ch] * (c.x[at] - rm[ch]) / sqrt(rv[ch] + 1e-5) + c.beta[ch];
                if (fabs(eo[at] - want) > 1e-4 * (1 + fabs(want))) ok = 0;
            }
    CHECK(ok); // eval: gamma * (x - running_mean) / sqrt(running_var + eps) + beta

    free(dx); free(dg); free(dbt); free(dx0); free(eo);
    free(c.x); free(c.gamma); free(c.beta); free(c.out); free(c.cache); free(c.p);
}

/* ================================================================= pools */
typedef struct { int kind, N, C, H, W, K, S, P, OH, OW; float *x, *out, *p; int *am; } pool_ctx;
enum { MAXP, AVGP, GAP };

static double pool_loss(void *v) {
    pool_ctx *c = v;
    if (c->kind == MAXP) maxpool2d_forward(c->out, c->am, c->x, c->N, c->C, c->H, c->W, c->K, c->S, c->P);
    else if (c->kind == AVGP) avgpool2d_forward(c->out, c->x, c->N, c->C, c->H, c->W, c->K, c->S, c->P);
    else global_avgpool_forward(c->out, c->x, c->N, c->C, c->H * c->W);
    return project(c->out, c->p, (size_t)c->N * c->C * c->OH * c->OW);
}

/* Direct reference: max, or mean over the real pixels of each window (count_include_pad=False). */
static void pool_direct(double *ref, const pool_ctx *c) {
    for (int nc = 0; nc < c->N * c->C; nc++)
        for (int y = 0; y < c->OH; y++)
            for (int x = 0; x < c->OW; x++) {
                double best = -INFINITY, s = 0;
                int cnt = 0;
                for (int i = 0; i < c->K; i++)
                    for (int j = 0; j < c->K; j++) {
                        int iy = y * c->S - c->P + i, ix = x * c->S - c->P + j;
                        if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                        double v = c->x[(nc * c->H + iy) * c->W + ix];
                        best = fmax(best, v); s += v; cnt++;
                    }
                ref[(nc * c->OH + y) * c->OW + x] = c->kind == MAXP ? best : s / cnt;
            }
}

static void test_pool(int kind, int N, int C, int H, int W, int K, int S, int P) {
    char name[96], what[160];
    static const char *kn[] = {"maxpool2d", "avgpool2d", "global_avgpool"};
    snprintf(name, sizeof name, "%s N%d C%d %dx%d K%d S%d P%d", kn[kind], N, C, H, W, K, S, P);
    pool_ctx c = {kind, N, C, H, W, K, S, P, conv_out_size(H, K, S, P), conv_out_size(W, K, S, P),
                  0, 0, 0, 0};
    size_t nx = (size_t)N * C * H * W, no = (size_t)N * C * c.OH * c.OW;
    c.x = kind == MAXP ? distinct_buf(nx) : rand_buf(nx, -1, 1);
    c.out = fbuf(no); c.p = rand_buf(no, -1, 1);
    c.am = calloc(no, sizeof(int));
    pool_loss(&c);
    double *ref = malloc(no * sizeof(double));
    pool_direct(ref, &c);
    snprintf(what, sizeof what, "%s: forward equals the direct loop", name);
    check(max_rel_diff(c.out, ref, no) < 1e-6, __LINE__, what);

    float *dx = grad_buf(nx);
    if (kind == MAXP) maxpool2d_backward(dx, c.p, c.am, N, C, H, W, K, S, P);
    else if (kind == AVGP) avgpool2d_backward(dx, c.p, N, C, H, W, K, S, P);
    else global_avgpool_backward(dx, c.p, N, C, H * W);
    grad_finish(dx, nx);
    tensor_grad t = {"x", c.x, dx, nx};
    fd_check_all(name, pool_loss, &c, &t, 1);
    free(ref); free(dx); free(c.x); free(c.out); free(c.p); free(c.am);
}

/* ======================================= softmax cross-entropy (nn.h) on (N,10) logits */
typedef struct { int N, K; float *logits, *probs; const int *y; } ce_ctx;

static double ce_loss(void *v) {
    ce_ctx *c = v;
    return crossentropy_forward(c->probs, c->logits, c->y, NULL, c->N, c->K);
}

static void test_crossentropy(void) {
    enum { N = 4, K = 10 };
    static const int y[N] = {3, 0, 9, 3};
    ce_ctx c = {N, K, rand_buf(N * K, -3, 3), fbuf(N * K), y};
    double L = ce_loss(&c), want = 0;
    for (int n = 0; n < N; n++) { // mean over the batch of -log softmax[target], directly
        double s = 0;
        for (int k = 0; k < K; k++) s += exp(c.logits[n * K + k]);
        want += (log(s) - c.logits[n * K + y[n]]) / N;
    }
    CHECK(fabs(L - want) < 1e-5);
    float *dl = grad_buf(N * K);
    crossentropy_backward(dl, c.probs, y, NULL, 1.0f, N, K);
    grad_finish(dl, N * K);
    tensor_grad t = {"logits", c.logits, dl, N * K};
    fd_check_all("softmax cross-entropy", ce_loss, &c, &t, 1);
    free(c.logits); free(c.probs); free(dl);
}

int main(void) {
    openblas_set_num_threads(1);
    test_checker_rejects();
    /* conv2d: 3x3 same, 3x3 stride 2, 1x1 (the no-im2col path), 1x1 stride 2, 5x5 stride 2,
     * non-square images, with and without bias */
    test_conv(2, 3, 5, 6, 4, 3, 1, 1, 1);
    test_conv(2, 3, 6, 5, 4, 3, 2, 1, 0);
    test_conv(2, 3, 4, 5, 4, 1, 1, 0, 1);
    test_conv(2, 3, 5, 5, 2, 1, 2, 0, 0);
    test_conv(1, 2, 7, 6, 3, 5, 2, 2, 1);
    test_conv(2, 2, 4, 4, 3, 3, 1, 0, 0);
    test_dwconv(2, 3, 5, 6, 3, 1, 1);
    test_dwconv(2, 2, 7, 6, 5, 2, 2);
    test_batchnorm();
    test_pool(MAXP, 2, 2, 5, 6, 3, 1, 1); // NB101 maxpool3x3
    test_pool(MAXP, 2, 2, 6, 4, 2, 2, 0); // 2x2 downsampling
    test_pool(AVGP, 2, 2, 5, 6, 3, 1, 1); // avg_pool_3x3, count_include_pad=False
    test_pool(AVGP, 2, 2, 6, 5, 3, 2, 1);
    {   // global average pool: OH = OW = 1 in the context
        char what[64];
        pool_ctx c = {GAP, 2, 3, 4, 5, 0, 1, 0, 1, 1, 0, 0, 0, 0};
        size_t nx = 120;
        c.x = rand_buf(nx, -1, 1); c.out = fbuf(6); c.p = rand_buf(6, -1, 1);
        pool_loss(&c);
        double m = 0;
        for (int k = 0; k < 20; k++) m += c.x[20 + k];
        snprintf(what, sizeof what, "global_avgpool: forward is the plane mean");
        check(fabs(c.out[1] - m / 20) < 1e-6, __LINE__, what);
        float *dx = grad_buf(nx);
        global_avgpool_backward(dx, c.p, 2, 3, 20);
        grad_finish(dx, nx);
        tensor_grad t = {"x", c.x, dx, nx};
        fd_check_all("global_avgpool", pool_loss, &c, &t, 1);
        free(dx); free(c.x); free(c.out); free(c.p);
    }
    test_crossentropy();
    return check_summary();
}
