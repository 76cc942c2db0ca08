/* test_decoder.c: lib/decoder.c, the SVGe decoder's teacher-forced training path.
 *
 *   (a) parameter counts (1,399,382 / 1,399,996 / 1,400,303), state_dict names, layout and
 *       PyTorch-default init ranges;
 *   (b) the loss of single graphs against an independent naive implementation written plainly
 *       below (double precision, per-edge messages, per-candidate-edge scorer on the full
 *       concatenation [h_u ; h_new ; h_G ; c], step by step, both directions);
 *   (c) batch invariance: the loss of a batch of graphs of different sizes is the mean of the
 *       single-graph losses, and dL/dc of each graph is 1/B of its single-graph dL/dc (each graph
 *       conditions on its own h_G and c: the reference's misalignment bug is not reproduced);
 *   (d) the whole decoder's gradient (all 49 parameter tensors and dc) against central finite
 *       differences at tiny dims (C2=6, D=2, K=5) on a batch of 3 graphs with 4, 2 and 5 nodes.
 * Gradient buffers start at GRAD0 (subtracted afterwards), which checks that backward accumulates.
 * The checker is shown to reject a gradient that is 3% off. Deterministic (lib/rng.h, fixed
 * seeds). Prints "N passed, M failed". */
#include "decoder.h"
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
#define ATOL 5e-4
#include "fdcheck.h" /* after EPS, RTOL, ATOL */
#include "testgraphs.h"
#define GRAD0 0.25f

static rng_mt R;

static float *fbuf(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) { perror("calloc"); exit(2); }
    return p;
}

/* ---- test graphs (type 1 = input at node 0, type 0 = output at the last node) ---- */
static graph G3[3];

static void make_graphs(void) { test_graphs_nb101(G3); }

/* ============================================================ naive reference, double */
#define NMAX 64 /* max vector width in the naive code */

/* out (OC) = W (OC,C) x + b */
static void nlin(double *out, const float *W, const float *b, const double *x, int OC, int C) {
    for (int o = 0; o < OC; o++) {
        double s = b ? b[o] : 0.0;
        for (int k = 0; k < C; k++) s += (double)W[o * C + k] * x[k];
        out[o] = s;
    }
}
static void nrelu(double *x, int n) { for (int i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0; }
static double nsig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* One GNN layer of one stream over nn nodes of graph g: along the edges (against = 0) or against. */
static void nlayer(double h[][NMAX], const graph *g, int nn, int against, const mpass_params *p, int C) {
    double a[GRAPH_MAX_NODES][NMAX] = {{0}}, out[GRAPH_MAX_NODES][NMAX];
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < nn; j++) {
            if (!graph_has_edge(g, i, j)) continue;
            const int u = against ? j : i, v = against ? i : j; // u sends to v
            double z[2 * NMAX], m[2 * NMAX];
            for (int k = 0; k < C; k++) { z[k] = h[u][k]; z[C + k] = h[v][k]; }
            nlin(m, p->msg_w, p->msg_b, z, 2 * C, 2 * C);
            for (int k = 0; k < 2 * C; k++) a[v][k] += m[k];
        }
    for (int v = 0; v < nn; v++) { // GRUCell, PyTorch gate order r, z, n
        double gi[3 * NMAX], gh[3 * NMAX];
        nlin(gi, p->upd_wih, p->upd_bih, a[v], 3 * C, 2 * C);
        nlin(gh, p->upd_whh, p->upd_bhh, h[v], 3 * C, C);
        for (int k = 0; k < C; k++) {
            double r = nsig(gi[k] + gh[k]), z = nsig(gi[C + k] + gh[C + k]);
            double n = tanh(gi[2 * C + k] + r * gh[2 * C + k]);
            out[v][k] = (1 - z) * n + z * h[v][k];
        }
    }
    for (int v = 0; v < nn; v++) memcpy(h[v], out[v], sizeof out[v]);
}

/* The teacher-forced loss of one graph, both directions, as §3.3 describes it. */
static double naive_loss(const decoder_params *p, decoder_config cfg, const graph *g0, const float *cf) {
    const int C2 = cfg.C2, C = C2 / 2, D = cfg.D, K = cfg.K, OC = C2 + D;
    double c[NMAX], loss = 0.0;
    for (int k = 0; k < D; k++) c[k] = cf[k];
    for (int dir = 0; dir < 2; dir++) {
        graph g = *g0;
        if (dir) { // the reversed graph
            memset(&g, 0, sizeof g);
            g.n = g0->n;
            for (int i = 0; i < g.n; i++) g.type[i] = g0->type[g.n - 1 - i];
            for (int u = 0; u < g.n; u++)
                for (int v = 0; v < g.n; v++)
                    if (graph_has_edge(g0, u, v)) graph_add_edge(&g, g.n - 1 - v, g.n - 1 - u);
        }
        if (g.n < 2) continue;
        double H[GRAPH_MAX_NODES][NMAX];
        double x[2 * NMAX + 2 * NMAX], z[2 * NMAX];
        // start node
        const int st = dir ? 0 : 1;
        for (int k = 0; k < C2; k++) x[k] = p->emb[st * C2 + k];
        for (int k = 0; k < D; k++) x[C2 + k] = c[k];
        nlin(z, p->start_w, p->start_b, x, OC, OC);
        nrelu(z, OC);
        nlin(H[0], p->start2_w, p->start2_b, z, C2, OC);
        for (int t = 0; t + 1 < g.n; t++) {
            const int nn = t + 1, type = g.type[nn];
            double hG[NMAX] = {0}, hGi[NMAX] = {0};
            if (nn == 1) {
                nlin(hG, p->ge_f_w, p->ge_f_b, H[0], D, C2);
                nlin(hGi, p->gi_f_w, p->gi_f_b, H[0], D, C2);
            } else {
                double hs[GRAPH_MAX_NODES][NMAX];
                for (int s = 0; s < 2; s++) {
                    for (int v = 0; v < nn; v++)
                        for (int k = 0; k < C; k++) hs[v][k] = H[v][s * C + k];
                    for (int l = 0; l < cfg.L; l++)
                        nlayer(hs, &g, nn, s, s ? &p->bwd[l] : &p->fwd[l], C);
                    for (int v = 0; v < nn; v++)
                        for (int k = 0; k < C; k++) H[v][s * C + k] = hs[v][k];
                }
                for (int v = 0; v < nn; v++) {
                    double f[NMAX], gate;
                    nlin(f, p->ge_f_w, p->ge_f_b, H[v], D, C2);
                    nlin(&gate, p->ge_g_w, p->ge_g_b, H[v], 1, C2);
                    for (int k = 0; k < D; k++) hG[k] += nsig(gate) * f[k];
                    nlin(f, p->gi_f_w, p->gi_f_b, H[v], D, C2);
                    nlin(&gate, p->gi_g_w, p->gi_g_b, H[v], 1, C2);
                    for (int k = 0; k < D; k++) hGi[k] += nsig(gate) * f[k];
                }
            }
            // node type: CE
            double logit[NMAX], mx = -1e300, se = 0;
            for (int k = 0; k < D; k++) { x[k] = hG[k]; x[D + k] = c[k]; }
            nlin(z, p->an_w, p->an_b, x, D, 2 * D);
            nrelu(z, D);
            nlin(logit, p->an2_w, p->an2_b, z, K, D);
            for (int k = 0; k < K; k++) mx = fmax(mx, logit[k]);
            for (int k = 0; k < K; k++) se += exp(logit[k] - mx);
            loss += mx + log(se) - logit[type];
            // new node
            double hnew[NMAX];
            for (int k = 0; k < C2; k++) x[k] = p->emb[type * C2 + k];
            for (int k = 0; k < D; k++) { x[C2 + k] = hGi[k]; x[C2 + D + k] = c[k]; }
            nlin(z, p->init_w, p->init_b, x, OC, C2 + 2 * D);
            nrelu(z, OC);
            nlin(hnew, p->init2_w, p->init2_b, z, C2, OC);
            // edges: every candidate scored on the full concatenation
            if (nn > 1) {
                double sum = 0;
                for (int u = 0; u < nn; u++) {
                    double s;
                    for (int k = 0; k < C2; k++) { x[k] = H[u][k]; x[C2 + k] = hnew[k]; }
                    for (int k = 0; k < D; k++) { x[2 * C2 + k] = hG[k]; x[2 * C2 + D + k] = c[k]; }
                    nlin(z, p->s1_w, p->s1_b, x, OC, 2 * C2 + 2 * D);
                    nrelu(z, OC);
                    nlin(&s, p->s2_w, p->s2_b, z, 1, OC);
                    const double e = graph_has_edge(&g, u, nn) ? 1.0 : 0.0;
                    sum += fmax(s, 0) - s * e + log1p(exp(-fabs(s)));
                }
                loss += sum / nn;
            }
            memcpy(H[nn], hnew, sizeof hnew);
        }
    }
    return loss;
}

/* ============================================================ helpers */
typedef struct {
    decoder_config cfg;
    decoder_params p;
    decoder_acts a;
    const graph *gs;
    float *c;
    int B;
} dctx;

static double dloss(void *v) {
    dctx *x = v;
    double L = NAN;
    if (decoder_forward(&x->a, &x->p, x->gs, x->c, x->B, &L)) return NAN;
    return L;
}


/* A two-stream decoder config (SVGe's). */
#define TWO(K, C2, D, L) ((decoder_config){(K), (C2), (D), (L), DEC_PROP_TWO_STREAM, 0})

static float *new_params(decoder_params *p, decoder_config cfg, uint32_t seed, float widen) {
    const size_t np = decoder_param_count(cfg);
    float *mem = fbuf(np);
    decoder_point_params(p, mem, cfg);
    rng_mt r;
    rng_seed(&r, seed);
    decoder_init(p, cfg, &r);
    // the tiny default init keeps everything near-linear; widen it (not the embedding) for a
    // sharper test of the nonlinear paths
    const size_t ne = (size_t)cfg.K * cfg.C2, e0 = (size_t)(p->emb - mem);
    for (size_t i = 0; i < np; i++)
        if (i < e0 || i >= e0 + ne) mem[i] *= widen;
    return mem;
}

/* ============================================================ (a) */
static void test_params(void) {
    CHECK(decoder_param_count(TWO(5, 250, 56, 2)) == 1399382);
    CHECK(decoder_param_count(TWO(7, 250, 56, 2)) == 1399996);
    CHECK(decoder_param_count(TWO(8, 250, 56, 2)) == 1400303);
    CHECK(decoder_num_tensors(TWO(5, 250, 56, 2)) == 49 && decoder_num_tensors(TWO(5, 250, 56, 3)) == 61);
    CHECK(strcmp(decoder_param_name(0, TWO(5, 250, 56, 2)), "Decoder.generator.prop.NodeEmb.GNNLayers_forward.0.msg.weight") == 0);
    CHECK(strcmp(decoder_param_name(23, TWO(5, 250, 56, 2)), "Decoder.generator.prop.NodeEmb.GNNLayers_backward.1.upd.bias_hh") == 0);
    CHECK(strcmp(decoder_param_name(32, TWO(5, 250, 56, 2)), "Decoder.generator.nodeAdd.f_an.weight") == 0);
    CHECK(strcmp(decoder_param_name(36, TWO(5, 250, 56, 2)), "Decoder.generator.nodeInit.NodeInits.weight") == 0);
    CHECK(strcmp(decoder_param_name(48, TWO(5, 250, 56, 2)), "Decoder.generator.nodes.f_s_2.bias") == 0);
    CHECK(decoder_param_name(49, TWO(5, 250, 56, 2)) == NULL);
    CHECK(strcmp(decoder_param_name(35, TWO(5, 250, 56, 3)), "Decoder.generator.prop.NodeEmb.GNNLayers_backward.2.upd.bias_hh") == 0);
    CHECK(strcmp(decoder_param_name(60, TWO(5, 250, 56, 3)), "Decoder.generator.nodes.f_s_2.bias") == 0);
    CHECK(decoder_param_name(0, TWO(5, 250, 56, 0)) == NULL && decoder_param_name(0, TWO(5, 250, 56, DEC_MAX_LAYERS + 1)) == NULL);
    CHECK(decoder_param_count(TWO(5, 250, 56, 3)) == 1399382 + 2 * 204125);

    const decoder_config cfg = TWO(5, 250, 56, 2);
    const size_t np = decoder_param_count(cfg);
    size_t s[DEC_MAX_TENSORS];
    decoder_param_sizes(s, cfg);
    CHECK(s[36] == 5 * 250 && s[37] == 306 * 362 && s[45] == 306 * 612 && s[47] == 306);
    decoder_params p, q;
    float *m1 = new_params(&p, cfg, 42, 1.0f), *m2 = new_params(&q, cfg, 42, 1.0f);
    CHECK(memcmp(m1, m2, np * sizeof(float)) == 0); // seeded: reproducible
    CHECK(p.fwd[0].msg_w == m1 && p.s2_b == m1 + np - 1);
    CHECK(p.bwd[1].upd_bhh + 375 == p.ge_f_w);
    // every Linear within U(+-1/sqrt(fan_in)) and nearly reaching it; GRU 1/sqrt(125); emb N(0,1)
    float **ptrs[DEC_MAX_TENSORS];
    decoder_param_ptrs(&p, ptrs, cfg);
    static const int fan[DEC_HEAD_TENSORS] = {250, 250, 250, 250, 250, 250, 250, 250, 112, 112,
                                                  56, 56, 0, 362, 362, 306, 306, 306, 306, 306, 306,
                                                  612, 612, 306, 306};
    int ok = 1;
    for (int t = 0; t < decoder_num_tensors(cfg); t++) {
        if (t == 36) continue;
        const int f = t < 24 ? ((t % 6) < 2 ? 250 : 125) : fan[t - 24];
        const double bound = 1.0 / sqrt((double)f);
        double mx = 0;
        for (size_t k = 0; k < s[t]; k++) mx = fmax(mx, fabs((*ptrs[t])[k]));
        if (mx > bound || (s[t] >= 100 && mx < 0.9 * bound)) {
            ok = 0;
            fprintf(stderr, "  init of %s: max %g, bound %g\n", decoder_param_name(t, cfg), mx, bound);
        }
    }
    check(ok, __LINE__, "init: every tensor within (and filling) its PyTorch-default bound");
    double mean = 0, var = 0;
    for (size_t k = 0; k < s[36]; k++) mean += p.emb[k];
    mean /= (double)s[36];
    for (size_t k = 0; k < s[36]; k++) var += (p.emb[k] - mean) * (p.emb[k] - mean);
    var /= (double)s[36];
    CHECK(fabs(mean) < 0.1 && var > 0.85 && var < 1.15); // N(0,1), 1250 draws
    free(m1); free(m2);
}

/* ============================================================ (b) + (c) */
static void test_naive_and_batch(void) {
    const decoder_config cfg = TWO(5, 6, 2, 2);
    dctx x = {.cfg = cfg};
    float *pmem = new_params(&x.p, cfg, 3, 2.0f);
    if (decoder_acts_init(&x.a, cfg, 4, 8)) exit(2);
    // 4 graphs: the three test graphs and a single node (which contributes nothing)
    graph gs[4];
    memcpy(gs, G3, sizeof G3);
    memset(&gs[3], 0, sizeof gs[3]);
    gs[3].n = 1;
    gs[3].type[0] = 1;
    float c[4 * 2];
    for (int i = 0; i < 8; i++) c[i] = (float)(2.0 * rng_double(&R) - 1.0);
    double single[4], md = 0;
    char what[200];
    for (int g = 0; g < 4; g++) {
        x.gs = &gs[g]; x.c = c + 2 * g; x.B = 1;
        single[g] = dloss(&x);
        const double ref = naive_loss(&x.p, cfg, &gs[g], c + 2 * g);
        md = fmax(md, fabs(single[g] - ref) / fmax(1.0, fabs(ref)));
        if (g == 2) {
            snprintf(what, sizeof what, "naive: 5-node graph loss %.9g vs naive %.9g", single[g], ref);
            check(fabs(single[g] - ref) < 1e-5 * fmax(1.0, fabs(ref)), __LINE__, what);
        }
    }
    snprintf(what, sizeof what, "naive: every single-graph loss equals the naive one (max rel diff %.2g)", md);
    check(md < 1e-5, __LINE__, what);
    CHECK(single[3] == 0.0);
    CHECK(single[2] > 1.0); // not trivially zero: 2 directions x 4 steps of CE
    // the naive check can fail: a different latent changes the loss
    {
        float c2[2] = {c[4] + 0.1f, c[5]};
        const double other = naive_loss(&x.p, cfg, &gs[2], c2);
        CHECK(fabs(other - single[2]) > 1e-4);
    }

    // (c) batch of 4 (sizes 4,2,5,1, deliberately unsorted) = mean of single losses
    x.gs = gs; x.c = c; x.B = 4;
    const double Lb = dloss(&x);
    const double mean = (single[0] + single[1] + single[2] + single[3]) / 4.0;
    snprintf(what, sizeof what, "batch: loss %.9g equals the mean of single losses %.9g", Lb, mean);
    check(fabs(Lb - mean) < 1e-5 * fabs(mean), __LINE__, what);
    // dc of the batch = dc of each graph alone / B
    const size_t np = decoder_param_count(cfg);
    float *gmem = fbuf(np), *scratch = fbuf(decoder_scratch_size(cfg, 4, 8));
    decoder_params gp;
    decoder_point_params(&gp, gmem, cfg);
    float dcb[8] = {0}, dcs[8] = {0};
    decoder_backward(&gp, dcb, scratch, &x.a, &x.p);
    for (int g = 0; g < 4; g++) {
        x.gs = &gs[g]; x.c = c + 2 * g; x.B = 1;
        dloss(&x);
        decoder_backward(&gp, dcs + 2 * g, scratch, &x.a, &x.p);
    }
    double dd = 0, dn = 0;
    for (int i = 0; i < 8; i++) { dd = fmax(dd, fabs(dcb[i] - dcs[i] / 4.0)); dn += fabs(dcb[i]); }
    snprintf(what, sizeof what, "batch: dc of each graph is its single-graph dc / B (max diff %.2g)", dd);
    check(dd < 1e-5 && dn > 1e-3, __LINE__, what);
    CHECK(dcs[6] == 0.0f && dcs[7] == 0.0f); // the 1-node graph: no steps, no gradient
    // capacity and type errors
    graph big = G3[2];
    big.type[1] = 5;
    x.gs = &big; x.B = 1;
    double L = 0;
    CHECK(decoder_forward(&x.a, &x.p, &big, c, 1, &L) == -1);
    CHECK(decoder_forward(&x.a, &x.p, gs, c, 5, &L) == -1);
    decoder_acts_free(&x.a);
    free(pmem); free(gmem); free(scratch);
}

/* ============================================================ (d) */
static void test_grad(void) {
    const decoder_config cfg = TWO(5, 6, 2, 2);
    const int B = 3;
    dctx x = {.cfg = cfg, .gs = G3, .B = B};
    float *pmem = new_params(&x.p, cfg, 7, 2.0f);
    if (decoder_acts_init(&x.a, cfg, B, 5)) exit(2);
    x.c = fbuf((size_t)B * cfg.D);
    for (int i = 0; i < B * cfg.D; i++) x.c[i] = (float)(2.0 * rng_double(&R) - 1.0);
    const size_t np = decoder_param_count(cfg);
    float *gmem = fbuf(np), *dc = fbuf((size_t)B * cfg.D), *scratch = fbuf(decoder_scratch_size(cfg, B, 5));
    decoder_params gp;
    decoder_point_params(&gp, gmem, cfg);
    for (size_t i = 0; i < np; i++) gmem[i] = GRAD0;
    for (int i = 0; i < B * cfg.D; i++) dc[i] = GRAD0;
    dloss(&x);
    decoder_backward(&gp, dc, scratch, &x.a, &x.p);
    for (size_t i = 0; i < np; i++) gmem[i] -= GRAD0;
    for (int i = 0; i < B * cfg.D; i++) dc[i] -= GRAD0;

    size_t s[DEC_MAX_TENSORS], off = 0;
    decoder_param_sizes(s, cfg);
    char what[200];
    for (int t = 0; t < decoder_num_tensors(cfg); t++) {
        snprintf(what, sizeof what, "decoder: gradient of %s", decoder_param_name(t, cfg));
        check(fd_compare(what, dloss, &x, pmem + off, gmem + off, s[t], 0), __LINE__, what);
        // every tensor takes part (non-vacuous): some gradient element is non-zero
        double gn = 0;
        for (size_t k = 0; k < s[t]; k++) gn += fabs(gmem[off + k]);
        if (!(gn > 0)) {
            snprintf(what, sizeof what, "decoder: gradient of %s is not all zero", decoder_param_name(t, cfg));
            check(0, __LINE__, what);
        }
        off += s[t];
    }
    CHECK(off == np);
    check(fd_compare("decoder: gradient of c", dloss, &x, x.c, dc, (size_t)B * cfg.D, 0), __LINE__,
          "decoder: gradient of c");
    /* the checker must reject a 3% error in one weight of the edge scorer's shared block */
    float *w = gp.s1_w + 7;
    *w = *w * 1.03f + (fabsf(*w) < 0.05f ? 0.05f : 0.0f);
    check(!fd_compare("", dloss, &x, x.p.s1_w, gp.s1_w, s[45], 1), __LINE__,
          "decoder: checker rejects a slightly wrong gradient");
    decoder_acts_free(&x.a);
    free(pmem); free(gmem); free(dc); free(scratch); free(x.c);
}

/* ============================================================ (e) the step-loss weights (alpha) */
static void test_weights(void) {
    const decoder_config cfg = TWO(5, 6, 2, 2);
    const int B = 3;
    dctx x = {.cfg = cfg, .gs = G3, .B = B};
    float *pmem = new_params(&x.p, cfg, 11, 2.0f);
    if (decoder_acts_init(&x.a, cfg, B, 5)) exit(2);
    CHECK(x.a.w_type == 1.0f && x.a.w_edge == 1.0f); // the reference's alpha = 0.5
    x.c = fbuf((size_t)B * cfg.D);
    for (int i = 0; i < B * cfg.D; i++) x.c[i] = (float)(2.0 * rng_double(&R) - 1.0);
    const double L11 = dloss(&x);
    x.a.w_type = 1.0f; x.a.w_edge = 0.0f;
    const double Lt = dloss(&x);
    x.a.w_type = 0.0f; x.a.w_edge = 1.0f;
    const double Le = dloss(&x);
    x.a.w_type = 0.4f; x.a.w_edge = 1.6f; // alpha = 0.8
    const double Lw = dloss(&x);
    char what[200];
    snprintf(what, sizeof what, "weights: loss = w_type CE + w_edge BCE (%.9g vs %.9g; parts %.6g %.6g)",
             Lw, 0.4 * Lt + 1.6 * Le, Lt, Le);
    check(fabs(Lw - (0.4 * Lt + 1.6 * Le)) < 1e-5 * fabs(Lw) && fabs(L11 - (Lt + Le)) < 1e-5 * fabs(L11) &&
          Lt > 0.1 && Le > 0.1, __LINE__, what);
    // the gradient under the weights: c and two tensors of the two heads
    const size_t np = decoder_param_count(cfg);
    float *gmem = fbuf(np), *dc = fbuf((size_t)B * cfg.D), *scratch = fbuf(decoder_scratch_size(cfg, B, 5));
    decoder_params gp;
    decoder_point_params(&gp, gmem, cfg);
    dloss(&x);
    decoder_backward(&gp, dc, scratch, &x.a, &x.p);
    check(fd_compare("weights: gradient of c", dloss, &x, x.c, dc, (size_t)B * cfg.D, 0), __LINE__,
          "weights: gradient of c (alpha 0.8)");
    size_t s[DEC_MAX_TENSORS];
    decoder_param_sizes(s, cfg);
    check(fd_compare("weights: gradient of nodeAdd.f_an_2.weight", dloss, &x, x.p.an2_w, gp.an2_w, s[34], 0),
          __LINE__, "weights: gradient of nodeAdd.f_an_2.weight (alpha 0.8)");
    check(fd_compare("weights: gradient of nodes.f_s_2.weight", dloss, &x, x.p.s2_w, gp.s2_w, s[47], 0),
          __LINE__, "weights: gradient of nodes.f_s_2.weight (alpha 0.8)");
    decoder_acts_free(&x.a);
    free(pmem); free(gmem); free(dc); free(scratch); free(x.c);
}

int main(void) {
    openblas_set_num_threads(1);
    rng_seed(&R, 2021);
    make_graphs();
    test_params();
    test_naive_and_batch();
    test_grad();
    test_weights();
    return check_summary();
}
