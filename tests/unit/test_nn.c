/* test_nn.c: lib/nn.c, every layer's backward against central finite differences.
 *
 * For each layer the loss is a fixed random projection of its output, L = sum_i p_i * out_i
 * (computed in double from the float32 forward), so dL/dout = p is what the backward receives.
 * Each input and parameter element x is perturbed by +-EPS and (L(x+EPS) - L(x-EPS)) / (2 EPS)
 * is compared with the analytic gradient: |a - n| <= RTOL * max(|a|,|n|) + ATOL (fdcheck.h, which
 * also tries EPS/4 and 8*EPS).
 * Gradient buffers start at a nonzero value GRAD0 that is subtracted afterwards, which checks that
 * every backward accumulates (+=) instead of overwriting. The checker itself is checked to reject
 * a slightly wrong gradient. Deterministic (own xorshift PRNG). Prints "N passed, M failed";
 * exits 1 on any failure. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-3f
#define RTOL 1e-2
#define ATOL 2e-4
#define GRAD0 0.25f

#include "fdcheck.h"

static int n_pass, n_fail;

static void check(int ok, const char *what) {
    if (ok) n_pass++;
    else {
        n_fail++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

/* ---- deterministic PRNG: xorshift64*, uniform floats in [lo, hi) ---- */
static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;

static float urand(float lo, float hi) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    unsigned long long v = rng_state * 2685821657736338717ULL;
    return lo + (hi - lo) * (float)((v >> 40) / 16777216.0);
}

static float *rand_buf(size_t n, float lo, float hi) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) { perror("malloc"); exit(2); }
    for (size_t i = 0; i < n; i++) p[i] = urand(lo, hi);
    return p;
}

/* Gradient buffer pre-filled with GRAD0 (see grad_finish). */
static float *grad_buf(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) { perror("malloc"); exit(2); }
    for (size_t i = 0; i < n; i++) p[i] = GRAD0;
    return p;
}

static void grad_finish(float *g, size_t n) {
    for (size_t i = 0; i < n; i++) g[i] -= GRAD0;
}

static double project(const float *out, const float *p, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * p[i];
    return s;
}

/* ---- the finite-difference checks of a layer's tensors (fdcheck.h) ---- */
static void fd_check_all(const char *layer, fd_loss_fn f, void *ctx, const fd_tensor *ts, int nt) {
    char what[128];
    for (int i = 0; i < nt; i++) {
        snprintf(what, sizeof what, "%s: gradient of %s", layer, ts[i].name);
        check(fd_compare_tensor(layer, f, ctx, &ts[i], 0), what);
    }
}

/* ================================================================ linear */
typedef struct { int B, C, OC; float *x, *W, *b, *out, *p; } linear_ctx;

static double linear_loss(void *v) {
    linear_ctx *c = v;
    linear_forward(c->out, c->x, c->W, c->b, c->B, c->C, c->OC);
    return project(c->out, c->p, (size_t)c->B * c->OC);
}

static void test_linear(void) {
    linear_ctx c = {3, 4, 5, 0, 0, 0, 0, 0};
    c.x = rand_buf((size_t)c.B * c.C, -1, 1);     // (B,C)
    c.W = rand_buf((size_t)c.OC * c.C, -1, 1);    // (OC,C)
    c.b = rand_buf((size_t)c.OC, -1, 1);          // (OC)
    c.out = rand_buf((size_t)c.B * c.OC, 0, 0);   // (B,OC)
    c.p = rand_buf((size_t)c.B * c.OC, -1, 1);    // (B,OC)
    float *dx = grad_buf((size_t)c.B * c.C), *dW = grad_buf((size_t)c.OC * c.C), *db = grad_buf((size_t)c.OC);
    linear_loss(&c);
    linear_backward(dx, dW, db, c.p, c.x, c.W, c.B, c.C, c.OC);
    grad_finish(dx, (size_t)c.B * c.C); grad_finish(dW, (size_t)c.OC * c.C); grad_finish(db, (size_t)c.OC);
    fd_tensor ts[] = {{"x", c.x, dx, (size_t)c.B * c.C}, {"W", c.W, dW, (size_t)c.OC * c.C},
                        {"b", c.b, db, (size_t)c.OC}};
    fd_check_all("linear", linear_loss, &c, ts, 3);

    /* forward against a plain loop */
    linear_forward(c.out, c.x, c.W, c.b, c.B, c.C, c.OC);
    int ok = 1;
    for (int i = 0; i < c.B; i++)
        for (int o = 0; o < c.OC; o++) {
            double s = c.b[o];
            for (int k = 0; k < c.C; k++) s += (double)c.x[i * c.C + k] * c.W[o * c.C + k];
            if (fabs(s - c.out[i * c.OC + o]) > 1e-5) ok = 0;
        }
    check(ok, "linear: forward equals x W^T + b");
    /* without bias */
    linear_forward(c.out, c.x, c.W, NULL, c.B, c.C, c.OC);
    ok = 1;
    for (int i = 0; i < c.B; i++) {
        double s = 0;
        for (int k = 0; k < c.C; k++) s += (double)c.x[i * c.C + k] * c.W[2 * c.C + k];
        if (fabs(s - c.out[i * c.OC + 2]) > 1e-5) ok = 0;
    }
    check(ok, "linear: forward without bias");

    /* the checker must reject a gradient that is 3% off in one element */
    dW[5] *= 1.03f;
    if (fabs(dW[5]) < 0.05f) dW[5] += 0.05f;
    check(!fd_compare_tensor("linear", linear_loss, &c, &ts[1], 1), "checker rejects a wrong gradient");
    free(c.x); free(c.W); free(c.b); free(c.out); free(c.p); free(dx); free(dW); free(db);
}

/* ============================================================= embedding */
typedef struct { int B, C; const int *idx; float *table, *out, *p; } emb_ctx;

static double emb_loss(void *v) {
    emb_ctx *c = v;
    embedding_forward(c->out, c->idx, c->table, c->B, c->C);
    return project(c->out, c->p, (size_t)c->B * c->C);
}

static void test_embedding(void) {
    enum { K = 4, B = 6, C = 3 };
    static const int idx[B] = {2, 0, 2, 3, 2, 0}; // repeats: scatter must add; row 1 never used
    emb_ctx c = {B, C, idx, rand_buf(K * C, -1, 1), rand_buf(B * C, 0, 0), rand_buf(B * C, -1, 1)};
    float *dt = grad_buf(K * C);
    emb_loss(&c);
    check(memcmp(c.out + 3 * C, c.table + 3 * C, C * sizeof(float)) == 0, "embedding: forward row lookup");
    embedding_backward(dt, c.p, idx, B, C);
    grad_finish(dt, K * C);
    fd_tensor ts[] = {{"table", c.table, dt, K * C}};
    fd_check_all("embedding", emb_loss, &c, ts, 1);
    free(c.table); free(c.out); free(c.p); free(dt);
}

/* ================================================================== GRU */
typedef struct { int B, Cin, H; float *x, *h, *Wih, *Whh, *bih, *bhh, *out, *cache, *p; } gru_ctx;

static double gru_loss(void *v) {
    gru_ctx *c = v;
    gru_forward(c->out, c->cache, c->x, c->h, c->Wih, c->Whh, c->bih, c->bhh, c->B, c->Cin, c->H);
    return project(c->out, c->p, (size_t)c->B * c->H);
}

static void test_gru_hand(void) {
    /* 1x1 cell: r = sig(0.1*0.5+0.01 + 0.4*(-0.3)+0.04) = sig(-0.02),
     * z = sig(0.2*0.5+0.02 + 0.5*(-0.3)+0.05) = sig(0.02),
     * n = tanh(0.3*0.5+0.03 + r*(0.6*(-0.3)+0.06)), h' = (1-z)*n + z*h (values from Python). */
    float x = 0.5f, h = -0.3f, out = 0.0f, cache[6];
    const float Wih[3] = {0.1f, 0.2f, 0.3f}, Whh[3] = {0.4f, 0.5f, 0.6f};
    const float bih[3] = {0.01f, 0.02f, 0.03f}, bhh[3] = {0.04f, 0.05f, 0.06f};
    gru_forward(&out, cache, &x, &h, Wih, Whh, bih, bhh, 1, 1, 1);
    check(fabs(cache[0] - 0.4950001666600003) < 1e-6, "gru 1x1: reset gate r");
    check(fabs(cache[1] - 0.5049998333399998) < 1e-6, "gru 1x1: update gate z");
    check(fabs(cache[2] - 0.12001867864694495) < 1e-6, "gru 1x1: candidate n");
    check(fabs(out - -0.09209068406944916) < 1e-6, "gru 1x1: h' = (1-z)*n + z*h");
}

static void test_gru(void) {
    gru_ctx c = {2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t G = 3 * (size_t)c.H;
    c.x = rand_buf((size_t)c.B * c.Cin, -1, 1);     // (B,Cin)
    c.h = rand_buf((size_t)c.B * c.H, -1, 1);     // (B,H)
    c.Wih = rand_buf(G * c.Cin, -1, 1);              // (3H,Cin)
    c.Whh = rand_buf(G * c.H, -1, 1);              // (3H,H)
    c.bih = rand_buf(G, -1, 1);                    // (3H)
    c.bhh = rand_buf(G, -1, 1);                    // (3H)
    c.out = rand_buf((size_t)c.B * c.H, 0, 0);     // (B,H)
    c.cache = rand_buf(gru_cache_size(c.B, c.H), 0, 0);
    c.p = rand_buf((size_t)c.B * c.H, -1, 1);      // (B,H)
    float *scratch = rand_buf(gru_scratch_size(c.B, c.H), 0, 0);
    float *dx = grad_buf((size_t)c.B * c.Cin), *dh = grad_buf((size_t)c.B * c.H);
    float *dWih = grad_buf(G * c.Cin), *dWhh = grad_buf(G * c.H), *dbih = grad_buf(G), *dbhh = grad_buf(G);
    gru_loss(&c);
    gru_backward(dx, dh, dWih, dWhh, dbih, dbhh, scratch, c.p, c.cache, c.x, c.h, c.Wih, c.Whh,
                 c.B, c.Cin, c.H);
    grad_finish(dx, (size_t)c.B * c.Cin); grad_finish(dh, (size_t)c.B * c.H);
    grad_finish(dWih, G * c.Cin); grad_finish(dWhh, G * c.H); grad_finish(dbih, G); grad_finish(dbhh, G);
    fd_tensor ts[] = {{"x", c.x, dx, (size_t)c.B * c.Cin}, {"h", c.h, dh, (size_t)c.B * c.H},
                        {"W_ih", c.Wih, dWih, G * c.Cin}, {"W_hh", c.Whh, dWhh, G * c.H},
                        {"b_ih", c.bih, dbih, G}, {"b_hh", c.bhh, dbhh, G}};
    fd_check_all("gru", gru_loss, &c, ts, 6);
    free(c.x); free(c.h); free(c.Wih); free(c.Whh); free(c.bih); free(c.bhh); free(c.out);
    free(c.cache); free(c.p); free(scratch);
    free(dx); free(dh); free(dWih); free(dWhh); free(dbih); free(dbhh);
}

/* ========================================================== activations */
typedef struct { size_t n; int sig; float *x, *out, *p; } act_ctx;

static double act_loss(void *v) {
    act_ctx *c = v;
    if (c->sig) sigmoid_forward(c->out, c->x, c->n);
    else relu_forward(c->out, c->x, c->n);
    return project(c->out, c->p, c->n);
}

static void test_activation(int sig) {
    enum { N = 12 };
    act_ctx c = {N, sig, rand_buf(N, -2, 2), rand_buf(N, 0, 0), rand_buf(N, -1, 1)};
    for (int i = 0; i < N; i++) // keep ReLU inputs away from the kink, where FD is meaningless
        if (fabsf(c.x[i]) < 0.05f) c.x[i] = c.x[i] < 0 ? -0.1f : 0.1f;
    float *dx = grad_buf(N);
    act_loss(&c);
    if (sig) sigmoid_backward(dx, c.p, c.out, N);
    else relu_backward(dx, c.p, c.out, N);
    grad_finish(dx, N);
    fd_tensor ts[] = {{"x", c.x, dx, N}};
    fd_check_all(sig ? "sigmoid" : "relu", act_loss, &c, ts, 1);
    /* in place: out aliases inp */
    float y[N];
    memcpy(y, c.x, sizeof y);
    if (sig) sigmoid_forward(y, y, N);
    else relu_forward(y, y, N);
    act_loss(&c);
    check(memcmp(y, c.out, sizeof y) == 0, sig ? "sigmoid: in-place forward" : "relu: in-place forward");
    free(c.x); free(c.out); free(c.p); free(dx);
}

/* ===================================================== gated-sum readout */
typedef struct { int G, C, D; const int *off; float *h, *Wf, *bf, *Wg, *bg, *out, *cache, *p; } gsum_ctx;

static double gsum_loss(void *v) {
    gsum_ctx *c = v;
    gsum_forward(c->out, c->cache, c->h, c->Wf, c->bf, c->Wg, c->bg, c->off, c->G, c->C, c->D);
    return project(c->out, c->p, (size_t)c->G * c->D);
}

static void test_gsum(void) {
    static const int off[] = {0, 2, 2, 5, 6}; // node counts 2, 0 (empty graph), 3, 1
    gsum_ctx c = {4, 4, 3, off, 0, 0, 0, 0, 0, 0, 0, 0};
    int N = off[c.G];
    c.h = rand_buf((size_t)N * c.C, -1, 1);       // (N,C)
    c.Wf = rand_buf((size_t)c.D * c.C, -1, 1);    // (D,C)
    c.bf = rand_buf((size_t)c.D, -1, 1);          // (D)
    c.Wg = rand_buf((size_t)c.C, -1, 1);          // (1,C)
    c.bg = rand_buf(1, -1, 1);                    // (1)
    c.out = rand_buf((size_t)c.G * c.D, 0, 0);    // (G,D)
    c.cache = rand_buf(gsum_cache_size(N, c.D), 0, 0);
    c.p = rand_buf((size_t)c.G * c.D, -1, 1);     // (G,D)
    float *scratch = rand_buf(gsum_scratch_size(N, c.D), 0, 0);
    float *dh = grad_buf((size_t)N * c.C), *dWf = grad_buf((size_t)c.D * c.C), *dbf = grad_buf((size_t)c.D);
    float *dWg = grad_buf((size_t)c.C), *dbg = grad_buf(1);
    gsum_loss(&c);
    /* forward of graph 2 (nodes 2..4) against a direct computation */
    int ok = 1;
    for (int k = 0; k < c.D; k++) {
        double s = 0;
        for (int v = 2; v < 5; v++) {
            double f = c.bf[k], g = c.bg[0];
            for (int j = 0; j < c.C; j++) {
                f += (double)c.Wf[k * c.C + j] * c.h[v * c.C + j];
                g += (double)c.Wg[j] * c.h[v * c.C + j];
            }
            s += f / (1.0 + exp(-g));
        }
        if (fabs(s - c.out[2 * c.D + k]) > 1e-5) ok = 0;
    }
    check(ok, "gsum: forward equals sum_v sigmoid(g(h_v)) f(h_v)");
    check(c.out[c.D] == 0 && c.out[c.D + 1] == 0 && c.out[c.D + 2] == 0, "gsum: empty graph reads out 0");
    gsum_backward(dh, dWf, dbf, dWg, dbg, scratch, c.p, c.cache, c.h, c.Wf, c.Wg, off, c.G, c.C, c.D);
    grad_finish(dh, (size_t)N * c.C); grad_finish(dWf, (size_t)c.D * c.C); grad_finish(dbf, (size_t)c.D);
    grad_finish(dWg, (size_t)c.C); grad_finish(dbg, 1);
    fd_tensor ts[] = {{"h", c.h, dh, (size_t)N * c.C}, {"W_f", c.Wf, dWf, (size_t)c.D * c.C},
                        {"b_f", c.bf, dbf, (size_t)c.D}, {"W_g", c.Wg, dWg, (size_t)c.C},
                        {"b_g", c.bg, dbg, 1}};
    fd_check_all("gsum", gsum_loss, &c, ts, 5);
    free(c.h); free(c.Wf); free(c.bf); free(c.Wg); free(c.bg); free(c.out); free(c.cache); free(c.p);
    free(scratch); free(dh); free(dWf); free(dbf); free(dWg); free(dbg);
}

/* ================================================================ losses */
typedef struct { int B, K; const int *t; const float *w; float *logits, *probs; float p; } ce_ctx;

static double ce_loss(void *v) {
    ce_ctx *c = v;
    return (double)c->p * crossentropy_forward(c->probs, c->logits, c->t, c->w, c->B, c->K);
}

static void test_crossentropy(int weighted) {
    enum { B = 4, K = 5 };
    static const int t[B] = {0, 3, 4, 3};
    static const float w[B] = {0.5f, 0.0f, 1.5f, 0.25f}; // a zero weight masks a row
    ce_ctx c = {B, K, t, weighted ? w : NULL, rand_buf(B * K, -3, 3), rand_buf(B * K, 0, 0), 0.7f};
    float *dl = grad_buf(B * K);
    double L = ce_loss(&c) / c.p;
    /* loss against a direct double computation */
    double ref = 0;
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += exp(c.logits[b * K + k]);
        ref += (weighted ? w[b] : 1.0 / B) * (log(s) - c.logits[b * K + t[b]]);
    }
    check(fabs(L - ref) <= 1e-5 * fabs(ref) + 1e-6, weighted ? "crossentropy (weighted): loss value" : "crossentropy (mean): loss value");
    crossentropy_backward(dl, c.probs, t, c.w, c.p, B, K);
    grad_finish(dl, B * K);
    fd_tensor ts[] = {{"logits", c.logits, dl, B * K}};
    fd_check_all(weighted ? "crossentropy (weighted)" : "crossentropy (mean)", ce_loss, &c, ts, 1);
    free(c.logits); free(c.probs); free(dl);
}

typedef struct { int N; const float *t, *w; float *x; float p; } bce_ctx;

static double bce_loss(void *v) {
    bce_ctx *c = v;
    return (double)c->p * bce_logits_forward(c->x, c->t, c->w, c->N);
}

static void test_bce(int weighted) {
    enum { N = 6 };
    static const float t[N] = {0, 1, 1, 0, 1, 0.3f};
    static const float w[N] = {1, 0.5f, 0, 2, 0.25f, 1};
    bce_ctx c = {N, t, weighted ? w : NULL, rand_buf(N, -4, 4), -1.3f};
    c.x[0] = 30.0f; // large logits must stay finite (stable form)
    c.x[1] = -30.0f;
    float *dx = grad_buf(N);
    double L = bce_loss(&c) / c.p, ref = 0;
    for (int i = 0; i < N; i++) {
        double s = 1.0 / (1.0 + exp(-(double)c.x[i]));
        double l = -(t[i] * log(s) + (1 - t[i]) * log1p(-s));
        if (i == 0) l = 30.0;            // log1p(-s) underflows in double for x = 30: exact value
        ref += (weighted ? w[i] : 1.0 / N) * l;
    }
    check(isfinite(L) && fabs(L - ref) <= 1e-4 * fabs(ref) + 1e-5,
          weighted ? "bce (weighted): loss value" : "bce (mean): loss value");
    /* moderate logits for the gradient check: with |x| = 30 the loss is large, and the float32
     * rounding of the returned loss would dominate the finite difference */
    c.x[0] = 6.0f;
    c.x[1] = -6.0f;
    bce_logits_backward(dx, c.x, t, c.w, c.p, N);
    grad_finish(dx, N);
    fd_tensor ts[] = {{"logits", c.x, dx, N}};
    fd_check_all(weighted ? "bce (weighted)" : "bce (mean)", bce_loss, &c, ts, 1);
    free(c.x); free(dx);
}

typedef struct { size_t n; float *mu, *lv; float p; } kl_ctx;

static double kl_loss(void *v) {
    kl_ctx *c = v;
    return (double)c->p * gaussian_kl_forward(c->mu, c->lv, c->n);
}

static void test_kl(void) {
    enum { N = 8 };
    kl_ctx c = {N, rand_buf(N, -1.5f, 1.5f), rand_buf(N, -2, 1), 0.9f};
    float *dmu = grad_buf(N), *dlv = grad_buf(N);
    double ref = 0;
    for (int i = 0; i < N; i++) ref += -0.5 * (1 + c.lv[i] - (double)c.mu[i] * c.mu[i] - exp(c.lv[i]));
    check(fabs(kl_loss(&c) / c.p - ref) < 1e-5, "kl: value");
    float zero[2] = {0, 0};
    check(gaussian_kl_forward(zero, zero, 2) == 0.0f, "kl: zero for the prior itself");
    gaussian_kl_backward(dmu, dlv, c.mu, c.lv, c.p, N);
    grad_finish(dmu, N); grad_finish(dlv, N);
    fd_tensor ts[] = {{"mu", c.mu, dmu, N}, {"logvar", c.lv, dlv, N}};
    fd_check_all("kl", kl_loss, &c, ts, 2);
    free(c.mu); free(c.lv); free(dmu); free(dlv);
}

int main(void) {
    openblas_set_num_threads(1);
    test_linear();
    test_embedding();
    test_gru_hand();
    test_gru();
    test_activation(0);
    test_activation(1);
    test_gsum();
    test_crossentropy(0);
    test_crossentropy(1);
    test_bce(0);
    test_bce(1);
    test_kl();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
