/* test_svge.c: lib/svge.c, the whole SVGe VAE for training.
 *
 *   (a) parameter counts (2,245,121 / 2,245,985 / 2,246,417 at the reference dims), names (encoder
 *       then decoder, all distinct), defaults;
 *   (b) the loss terms: total = recon + beta*KL with KL summed over batch and dims, eps drawn as
 *       documented (B*D rng_gauss, row-major), eval mode (z = mu) equals training with
 *       eps_scale = 0, svge_encode in chunks equals one batch;
 *   (c) the whole model's gradient (all 82 tensors) against central finite differences at tiny
 *       dims (C2=6, D=2, K=5), eps fixed by reseeding the rng before every evaluation, with
 *       eps_scale = 0.5 so that the reparameterisation path weighs in, once with beta = 0.5 (the KL
 *       weighs in) and once with beta = 0 (recon alone); the checker is shown to reject a gradient
 *       that is 3% off;
 *   (d) determinism: two runs of N steps from one seed give bitwise identical parameters; at the
 *       reference's dims a step with no pool and on pools of 1, 2, 3 threads gives the same terms,
 *       gradients and Adam update, bit for bit;
 *   (e) save -> load gives identical parameters, config and model id; a model of another space or
 *       shape is refused with a message naming both;
 *   (f) checkpoint resume: 6 steps straight = 3 steps + checkpoint + load into a fresh model + 3
 *       steps, bitwise (parameters, Adam moments, rng); without the rng restored it differs;
 *   (g) overfitting 4 real NAS-Bench-201 cells at tiny dims: the reconstruction loss falls below
 *       5% of its start.
 * Usage: test_svge [scratch-dir]. Deterministic. Prints "N passed, M failed". */
#include "svge.h"

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
#define GSEED 4242u /* the rng seed that fixes eps during the gradient check */

static const char *TMP = "/tmp";

/* ---- graphs ---- */
static graph G101[3]; /* NB101-like (K=5): 4, 2 and 5 nodes */
static graph G201[4]; /* real NB201 cells (K=7) */

static void make_graphs(void) {
    test_graphs_nb101(G101);

    /* NB201: node k+1 is the k-th operation of the arch string (edges 0->1, 0->2, 1->2, 0->3,
     * 1->3, 2->3 of the cell); the fixed 8-node topology of lib/graph.c's check_nb201.
     * types: 2 nor_conv_1x1, 3 nor_conv_3x3, 4 avg_pool_3x3, 5 skip_connect, 6 none */
    static const uint8_t edges[][2] = {{0, 1}, {0, 2}, {0, 4}, {1, 3}, {1, 5}, {2, 6}, {3, 6}, {4, 7}, {5, 7}, {6, 7}};
    static const uint8_t ops[4][6] = {
        {3, 3, 3, 3, 3, 3}, /* |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|... */
        {5, 6, 2, 4, 3, 5},
        {6, 5, 4, 2, 6, 3},
        {2, 4, 5, 3, 2, 6},
    };
    memset(G201, 0, sizeof G201);
    for (int g = 0; g < 4; g++) {
        G201[g].n = 8;
        G201[g].type[0] = 1;
        G201[g].type[7] = 0;
        memcpy(G201[g].type + 1, ops[g], 6);
        for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) graph_add_edge(&G201[g], edges[e][0], edges[e][1]);
        char why[200];
        CHECK(graph_check(space_get(SPACE_NB201), &G201[g], why, sizeof why) == 0);
    }
}

static void build(svge_model *m, const vae_config *c, int max_g) {
    char err[200];
    if (svge_build(m, c, max_g, err, sizeof err)) {
        fprintf(stderr, "svge_build: %s\n", err);
        exit(2);
    }
}

/* ============================================================ (a) */
static void test_counts(void) {
    vae_config c = vae_default_config(SPACE_NB101);
    CHECK(c.K == 5 && c.C2 == 250 && c.D == 56 && c.beta == 0.005 && c.eps_scale == 0.01 && c.lr == 1e-4);
    CHECK(svge_param_count(&c) == 2245121);
    c = vae_default_config(SPACE_NB201);
    CHECK(svge_param_count(&c) == 2245985);
    c = vae_default_config(SPACE_ENAS6);
    CHECK(svge_param_count(&c) == 2246417);
    CHECK(svge_num_tensors(2) == 82 && svge_num_tensors(3) == 106);
    CHECK(strcmp(svge_param_name(0, 2), "Encoder.NodeEmb.NodeInit.weight") == 0);
    CHECK(strcmp(svge_param_name(encoder_num_tensors(2), 2), "Decoder.generator.prop.NodeEmb.GNNLayers_forward.0.msg.weight") == 0);
    CHECK(strcmp(svge_param_name(svge_num_tensors(2) - 1, 2), "Decoder.generator.nodes.f_s_2.bias") == 0);
    CHECK(svge_param_name(svge_num_tensors(2), 2) == NULL && svge_param_name(-1, 2) == NULL);
    int distinct = 1;
    for (int i = 0; i < svge_num_tensors(2); i++)
        for (int j = 0; j < i; j++)
            if (strcmp(svge_param_name(i, 2), svge_param_name(j, 2)) == 0) distinct = 0;
    CHECK(distinct);
    // a full-size model builds, its views tile the one array: the decoder starts after the encoder
    svge_model m;
    c = vae_default_config(SPACE_NB101);
    build(&m, &c, 2);
    CHECK(m.num_params == 2245121 && m.num_enc == 845739);
    CHECK(m.enc.node_init == m.params && m.dec.fwd[0].msg_w == m.params + m.num_enc);
    CHECK(m.offset[svge_num_tensors(2) - 1] == m.num_params - 1);
    CHECK(m.ndim[0] == 2 && m.shape[0][0] == 5 && m.shape[0][1] == 125);
    svge_free(&m);
    // invalid configs are refused
    char err[200];
    c.K = 7;
    CHECK(svge_build(&m, &c, 2, err, sizeof err) == -1 && strstr(err, "nb101"));
    c = vae_default_config(SPACE_NB101);
    c.C2 = 7;
    CHECK(svge_build(&m, &c, 2, err, sizeof err) == -1);
}

/* ============================================================ (b) */
static vae_config tiny101(void) {
    vae_config c = vae_default_config(SPACE_NB101);
    c.C2 = 6;
    c.D = 2;
    c.beta = 0.5;
    c.eps_scale = 0.5;
    c.seed = 7;
    return c;
}

static void test_terms(void) {
    vae_config c = tiny101();
    svge_model m;
    build(&m, &c, 3);
    rng_mt r;
    rng_seed(&r, 7);
    svge_init(&m, &r);
    vae_terms t;
    rng_seed(&r, 11);
    CHECK(svge_forward(&m, G101, 3, &r, &t) == 0);
    // eps: exactly B*D gauss draws, row-major
    rng_mt r2;
    rng_seed(&r2, 11);
    int same = 1;
    for (int i = 0; i < 3 * c.D; i++) same &= (float)rng_gauss(&r2) == m.eps[i];
    CHECK(same);
    CHECK(rng_u32(&r) == rng_u32(&r2));
    // KL summed over batch and dims, in double
    double kl = 0;
    for (int i = 0; i < 3 * c.D; i++) {
        double mu = m.ea.mu[i], lv = m.ea.logvar[i];
        kl += -0.5 * (1 + lv - mu * mu - exp(lv));
    }
    CHECK(fabs(t.kl - kl) <= 1e-5 * fabs(kl) + 1e-6);
    CHECK(fabs(t.total - (t.recon + c.beta * t.kl)) <= 1e-12 * fabs(t.total));
    CHECK(t.recon > 1.0 && t.kl > 0);
    // z = mu + eps_scale * eps * exp(logvar/2)
    float zz = m.ea.mu[1] + 0.5f * m.eps[1] * expf(0.5f * m.ea.logvar[1]);
    CHECK(m.z[1] == zz);

    // eval mode (z = mu, nothing drawn) = training mode with eps_scale 0
    vae_terms te, t0;
    rng_mt r3;
    rng_seed(&r3, 11);
    rng_seed(&r, 11);
    CHECK(svge_forward(&m, G101, 3, NULL, &te) == 0);
    CHECK(memcmp(&r, &r3, sizeof r) == 0); // nothing drawn
    m.cfg.eps_scale = 0;
    svge_forward(&m, G101, 3, &r, &t0);
    CHECK(te.total == t0.total && te.recon == t0.recon && te.kl == t0.kl);
    CHECK(te.recon != t.recon); // the noise matters at eps_scale 0.5
    m.cfg.eps_scale = c.eps_scale;

    // svge_encode in chunks of max_g = 3 (5 graphs) equals each graph alone
    graph five[5] = {G101[0], G101[1], G101[2], G101[2], G101[0]};
    float mu5[10], lv5[10], mu1[2], lv1[2];
    CHECK(svge_encode(&m, five, 5, mu5, lv5) == 0);
    double worst = 0;
    for (int g = 0; g < 5; g++) {
        svge_encode(&m, five + g, 1, mu1, lv1);
        for (int d = 0; d < 2; d++) {
            worst = fmax(worst, fabs(mu1[d] - mu5[2 * g + d]));
            worst = fmax(worst, fabs(lv1[d] - lv5[2 * g + d]));
        }
    }
    CHECK(worst < 1e-5);
    // what does not fit is refused: too many graphs, a bad type, too many nodes
    CHECK(svge_forward(&m, five, 4, &r, &t) == -1);
    graph bad = G101[0];
    bad.type[1] = 5;
    CHECK(svge_forward(&m, &bad, 1, &r, &t) == -1);
    bad = G101[0];
    bad.n = 8;
    CHECK(svge_forward(&m, &bad, 1, &r, &t) == -1);
    CHECK(svge_encode(&m, &bad, 1, mu1, NULL) == -1);
    svge_free(&m);
}

/* ============================================================ (c) */
typedef struct {
    svge_model m;
    const graph *gs;
    int B;
} gctx;

static double gloss(void *v) {
    gctx *x = v;
    rng_mt r;
    rng_seed(&r, GSEED);
    vae_terms t;
    if (svge_forward(&x->m, x->gs, x->B, &r, &t)) return NAN;
    return t.total;
}


static void test_grad(double beta, int layers) {
    vae_config c = tiny101();
    c.beta = beta;
    c.layers = layers;
    const int NT = svge_num_tensors(layers), NE = encoder_num_tensors(layers);
    gctx x = {.gs = G101, .B = 3};
    build(&x.m, &c, 3);
    rng_mt r;
    rng_seed(&r, c.seed);
    svge_init(&x.m, &r);
    // widen the tiny default init (not the two embeddings) for a sharper test of the nonlinear paths
    for (int t = 0; t < NT; t++) {
        if (t == 0 || t == NE + 12 * layers + 12) continue; // Encoder NodeInit, Decoder NodeInits
        size_t n = x.m.shape[t][0] * (x.m.ndim[t] == 2 ? x.m.shape[t][1] : 1);
        for (size_t k = 0; k < n; k++) x.m.params[x.m.offset[t] + k] *= 2.0f;
    }
    CHECK(strcmp(svge_param_name(NE + 12 * layers + 12, layers), "Decoder.generator.nodeInit.NodeInits.weight") == 0);
    rng_seed(&r, GSEED);
    vae_terms t;
    CHECK(svge_train_step(&x.m, x.gs, x.B, &r, &t) == 0);
    CHECK(fabs(t.total - gloss(&x)) == 0); // the reseeded evaluation reproduces the step's loss
    const size_t np = x.m.num_params;
    float *g = malloc(np * sizeof(float));
    memcpy(g, x.m.grads, np * sizeof(float));
    char what[200];
    for (int k = 0; k < NT; k++) {
        size_t off = x.m.offset[k];
        size_t n = x.m.shape[k][0] * (x.m.ndim[k] == 2 ? x.m.shape[k][1] : 1);
        snprintf(what, sizeof what, "svge (beta %g, %d layers): gradient of %s", beta, layers,
                 svge_param_name(k, layers));
        check(fd_compare(what, gloss, &x, x.m.params + off, g + off, n, 0), __LINE__, what);
        double gn = 0;
        for (size_t q = 0; q < n; q++) gn += fabs(g[off + q]);
        if (!(gn > 0)) {
            snprintf(what, sizeof what, "svge (beta %g, %d layers): gradient of %s is not all zero", beta,
                     layers, svge_param_name(k, layers));
            check(0, __LINE__, what);
        }
    }
    // the checker rejects a 3% error in one weight of the encoder's logvar readout
    const int tv = NE - 4; // Encoder.GraphEmb_var.f_m.weight
    CHECK(strcmp(svge_param_name(tv, layers), "Encoder.GraphEmb_var.f_m.weight") == 0);
    float *w = g + x.m.offset[tv] + 1;
    *w = *w * 1.03f + (fabsf(*w) < 0.05f ? 0.05f : 0.0f);
    check(!fd_compare("", gloss, &x, x.m.params + x.m.offset[tv], g + x.m.offset[tv], 2 * 6, 1), __LINE__,
          "svge: checker rejects a slightly wrong gradient");
    free(g);
    svge_free(&x.m);
}

/* ============================================================ (d), (f) helpers */
static vae_config small201(void) {
    vae_config c = vae_default_config(SPACE_NB201);
    c.C2 = 16;
    c.D = 4;
    c.lr = 1e-2;
    c.seed = 3;
    return c;
}

/* Steps 2 graphs at a time (cycling over the 4 cells), each step an "epoch" for the scheduler. */
static void run_steps(svge_model *m, vae_train *t, int from, int nsteps) {
    for (int s = from; s < from + nsteps; s++) {
        vae_terms tt;
        CHECK(svge_train_step(m, G201 + 2 * (s % 2), 2, &t->rng, &tt) == 0);
        adam_step(&t->opt, m->params, m->grads);
        vae_epoch_end(t, tt.total);
    }
}

static float *train_fresh(int nsteps, vae_config c) {
    svge_model m;
    vae_train t;
    build(&m, &c, 2);
    vae_train_setup(&t, m.num_params, &m.cfg);
    svge_init(&m, &t.rng);
    run_steps(&m, &t, 0, nsteps);
    float *p = malloc(m.num_params * sizeof(float));
    memcpy(p, m.params, m.num_params * sizeof(float));
    vae_train_free(&t);
    svge_free(&m);
    return p;
}

static void test_determinism(void) {
    vae_config c = small201();
    const size_t np = svge_param_count(&c);
    float *a = train_fresh(5, c), *b = train_fresh(5, c);
    CHECK(memcmp(a, b, np * sizeof(float)) == 0);
    c.seed = 4;
    float *d = train_fresh(5, c);
    CHECK(memcmp(a, d, np * sizeof(float)) != 0);
    free(a); free(b); free(d);
}

/* Threads (lib/parallel.h): at the reference's dims, a training step with no pool and with pools of
 * 1, 2 and 3 threads gives the same loss terms and the same gradients, bit for bit, and Adam on
 * the pool the same parameters; the eval forward too. */
static void test_threads(void) {
    vae_config c = vae_default_config(SPACE_NB201);
    svge_model m;
    build(&m, &c, 4);
    const size_t bytes = m.num_params * sizeof(float);
    rng_mt r;
    rng_seed(&r, 7);
    svge_init(&m, &r);
    float *init = malloc(bytes), *g0 = malloc(bytes), *p0 = malloc(bytes);
    memcpy(init, m.params, bytes);
    vae_terms t0 = {0}, e0 = {0};
    for (int T = 0; T <= 3; T++) { /* T = 0: no pool */
        par_pool *pool = T ? par_create(T) : NULL;
        svge_set_pool(&m, pool);
        memcpy(m.params, init, bytes);
        rng_seed(&r, 11);
        vae_terms t, e;
        CHECK(svge_train_step(&m, G201, 4, &r, &t) == 0);
        CHECK(svge_forward(&m, G201, 4, NULL, &e) == 0);
        adam opt;
        adam_init(&opt, m.num_params, 1e-3);
        adam_step_par(&opt, m.params, m.grads, pool);
        adam_free(&opt);
        if (T == 0) {
            memcpy(g0, m.grads, bytes);
            memcpy(p0, m.params, bytes);
            t0 = t, e0 = e;
            CHECK(t.total > 0 && e.total > 0);
        } else {
            CHECK(memcmp(g0, m.grads, bytes) == 0);
            CHECK(t.total == t0.total && t.recon == t0.recon && t.kl == t0.kl);
            CHECK(e.total == e0.total && e.recon == e0.recon);
            CHECK(memcmp(p0, m.params, bytes) == 0);
        }
        svge_set_pool(&m, NULL);
        par_free(pool);
    }
    free(init), free(g0), free(p0);
    svge_free(&m);
}

/* ============================================================ (e) */
static void test_save_load(void) {
    char path[1024], path2[1024], path3[1024];
    snprintf(path, sizeof path, "%s/svge-model.svge", TMP);
    snprintf(path2, sizeof path2, "%s/svge-model2.svge", TMP);
    snprintf(path3, sizeof path3, "%s/svge-other.svge", TMP);
    vae_config c = small201();
    c.seed = 4000000000u; // the whole uint32 range survives the file
    svge_model m;
    build(&m, &c, 2);
    rng_mt r;
    rng_seed(&r, c.seed);
    svge_init(&m, &r);
    mf_value meta[1] = {mf_str("note", "test_svge")};
    char id[MF_ID_LEN + 1], id2[MF_ID_LEN + 1];
    svge_save(path, &m, NULL, meta, 1, id);

    model_file *f = mf_read(path);
    CHECK(strcmp(mf_id(f), id) == 0);
    vae_config c2;
    svge_config_read(f, &c2);
    CHECK(c2.space == c.space && c2.K == c.K && c2.C2 == c.C2 && c2.D == c.D && c2.beta == c.beta &&
          c2.eps_scale == c.eps_scale && c2.lr == c.lr && c2.seed == c.seed);
    svge_model m2;
    build(&m2, &c2, 5);
    svge_load(&m2, f);
    CHECK(memcmp(m.params, m2.params, m.num_params * sizeof(float)) == 0);
    CHECK(strcmp(mf_get_str(f, MF_META, "note"), "test_svge") == 0);
    const uint64_t shp[2] = {16, 16};
    CHECK(mf_find_tensor(f, "Encoder.NodeEmb.GNNLayers_forward.0.msg.weight") != NULL);
    char err[400];
    CHECK(mf_check_tensor(f, "Encoder.NodeEmb.GNNLayers_forward.0.msg.weight", 2, shp, err, sizeof err) == 0);
    mf_free(f);
    svge_save(path2, &m2, NULL, meta, 1, id2);
    CHECK(strcmp(id, id2) == 0); // the same contents give the same id

    // another space, another shape: refused, with a message naming both
    vae_config o = tiny101();
    svge_model mo;
    build(&mo, &o, 2);
    f = mf_read(path);
    CHECK(svge_check_file(&mo, f, err, sizeof err) == -1 && strstr(err, "nb201") && strstr(err, "nb101"));
    mf_free(f);
    vae_config c3 = small201();
    c3.D = 5;
    svge_model m3;
    build(&m3, &c3, 2);
    f = mf_read(path);
    CHECK(svge_check_file(&m3, f, err, sizeof err) == -1 && strstr(err, "gdim 4") && strstr(err, "gdim 5"));
    CHECK(svge_check_file(&m2, f, err, sizeof err) == 0);
    mf_free(f);
    // a model file of another kind is refused
    mf_value cfg[1] = {mf_str("kind", "dgmg")};
    mf_contents cc = {{cfg, NULL, NULL}, {1, 0, 0}, NULL, 0};
    mf_write(path3, &cc, NULL);
    f = mf_read(path3);
    CHECK(svge_check_file(&m2, f, err, sizeof err) == -1 && strstr(err, "not an svge model"));
    mf_free(f);
    svge_free(&m3);
    svge_free(&mo);
    svge_free(&m2);
    svge_free(&m);
}

/* ============================================================ (f) */
static void test_resume(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/svge-ckpt.svge", TMP);
    vae_config c = small201();
    // straight: 6 steps
    svge_model a;
    vae_train ta;
    build(&a, &c, 2);
    vae_train_setup(&ta, a.num_params, &a.cfg);
    svge_init(&a, &ta.rng);
    run_steps(&a, &ta, 0, 6);
    // 3 steps, checkpoint, everything freed
    {
        svge_model b;
        vae_train tb;
        build(&b, &c, 2);
        vae_train_setup(&tb, b.num_params, &b.cfg);
        svge_init(&b, &tb.rng);
        run_steps(&b, &tb, 0, 3);
        svge_save(path, &b, &tb, NULL, 0, NULL);
        vae_train_free(&tb);
        svge_free(&b);
    }
    // load into a fresh model built from the checkpoint's config, 3 more steps
    model_file *f = mf_read(path);
    vae_config cc;
    svge_config_read(f, &cc);
    svge_model b;
    vae_train tb;
    build(&b, &cc, 2);
    vae_train_setup(&tb, b.num_params, &b.cfg);
    svge_load(&b, f);
    vae_load_train_state(&tb, f);
    CHECK(tb.epoch == 3 && tb.opt.step == 3);
    run_steps(&b, &tb, 3, 3);
    CHECK(memcmp(a.params, b.params, a.num_params * sizeof(float)) == 0);
    CHECK(memcmp(ta.opt.m, tb.opt.m, a.num_params * sizeof(float)) == 0);
    CHECK(memcmp(ta.opt.v, tb.opt.v, a.num_params * sizeof(float)) == 0);
    CHECK(memcmp(&ta.rng, &tb.rng, sizeof ta.rng) == 0);
    CHECK(ta.epoch == 6 && tb.epoch == 6 && ta.sched.best == tb.sched.best);
    // not vacuous: resuming with the rng not restored gives other parameters
    svge_load(&b, f);
    vae_load_train_state(&tb, f);
    rng_seed(&tb.rng, c.seed);
    run_steps(&b, &tb, 3, 3);
    CHECK(memcmp(a.params, b.params, a.num_params * sizeof(float)) != 0);
    mf_free(f);
    vae_train_free(&tb);
    svge_free(&b);
    vae_train_free(&ta);
    svge_free(&a);
}

/* ============================================================ (g) */
static void test_overfit(void) {
    vae_config c = small201();
    c.seed = 1;
    svge_model m;
    vae_train t;
    build(&m, &c, 4);
    vae_train_setup(&t, m.num_params, &m.cfg);
    svge_init(&m, &t.rng);
    vae_terms t0, tt;
    svge_forward(&m, G201, 4, NULL, &t0);
    const int steps = 300;
    int fails = 0;
    for (int s = 0; s < steps; s++) {
        fails += svge_train_step(&m, G201, 4, &t.rng, &tt) != 0;
        adam_step(&t.opt, m.params, m.grads);
    }
    CHECK(fails == 0);
    vae_terms te;
    svge_forward(&m, G201, 4, NULL, &te);
    printf("overfit: 4 NB201 cells, C2=16 D=4 lr=%g, %d steps: recon %.4f -> %.4f (train %.4f), kl %.3f\n",
           c.lr, steps, t0.recon, te.recon, tt.recon, te.kl);
    CHECK(te.recon < 0.05 * t0.recon);
    CHECK(tt.recon < 0.05 * t0.recon);
    vae_train_free(&t);
    svge_free(&m);
}

int main(int argc, char **argv) {
    openblas_set_num_threads(1);
    if (argc > 1) TMP = argv[1];
    make_graphs();
    test_counts();
    test_terms();
    test_grad(0.5, 2); // the KL weighs in
    test_grad(0.0, 2); // the reconstruction alone: the reparameterisation path is not masked by the KL
    test_grad(0.5, 1); // --layers 1 and 3: other counts of message-passing layers per direction
    test_grad(0.5, 3);
    test_determinism();
    test_threads();
    test_save_load();
    test_resume();
    test_overfit();
    return check_summary();
}
