/* cellnet_internal.h: what the parts of the cellnet executor share inside the library (callers use
 * cellnet.h): a node's plane size, the fixed split of a layer's work into tasks, how a conv node
 * is unrolled into im2col chunks (cellnet_plan.c sizes the scratch for it, cellnet_conv.c runs it)
 * and where each task's scratch lies.
 *
 * Threads. Every layer's work is cut into CELLNET_TASKS tasks whatever the thread count (task i
 * runs on thread i % T of net->pool, parallel.h): slices of the batch's images for most layers,
 * slices of the channels for batch norm and the depthwise conv's weight gradient (whose sums run
 * over all images of a channel). A task writes only its own images or channels, or its own
 * scratch; sums over images of different tasks (conv weight gradients) are added afterwards in task
 * order. So the results are bitwise the same for every thread count. */
#ifndef SVGE_CELLNET_INTERNAL_H
#define SVGE_CELLNET_INTERNAL_H

#include <stddef.h>

#include "cellnet.h"
#include "parallel.h"

#define CELLNET_TASKS 4 /* fixed: 2 per core on 2 cores, 1 per core on 4 */

/* Floats of im2col columns one task's conv chunk may use (4 MB; 16 MB for the four): large enough
 * for GEMMs of thousands of columns, small enough to stay out of the way of the activations. A
 * conv whose single image needs more gets one image per chunk. */
#define COL_BUDGET ((size_t)1 << 20)

/* H*W of a node's output. */
static inline size_t plane(const cellnet_node *nd) {
    return (size_t)nd->H * nd->W;
}

/* Task t's share [*lo, *hi) of n items (images or channels): contiguous, sizes differing by at
 * most 1, empty when n < CELLNET_TASKS for some t. */
static inline void task_range(int n, int t, int *lo, int *hi) {
    *lo = (int)((long)n * t / CELLNET_TASKS);
    *hi = (int)((long)n * (t + 1) / CELLNET_TASKS);
}

/* Run fn(ctx, t) for the CELLNET_TASKS tasks on net's threads. */
static inline void run_tasks(const cellnet *net, par_fn fn, void *ctx) {
    par_run(net->pool, CELLNET_TASKS, fn, ctx);
}

/* Images per im2col chunk of a conv node at batch B (at most one task's share), and the col
 * floats that takes. */
static inline int conv_chunk(const cellnet *net, const cellnet_node *nd, int B, size_t *col_floats) {
    const cellnet_node *x = &net->node[nd->in[0]];
    size_t per = (size_t)x->C * nd->K * nd->K * plane(nd);
    int share = (B + CELLNET_TASKS - 1) / CELLNET_TASKS;
    int nb = (int)(COL_BUDGET / per);
    if (nb < 1) nb = 1;
    if (nb > share) nb = share;
    if (col_floats) *col_floats = per * nb;
    return nb;
}

/* A 1x1, stride 1, unpadded conv (or dense): its input is its own im2col. */
static inline int conv_direct(const cellnet_node *nd) {
    return nd->K == 1 && nd->S == 1 && nd->P == 0;
}

/* The scratch (cellnet_plan.c lays it out): each task's im2col columns (col_floats each), one
 * temporary of the largest tensor, each task's conv weight gradient (wgrad_floats each). */
static inline float *task_col(const cellnet *net, int t) {
    return net->scratch + (size_t)t * net->col_floats;
}

static inline float *tmp_buf(const cellnet *net) {
    return net->scratch + CELLNET_TASKS * net->col_floats;
}

static inline float *task_wgrad(const cellnet *net, int t) {
    return net->scratch + net->scratch_floats - (size_t)(CELLNET_TASKS - t) * net->wgrad_floats;
}

/* cellnet_conv.c: a conv or dense node over the batch, CELLNET_TASKS image slices.
 * out (OC,B,OH,OW) = conv of x (C,B,H,W) with Wt (OC,C,K,K) [+ bias (OC)]. */
void cn_conv_forward(cellnet *net, const cellnet_node *nd, float *out, const float *x, const float *Wt,
                     const float *bias, int B);
/* Its backward: dx (C,B,H,W) += , dWt (OC,C,K,K) += , dbias (OC) += (dx, dbias may be NULL). */
void cn_conv_backward(cellnet *net, const cellnet_node *nd, float *dx, float *dWt, float *dbias,
                      const float *dout, const float *x, const float *Wt, int B);

#endif
