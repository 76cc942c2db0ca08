/* decoder.c: the SVGe decoder's teacher-forced training path; see decoder.h. */
#include "decoder.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

#define P "Decoder.generator."
/* PyTorch state_dict names of SVGE.Decoder after its 2L propagation layers (lib/mpass.h names
 * those), in registration order. */
static const char *const head_names[DEC_HEAD_TENSORS] = {
    P "prop.GraphEmb.f_m.weight", P "prop.GraphEmb.f_m.bias",
    P "prop.GraphEmb.g_m.weight", P "prop.GraphEmb.g_m.bias",
    P "prop.GraphEmb_init.f_m.weight", P "prop.GraphEmb_init.f_m.bias",
    P "prop.GraphEmb_init.g_m.weight", P "prop.GraphEmb_init.g_m.bias",
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

/* Tensors of the propagation layers: 2L two-stream layers, or L bidirectional ones. */
static int prop_tensors(decoder_config cfg) {
    return cfg.prop == DEC_PROP_BIDIR ? cfg.L * MPASS_BIDIR_TENSORS : 2 * cfg.L * MPASS_NUM_TENSORS;
}

int decoder_num_tensors(decoder_config cfg) { return prop_tensors(cfg) + DEC_HEAD_TENSORS; }

const char *decoder_param_name(int i, decoder_config cfg) {
    if (cfg.L < 1 || cfg.L > DEC_MAX_LAYERS || i < 0 || i >= decoder_num_tensors(cfg)) return NULL;
    const int nl = prop_tensors(cfg);
    if (i >= nl) return head_names[i - nl];
    if (cfg.prop == DEC_PROP_BIDIR) return mpass_bidir_param_name(1, i / MPASS_BIDIR_TENSORS, i % MPASS_BIDIR_TENSORS);
    const int dl = i / MPASS_NUM_TENSORS; // direction-major layer index
    return mpass_param_name(1, dl / cfg.L, dl % cfg.L, i % MPASS_NUM_TENSORS);
}

/* PyTorch shapes (ndim 1 or 2) and the fan_in of each tensor's PyTorch init (0: Embedding
 * N(0,1), -1: GRU, U(±1/sqrt(hidden)) with the GRU's hidden size: C2/2 in a stream, C2 in a
 * bidirectional layer). */
static void param_layout(int *ndim, uint64_t (*shape)[2],
                         int fan[DEC_MAX_TENSORS], decoder_config cfg) {
    const uint64_t K = (uint64_t)cfg.K, C2 = (uint64_t)cfg.C2, D = (uint64_t)cfg.D, OC = C2 + D;
    int i = 0;
#define S2(a, b, f) (ndim[i] = 2, shape[i][0] = (a), shape[i][1] = (b), fan[i] = (int)(f), i++)
#define S1(a, f) (ndim[i] = 1, shape[i][0] = (a), shape[i][1] = 0, fan[i] = (int)(f), i++)
    if (cfg.prop == DEC_PROP_BIDIR) {
        const uint64_t C = C2; // msg, msg_rev, upd (GRUCell(2C, C))
        for (int l = 0; l < cfg.L; l++) {
            S2(2 * C, 2 * C, 2 * C); S1(2 * C, 2 * C); S2(2 * C, 2 * C, 2 * C); S1(2 * C, 2 * C);
            S2(3 * C, 2 * C, -1); S2(3 * C, C, -1); S1(3 * C, -1); S1(3 * C, -1);
        }
    } else {
        const uint64_t C = C2 / 2; // msg, upd (GRUCell(2C, C)) of one stream
        for (int l = 0; l < 2 * cfg.L; l++) {
            S2(2 * C, 2 * C, 2 * C); S1(2 * C, 2 * C);
            S2(3 * C, 2 * C, -1); S2(3 * C, C, -1); S1(3 * C, -1); S1(3 * C, -1);
        }
    }
    for (int r = 0; r < 2; r++) {           // GraphEmb, GraphEmb_init
        S2(D, C2, C2); S1(D, C2); S2(1, C2, C2); S1(1, C2);
    }
    S2(D, 2 * D, 2 * D); S1(D, 2 * D);                 // f_an
    S2(K, D, D); S1(K, D);                             // f_an_2
    S2(K, C2, 0);                                      // NodeInits
    S2(OC, C2 + 2 * D, C2 + 2 * D); S1(OC, C2 + 2 * D); // f_init
    S2(C2, OC, OC); S1(C2, OC);                        // f_init_2
    S2(OC, OC, OC); S1(OC, OC);                        // f_start
    S2(C2, OC, OC); S1(C2, OC);                        // f_start_2
    S2(OC, 2 * C2 + 2 * D, 2 * C2 + 2 * D); S1(OC, 2 * C2 + 2 * D); // f_s_1
    S2(1, OC, OC); S1(1, OC);                          // f_s_2
#undef S1
#undef S2
}

void decoder_param_shapes(int *ndim, uint64_t (*shape)[2], decoder_config cfg) {
    int fan[DEC_MAX_TENSORS];
    param_layout(ndim, shape, fan, cfg);
}

/* Element counts and init fans. */
static void param_sizes_fans(size_t sizes[DEC_MAX_TENSORS], int fan[DEC_MAX_TENSORS], decoder_config cfg) {
    int nd[DEC_MAX_TENSORS];
    uint64_t sh[DEC_MAX_TENSORS][2];
    param_layout(nd, sh, fan, cfg);
    for (int i = 0; i < decoder_num_tensors(cfg); i++) sizes[i] = (size_t)sh[i][0] * (nd[i] == 2 ? (size_t)sh[i][1] : 1);
}

void decoder_param_sizes(size_t sizes[DEC_MAX_TENSORS], decoder_config cfg) {
    int fan[DEC_MAX_TENSORS];
    param_sizes_fans(sizes, fan, cfg);
}

size_t decoder_param_count(decoder_config cfg) {
    size_t s[DEC_MAX_TENSORS], n = 0;
    decoder_param_sizes(s, cfg);
    for (int i = 0; i < decoder_num_tensors(cfg); i++) n += s[i];
    return n;
}

void decoder_param_ptrs(decoder_params *p, float **ptrs[DEC_MAX_TENSORS], decoder_config cfg) {
    float ***q = ptrs;
    const int L = cfg.L;
    if (cfg.prop == DEC_PROP_BIDIR) {
        for (int l = 0; l < L; l++, q += MPASS_BIDIR_TENSORS) mpass_bidir_param_ptrs(&p->bi[l], q);
    } else {
        for (int l = 0; l < 2 * L; l++) {
            mpass_params *m = l < L ? &p->fwd[l] : &p->bwd[l - L];
            *q++ = &m->msg_w; *q++ = &m->msg_b;
            *q++ = &m->upd_wih; *q++ = &m->upd_whh; *q++ = &m->upd_bih; *q++ = &m->upd_bhh;
        }
    }
    *q++ = &p->ge_f_w; *q++ = &p->ge_f_b; *q++ = &p->ge_g_w; *q++ = &p->ge_g_b;
    *q++ = &p->gi_f_w; *q++ = &p->gi_f_b; *q++ = &p->gi_g_w; *q++ = &p->gi_g_b;
    *q++ = &p->an_w; *q++ = &p->an_b; *q++ = &p->an2_w; *q++ = &p->an2_b;
    *q++ = &p->emb;
    *q++ = &p->init_w; *q++ = &p->init_b; *q++ = &p->init2_w; *q++ = &p->init2_b;
    *q++ = &p->start_w; *q++ = &p->start_b; *q++ = &p->start2_w; *q++ = &p->start2_b;
    *q++ = &p->s1_w; *q++ = &p->s1_b; *q++ = &p->s2_w; *q = &p->s2_b;
}

void decoder_point_params(decoder_params *p, float *mem, decoder_config cfg) {
    size_t sizes[DEC_MAX_TENSORS];
    float **ptrs[DEC_MAX_TENSORS];
    decoder_param_sizes(sizes, cfg);
    memset(p, 0, sizeof *p);
    decoder_param_ptrs(p, ptrs, cfg);
    for (int i = 0; i < decoder_num_tensors(cfg); i++) {
        *ptrs[i] = mem;
        mem += sizes[i];
    }
}

void decoder_init(const decoder_params *p, decoder_config cfg, rng_mt *r) {
    size_t sizes[DEC_MAX_TENSORS];
    int fan[DEC_MAX_TENSORS];
    param_sizes_fans(sizes, fan, cfg);
    decoder_params q = *p;
    float **ptrs[DEC_MAX_TENSORS];
    decoder_param_ptrs(&q, ptrs, cfg);
    const double gru_hidden = cfg.prop == DEC_PROP_BIDIR ? (double)cfg.C2 : cfg.C2 / 2.0;
    for (int i = 0; i < decoder_num_tensors(cfg); i++) {
        float *x = *ptrs[i];
        if (fan[i] == 0) {                                  // Embedding: N(0,1)
            for (size_t k = 0; k < sizes[i]; k++) x[k] = (float)rng_gauss(r);
            continue;
        }
        const double bound = 1.0 / sqrt(fan[i] < 0 ? gru_hidden : (double)fan[i]);
        for (size_t k = 0; k < sizes[i]; k++) x[k] = (float)(bound * (2.0 * rng_double(r) - 1.0));
    }
}

/* ------------------------------------------------------------ activations */
/* Bump allocator over the arena; with base NULL it only counts (sizing pass). */
static float *take(float *base, size_t *off, size_t n) {
    float *p = base ? base + *off : NULL;
    *off += n;
    return p;
}

/* Carve the activations of one step with A graphs of n nodes. infer: no backward will follow,
 * so the layers share one cache. Two-stream: hs[st][0] is stream st's half of hin, hs[st][l+1] its
 * state after layer l, hprop their concatenation; bidirectional: hs[0][0] = hin, hs[0][l+1] after
 * layer l, hprop = hs[0][L]. */
static void carve_step(dec_step *s, float *base, size_t *off, decoder_config cfg, int A, int n, int infer) {
    const int C2 = cfg.C2, C = C2 / 2, D = cfg.D, K = cfg.K, OC = C2 + D, WR = C2 + 2 * D;
    const size_t M = (size_t)A * n;
    memset(s, 0, sizeof *s);
    s->A = A;
    s->n = n;
    s->hin = take(base, off, M * C2);
    if (n > 1 && cfg.prop == DEC_PROP_BIDIR) {
        s->hs[0][0] = s->hin;
        for (int l = 0; l < cfg.L; l++) {
            s->hs[0][l + 1] = take(base, off, M * C2);
            s->cache[0][l] = infer && l > 0 ? s->cache[0][0] : take(base, off, mpass_bidir_cache_size((int)M, C2));
        }
        s->hprop = s->hs[0][cfg.L];
    } else if (n > 1) {
        for (int st = 0; st < 2; st++) {
            for (int l = 0; l <= cfg.L; l++) s->hs[st][l] = take(base, off, M * C);
            for (int l = 0; l < cfg.L; l++)
                s->cache[st][l] = infer && (st || l) ? s->cache[0][0] : take(base, off, mpass_cache_size((int)M, C));
        }
        s->hprop = take(base, off, M * C2);
    }
    if (n > 1) {
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
    s->hnew = take(base, off, (size_t)A * C2);
    if (n > 1) {
        s->xrest = take(base, off, (size_t)A * WR);
        s->q = take(base, off, (size_t)A * OC);
        s->es1 = take(base, off, M * OC);
        s->s = take(base, off, M);
        s->et = take(base, off, M);
    }
}

static int num_dirs(decoder_config cfg) { return cfg.forward_only ? 1 : 2; }

/* Floats of the arena: every step of every direction at full width A = max_g. */
static size_t arena_size(decoder_config cfg, int max_g, int max_n) {
    size_t off = 0;
    dec_step s;
    for (int d = 0; d < num_dirs(cfg); d++) {
        take(NULL, &off, 2 * (size_t)max_g * (cfg.C2 + cfg.D)); // xstart, zs
        for (int t = 0; t < max_n - 1; t++) carve_step(&s, NULL, &off, cfg, max_g, t + 1, 0);
    }
    return off;
}

int decoder_acts_init(decoder_acts *a, decoder_config cfg, int max_g, int max_n) {
    memset(a, 0, sizeof *a);
    if (max_g < 0 || max_n < 0 || max_n > GRAPH_MAX_NODES || cfg.C2 % 2 || cfg.K < 2 || cfg.L < 1 ||
        cfg.L > DEC_MAX_LAYERS || (cfg.prop != DEC_PROP_TWO_STREAM && cfg.prop != DEC_PROP_BIDIR))
        return -1;
    a->cfg = cfg;
    a->max_g = max_g;
    a->max_n = max_n;
    a->mem_size = arena_size(cfg, max_g, max_n);
    const size_t G = (size_t)max_g, GN = G * (size_t)max_n;
    a->mem = malloc((a->mem_size ? a->mem_size : 1) * sizeof(float));
    a->cs = malloc((G * cfg.D + G + 2 * GN + 1) * sizeof(float));
    a->order = malloc((5 * G + 3) * sizeof(int));
    a->gd = malloc((2 * G + 1) * sizeof(graph));
    uint16_t *masks = malloc((4 * GN + 1) * sizeof(uint16_t));
    a->lane[0].pred = masks;
    a->fold_mem = malloc((decoder_fold_floats(cfg) + 1) * sizeof(float));
    if (!a->mem || !a->cs || !a->order || !a->gd || !masks || !a->fold_mem) {
        decoder_acts_free(a);
        return -1;
    }
    a->wce = a->cs + G * cfg.D;
    for (int d = 0; d < 2; d++) {
        dec_lane *ln = &a->lane[d];
        ln->wbce = a->wce + G + (size_t)d * GN;
        ln->types = a->order + G + (size_t)d * (2 * G + 1);
        ln->offsets = ln->types + G;
        ln->pred = masks + (size_t)d * 2 * GN;
        ln->succ = ln->pred + GN;
    }
    decoder_fold_point(&a->fold, a->fold_mem, cfg);
    a->w_type = a->w_edge = 1.0f;
    return 0;
}

void decoder_acts_free(decoder_acts *a) {
    free(a->mem);
    free(a->cs);
    free(a->order);
    free(a->gd);
    free(a->lane[0].pred);
    free(a->fold_mem);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------------ helpers */
/* Neighbour masks and offsets of the induced subgraphs on nodes 0..n-1 of the A first graphs. */
static void make_masks(const dec_lane *ln, const graph *gd, int A, int n) {
    const uint16_t keep = (uint16_t)((1u << n) - 1u);
    for (int i = 0; i < A; i++) {
        ln->offsets[i] = i * n;
        for (int v = 0; v < n; v++) {
            ln->pred[i * n + v] = graph_pred(&gd[i], v) & keep;
            ln->succ[i * n + v] = gd[i].succ[v] & keep;
        }
    }
    ln->offsets[A] = A * n;
}

/* Rows i of dst (A, w0+w1+w2) = [x0_i ; x1_i ; x2_i]; x2 may be NULL (w2 = 0). */
static void concat3(float *dst, const float *x0, int w0, const float *x1, int w1, const float *x2,
                    int w2, int A) {
    const int w = w0 + w1 + w2;
    for (int i = 0; i < A; i++) {
        float *r = dst + (size_t)i * w;
        memcpy(r, x0 + (size_t)i * w0, (size_t)w0 * sizeof(float));
        memcpy(r + w0, x1 + (size_t)i * w1, (size_t)w1 * sizeof(float));
        if (w2) memcpy(r + w0 + w1, x2 + (size_t)i * w2, (size_t)w2 * sizeof(float));
    }
}

/* dst (A,w) += columns col..col+w-1 of src (A,ld). */
static void add_cols(float *dst, const float *src, int col, int w, int ld, int A) {
    for (int i = 0; i < A; i++)
        for (int k = 0; k < w; k++) dst[(size_t)i * w + k] += src[(size_t)i * ld + col + k];
}

/* Zero the entries of d whose post-ReLU activation out is 0 (ReLU backward, in place). */
static void relu_mask(float *d, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(out[i] > 0.0f)) d[i] = 0.0f;
}

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

/* ---------------------------------------------------------------- forward */
/* The generator step in pieces, shared by the teacher-forced path (step_forward below) and by
 * inference (lib/generate.c, through the decoder_step_* wrappers): the same operations in the same
 * order, so that a generated graph replayed under teacher forcing gives the same logits. */

/* (1) propagation of s->hin over the A graphs' induced subgraphs (pred/succ masks, offsets) into
 * s->hprop, and the two readouts s->hG, s->hGi. */
static void step_propagate(dec_step *s, const decoder_params *p, const mpass_fold *fold,
                           decoder_config cfg, const uint16_t *pred, const uint16_t *succ,
                           const int *offsets) {
    const int C2 = cfg.C2, C = C2 / 2, D = cfg.D;
    const int A = s->A, n = s->n, M = A * n;
    if (n > 1 && cfg.prop == DEC_PROP_BIDIR) { // one stream, messages along and against the edges
        for (int l = 0; l < cfg.L; l++)
            mpass_bidir_forward(s->hs[0][l + 1], s->cache[0][l], s->hs[0][l], pred, succ, offsets, A,
                                &p->bi[l], C2);
    } else if (n > 1) {
        for (int v = 0; v < M; v++) {      // split [fwd half ; bwd half]
            memcpy(s->hs[0][0] + (size_t)v * C, s->hin + (size_t)v * C2, (size_t)C * sizeof(float));
            memcpy(s->hs[1][0] + (size_t)v * C, s->hin + (size_t)v * C2 + C, (size_t)C * sizeof(float));
        }
        for (int l = 0; l < cfg.L; l++) {
            mpass_forward(s->hs[0][l + 1], s->cache[0][l], s->hs[0][l], pred, offsets, A, &p->fwd[l],
                          &fold[l], C);
            mpass_forward(s->hs[1][l + 1], s->cache[1][l], s->hs[1][l], succ, offsets, A, &p->bwd[l],
                          &fold[cfg.L + l], C);
        }
        concat3(s->hprop, s->hs[0][cfg.L], C, s->hs[1][cfg.L], C, NULL, 0, M);
    }
    if (n > 1) {
        gsum_forward(s->hG, s->gc, s->hprop, p->ge_f_w, p->ge_f_b, p->ge_g_w, p->ge_g_b, offsets, A, C2, D);
        gsum_forward(s->hGi, s->gci, s->hprop, p->gi_f_w, p->gi_f_b, p->gi_g_w, p->gi_g_b, offsets, A, C2, D);
    } else { // a single node: only the Linear parts of the readouts, no gate
        linear_forward(s->hG, s->hprop, p->ge_f_w, p->ge_f_b, A, C2, D);
        linear_forward(s->hGi, s->hprop, p->gi_f_w, p->gi_f_b, A, C2, D);
    }
}

/* (2) type logits s->logits (A,K) = NodeAdd([h_G ; c]); cs (A,D). */
static void step_nodeadd(dec_step *s, const decoder_params *p, decoder_config cfg, const float *cs) {
    const int D = cfg.D, K = cfg.K, A = s->A;
    concat3(s->xan, s->hG, D, cs, D, NULL, 0, A);
    linear_forward(s->an1, s->xan, p->an_w, p->an_b, A, 2 * D, D);
    relu_forward(s->an1, s->an1, (size_t)A * D);
    linear_forward(s->logits, s->an1, p->an2_w, p->an2_b, A, D, K);
}

/* (3) the new node's state s->hnew from types (A), and (4) if n > 1 the edge logits s->s (A*n). */
static void step_newnode(dec_step *s, const decoder_params *p, decoder_config cfg, const int *types,
                         const float *cs) {
    const int C2 = cfg.C2, D = cfg.D, OC = C2 + D, WR = C2 + 2 * D;
    const int A = s->A, n = s->n, M = A * n, LD1 = 2 * C2 + 2 * D;
    for (int i = 0; i < A; i++)
        memcpy(s->xinit + (size_t)i * WR, p->emb + (size_t)types[i] * C2, (size_t)C2 * sizeof(float));
    for (int i = 0; i < A; i++) {
        memcpy(s->xinit + (size_t)i * WR + C2, s->hGi + (size_t)i * D, (size_t)D * sizeof(float));
        memcpy(s->xinit + (size_t)i * WR + C2 + D, cs + (size_t)i * D, (size_t)D * sizeof(float));
    }
    linear_forward(s->z1, s->xinit, p->init_w, p->init_b, A, WR, OC);
    relu_forward(s->z1, s->z1, (size_t)A * OC);
    linear_forward(s->hnew, s->z1, p->init2_w, p->init2_b, A, OC, C2);
    if (n == 1) return; // the edge 0 -> 1 is implicit, not scored
    // (4) edge scores: f_s_1 = [W_u | W_r]; q_g = W_r [h_new ; h_G ; c]_g + b once per graph,
    // then pre_u = W_u h_u + q_g for every existing node u of graph g
    concat3(s->xrest, s->hnew, C2, s->hG, D, cs, D, A);
    for (int i = 0; i < A; i++) memcpy(s->q + (size_t)i * OC, p->s1_b, (size_t)OC * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, A, OC, WR, 1.0f, s->xrest, WR,
                p->s1_w + C2, LD1, 1.0f, s->q, OC);
    for (int v = 0; v < M; v++) memcpy(s->es1 + (size_t)v * OC, s->q + (size_t)(v / n) * OC, (size_t)OC * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, OC, C2, 1.0f, s->hprop, C2, p->s1_w,
                LD1, 1.0f, s->es1, OC);
    relu_forward(s->es1, s->es1, (size_t)M * OC);
    linear_forward(s->s, s->es1, p->s2_w, p->s2_b, M, OC, 1);
}

/* The start node's state h0 (A,C2) = f_start_2(relu(f_start([NodeInits[st] ; c]))); xstart, zs
 * (A,OC) receive the input and the post-ReLU hidden layer. */
static void start_forward(float *h0, float *xstart, float *zs, const decoder_params *p,
                          decoder_config cfg, int st, const float *cs, int A) {
    const int C2 = cfg.C2, D = cfg.D, OC = C2 + D;
    for (int i = 0; i < A; i++) {
        memcpy(xstart + (size_t)i * OC, p->emb + (size_t)st * C2, (size_t)C2 * sizeof(float));
        memcpy(xstart + (size_t)i * OC + C2, cs + (size_t)i * D, (size_t)D * sizeof(float));
    }
    linear_forward(zs, xstart, p->start_w, p->start_b, A, OC, OC);
    relu_forward(zs, zs, (size_t)A * OC);
    linear_forward(h0, zs, p->start2_w, p->start2_b, A, OC, C2);
}

/* Step t of a direction (its lane ln): activations into s, its two loss terms into ln->ce[t],
 * ln->bce[t] (0 when there is no edge term). */
static void step_forward(const decoder_acts *a, dec_lane *ln, const decoder_params *p, const graph *gd,
                         dec_step *s, int t) {
    const decoder_config cfg = a->cfg;
    const int K = cfg.K, A = s->A, n = s->n, M = A * n;
    // (1) propagation and the two readouts
    if (n > 1) make_masks(ln, gd, A, n);
    step_propagate(s, p, a->fold.f, cfg, ln->pred, ln->succ, ln->offsets);
    // (2) type logits and CE against the teacher type of node n
    for (int i = 0; i < A; i++) ln->types[i] = gd[i].type[n];
    step_nodeadd(s, p, cfg, a->cs);
    ln->ce[t] = crossentropy_forward(s->probs, s->logits, ln->types, a->wce, A, K);
    ln->bce[t] = 0.0;
    // (3) the new node's state from the teacher type, (4) the edge scores
    step_newnode(s, p, cfg, ln->types, a->cs);
    if (n == 1) return;
    for (int i = 0; i < A; i++)
        for (int u = 0; u < n; u++) s->et[i * n + u] = graph_has_edge(&gd[i], u, n) ? 1.0f : 0.0f;
    const float w = a->w_edge / (float)a->B / (float)n; // mean over the n candidate edges, 1/B over the batch
    for (int v = 0; v < M; v++) ln->wbce[v] = w;
    ln->bce[t] = bce_logits_forward(s->s, s->et, ln->wbce, M);
}

/* ---------------------------------------------------- generation building blocks */
size_t decoder_step_size(decoder_config cfg, int A, int n) {
    size_t off = 0;
    dec_step s;
    carve_step(&s, NULL, &off, cfg, A, n, 1);
    return off;
}

void decoder_step_carve(dec_step *s, float *mem, decoder_config cfg, int A, int n) {
    size_t off = 0;
    carve_step(s, mem, &off, cfg, A, n, 1);
}

void decoder_start_state(float *h0, float *xstart, float *zs, const decoder_params *p,
                         decoder_config cfg, int start_type, const float *cs, int A) {
    start_forward(h0, xstart, zs, p, cfg, start_type, cs, A);
}

size_t decoder_fold_floats(decoder_config cfg) {
    return cfg.prop == DEC_PROP_BIDIR ? 0 : mpass_foldset_floats(2 * cfg.L, cfg.C2 / 2);
}

void decoder_fold_point(mpass_foldset *fs, float *mem, decoder_config cfg) {
    if (cfg.prop == DEC_PROP_BIDIR) memset(fs, 0, sizeof *fs); // nothing to fold (L = 0)
    else mpass_foldset_point(fs, mem, 2 * cfg.L, cfg.C2 / 2);
}

/* decoder_fold_update with a task per layer on pool. */
static void fold_update_on(mpass_foldset *fs, const decoder_params *p, par_pool *pool) {
    const int L = fs->L / 2;
    if (!L) return;
    const mpass_params *layers[2 * DEC_MAX_LAYERS];
    for (int l = 0; l < L; l++) { layers[l] = &p->fwd[l]; layers[L + l] = &p->bwd[l]; }
    mpass_foldset_update_on(fs, layers, pool);
}

void decoder_fold_update(mpass_foldset *fs, const decoder_params *p) { fold_update_on(fs, p, NULL); }

void decoder_step_logits(dec_step *s, const decoder_params *p, const mpass_foldset *fold,
                         decoder_config cfg, const float *cs, const uint16_t *pred,
                         const uint16_t *succ, const int *offsets) {
    step_propagate(s, p, fold->f, cfg, pred, succ, offsets);
    step_nodeadd(s, p, cfg, cs);
}

void decoder_step_node(dec_step *s, const decoder_params *p, decoder_config cfg, const int *types,
                       const float *cs) {
    step_newnode(s, p, cfg, types, cs);
}

/* The context of a direction task (par_fn: task d = direction d). */
typedef struct {
    decoder_acts *a;
    const decoder_params *p;
} dir_task_ctx;

/* Direction d of decoder_forward: the start node, then every step (its carved activations). */
static void dir_forward(void *arg, int d) {
    dir_task_ctx *ctx = arg;
    decoder_acts *a = ctx->a;
    const decoder_params *p = ctx->p;
    const decoder_config cfg = a->cfg;
    const int C2 = cfg.C2;
    dec_dir *dr = &a->dir[d];
    const graph *gd = a->gd + (size_t)d * a->max_g;
    if (!dr->A0) return;
    // the start node: f_start_2(relu(f_start([NodeInits[s] ; c]))) -> the first state
    const int st = d == 0 ? DEC_START_FWD : DEC_START_BWD;
    start_forward(dr->step[0].hin, dr->xstart, dr->zs, p, cfg, st, a->cs, dr->A0);
    for (int t = 0; t < dr->nsteps; t++) {
        dec_step *s = &dr->step[t];
        if (t > 0) { // carry: H_t = [propagated H_{t-1} ; h_new], for the graphs still active
            const dec_step *pv = &dr->step[t - 1];
            const int n = s->n;
            for (int i = 0; i < s->A; i++) {
                memcpy(s->hin + (size_t)i * n * C2, pv->hprop + (size_t)i * (n - 1) * C2,
                       (size_t)(n - 1) * C2 * sizeof(float));
                memcpy(s->hin + ((size_t)i * n + n - 1) * C2, pv->hnew + (size_t)i * C2,
                       (size_t)C2 * sizeof(float));
            }
        }
        step_forward(a, &a->lane[d], p, gd, s, t);
    }
}

int decoder_forward(decoder_acts *a, const decoder_params *p, const graph *gs, const float *c, int B,
                    double *loss) {
    const decoder_config cfg = a->cfg;
    const int C2 = cfg.C2, D = cfg.D, OC = C2 + D;
    a->B = 0;
    a->loss = 0.0;
    if (B < 0 || B > a->max_g) return -1;
    for (int g = 0; g < B; g++) {
        if (gs[g].n < 0 || gs[g].n > a->max_n) return -1;
        for (int v = 0; v < gs[g].n; v++)
            if (gs[g].type[v] >= cfg.K) return -1;
    }
    // rank the graphs by decreasing size (stable insertion sort; B is small)
    for (int g = 0; g < B; g++) {
        int k = g;
        while (k > 0 && gs[a->order[k - 1]].n < gs[g].n) { a->order[k] = a->order[k - 1]; k--; }
        a->order[k] = g;
    }
    for (int i = 0; i < B; i++) {
        const graph *g = &gs[a->order[i]];
        a->gd[i] = *g;
        if (!cfg.forward_only) graph_reverse(&a->gd[a->max_g + i], g);
        memcpy(a->cs + (size_t)i * D, c + (size_t)a->order[i] * D, (size_t)D * sizeof(float));
        a->wce[i] = a->w_type / (float)B;
    }
    a->B = B;
    fold_update_on(&a->fold, p, a->pool);
    size_t off = 0;
    for (int d = 0; d < num_dirs(cfg); d++) { // carve both directions' activations first
        dec_dir *dr = &a->dir[d];
        const graph *gd = a->gd + (size_t)d * a->max_g;
        int A0 = 0;
        while (A0 < B && gd[A0].n >= 2) A0++;
        dr->A0 = A0;
        dr->nsteps = A0 ? gd[0].n - 1 : 0;
        dr->xstart = take(a->mem, &off, (size_t)A0 * OC);
        dr->zs = take(a->mem, &off, (size_t)A0 * OC);
        for (int t = 0; t < dr->nsteps; t++) {
            int A = 0;
            while (A < B && gd[A].n > t + 1) A++;
            carve_step(&dr->step[t], a->mem, &off, cfg, A, t + 1, 0);
        }
    }
    dir_task_ctx ctx = {.a = a, .p = p};
    par_run(a->pool, num_dirs(cfg), dir_forward, &ctx);
    double L = 0.0; // the step losses in the one order: direction, step, type term, edge term
    for (int d = 0; d < num_dirs(cfg); d++)
        for (int t = 0; t < a->dir[d].nsteps; t++) {
            L += a->lane[d].ce[t];
            L += a->lane[d].bce[t];
        }
    a->loss = L;
    if (loss) *loss = L;
    return 0;
}

/* --------------------------------------------------------------- backward */
/* Scratch layout, sized for M = max_g*max_n rows and A = max_g graphs. */
typedef struct {
    float *dcarry, *dhin, *dhprop;  /* (M,C2) */
    float *dtop[2], *dmid, *dlow;   /* (M,C) */
    float *ws;                      /* mpass / gsum scratch */
    mpass_fold fg[2 * DEC_MAX_LAYERS]; /* folded-weight gradient accumulators, as a->fold.f */
    float *fgmem;
    float *ds, *dpre;               /* (M), (M,OC) */
    float *dq, *dxrest, *dz1, *dxinit, *dhnew; /* (A,OC) (A,WR) (A,OC) (A,WR) (A,C2) */
    float *dhG, *dhGi, *dlogits, *dan1, *dxan, *dcs; /* (A,D) (A,D) (A,K) (A,D) (A,2D) (A,D) */
} dec_scratch;

static size_t carve_scratch(dec_scratch *s, float *base, decoder_config cfg, int max_g, int max_n) {
    const size_t C2 = (size_t)cfg.C2, D = (size_t)cfg.D, K = (size_t)cfg.K;
    const size_t OC = C2 + D, WR = C2 + 2 * D, A = (size_t)max_g, M = A * (size_t)max_n;
    const int bidir = cfg.prop == DEC_PROP_BIDIR;
    const size_t C = bidir ? C2 : C2 / 2; // the width of one propagation stream
    size_t ms = bidir ? mpass_bidir_scratch_size((int)M, (int)C) : mpass_scratch_size((int)M, (int)C);
    size_t gs = gsum_scratch_size((int)M, (int)D), off = 0;
    s->dcarry = take(base, &off, M * C2);
    s->dhin = take(base, &off, M * C2);
    s->dhprop = take(base, &off, M * C2);
    s->dtop[0] = take(base, &off, M * C);
    s->dtop[1] = take(base, &off, M * C);
    s->dmid = take(base, &off, M * C);
    s->dlow = take(base, &off, M * C);
    s->ws = take(base, &off, ms > gs ? ms : gs);
    s->fgmem = take(base, &off, bidir ? 0 : 2 * (size_t)cfg.L * mpass_fold_size((int)C));
    for (int l = 0; l < 2 * cfg.L && base && !bidir; l++)
        mpass_fold_point(&s->fg[l], s->fgmem + l * mpass_fold_size((int)C), (int)C);
    s->ds = take(base, &off, M);
    s->dpre = take(base, &off, M * OC);
    s->dq = take(base, &off, A * OC);
    s->dxrest = take(base, &off, A * WR);
    s->dz1 = take(base, &off, A * OC);
    s->dxinit = take(base, &off, A * WR);
    s->dhnew = take(base, &off, A * C2);
    s->dhG = take(base, &off, A * D);
    s->dhGi = take(base, &off, A * D);
    s->dlogits = take(base, &off, A * K);
    s->dan1 = take(base, &off, A * D);
    s->dxan = take(base, &off, A * 2 * D);
    s->dcs = take(base, &off, A * D);
    return off;
}

size_t decoder_scratch_size(decoder_config cfg, int max_g, int max_n) {
    dec_scratch s;
    const size_t one = carve_scratch(&s, NULL, cfg, max_g, max_n);
    return num_dirs(cfg) == 2 ? 2 * one + decoder_param_count(cfg) : one;
}

/* Back through one step. On entry sc->dcarry (A, n+1, C2) holds dL/d(H after the step) for this
 * step's graphs; on exit sc->dhin (A*n, C2) holds dL/d(H before the step). */
static void step_backward(const decoder_acts *a, const dec_lane *ln, const decoder_params *g,
                          const decoder_params *p, const graph *gd, const dec_step *s, dec_scratch *sc) {
    const decoder_config cfg = a->cfg;
    const int C2 = cfg.C2, C = C2 / 2, D = cfg.D, K = cfg.K, OC = C2 + D, WR = C2 + 2 * D;
    const int A = s->A, n = s->n, M = A * n, LD1 = 2 * C2 + 2 * D;
    // (5) split the carried gradient: the first n rows of each graph, and h_new
    for (int i = 0; i < A; i++) {
        memcpy(sc->dhprop + (size_t)i * n * C2, sc->dcarry + (size_t)i * (n + 1) * C2,
               (size_t)n * C2 * sizeof(float));
        memcpy(sc->dhnew + (size_t)i * C2, sc->dcarry + ((size_t)i * (n + 1) + n) * C2,
               (size_t)C2 * sizeof(float));
    }
    zero(sc->dhG, (size_t)A * D);
    zero(sc->dhGi, (size_t)A * D);
    // (4) edge scorer
    if (n > 1) {
        const float w = a->w_edge / (float)a->B / (float)n; // the weights of this step (forward reused wbce)
        for (int v = 0; v < M; v++) ln->wbce[v] = w;
        zero(sc->ds, (size_t)M);
        bce_logits_backward(sc->ds, s->s, s->et, ln->wbce, 1.0f, M);
        zero(sc->dpre, (size_t)M * OC);
        linear_backward(sc->dpre, g->s2_w, g->s2_b, sc->ds, s->es1, p->s2_w, M, OC, 1);
        relu_mask(sc->dpre, s->es1, (size_t)M * OC);
        // W_u block: dW_u += dpre^T h, dh += dpre W_u
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C2, M, 1.0f, sc->dpre, OC, s->hprop,
                    C2, 1.0f, g->s1_w, LD1);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, C2, OC, 1.0f, sc->dpre, OC, p->s1_w,
                    LD1, 1.0f, sc->dhprop, C2);
        // the per-graph part q_g collects the gradient of all its candidate edges
        zero(sc->dq, (size_t)A * OC);
        for (int v = 0; v < M; v++)
            for (int o = 0; o < OC; o++) sc->dq[(size_t)(v / n) * OC + o] += sc->dpre[(size_t)v * OC + o];
        for (int i = 0; i < A; i++)
            for (int o = 0; o < OC; o++) g->s1_b[o] += sc->dq[(size_t)i * OC + o];
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, WR, A, 1.0f, sc->dq, OC, s->xrest,
                    WR, 1.0f, g->s1_w + C2, LD1);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, A, WR, OC, 1.0f, sc->dq, OC,
                    p->s1_w + C2, LD1, 0.0f, sc->dxrest, WR);
        add_cols(sc->dhnew, sc->dxrest, 0, C2, WR, A);
        add_cols(sc->dhG, sc->dxrest, C2, D, WR, A);
        add_cols(sc->dcs, sc->dxrest, C2 + D, D, WR, A);
    }
    // (3) NodeInit, regular path
    for (int i = 0; i < A; i++) ln->types[i] = gd[i].type[n];
    zero(sc->dz1, (size_t)A * OC);
    linear_backward(sc->dz1, g->init2_w, g->init2_b, sc->dhnew, s->z1, p->init2_w, A, OC, C2);
    relu_mask(sc->dz1, s->z1, (size_t)A * OC);
    zero(sc->dxinit, (size_t)A * WR);
    linear_backward(sc->dxinit, g->init_w, g->init_b, sc->dz1, s->xinit, p->init_w, A, WR, OC);
    for (int i = 0; i < A; i++) {
        float *e = g->emb + (size_t)ln->types[i] * C2;
        for (int k = 0; k < C2; k++) e[k] += sc->dxinit[(size_t)i * WR + k];
    }
    add_cols(sc->dhGi, sc->dxinit, C2, D, WR, A);
    add_cols(sc->dcs, sc->dxinit, C2 + D, D, WR, A);
    // (2) NodeAdd and the type loss
    zero(sc->dlogits, (size_t)A * K);
    crossentropy_backward(sc->dlogits, s->probs, ln->types, a->wce, 1.0f, A, K);
    zero(sc->dan1, (size_t)A * D);
    linear_backward(sc->dan1, g->an2_w, g->an2_b, sc->dlogits, s->an1, p->an2_w, A, D, K);
    relu_mask(sc->dan1, s->an1, (size_t)A * D);
    zero(sc->dxan, (size_t)A * 2 * D);
    linear_backward(sc->dxan, g->an_w, g->an_b, sc->dan1, s->xan, p->an_w, A, 2 * D, D);
    add_cols(sc->dhG, sc->dxan, 0, D, 2 * D, A);
    add_cols(sc->dcs, sc->dxan, D, D, 2 * D, A);
    // (1) readouts and propagation
    if (n == 1) {
        linear_backward(sc->dhprop, g->ge_f_w, g->ge_f_b, sc->dhG, s->hprop, p->ge_f_w, A, C2, D);
        linear_backward(sc->dhprop, g->gi_f_w, g->gi_f_b, sc->dhGi, s->hprop, p->gi_f_w, A, C2, D);
        memcpy(sc->dhin, sc->dhprop, (size_t)M * C2 * sizeof(float));
        return;
    }
    make_masks(ln, gd, A, n);
    gsum_backward(sc->dhprop, g->ge_f_w, g->ge_f_b, g->ge_g_w, g->ge_g_b, sc->ws, sc->dhG, s->gc,
                  s->hprop, p->ge_f_w, p->ge_g_w, ln->offsets, A, C2, D);
    gsum_backward(sc->dhprop, g->gi_f_w, g->gi_f_b, g->gi_g_w, g->gi_g_b, sc->ws, sc->dhGi, s->gci,
                  s->hprop, p->gi_f_w, p->gi_g_w, ln->offsets, A, C2, D);
    if (cfg.prop == DEC_PROP_BIDIR) { // down the layers: dhprop -> dmid -> dlow ... -> dhin
        const float *dout = sc->dhprop;
        float *buf[2] = {sc->dmid, sc->dlow};
        for (int l = cfg.L - 1; l >= 0; l--) {
            float *din = l == 0 ? sc->dhin : buf[(cfg.L - 1 - l) % 2];
            zero(din, (size_t)M * C2);
            mpass_bidir_backward(din, &g->bi[l], sc->ws, dout, s->cache[0][l], s->hs[0][l], ln->pred,
                                 ln->succ, ln->offsets, A, &p->bi[l], C2);
            dout = din;
        }
        return;
    }
    for (int v = 0; v < M; v++) {
        memcpy(sc->dtop[0] + (size_t)v * C, sc->dhprop + (size_t)v * C2, (size_t)C * sizeof(float));
        memcpy(sc->dtop[1] + (size_t)v * C, sc->dhprop + (size_t)v * C2 + C, (size_t)C * sizeof(float));
    }
    for (int st = 0; st < 2; st++) {
        const mpass_params *pl = st ? p->bwd : p->fwd, *gl = st ? g->bwd : g->fwd;
        const uint16_t *nbr = st ? ln->succ : ln->pred;
        const mpass_fold *fl = a->fold.f + st * cfg.L, *fgl = sc->fg + st * cfg.L;
        // down the layers: dtop -> dmid -> dlow -> dmid ... (ping-pong)
        float *dout = sc->dtop[st], *buf[2] = {sc->dmid, sc->dlow};
        for (int l = cfg.L - 1; l >= 0; l--) {
            float *din = buf[(cfg.L - 1 - l) % 2];
            zero(din, (size_t)M * C);
            mpass_backward(din, &gl[l], &fgl[l], sc->ws, dout, s->cache[st][l], s->hs[st][l], nbr,
                           ln->offsets, A, &pl[l], &fl[l], C);
            dout = din;
        }
        for (int v = 0; v < M; v++)
            memcpy(sc->dhin + (size_t)v * C2 + (size_t)st * C, dout + (size_t)v * C,
                   (size_t)C * sizeof(float));
    }
}

/* The context of the backward's tasks: direction d accumulates into grad[d] with scratch sc[d];
 * grad[1] views the second direction's buffer g1 (g1n floats, zeroed by its task). */
typedef struct {
    const decoder_acts *a;
    const decoder_params *p;
    decoder_params grad[2];
    float *g1;
    size_t g1n;
    dec_scratch sc[2];
} bwd_task_ctx;

/* Direction d of decoder_backward: every step from the last, then the start node. */
static void dir_backward(void *arg, int d) {
    bwd_task_ctx *ctx = arg;
    const decoder_acts *a = ctx->a;
    const decoder_params *p = ctx->p, *grad = &ctx->grad[d];
    const decoder_config cfg = a->cfg;
    const int C2 = cfg.C2, D = cfg.D, OC = C2 + D;
    dec_scratch *sc = &ctx->sc[d];
    if (d == 1) zero(ctx->g1, ctx->g1n);
    zero(sc->dcs, (size_t)a->B * D);
    if (cfg.prop != DEC_PROP_BIDIR) zero(sc->fgmem, 2 * (size_t)cfg.L * mpass_fold_size(C2 / 2));
    const dec_dir *dr = &a->dir[d];
    const graph *gd = a->gd + (size_t)d * a->max_g;
    if (!dr->A0) return;
    // nothing depends on the state after the last step
    const dec_step *last = &dr->step[dr->nsteps - 1];
    zero(sc->dcarry, (size_t)last->A * (last->n + 1) * C2);
    for (int t = dr->nsteps - 1; t >= 0; t--) {
        const dec_step *s = &dr->step[t];
        step_backward(a, &a->lane[d], grad, p, gd, s, sc);
        if (t == 0) break;
        // dL/dH_t for step t-1's graphs: this step's graphs, then zeros for those that ended
        const dec_step *pv = &dr->step[t - 1];
        const size_t have = (size_t)s->A * s->n * C2, need = (size_t)pv->A * s->n * C2;
        memcpy(sc->dcarry, sc->dhin, have * sizeof(float));
        zero(sc->dcarry + have, need - have);
    }
    // the start node
    const int A0 = dr->A0, st = d == 0 ? DEC_START_FWD : DEC_START_BWD;
    zero(sc->dz1, (size_t)A0 * OC);
    linear_backward(sc->dz1, grad->start2_w, grad->start2_b, sc->dhin, dr->zs, p->start2_w, A0, OC, C2);
    relu_mask(sc->dz1, dr->zs, (size_t)A0 * OC);
    zero(sc->dxinit, (size_t)A0 * OC);
    linear_backward(sc->dxinit, grad->start_w, grad->start_b, sc->dz1, dr->xstart, p->start_w, A0, OC, OC);
    for (int i = 0; i < A0; i++)
        for (int k = 0; k < C2; k++) grad->emb[(size_t)st * C2 + k] += sc->dxinit[(size_t)i * OC + k];
    add_cols(sc->dcs, sc->dxinit, C2, D, OC, A0);
}

/* grad[0] += grad[1], tensor by tensor; task h of 2 takes the h-th half of every tensor (elementwise
 * sums: any split gives the same bits). */
static void add_second_direction(void *arg, int h) {
    bwd_task_ctx *ctx = arg;
    const decoder_config cfg = ctx->a->cfg;
    size_t sizes[DEC_MAX_TENSORS];
    float **dst[DEC_MAX_TENSORS], **src[DEC_MAX_TENSORS];
    decoder_param_sizes(sizes, cfg);
    decoder_param_ptrs(&ctx->grad[0], dst, cfg);
    decoder_param_ptrs(&ctx->grad[1], src, cfg);
    for (int i = 0; i < decoder_num_tensors(cfg); i++) {
        float *x = *dst[i];
        const float *y = *src[i];
        for (size_t k = h * sizes[i] / 2; k < (h + 1) * sizes[i] / 2; k++) x[k] += y[k];
    }
}

/* Task st: the folded-weight gradients of stream st's layers (summed over both directions in
 * sc[0]) unfolded into grad[0]. */
static void unfold_stream(void *arg, int st) {
    bwd_task_ctx *ctx = arg;
    const decoder_config cfg = ctx->a->cfg;
    const decoder_params *grad = &ctx->grad[0], *p = ctx->p;
    for (int l = 0; l < cfg.L; l++)
        mpass_unfold_grad(st ? &grad->bwd[l] : &grad->fwd[l], &ctx->sc[0].fg[st * cfg.L + l],
                          st ? &p->bwd[l] : &p->fwd[l], cfg.C2 / 2);
}

void decoder_backward(const decoder_params *grad, float *dc, float *scratch, const decoder_acts *a,
                      const decoder_params *p) {
    const decoder_config cfg = a->cfg;
    const int C2 = cfg.C2, D = cfg.D, B = a->B, dirs = num_dirs(cfg);
    bwd_task_ctx ctx = {.a = a, .p = p, .grad = {*grad}};
    const size_t one = carve_scratch(&ctx.sc[0], scratch, cfg, a->max_g, a->max_n);
    if (dirs == 2) {
        carve_scratch(&ctx.sc[1], scratch + one, cfg, a->max_g, a->max_n);
        ctx.g1 = scratch + 2 * one;
        ctx.g1n = decoder_param_count(cfg);
        decoder_point_params(&ctx.grad[1], ctx.g1, cfg);
    }
    par_run(a->pool, dirs, dir_backward, &ctx);
    dec_scratch *sc = &ctx.sc[0];
    if (dirs == 2) { // the second direction's sums join the first's, in this order
        par_run(a->pool, 2, add_second_direction, &ctx);
        const size_t nf = cfg.prop == DEC_PROP_BIDIR ? 0 : 2 * (size_t)cfg.L * mpass_fold_size(C2 / 2);
        for (size_t k = 0; k < nf; k++) sc->fgmem[k] += ctx.sc[1].fgmem[k];
        for (size_t k = 0; k < (size_t)B * D; k++) sc->dcs[k] += ctx.sc[1].dcs[k];
    }
    if (cfg.prop != DEC_PROP_BIDIR) par_run(a->pool, 2, unfold_stream, &ctx);
    if (dc)
        for (int i = 0; i < B; i++)
            for (int k = 0; k < D; k++) dc[(size_t)a->order[i] * D + k] += sc->dcs[(size_t)i * D + k];
}
