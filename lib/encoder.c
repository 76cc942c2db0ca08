/* encoder.c: the SVGe encoder; see encoder.h. */
#include "encoder.h"

#include <math.h>
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

int encoder_num_tensors(int L) { return 1 + 2 * L * MPASS_NUM_TENSORS + 8; }

/* PyTorch state_dict names of SVGE.Encoder, in registration order: NodeInit, the L forward then
 * the L backward layers (lib/mpass.h), the two readouts. */
static const char *const head_names[9] = {
    "Encoder.NodeEmb.NodeInit.weight",
    "Encoder.GraphEmb_mean.f_m.weight",
    "Encoder.GraphEmb_mean.f_m.bias",
    "Encoder.GraphEmb_mean.g_m.weight",
    "Encoder.GraphEmb_mean.g_m.bias",
    "Encoder.GraphEmb_var.f_m.weight",
    "Encoder.GraphEmb_var.f_m.bias",
    "Encoder.GraphEmb_var.g_m.weight",
    "Encoder.GraphEmb_var.g_m.bias",
};

const char *encoder_param_name(int i, int L) {
    if (L < 1 || L > ENC_MAX_LAYERS || i < 0 || i >= encoder_num_tensors(L)) return NULL;
    if (i == 0) return head_names[0];
    const int j = i - 1, nl = 2 * L * MPASS_NUM_TENSORS;
    if (j >= nl) return head_names[1 + j - nl];
    const int dl = j / MPASS_NUM_TENSORS; // direction-major layer index
    return mpass_param_name(0, dl / L, dl % L, j % MPASS_NUM_TENSORS);
}

void encoder_param_sizes(size_t sizes[ENC_MAX_TENSORS], encoder_config cfg) {
    const size_t K = (size_t)cfg.K, C = (size_t)cfg.C, D = (size_t)cfg.D;
    size_t *s = sizes;
    *s++ = K * C;                                    // NodeInit (K,C)
    for (int l = 0; l < 2 * cfg.L; l++) {            // forward layers, then backward layers
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

size_t encoder_param_count(int K, int C, int D, int L) {
    size_t s[ENC_MAX_TENSORS], n = 0;
    encoder_param_sizes(s, (encoder_config){K, C, D, L});
    for (int i = 0; i < encoder_num_tensors(L); i++) n += s[i];
    return n;
}

void encoder_param_ptrs(encoder_params *p, float **ptrs[ENC_MAX_TENSORS], int L) {
    float ***q = ptrs;
    *q++ = &p->node_init;
    for (int l = 0; l < 2 * L; l++) {
        mpass_params *m = l < L ? &p->fwd[l] : &p->bwd[l - L];
        *q++ = &m->msg_w; *q++ = &m->msg_b;
        *q++ = &m->upd_wih; *q++ = &m->upd_whh; *q++ = &m->upd_bih; *q++ = &m->upd_bhh;
    }
    *q++ = &p->mean_f_w; *q++ = &p->mean_f_b; *q++ = &p->mean_g_w; *q++ = &p->mean_g_b;
    *q++ = &p->var_f_w; *q++ = &p->var_f_b; *q++ = &p->var_g_w; *q = &p->var_g_b;
}

void encoder_point_params(encoder_params *p, float *mem, encoder_config cfg) {
    size_t sizes[ENC_MAX_TENSORS];
    float **ptrs[ENC_MAX_TENSORS];
    encoder_param_sizes(sizes, cfg);
    encoder_param_ptrs(p, ptrs, cfg.L);
    for (int i = 0; i < encoder_num_tensors(cfg.L); i++) {
        *ptrs[i] = mem;
        mem += sizes[i];
    }
}

static void fill_uniform(float *x, size_t n, double bound, rng_mt *r) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(bound * (2.0 * rng_double(r) - 1.0));
}

void encoder_init(const encoder_params *p, encoder_config cfg, rng_mt *r) {
    size_t sizes[ENC_MAX_TENSORS];
    encoder_param_sizes(sizes, cfg);
    encoder_params q = *p;
    float **ptrs[ENC_MAX_TENSORS];
    encoder_param_ptrs(&q, ptrs, cfg.L);
    const double b_msg = 1.0 / sqrt(2.0 * cfg.C); // Linear(2C,2C): fan_in 2C
    const double b_gru = 1.0 / sqrt((double)cfg.C); // GRUCell: 1/sqrt(hidden)
    const double b_head = 1.0 / sqrt(2.0 * cfg.C); // f_m, g_m: fan_in 2C
    for (int i = 0; i < encoder_num_tensors(cfg.L); i++) {
        float *x = *ptrs[i];
        if (i == 0) {                              // Embedding: N(0,1)
            for (size_t k = 0; k < sizes[i]; k++) x[k] = (float)rng_gauss(r);
        } else if (i <= 2 * cfg.L * MPASS_NUM_TENSORS) {
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
/* The memo of encoder_forward_eval: uid (N) ints, then a hash table of 2^k >= 2N slots of a
 * 64-bit key and an int each, in floats. */
static size_t memo_slots(int max_n) {
    size_t s = 16;
    while (s < 2 * (size_t)max_n) s *= 2;
    return s;
}

static size_t memo_floats(int max_n) {
    return (size_t)max_n + memo_slots(max_n) * 3 + 2; // +2: room to align the keys to 8 bytes
}

size_t encoder_acts_size(encoder_config cfg, int max_n, int max_g) {
    const size_t NC = (size_t)max_n * cfg.C;
    return NC                                              // h0
         + 2 * (size_t)cfg.L * NC                          // hf, hb
         + 2 * (size_t)cfg.L * mpass_cache_size(max_n, cfg.C) // cf, cb
         + 2 * NC                                          // h
         + 2 * gsum_cache_size(max_n, cfg.D)               // gmean, gvar
         + 2 * (size_t)max_g * cfg.D                       // mu, logvar
         + mpass_foldset_floats(2 * cfg.L, cfg.C)          // fold
         + 2 * mpass_table_scratch_size(cfg.K, cfg.C)       // table, table2
         + memo_floats(max_n);                              // memo
}

void encoder_point_acts(encoder_acts *a, float *mem, encoder_config cfg, int max_n, int max_g) {
    const size_t NC = (size_t)max_n * cfg.C, mc = mpass_cache_size(max_n, cfg.C);
    a->h0 = mem; mem += NC;
    for (int l = 0; l < cfg.L; l++) { a->hf[l] = mem; mem += NC; }
    for (int l = 0; l < cfg.L; l++) { a->hb[l] = mem; mem += NC; }
    for (int l = 0; l < cfg.L; l++) { a->cf[l] = mem; mem += mc; }
    for (int l = 0; l < cfg.L; l++) { a->cb[l] = mem; mem += mc; }
    a->h = mem; mem += 2 * NC;
    a->gmean = mem; mem += gsum_cache_size(max_n, cfg.D);
    a->gvar = mem; mem += gsum_cache_size(max_n, cfg.D);
    a->mu = mem; mem += (size_t)max_g * cfg.D;
    a->logvar = mem; mem += (size_t)max_g * cfg.D;
    mpass_foldset_point(&a->fold, mem, 2 * cfg.L, cfg.C);
    a->table = mem + mpass_foldset_floats(2 * cfg.L, cfg.C);
    a->table2 = a->table + mpass_table_scratch_size(cfg.K, cfg.C);
    a->memo = a->table2 + mpass_table_scratch_size(cfg.K, cfg.C);
    a->memo_cap = max_n;
    a->pool = NULL;
}

size_t encoder_scratch_size(encoder_config cfg, int max_n) {
    const size_t NC = (size_t)max_n * cfg.C;
    size_t ms = mpass_scratch_size(max_n, cfg.C), gs = gsum_scratch_size(max_n, cfg.D);
    // dh, dh2 (N,2C) each; per stream dtop, dmid, dh0 (N,C) each; the folded-weight gradient
    // accumulators; per task the larger of the layer/readout scratch
    return 10 * NC + 2 * (size_t)cfg.L * mpass_fold_size(cfg.C) + 2 * (ms > gs ? ms : gs);
}

/* ---------------------------------------------------------------- forward */
/* Refold the layers whose weights changed: fold.f[l] = fwd[l], fold.f[L + l] = bwd[l]. */
static void fold_update(encoder_acts *a, const encoder_params *p, int L) {
    const mpass_params *layers[2 * ENC_MAX_LAYERS];
    for (int l = 0; l < L; l++) { layers[l] = &p->fwd[l]; layers[L + l] = &p->bwd[l]; }
    mpass_foldset_update_on(&a->fold, layers, a->pool);
}

/* The context of forward's and encoder_backward's tasks. */
typedef struct {
    encoder_acts *a;
    const encoder_params *p, *grad;
    const encoder_batch *b;
    encoder_config cfg;
    int for_backward;
    const float *dmu, *dlogvar;  /* backward: the readouts' gradients (either may be NULL) */
    float *dh[2];                /* backward: (N,2C) the mean's and the var's node gradients */
    float *dtop[2], *dmid[2], *dh0[2], *ws[2]; /* backward, per task */
    mpass_fold *fg;              /* backward: folded-weight gradients, 2L */
} enc_task_ctx;

/* Task s of the forward: stream s (0 along the edges, 1 against them) from the initial states
 * (its first layer on the K embedding rows: mpass_forward_table), into its half of h (N,2C). */
static void stream_forward(void *arg, int s) {
    enc_task_ctx *x = arg;
    encoder_acts *a = x->a;
    const encoder_params *p = x->p;
    const encoder_batch *b = x->b;
    const int N = b->N, G = b->G, C = x->cfg.C, L = x->cfg.L;
    const uint16_t *nbr = s ? b->succ : b->pred;
    const mpass_params *lp = s ? p->bwd : p->fwd;
    const mpass_fold *fold = a->fold.f + s * L;
    float *const *hs = s ? a->hb : a->hf, *const *cs = s ? a->cb : a->cf;
    mpass_forward_table(hs[0], cs[0], s ? a->table2 : a->table, a->h0, b->types, p->node_init, x->cfg.K,
                        nbr, b->offsets, G, &lp[0], &fold[0], C, x->for_backward);
    for (int l = 1; l < L; l++)
        mpass_forward(hs[l], cs[l], hs[l - 1], nbr, b->offsets, G, &lp[l], &fold[l], C);
    for (int v = 0; v < N; v++)
        memcpy(a->h + (size_t)v * 2 * C + (size_t)s * C, hs[L - 1] + (size_t)v * C, (size_t)C * sizeof(float));
}

/* Task r of the forward: readout r (0 mean, 1 log-variance) of h. */
static void readout_forward(void *arg, int r) {
    enc_task_ctx *x = arg;
    encoder_acts *a = x->a;
    const encoder_params *p = x->p;
    const int C = x->cfg.C, D = x->cfg.D;
    if (r == 0)
        gsum_forward(a->mu, a->gmean, a->h, p->mean_f_w, p->mean_f_b, p->mean_g_w, p->mean_g_b,
                     x->b->offsets, x->b->G, 2 * C, D);
    else
        gsum_forward(a->logvar, a->gvar, a->h, p->var_f_w, p->var_f_b, p->var_g_w, p->var_g_b,
                     x->b->offsets, x->b->G, 2 * C, D);
}

static void forward(encoder_acts *a, const encoder_params *p, const encoder_batch *b,
                    encoder_config cfg, int for_backward, int want_logvar) {
    fold_update(a, p, cfg.L);
    embedding_forward(a->h0, b->types, p->node_init, b->N, cfg.C);
    // two independent streams from the same initial states, then the two readouts of h = [hf ; hb]
    enc_task_ctx x = {.a = a, .p = p, .b = b, .cfg = cfg, .for_backward = for_backward};
    par_run(a->pool, 2, stream_forward, &x);
    par_run(a->pool, want_logvar ? 2 : 1, readout_forward, &x);
}

void encoder_forward(encoder_acts *a, const encoder_params *p, const encoder_batch *b,
                     encoder_config cfg) {
    forward(a, p, b, cfg, 1, 1);
}

/* ---- inference: memoised first two layers ----
 * After the first layer a node's state depends only on its signature: its type and how many
 * in-neighbours of each type it has. Within a batch few signatures occur (all input nodes share
 * one), so the first layer runs once per distinct signature, and the second layer's products,
 * which are linear in those states, once per distinct signature too:
 *   gz_v = sum_u P[sig u] + deg(v) T[sig v],  gh_v = Q[sig v],
 *   P = H1 Wf_s^T, T = H1 Wf_t^T, Q = H1 W_hh^T + b_hh  over the U distinct first-layer states H1.
 * Only the second layer's GRU gates run per node. Equal to the per-node computation up to float
 * rounding (the products are summed in another order). */

/* The first-layer signature of node v: type, then a 4-bit in-neighbour count per type. */
static uint64_t signature(const encoder_batch *b, const uint16_t *nbr, int v, int base) {
    uint64_t key = (uint64_t)b->types[v] + 1; // never 0: 0 marks an empty slot
    for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1))
        key += (uint64_t)1 << (4 + 4 * b->types[base + __builtin_ctz(m)]);
    return key;
}

/* uid (N) = the index of each node's signature among the distinct ones, in order of first
 * occurrence; rep (U) = a node of each. Returns U. */
static int distinct_signatures(int *uid, int *rep, const encoder_acts *a, const encoder_batch *b,
                               const uint16_t *nbr) {
    const size_t slots = memo_slots(a->memo_cap);
    float *base = a->memo + a->memo_cap;
    uint64_t *keys = (uint64_t *)(void *)(base + ((uintptr_t)base % 8 ? 1 : 0));
    int *vals = (int *)(void *)(keys + slots);
    memset(keys, 0, slots * sizeof *keys);
    int U = 0;
    for (int g = 0; g < b->G; g++)
        for (int v = b->offsets[g]; v < b->offsets[g + 1]; v++) {
            const uint64_t key = signature(b, nbr, v, b->offsets[g]);
            size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (slots - 1);
            while (keys[i] && keys[i] != key) i = (i + 1) & (slots - 1);
            if (!keys[i]) { keys[i] = key; vals[i] = U; rep[U++] = v; }
            uid[v] = vals[i];
        }
    return U;
}

/* One stream's first two layers for inference: hout (N,C) = the second layer's output. The
 * stream's layer caches serve as scratch. */
static void stream_eval(float *hout, encoder_acts *a, const encoder_params *p, const encoder_batch *b,
                        encoder_config cfg, int st) {
    const int N = b->N, C = cfg.C, C2 = 2 * C, C3 = 3 * C, K = cfg.K;
    const uint16_t *nbr = st ? b->succ : b->pred;
    const mpass_params *l0 = st ? &p->bwd[0] : &p->fwd[0], *l1 = st ? &p->bwd[1] : &p->fwd[1];
    const mpass_fold *f0 = &a->fold.f[st * cfg.L], *f1 = &a->fold.f[st * cfg.L + 1];
    float *c0 = st ? a->cb[0] : a->cf[0], *c1 = st ? a->cb[1] : a->cf[1];
    int *uid = (int *)(void *)a->memo, *rep = (int *)(void *)(st ? a->hb[0] : a->hf[0]);
    const int U = distinct_signatures(uid, rep, a, b, nbr);
    // tables of the first layer (as mpass_forward_table): TS, TT (+bf), TR (+b_hh), (K,3C) each
    float *TS = a->table, *TT = TS + (size_t)K * C3, *TR = TT + (size_t)K * C3;
    for (int k = 0; k < K; k++) memcpy(TT + (size_t)k * C3, f0->b, (size_t)C3 * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, C3, C, 1.0f, p->node_init, C, f0->w, C2, 0.0f, TS, C3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, C3, C, 1.0f, p->node_init, C, f0->w + C, C2, 1.0f, TT, C3);
    linear_forward(TR, p->node_init, l0->upd_whh, l0->upd_bhh, K, C, C3);
    // the first layer once per signature: H1 (U,C); scratch in c0: act (U,3C), gh (U,3C), h0 (U,C)
    float *act = c0, *gh = act + (size_t)U * C3, *h0 = gh + (size_t)U * C3, *H1 = c1;
    for (int u = 0; u < U; u++) {
        const int v = rep[u], t = b->types[v];
        int g = 0;
        while (b->offsets[g + 1] <= v) g++;
        float *ar = act + (size_t)u * C3;
        memcpy(ar, l0->upd_bih, (size_t)C3 * sizeof(float));
        memcpy(gh + (size_t)u * C3, TR + (size_t)t * C3, (size_t)C3 * sizeof(float));
        memcpy(h0 + (size_t)u * C, p->node_init + (size_t)t * C, (size_t)C * sizeof(float));
        if (!nbr[v]) continue;
        for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
            const float *ts = TS + (size_t)b->types[b->offsets[g] + __builtin_ctz(m)] * C3;
            for (int j = 0; j < C3; j++) ar[j] += ts[j];
        }
        const float deg = (float)__builtin_popcount(nbr[v]), *tt = TT + (size_t)t * C3;
        for (int j = 0; j < C3; j++) ar[j] += deg * tt[j];
    }
    gru_cell_forward(H1, act, gh, h0, U, C);
    // the second layer's products per signature: PT = H1 [Wf_s ; Wf_t]^T (U,6C) in c0, Q (U,3C)
    // (c0, c1: mpass_cache_size(max_n,C) = 11 max_n C floats each; c0 holds 9UC, c1 UC + 7NC)
    float *PT = c0, *Q = PT + (size_t)U * 2 * C3;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, U, C3, C, 1.0f, H1, C, f1->w, C2, 0.0f, PT, 2 * C3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, U, C3, C, 1.0f, H1, C, f1->w + C, C2, 0.0f, PT + C3, 2 * C3);
    linear_forward(Q, H1, l1->upd_whh, l1->upd_bhh, U, C, C3);
    // per node: the second layer's pre-activations from the tables, then the GRU gates with the
    // node's W_hh h + b_hh and previous state read from its signature's rows of Q and H1 (uid)
    float *act1 = H1 + (size_t)U * C; // (N,3C) in c1
    for (int g = 0; g < b->G; g++)
        for (int v = b->offsets[g]; v < b->offsets[g + 1]; v++) {
            float *ar = act1 + (size_t)v * C3;
            memcpy(ar, l1->upd_bih, (size_t)C3 * sizeof(float));
            if (!nbr[v]) continue;
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                const float *ps = PT + (size_t)uid[b->offsets[g] + __builtin_ctz(m)] * 2 * C3;
                for (int j = 0; j < C3; j++) ar[j] += ps[j];
            }
            const float deg = (float)__builtin_popcount(nbr[v]);
            const float *pt = PT + (size_t)uid[v] * 2 * C3 + C3;
            for (int j = 0; j < C3; j++) ar[j] += deg * (pt[j] + f1->b[j]);
        }
    gru_cell_forward_rows(hout, act1, Q, H1, uid, N, C);
}

void encoder_forward_eval(encoder_acts *a, const encoder_params *p, const encoder_batch *b,
                          encoder_config cfg, int want_logvar) {
    // signatures need K <= 15; a single layer has nothing to memoise in a second one
    if (cfg.K > 15 || cfg.L < 2) { forward(a, p, b, cfg, 0, want_logvar); return; }
    const int N = b->N, G = b->G, C = cfg.C, D = cfg.D, L = cfg.L;
    fold_update(a, p, L);
    stream_eval(a->hf[1], a, p, b, cfg, 0); // the first two layers of each stream
    stream_eval(a->hb[1], a, p, b, cfg, 1);
    for (int l = 2; l < L; l++) {            // any further layers node by node
        mpass_forward(a->hf[l], a->cf[l], a->hf[l - 1], b->pred, b->offsets, G, &p->fwd[l], &a->fold.f[l], C);
        mpass_forward(a->hb[l], a->cb[l], a->hb[l - 1], b->succ, b->offsets, G, &p->bwd[l], &a->fold.f[L + l], C);
    }
    for (int v = 0; v < N; v++) {
        memcpy(a->h + (size_t)v * 2 * C, a->hf[L - 1] + (size_t)v * C, (size_t)C * sizeof(float));
        memcpy(a->h + (size_t)v * 2 * C + C, a->hb[L - 1] + (size_t)v * C, (size_t)C * sizeof(float));
    }
    gsum_forward(a->mu, a->gmean, a->h, p->mean_f_w, p->mean_f_b, p->mean_g_w, p->mean_g_b,
                 b->offsets, G, 2 * C, D);
    if (want_logvar)
        gsum_forward(a->logvar, a->gvar, a->h, p->var_f_w, p->var_f_b, p->var_g_w, p->var_g_b,
                     b->offsets, G, 2 * C, D);
}

/* --------------------------------------------------------------- backward */
/* Back through one stream's layers: dtop (N,C) is dL/d(last state); dh0 += dL/dh0. */
static void stream_backward(float *dh0, float *dtop, float *dmid, float *scratch,
                            const mpass_params *grad, const mpass_fold *fg, const mpass_params *p,
                            const mpass_fold *f, float *const *hs, float *const *caches,
                            const float *h0, const uint16_t *nbr, const encoder_batch *b, int C, int L) {
    const size_t NC = (size_t)b->N * C;
    float *dout = dtop;
    for (int l = L - 1; l >= 0; l--) {
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

/* Task r of the backward: readout r's gradients, and its node gradient x->dh[r] (N,2C). */
static void readout_backward(void *arg, int r) {
    enc_task_ctx *x = arg;
    const encoder_acts *a = x->a;
    const encoder_params *p = x->p, *grad = x->grad;
    const encoder_batch *b = x->b;
    const int N = b->N, C = x->cfg.C, D = x->cfg.D;
    memset(x->dh[r], 0, (size_t)N * 2 * C * sizeof(float));
    if (r == 0 && x->dmu)
        gsum_backward(x->dh[0], grad->mean_f_w, grad->mean_f_b, grad->mean_g_w, grad->mean_g_b, x->ws[0],
                      x->dmu, a->gmean, a->h, p->mean_f_w, p->mean_g_w, b->offsets, b->G, 2 * C, D);
    if (r == 1 && x->dlogvar)
        gsum_backward(x->dh[1], grad->var_f_w, grad->var_f_b, grad->var_g_w, grad->var_g_b, x->ws[1],
                      x->dlogvar, a->gvar, a->h, p->var_f_w, p->var_g_w, b->offsets, b->G, 2 * C, D);
}

/* Task s of the backward: stream s's layers, from its half of dh[0] + dh[1], into dh0[s] (N,C). */
static void stream_backward_task(void *arg, int s) {
    enc_task_ctx *x = arg;
    const encoder_acts *a = x->a;
    const encoder_params *p = x->p, *grad = x->grad;
    const encoder_batch *b = x->b;
    const int N = b->N, C = x->cfg.C, L = x->cfg.L;
    float *dtop = x->dtop[s];
    for (int v = 0; v < N; v++)
        for (int k = 0; k < C; k++) {
            const size_t i = (size_t)v * 2 * C + (size_t)s * C + k;
            dtop[(size_t)v * C + k] = x->dh[0][i] + x->dh[1][i];
        }
    memset(x->dh0[s], 0, (size_t)N * C * sizeof(float));
    const mpass_params *gl = s ? grad->bwd : grad->fwd, *pl = s ? p->bwd : p->fwd;
    stream_backward(x->dh0[s], dtop, x->dmid[s], x->ws[s], gl, x->fg + s * L, pl, a->fold.f + s * L,
                    s ? a->hb : a->hf, s ? a->cb : a->cf, a->h0, s ? b->succ : b->pred, b, C, L);
    for (int l = 0; l < L; l++) mpass_unfold_grad(&gl[l], &x->fg[s * L + l], &pl[l], C);
}

void encoder_backward(const encoder_params *grad, float *scratch, const float *dmu,
                      const float *dlogvar, const encoder_acts *a, const encoder_params *p,
                      const encoder_batch *b, encoder_config cfg) {
    const int N = b->N, C = cfg.C, D = cfg.D, L = cfg.L;
    if (N == 0) return;
    const size_t NC = (size_t)N * C, nfold = mpass_fold_size(C);
    size_t ms = mpass_scratch_size(N, C), gs = gsum_scratch_size(N, D);
    const size_t nws = ms > gs ? ms : gs; // as encoder_scratch_size, for this batch's N
    enc_task_ctx x = {.a = (encoder_acts *)a, .p = p, .grad = grad, .b = b, .cfg = cfg, .dmu = dmu,
                      .dlogvar = dlogvar};
    float *q = scratch;
    for (int t = 0; t < 2; t++) { x.dh[t] = q; q += 2 * NC; }
    for (int t = 0; t < 2; t++) {
        x.dtop[t] = q; q += NC;
        x.dmid[t] = q; q += NC;
        x.dh0[t] = q; q += NC;
    }
    mpass_fold fg[2 * ENC_MAX_LAYERS];
    memset(q, 0, 2 * (size_t)L * nfold * sizeof(float));
    for (int l = 0; l < 2 * L; l++) mpass_fold_point(&fg[l], q + l * nfold, C);
    q += 2 * (size_t)L * nfold;
    x.fg = fg;
    for (int t = 0; t < 2; t++) { x.ws[t] = q; q += nws; }
    par_run(a->pool, 2, readout_backward, &x);
    par_run(a->pool, 2, stream_backward_task, &x);
    // both streams started from h0: their gradients join in this order
    for (size_t i = 0; i < NC; i++) x.dh0[0][i] += x.dh0[1][i];
    if (grad->node_init) embedding_backward(grad->node_init, x.dh0[0], b->types, N, C);
}
