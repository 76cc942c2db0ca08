/* test_surrogate.c: the surrogate head (lib/regressor.h) and the fine-tuning objective of lib/vae.h
 * (SVGE_acc: total = w (recon + beta KL) + (1 - w) MSE(head(mu), y)).
 *
 *   (a) the head's shapes and counts (56 -> 28 -> 14 -> 7 -> 1: 2,115 parameters, the reference's
 *       GetAcc), names, a forward by hand on a 2-layer head;
 *   (b) the head's backward (weights, biases, input) against central finite differences, and the
 *       checker rejecting a gradient 3 % off;
 *   (c) the whole fine-tuning objective's gradient (every tensor of an SVGe model with a head, and
 *       of a DGMG model with a head) against finite differences at tiny dims, eps fixed by
 *       reseeding; the total is w (recon + beta KL) + (1 - w) mse as reported;
 *   (d) 1,000 Adam steps on 3 NB101 cells drive the head's MSE near zero (it overfits);
 *   (e) a model with a head saves and loads (vae_save, vae_load): the same predictions, the head's
 *       config keys read back; a file without a head loads into a model with one and leaves the
 *       head as it was (fine-tuning starts from a trained VAE).
 * Prints "N passed, M failed"; exit status 1 on any failure. */
#include "vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "nn.h"

#define EPS 1e-3f
#define RTOL 1e-2
#define ATOL 5e-4
#include "fdcheck.h" /* after EPS, RTOL, ATOL */
#include "testgraphs.h"
#define GSEED 99u
#define WIDEN 1.7f
#ifndef NSTEPS
#define NSTEPS 1000
#endif



static graph G[3];
static const double Y[3] = {0.91, 0.42, 0.77};

/* ============================================================ (a) */
static void test_shapes(void) {
    const regressor_config c = {56, 4};
    CHECK(regressor_config_ok(c) == 0);
    CHECK(regressor_param_count(c) == 2115);
    CHECK(regressor_in(c, 0) == 56 && regressor_out(c, 0) == 28 && regressor_out(c, 2) == 7 && regressor_out(c, 3) == 1);
    CHECK(regressor_num_tensors(c) == 8);
    CHECK(strcmp(regressor_param_name(0), "Accuracy.lin_layers.0.weight") == 0);
    CHECK(strcmp(regressor_param_name(7), "Accuracy.lin_layers.3.bias") == 0);
    CHECK(regressor_config_ok((regressor_config){8, 5}) != 0); // 8 / 2^4 < 1
    // by hand: D = 2, L = 2: h = relu(W0 x + b0) (1 unit), pred = W1 h + b1
    float mem[2 * 1 + 1 + 1 + 1];
    regressor_params p;
    const regressor_config c2 = {2, 2};
    CHECK(regressor_param_count(c2) == 5);
    regressor_point_params(&p, mem, c2);
    p.w[0][0] = 0.5f, p.w[0][1] = -1.0f, p.b[0][0] = 0.25f, p.w[1][0] = 2.0f, p.b[1][0] = -0.5f;
    float x[4] = {1.0f, 0.25f, 0.0f, 1.0f}, acts[4];
    regressor_forward(acts, &p, c2, x, 2);
    const float *pred = regressor_pred(acts, c2, 2);
    // row 0: 0.5 - 0.25 + 0.25 = 0.5 -> 2*0.5 - 0.5 = 0.5; row 1: -1 + 0.25 < 0 -> 0 -> -0.5
    CHECK(pred[0] == 0.5f && pred[1] == -0.5f);
    float dp[2];
    const double y[2] = {0.0, 0.5};
    // mse = ((0.5)^2 + (-1)^2) / 2 = 0.625, dpred = 2 e / 2 = (0.5, -1)
    CHECK(fabs(mse_forward_backward(dp, pred, y, 1.0f, 2) - 0.625) < 1e-12 && dp[0] == 0.5f && dp[1] == -1.0f);
}

/* ============================================================ (b) */
typedef struct {
    regressor_params p;
    regressor_config c;
    float *x, *acts;
    int B;
} hctx;

static double hloss(void *v) { // sum of the predictions, squared with weights: sum_b (b+1) pred_b^2
    hctx *h = v;
    regressor_forward(h->acts, &h->p, h->c, h->x, h->B);
    const float *pr = regressor_pred(h->acts, h->c, h->B);
    double s = 0;
    for (int b = 0; b < h->B; b++) s += (b + 1) * (double)pr[b] * pr[b];
    return s;
}

static void test_head_grad(void) {
    hctx h = {.c = {8, 3}, .B = 5};
    const size_t np = regressor_param_count(h.c);
    float *mem = calloc(np, sizeof(float)), *gmem = calloc(np, sizeof(float));
    h.x = malloc((size_t)h.B * h.c.D * sizeof(float));
    h.acts = malloc(regressor_acts_size(h.c, h.B) * sizeof(float));
    float *dx = calloc((size_t)h.B * h.c.D, sizeof(float));
    float *scratch = malloc(regressor_scratch_size(h.c, h.B) * sizeof(float));
    regressor_point_params(&h.p, mem, h.c);
    regressor_params g;
    regressor_point_params(&g, gmem, h.c);
    rng_mt r;
    rng_seed(&r, 3);
    regressor_init(&h.p, h.c, &r);
    for (size_t i = 0; i < np; i++) mem[i] *= 1.5f; // sharper nonlinearity
    for (int i = 0; i < h.B * h.c.D; i++) h.x[i] = (float)rng_gauss(&r);
    hloss(&h);
    const float *pr = regressor_pred(h.acts, h.c, h.B);
    float dpred[5];
    for (int b = 0; b < h.B; b++) dpred[b] = 2.0f * (b + 1) * pr[b];
    regressor_backward(&g, dx, scratch, dpred, h.acts, &h.p, h.c, h.x, h.B);
    CHECK(fd_compare("head: d params", hloss, &h, mem, gmem, np, 0));
    CHECK(fd_compare("head: d x", hloss, &h, h.x, dx, (size_t)h.B * h.c.D, 0));
    gmem[1] = gmem[1] * 1.03f + (fabsf(gmem[1]) < 0.05f ? 0.05f : 0.0f);
    CHECK(!fd_compare("", hloss, &h, mem, gmem, 4, 1)); // the checker rejects a slightly wrong gradient
    free(mem), free(gmem), free(h.x), free(h.acts), free(dx), free(scratch);
}

/* ============================================================ (c) */
typedef struct {
    vae_model m;
} sctx;

static double sloss(void *v) {
    sctx *x = v;
    rng_mt r;
    rng_seed(&r, GSEED);
    vae_terms t;
    if (vae_surrogate_forward(&x->m, G, Y, 3, &r, &t)) return NAN;
    return t.total;
}

static vae_config tiny(void) {
    vae_config c = vae_default_config(SPACE_NB101);
    c.C2 = 6;
    c.D = 8;
    c.beta = 0.5;
    c.eps_scale = 0.5;
    c.seed = 7;
    c.head_layers = 3; // 8 -> 4 -> 2 -> 1
    snprintf(c.head_target, sizeof c.head_target, "acc");
    c.head_vae_weight = 0.3;
    return c;
}

static void build(vae_model *m, vae_kind k, const vae_config *c, int max_g) {
    char err[200];
    if (vae_build(m, k, c, max_g, err, sizeof err)) {
        fprintf(stderr, "vae_build: %s\n", err);
        exit(2);
    }
}

static void test_grad(vae_kind kind) {
    vae_config c = tiny();
    sctx x;
    build(&x.m, kind, &c, 3);
    rng_mt r;
    rng_seed(&r, c.seed);
    vae_init(&x.m, &r);
    for (size_t i = 0; i < x.m.num_params; i++) x.m.params[i] *= WIDEN; // widen
    CHECK(x.m.tensors.n == (kind == VAE_DGMG ? DGMG_NUM_TENSORS : svge_num_tensors(2)) + 6);
    CHECK(x.m.num_params == x.m.num_model + 4 * 8 + 4 + 2 * 4 + 2 + 1 * 2 + 1);
    rng_seed(&r, GSEED);
    vae_terms t;
    CHECK(vae_surrogate_step(&x.m, G, Y, 3, &r, &t) == 0);
    CHECK(t.total == sloss(&x));
    CHECK(fabs(t.total - (0.3 * (t.recon + 0.5 * t.kl) + 0.7 * t.mse)) < 1e-9);
    CHECK(t.mse > 0);
    float *g = malloc(x.m.num_params * sizeof(float));
    memcpy(g, x.m.grads, x.m.num_params * sizeof(float));
    char what[200];
    int all = 1;
    for (int k = 0; k < x.m.tensors.n; k++) {
        const size_t off = x.m.tensors.offset[k];
        const size_t n = (size_t)x.m.tensors.shape[k][0] * (x.m.tensors.ndim[k] == 2 ? (size_t)x.m.tensors.shape[k][1] : 1);
        snprintf(what, sizeof what, "%s with a head: gradient of %s", vae_kind_name(kind), x.m.tensors.name[k]);
        all &= fd_compare(what, sloss, &x, x.m.params + off, g + off, n, 0);
    }
    snprintf(what, sizeof what, "%s with a head: every gradient against finite differences", vae_kind_name(kind));
    check(all, __LINE__, what);
    free(g);
    vae_free(&x.m);
}

/* ============================================================ (d), (e) */
static void test_overfit_and_files(void) {
    vae_config c = tiny();
    c.C2 = 16;
    c.D = 16;
    c.head_layers = 2; // 16 -> 8 -> 1: wide enough that no ReLU layer dies on 3 points
    c.lr = 0.01;
    vae_model m;
    build(&m, VAE_SVGE, &c, 3);
    vae_train t;
    vae_train_init(&t, &m);
    vae_init(&m, &t.rng);
    vae_terms first, tm;
    for (int s = 0; s < NSTEPS; s++) {
        if (vae_surrogate_step(&m, G, Y, 3, &t.rng, &tm)) CHECK(0);
        if (s == 0) first = tm;
        vae_update(&m, &t);
    }
    printf("overfit: mse %.4g -> %.4g, recon %.4g -> %.4g\n", first.mse, tm.mse, first.recon, tm.recon);
    CHECK(tm.mse < 1e-3 && tm.mse < first.mse / 20);
    // the predictions from the latent means equal the head's output in training (eval mode)
    float mu[3 * 16], pred[3];
    CHECK(vae_encode(&m, G, 3, mu, NULL) == 0);
    CHECK(vae_predict(&m, mu, 3, pred) == 0);
    for (int b = 0; b < 3; b++) CHECK(fabs(pred[b] - Y[b]) < 0.05);
    // save, load: the same predictions; the config carries the head
    char path[] = "/tmp/test_surrogate_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    vae_save(path, &m, NULL, NULL, 0, NULL);
    model_file *f = mf_read(path);
    // the raw target (the reference's): no standardization keys in the file, 0 and 1 read back
    CHECK(!mf_find(f, MF_CONFIG, "regression_target_mean") && !mf_find(f, MF_CONFIG, "regression_target_std"));
    vae_model m2;
    vae_load(&m2, f, 3);
    CHECK(m2.cfg.head_layers == 2 && strcmp(m2.cfg.head_target, "acc") == 0 && m2.cfg.head_vae_weight == 0.3);
    CHECK(m2.cfg.head_y_mean == 0 && m2.cfg.head_y_std == 1);
    {   // --standardize-target's mean and deviation go through the file exactly
        m.cfg.head_y_mean = 0.9123456789012345;
        m.cfg.head_y_std = 0.0123456789012345;
        vae_save(path, &m, NULL, NULL, 0, NULL);
        model_file *fs = mf_read(path);
        vae_model ms;
        vae_load(&ms, fs, 3);
        CHECK(ms.cfg.head_y_mean == 0.9123456789012345 && ms.cfg.head_y_std == 0.0123456789012345);
        vae_free(&ms);
        mf_free(fs);
        m.cfg.head_y_mean = 0;
        m.cfg.head_y_std = 1;
    }
    CHECK(!mf_find(f, MF_CONFIG, "regression_vae_lr_scale") && m2.cfg.head_vae_lr_scale == 1);
    {   // --vae-lr-scale goes through the file exactly
        m.cfg.head_vae_lr_scale = 0.1;
        vae_save(path, &m, NULL, NULL, 0, NULL);
        model_file *fs = mf_read(path);
        vae_model ms;
        vae_load(&ms, fs, 3);
        CHECK(mf_find(fs, MF_CONFIG, "regression_vae_lr_scale") && ms.cfg.head_vae_lr_scale == 0.1);
        vae_free(&ms);
        mf_free(fs);
        m.cfg.head_vae_lr_scale = 1;
    }
    float mu2[3 * 16], pred2[3];
    CHECK(vae_encode(&m2, G, 3, mu2, NULL) == 0 && vae_predict(&m2, mu2, 3, pred2) == 0);
    CHECK(memcmp(pred, pred2, sizeof pred) == 0);
    mf_free(f);
    // a model without a head: no prediction; its file loads into one with a head, leaving the head
    vae_config c0 = c;
    c0.head_layers = 0;
    vae_model m0;
    build(&m0, VAE_SVGE, &c0, 3);
    CHECK(vae_predict(&m0, mu, 3, pred2) == -1);
    memcpy(m0.params, m.params, m0.num_params * sizeof(float));
    vae_save(path, &m0, NULL, NULL, 0, NULL);
    f = mf_read(path);
    float *head_before = malloc((m2.num_params - m2.num_model) * sizeof(float));
    for (size_t i = 0; i < m2.num_model; i++) m2.params[i] = 0; // overwritten by the load
    memcpy(head_before, m2.params + m2.num_model, (m2.num_params - m2.num_model) * sizeof(float));
    vae_load_params(&m2, f);
    CHECK(memcmp(m2.params, m.params, m2.num_model * sizeof(float)) == 0);
    CHECK(memcmp(head_before, m2.params + m2.num_model, (m2.num_params - m2.num_model) * sizeof(float)) == 0);
    free(head_before);
    mf_free(f);
    unlink(path);
    vae_free(&m0);
    vae_free(&m2);
    vae_train_free(&t);
    vae_free(&m);
}

int main(void) {
    test_graphs_nb101(G);
    test_shapes();
    test_head_grad();
    test_grad(VAE_SVGE);
    test_grad(VAE_DGMG);
    test_overfit_and_files();
    return check_summary();
}
