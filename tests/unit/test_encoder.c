/* test_encoder.c: lib/mpass.c and lib/encoder.c.
 *
 *   (a) the message-passing layer's backward (input states and all six parameter tensors) against
 *       central finite differences, on a batch of three small graphs of different sizes, in both
 *       directions (predecessor masks = along the edges, successor masks = against them);
 *   (b) the whole encoder's gradient (all 33 parameter tensors) against finite differences, with
 *       loss = a fixed random projection of [mu ; logvar], tiny dims C=3, D=2, K=5;
 *   (c) the dense identity: the layer's forward equals a naive per-edge loop
 *       (a_v = sum over edges u->v of W_msg [h_u ; h_v] + b, in double, then the GRU cell);
 *   (d) batching does not mix graphs: encoding a batch equals encoding each graph alone;
 *   (e) parameter counts (845,739 / 845,989 / 846,114), names and PyTorch-default init ranges.
 * Losses are computed in double from the float32 forward; each element is perturbed by +-EPS (or
 * EPS/4, 8*EPS: tests/unit/fdcheck.h) and compared with |a - n| <= RTOL * max(|a|,|n|) + ATOL. Gradient buffers start at GRAD0, subtracted
 * afterwards, which checks that backward accumulates. The checker is shown to reject a gradient
 * that is 3% off. Deterministic (lib/rng.h, fixed seeds). Prints "N passed, M failed". */
#include "encoder.h"
#include "mpass.h"
#include "nn.h"
#include "rng.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define EPS 1e-3f
#define RTOL 1e-2
#define ATOL 3e-4
#include "fdcheck.h" /* after EPS, RTOL, ATOL */
#define GRAD0 0.25f

static rng_mt R;

static float *fbuf(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) { perror("calloc"); exit(2); }
    return p;
}

static float *rand_buf(size_t n, float lo, float hi) {
    float *p = fbuf(n);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)rng_double(&R);
    return p;
}

static double project(const float *out, const float *p, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * p[i];
    return s;
}

/* ---- test graphs: three small DAGs with 4, 2 and 5 nodes ---- */
static graph G3[3];

static void make_graphs(void) {
    memset(G3, 0, sizeof G3);
    // graph 0: 0->1, 0->2, 1->3, 2->3, 0->3 (node 3 has in-degree 3)
    G3[0].n = 4;
    const uint8_t t0[] = {0, 2, 3, 1};
    memcpy(G3[0].type, t0, 4);
    graph_add_edge(&G3[0], 0, 1); graph_add_edge(&G3[0], 0, 2); graph_add_edge(&G3[0], 1, 3);
    graph_add_edge(&G3[0], 2, 3); graph_add_edge(&G3[0], 0, 3);
    // graph 1: 0->1
    G3[1].n = 2;
    G3[1].type[0] = 0; G3[1].type[1] = 1;
    graph_add_edge(&G3[1], 0, 1);
    // graph 2: a chain 0->1->2->3->4 plus 0->2, 1->4; node types include 4
    G3[2].n = 5;
    const uint8_t t2[] = {0, 4, 2, 4, 1};
    memcpy(G3[2].type, t2, 5);
    for (int i = 0; i < 4; i++) graph_add_edge(&G3[2], i, i + 1);
    graph_add_edge(&G3[2], 0, 2); graph_add_edge(&G3[2], 1, 4);
}

/* ============================================================ (a) + (c): the layer */
typedef struct {
    int C, G;
    const int *offsets;
    const uint16_t *nbr;
    mpass_params p;
    float *h, *hout, *cache, *proj;
    mpass_fold f;
} mp_ctx;

static double mp_loss(void *v) {
    mp_ctx *c = v;
    mpass_fold_compute(&c->f, &c->p, c->C); // the parameters may have been perturbed
    mpass_forward(c->hout, c->cache, c->h, c->nbr, c->offsets, c->G, &c->p, &c->f, c->C);
    return project(c->hout, c->proj, (size_t)c->offsets[c->G] * c->C);
}

static void point_mpass(mpass_params *p, float *mem, int C) {
    size_t s[MPASS_NUM_TENSORS];
    mpass_param_sizes(s, C);
    float **f[MPASS_NUM_TENSORS] = {&p->msg_w, &p->msg_b, &p->upd_wih, &p->upd_whh, &p->upd_bih, &p->upd_bhh};
    for (int i = 0; i < MPASS_NUM_TENSORS; i++) { *f[i] = mem; mem += s[i]; }
}

/* The reference's message passing, edge by edge: a_v = sum_{u->v} W [h_u ; h_v] + b. */
static void naive_layer(float *hout, const float *h, const encoder_batch *b, int against,
                        const mpass_params *p, int C) {
    const int N = b->N, C2 = 2 * C;
    float *a = fbuf((size_t)N * C2), *gc = fbuf(gru_cache_size(N, C));
    double *acc = calloc((size_t)N * C2, sizeof(double));
    for (int g = 0; g < b->G; g++) {
        const int base = b->offsets[g], n = b->offsets[g + 1] - base;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                if (!((b->succ[base + i] >> j) & 1)) continue; // edge i -> j
                const int u = base + (against ? j : i), v = base + (against ? i : j); // u sends to v
                for (int o = 0; o < C2; o++) {
                    double m = p->msg_b[o];
                    for (int k = 0; k < C; k++)
                        m += (double)p->msg_w[o * C2 + k] * h[u * C + k]
                           + (double)p->msg_w[o * C2 + C + k] * h[v * C + k];
                    acc[v * C2 + o] += m;
                }
            }
    }
    for (size_t i = 0; i < (size_t)N * C2; i++) a[i] = (float)acc[i];
    gru_forward(hout, gc, a, h, p->upd_wih, p->upd_whh, p->upd_bih, p->upd_bhh, N, C2, C);
    free(a); free(gc); free(acc);
}

/* mpass_forward_table on embedding rows equals mpass_forward on the same states (outputs and the
 * cache the backward reads), along and against the edges. */
static void test_mpass_table(const encoder_batch *b) {
    const int C = 5, K = 5, N = b->N;
    const size_t NC = (size_t)N * C, np = mpass_param_count(C);
    const rng_mt saved = R; // draw from the shared stream without changing what later tests draw
    float *pmem = rand_buf(np, -0.5f, 0.5f), *E = rand_buf((size_t)K * C, -1, 1);
    R = saved;
    mpass_params p;
    point_mpass(&p, pmem, C);
    float *fmem = fbuf(mpass_fold_size(C)), *h = fbuf(NC), *o1 = fbuf(NC), *o2 = fbuf(NC);
    float *c1 = fbuf(mpass_cache_size(N, C)), *c2 = fbuf(mpass_cache_size(N, C));
    float *ts = fbuf(mpass_table_scratch_size(K, C));
    mpass_fold f;
    mpass_fold_point(&f, fmem, C);
    mpass_fold_compute(&f, &p, C);
    for (int v = 0; v < N; v++) memcpy(h + (size_t)v * C, E + (size_t)b->types[v] * C, C * sizeof(float));
    for (int dir = 0; dir < 2; dir++) {
        const uint16_t *nbr = dir ? b->succ : b->pred;
        mpass_forward(o1, c1, h, nbr, b->offsets, b->G, &p, &f, C);
        mpass_forward_table(o2, c2, ts, h, b->types, E, K, nbr, b->offsets, b->G, &p, &f, C, 1);
        double md = 0, mc = 0;
        for (size_t i = 0; i < NC; i++) md = fmax(md, fabs(o1[i] - o2[i]));
        // the cache: Z rows (2C each, as many as nodes with in-neighbours), then act and gh
        int nz = 0;
        for (int v = 0; v < N; v++) nz += nbr[v] != 0;
        for (size_t i = 0; i < (size_t)nz * 2 * C; i++) mc = fmax(mc, fabs(c1[i] - c2[i]));
        const size_t ag = (size_t)N * 5 * C; // act + gh start after Z (N,2C) and gz (N,3C)
        for (size_t i = 0; i < (size_t)N * 6 * C; i++) mc = fmax(mc, fabs(c1[ag + i] - c2[ag + i]));
        char what[160];
        snprintf(what, sizeof what, "mpass_forward_table %s equals mpass_forward (max diff %.2g, cache %.2g)",
                 dir ? "against edges" : "along edges", md, mc);
        check(md < 1e-5 && mc < 1e-5 && nz > 0 && nz < N, __LINE__, what);
    }
    free(pmem); free(E); free(fmem); free(h); free(o1); free(o2); free(c1); free(c2); free(ts);
}

static void test_mpass(const encoder_batch *b) {
    const int C = 3, N = b->N;
    const size_t NC = (size_t)N * C, np = mpass_param_count(C);
    float *pmem = rand_buf(np, -0.5f, 0.5f);
    float *gmem = fbuf(np);
    mp_ctx c = {C, b->G, b->offsets, NULL, {0}, rand_buf(NC, -1, 1), fbuf(NC),
                fbuf(mpass_cache_size(N, C)), rand_buf(NC, -1, 1), {0}};
    float *fmem = fbuf(mpass_fold_size(C)), *fgmem = fbuf(mpass_fold_size(C));
    mpass_fold fg;
    mpass_fold_point(&c.f, fmem, C);
    mpass_fold_point(&fg, fgmem, C);
    point_mpass(&c.p, pmem, C);
    mpass_params gp;
    point_mpass(&gp, gmem, C);
    float *dh = fbuf(NC), *scratch = fbuf(mpass_scratch_size(N, C));
    size_t s[MPASS_NUM_TENSORS];
    mpass_param_sizes(s, C);
    static const char *names[MPASS_NUM_TENSORS] = {"msg.weight", "msg.bias", "upd.weight_ih",
                                                   "upd.weight_hh", "upd.bias_ih", "upd.bias_hh"};
    for (int dir = 0; dir < 2; dir++) {
        c.nbr = dir ? b->succ : b->pred;
        const char *dn = dir ? "against edges" : "along edges";
        char what[160];

        /* (c) forward against the naive per-edge loop */
        float *ref = fbuf(NC);
        mp_loss(&c);
        naive_layer(ref, c.h, b, dir, &c.p, C);
        double md = 0;
        for (size_t i = 0; i < NC; i++) md = fmax(md, fabs(ref[i] - c.hout[i]));
        snprintf(what, sizeof what, "mpass %s: dense identity equals per-edge messages (max diff %.2g)", dn, md);
        check(md < 1e-5, __LINE__, what);
        free(ref);

        /* (a) backward against finite differences */
        for (size_t i = 0; i < np; i++) gmem[i] = GRAD0;
        for (size_t i = 0; i < NC; i++) dh[i] = GRAD0;
        mp_loss(&c);
        memset(fgmem, 0, mpass_fold_size(C) * sizeof(float));
        mpass_backward(dh, &gp, &fg, scratch, c.proj, c.cache, c.h, c.nbr, b->offsets, b->G, &c.p,
                       &c.f, C);
        mpass_unfold_grad(&gp, &fg, &c.p, C);
        for (size_t i = 0; i < np; i++) gmem[i] -= GRAD0;
        for (size_t i = 0; i < NC; i++) dh[i] -= GRAD0;
        snprintf(what, sizeof what, "mpass %s: gradient of h", dn);
        check(fd_compare(what, mp_loss, &c, c.h, dh, NC, 0), __LINE__, what);
        size_t off = 0;
        for (int t = 0; t < MPASS_NUM_TENSORS; t++) {
            snprintf(what, sizeof what, "mpass %s: gradient of %s", dn, names[t]);
            check(fd_compare(what, mp_loss, &c, pmem + off, gmem + off, s[t], 0), __LINE__, what);
            off += s[t];
        }
        /* the checker must reject a gradient that is 3% off in one element */
        gmem[7] = gmem[7] * 1.03f + (fabsf(gmem[7]) < 0.05f ? 0.05f : 0.0f);
        check(!fd_compare("", mp_loss, &c, pmem, gmem, s[0], 1), __LINE__,
              "mpass: checker rejects a slightly wrong gradient");
    }
    /* a node with no in-neighbour receives a zero message: with nbr = 0 everywhere the layer is the
     * GRU cell with input 0 */
    {
        uint16_t zero[64] = {0};
        float *a0 = fbuf(NC * 2), *gc = fbuf(gru_cache_size(N, C)), *ref = fbuf(NC);
        c.nbr = zero;
        mp_loss(&c);
        gru_forward(ref, gc, a0, c.h, c.p.upd_wih, c.p.upd_whh, c.p.upd_bih, c.p.upd_bhh, N, 2 * C, C);
        CHECK(memcmp(ref, c.hout, NC * sizeof(float)) == 0);
        free(a0); free(gc); free(ref);
    }
    free(pmem); free(gmem); free(c.h); free(c.hout); free(c.cache); free(c.proj); free(dh); free(scratch);
    free(fmem); free(fgmem);
}

/* ============================================================ (b): the encoder */
typedef struct {
    encoder_config cfg;
    const encoder_batch *b;
    encoder_params p;
    encoder_acts a;
    float *proj; // (2,G,D): projection of mu then logvar
} enc_ctx;

static double enc_loss(void *v) {
    enc_ctx *c = v;
    encoder_forward(&c->a, &c->p, c->b, c->cfg);
    const size_t GD = (size_t)c->b->G * c->cfg.D;
    return project(c->a.mu, c->proj, GD) + project(c->a.logvar, c->proj + GD, GD);
}

static void test_encoder_grad(const encoder_batch *b) {
    const encoder_config cfg = {5, 3, 2, 2};
    const size_t np = encoder_param_count(cfg.K, cfg.C, cfg.D, cfg.L);
    const size_t GD = (size_t)b->G * cfg.D;
    float *pmem = fbuf(np), *gmem = fbuf(np);
    float *amem = fbuf(encoder_acts_size(cfg, b->N, b->G));
    float *scratch = fbuf(encoder_scratch_size(cfg, b->N));
    enc_ctx c = {cfg, b, {0}, {0}, rand_buf(2 * GD, -1, 1)};
    encoder_point_params(&c.p, pmem, cfg);
    encoder_point_acts(&c.a, amem, cfg, b->N, b->G);
    rng_mt ri;
    rng_seed(&ri, 7);
    encoder_init(&c.p, cfg, &ri);
    // the tiny default init (|w| <= 1/sqrt(6)) keeps everything near-linear; widen it for a
    // sharper test of the nonlinear paths
    for (size_t i = (size_t)cfg.K * cfg.C; i < np; i++) pmem[i] *= 2.0f;
    encoder_params gp;
    encoder_point_params(&gp, gmem, cfg);
    for (size_t i = 0; i < np; i++) gmem[i] = GRAD0;
    enc_loss(&c);
    encoder_backward(&gp, scratch, c.proj, c.proj + GD, &c.a, &c.p, b, cfg);
    for (size_t i = 0; i < np; i++) gmem[i] -= GRAD0;

    size_t s[ENC_MAX_TENSORS], off = 0;
    encoder_param_sizes(s, cfg);
    char what[200];
    for (int t = 0; t < encoder_num_tensors(cfg.L); t++) {
        snprintf(what, sizeof what, "encoder: gradient of %s", encoder_param_name(t, cfg.L));
        check(fd_compare(what, enc_loss, &c, pmem + off, gmem + off, s[t], 0), __LINE__, what);
        off += s[t];
    }
    CHECK(off == np);
    // the check is not vacuous: the gradient is not all zero
    double gnorm = 0;
    for (size_t i = 0; i < np; i++) gnorm += fabs(gmem[i]);
    CHECK(gnorm > 0);
    /* the checker must reject a 3% error in one backward-stream weight */
    float *w = gp.bwd[0].upd_wih;
    w[4] = w[4] * 1.03f + (fabsf(w[4]) < 0.05f ? 0.05f : 0.0f);
    check(!fd_compare("", enc_loss, &c, c.p.bwd[0].upd_wih, w, s[15], 1), __LINE__,
          "encoder: checker rejects a slightly wrong gradient");
    free(pmem); free(gmem); free(amem); free(scratch); free(c.proj);
}

/* ============================================================ (d): batch invariance */
static void test_batch_invariance(void) {
    const encoder_config cfg = {5, 6, 4, 2};
    const size_t np = encoder_param_count(cfg.K, cfg.C, cfg.D, cfg.L);
    float *pmem = fbuf(np);
    encoder_params p;
    encoder_point_params(&p, pmem, cfg);
    rng_mt ri;
    rng_seed(&ri, 11);
    encoder_init(&p, cfg, &ri);
    const int maxn = 3 * GRAPH_MAX_NODES, maxg = 3;
    float *amem = fbuf(encoder_acts_size(cfg, maxn, maxg));
    encoder_acts a;
    encoder_point_acts(&a, amem, cfg, maxn, maxg);
    encoder_batch b;
    if (encoder_batch_init(&b, maxn, maxg)) exit(2);
    CHECK(encoder_batch_pack(&b, G3, 3, cfg.K) == 0);
    encoder_forward(&a, &p, &b, cfg);
    const size_t GD = (size_t)3 * cfg.D;
    float *mu = fbuf(GD), *lv = fbuf(GD);
    memcpy(mu, a.mu, GD * sizeof(float));
    memcpy(lv, a.logvar, GD * sizeof(float));
    // the memoised inference forward gives the same values (and leaves logvar alone when not
    // asked for it)
    memset(a.mu, 0, GD * sizeof(float));
    for (size_t i = 0; i < GD; i++) a.logvar[i] = 7.0f;
    encoder_forward_eval(&a, &p, &b, cfg, 0);
    double me = 0;
    for (size_t i = 0; i < GD; i++) me = fmax(me, fabs(a.mu[i] - mu[i]));
    CHECK(me < 1e-5 && a.logvar[0] == 7.0f);
    encoder_forward_eval(&a, &p, &b, cfg, 1);
    for (size_t i = 0; i < GD; i++) me = fmax(me, fabs(a.mu[i] - mu[i]) + fabs(a.logvar[i] - lv[i]));
    char whate[120];
    snprintf(whate, sizeof whate, "encoder: memoised inference forward equals the training forward (max diff %.2g)", me);
    check(me < 1e-5, __LINE__, whate);
    double md = 0;
    for (int g = 0; g < 3; g++) {
        CHECK(encoder_batch_pack(&b, &G3[g], 1, cfg.K) == 0);
        encoder_forward(&a, &p, &b, cfg);
        for (int k = 0; k < cfg.D; k++) {
            md = fmax(md, fabs(a.mu[k] - mu[g * cfg.D + k]));
            md = fmax(md, fabs(a.logvar[k] - lv[g * cfg.D + k]));
        }
    }
    char what[120];
    snprintf(what, sizeof what, "encoder: batch of 3 equals each graph alone (max diff %.2g)", md);
    check(md < 1e-5, __LINE__, what);
    // and the graphs really encode differently (not a trivially constant output)
    CHECK(fabs(mu[0] - mu[cfg.D]) > 1e-4 || fabs(mu[1] - mu[cfg.D + 1]) > 1e-4);
    // reversed direction matters: graph 0 with edges reversed encodes differently
    graph r = G3[0];
    memset(r.succ, 0, sizeof r.succ);
    for (int i = 0; i < r.n; i++)
        for (int j = 0; j < r.n; j++)
            if (graph_has_edge(&G3[0], i, j)) graph_add_edge(&r, j, i);
    CHECK(encoder_batch_pack(&b, &r, 1, cfg.K) == 0);
    encoder_forward(&a, &p, &b, cfg);
    double dr = 0;
    for (int k = 0; k < cfg.D; k++) dr = fmax(dr, fabs(a.mu[k] - mu[k]));
    CHECK(dr > 1e-4);
    // capacity and type range are enforced
    CHECK(encoder_batch_pack(&b, G3, 4, cfg.K) == -1);
    CHECK(encoder_batch_pack(&b, G3, 3, 4) == -1); // graph 2 uses type 4
    encoder_batch_free(&b);
    free(pmem); free(amem); free(mu); free(lv);
}

/* ============================================================ (e): sizes, names, init */
static void test_params(void) {
    CHECK(encoder_param_count(5, 125, 56, 2) == 845739);
    CHECK(encoder_param_count(7, 125, 56, 2) == 845989);
    CHECK(encoder_param_count(8, 125, 56, 2) == 846114);
    CHECK(mpass_param_count(125) == 204125);
    CHECK(encoder_num_tensors(2) == 33 && encoder_num_tensors(1) == 21);
    CHECK(strcmp(encoder_param_name(0, 2), "Encoder.NodeEmb.NodeInit.weight") == 0);
    CHECK(strcmp(encoder_param_name(16, 2), "Encoder.NodeEmb.GNNLayers_backward.0.upd.weight_hh") == 0);
    CHECK(strcmp(encoder_param_name(32, 2), "Encoder.GraphEmb_var.g_m.bias") == 0);
    CHECK(encoder_param_name(33, 2) == NULL);
    CHECK(strcmp(encoder_param_name(7, 1), "Encoder.NodeEmb.GNNLayers_backward.0.msg.weight") == 0);
    CHECK(strcmp(encoder_param_name(20, 1), "Encoder.GraphEmb_var.g_m.bias") == 0);
    CHECK(encoder_param_name(0, 0) == NULL && encoder_param_name(0, ENC_MAX_LAYERS + 1) == NULL);
    CHECK(encoder_param_count(5, 125, 56, 1) == 845739 - 2 * 204125);

    const encoder_config cfg = {5, 125, 56, 2};
    const size_t np = encoder_param_count(cfg.K, cfg.C, cfg.D, cfg.L);
    float *m1 = fbuf(np), *m2 = fbuf(np);
    encoder_params p, q;
    encoder_point_params(&p, m1, cfg);
    encoder_point_params(&q, m2, cfg);
    CHECK(p.node_init == m1 && p.fwd[0].msg_w == m1 + 625 && p.var_g_b == m1 + np - 1);
    CHECK(q.bwd[1].upd_bhh + 375 == q.mean_f_w);
    rng_mt r1, r2;
    rng_seed(&r1, 42);
    rng_seed(&r2, 42);
    encoder_init(&p, cfg, &r1);
    encoder_init(&q, cfg, &r2);
    CHECK(memcmp(m1, m2, np * sizeof(float)) == 0); // seeded: reproducible
    // ranges: msg U(+-1/sqrt(250)), GRU U(+-1/sqrt(125)), heads U(+-1/sqrt(250)); each bound
    // should be nearly reached
    size_t s[ENC_MAX_TENSORS];
    encoder_param_sizes(s, cfg);
    float **ptrs[ENC_MAX_TENSORS];
    encoder_param_ptrs(&p, ptrs, cfg.L);
    int ok = 1;
    for (int t = 1; t < encoder_num_tensors(cfg.L); t++) {
        const int in_layer = t <= 2 * cfg.L * MPASS_NUM_TENSORS;
        const double bound = (in_layer && (t - 1) % MPASS_NUM_TENSORS >= 2) ? 1 / sqrt(125.0) : 1 / sqrt(250.0);
        double mx = 0;
        for (size_t k = 0; k < s[t]; k++) mx = fmax(mx, fabs((*ptrs[t])[k]));
        if (mx > bound) ok = 0;
        if (s[t] >= 100 && mx < 0.9 * bound) ok = 0;
    }
    check(ok, __LINE__, "init: every tensor within (and filling) its PyTorch-default bound");
    double mean = 0, var = 0;
    for (size_t k = 0; k < s[0]; k++) mean += p.node_init[k];
    mean /= (double)s[0];
    for (size_t k = 0; k < s[0]; k++) var += (p.node_init[k] - mean) * (p.node_init[k] - mean);
    var /= (double)s[0];
    CHECK(fabs(mean) < 0.15 && var > 0.8 && var < 1.2); // N(0,1), 625 draws
    free(m1); free(m2);
}

int main(void) {
    openblas_set_num_threads(1);
    rng_seed(&R, 12345);
    make_graphs();
    encoder_batch b;
    if (encoder_batch_init(&b, 3 * GRAPH_MAX_NODES, 3)) return 2;
    if (encoder_batch_pack(&b, G3, 3, 5)) { fprintf(stderr, "pack failed\n"); return 2; }
    test_params();
    test_mpass(&b);
    test_mpass_table(&b);
    test_encoder_grad(&b);
    test_batch_invariance();
    encoder_batch_free(&b);
    return check_summary();
}
