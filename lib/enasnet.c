/* enasnet.c: the ENAS macro network of an ENAS graph (see enasnet.h; our own code after the
 * semantics of ENAS's general_child.py, with the line references given there). */
#include "enasnet.h"

#include <stdio.h>
#include <string.h>

enasnet_config enasnet_default_config(void) {
    return (enasnet_config){.out_filters = 96, .mode = ENASNET_FIXED, .separable = 0, .classes = 10, .side = 32};
}

void enasnet_pool_layers(int layers, int p[2]) {
    int d = layers / 3;
    p[0] = d - 1;
    p[1] = 2 * d - 1;
}

static int is_pool_layer(int layers, int i) {
    int p[2];
    enasnet_pool_layers(layers, p);
    return i == p[0] || i == p[1];
}

/* The number of layers of g if it has the ENAS shape the build relies on (types, chain, edges
 * forward only, output fed by the last layer), else 0 with a reason in why. */
static int enas_layers(const graph *g, char *why, size_t whylen) {
    const int n = g->n, L = n - 2;
    if (n < 3 || L > ENASNET_MAX_LAYERS) {
        snprintf(why, whylen, "an ENAS graph has 1..%d layers, this one has %d nodes", ENASNET_MAX_LAYERS, n);
        return 0;
    }
    if (g->type[0] != TYPE_INPUT || g->type[n - 1] != TYPE_OUTPUT) {
        snprintf(why, whylen, "node 0 must be the input and node %d the output", n - 1);
        return 0;
    }
    for (int v = 1; v <= L; v++) {
        if (g->type[v] < ENAS_CONV3 || g->type[v] > ENAS_MAX3) {
            snprintf(why, whylen, "node %d has type %d, not an ENAS operation (2..7)", v, g->type[v]);
            return 0;
        }
        if (!graph_has_edge(g, v - 1, v)) {
            snprintf(why, whylen, "layer %d lacks its chain edge %d -> %d", v - 1, v - 1, v);
            return 0;
        }
    }
    for (int v = 0; v < n; v++)
        for (int w = 0; w < n; w++)
            if (graph_has_edge(g, v, w) && (w <= v || (w == n - 1 && v != L))) {
                snprintf(why, whylen, "edge %d -> %d is not an ENAS edge", v, w);
                return 0;
            }
    if (!graph_has_edge(g, L, n - 1)) {
        snprintf(why, whylen, "the output is not fed by the last layer");
        return 0;
    }
    return L;
}

static int check_config(const enasnet_config *cfg, int L, char *why, size_t whylen) {
    if (cfg->out_filters < 2 || cfg->out_filters % 2 || cfg->out_filters > 16384) {
        snprintf(why, whylen, "out_filters %d: must be even and 2..16384 (factorized reduction halves it)", cfg->out_filters);
        return -1;
    }
    if (cfg->classes < 1 || cfg->classes > 100000) {
        snprintf(why, whylen, "%d classes", cfg->classes);
        return -1;
    }
    if (cfg->mode != ENASNET_FIXED && cfg->mode != ENASNET_SHARED) {
        snprintf(why, whylen, "unknown mode %d", (int)cfg->mode);
        return -1;
    }
    int p[2], side = cfg->side;
    enasnet_pool_layers(L, p);
    int reductions = (p[0] >= 0) + (p[1] >= 0);
    for (int r = 0; r < reductions; r++) side = (side + 1) / 2;
    if (cfg->side < 1 || cfg->side > 4096 || (reductions && cfg->side < (1 << reductions))) {
        snprintf(why, whylen, "images of side %d are too small for %d reductions", cfg->side, reductions);
        return -1;
    }
    return 0;
}

/* Whether graph node j (0 the stem, j = i+1 layer i) is read by a layer after layer i0: as the
 * next layer's input (j = i0+1) or as a skip input. */
static int read_after(const graph *g, int L, int j, int i0) {
    if (j == i0 + 1 && i0 + 1 < L) return 1;
    for (int i = i0 + 1; i < L; i++)
        if (j < i && graph_has_edge(g, j, i + 1)) return 1;
    return 0;
}

static int conv_kernel(int type) {
    return type == ENAS_CONV5 || type == ENAS_SEP5 ? 5 : 3;
}

static int is_sep(int type) {
    return type == ENAS_SEP3 || type == ENAS_SEP5;
}

size_t enasnet_param_count(const graph *g, const enasnet_config *cfg, size_t *enas_count) {
    char why[160];
    int L = enas_layers(g, why, sizeof why);
    if (!L || check_config(cfg, L, why, sizeof why)) {
        if (enas_count) *enas_count = 0;
        return 0;
    }
    const int fixed = cfg->mode == ENASNET_FIXED;
    size_t F = (size_t)cfg->out_filters, built = 27 * F + 2 * F, unread = 0; // stem conv + BN
    for (int i = 0; i < L; i++) {
        int t = g->type[i + 1];
        if (t <= ENAS_SEP5) {
            size_t k = (size_t)conv_kernel(t);
            built += F * F + 2 * F; // conv1x1 + BN
            if (is_sep(t) && (!fixed || cfg->separable)) built += k * k * F + F * F + 2 * F; // dw + pw + BN
            else built += k * k * F * F + 2 * F;                                         // KxK + BN
        } else if (!fixed) {
            built += F * F + 2 * F; // the pool branch's conv1x1 + BN
        }
        if (i > 0) {
            size_t s = 0;
            for (int j = 0; j < i; j++) s += graph_has_edge(g, j, i + 1);
            built += fixed ? (s + 1) * F * F + 2 * F : 2 * F; // relu-conv1x1-BN of the concat, or BN of the sum
        }
        if (is_pool_layer(L, i)) {
            size_t F2 = fixed ? 2 * F : F;
            for (int j = 0; j <= i + 1; j++) { // every tensor of the list: path convs F -> F2/2 twice + BN
                size_t fr = F * F2 + 2 * F2;
                if (read_after(g, L, j, i)) built += fr;
                else unread += fr;
            }
            F = F2;
        }
    }
    built += F * (size_t)cfg->classes; // fc, no bias
    if (enas_count) *enas_count = built + unread;
    return built;
}

/* The factorized reduction of node x (C channels) to f channels ([D] 130-178). */
static int reduce(cellnet *net, int x, int f) {
    int p1 = cellnet_avgpool(net, x, 1, 2, 0); // x[:, :, 0::2, 0::2]
#ifdef CELLNET_HAS_SUBSAMPLE
    int p2 = cellnet_subsample(net, x, 2, 1); // x[:, :, 1::2, 1::2], zero past the edge
#else
    int p2 = p1; // see enasnet.h: not ENAS's pixels until cellnet has a subsample node
#endif
    int cat[2];
    cat[0] = cellnet_conv(net, p1, f / 2, 1, 1, 0, 0); // separate statements: the node (parameter)
    cat[1] = cellnet_conv(net, p2, f / 2, 1, 1, 0, 0); // order must not depend on the compiler
    return cellnet_bn(net, cellnet_concat(net, 2, cat));
}

/* The op of layer type t on node x with f output channels. */
static int layer_op(cellnet *net, int x, int t, int f, const enasnet_config *cfg) {
    const int fixed = cfg->mode == ENASNET_FIXED;
    if (t <= ENAS_SEP5) {
        int k = conv_kernel(t), y;
        if (fixed) { // relu-conv1x1-bn, relu-convKxK-bn ([D] 395-409)
            y = cellnet_bn(net, cellnet_conv(net, cellnet_relu(net, x), f, 1, 1, 0, 0));
            y = cellnet_relu(net, y);
            y = is_sep(t) && cfg->separable ? cellnet_sepconv(net, y, f, k, 1) : cellnet_conv(net, y, f, k, 1, (k - 1) / 2, 0);
            return cellnet_bn(net, y);
        }
        // conv1x1-bn-relu, convKxK or separable KxK, bn, relu ([D] 492-554)
        y = cellnet_relu(net, cellnet_bn(net, cellnet_conv(net, x, f, 1, 1, 0, 0)));
        y = is_sep(t) ? cellnet_sepconv(net, y, f, k, 1) : cellnet_conv(net, y, f, k, 1, (k - 1) / 2, 0);
        return cellnet_relu(net, cellnet_bn(net, y));
    }
    if (!fixed) x = cellnet_relu(net, cellnet_bn(net, cellnet_conv(net, x, f, 1, 1, 0, 0))); // [D] 572-576
    return t == ENAS_AVG3 ? cellnet_avgpool(net, x, 3, 1, 1) : cellnet_maxpool(net, x, 3, 1, 1);
}

int enasnet_add(cellnet *net, const graph *g, int in, const enasnet_config *cfg) {
    char why[200];
    int L = enas_layers(g, why, sizeof why);
    if (!L || check_config(cfg, L, why, sizeof why)) return cellnet_fail(net, "enas network: %s", why);
    const int fixed = cfg->mode == ENASNET_FIXED;
    int f = cfg->out_filters;
    int node[GRAPH_MAX_NODES]; // node[j]: the current tensor of graph node j (0 the stem, i+1 layer i)
    for (int j = 0; j < GRAPH_MAX_NODES; j++) node[j] = -1;
    node[0] = cellnet_bn(net, cellnet_conv(net, in, f, 3, 1, 1, 0)); // stem ([D] 198-202)
    for (int i = 0; i < L; i++) {
        int out = layer_op(net, node[i], g->type[i + 1], f, cfg);
        if (i > 0) {
            int ins[GRAPH_MAX_NODES], n = 0;
            for (int j = 0; j < i; j++)
                if (graph_has_edge(g, j, i + 1)) ins[n++] = node[j];
            ins[n++] = out;
            if (fixed) { // concat -> relu -> conv1x1 -> bn ([D] 462-488)
                int c = n == 1 ? out : cellnet_concat(net, n, ins);
                out = cellnet_bn(net, cellnet_conv(net, cellnet_relu(net, c), f, 1, 1, 0, 0));
            } else { // sum -> bn ([D] 356-370)
                out = cellnet_bn(net, n == 1 ? out : cellnet_add(net, n, ins));
            }
        }
        node[i + 1] = out;
        if (is_pool_layer(L, i)) { // [D] 215-225
            if (fixed) f *= 2;
            for (int j = 0; j <= i + 1; j++) node[j] = read_after(g, L, j, i) ? reduce(net, node[j], f) : -1;
        }
    }
    int logits = cellnet_conv(net, cellnet_gap(net, node[L]), cfg->classes, 1, 1, 0, 0); // fc without bias
    if (logits >= 0) cellnet_set_output(net, logits);
    return cellnet_error(net) ? -1 : logits;
}

cellnet *enasnet_build(const graph *g, const enasnet_config *cfg, char *why, size_t whylen) {
    cellnet *net = cellnet_new(3, cfg->side, cfg->side);
    net->bn_momentum = 0.1f; // TF decay 0.9 (image_ops.py batch_norm)
    if (enasnet_add(net, g, 0, cfg) < 0) {
        snprintf(why, whylen, "%s", cellnet_error(net) ? cellnet_error(net) : "cannot build the network");
        cellnet_free(net);
        return NULL;
    }
    return net;
}
