/* cellnet_internal.h: what the parts of the cellnet executor share inside the library (callers use
 * cellnet.h): a node's plane size, and how a conv node is unrolled into im2col chunks
 * (cellnet_plan.c sizes the scratch for it, cellnet_exec.c runs it). */
#ifndef SVGE_CELLNET_INTERNAL_H
#define SVGE_CELLNET_INTERNAL_H

#include <stddef.h>

#include "cellnet.h"

/* Floats of im2col columns one conv chunk may use (16 MB): large enough for GEMMs of thousands of
 * columns, small enough to stay out of the way of the activations. A conv whose single image needs
 * more gets one image per chunk. */
#define COL_BUDGET ((size_t)4 << 20)

/* H*W of a node's output. */
static inline size_t plane(const cellnet_node *nd) {
    return (size_t)nd->H * nd->W;
}

/* Images per im2col chunk of a conv node at batch B, and the col floats that takes. */
static inline int conv_chunk(const cellnet *net, const cellnet_node *nd, int B, size_t *col_floats) {
    const cellnet_node *x = &net->node[nd->in[0]];
    size_t per = (size_t)x->C * nd->K * nd->K * plane(nd);
    int nb = (int)(COL_BUDGET / per);
    if (nb < 1) nb = 1;
    if (nb > B) nb = B;
    if (col_floats) *col_floats = per * nb;
    return nb;
}

/* A 1x1, stride 1, unpadded conv (or dense): its input is its own im2col. */
static inline int conv_direct(const cellnet_node *nd) {
    return nd->K == 1 && nd->S == 1 && nd->P == 0;
}

#endif
