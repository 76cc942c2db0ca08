/* nb101net.c: the NAS-Bench-101 network of a cell (see nb101net.h; our own code after the
 * semantics of google-research/nasbench model_builder.py). */
#include "nb101net.h"

#include <stdio.h>
#include <string.h>

int nb101_vertex_channels(const graph *g, int cin, int cout, int *vc) {
    const int n = g->n, out = n - 1;
    memset(vc, 0, (size_t)n * sizeof *vc);
    vc[0] = cin;
    vc[out] = cout;
    if (n == 2) return 0;
    // the output's in-degree, the input not counted
    int fan = 0;
    for (int v = 1; v < out; v++) fan += graph_has_edge(g, v, out);
    if (fan == 0) return -1;
    int each = cout / fan, extra = cout % fan;
    for (int v = 1; v < out; v++)
        if (graph_has_edge(g, v, out)) vc[v] = each + (extra-- > 0);
    // the others: the max over the interior vertices they feed, backwards (n-2 feeds only the output)
    for (int v = n - 3; v > 0; v--)
        if (!graph_has_edge(g, v, out))
            for (int d = v + 1; d < out; d++)
                if (graph_has_edge(g, v, d) && vc[d] > vc[v]) vc[v] = vc[d];
    for (int v = 1; v < out; v++)
        if (vc[v] <= 0) return -1;
    return 0;
}

int nb101_add_cell(cellnet *net, const graph *g, int in, int cout) {
    int cin, h, w;
    cellnet_shape(net, in, &cin, &h, &w);
    const int n = g->n, out = n - 1;
    int vc[GRAPH_MAX_NODES], t[GRAPH_MAX_NODES];
    if (cin < 1 || nb101_vertex_channels(g, cin, cout, vc) != 0) {
        return cellnet_fail(net, "nb101 cell: %d output channels cannot be split among the output's inputs", cout);
    }
    int cat[GRAPH_MAX_NODES], ncat = 0;
    t[0] = in;
    for (int v = 1; v < out; v++) {
        int add[GRAPH_MAX_NODES], nadd = 0;
        for (int s = 1; s < v; s++)
            if (graph_has_edge(g, s, v)) // truncate to v's channels (its first ones)
                add[nadd++] = vc[s] > vc[v] ? cellnet_slice(net, t[s], 0, vc[v]) : t[s];
        if (graph_has_edge(g, 0, v)) add[nadd++] = cellnet_conv_bn_relu(net, in, vc[v], 1, 1);
        int x = nadd == 1 ? add[0] : cellnet_add(net, nadd, add);
        switch (g->type[v]) {
        case NB101_CONV3X3: t[v] = cellnet_conv_bn_relu(net, x, vc[v], 3, 1); break;
        case NB101_CONV1X1: t[v] = cellnet_conv_bn_relu(net, x, vc[v], 1, 1); break;
        case NB101_MAXPOOL3X3: t[v] = cellnet_maxpool(net, x, 3, 1, 1); break;
        default: t[v] = cellnet_fail(net, "nb101 cell: vertex %d has type %d, not an NB101 operation", v, g->type[v]); break;
        }
        if (graph_has_edge(g, v, out)) cat[ncat++] = t[v];
    }
    if (ncat == 0) return cellnet_conv_bn_relu(net, in, cout, 1, 1);
    int y = ncat == 1 ? cat[0] : cellnet_concat(net, ncat, cat);
    if (graph_has_edge(g, 0, out)) {
        int sum[2] = {y, cellnet_conv_bn_relu(net, in, cout, 1, 1)};
        y = cellnet_add(net, 2, sum);
    }
    return y;
}

cellnet *nb101net_build(const graph *g, const nb101_config *cfg, char *why, size_t whylen) {
    if (cfg->stem < 1 || cfg->stacks < 1 || cfg->cells < 1 || cfg->classes < 1) {
        snprintf(why, whylen, "stem %d, stacks %d, cells %d, classes %d: each must be at least 1",
                 cfg->stem, cfg->stacks, cfg->cells, cfg->classes);
        return NULL;
    }
    const int side = cfg->side ? cfg->side : 32;
    if (side < 1 || side > 4096) {
        snprintf(why, whylen, "image side %d", side);
        return NULL;
    }
    for (int s = 1, h = side; s < cfg->stacks; s++, h /= 2)
        if (h % 2) { // 32 -> 1 after five halvings: at most 6 stacks
            snprintf(why, whylen, "%d stacks: a %dx%d image can be halved (2x2 max pool) only %d times", cfg->stacks,
                     side, side, s - 1);
            return NULL;
        }
    long top = (long)cfg->stem << (cfg->stacks - 1);
    if (top > CELLNET_MAX_CHANNELS) {
        snprintf(why, whylen, "stem %d doubled over %d stacks is %ld channels (at most %d)", cfg->stem,
                 cfg->stacks, top, CELLNET_MAX_CHANNELS);
        return NULL;
    }
    int vc[GRAPH_MAX_NODES];
    if (nb101_vertex_channels(g, cfg->stem, cfg->stem, vc) != 0) {
        snprintf(why, whylen, "stem %d channels cannot be split among the cell's output inputs", cfg->stem);
        return NULL;
    }
    cellnet *net = cellnet_new(3, side, side);
    int x = cellnet_conv_bn_relu(net, 0, cfg->stem, 3, 1);
    int ch = cfg->stem;
    for (int s = 0; s < cfg->stacks; s++) {
        if (s > 0) {
            x = cellnet_maxpool(net, x, 2, 2, 0);
            ch *= 2;
        }
        for (int c = 0; c < cfg->cells; c++) x = nb101_add_cell(net, g, x, ch);
    }
    x = cellnet_gap(net, x);
    cellnet_dense(net, x, cfg->classes);
    if (cellnet_error(net)) {
        snprintf(why, whylen, "%s", cellnet_error(net));
        cellnet_free(net);
        return NULL;
    }
    return net;
}
