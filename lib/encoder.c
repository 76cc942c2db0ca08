/* encoder.c: the SVGe encoder; see encoder.h. */
#include "encoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

_Static_assert(ENC_LAYERS == 2, "the name table below spells out 2 layers per direction");

/* PyTorch state_dict names of SVGE.Encoder, in registration order. */
static const char *const enc_names[ENC_NUM_TENSORS] = {
    "Encoder.NodeEmb.NodeInit.weight",
    "Encoder.NodeEmb.GNNLayers_forward.0.msg.weight",
    "Encoder.NodeEmb.GNNLayers_forward.0.msg.bias",
    "Encoder.NodeEmb.GNNLayers_forward.0.upd.weight_ih",
    "Encoder.NodeEmb.GNNLayers_forward.0.upd.weight_hh",
    "Encoder.NodeEmb.GNNLayers_forward.0.upd.bias_ih",
    "Encoder.NodeEmb.GNNLayers_forward.0.upd.bias_hh",
    "Encoder.NodeEmb.GNNLayers_forward.1.msg.weight",
    "Encoder.NodeEmb.GNNLayers_forward.1.msg.bias",
    "Encoder.NodeEmb.GNNLayers_forward.1.upd.weight_ih",
    "Encoder.NodeEmb.GNNLayers_forward.1.upd.weight_hh",
    "Encoder.NodeEmb.GNNLayers_forward.1.upd.bias_ih",
    "Encoder.NodeEmb.GNNLayers_forward.1.upd.bias_hh",
    "Encoder.NodeEmb.GNNLayers_backward.0.msg.weight",
    "Encoder.NodeEmb.GNNLayers_backward.0.msg.bias",
    "Encoder.NodeEmb.GNNLayers_backward.0.upd.weight_ih",
    "Encoder.NodeEmb.GNNLayers_backward.0.upd.weight_hh",
    "Encoder.NodeEmb.GNNLayers_backward.0.upd.bias_ih",
    "Encoder.NodeEmb.GNNLayers_backward.0.upd.bias_hh",
    "Encoder.NodeEmb.GNNLayers_backward.1.msg.weight",
    "Encoder.NodeEmb.GNNLayers_backward.1.msg.bias",
    "Encoder.NodeEmb.GNNLayers_backward.1.upd.weight_ih",
    "Encoder.NodeEmb.GNNLayers_backward.1.upd.weight_hh",
    "Encoder.NodeEmb.GNNLayers_backward.1.upd.bias_ih",
    "Encoder.NodeEmb.GNNLayers_backward.1.upd.bias_hh",
    "Encoder.GraphEmb_mean.f_m.weight",
    "Encoder.GraphEmb_mean.f_m.bias",
    "Encoder.GraphEmb_mean.g_m.weight",
    "Encoder.GraphEmb_mean.g_m.bias",
    "Encoder.GraphEmb_var.f_m.weight",
    "Encoder.GraphEmb_var.f_m.bias",
    "Encoder.GraphEmb_var.g_m.weight",
    "Encoder.GraphEmb_var.g_m.bias",
};

const char *encoder_param_name(int i) {
    return (i >= 0 && i < ENC_NUM_TENSORS) ? enc_names[i] : NULL;
}

void encoder_param_sizes(size_t sizes[ENC_NUM_TENSORS], encoder_config cfg) {
    const size_t K = (size_t)cfg.K, C = (size_t)cfg.C, D = (size_t)cfg.D;
    size_t *s = sizes;
    *s++ = K * C;                                    // NodeInit (K,C)
    for (int l = 0; l < 2 * ENC_LAYERS; l++) {       // forward layers, then backward layers
        mpass_param_sizes(s, cfg.C);
        s += MPASS_NUM_TENSORS;
    }
    for (int head = 0; head < 2; head++) {           // mean, then var readout
        *s++ = D * 2 * C;                            // f_m.weight (D,2C)
        *s++ = D;                                    // f_m.bias (D)
        *s++ = 2 * C;                                // g_m.weight (1,2C)
        *s++ = 1;                                    // g_m.bias (1)
    }
}

size_t encoder_param_count(int K, int C, int D) {
    size_t s[ENC_NUM_TENSORS], n = 0;
    encoder_param_sizes(s, (encoder_config){K, C, D});
    for (int i = 0; i < ENC_NUM_TENSORS; i++) n += s[i];
    return n;
}

void encoder_param_ptrs(encoder_params *p, float **ptrs[ENC_NUM_TENSORS]) {
    float ***q = ptrs;
    *q++ = &p->node_init;
    for (int l = 0; l < 2 * ENC_LAYERS; l++) {
        mpass_params *m = l < ENC_LAYERS ? &p->fwd[l] : &p->bwd[l - ENC_LAYERS];
        *q++ = &m->msg_w; *q++ = &m->msg_b;
        *q++ = &m->upd_wih; *q++ = &m->upd_whh; *q++ = &m->upd_bih; *q++ = &m->upd_bhh;
    }
    *q++ = &p->mean_f_w; *q++ = &p->mean_f_b; *q++ = &p->mean_g_w; *q++ = &p->mean_g_b;
    *q++ = &p->var_f_w; *q++ = &p->var_f_b; *q++ = &p->var_g_w; *q = &p->var_g_b;
}

void encoder_point_params(encoder_params *p, float *mem, encoder_config cfg) {
    size_t sizes[ENC_NUM_TENSORS];
    float **ptrs[ENC_NUM_TENSORS];
    encoder_param_sizes(sizes, cfg);
    encoder_param_ptrs(p, ptrs);
    for (int i = 0; i < ENC_NUM_TENSORS; i++) {
        *ptrs[i] = mem;
        mem += sizes[i];
    }
}

static void fill_uniform(float *x, size_t n, double bound, rng_mt *r) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(bound * (2.0 * rng_double(r) - 1.0));
}

void encoder_init(const encoder_params *p, encoder_config cfg, rng_mt *r) {
    size_t sizes[ENC_NUM_TENSORS];
    encoder_param_sizes(sizes, cfg);
    encoder_params q = *p;
    float **ptrs[ENC_NUM_TENSORS];
    encoder_param_ptrs(&q, ptrs);
    const double b_msg = 1.0 / sqrt(2.0 * cfg.C); // Linear(2C,2C): fan_in 2C
    const double b_gru = 1.0 / sqrt((double)cfg.C); // GRUCell: 1/sqrt(hidden)
    const double b_head = 1.0 / sqrt(2.0 * cfg.C); // f_m, g_m: fan_in 2C
    for (int i = 0; i < ENC_NUM_TENSORS; i++) {
        float *x = *ptrs[i];
        if (i == 0) {                              // Embedding: N(0,1)
            for (size_t k = 0; k < sizes[i]; k++) x[k] = (float)rng_gauss(r);
        } else if (i <= 2 * ENC_LAYERS * MPASS_NUM_TENSORS) {
            const int t = (i - 1) % MPASS_NUM_TENSORS; // 0,1 msg; 2..5 GRU
            fill_uniform(x, sizes[i], t < 2 ? b_msg : b_gru, r);
        } else {
            fill_uniform(x, sizes[i], b_head, r);
        }
    }
}

/* ------------------------------------------------------------------ batch */
int encoder_batch_init(encoder_batch *b, int max_n, int max_g) {
    memset(b, 0, sizeof *b);
    size_t bytes = (size_t)(max_g + 1) * sizeof(int) + (size_t)max_n * sizeof(int)
                 + 2 * (size_t)max_n * sizeof(uint16_t);
    char *mem = malloc(bytes ? bytes : 1);
    if (!mem) return -1;
    b->offsets = (int *)mem;
    b->types = b->offsets + max_g + 1;
    b->pred = (uint16_t *)(b->types + max_n);
    b->succ = b->pred + max_n;
    b->max_n = max_n;
    b->max_g = max_g;
    b->offsets[0] = 0;
    return 0;
}

void encoder_batch_free(encoder_batch *b) {
    free(b->offsets);
    memset(b, 0, sizeof *b);
}

int encoder_batch_pack(encoder_batch *b, const graph *gs, int G, int K) {
    b->G = b->N = 0;
    if (G > b->max_g) return -1;
    int n = 0;
    for (int g = 0; g < G; g++) {
        if (gs[g].n < 0 || gs[g].n > GRAPH_MAX_NODES || n + gs[g].n > b->max_n) return -1;
        b->offsets[g] = n;
        const uint16_t mask = (uint16_t)((1u << gs[g].n) - 1u); // ignore edges to absent nodes
        for (int v = 0; v < gs[g].n; v++) {
            if (gs[g].type[v] >= K) return -1;
            b->types[n + v] = gs[g].type[v];
            b->succ[n + v] = gs[g].succ[v] & mask;
            b->pred[n + v] = graph_pred(&gs[g], v) & mask;
        }
        n += gs[g].n;
    }
    b->offsets[G] = n;
    b->G = G;
    b->N = n;
    return 0;
}

/* ------------------------------------------------------------ activations */
size_t encoder_acts_size(encoder_config cfg, int max_n, int max_g) {
    const size_t NC = (size_t)max_n * cfg.C;
    return NC                                              // h0
         + 2 * ENC_LAYERS * NC                             // hf, hb
         + 2 * ENC_LAYERS * mpass_cache_size(max_n, cfg.C) // cf, cb
         + 2 * NC                                          // h
         + 2 * gsum_cache_size(max_n, cfg.D)               // gmean, gvar
         + 2 * (size_t)max_g * cfg.D                       // mu, logvar
         + mpass_foldset_floats(2 * ENC_LAYERS, cfg.C)     // fold
         + mpass_table_scratch_size(cfg.K, cfg.C);          // table
}

void encoder_point_acts(encoder_acts *a, float *mem, encoder_config cfg, int max_n, int max_g) {
    const size_t NC = (size_t)max_n * cfg.C, mc = mpass_cache_size(max_n, cfg.C);
    a->h0 = mem; mem += NC;
    for (int l = 0; l < ENC_LAYERS; l++) { a->hf[l] = mem; mem += NC; }
    for (int l = 0; l < ENC_LAYERS; l++) { a->hb[l] = mem; mem += NC; }
    for (int l = 0; l < ENC_LAYERS; l++) { a->cf[l] = mem; mem += mc; }
    for (int l = 0; l < ENC_LAYERS; l++) { a->cb[l] = mem; mem += mc; }
    a->h = mem; mem += 2 * NC;
    a->gmean = mem; mem += gsum_cache_size(max_n, cfg.D);
    a->gvar = mem; mem += gsum_cache_size(max_n, cfg.D);
    a->mu = mem; mem += (size_t)max_g * cfg.D;
    a->logvar = mem; mem += (size_t)max_g * cfg.D;
    mpass_foldset_point(&a->fold, mem, 2 * ENC_LAYERS, cfg.C);
    a->table = mem + mpass_foldset_floats(2 * ENC_LAYERS, cfg.C);
}

size_t encoder_scratch_size(encoder_config cfg, int max_n) {
    const size_t NC = (size_t)max_n * cfg.C;
    size_t ms = mpass_scratch_size(max_n, cfg.C), gs = gsum_scratch_size(max_n, cfg.D);
    // dh (N,2C), dtop (N,C), dmid (N,C), dh0 (N,C), the folded-weight gradient accumulators, then
    // the larger of the layer/readout scratch
    return 5 * NC + 2 * ENC_LAYERS * mpass_fold_size(cfg.C) + (ms > gs ? ms : gs);
}

/* ---------------------------------------------------------------- forward */
void encoder_forward(encoder_acts *a, const encoder_params *p, const encoder_batch *b,
                     encoder_config cfg) {
    const int N = b->N, G = b->G, C = cfg.C, D = cfg.D;
    const mpass_params *layers[2 * ENC_LAYERS];
    for (int l = 0; l < ENC_LAYERS; l++) { layers[l] = &p->fwd[l]; layers[ENC_LAYERS + l] = &p->bwd[l]; }
    mpass_foldset_update(&a->fold, layers);
    embedding_forward(a->h0, b->types, p->node_init, N, C);
    // two independent streams from the same initial states
    // (the first layer of each stream works on the K embedding rows: mpass_forward_table)
    mpass_forward_table(a->hf[0], a->cf[0], a->table, a->h0, b->types, p->node_init, cfg.K, b->pred,
                        b->offsets, G, &p->fwd[0], &a->fold.f[0], C);
    for (int l = 1; l < ENC_LAYERS; l++)
        mpass_forward(a->hf[l], a->cf[l], a->hf[l - 1], b->pred, b->offsets, G, &p->fwd[l],
                      &a->fold.f[l], C);
    mpass_forward_table(a->hb[0], a->cb[0], a->table, a->h0, b->types, p->node_init, cfg.K, b->succ,
                        b->offsets, G, &p->bwd[0], &a->fold.f[ENC_LAYERS], C);
    for (int l = 1; l < ENC_LAYERS; l++)
        mpass_forward(a->hb[l], a->cb[l], a->hb[l - 1], b->succ, b->offsets, G, &p->bwd[l],
                      &a->fold.f[ENC_LAYERS + l], C);
    // h = [hf ; hb] per node  (N,2C)
    const float *hf = a->hf[ENC_LAYERS - 1], *hb = a->hb[ENC_LAYERS - 1];
    for (int v = 0; v < N; v++) {
        memcpy(a->h + (size_t)v * 2 * C, hf + (size_t)v * C, (size_t)C * sizeof(float));
        memcpy(a->h + (size_t)v * 2 * C + C, hb + (size_t)v * C, (size_t)C * sizeof(float));
    }
    gsum_forward(a->mu, a->gmean, a->h, p->mean_f_w, p->mean_f_b, p->mean_g_w, p->mean_g_b,
                 b->offsets, G, 2 * C, D);
    gsum_forward(a->logvar, a->gvar, a->h, p->var_f_w, p->var_f_b, p->var_g_w, p->var_g_b,
                 b->offsets, G, 2 * C, D);
}

/* --------------------------------------------------------------- backward */
/* Back through one stream's layers: dtop (N,C) is dL/d(last state); dh0 += dL/dh0. */
static void stream_backward(float *dh0, float *dtop, float *dmid, float *scratch,
                            const mpass_params *grad, const mpass_fold *fg, const mpass_params *p,
                            const mpass_fold *f, float *const *hs, float *const *caches,
                            const float *h0, const uint16_t *nbr, const encoder_batch *b, int C) {
    const size_t NC = (size_t)b->N * C;
    float *dout = dtop;
    for (int l = ENC_LAYERS - 1; l >= 0; l--) {
        const float *hin = l ? hs[l - 1] : h0;
        float *din = l ? dmid : dh0;              // dh0 is shared by both streams: accumulate
        if (l) memset(din, 0, NC * sizeof(float));
        mpass_backward(din, &grad[l], &fg[l], scratch, dout, caches[l], hin, nbr, b->offsets, b->G,
                       &p[l], &f[l], C);
        if (l) {                                  // the next layer down reads din as its dout
            float *t = dout; dout = din; dmid = t;
        }
    }
}

void encoder_backward(const encoder_params *grad, float *scratch, const float *dmu,
                      const float *dlogvar, const encoder_acts *a, const encoder_params *p,
                      const encoder_batch *b, encoder_config cfg) {
    const int N = b->N, G = b->G, C = cfg.C, D = cfg.D;
    if (N == 0) return;
    const size_t NC = (size_t)N * C;
    float *dh = scratch;                  // (N,2C)
    float *dtop = dh + 2 * NC;            // (N,C)
    float *dmid = dtop + NC;              // (N,C)
    float *dh0 = dmid + NC;               // (N,C)
    float *fgmem = dh0 + NC;              // folded-weight gradient accumulators
    float *ws = fgmem + 2 * ENC_LAYERS * mpass_fold_size(C); // layer / readout scratch
    mpass_fold fg[2 * ENC_LAYERS];
    memset(fgmem, 0, 2 * ENC_LAYERS * mpass_fold_size(C) * sizeof(float));
    for (int l = 0; l < 2 * ENC_LAYERS; l++) mpass_fold_point(&fg[l], fgmem + l * mpass_fold_size(C), C);
    memset(dh, 0, 2 * NC * sizeof(float));
    if (dmu)
        gsum_backward(dh, grad->mean_f_w, grad->mean_f_b, grad->mean_g_w, grad->mean_g_b, ws, dmu,
                      a->gmean, a->h, p->mean_f_w, p->mean_g_w, b->offsets, G, 2 * C, D);
    if (dlogvar)
        gsum_backward(dh, grad->var_f_w, grad->var_f_b, grad->var_g_w, grad->var_g_b, ws, dlogvar,
                      a->gvar, a->h, p->var_f_w, p->var_g_w, b->offsets, G, 2 * C, D);
    memset(dh0, 0, NC * sizeof(float));
    for (int s = 0; s < 2; s++) {         // s = 0: forward stream (first half), 1: backward
        for (int v = 0; v < N; v++)
            memcpy(dtop + (size_t)v * C, dh + (size_t)v * 2 * C + (size_t)s * C,
                   (size_t)C * sizeof(float));
        if (s == 0)
            stream_backward(dh0, dtop, dmid, ws, grad->fwd, fg, p->fwd, a->fold.f, a->hf, a->cf,
                            a->h0, b->pred, b, C);
        else
            stream_backward(dh0, dtop, dmid, ws, grad->bwd, fg + ENC_LAYERS, p->bwd,
                            a->fold.f + ENC_LAYERS, a->hb, a->cb, a->h0, b->succ, b, C);
    }
    for (int l = 0; l < ENC_LAYERS; l++) {
        mpass_unfold_grad(&grad->fwd[l], &fg[l], &p->fwd[l], C);
        mpass_unfold_grad(&grad->bwd[l], &fg[ENC_LAYERS + l], &p->bwd[l], C);
    }
    if (grad->node_init) embedding_backward(grad->node_init, dh0, b->types, N, C);
}
