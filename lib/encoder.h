/* encoder.h: the SVGe encoder (formats/reference.md §3.2, `GNNEncoder`), forward and backward, llm.c
 * style: all parameters in one contiguous float array viewed through a struct of named pointers,
 * activations likewise, sized for a maximum node and graph count.
 *
 *   h0 = NodeInit[type]                                    (N,C)   Embedding(K,C)
 *   forward stream:  hf = layer_f1(layer_f0(h0)) along the edges        (N,C)
 *   backward stream: hb = layer_b1(layer_b0(h0)) against the edges      (N,C)
 *   h = [hf ; hb]                                          (N,2C)
 *   mu = gsum_mean(h), logvar = gsum_var(h)                (G,D)   two separate readouts
 * with the layers of lib/mpass.h and the gated-sum readout of lib/nn.h. Reference dims: C = 125
 * (ndim/2), D = 56, K = 5 (NB101), 7 (NB201), 8 (ENAS); the two streams never interact.
 *
 * A minibatch is node-major (encoder_batch): graph g owns node rows offsets[g]..offsets[g+1]-1. */
#ifndef SVGE_ENCODER_H
#define SVGE_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "mpass.h"
#include "parallel.h"
#include "rng.h"

#define ENC_MAX_LAYERS MPASS_MAX_NAMED_LAYERS /* gnn_iteration_layers: layers per direction, 1..8 */
/* 1 embedding + 2L layers of 6 tensors + 2 readouts of 4 tensors */
#define ENC_MAX_TENSORS (1 + 2 * ENC_MAX_LAYERS * MPASS_NUM_TENSORS + 8)
int encoder_num_tensors(int L); /* 33 at the reference's L = 2 */

typedef struct {
    int K; /* node types (num_node_atts) */
    int C; /* node state per stream (ndim/2) */
    int D; /* latent size (gdim) */
    int L; /* message-passing layers per direction (gnn_iteration_layers, reference 2), 1..ENC_MAX_LAYERS */
} encoder_config;

/* Field order = tensor order = PyTorch state_dict order of SVGE.Encoder (see encoder_param_name). */
typedef struct {
    float *node_init;         /* (K,C)  Encoder.NodeEmb.NodeInit.weight */
    mpass_params fwd[ENC_MAX_LAYERS]; /* Encoder.NodeEmb.GNNLayers_forward.<i>.{msg,upd}.*, i < L */
    mpass_params bwd[ENC_MAX_LAYERS]; /* Encoder.NodeEmb.GNNLayers_backward.<i>.{msg,upd}.* */
    float *mean_f_w;          /* (D,2C) Encoder.GraphEmb_mean.f_m.weight */
    float *mean_f_b;          /* (D)    Encoder.GraphEmb_mean.f_m.bias */
    float *mean_g_w;          /* (1,2C) Encoder.GraphEmb_mean.g_m.weight */
    float *mean_g_b;          /* (1)    Encoder.GraphEmb_mean.g_m.bias */
    float *var_f_w;           /* (D,2C) Encoder.GraphEmb_var.f_m.weight */
    float *var_f_b;           /* (D)    Encoder.GraphEmb_var.f_m.bias */
    float *var_g_w;           /* (1,2C) Encoder.GraphEmb_var.g_m.weight */
    float *var_g_b;           /* (1)    Encoder.GraphEmb_var.g_m.bias */
} encoder_params;

/* Element count of each tensor, in order. */
void encoder_param_sizes(size_t sizes[ENC_MAX_TENSORS], encoder_config cfg);
/* The PyTorch state_dict name of tensor i (0 <= i < encoder_num_tensors(L)) of an encoder with L
 * layers per direction, e.g. "Encoder.NodeEmb.GNNLayers_backward.1.upd.weight_hh"; NULL if out of range. */
const char *encoder_param_name(int i, int L);
/* Total parameter count: 845,739 / 845,989 / 846,114 for K = 5 / 7 / 8, C = 125, D = 56, L = 2. */
size_t encoder_param_count(int K, int C, int D, int L);
/* Point p's fields into mem (encoder_param_count floats), in tensor order. */
void encoder_point_params(encoder_params *p, float *mem, encoder_config cfg);
/* Pointers to the struct's fields in tensor order (for generic loops, like llm.c's ptrs[]), L layers. */
void encoder_param_ptrs(encoder_params *p, float **ptrs[ENC_MAX_TENSORS], int L);

/* PyTorch default initialisation: Linear weight and bias U(±1/sqrt(fan_in)), GRUCell all
 * U(±1/sqrt(C)), Embedding N(0,1). The distributions are PyTorch's; the draw order is OURS
 * (tensors in state_dict order, elements row-major, one rng_double or rng_gauss per element), so
 * the values do not match a torch.manual_seed run. p must point into its memory. */
void encoder_init(const encoder_params *p, encoder_config cfg, rng_mt *r);

/* ---- a node-major minibatch ---- */
typedef struct {
    int G, N;          /* graphs, nodes */
    int max_n, max_g;  /* capacity */
    int *offsets;      /* (G+1) first node row of each graph, offsets[G] = N */
    int *types;        /* (N) node type in [0,K) */
    uint16_t *pred;    /* (N) in-neighbours along the edges, local indices */
    uint16_t *succ;    /* (N) in-neighbours against the edges = successors */
} encoder_batch;

int encoder_batch_init(encoder_batch *b, int max_n, int max_g); /* 0, or -1 if out of memory */
void encoder_batch_free(encoder_batch *b);
/* Pack G graphs. Returns 0, or -1 if over capacity or a type is not in [0,K) (b left empty). */
int encoder_batch_pack(encoder_batch *b, const graph *gs, int G, int K);

/* ---- activations, sized for max_n nodes and max_g graphs ---- */
typedef struct {
    float *h0;                       /* (N,C) initial embedding */
    float *hf[ENC_MAX_LAYERS];       /* (N,C) forward-stream state after layer i < L */
    float *hb[ENC_MAX_LAYERS];       /* (N,C) backward-stream state after layer i */
    float *cf[ENC_MAX_LAYERS];       /* mpass caches */
    float *cb[ENC_MAX_LAYERS];
    float *h;                        /* (N,2C) node embedding [hf ; hb] */
    float *gmean, *gvar;             /* gsum caches, gsum_cache_size(N,D) each */
    float *mu, *logvar;              /* (G,D) the outputs */
    mpass_foldset fold;              /* folded layer weights: fwd[0..L-1], then bwd[0..L-1] */
    float *table, *table2;           /* mpass_forward_table's scratch, one per stream */
    float *memo;                     /* encoder_forward_eval's signature tables */
    int memo_cap;
    par_pool *pool;                  /* not owned; NULL = no threads (see encoder_forward) */
} encoder_acts;

size_t encoder_acts_size(encoder_config cfg, int max_n, int max_g);
void encoder_point_acts(encoder_acts *a, float *mem, encoder_config cfg, int max_n, int max_g);
/* Scratch floats encoder_backward needs for a batch of up to max_n nodes. */
size_t encoder_scratch_size(encoder_config cfg, int max_n);

/* Encode b into a->mu, a->logvar (and the caches). b must fit the acts' capacity. With a->pool,
 * the two streams run as two tasks, then the two readouts as two (lib/parallel.h); each writes
 * only its own outputs, so the result is the same bits for every thread count. */
void encoder_forward(encoder_acts *a, const encoder_params *p, const encoder_batch *b,
                     encoder_config cfg);
/* The same for inference, when no backward follows: the first two layers are memoised by node
 * signature (see encoder.c), so a->mu equals encoder_forward's up to float rounding; the caches are
 * left as scratch, and the log-variance readout runs only if want_logvar (a->logvar is left as it
 * was otherwise). */
void encoder_forward_eval(encoder_acts *a, const encoder_params *p, const encoder_batch *b,
                          encoder_config cfg, int want_logvar);
/* Accumulate (+=) the parameter gradients into grad, given dmu, dlogvar (G,D) (either may be NULL
 * for zero). a must hold encoder_forward's result for the same p and b. Tasks (with a->pool): the
 * two readouts, each into its own node gradient, then the two streams, each from the sum of those
 * and into its own gradient of the initial states, which are added in a fixed order. */
void encoder_backward(const encoder_params *grad, float *scratch, const float *dmu,
                      const float *dlogvar, const encoder_acts *a, const encoder_params *p,
                      const encoder_batch *b, encoder_config cfg);

#endif
