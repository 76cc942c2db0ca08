/* test_dgmg.c: lib/dgmg.c, the DGMG baseline (VS-GAE) training path.
 *
 *   (a) parameter counts (4,872,746 / 4,873,860 / 4,874,417 at C 250, D 56; encoder part
 *       2,159,864 for K=5), tensor names (distinct, reference spellings), contiguous layout;
 *   (b) the bidirectional layer against a naive per-edge implementation (edge list concatenated
 *       with its reverse, msg on the first half, msg_rev on the second, sum at the target, GRU),
 *       and that reversing every edge of the graph swaps the roles of msg and msg_rev;
 *   (c) the whole model's gradient (all 66 tensors) against central finite differences at tiny
 *       dims (C=6, D=2, K=5), eps fixed by reseeding, beta 0.5 and 0; the checker rejects a
 *       gradient 3% off;
 *   (d) batch invariance (eval mode): batch loss x B = sum of single-graph losses, batch KL = sum,
 *       mu rows match, gradients (beta 0) x B = sum of single-graph gradients, order invariance;
 *   (e) determinism: two runs of 3 Adam steps from one seed are bitwise identical;
 *   (f) a few Adam steps on 3 graphs lower the loss.
 * Prints "N passed, M failed"; exit status 1 on any failure. */
#include "dgmg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "nn.h"
#include "check.h"

#define EPS 1e-3f
#define RTOL 1e-2
#define ATOL 5e-4
#include "fdcheck.h" /* after EPS, RTOL, ATOL */
#include "testgraphs.h"
#define GSEED 4242u

static graph G101[3]; /* 4, 2 and 5 nodes, K = 5 */

static void make_graphs(void) { test_graphs_nb101(G101); }

static vae_config tiny101(void) {
    vae_config c = vae_default_config(SPACE_NB101);
    c.C2 = 6;
    c.D = 2;
    c.beta = 0.5;
    c.eps_scale = 0.5;
    c.seed = 7;
    return c;
}

static void build(dgmg_model *m, const vae_config *c, int max_g) {
    char err[200];
    if (dgmg_build(m, c, max_g, err, sizeof err)) {
        fprintf(stderr, "dgmg_build: %s\n", err);
        exit(2);
    }
}

static size_t tensor_numel(const dgmg_model *m, int t) {
    return (size_t)m->shape[t][0] * (m->ndim[t] == 2 ? (size_t)m->shape[t][1] : 1);
}

static int find_tensor(const char *name) {
    for (int t = 0; t < DGMG_NUM_TENSORS; t++)
        if (strcmp(dgmg_param_name(t), name) == 0) return t;
    return -1;
}

/* ============================================================ (a) */
static void test_counts(void) {
    CHECK(dgmg_param_count(5, 250, 56) == 4872746);
    CHECK(dgmg_param_count(7, 250, 56) == 4873860);
    CHECK(dgmg_param_count(8, 250, 56) == 4874417);
    CHECK(DGMG_NUM_TENSORS == 66);
    CHECK(dgmg_param_name(-1) == NULL && dgmg_param_name(DGMG_NUM_TENSORS) == NULL);
    int distinct = 1;
    for (int a = 0; a < DGMG_NUM_TENSORS; a++)
        for (int b = a + 1; b < DGMG_NUM_TENSORS; b++)
            if (strcmp(dgmg_param_name(a), dgmg_param_name(b)) == 0) distinct = 0;
    CHECK(distinct);
    CHECK(strcmp(dgmg_param_name(0), "Encoder.NodeEmb.NodeInit.weight") == 0);
    CHECK(strcmp(dgmg_param_name(3), "Encoder.NodeEmb.GNNLayers.0.msg_rev.weight") == 0);
    CHECK(strcmp(dgmg_param_name(16), "Encoder.NodeEmb.GNNLayers.1.upd.bias_hh") == 0);
    CHECK(strcmp(dgmg_param_name(24), "Encoder.GraphEmb_var.g_m.bias") == 0);
    CHECK(strcmp(dgmg_param_name(27), "Decoder.generator.prop.NodeEmb.GNNLayers.0.msg_rev.weight") == 0);
    CHECK(strcmp(dgmg_param_name(41), "Decoder.generator.prop.GraphEmb.f_m.weight") == 0);
    CHECK(strcmp(dgmg_param_name(DGMG_NUM_TENSORS - 1), "Decoder.generator.nodes.f_s_2.bias") == 0);

    vae_config c = vae_default_config(SPACE_NB101);
    dgmg_model m;
    build(&m, &c, 1);
    CHECK(m.num_params == 4872746);
    size_t enc = 0, off = 0;
    int contiguous = 1;
    for (int t = 0; t < DGMG_NUM_TENSORS; t++) {
        if (m.offset[t] != off) contiguous = 0;
        off += tensor_numel(&m, t);
        if (t < DGMG_ENC_TENSORS) enc += tensor_numel(&m, t);
    }
    CHECK(contiguous && off == m.num_params);
    CHECK(enc == 2159864);
    // shapes of the layer tensors: msg / msg_rev (500,500), GRUCell(500, 250)
    CHECK(m.shape[1][0] == 500 && m.shape[1][1] == 500 && m.shape[3][0] == 500 && m.shape[3][1] == 500);
    CHECK(m.shape[5][0] == 750 && m.shape[5][1] == 500 && m.shape[6][0] == 750 && m.shape[6][1] == 250);
    CHECK(m.p.enc[0].rev_w == m.params + m.offset[3]);
    CHECK(m.p.dec.s2_b == m.params + m.offset[DGMG_NUM_TENSORS - 1]);
    CHECK(m.g.dec.bi[1].upd_bhh == m.grads + m.offset[find_tensor("Decoder.generator.prop.NodeEmb.GNNLayers.1.upd.bias_hh")]);
    dgmg_free(&m);
}

/* ============================================================ (b) */
#define BC 3 /* layer width */

static void fill(float *x, size_t n, rng_mt *r) {
    for (size_t k = 0; k < n; k++) x[k] = (float)(2.0 * rng_double(r) - 1.0);
}

/* The reference's GNNLayer on an explicit edge list: E = edges ++ reversed(edges). */
static void naive_layer(float *hout, const float *h, const graph *gs, const int *offsets, int G,
                        const mpass_bidir_params *p) {
    const int C2 = 2 * BC, N = offsets[G];
    int src[256], dst[256], ne = 0;
    for (int g = 0; g < G; g++)
        for (int u = 0; u < gs[g].n; u++)
            for (int v = 0; v < gs[g].n; v++)
                if (graph_has_edge(&gs[g], u, v)) { src[ne] = offsets[g] + u; dst[ne] = offsets[g] + v; ne++; }
    for (int e = 0; e < ne; e++) { src[ne + e] = dst[e]; dst[ne + e] = src[e]; } // edge_index[[1,0]]
    float *a = calloc((size_t)N * C2, sizeof(float)), x[2 * BC], msg[2 * BC];
    for (int e = 0; e < 2 * ne; e++) {
        memcpy(x, h + (size_t)src[e] * BC, BC * sizeof(float));        // h_j: source
        memcpy(x + BC, h + (size_t)dst[e] * BC, BC * sizeof(float));   // h_i: target
        if (e < ne) linear_forward(msg, x, p->msg_w, p->msg_b, 1, C2, C2);
        else linear_forward(msg, x, p->rev_w, p->rev_b, 1, C2, C2);
        for (int k = 0; k < C2; k++) a[(size_t)dst[e] * C2 + k] += msg[k];
    }
    float *cache = malloc(gru_cache_size(N, BC) * sizeof(float));
    gru_forward(hout, cache, a, h, p->upd_wih, p->upd_whh, p->upd_bih, p->upd_bhh, N, C2, BC);
    free(cache);
    free(a);
}

static void test_layer(void) {
    rng_mt r;
    rng_seed(&r, 11);
    float w[2][4 * BC * BC + 2 * BC], u[6 * BC * BC + 3 * BC * BC + 6 * BC];
    fill(w[0], sizeof w[0] / sizeof(float), &r);
    fill(w[1], sizeof w[1] / sizeof(float), &r);
    fill(u, sizeof u / sizeof(float), &r);
    mpass_bidir_params p = {w[0], w[0] + 4 * BC * BC, w[1], w[1] + 4 * BC * BC, u, u + 6 * BC * BC,
                     u + 9 * BC * BC, u + 9 * BC * BC + 3 * BC};
    const int G = 3;
    int offsets[4] = {0};
    for (int g = 0; g < G; g++) offsets[g + 1] = offsets[g] + G101[g].n;
    const int N = offsets[G];
    uint16_t pred[16], succ[16];
    for (int g = 0; g < G; g++)
        for (int v = 0; v < G101[g].n; v++) {
            pred[offsets[g] + v] = graph_pred(&G101[g], v);
            succ[offsets[g] + v] = G101[g].succ[v];
        }
    float h[16 * BC], ref[16 * BC], out[16 * BC];
    fill(h, (size_t)N * BC, &r);
    float *cache = malloc(mpass_bidir_cache_size(N, BC) * sizeof(float));
    naive_layer(ref, h, G101, offsets, G, &p);
    mpass_bidir_forward(out, cache, h, pred, succ, offsets, G, &p, BC);
    double md = 0;
    for (int k = 0; k < N * BC; k++) md = fmax(md, fabs(out[k] - ref[k]));
    CHECK(md < 1e-5);
    // a node with no edge at all receives a = 0 either way; with the masks swapped (the reversed
    // graph) and msg / msg_rev swapped we must get the same result as the original
    mpass_bidir_params q = p;
    q.msg_w = p.rev_w; q.msg_b = p.rev_b; q.rev_w = p.msg_w; q.rev_b = p.msg_b;
    float out2[16 * BC];
    mpass_bidir_forward(out2, cache, h, succ, pred, offsets, G, &q, BC);
    md = 0;
    for (int k = 0; k < N * BC; k++) md = fmax(md, fabs(out2[k] - ref[k]));
    CHECK(md < 1e-5);
    // and msg_rev really matters: not the same as using msg for both halves
    q = p;
    q.rev_w = p.msg_w; q.rev_b = p.msg_b;
    mpass_bidir_forward(out2, cache, h, pred, succ, offsets, G, &q, BC);
    md = 0;
    for (int k = 0; k < N * BC; k++) md = fmax(md, fabs(out2[k] - ref[k]));
    CHECK(md > 1e-3);
    free(cache);
}

/* ============================================================ (c) */
typedef struct {
    dgmg_model m;
    const graph *gs;
    int B;
} gctx;

static double gloss(void *v) {
    gctx *x = v;
    rng_mt r;
    rng_seed(&r, GSEED);
    vae_terms t;
    if (dgmg_forward(&x->m, x->gs, x->B, &r, &t)) return NAN;
    return t.total;
}


static void test_grad(double beta) {
    vae_config c = tiny101();
    c.beta = beta;
    gctx x = {.gs = G101, .B = 3};
    build(&x.m, &c, 3);
    rng_mt r;
    rng_seed(&r, c.seed);
    dgmg_init(&x.m, &r);
    const int e0 = find_tensor("Encoder.NodeEmb.NodeInit.weight");
    const int e1 = find_tensor("Decoder.generator.nodeInit.NodeInits.weight");
    CHECK(e0 == 0 && e1 > 0);
    for (int t = 0; t < DGMG_NUM_TENSORS; t++) { // widen the init (not the embeddings)
        if (t == e0 || t == e1) continue;
        for (size_t k = 0; k < tensor_numel(&x.m, t); k++) x.m.params[x.m.offset[t] + k] *= 2.0f;
    }
    rng_seed(&r, GSEED);
    vae_terms t;
    CHECK(dgmg_train_step(&x.m, x.gs, x.B, &r, &t) == 0);
    CHECK(fabs(t.total - gloss(&x)) == 0);
    CHECK(fabs(t.total - (t.recon + beta * t.kl)) < 1e-12);
    const size_t np = x.m.num_params;
    float *g = malloc(np * sizeof(float));
    memcpy(g, x.m.grads, np * sizeof(float));
    char what[200];
    for (int k = 0; k < DGMG_NUM_TENSORS; k++) {
        const size_t off = x.m.offset[k], n = tensor_numel(&x.m, k);
        snprintf(what, sizeof what, "dgmg (beta %g): gradient of %s", beta, dgmg_param_name(k));
        check(fd_compare(what, gloss, &x, x.m.params + off, g + off, n, 0), __LINE__, what);
        double gn = 0;
        for (size_t q = 0; q < n; q++) gn += fabs(g[off + q]);
        if (!(gn > 0)) {
            snprintf(what, sizeof what, "dgmg (beta %g): gradient of %s is not all zero", beta, dgmg_param_name(k));
            check(0, __LINE__, what);
        }
    }
    // the checker rejects a 3% error in one weight of the decoder's msg_rev
    const int tv = find_tensor("Decoder.generator.prop.NodeEmb.GNNLayers.1.msg_rev.weight");
    float *w = g + x.m.offset[tv] + 1;
    *w = *w * 1.03f + (fabsf(*w) < 0.05f ? 0.05f : 0.0f);
    check(!fd_compare("", gloss, &x, x.m.params + x.m.offset[tv], g + x.m.offset[tv], 4, 1), __LINE__,
          "dgmg: checker rejects a slightly wrong gradient");
    free(g);
    dgmg_free(&x.m);
}

/* ============================================================ (d) */
static double rel(double a, double b) { return fabs(a - b) / fmax(1e-6, fmax(fabs(a), fabs(b))); }

static void test_batch(void) {
    vae_config c = tiny101();
    c.beta = 0;
    dgmg_model m;
    build(&m, &c, 3);
    rng_mt r;
    rng_seed(&r, 5);
    dgmg_init(&m, &r);
    const size_t np = m.num_params;
    float *gsum = calloc(np, sizeof(float)), *gb = malloc(np * sizeof(float));
    float mus[3][2];
    double recon = 0, kl = 0;
    vae_terms t;
    for (int b = 0; b < 3; b++) {
        CHECK(dgmg_train_step(&m, &G101[b], 1, NULL, &t) == 0);
        recon += t.recon;
        kl += t.kl;
        memcpy(mus[b], m.mu, sizeof mus[b]);
        for (size_t k = 0; k < np; k++) gsum[k] += m.grads[k];
    }
    CHECK(dgmg_train_step(&m, G101, 3, NULL, &t) == 0);
    memcpy(gb, m.grads, np * sizeof(float));
    CHECK(rel(3 * t.recon, recon) < 1e-5);
    CHECK(rel(t.kl, kl) < 1e-5);
    double md = 0, gmax = 0;
    for (int b = 0; b < 3; b++)
        for (int d = 0; d < 2; d++) md = fmax(md, fabs(m.mu[b * 2 + d] - mus[b][d]));
    CHECK(md < 1e-5);
    md = 0;
    for (size_t k = 0; k < np; k++) {
        md = fmax(md, fabs(3 * gb[k] - gsum[k]));
        gmax = fmax(gmax, fabs(gsum[k]));
    }
    CHECK(gmax > 0 && md < 1e-5 * gmax + 1e-6);
    // another order of the same graphs: the same loss and gradients
    graph perm[3] = {G101[2], G101[0], G101[1]};
    vae_terms t2;
    CHECK(dgmg_train_step(&m, perm, 3, NULL, &t2) == 0);
    CHECK(rel(t2.total, t.total) < 1e-6);
    md = 0;
    for (size_t k = 0; k < np; k++) md = fmax(md, fabs(m.grads[k] - gb[k]));
    CHECK(md < 1e-5 * gmax + 1e-6);
    // batches that do not fit are refused
    graph bad = G101[0];
    bad.type[1] = 5;
    CHECK(dgmg_forward(&m, &bad, 1, NULL, &t) == -1);
    bad = G101[0];
    bad.n = 8;
    CHECK(dgmg_forward(&m, &bad, 1, NULL, &t) == -1);
    CHECK(dgmg_forward(&m, G101, 4, NULL, &t) == -1);
    free(gsum);
    free(gb);
    dgmg_free(&m);
}

/* ============================================================ (e), (f) */
static float *train(int nsteps, double *first, double *last) {
    vae_config c = tiny101();
    c.C2 = 8;
    c.D = 4;
    c.beta = 0.005;
    c.eps_scale = 0.01;
    dgmg_model m;
    build(&m, &c, 3);
    rng_mt r;
    rng_seed(&r, c.seed);
    dgmg_init(&m, &r);
    adam opt;
    adam_init(&opt, m.num_params, 1e-2);
    vae_terms t;
    for (int s = 0; s < nsteps; s++) {
        CHECK(dgmg_train_step(&m, G101, 3, &r, &t) == 0);
        if (s == 0 && first) *first = t.recon;
        adam_step(&opt, m.params, m.grads);
    }
    if (last) {
        CHECK(dgmg_forward(&m, G101, 3, NULL, &t) == 0);
        *last = t.recon;
    }
    float *p = malloc(m.num_params * sizeof(float));
    memcpy(p, m.params, m.num_params * sizeof(float));
    adam_free(&opt);
    dgmg_free(&m);
    return p;
}

static void test_determinism_and_training(void) {
    vae_config c = tiny101();
    c.C2 = 8;
    c.D = 4;
    const size_t np = dgmg_param_count(c.K, c.C2, c.D);
    float *a = train(3, NULL, NULL), *b = train(3, NULL, NULL);
    CHECK(memcmp(a, b, np * sizeof(float)) == 0);
    free(a);
    free(b);
    double first = 0, last = 0;
    float *p = train(150, &first, &last);
    CHECK(isfinite(last) && last < 0.5 * first);
    free(p);
}

int main(void) {
    make_graphs();
    test_counts();
    test_layer();
    test_grad(0.5);
    test_grad(0.0);
    test_batch();
    test_determinism_and_training();
    return check_summary();
}
