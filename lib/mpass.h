/* mpass.h: one SVGe message-passing layer (formats/reference.md §3.2, `GNNLayer_forward/backward`),
 * forward and backward, in the style of lib/nn.h (plain float arrays, backward accumulates).
 *
 * PyG MessagePassing with aggr='add', one propagation direction. For an edge u -> v along that
 * direction the message is m_uv = W_msg [h_u ; h_v] + b (Linear 2C -> 2C, source first), the
 * node's input is a_v = sum over in-neighbours u of m_uv (zero if none), and the update is
 * h_v <- GRUCell(input a_v (2C), hidden h_v (C)). Every node is updated synchronously.
 *
 * No per-edge work: with W_msg = [W_s | W_t] split by columns,
 *     a_v = W_s (sum_u h_u) + deg(v) (W_t h_v + b)                        (reference §3.7)
 * i.e. a = Z W_msg^T + deg ⊗ b on the row-concatenation Z_v = [S_v ; deg(v) h_v] (2C), S_v the sum
 * of the in-neighbours' states, gathered with the graphs' bitmasks (≤ GRAPH_MAX_NODES per graph).
 *
 * Folding (exact algebra, different float rounding): the message map and the GRU's input map are
 * consecutive linear maps, so the GRU input pre-activation is
 *     gi = a W_ih^T + b_ih = Z Wf^T + deg ⊗ bf + b_ih,   Wf = W_ih W_msg (3C,2C), bf = W_ih b (3C)
 * which costs 12C^2 per node instead of 8C^2 + 12C^2, and a node without in-neighbours (Z_v = 0)
 * gets gi_v = b_ih with no product at all: only the rows with deg > 0 enter the GEMM. The folded
 * weights (mpass_fold) are computed once per parameter update (mpass_fold_compute, or a
 * mpass_foldset that recomputes only when the parameters changed). The backward accumulates the
 * gradient of the folded weights, Gw = sum dgi^T Z (3C,2C) and Gb = sum deg dgi (3C), over every call
 * of a batch; mpass_unfold_grad then turns them into the gradients of the real parameters:
 *     dW_ih += Gw W_msg^T + Gb b^T,  dW_msg += W_ih^T Gw,  db += W_ih^T Gb.
 *
 * The batch is node-major: graph g owns node rows offsets[g] .. offsets[g+1]-1, N = offsets[G].
 * nbr (N): bit j of nbr[v] set means local node j of v's graph (row offsets[g] + j) sends a message
 * to v. Along the edges this is the predecessor mask (graph_pred); against the edges (the
 * reference's edge_index[[1,0]]) it is the successor mask (graph.succ): the same layer on the
 * reversed graph. */
#ifndef SVGE_MPASS_H
#define SVGE_MPASS_H

#include <stddef.h>
#include <stdint.h>

#include "parallel.h"

/* The parameters of one layer, PyTorch layouts (state_dict names in brackets). */
typedef struct {
    float *msg_w;   /* (2C,2C) [msg.weight], columns 0..C-1 act on the source, C..2C-1 on the target */
    float *msg_b;   /* (2C)    [msg.bias] */
    float *upd_wih; /* (3C,2C) [upd.weight_ih], gate order r, z, n */
    float *upd_whh; /* (3C,C)  [upd.weight_hh] */
    float *upd_bih; /* (3C)    [upd.bias_ih] */
    float *upd_bhh; /* (3C)    [upd.bias_hh] */
} mpass_params;

#define MPASS_NUM_TENSORS 6
/* Element counts of the six tensors, in the order of the struct (= the state_dict order). */
void mpass_param_sizes(size_t sizes[MPASS_NUM_TENSORS], int C);
size_t mpass_param_count(int C); /* 4C^2 + 2C + 9C^2 + 6C = 13C^2 + 8C (204,125 for C=125) */

/* The folded input map of one layer, or (in the backward) the gradient accumulators Gw, Gb. */
typedef struct {
    float *w; /* (3C,2C) W_ih W_msg */
    float *b; /* (3C)    W_ih b_msg */
} mpass_fold;
size_t mpass_fold_size(int C); /* 6C^2 + 3C floats */
void mpass_fold_point(mpass_fold *f, float *mem, int C);
void mpass_fold_compute(mpass_fold *f, const mpass_params *p, int C);
/* grad's msg_w, msg_b, upd_wih += the gradients that the accumulators fg (Gw, Gb) stand for. */
void mpass_unfold_grad(const mpass_params *grad, const mpass_fold *fg, const mpass_params *p, int C);

/* Folded weights of L layers, recomputed only when a layer's W_msg, b_msg or W_ih differ (memcmp)
 * from the copy taken at the last computation: inference folds once, training once per step, and
 * a stale fold is impossible. */
#define MPASS_FOLDSET_MAX 16
typedef struct {
    int L, C;
    float *mem;           /* L folds, then L copies of [W_msg ; b_msg ; W_ih] */
    mpass_fold f[MPASS_FOLDSET_MAX];
    int frozen;           /* mpass_foldset_freeze: 1 = fold at the next update, then 2 = never again */
} mpass_foldset;
size_t mpass_foldset_floats(int L, int C);
/* Point fs at mem (mpass_foldset_floats(L,C) floats, which it zeroes); L <= MPASS_FOLDSET_MAX. */
void mpass_foldset_point(mpass_foldset *fs, float *mem, int L, int C);
/* Make fs->f[l] the fold of *layers[l] for l < L. */
void mpass_foldset_update(mpass_foldset *fs, const mpass_params *const *layers);
/* The same, a task per layer on pool (lib/parallel.h; the layers are independent). */
void mpass_foldset_update_on(mpass_foldset *fs, const mpass_params *const *layers, par_pool *pool);
/* The parameters will not change any more (a model that only encodes or decodes): the next update
 * folds as usual, later ones return at once, without comparing the 10C^2 + 2C floats of each layer
 * (2.5 MB for the reference's NB101 encoder, per batch). */
void mpass_foldset_freeze(mpass_foldset *fs);

/* The state_dict names of the six tensors of layer l of a stream, "<prefix>GNNLayers_forward.<l>.msg.weight"
 * etc. (dir 0 forward, 1 backward; k in tensor order): persistent strings for prefix 0
 * "Encoder.NodeEmb." and 1 "Decoder.generator.prop.NodeEmb.", l < MPASS_MAX_NAMED_LAYERS. */
#define MPASS_MAX_NAMED_LAYERS 8
const char *mpass_param_name(int prefix, int dir, int l, int k);

/* Cache saved by the forward: the compacted Z rows (≤ N,2C), then the GRU cache (act, gh). */
size_t mpass_cache_size(int N, int C);
size_t mpass_scratch_size(int N, int C);

/* hout (N,C) must not alias h (N,C). nbr (N), offsets (G+1). cache: mpass_cache_size(N,C).
 * f: the fold of p (mpass_fold_compute). */
void mpass_forward(float *hout, float *cache, const float *h, const uint16_t *nbr,
                   const int *offsets, int G, const mpass_params *p, const mpass_fold *f, int C);
/* The same layer when every input state is a row of a table, h_v = E[types[v]] (the encoder's
 * first layer: the node-type embedding): every product is taken once per table row instead of once
 * per node, TS = E Wf_s^T, TT = E Wf_t^T (K,3C) and TR = E W_hh^T + b_hh (K,3C), and a node's
 * pre-activations are sums of table rows, gi_v = sum_u TS[t_u] + deg(v) (TT[t_v] + bf) + b_ih,
 * gh_v = TR[t_v]. Equal to mpass_forward on h up to float rounding, and it leaves the same cache,
 * so mpass_backward follows it unchanged (with for_backward 0 the cache's Z rows, which only the
 * backward reads, are not gathered). h (N,C) must hold the table rows (the GRU and the backward
 * read it); types (N) in [0,K); E (K,C); scratch: mpass_table_scratch_size(K,C). */
size_t mpass_table_scratch_size(int K, int C);
void mpass_forward_table(float *hout, float *cache, float *scratch, const float *h,
                         const int *types, const float *E, int K, const uint16_t *nbr,
                         const int *offsets, int G, const mpass_params *p, const mpass_fold *f,
                         int C, int for_backward);
/* dh (N,C) += dL/dh (may be NULL). Gradients accumulate (+=): grad->upd_whh, upd_bih, upd_bhh
 * directly (grad or any of them may be NULL; its msg_w, msg_b, upd_wih are NOT touched), and the
 * folded-weight accumulators fg->w, fg->b (fg may be NULL): call mpass_unfold_grad once after the
 * last backward of the batch. dhout (N,C); cache as filled by mpass_forward with the same h, nbr,
 * params. scratch: mpass_scratch_size(N,C). */
void mpass_backward(float *dh, const mpass_params *grad, const mpass_fold *fg, float *scratch,
                    const float *dhout, const float *cache, const float *h, const uint16_t *nbr,
                    const int *offsets, int G, const mpass_params *p, const mpass_fold *f, int C);

/* ---- DGMG's bidirectional single-stream layer (`GNNLayer` of the reference's DGMG.py) ----
 * PyG MessagePassing (aggr 'add') over the edge list concatenated with its reverse; messages of the
 * first half (original edges u -> v) are msg([h_u ; h_v]) (Linear 2C -> 2C), of the second half
 * (the reversed copies v -> u: source v, target u) msg_rev([h_v ; h_u]), all summed at their
 * target, then h <- GRUCell(input 2C, hidden C). Node x therefore receives
 *     a_x = W_s  sum_{u in pred(x)} h_u + indeg(x)  (W_t  h_x + b)
 *         + W'_s sum_{y in succ(x)} h_y + outdeg(x) (W'_t h_x + b')
 * with msg = [W_s | W_t], msg_rev = [W'_s | W'_t] split by columns (source | target), evaluated
 * densely: Zf_x = [sum_pred h ; indeg h_x], Zr_x = [sum_succ h ; outdeg h_x] (2C each) and
 * a = Zf msg_w^T + Zr rev_w^T + indeg ⊗ b + outdeg ⊗ b' (two GEMMs, no per-edge work). No folding:
 * the two message maps feed one GRU input, so the fold would save nothing. */
typedef struct {
    float *msg_w;   /* (2C,2C) [msg.weight], columns [source | target] */
    float *msg_b;   /* (2C)    [msg.bias] */
    float *rev_w;   /* (2C,2C) [msg_rev.weight] */
    float *rev_b;   /* (2C)    [msg_rev.bias] */
    float *upd_wih; /* (3C,2C) [upd.weight_ih] */
    float *upd_whh; /* (3C,C)  [upd.weight_hh] */
    float *upd_bih; /* (3C)    [upd.bias_ih] */
    float *upd_bhh; /* (3C)    [upd.bias_hh] */
} mpass_bidir_params;

#define MPASS_BIDIR_TENSORS 8
/* Element counts of the eight tensors (struct order = state_dict order) for state width C. */
void mpass_bidir_param_sizes(size_t sizes[MPASS_BIDIR_TENSORS], int C);
/* Pointers to b's fields in tensor order. */
void mpass_bidir_param_ptrs(mpass_bidir_params *b, float **ptrs[MPASS_BIDIR_TENSORS]);
/* "<prefix>GNNLayers.<l>.msg_rev.weight" etc. (prefix 0 "Encoder.NodeEmb.", 1
 * "Decoder.generator.prop.NodeEmb."), persistent strings, l < MPASS_MAX_NAMED_LAYERS; NULL if out
 * of range. */
const char *mpass_bidir_param_name(int prefix, int l, int k);
size_t mpass_bidir_cache_size(int N, int C);   /* Zf, Zr, a (N,2C each), GRU cache */
size_t mpass_bidir_scratch_size(int N, int C); /* da, dZf, dZr, GRU scratch */
/* hout (N,C) (not aliasing h). pred, succ (N): local bitmasks of predecessors and successors of
 * each node within its graph (graph g owns rows offsets[g]..offsets[g+1]-1), see lib/mpass.h. */
void mpass_bidir_forward(float *hout, float *cache, const float *h, const uint16_t *pred,
                  const uint16_t *succ, const int *offsets, int G, const mpass_bidir_params *p, int C);
/* dh (N,C) += dL/dh (may be NULL); grad (may be NULL) fields accumulated. */
void mpass_bidir_backward(float *dh, const mpass_bidir_params *grad, float *scratch, const float *dhout,
                   const float *cache, const float *h, const uint16_t *pred, const uint16_t *succ,
                   const int *offsets, int G, const mpass_bidir_params *p, int C);

#endif
