/* test_cnn.c: lib/cnn.c's NCHW window kernels (depthwise conv, pools) and nn.h's cross-entropy:
 * every forward against direct loops and every backward against central finite differences
 * (fdcheck.h). The channel-major kernels (im2col, batch norm, the fast max pools) are tested
 * through the executor in test_cellnet.
 *
 * Gradients: the loss is a fixed random projection of a layer's output, L = sum_i p_i * out_i
 * (accumulated in double from the float32 forward), so dL/dout = p is what the backward receives.
 * Each input and parameter element x is perturbed by +-EPS (and the other steps of fdcheck.h) and
 * (L(x+EPS) - L(x-EPS)) / (2 EPS) is compared with the analytic gradient: |a - n| <= RTOL *
 * max(|a|,|n|) + ATOL. EPS is large (1e-2) because conv, pools and the projection are linear (exact
 * up to float rounding, which a larger step divides away). Max-pool inputs are distinct values
 * 0.05 apart, so a +-EPS step never changes which pixel wins a window.
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

#include "fdcheck.h"

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

/* ---- the finite-difference checks of a layer's tensors (fdcheck.h) ---- */
static void fd_check_all(const char *layer, fd_loss_fn f, void *ctx, const fd_tensor *ts, int nt) {
    char what[160];
    for (int k = 0; k < nt; k++) {
        snprintf(what, sizeof what, "%s: gradient of %s", layer, ts[k].name);
        check(fd_compare_tensor(layer, f, ctx, &ts[k], 0), __LINE__, what);
    }
}

/* max |a - b| / (1 + |b|) over n elements */
static double max_rel_diff(const float *a, const double *b, size_t n) {
    double m = 0.0;
    for (size_t k = 0; k < n; k++) m = fmax(m, fabs(a[k] - b[k]) / (1.0 + fabs(b[k])));
    return m;
}

/* ============================================ reference convolution */
typedef struct {
    int N, C, H, W, OC, K, S, P, OH, OW;
    float *x, *Wt, *b;
} conv_ctx;

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
    conv_ctx f = {N, C, H, W, C, K, S, P, c.OH, c.OW, c.x, fbuf((size_t)C * C * K * K), NULL};
    for (int ch = 0; ch < C; ch++)
        memcpy(f.Wt + ((size_t)ch * C + ch) * K * K, c.Wt + (size_t)ch * K * K, (size_t)K * K * sizeof(float));
    double *ref = malloc(no * sizeof(double));
    conv_direct(ref, &f);
    snprintf(what, sizeof what, "%s: forward equals a block-diagonal conv", name);
    check(max_rel_diff(c.out, ref, no) < 1e-5, __LINE__, what);

    float *dx = grad_buf(nx), *dW = grad_buf(nw);
    dwconv2d_backward(dx, dW, c.p, c.x, c.Wt, N, C, H, W, K, S, P);
    grad_finish(dx, nx); grad_finish(dW, nw);
    fd_tensor ts[] = {{"x", c.x, dx, nx}, {"W", c.Wt, dW, nw}};
    fd_check_all(name, dw_loss, &c, ts, 2);
    free(ref); free(f.Wt); free(dx); free(dW);
    free(c.x); free(c.Wt); free(c.out); free(c.p);
}

/* The checker must reject a gradient that is 3% off in one element. */
static void test_checker_rejects(void) {
    dw_ctx c = {2, 2, 4, 4, 3, 1, 1, 4, 4, 0, 0, 0, 0};
    size_t nx = 64, nw = 18, no = 64;
    c.x = rand_buf(nx, -1, 1); c.Wt = rand_buf(nw, -1, 1);
    c.out = fbuf(no); c.p = rand_buf(no, -1, 1);
    float *dW = fbuf(nw);
    dwconv2d_backward(NULL, dW, c.p, c.x, c.Wt, 2, 2, 4, 4, 3, 1, 1);
    CHECK(fd_compare("dwconv2d dW", dw_loss, &c, c.Wt, dW, nw, 0));
    dW[7] *= 1.03f;
    if (fabsf(dW[7]) < 0.05f) dW[7] += 0.05f;
    check(!fd_compare("dwconv2d dW", dw_loss, &c, c.Wt, dW, nw, 1), __LINE__, "checker rejects a wrong gradient");
    free(c.x); free(c.Wt); free(c.out); free(c.p); free(dW);
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
    fd_tensor t = {"x", c.x, dx, nx};
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
    fd_tensor t = {"logits", c.logits, dl, N * K};
    fd_check_all("softmax cross-entropy", ce_loss, &c, &t, 1);
    free(c.logits); free(c.probs); free(dl);
}

int main(void) {
    openblas_set_num_threads(1);
    test_checker_rejects();
    test_dwconv(2, 3, 5, 6, 3, 1, 1);
    test_dwconv(2, 2, 7, 6, 5, 2, 2);
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
        fd_tensor t = {"x", c.x, dx, nx};
        fd_check_all("global_avgpool", pool_loss, &c, &t, 1);
        free(dx); free(c.x); free(c.out); free(c.p);
    }
    test_crossentropy();
    return check_summary();
}
