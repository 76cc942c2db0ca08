/* mpass.h: one SVGe message-passing layer (svge-reference.md §3.2, `GNNLayer_forward/backward`),
 * forward and backward, in the style of lib/nn.h (plain float arrays, backward accumulates).
 *
 * PyG MessagePassing with aggr='add', one propagation direction. For an edge u -> v along that
 * direction the message is m_uv = W_msg [h_u ; h_v] + b (Linear 2C -> 2C, source first), the
 * node's input is a_v = sum over in-neighbours u of m_uv (zero if none), and the update is
 * h_v <- GRUCell(input a_v (2C), hidden h_v (C)). Every node is updated synchronously.
 *
 * No per-edge work: with W_msg = [W_s | W_t] split by columns,
 *     a_v = W_s (sum_u h_u) + deg(v) (W_t h_v + b)                        (reference §3.7)
 * which we evaluate as ONE GEMM over all N nodes on the row-concatenation
 *     Z_v = [S_v ; deg(v) h_v]  (2C),   a = Z W_msg^T + deg ⊗ b,
 * i.e. S W_s^T + (deg ⊙ H) W_t^T + deg ⊗ b, the same identity with the deg scaling moved onto
 * the rows of H (deg ⊙ (H W_t^T) = (deg ⊙ H) W_t^T). S_v is the sum of the in-neighbours'
 * states, gathered with the graphs' bitmasks (at most GRAPH_MAX_NODES nodes per graph).
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

/* Cache saved by the forward: Z (N,2C), then a (N,2C) (the GRU input), then the GRU cache. */
size_t mpass_cache_size(int N, int C);
size_t mpass_scratch_size(int N, int C);

/* hout (N,C) must not alias h (N,C). nbr (N), offsets (G+1). cache: mpass_cache_size(N,C). */
void mpass_forward(float *hout, float *cache, const float *h, const uint16_t *nbr,
                   const int *offsets, int G, const mpass_params *p, int C);
/* dh (N,C) += dL/dh (may be NULL); every non-NULL pointer of grad is accumulated into (grad itself
 * may be NULL). dhout (N,C); cache as filled by mpass_forward with the same h, nbr, params.
 * scratch: mpass_scratch_size(N,C). */
void mpass_backward(float *dh, const mpass_params *grad, float *scratch, const float *dhout,
                    const float *cache, const float *h, const uint16_t *nbr, const int *offsets,
                    int G, const mpass_params *p, int C);

#endif
