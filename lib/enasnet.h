/* enasnet.h: the ENAS macro network (6 or 12 layers) of an ENAS graph record, built on cellnet.h.
 *
 * Sources (line numbers of these commits):
 *   [E] melodyguan/enas @4bcfd73, src/cifar10/general_child.py (ENAS itself);
 *   [D] muhanzhang/D-VAE @3569a4a, software/enas/src/cifar10/general_child.py, the copy D-VAE (and
 *       through it SVGe) trains ENAS architectures with; identical to [E] except that [E]'s fixed-arc
 *       layer leaves the two pool ops unimplemented (`pass`, [E] 406-409) and [D] implements them
 *       ([D] 411-418). Line numbers below are [D]'s. image_ops.py is the same file in both.
 *   D-VAE's scripts/custom_cifar10_macro_final_{6,12}.sh: --child_fixed_arc, whole channels
 *       (--controller_search_whole_channels), --child_out_filters 96 by default,
 *       --child_keep_prob 0.5.
 *
 * The graph (space enas6 / enas12, formats/reference.md §2.4, lib/space.c): L+2 nodes; node 0 the input
 * (= the stem's output), node i+1 layer i with type 2 conv3x3, 3 sepconv3x3, 4 conv5x5, 5 sepconv5x5,
 * 6 avgpool3x3, 7 maxpool3x3 (= ENAS branch number + 2, [D] 395-418); chain edge i -> i+1; an edge
 * j -> i+1 with j < i is layer i's skip bit j, i.e. ENAS's `skip[j]` selecting prev_layers[j] (j = 0
 * the stem); node L+1 the output, fed by layer L-1.
 *
 * The network, as ENAS's GeneralChild._model ([D] 193-244) builds it:
 *   stem      conv3x3 (3 -> F, no bias, "same") -> BN                           [D] 198-202
 *   layer i   its op applied to the previous layer's output (prev_layers[-1]), then, for i > 0,
 *             the skip combination (below)
 *   pooling   after the layers in pool_layers = [L/3 - 1, 2L/3 - 1] (integer division;           [D] 96-97
 *             6 layers: after layers 1 and 3; 12 layers: after layers 3 and 7), EVERY tensor of
 *             the list (the stem and all layers so far) is replaced by its factorized reduction
 *             to F' channels ([D] 215-225): path1 = x[:, :, 0::2, 0::2] -> conv1x1 to F'/2;
 *             path2 = x[:, :, 1::2, 1::2] (zero-padded past the edge) -> conv1x1 to F'/2;
 *             concat; BN ([D] 130-178). F' = 2F in ENASNET_FIXED mode, F in ENASNET_SHARED
 *             mode ([D] 216-217: `if self.fixed_arc is not None: out_filters *= 2`).
 *             Only reductions some later layer reads are built (ENAS builds all; the unread
 *             ones get no gradient); enasnet_param_count reports both counts.
 *   head      global average pool of the last layer -> [dropout: omitted] -> fc (F -> classes)  [D] 232-243
 *             WITHOUT bias ([D] 242-243: create_weight("w", [inp_c, 10]); tf.matmul), built as
 *             a 1x1 conv without bias on the 1x1 pooled tensor.
 *
 * Two modes, because ENAS builds a layer differently when it trains an architecture on its own
 * (fixed arc: what D-VAE's final-training scripts run) and inside the weight-sharing supernet
 * (whose accuracies are the `acc` of D-VAE's final_structures6.txt):
 *
 * ENASNET_FIXED (default; GeneralChild._fixed_layer, whole_channels, [D] 374-490):
 *   conv3/conv5 (and sep3/sep5, see below):                                    [D] 395-409
 *       ReLU -> conv1x1 (C -> F, no bias) -> BN -> ReLU -> convKxK (F -> F, no bias, "same") -> BN
 *   sep3/sep5: [D] 395-397 builds branches 1 and 3 exactly like 0 and 2 (`size = [3, 3, 5, 5]`,
 *       a plain tf.nn.conv2d): ENAS's fixed-arc macro model has no separable convolution. That is
 *       the default here too (separable = 0). separable = 1 builds what the op's name says instead:
 *       ... -> ReLU -> depthwise KxK (F, no bias) -> pointwise 1x1 (F -> F, no bias) -> BN.
 *   avg3/max3: 3x3 pool, stride 1, "same", of the layer input; no conv        [D] 410-418
 *       (TF "SAME" average pooling divides by the number of real pixels: count_include_pad=False)
 *   skip, layer i > 0: concat(selected prev_layers in index order, op output) -> ReLU ->
 *       conv1x1 ((s+1)F -> F, no bias) -> BN, also when no skip bit is set (s = 0)  [D] 462-488
 *
 * ENASNET_SHARED (GeneralChild._enas_layer, whole_channels, [D] 246-372, one branch taken):
 *   conv/sep (_conv_branch, [D] 492-554): conv1x1 (C -> F) -> BN -> ReLU -> convKxK (F -> F) or
 *       separable KxK (depthwise KxK, pointwise F -> F; tf.nn.separable_conv2d, ch_mul 1) -> BN -> ReLU
 *   avg3/max3 (_pool_branch, [D] 556-599): conv1x1 (C -> F) -> BN -> ReLU -> 3x3 pool, stride 1
 *   skip, layer i > 0: sum(selected prev_layers, op output) -> BN              [D] 356-370
 *   F never doubles; the factorized reductions keep F channels.
 *   Deviation: the branch's last BN is batch_norm_with_mask in ENAS, whose epsilon is 1e-3
 *   (image_ops.py 133-134); cellnet has one epsilon per network, 1e-5 here.
 *
 * Batch norm everywhere: affine (gamma "scale", beta "offset", trainable), epsilon 1e-5, TF decay
 * 0.9 = momentum 0.1 in cellnet's convention (image_ops.py 92-130): set net->bn_momentum = 0.1.
 * Omitted: dropout before the fc (keep_prob 0.5 in D-VAE's final training; cellnet has no dropout
 * node) and ENAS's auxiliary heads (general_child never builds them for the macro space).
 *
 * Factorized reduction, path 2: the odd pixels x[:, :, 1::2, 1::2] (zero past the edge), through
 * cellnet_subsample(net, in, 2, 1), as ENAS. ENASNET_EXACT_REDUCTION says so (1); it would be 0,
 * path 2 then reading the even pixels like path 1, only with a cellnet without that node
 * (CELLNET_HAS_SUBSAMPLE). Checked against PyTorch (tests/fixtures/cellnet/enas6_fixed_sep_exactfr). */
#ifndef SVGE_ENASNET_H
#define SVGE_ENASNET_H

#include <stddef.h>

#include "cellnet.h"
#include "graph.h"

#ifdef CELLNET_HAS_SUBSAMPLE
#define ENASNET_EXACT_REDUCTION 1
#else
#define ENASNET_EXACT_REDUCTION 0
#endif

/* ENAS type indices (space.c): type = ENAS branch number + 2. */
enum {
    ENAS_CONV3 = 2, ENAS_SEP3 = 3, ENAS_CONV5 = 4, ENAS_SEP5 = 5, ENAS_AVG3 = 6, ENAS_MAX3 = 7
};

typedef enum { ENASNET_FIXED = 0, ENASNET_SHARED = 1 } enasnet_mode;

#define ENASNET_MAX_LAYERS (GRAPH_MAX_NODES - 2)

typedef struct {
    int out_filters;  /* F of the stem and the first stage (D-VAE's final training: 96); even */
    enasnet_mode mode;
    int separable;    /* ENASNET_FIXED only: 0 = sep3/sep5 as ENAS builds them (plain convs), 1 = real
                         depthwise + pointwise. ENASNET_SHARED is always separable, as ENAS. */
    int classes;      /* 10 for CIFAR-10 */
    int side;         /* input images side x side x 3 (32 for CIFAR-10) */
} enasnet_config;

/* The defaults above: F 96, ENASNET_FIXED, separable 0, 10 classes, 32x32 images. */
enasnet_config enasnet_default_config(void);

/* ENAS's pool layers for L layers ([D] 96-97): p[0] = L/3 - 1, p[1] = 2L/3 - 1 (-1: none). */
void enasnet_pool_layers(int layers, int p[2]);

/* Trainable parameters of enasnet_build's network, by formula (no network built). If enas_count
 * is not NULL it receives, for ENASNET_FIXED, ENAS's own count (count_model_params over all its
 * variables), which also includes the factorized reductions no later layer reads; for
 * ENASNET_SHARED the same formula (the one-branch network plus unread reductions), not the
 * supernet's. 0 if g or cfg is unusable. */
size_t enasnet_param_count(const graph *g, const enasnet_config *cfg, size_t *enas_count);

/* Add the layers, reductions and head for graph g on node `in` (3 channels, cfg->side square) of
 * net; returns the logits node (also made the output) or -1 (cellnet_error says why). */
int enasnet_add(cellnet *net, const graph *g, int in, const enasnet_config *cfg);

/* The whole network for 3 x side x side images, not yet compiled, with net->bn_momentum = 0.1
 * (TF decay 0.9). g must be an ENAS graph (graph_check of space enas6 or enas12: checked here only
 * as far as the build needs). Returns NULL with a reason in why (not an ENAS graph, odd or tiny F,
 * images too small for the two reductions, a cellnet limit). */
cellnet *enasnet_build(const graph *g, const enasnet_config *cfg, char *why, size_t whylen);

#endif
