/* nb101net.h: the NAS-Bench-101 network of a cell, built on cellnet.h.
 *
 * Skeleton (Ying et al., ICML 2019; google-research/nasbench nasbench/lib/model_builder.py):
 *   stem: conv3x3-bn-relu to `stem` channels;
 *   `stacks` stacks of `cells` cells each; before every stack but the first a 2x2 max-pool of
 *   stride 2 halves the resolution and the stack's cells output twice the channels;
 *   global average pool; dense to `classes` logits (with bias).
 * Cell (model_builder.build_module) with V vertices, input channels Cin, output channels Cout:
 *   vertex channels (compute_vertex_channels): Cout is split evenly among the interior vertices
 *   that feed the output (the first Cout % k of them get one more); every other interior vertex
 *   gets the largest channel count among the interior vertices it feeds;
 *   interior vertex t: the sum of its inputs: each interior predecessor truncated to t's channels
 *   (its first channels), plus, if the cell input feeds t, a 1x1 conv-bn-relu projection of the
 *   cell input to t's channels (one projection per such vertex); then t's operation
 *   (conv3x3-bn-relu, conv1x1-bn-relu to t's channels, or maxpool3x3 stride 1);
 *   output: the concatenation (in vertex order) of the interior vertices that feed it, plus a 1x1
 *   projection of the cell input to Cout when the input feeds the output; a cell whose only edge is
 *   input -> output is that projection alone.
 * Convolutions have no bias, "same" padding; batch norm is affine (gamma, beta trainable).
 * The trainable parameter count equals NAS-Bench-101's `trainable_parameters` (tested). */
#ifndef SVGE_NB101NET_H
#define SVGE_NB101NET_H

#include <stddef.h>

#include "cellnet.h"
#include "graph.h"

/* NB101's type indices (space.c): 2 conv1x1-bn-relu, 3 conv3x3-bn-relu, 4 maxpool3x3. */
enum { NB101_CONV1X1 = 2, NB101_CONV3X3 = 3, NB101_MAXPOOL3X3 = 4 };

typedef struct {
    int stem;     /* stem channels (NB101: 128) */
    int stacks;   /* NB101: 3 */
    int cells;    /* cells per stack (NB101: 3) */
    int classes;  /* 10 for CIFAR-10 */
    int side;     /* input images side x side x 3; 0 means 32 (CIFAR-10) */
} nb101_config;

/* Channels of every vertex of cell g (valid NB101 graph: pruned, topologically ordered) with
 * cin input and cout output channels: vc[0] = cin, vc[n-1] = cout. Returns 0, or -1 if some
 * interior vertex would get no channel (cout smaller than the output's fan-in). */
int nb101_vertex_channels(const graph *g, int cin, int cout, int *vc);

/* Add one cell on node `in` of net with cout output channels; returns the output node id or -1
 * (cellnet_error says why). */
int nb101_add_cell(cellnet *net, const graph *g, int in, int cout);

/* The whole network for 3 x side x side images, not yet compiled. g must be a valid NB101 cell
 * (graph_check). Returns NULL with a reason in why if the sizes do not fit (e.g. a stem too small
 * for the cell's output fan-in, more stacks than the image can be halved: the side must be even
 * before every 2x2 max pool, 32 allows at most 6 stacks). */
cellnet *nb101net_build(const graph *g, const nb101_config *cfg, char *why, size_t whylen);

#endif
