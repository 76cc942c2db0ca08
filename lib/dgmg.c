/* dgmg.c: the DGMG baseline (VS-GAE) training path; see dgmg.h. */
#include "dgmg.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "util.h"

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

static int popcount16(uint16_t x) {
    int k = 0;
    for (; x; x &= (uint16_t)(x - 1)) k++;
    return k;
}

/* ================================================= the bidirectional layer */
size_t bimp_cache_size(int N, int C) { return (size_t)N * 2 * C * 3 + gru_cache_size(N, C); }
size_t bimp_scratch_size(int N, int C) { return (size_t)N * 2 * C * 3 + gru_scratch_size(N, C); }

/* Z (N,2C) = [sum over the nbr-masked nodes of h ; popcount(nbr) h_v]. */
static void gather(float *Z, const float *h, const uint16_t *nbr, const int *offsets, int G, int C) {
    const int C2 = 2 * C;
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            float *zs = Z + (size_t)v * C2, *zt = zs + C;
            const float *hv = h + (size_t)v * C;
            zero(zs, (size_t)C);
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                const float *hu = h + (size_t)(base + __builtin_ctz(m)) * C;
                for (int k = 0; k < C; k++) zs[k] += hu[k];
            }
            const float deg = (float)popcount16(nbr[v]);
            for (int k = 0; k < C; k++) zt[k] = deg * hv[k];
        }
    }
}

/* The transpose of gather: dh += dZ scattered back. */
static void scatter(float *dh, const float *dZ, const uint16_t *nbr, const int *offsets, int G, int C) {
    const int C2 = 2 * C;
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            const float *dzs = dZ + (size_t)v * C2, *dzt = dzs + C;
            float *dhv = dh + (size_t)v * C;
            const float deg = (float)popcount16(nbr[v]);
            for (int k = 0; k < C; k++) dhv[k] += deg * dzt[k];
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                float *dhu = dh + (size_t)(base + __builtin_ctz(m)) * C;
                for (int k = 0; k < C; k++) dhu[k] += dzs[k];
            }
        }
    }
}

void bimp_forward(float *hout, float *cache, const float *h, const uint16_t *pred,
                  const uint16_t *succ, const int *offsets, int G, const bimp_params *p, int C) {
    const int N = offsets[G], C2 = 2 * C;
    if (N == 0) return;
    float *Zf = cache, *Zr = cache + (size_t)N * C2, *a = cache + (size_t)N * C2 * 2;
    float *gc = cache + (size_t)N * C2 * 3;
    gather(Zf, h, pred, offsets, G, C);
    gather(Zr, h, succ, offsets, G, C);
    linear_forward(a, Zf, p->msg_w, NULL, N, C2, C2);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C2, C2, 1.0f, Zr, C2, p->rev_w, C2, 1.0f,
                a, C2);
    for (int v = 0; v < N; v++) {
        const float df = (float)popcount16(pred[v]), dr = (float)popcount16(succ[v]);
        float *av = a + (size_t)v * C2;
        for (int k = 0; k < C2; k++) av[k] += df * p->msg_b[k] + dr * p->rev_b[k];
    }
    gru_forward(hout, gc, a, h, p->upd_wih, p->upd_whh, p->upd_bih, p->upd_bhh, N, C2, C);
}

void bimp_backward(float *dh, const bimp_params *grad, float *scratch, const float *dhout,
                   const float *cache, const float *h, const uint16_t *pred, const uint16_t *succ,
                   const int *offsets, int G, const bimp_params *p, int C) {
    const int N = offsets[G], C2 = 2 * C;
    if (N == 0) return;
    const bimp_params none = {0};
    const bimp_params *gr = grad ? grad : &none;
    const float *Zf = cache, *Zr = cache + (size_t)N * C2, *a = cache + (size_t)N * C2 * 2;
    const float *gc = cache + (size_t)N * C2 * 3;
    float *da = scratch, *dZf = scratch + (size_t)N * C2, *dZr = scratch + (size_t)N * C2 * 2;
    float *gs = scratch + (size_t)N * C2 * 3;
    zero(da, (size_t)N * C2 * 3);
    gru_backward(da, dh, gr->upd_wih, gr->upd_whh, gr->upd_bih, gr->upd_bhh, gs, dhout, gc, a, h,
                 p->upd_wih, p->upd_whh, N, C2, C);
    linear_backward(dh ? dZf : NULL, gr->msg_w, NULL, da, Zf, p->msg_w, N, C2, C2);
    linear_backward(dh ? dZr : NULL, gr->rev_w, NULL, da, Zr, p->rev_w, N, C2, C2);
    for (int v = 0; v < N; v++) {
        const float df = (float)popcount16(pred[v]), dr = (float)popcount16(succ[v]);
        const float *dav = da + (size_t)v * C2;
        if (gr->msg_b)
            for (int k = 0; k < C2; k++) gr->msg_b[k] += df * dav[k];
        if (gr->rev_b)
            for (int k = 0; k < C2; k++) gr->rev_b[k] += dr * dav[k];
    }
    if (!dh) return;
    scatter(dh, dZf, pred, offsets, G, C);
    scatter(dh, dZr, succ, offsets, G, C);
}

/* ======================================================== parameter layout */
_Static_assert(DGMG_LAYERS == 2, "the name table below spells out 2 layers");

#define LAYER(pre, i)                                                                             \
    pre #i ".msg.weight", pre #i ".msg.bias", pre #i ".msg_rev.weight", pre #i ".msg_rev.bias",   \
    pre #i ".upd.weight_ih", pre #i ".upd.weight_hh", pre #i ".upd.bias_ih", pre #i ".upd.bias_hh"
#define READOUT(pre) pre ".f_m.weight", pre ".f_m.bias", pre ".g_m.weight", pre ".g_m.bias"
#define P "Decoder.generator."

static const char *const names[DGMG_NUM_TENSORS] = {
    "Encoder.NodeEmb.NodeInit.weight",
    LAYER("Encoder.NodeEmb.GNNLayers.", 0), LAYER("Encoder.NodeEmb.GNNLayers.", 1),
    READOUT("Encoder.GraphEmb_mean"), READOUT("Encoder.GraphEmb_var"),
    LAYER(P "prop.NodeEmb.GNNLayers.", 0), LAYER(P "prop.NodeEmb.GNNLayers.", 1),
    READOUT(P "prop.GraphEmb"), READOUT(P "prop.GraphEmb_init"),
    P "nodeAdd.f_an.weight", P "nodeAdd.f_an.bias",
    P "nodeAdd.f_an_2.weight", P "nodeAdd.f_an_2.bias",
    P "nodeInit.NodeInits.weight",
    P "nodeInit.f_init.weight", P "nodeInit.f_init.bias",
    P "nodeInit.f_init_2.weight", P "nodeInit.f_init_2.bias",
    P "nodeInit.f_start.weight", P "nodeInit.f_start.bias",
    P "nodeInit.f_start_2.weight", P "nodeInit.f_start_2.bias",
    P "nodes.f_s_1.weight", P "nodes.f_s_1.bias",
    P "nodes.f_s_2.weight", P "nodes.f_s_2.bias",
};
#undef P
#undef READOUT
#undef LAYER

const char *dgmg_param_name(int i) { return (i >= 0 && i < DGMG_NUM_TENSORS) ? names[i] : NULL; }

/* PyTorch shapes (ndim, shape) and init fan_in (0: Embedding N(0,1), -1: GRUCell 1/sqrt(C)). */
static void layout(int ndim[DGMG_NUM_TENSORS], uint64_t shape[DGMG_NUM_TENSORS][2],
                   int fan[DGMG_NUM_TENSORS], int Ki, int Ci, int Di) {
    const uint64_t K = (uint64_t)Ki, C = (uint64_t)Ci, D = (uint64_t)Di, OC = C + D;
    int i = 0;
#define S2(a, b, f) (ndim[i] = 2, shape[i][0] = (a), shape[i][1] = (b), fan[i] = (int)(f), i++)
#define S1(a, f) (ndim[i] = 1, shape[i][0] = (a), shape[i][1] = 0, fan[i] = (int)(f), i++)
#define LAYER() (S2(2 * C, 2 * C, 2 * C), S1(2 * C, 2 * C), S2(2 * C, 2 * C, 2 * C), S1(2 * C, 2 * C), \
                 S2(3 * C, 2 * C, -1), S2(3 * C, C, -1), S1(3 * C, -1), S1(3 * C, -1))
#define READOUT() (S2(D, C, C), S1(D, C), S2(1, C, C), S1(1, C))
    S2(K, C, 0);
    for (int l = 0; l < DGMG_LAYERS; l++) LAYER();
    READOUT(); READOUT();
    for (int l = 0; l < DGMG_LAYERS; l++) LAYER();
    READOUT(); READOUT();
    S2(D, 2 * D, 2 * D); S1(D, 2 * D);                  // f_an
    S2(K, D, D); S1(K, D);                              // f_an_2
    S2(K, C, 0);                                        // NodeInits
    S2(OC, C + 2 * D, C + 2 * D); S1(OC, C + 2 * D);    // f_init
    S2(C, OC, OC); S1(C, OC);                           // f_init_2
    S2(OC, OC, OC); S1(OC, OC);                         // f_start
    S2(C, OC, OC); S1(C, OC);                           // f_start_2
    S2(OC, 2 * C + 2 * D, 2 * C + 2 * D); S1(OC, 2 * C + 2 * D); // f_s_1
    S2(1, OC, OC); S1(1, OC);                           // f_s_2
#undef READOUT
#undef LAYER
#undef S1
#undef S2
}

static size_t numel(int ndim, const uint64_t shape[2]) {
    return (size_t)shape[0] * (ndim == 2 ? (size_t)shape[1] : 1);
}

size_t dgmg_param_count(int K, int C, int D) {
    int nd[DGMG_NUM_TENSORS], fan[DGMG_NUM_TENSORS];
    uint64_t sh[DGMG_NUM_TENSORS][2];
    layout(nd, sh, fan, K, C, D);
    size_t n = 0;
    for (int i = 0; i < DGMG_NUM_TENSORS; i++) n += numel(nd[i], sh[i]);
    return n;
}

static void bimp_ptrs(bimp_params *b, float ***q) {
    q[0] = &b->msg_w; q[1] = &b->msg_b; q[2] = &b->rev_w; q[3] = &b->rev_b;
    q[4] = &b->upd_wih; q[5] = &b->upd_whh; q[6] = &b->upd_bih; q[7] = &b->upd_bhh;
}

static void param_ptrs(dgmg_params *p, float **ptrs[DGMG_NUM_TENSORS]) {
    float ***q = ptrs;
    decoder_params *r = &p->gen;
    *q++ = &p->node_init;
    for (int l = 0; l < DGMG_LAYERS; l++, q += BIMP_NUM_TENSORS) bimp_ptrs(&p->enc[l], q);
    *q++ = &p->mean_f_w; *q++ = &p->mean_f_b; *q++ = &p->mean_g_w; *q++ = &p->mean_g_b;
    *q++ = &p->var_f_w; *q++ = &p->var_f_b; *q++ = &p->var_g_w; *q++ = &p->var_g_b;
    for (int l = 0; l < DGMG_LAYERS; l++, q += BIMP_NUM_TENSORS) bimp_ptrs(&p->dec[l], q);
    *q++ = &r->ge_f_w; *q++ = &r->ge_f_b; *q++ = &r->ge_g_w; *q++ = &r->ge_g_b;
    *q++ = &r->gi_f_w; *q++ = &r->gi_f_b; *q++ = &r->gi_g_w; *q++ = &r->gi_g_b;
    *q++ = &r->an_w; *q++ = &r->an_b; *q++ = &r->an2_w; *q++ = &r->an2_b;
    *q++ = &r->emb;
    *q++ = &r->init_w; *q++ = &r->init_b; *q++ = &r->init2_w; *q++ = &r->init2_b;
    *q++ = &r->start_w; *q++ = &r->start_b; *q++ = &r->start2_w; *q++ = &r->start2_b;
    *q++ = &r->s1_w; *q++ = &r->s1_b; *q++ = &r->s2_w; *q = &r->s2_b;
}

static void point_params(dgmg_params *p, float *mem, const dgmg_model *m) {
    float **ptrs[DGMG_NUM_TENSORS];
    memset(p, 0, sizeof *p);
    param_ptrs(p, ptrs);
    for (int i = 0; i < DGMG_NUM_TENSORS; i++) *ptrs[i] = mem + m->offset[i];
}

void dgmg_init(dgmg_model *m, rng_mt *r) {
    int nd[DGMG_NUM_TENSORS], fan[DGMG_NUM_TENSORS];
    uint64_t sh[DGMG_NUM_TENSORS][2];
    layout(nd, sh, fan, m->cfg.K, m->cfg.C2, m->cfg.D);
    for (int i = 0; i < DGMG_NUM_TENSORS; i++) {
        float *x = m->params + m->offset[i];
        const size_t n = numel(nd[i], sh[i]);
        if (fan[i] == 0) {
            for (size_t k = 0; k < n; k++) x[k] = (float)rng_gauss(r);
            continue;
        }
        const double bound = 1.0 / sqrt(fan[i] < 0 ? (double)m->cfg.C2 : (double)fan[i]);
        for (size_t k = 0; k < n; k++) x[k] = (float)(bound * (2.0 * rng_double(r) - 1.0));
    }
}

/* ============================================================ decoder acts */
struct dgmg_dec {
    float *mem;
    int *order, *types, *offsets;  /* (max_g), (max_g), (max_g+1) */
    graph *gd;                     /* (max_g) graphs in rank order */
    float *cs, *wce, *wbce;        /* (max_g,D), (max_g), (max_g*max_n) */
    uint16_t *pred, *succ;         /* (max_g*max_n) */
    int A0, nsteps;
    float *xstart, *zs;            /* (A0,OC) */
    dec_step step[DEC_MAX_STEPS];
};

static float *take(float *base, size_t *off, size_t n) {
    float *p = base ? base + *off : NULL;
    *off += n;
    return p;
}

/* One step with A graphs of n nodes; single stream: hs[0][0] = hin, hs[0][l+1] after layer l,
 * cache[0][l] the layer caches, hprop = hs[0][DGMG_LAYERS]. infer: no backward will follow, so the
 * layers share one cache (inference). */
static void carve_step(dec_step *s, float *base, size_t *off, decoder_config cfg, int A, int n, int infer) {
    const int C = cfg.C2, D = cfg.D, K = cfg.K, OC = C + D, WR = C + 2 * D;
    const size_t M = (size_t)A * n;
    memset(s, 0, sizeof *s);
    s->A = A;
    s->n = n;
    s->hin = take(base, off, M * C);
    s->hs[0][0] = s->hin;
    if (n > 1) {
        for (int l = 0; l < DGMG_LAYERS; l++) {
            s->hs[0][l + 1] = take(base, off, M * C);
            s->cache[0][l] = infer && l > 0 ? s->cache[0][0] : take(base, off, bimp_cache_size((int)M, C));
        }
        s->hprop = s->hs[0][DGMG_LAYERS];
        s->gc = take(base, off, gsum_cache_size((int)M, D));
        s->gci = take(base, off, gsum_cache_size((int)M, D));
    } else {
        s->hprop = s->hin;
    }
    s->hG = take(base, off, (size_t)A * D);
    s->hGi = take(base, off, (size_t)A * D);
    s->xan = take(base, off, (size_t)A * 2 * D);
    s->an1 = take(base, off, (size_t)A * D);
    s->logits = take(base, off, (size_t)A * K);
    s->probs = take(base, off, (size_t)A * K);
    s->xinit = take(base, off, (size_t)A * WR);
    s->z1 = take(base, off, (size_t)A * OC);
    s->hnew = take(base, off, (size_t)A * C);
    if (n > 1) {
        s->xrest = take(base, off, (size_t)A * WR);
        s->q = take(base, off, (size_t)A * OC);
        s->es1 = take(base, off, M * OC);
        s->s = take(base, off, M);
        s->et = take(base, off, M);
    }
}

static size_t dec_arena_size(decoder_config cfg, int max_g, int max_n) {
    size_t off = 2 * (size_t)max_g * (cfg.C2 + cfg.D);
    dec_step s;
    for (int t = 0; t < max_n - 1; t++) carve_step(&s, NULL, &off, cfg, max_g, t + 1, 0);
    return off;
}

/* Backward scratch of the decoder. */
typedef struct {
    float *dcarry, *dhin, *dhprop, *dmid;          /* (M,C) */
    float *ws;                                     /* bimp / gsum scratch */
    float *ds, *dpre;                              /* (M), (M,OC) */
    float *dq, *dxrest, *dz1, *dxinit, *dhnew;     /* (A,OC) (A,WR) (A,OC) (A,WR) (A,C) */
    float *dhG, *dhGi, *dlogits, *dan1, *dxan, *dcs;
} dscratch;

static size_t carve_dscratch(dscratch *s, float *base, decoder_config cfg, int max_g, int max_n) {
    const size_t C = (size_t)cfg.C2, D = (size_t)cfg.D, K = (size_t)cfg.K;
    const size_t OC = C + D, WR = C + 2 * D, A = (size_t)max_g, M = A * (size_t)max_n;
    size_t ms = bimp_scratch_size((int)M, (int)C), gs = gsum_scratch_size((int)M, (int)D), off = 0;
    s->dcarry = take(base, &off, M * C);
    s->dhin = take(base, &off, M * C);
    s->dhprop = take(base, &off, M * C);
    s->dmid = take(base, &off, M * C);
    s->ws = take(base, &off, ms > gs ? ms : gs);
    s->ds = take(base, &off, M);
    s->dpre = take(base, &off, M * OC);
    s->dq = take(base, &off, A * OC);
    s->dxrest = take(base, &off, A * WR);
    s->dz1 = take(base, &off, A * OC);
    s->dxinit = take(base, &off, A * WR);
    s->dhnew = take(base, &off, A * C);
    s->dhG = take(base, &off, A * D);
    s->dhGi = take(base, &off, A * D);
    s->dlogits = take(base, &off, A * K);
    s->dan1 = take(base, &off, A * D);
    s->dxan = take(base, &off, A * 2 * D);
    s->dcs = take(base, &off, A * D);
    return off;
}

/* Encoder backward scratch: dh2, dh1, dh0 (N,C), then bimp / gsum scratch. */
static size_t enc_scratch_size(int C, int D, int N) {
    size_t ms = bimp_scratch_size(N, C), gs = gsum_scratch_size(N, D);
    return (size_t)N * C * 3 + (ms > gs ? ms : gs);
}

/* =================================================================== build */
int dgmg_build(dgmg_model *m, const svge_config *cfg, int max_g, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (svge_config_check(cfg, err, errlen)) return -1;
    if (max_g < 1 || max_g > 1 << 20) { snprintf(err, errlen, "batch capacity %d out of range", max_g); return -1; }
    m->cfg = *cfg;
    const int K = cfg->K, C = cfg->C2, D = cfg->D;
    m->dcfg = (decoder_config){K, C, D, DGMG_LAYERS}; // (its propagation is DGMG's own: L unused)
    m->max_g = max_g;
    m->max_n = space_get(cfg->space)->max_nodes;
    int fan[DGMG_NUM_TENSORS];
    layout(m->ndim, m->shape, fan, K, C, D);
    size_t off = 0;
    for (int i = 0; i < DGMG_NUM_TENSORS; i++) {
        m->offset[i] = off;
        off += numel(m->ndim[i], m->shape[i]);
    }
    m->num_params = off;
    m->params = xcalloc(off, sizeof(float));
    m->grads = xcalloc(off, sizeof(float));
    point_params(&m->p, m->params, m);
    point_params(&m->g, m->grads, m);

    const int N = max_g * m->max_n;
    if (encoder_batch_init(&m->batch, N, max_g)) goto oom;
    size_t eo = 0;
    m->h0 = take(NULL, &eo, (size_t)N * C);
    for (int l = 0; l < DGMG_LAYERS; l++) {
        take(NULL, &eo, (size_t)N * C);
        take(NULL, &eo, bimp_cache_size(N, C));
    }
    take(NULL, &eo, 2 * gsum_cache_size(N, D) + 2 * (size_t)max_g * D);
    m->enc_mem = xmalloc((eo + 1) * sizeof(float));
    eo = 0;
    m->h0 = take(m->enc_mem, &eo, (size_t)N * C);
    float **hl[DGMG_LAYERS] = {&m->h1, &m->h2};
    for (int l = 0; l < DGMG_LAYERS; l++) {
        *hl[l] = take(m->enc_mem, &eo, (size_t)N * C);
        m->ec[l] = take(m->enc_mem, &eo, bimp_cache_size(N, C));
    }
    m->gmean = take(m->enc_mem, &eo, gsum_cache_size(N, D));
    m->gvar = take(m->enc_mem, &eo, gsum_cache_size(N, D));
    m->mu = take(m->enc_mem, &eo, (size_t)max_g * D);
    m->logvar = take(m->enc_mem, &eo, (size_t)max_g * D);

    dscratch ds;
    size_t s1 = carve_dscratch(&ds, NULL, m->dcfg, max_g, m->max_n), s2 = enc_scratch_size(C, D, N);
    m->scratch = xmalloc(((s1 > s2 ? s1 : s2) + 1) * sizeof(float));

    dgmg_dec *dd = xcalloc(1, sizeof *dd);
    m->dd = dd;
    const size_t G = (size_t)max_g, GN = G * (size_t)m->max_n;
    dd->mem = xmalloc((dec_arena_size(m->dcfg, max_g, m->max_n) + 1) * sizeof(float));
    dd->order = xmalloc((3 * G + 2) * sizeof(int));
    dd->types = dd->order + G;
    dd->offsets = dd->types + G;
    dd->gd = xmalloc((G + 1) * sizeof(graph));
    dd->cs = xmalloc((G * D + G + GN + 1) * sizeof(float));
    dd->wce = dd->cs + G * D;
    dd->wbce = dd->wce + G;
    dd->pred = xmalloc((2 * GN + 1) * sizeof(uint16_t));
    dd->succ = dd->pred + GN;

    const size_t GD = G * (size_t)D;
    m->eps = xcalloc(5 * GD, sizeof(float));
    m->z = m->eps + GD;
    m->dz = m->z + GD;
    m->dmu = m->dz + GD;
    m->dlogvar = m->dmu + GD;
    return 0;
oom:
    dgmg_free(m);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void dgmg_free(dgmg_model *m) {
    free(m->params);
    free(m->grads);
    encoder_batch_free(&m->batch);
    free(m->enc_mem);
    free(m->scratch);
    if (m->dd) {
        free(m->dd->mem);
        free(m->dd->order);
        free(m->dd->gd);
        free(m->dd->cs);
        free(m->dd->pred);
        free(m->dd);
    }
    free(m->eps);
    memset(m, 0, sizeof *m);
}

/* ================================================================= encoder */
static void encoder_fwd(dgmg_model *m) {
    const encoder_batch *b = &m->batch;
    const int C = m->cfg.C2, D = m->cfg.D, N = b->N, G = b->G;
    const dgmg_params *p = &m->p;
    embedding_forward(m->h0, b->types, p->node_init, N, C);
    const float *hin[DGMG_LAYERS] = {m->h0, m->h1};
    float *hout[DGMG_LAYERS] = {m->h1, m->h2};
    for (int l = 0; l < DGMG_LAYERS; l++)
        bimp_forward(hout[l], m->ec[l], hin[l], b->pred, b->succ, b->offsets, G, &p->enc[l], C);
    gsum_forward(m->mu, m->gmean, m->h2, p->mean_f_w, p->mean_f_b, p->mean_g_w, p->mean_g_b, b->offsets, G, C, D);
    gsum_forward(m->logvar, m->gvar, m->h2, p->var_f_w, p->var_f_b, p->var_g_w, p->var_g_b, b->offsets, G, C, D);
}

static void encoder_bwd(dgmg_model *m) {
    const encoder_batch *b = &m->batch;
    const int C = m->cfg.C2, D = m->cfg.D, N = b->N, G = b->G;
    const dgmg_params *p = &m->p, *g = &m->g;
    if (N == 0) return;
    float *dh2 = m->scratch, *dh1 = dh2 + (size_t)N * C, *dh0 = dh1 + (size_t)N * C;
    float *ws = dh0 + (size_t)N * C;
    zero(dh2, (size_t)N * C * 3);
    gsum_backward(dh2, g->mean_f_w, g->mean_f_b, g->mean_g_w, g->mean_g_b, ws, m->dmu, m->gmean, m->h2,
                  p->mean_f_w, p->mean_g_w, b->offsets, G, C, D);
    gsum_backward(dh2, g->var_f_w, g->var_f_b, g->var_g_w, g->var_g_b, ws, m->dlogvar, m->gvar, m->h2,
                  p->var_f_w, p->var_g_w, b->offsets, G, C, D);
    bimp_backward(dh1, &g->enc[1], ws, dh2, m->ec[1], m->h1, b->pred, b->succ, b->offsets, G, &p->enc[1], C);
    bimp_backward(dh0, &g->enc[0], ws, dh1, m->ec[0], m->h0, b->pred, b->succ, b->offsets, G, &p->enc[0], C);
    embedding_backward(g->node_init, dh0, b->types, N, C);
}

/* ================================================================= decoder */
/* Masks and offsets of the induced subgraphs on nodes 0..n-1 of the A first graphs. */
static void make_masks(dgmg_dec *dd, int A, int n) {
    const uint16_t keep = (uint16_t)((1u << n) - 1u);
    for (int i = 0; i < A; i++) {
        dd->offsets[i] = i * n;
        for (int v = 0; v < n; v++) {
            dd->pred[i * n + v] = graph_pred(&dd->gd[i], v) & keep;
            dd->succ[i * n + v] = dd->gd[i].succ[v] & keep;
        }
    }
    dd->offsets[A] = A * n;
}

static void add_cols(float *dst, const float *src, int col, int w, int ld, int A) {
    for (int i = 0; i < A; i++)
        for (int k = 0; k < w; k++) dst[(size_t)i * w + k] += src[(size_t)i * ld + col + k];
}

static void relu_mask(float *d, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(out[i] > 0.0f)) d[i] = 0.0f;
}

size_t dgmg_step_size(decoder_config cfg, int A, int n) {
    size_t off = 0;
    dec_step s;
    carve_step(&s, NULL, &off, cfg, A, n, 1);
    return off;
}

void dgmg_step_carve(dec_step *s, float *mem, decoder_config cfg, int A, int n) {
    size_t off = 0;
    carve_step(s, mem, &off, cfg, A, n, 1);
}

void dgmg_step_logits(dec_step *s, const dgmg_params *p, decoder_config cfg, const float *cs,
                      const uint16_t *pred, const uint16_t *succ, const int *offsets) {
    const decoder_params *r = &p->gen;
    const int C = cfg.C2, D = cfg.D, K = cfg.K, A = s->A, n = s->n;
    // (1) propagation over the partial graph and the readouts
    if (n > 1) {
        for (int l = 0; l < DGMG_LAYERS; l++)
            bimp_forward(s->hs[0][l + 1], s->cache[0][l], s->hs[0][l], pred, succ, offsets, A, &p->dec[l], C);
        gsum_forward(s->hG, s->gc, s->hprop, r->ge_f_w, r->ge_f_b, r->ge_g_w, r->ge_g_b, offsets, A, C, D);
        gsum_forward(s->hGi, s->gci, s->hprop, r->gi_f_w, r->gi_f_b, r->gi_g_w, r->gi_g_b, offsets, A, C, D);
    } else {
        linear_forward(s->hG, s->hprop, r->ge_f_w, r->ge_f_b, A, C, D);
        linear_forward(s->hGi, s->hprop, r->gi_f_w, r->gi_f_b, A, C, D);
    }
    // (2) type logits = NodeAdd([h_G ; c])
    for (int i = 0; i < A; i++) {
        memcpy(s->xan + (size_t)i * 2 * D, s->hG + (size_t)i * D, (size_t)D * sizeof(float));
        memcpy(s->xan + (size_t)i * 2 * D + D, cs + (size_t)i * D, (size_t)D * sizeof(float));
    }
    linear_forward(s->an1, s->xan, r->an_w, r->an_b, A, 2 * D, D);
    relu_forward(s->an1, s->an1, (size_t)A * D);
    linear_forward(s->logits, s->an1, r->an2_w, r->an2_b, A, D, K);
}

static void step_forward(dgmg_model *m, dec_step *s, double *loss) {
    dgmg_dec *dd = m->dd;
    const decoder_config cfg = m->dcfg;
    const decoder_params *r = &m->p.gen;
    const int K = cfg.K, A = s->A, n = s->n, M = A * n;
    // (1), (2) propagation, readouts, type logits; CE against the teacher type of node n
    if (n > 1) make_masks(dd, A, n);
    dgmg_step_logits(s, &m->p, cfg, dd->cs, dd->pred, dd->succ, dd->offsets);
    for (int i = 0; i < A; i++) dd->types[i] = dd->gd[i].type[n];
    *loss += crossentropy_forward(s->probs, s->logits, dd->types, dd->wce, A, K);
    // (3) the new node, (4) the edge scores: SVGe's modules (lib/decoder.h)
    decoder_step_node(s, r, cfg, dd->types, dd->cs);
    if (n == 1) return;
    for (int i = 0; i < A; i++)
        for (int u = 0; u < n; u++) s->et[i * n + u] = graph_has_edge(&dd->gd[i], u, n) ? 1.0f : 0.0f;
    const float w = dd->wce[0] / (float)n;
    for (int v = 0; v < M; v++) dd->wbce[v] = w;
    *loss += bce_logits_forward(s->s, s->et, dd->wbce, M);
}

/* Teacher-forced forward generation of B graphs with latents c; the loss (batch mean). */
static double decoder_fwd(dgmg_model *m, const graph *gs, const float *c, int B) {
    dgmg_dec *dd = m->dd;
    const decoder_config cfg = m->dcfg;
    const int C = cfg.C2, D = cfg.D, OC = C + D;
    for (int g = 0; g < B; g++) {
        int k = g;
        while (k > 0 && gs[dd->order[k - 1]].n < gs[g].n) { dd->order[k] = dd->order[k - 1]; k--; }
        dd->order[k] = g;
    }
    for (int i = 0; i < B; i++) {
        dd->gd[i] = gs[dd->order[i]];
        memcpy(dd->cs + (size_t)i * D, c + (size_t)dd->order[i] * D, (size_t)D * sizeof(float));
        dd->wce[i] = 1.0f / (float)B;
    }
    int A0 = 0;
    while (A0 < B && dd->gd[A0].n >= 2) A0++;
    dd->A0 = A0;
    dd->nsteps = A0 ? dd->gd[0].n - 1 : 0;
    size_t off = 0;
    dd->xstart = take(dd->mem, &off, (size_t)A0 * OC);
    dd->zs = take(dd->mem, &off, (size_t)A0 * OC);
    for (int t = 0; t < dd->nsteps; t++) {
        int A = 0;
        while (A < B && dd->gd[A].n > t + 1) A++;
        carve_step(&dd->step[t], dd->mem, &off, cfg, A, t + 1, 0);
    }
    double L = 0.0;
    if (!A0) return L;
    decoder_start_state(dd->step[0].hin, dd->xstart, dd->zs, &m->p.gen, cfg, DEC_START_FWD, dd->cs, A0);
    for (int t = 0; t < dd->nsteps; t++) {
        dec_step *s = &dd->step[t];
        if (t > 0) { // carry: [propagated states of step t-1 ; its new node]
            const dec_step *pv = &dd->step[t - 1];
            const int n = s->n;
            for (int i = 0; i < s->A; i++) {
                memcpy(s->hin + (size_t)i * n * C, pv->hprop + (size_t)i * (n - 1) * C,
                       (size_t)(n - 1) * C * sizeof(float));
                memcpy(s->hin + ((size_t)i * n + n - 1) * C, pv->hnew + (size_t)i * C,
                       (size_t)C * sizeof(float));
            }
        }
        step_forward(m, s, &L);
    }
    return L;
}

/* Back through one step: sc->dcarry (A, n+1, C) in, sc->dhin (A*n, C) out. */
static void step_backward(dgmg_model *m, const dec_step *s, dscratch *sc) {
    dgmg_dec *dd = m->dd;
    const decoder_config cfg = m->dcfg;
    const decoder_params *p = &m->p.gen, *g = &m->g.gen;
    const int C = cfg.C2, D = cfg.D, K = cfg.K, OC = C + D, WR = C + 2 * D;
    const int A = s->A, n = s->n, M = A * n, LD1 = 2 * C + 2 * D;
    for (int i = 0; i < A; i++) {
        memcpy(sc->dhprop + (size_t)i * n * C, sc->dcarry + (size_t)i * (n + 1) * C, (size_t)n * C * sizeof(float));
        memcpy(sc->dhnew + (size_t)i * C, sc->dcarry + ((size_t)i * (n + 1) + n) * C, (size_t)C * sizeof(float));
    }
    zero(sc->dhG, (size_t)A * D);
    zero(sc->dhGi, (size_t)A * D);
    // (4) edge scorer
    if (n > 1) {
        const float w = dd->wce[0] / (float)n;
        for (int v = 0; v < M; v++) dd->wbce[v] = w;
        zero(sc->ds, (size_t)M);
        bce_logits_backward(sc->ds, s->s, s->et, dd->wbce, 1.0f, M);
        zero(sc->dpre, (size_t)M * OC);
        linear_backward(sc->dpre, g->s2_w, g->s2_b, sc->ds, s->es1, p->s2_w, M, OC, 1);
        relu_mask(sc->dpre, s->es1, (size_t)M * OC);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, M, 1.0f, sc->dpre, OC, s->hprop, C,
                    1.0f, g->s1_w, LD1);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, C, OC, 1.0f, sc->dpre, OC, p->s1_w,
                    LD1, 1.0f, sc->dhprop, C);
        zero(sc->dq, (size_t)A * OC);
        for (int v = 0; v < M; v++)
            for (int o = 0; o < OC; o++) sc->dq[(size_t)(v / n) * OC + o] += sc->dpre[(size_t)v * OC + o];
        for (int i = 0; i < A; i++)
            for (int o = 0; o < OC; o++) g->s1_b[o] += sc->dq[(size_t)i * OC + o];
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, WR, A, 1.0f, sc->dq, OC, s->xrest, WR,
                    1.0f, g->s1_w + C, LD1);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, A, WR, OC, 1.0f, sc->dq, OC, p->s1_w + C,
                    LD1, 0.0f, sc->dxrest, WR);
        add_cols(sc->dhnew, sc->dxrest, 0, C, WR, A);
        add_cols(sc->dhG, sc->dxrest, C, D, WR, A);
        add_cols(sc->dcs, sc->dxrest, C + D, D, WR, A);
    }
    // (3) NodeInit, regular path
    for (int i = 0; i < A; i++) dd->types[i] = dd->gd[i].type[n];
    zero(sc->dz1, (size_t)A * OC);
    linear_backward(sc->dz1, g->init2_w, g->init2_b, sc->dhnew, s->z1, p->init2_w, A, OC, C);
    relu_mask(sc->dz1, s->z1, (size_t)A * OC);
    zero(sc->dxinit, (size_t)A * WR);
    linear_backward(sc->dxinit, g->init_w, g->init_b, sc->dz1, s->xinit, p->init_w, A, WR, OC);
    for (int i = 0; i < A; i++) {
        float *e = g->emb + (size_t)dd->types[i] * C;
        for (int k = 0; k < C; k++) e[k] += sc->dxinit[(size_t)i * WR + k];
    }
    add_cols(sc->dhGi, sc->dxinit, C, D, WR, A);
    add_cols(sc->dcs, sc->dxinit, C + D, D, WR, A);
    // (2) NodeAdd and the type loss
    zero(sc->dlogits, (size_t)A * K);
    crossentropy_backward(sc->dlogits, s->probs, dd->types, dd->wce, 1.0f, A, K);
    zero(sc->dan1, (size_t)A * D);
    linear_backward(sc->dan1, g->an2_w, g->an2_b, sc->dlogits, s->an1, p->an2_w, A, D, K);
    relu_mask(sc->dan1, s->an1, (size_t)A * D);
    zero(sc->dxan, (size_t)A * 2 * D);
    linear_backward(sc->dxan, g->an_w, g->an_b, sc->dan1, s->xan, p->an_w, A, 2 * D, D);
    add_cols(sc->dhG, sc->dxan, 0, D, 2 * D, A);
    add_cols(sc->dcs, sc->dxan, D, D, 2 * D, A);
    // (1) readouts and propagation
    if (n == 1) {
        linear_backward(sc->dhprop, g->ge_f_w, g->ge_f_b, sc->dhG, s->hprop, p->ge_f_w, A, C, D);
        linear_backward(sc->dhprop, g->gi_f_w, g->gi_f_b, sc->dhGi, s->hprop, p->gi_f_w, A, C, D);
        memcpy(sc->dhin, sc->dhprop, (size_t)M * C * sizeof(float));
        return;
    }
    make_masks(dd, A, n);
    gsum_backward(sc->dhprop, g->ge_f_w, g->ge_f_b, g->ge_g_w, g->ge_g_b, sc->ws, sc->dhG, s->gc,
                  s->hprop, p->ge_f_w, p->ge_g_w, dd->offsets, A, C, D);
    gsum_backward(sc->dhprop, g->gi_f_w, g->gi_f_b, g->gi_g_w, g->gi_g_b, sc->ws, sc->dhGi, s->gci,
                  s->hprop, p->gi_f_w, p->gi_g_w, dd->offsets, A, C, D);
    _Static_assert(DGMG_LAYERS == 2, "two layers: dhprop -> dmid -> dhin");
    zero(sc->dmid, (size_t)M * C);
    bimp_backward(sc->dmid, &m->g.dec[1], sc->ws, sc->dhprop, s->cache[0][1], s->hs[0][1], dd->pred,
                  dd->succ, dd->offsets, A, &m->p.dec[1], C);
    zero(sc->dhin, (size_t)M * C);
    bimp_backward(sc->dhin, &m->g.dec[0], sc->ws, sc->dmid, s->cache[0][0], s->hs[0][0], dd->pred,
                  dd->succ, dd->offsets, A, &m->p.dec[0], C);
}

/* dz (B,D) += d recon / dc, parameter gradients accumulated, for the last decoder_fwd. */
static void decoder_bwd(dgmg_model *m) {
    dgmg_dec *dd = m->dd;
    const decoder_config cfg = m->dcfg;
    const decoder_params *p = &m->p.gen, *g = &m->g.gen;
    const int C = cfg.C2, D = cfg.D, OC = C + D, B = m->B, A0 = dd->A0;
    dscratch sc;
    carve_dscratch(&sc, m->scratch, cfg, m->max_g, m->max_n);
    zero(sc.dcs, (size_t)B * D);
    if (A0) {
        const dec_step *last = &dd->step[dd->nsteps - 1];
        zero(sc.dcarry, (size_t)last->A * (last->n + 1) * C);
        for (int t = dd->nsteps - 1; t >= 0; t--) {
            const dec_step *s = &dd->step[t];
            step_backward(m, s, &sc);
            if (t == 0) break;
            const dec_step *pv = &dd->step[t - 1];
            const size_t have = (size_t)s->A * s->n * C, need = (size_t)pv->A * s->n * C;
            memcpy(sc.dcarry, sc.dhin, have * sizeof(float));
            zero(sc.dcarry + have, need - have);
        }
        zero(sc.dz1, (size_t)A0 * OC);
        linear_backward(sc.dz1, g->start2_w, g->start2_b, sc.dhin, dd->zs, p->start2_w, A0, OC, C);
        relu_mask(sc.dz1, dd->zs, (size_t)A0 * OC);
        zero(sc.dxinit, (size_t)A0 * OC);
        linear_backward(sc.dxinit, g->start_w, g->start_b, sc.dz1, dd->xstart, p->start_w, A0, OC, OC);
        for (int i = 0; i < A0; i++)
            for (int k = 0; k < C; k++) g->emb[(size_t)DEC_START_FWD * C + k] += sc.dxinit[(size_t)i * OC + k];
        add_cols(sc.dcs, sc.dxinit, C, D, OC, A0);
    }
    for (int i = 0; i < B; i++)
        for (int k = 0; k < D; k++) m->dz[(size_t)dd->order[i] * D + k] += sc.dcs[(size_t)i * D + k];
}

/* =================================================================== model */
int dgmg_forward(dgmg_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t) {
    if (B < 0 || B > m->max_g) return -1;
    for (int b = 0; b < B; b++)
        if (gs[b].n < 0 || gs[b].n > m->max_n) return -1;
    if (encoder_batch_pack(&m->batch, gs, B, m->cfg.K)) return -1;
    const size_t n = (size_t)B * m->cfg.D;
    encoder_fwd(m);
    m->train = rng != NULL;
    if (rng) {
        const float es = (float)m->cfg.eps_scale;
        for (size_t i = 0; i < n; i++) m->eps[i] = (float)rng_gauss(rng);
        for (size_t i = 0; i < n; i++) m->z[i] = m->mu[i] + es * m->eps[i] * expf(0.5f * m->logvar[i]);
    } else {
        memcpy(m->z, m->mu, n * sizeof(float));
    }
    double recon = decoder_fwd(m, gs, m->z, B);
    m->B = B;
    double kl = gaussian_kl_forward(m->mu, m->logvar, n);
    if (t) *t = (svge_terms){recon + m->cfg.beta * kl, recon, kl};
    return 0;
}

int dgmg_train_step(dgmg_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t) {
    memset(m->grads, 0, m->num_params * sizeof(float));
    if (dgmg_forward(m, gs, B, rng, t)) return -1;
    const size_t n = (size_t)m->B * m->cfg.D;
    zero(m->dz, n);
    decoder_bwd(m);
    memcpy(m->dmu, m->dz, n * sizeof(float));
    if (m->train) {
        const float es = (float)m->cfg.eps_scale;
        for (size_t i = 0; i < n; i++) m->dlogvar[i] = m->dz[i] * es * m->eps[i] * 0.5f * expf(0.5f * m->logvar[i]);
    } else {
        zero(m->dlogvar, n);
    }
    gaussian_kl_backward(m->dmu, m->dlogvar, m->mu, m->logvar, (float)m->cfg.beta, n);
    encoder_bwd(m);
    return 0;
}

int dgmg_decoder_forward(dgmg_model *m, const graph *gs, const float *c, int B, double *loss) {
    if (B < 0 || B > m->max_g) return -1;
    for (int b = 0; b < B; b++) {
        if (gs[b].n < 0 || gs[b].n > m->max_n) return -1;
        for (int v = 0; v < gs[b].n; v++)
            if (gs[b].type[v] >= m->cfg.K) return -1;
    }
    *loss = decoder_fwd(m, gs, c, B);
    return 0;
}

const dec_step *dgmg_decoder_step(const dgmg_model *m, int t) {
    return t >= 0 && t < m->dd->nsteps ? &m->dd->step[t] : NULL;
}

int dgmg_encode(dgmg_model *m, const graph *gs, int B, float *mu, float *logvar) {
    const int D = m->cfg.D;
    for (int s = 0; s < B; s += m->max_g) {
        const int nb = B - s < m->max_g ? B - s : m->max_g;
        for (int b = 0; b < nb; b++)
            if (gs[s + b].n < 0 || gs[s + b].n > m->max_n) return -1;
        if (encoder_batch_pack(&m->batch, gs + s, nb, m->cfg.K)) return -1;
        encoder_fwd(m);
        memcpy(mu + (size_t)s * D, m->mu, (size_t)nb * D * sizeof(float));
        if (logvar) memcpy(logvar + (size_t)s * D, m->logvar, (size_t)nb * D * sizeof(float));
    }
    return 0;
}

/* ============================================== training state, model files */
void dgmg_train_init(svge_train *t, const dgmg_model *m) { svge_train_setup(t, m->num_params, &m->cfg); }

void dgmg_update(dgmg_model *m, svge_train *t) { adam_step(&t->opt, m->params, m->grads); }

static const char *tensor_name(int i, int layers) {
    (void)layers; // always DGMG_LAYERS
    return dgmg_param_name(i);
}

static svge_tensors dgmg_table(const dgmg_model *m) {
    return (svge_tensors){DGMG_NUM_TENSORS, DGMG_LAYERS, tensor_name, m->ndim, &m->shape[0][0], m->offset,
                          m->params};
}

void dgmg_save(const char *path, const dgmg_model *m, const mf_value *meta, size_t nmeta,
               char id[MF_ID_LEN + 1]) {
    svge_tensors ts = dgmg_table(m);
    svge_write_model(path, DGMG_KIND, &m->cfg, DGMG_LAYERS, &ts, NULL, meta, nmeta, id);
}

void dgmg_save_checkpoint(const char *path, const dgmg_model *m, const svge_train *t,
                          const mf_value *meta, size_t nmeta, char id[MF_ID_LEN + 1]) {
    svge_tensors ts = dgmg_table(m);
    svge_write_model(path, DGMG_KIND, &m->cfg, DGMG_LAYERS, &ts, t, meta, nmeta, id);
}

void dgmg_config_read(const model_file *f, svge_config *cfg) {
    svge_config_read_kind(f, DGMG_KIND, DGMG_LAYERS, cfg);
}

int dgmg_check_file(const dgmg_model *m, const model_file *f, char *err, size_t errlen) {
    return svge_check_kind(DGMG_KIND, &m->cfg, DGMG_LAYERS, f, err, errlen);
}

void dgmg_load(dgmg_model *m, const model_file *f) {
    char err[400];
    if (dgmg_check_file(m, f, err, sizeof err)) die(EXIT_DATA, "%s: %s", mf_name(f), err);
    svge_tensors ts = dgmg_table(m);
    svge_load_tensors(&ts, f);
}

void dgmg_load_checkpoint(dgmg_model *m, svge_train *t, const model_file *f) {
    dgmg_load(m, f);
    svge_load_train_state(t, f);
}
