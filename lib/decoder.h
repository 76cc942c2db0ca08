/* decoder.h: the decoder model (formats/reference.md §3.3, `GNNDecoder`, `Generator`): its
 * parameters, the generator step, and the teacher-forced loss with its backward, llm.c style
 * (parameters in one contiguous float array viewed through a struct of named pointers, backward
 * accumulates). Generation from latent points (inference) is lib/generate.h; it runs the same step
 * through the building blocks at the end of this header.
 *
 * The decoder is generic over its propagation (decoder_config.prop), the one thing in which SVGe's
 * decoder and the DGMG baseline's (lib/dgmg.h) differ: SVGe's two streams (L forward layers on
 * the first half of every state along the edges, L backward layers on the other half against them,
 * lib/mpass.h mpass_*) or DGMG's L bidirectional single-stream layers (mpass_bidir_*). Everything
 * else (the unroll, the step carving, the heads, the losses, their backward) is shared.
 *
 * SVGe's Generator (one set of weights) decodes every graph twice: along its node order ("forward
 * direction") and along the reversed graph ("backward direction": node i -> n-1-i, edges flipped,
 * types reversed); DGMG's only forward (decoder_config.forward_only). With C2 the full node state
 * (ndim, 250), C = C2/2, D the latent size (56), two streams:
 *
 *   start:  H = [ f_start_2(relu(f_start([NodeInits[s] ; c]))) ]      s = 1 (fwd) or 0 (bwd)
 *   step t = 0 .. n-2 (n = the graph's node count; H holds nodes 0..t):
 *     (1) if t = 0: h_G = GraphEmb.f_m(h_0), h_G_init = GraphEmb_init.f_m(h_0)   (no gate)
 *         else: H <- [L fwd layers on H[:, :C] along the edges ; L bwd layers on H[:, C:] against
 *               them] (L = gnn_iteration_layers, the reference's 2) over the induced subgraph on
 *               nodes 0..t (lib/mpass.h; bidirectional: L mpass_bidir layers on the whole H); the
 *               propagated states replace H (carried); h_G, h_G_init = the two gated-sum
 *               readouts of H (lib/nn.h)
 *     (2) type logits = f_an_2(relu(f_an([h_G ; c])))                          (K)
 *     (3) h_new = f_init_2(relu(f_init([NodeInits[type_{t+1}] ; h_G_init ; c])))  (teacher type)
 *     (4) if t > 0: s_u = f_s_2(relu(f_s_1([h_u ; h_new ; h_G ; c]))), u = 0..t, every graph with
 *         ITS OWN h_G and c (the reference's batch misalignment, §8 bug 1, is fixed). f_s_1 is
 *         split by columns so that W_r [h_new ; h_G ; c] + b is computed once per graph.
 *     (5) H <- [H ; h_new]
 *   step loss = w_type CE(logits, type_{t+1}) + w_edge mean_u BCEwithLogits(s_u, e_{u,t+1}) (only CE
 *   at t = 0); w_type = 2(1 - alpha), w_edge = 2 alpha, the reference's alpha = 0.5 giving 1 and 1.
 *   loss = (1/B) sum over graphs, directions (one if forward_only) and the graph's n-1 steps.
 * Steps past a graph's end are masked in the reference (loss x 0); here they are simply not
 * computed: graphs are processed in order of decreasing size, so the graphs still active at step t
 * are a prefix and every one of them has exactly t+1 nodes (the state is (A_t, t+1, C2)). */
#ifndef SVGE_DECODER_H
#define SVGE_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "mpass.h"
#include "parallel.h"
#include "rng.h"

#define DEC_MAX_LAYERS MPASS_MAX_NAMED_LAYERS /* gnn_iteration_layers per direction, 1..8 */
#define DEC_MAX_STEPS (GRAPH_MAX_NODES - 1) /* steps of one direction */
/* 2L layers of 6 tensors, then 2 readouts of 4, nodeAdd 4, nodeInit 9, nodes 4 */
#define DEC_HEAD_TENSORS (8 + 4 + 9 + 4)
#define DEC_MAX_TENSORS (2 * DEC_MAX_LAYERS * MPASS_NUM_TENSORS + DEC_HEAD_TENSORS)
#define DEC_START_FWD 1 /* START_TYPE: the forward decoding starts from an input node */
#define DEC_START_BWD 0 /* END_TYPE: the backward decoding starts from an output node */

/* The propagation over the partial graph, the one part in which the decoders differ. */
typedef enum {
    DEC_PROP_TWO_STREAM = 0, /* SVGe: L forward layers on the first C2/2 of every state along the
                              * edges, L backward layers on the other half against them (mpass) */
    DEC_PROP_BIDIR = 1,      /* DGMG: L bidirectional layers on the whole state (mpass_bidir) */
} decoder_prop;

typedef struct {
    int K;  /* node types (num_node_atts), >= 2 */
    int C2; /* full node state (ndim), even; each two-stream half holds C2/2 */
    int D;  /* latent size (gdim) */
    int L;  /* propagation layers (per direction for two streams; reference 2), 1..DEC_MAX_LAYERS */
    decoder_prop prop;
    int forward_only; /* 1: the teacher-forced loss has the forward direction only (DGMG) */
} decoder_config;

int decoder_num_tensors(decoder_config cfg); /* 49 at the reference's L = 2, two streams */

/* Field order = tensor order = state_dict order of SVGE.Decoder (see decoder_param_name).
 * Prefix of every name: "Decoder.generator.". OC = C2+D. */
typedef struct {
    mpass_params fwd[DEC_MAX_LAYERS]; /* two streams: prop.NodeEmb.GNNLayers_forward.<i>.*, i < L (C = C2/2) */
    mpass_params bwd[DEC_MAX_LAYERS]; /* two streams: prop.NodeEmb.GNNLayers_backward.<i>.* */
    mpass_bidir_params bi[DEC_MAX_LAYERS]; /* bidirectional: prop.NodeEmb.GNNLayers.<i>.* (C = C2) */
    float *ge_f_w, *ge_f_b;       /* (D,C2) (D)  prop.GraphEmb.f_m */
    float *ge_g_w, *ge_g_b;       /* (1,C2) (1)  prop.GraphEmb.g_m */
    float *gi_f_w, *gi_f_b;       /* (D,C2) (D)  prop.GraphEmb_init.f_m */
    float *gi_g_w, *gi_g_b;       /* (1,C2) (1)  prop.GraphEmb_init.g_m */
    float *an_w, *an_b;           /* (D,2D) (D)  nodeAdd.f_an */
    float *an2_w, *an2_b;         /* (K,D) (K)   nodeAdd.f_an_2 */
    float *emb;                   /* (K,C2)      nodeInit.NodeInits.weight */
    float *init_w, *init_b;       /* (OC,C2+2D) (OC) nodeInit.f_init */
    float *init2_w, *init2_b;     /* (C2,OC) (C2)    nodeInit.f_init_2 */
    float *start_w, *start_b;     /* (OC,OC) (OC)    nodeInit.f_start */
    float *start2_w, *start2_b;   /* (C2,OC) (C2)    nodeInit.f_start_2 */
    float *s1_w, *s1_b;           /* (OC,2C2+2D) (OC) nodes.f_s_1, columns [h_u | h_new | h_G | c] */
    float *s2_w, *s2_b;           /* (1,OC) (1)      nodes.f_s_2 */
} decoder_params;

void decoder_param_sizes(size_t sizes[DEC_MAX_TENSORS], decoder_config cfg);
/* The tensors' PyTorch shapes: ndim[i] (1 or 2), shape[i][0..ndim-1] (shape[i][1] = 0 if 1-d). */
void decoder_param_shapes(int *ndim, uint64_t (*shape)[2], decoder_config cfg);
/* Full state_dict name of tensor i, e.g. "Decoder.generator.nodes.f_s_1.weight"; NULL if out of range. */
const char *decoder_param_name(int i, decoder_config cfg);
/* Two streams: 1,399,382 / 1,399,996 / 1,400,303 for K = 5 / 7 / 8, C2 = 250, D = 56, L = 2. */
size_t decoder_param_count(decoder_config cfg);
/* Point p's fields (those of cfg's propagation; the others NULL) into mem, in tensor order. */
void decoder_point_params(decoder_params *p, float *mem, decoder_config cfg);
void decoder_param_ptrs(decoder_params *p, float **ptrs[DEC_MAX_TENSORS], decoder_config cfg);
/* PyTorch defaults: Linear weight and bias U(±1/sqrt(fan_in)), GRUCell U(±1/sqrt(hidden)),
 * Embedding N(0,1); our draw order (tensors in state_dict order, elements row-major), as encoder_init. */
void decoder_init(const decoder_params *p, decoder_config cfg, rng_mt *r);

/* ---- activations of one step (pointers into the arena; see decoder.c) ---- */
typedef struct {
    int A, n;                            /* active graphs, existing nodes (= t+1); M = A*n rows */
    float *hin;                          /* (M,C2) states before propagation */
    float *hs[2][DEC_MAX_LAYERS + 1];    /* n>1: stream s (0 fwd, 1 bwd) input (M,C) and after each layer;
                                          * bidirectional: hs[0][0] = hin, hs[0][l+1] (M,C2) */
    float *cache[2][DEC_MAX_LAYERS];     /* n>1: layer caches (mpass, mpass_bidir) */
    float *hprop;                        /* (M,C2) propagated states (= hin when n == 1) */
    float *gc, *gci;                     /* n>1: gsum caches of GraphEmb, GraphEmb_init */
    float *hG, *hGi;                     /* (A,D) */
    float *xan, *an1, *logits, *probs;   /* (A,2D) (A,D) post-ReLU, (A,K) (A,K) */
    float *xinit, *z1, *hnew;            /* (A,C2+2D) (A,OC) post-ReLU, (A,C2) */
    float *xrest, *q, *es1, *s, *et;     /* n>1: (A,C2+2D) (A,OC) (M,OC) post-ReLU, (M) logits, (M) targets */
} dec_step;

typedef struct {
    int A0, nsteps;           /* graphs with >= 2 nodes, steps (max n - 1) */
    float *xstart, *zs;       /* (A0,OC) [NodeInits[s] ; c], (A0,OC) post-ReLU */
    dec_step step[DEC_MAX_STEPS];
} dec_dir;

/* What one direction's forward and backward write besides its activations: the two directions
 * run as separate tasks (lib/parallel.h), each with its own lane. */
typedef struct {
    int *types, *offsets;     /* (max_g), (max_g+1) scratch */
    uint16_t *pred, *succ;    /* (max_g*max_n) scratch neighbour masks */
    float *wbce;              /* (max_g*max_n) edge loss weights */
    double ce[DEC_MAX_STEPS], bce[DEC_MAX_STEPS]; /* the last forward's step losses */
} dec_lane;

/* Threads: with a pool (field pool, not owned; NULL = none), decoder_forward and decoder_backward
 * run the two directions as two tasks. Each direction writes only its own activations, lane,
 * scratch and (backward) gradient buffer; the step losses are summed, and the second direction's
 * gradients added to the first's, in one fixed order afterwards, so every thread count gives the
 * same bits. */
typedef struct {
    decoder_config cfg;
    int max_g, max_n;         /* capacity: graphs, nodes per graph */
    int B;                    /* graphs of the last forward */
    float *mem;               /* the float arena */
    size_t mem_size;
    int *order;               /* (max_g) rank (decreasing size, stable) -> batch index */
    graph *gd;                /* (2*max_g) graph of rank i in direction d at gd[d*max_g + i] */
    float *cs;                /* (max_g,D) c in rank order */
    float *wce;               /* (max_g) type loss weights */
    dec_lane lane[2];         /* per direction */
    par_pool *pool;
    dec_dir dir[2];
    double loss;
    float w_type, w_edge;     /* step loss weights of CE(type) and mean BCE(edges): 1, 1 (set by init) */
    mpass_foldset fold;       /* folded propagation weights (decoder_fold_update) */
    float *fold_mem;
} decoder_acts;

/* Allocate activations for batches of up to max_g graphs of up to max_n nodes. 0, or -1. */
int decoder_acts_init(decoder_acts *a, decoder_config cfg, int max_g, int max_n);
void decoder_acts_free(decoder_acts *a);

/* Teacher-forced loss of B graphs gs with latents c (B,D). Every graph needs n <= max_n and types
 * in [0,K); graphs with fewer than 2 nodes contribute nothing. Returns 0 and stores the loss in
 * *loss (and a->loss), or -1 on a capacity or type error. */
int decoder_forward(decoder_acts *a, const decoder_params *p, const graph *gs, const float *c, int B,
                    double *loss);

/* Floats of decoder_backward's scratch: per direction its own working buffers, and for the second
 * direction a gradient buffer of decoder_param_count floats. */
size_t decoder_scratch_size(decoder_config cfg, int max_g, int max_n);
/* Accumulate (+=) dloss/dparams into grad (every field set) and dloss/dc into dc (B,D) (may be
 * NULL), for the last decoder_forward on a (same p). scratch: decoder_scratch_size floats. The
 * first direction accumulates into grad, the second into its own zeroed buffer, which is then
 * added: the same sums whatever the thread count. */
void decoder_backward(const decoder_params *grad, float *dc, float *scratch, const decoder_acts *a,
                      const decoder_params *p);

/* ---- generation building blocks (inference, lib/generate.c) ----
 * The same generator step as decoder_forward, in pieces, so that inference chooses each new node's
 * type between computing the logits and the new node (shared code: a generated graph replayed
 * under teacher forcing gives the same step logits). One dec_step with A graphs of n nodes each:
 * the caller folds the weights (decoder_fold_update), fills s->hin (A*n, C2), runs
 * decoder_step_logits (propagation into s->hprop, readouts
 * s->hG/s->hGi, type logits s->logits (A,K)), picks types, then decoder_step_node (s->hnew (A,C2)
 * and, if n > 1, edge logits s->s (A*n): row i*n+u scores the edge u -> n of graph i). */
size_t decoder_step_size(decoder_config cfg, int A, int n); /* floats of one step's buffers */
/* The folded propagation weights (lib/mpass.h) of the 2L layers, f[l] = fwd[l] and
 * f[L + l] = bwd[l]: decoder_fold_floats floats for decoder_fold_point; decoder_fold_update
 * refolds only what changed since its last call (decoder_forward does this itself). */
size_t decoder_fold_floats(decoder_config cfg);
void decoder_fold_point(mpass_foldset *fs, float *mem, decoder_config cfg);
void decoder_fold_update(mpass_foldset *fs, const decoder_params *p);
void decoder_step_carve(dec_step *s, float *mem, decoder_config cfg, int A, int n);
/* h0 (A,C2) = the start node's state for start_type (DEC_START_FWD or DEC_START_BWD); cs (A,D);
 * xstart, zs: (A,C2+D) each, scratch. */
void decoder_start_state(float *h0, float *xstart, float *zs, const decoder_params *p,
                         decoder_config cfg, int start_type, const float *cs, int A);
/* cs (A,D); for n > 1: pred, succ (A*n) neighbour masks of the induced subgraphs on nodes 0..n-1
 * (local bit j = node j of the same graph), offsets (A+1) = i*n (see lib/mpass.h); unused if n == 1. */
void decoder_step_logits(dec_step *s, const decoder_params *p, const mpass_foldset *fold,
                         decoder_config cfg, const float *cs, const uint16_t *pred,
                         const uint16_t *succ, const int *offsets);
/* types (A) in [0,K): the new node's type per graph; cs (A,D). */
void decoder_step_node(dec_step *s, const decoder_params *p, decoder_config cfg, const int *types,
                       const float *cs);

#endif
