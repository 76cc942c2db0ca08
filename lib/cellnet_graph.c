/* cellnet_graph.c: building a cellnet (cellnet.h): the nodes, their shapes checked and computed,
 * their parameters' places in the flat parameter array; the first error recorded. */
#include "cellnet.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "util.h"

cellnet *cellnet_new(int C, int H, int W) {
    cellnet *net = xcalloc(1, sizeof *net);
    net->node = xcalloc(CELLNET_MAX_NODES, sizeof *net->node);
    net->bn_momentum = BN_MOMENTUM;
    net->bn_eps = BN_EPS;
    net->output = -1;
    if (C < 1 || H < 1 || W < 1 || C > CELLNET_MAX_CHANNELS || H > 4096 || W > 4096)
        snprintf(net->err, sizeof net->err, "input shape (%d,%d,%d) out of range", C, H, W);
    net->node[0] = (cellnet_node){.op = CN_INPUT, .C = C, .H = H, .W = W};
    net->n_nodes = 1;
    return net;
}

void cellnet_free(cellnet *net) {
    if (!net) return;
    free(net->node);
    free(net->params), free(net->grads), free(net->buffers);
    free(net->arena), free(net->iarena), free(net->scratch);
    free(net->logits), free(net->probs);
    free(net);
}

const char *cellnet_error(const cellnet *net) {
    return net->err[0] ? net->err : NULL;
}

int cellnet_fail(cellnet *net, const char *fmt, ...) {
    if (!net->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(net->err, sizeof net->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The input node id `in`, or -1 after recording why it is not usable. */
static int check_in(cellnet *net, int in, const char *op) {
    if (net->err[0]) return -1;
    if (in < 0 || in >= net->n_nodes) return cellnet_fail(net, "%s: no node %d", op, in);
    return 0;
}

/* Append a node with output shape (C,H,W) and p_len parameters, bn running statistics if bn. */
static int push(cellnet *net, cellnet_node nd, const char *op) {
    if (net->err[0]) return -1;
    if (net->n_nodes >= CELLNET_MAX_NODES)
        return cellnet_fail(net, "%s: more than %d nodes", op, CELLNET_MAX_NODES);
    if (nd.C < 1 || nd.C > CELLNET_MAX_CHANNELS)
        return cellnet_fail(net, "%s: %d channels (1..%d)", op, nd.C, CELLNET_MAX_CHANNELS);
    if (nd.H < 1 || nd.W < 1)
        return cellnet_fail(net, "%s: output would be %dx%d pixels", op, nd.H, nd.W);
    const cellnet_node *last = &net->node[net->n_nodes - 1];
    nd.p_off = last->p_off + last->p_len;
    if (nd.p_off + nd.p_len > CELLNET_MAX_PARAMS)
        return cellnet_fail(net, "%s: more than %zu parameters", op, CELLNET_MAX_PARAMS);
    size_t nb = 0;
    for (int i = 0; i < net->n_nodes; i++)
        if (net->node[i].op == CN_BN || net->node[i].op == CN_CONV_BN_RELU) nb += 2 * (size_t)net->node[i].C;
    nd.b_off = nb;
    net->node[net->n_nodes] = nd;
    return net->n_nodes++;
}

/* Window op output size, or 0 if the arguments are out of range. */
static int window_out(int n, int k, int s, int p) {
    if (k < 1 || s < 1 || p < 0 || k > 64 || s > 64 || p > 64 || n + 2 * p < k) return 0;
    return conv_out_size(n, k, s, p);
}

static int add_conv(cellnet *net, cellnet_op op, int in, int oc, int k, int s, int p, int bias,
                    const char *name) {
    if (check_in(net, in, name)) return -1;
    const cellnet_node *x = &net->node[in];
    int OH = window_out(x->H, k, s, p), OW = window_out(x->W, k, s, p);
    if (!OH || !OW) return cellnet_fail(net, "%s: kernel %d stride %d pad %d does not fit %dx%d", name, k, s, p, x->H, x->W);
    if (oc < 1 || oc > CELLNET_MAX_CHANNELS) return cellnet_fail(net, "%s: %d output channels", name, oc);
    size_t w = (size_t)oc * x->C * k * k;
    cellnet_node nd = {.op = op, .n_in = 1, .in = {in}, .C = oc, .H = OH, .W = OW, .K = k, .S = s,
                       .P = p, .bias = bias};
    nd.p_len = w + (bias ? (size_t)oc : 0) + (op == CN_CONV_BN_RELU ? 2 * (size_t)oc : 0);
    return push(net, nd, name);
}

int cellnet_conv(cellnet *net, int in, int oc, int k, int stride, int pad, int bias) {
    return add_conv(net, CN_CONV, in, oc, k, stride, pad, bias != 0, "conv");
}

int cellnet_conv_bn_relu(cellnet *net, int in, int oc, int k, int stride) {
    if (k % 2 == 0) return check_in(net, in, "conv_bn_relu") ? -1 : cellnet_fail(net, "conv_bn_relu: even kernel %d", k);
    return add_conv(net, CN_CONV_BN_RELU, in, oc, k, stride, (k - 1) / 2, 0, "conv_bn_relu");
}

int cellnet_dense(cellnet *net, int in, int out_features) {
    if (check_in(net, in, "dense")) return -1;
    if (net->node[in].H != 1 || net->node[in].W != 1)
        return cellnet_fail(net, "dense: input is %dx%d, needs 1x1 (add a gap)", net->node[in].H, net->node[in].W);
    return add_conv(net, CN_DENSE, in, out_features, 1, 1, 0, 1, "dense");
}

static int add_same(cellnet *net, cellnet_op op, int in, size_t p_len, const char *name) {
    if (check_in(net, in, name)) return -1;
    cellnet_node nd = net->node[in];
    nd = (cellnet_node){.op = op, .n_in = 1, .in = {in}, .C = nd.C, .H = nd.H, .W = nd.W, .p_len = p_len};
    return push(net, nd, name);
}

int cellnet_bn(cellnet *net, int in) {
    return add_same(net, CN_BN, in, in >= 0 && in < net->n_nodes ? 2 * (size_t)net->node[in].C : 0, "bn");
}

int cellnet_relu(cellnet *net, int in) {
    return add_same(net, CN_RELU, in, 0, "relu");
}

int cellnet_gap(cellnet *net, int in) {
    int id = add_same(net, CN_GAP, in, 0, "gap");
    if (id >= 0) net->node[id].H = net->node[id].W = 1;
    return id;
}

static int add_window(cellnet *net, cellnet_op op, int in, int k, int s, int p, const char *name) {
    if (check_in(net, in, name)) return -1;
    const cellnet_node *x = &net->node[in];
    int OH = window_out(x->H, k, s, p), OW = window_out(x->W, k, s, p);
    if (!OH || !OW || (op != CN_DWCONV && p >= k))
        return cellnet_fail(net, "%s: kernel %d stride %d pad %d does not fit %dx%d", name, k, s, p, x->H, x->W);
    cellnet_node nd = {.op = op, .n_in = 1, .in = {in}, .C = x->C, .H = OH, .W = OW, .K = k, .S = s, .P = p};
    if (op == CN_DWCONV) nd.p_len = (size_t)x->C * k * k;
    return push(net, nd, name);
}

int cellnet_dwconv(cellnet *net, int in, int k, int stride, int pad) {
    return add_window(net, CN_DWCONV, in, k, stride, pad, "dwconv");
}

int cellnet_sepconv(cellnet *net, int in, int oc, int k, int stride) {
    if (k % 2 == 0) return check_in(net, in, "sepconv") ? -1 : cellnet_fail(net, "sepconv: even kernel %d", k);
    int d = cellnet_dwconv(net, in, k, stride, (k - 1) / 2);
    return cellnet_conv(net, d, oc, 1, 1, 0, 0);
}

int cellnet_maxpool(cellnet *net, int in, int k, int stride, int pad) {
    return add_window(net, CN_MAXPOOL, in, k, stride, pad, "maxpool");
}

int cellnet_avgpool(cellnet *net, int in, int k, int stride, int pad) {
    return add_window(net, CN_AVGPOOL, in, k, stride, pad, "avgpool");
}

/* concat (sum of channels) or add (equal channels) of n inputs with equal H, W. */
static int add_multi(cellnet *net, cellnet_op op, int n, const int *ins, const char *name) {
    if (net->err[0]) return -1;
    if (n < 1 || n > CELLNET_MAX_INPUTS) return cellnet_fail(net, "%s: %d inputs (1..%d)", name, n, CELLNET_MAX_INPUTS);
    cellnet_node nd = {.op = op, .n_in = n};
    long C = 0;
    for (int i = 0; i < n; i++) {
        if (check_in(net, ins[i], name)) return -1;
        const cellnet_node *x = &net->node[ins[i]];
        if (i == 0) nd.H = x->H, nd.W = x->W;
        if (x->H != nd.H || x->W != nd.W)
            return cellnet_fail(net, "%s: input %d is %dx%d, input 0 is %dx%d", name, i, x->H, x->W, nd.H, nd.W);
        if (op == CN_ADD && i > 0 && x->C != C)
            return cellnet_fail(net, "add: input %d has %d channels, input 0 has %ld", i, x->C, C);
        C = op == CN_ADD ? x->C : C + x->C;
        nd.in[i] = ins[i];
    }
    if (C > CELLNET_MAX_CHANNELS) return cellnet_fail(net, "%s: %ld channels", name, C);
    nd.C = (int)C;
    return push(net, nd, name);
}

int cellnet_concat(cellnet *net, int n, const int *ins) {
    return add_multi(net, CN_CONCAT, n, ins, "concat");
}

int cellnet_add(cellnet *net, int n, const int *ins) {
    return add_multi(net, CN_ADD, n, ins, "add");
}

int cellnet_slice(cellnet *net, int in, int c0, int c) {
    if (check_in(net, in, "slice")) return -1;
    const cellnet_node *x = &net->node[in];
    if (c0 < 0 || c < 1 || c0 > x->C - c)
        return cellnet_fail(net, "slice: channels [%d,%d) of %d", c0, c0 + c, x->C);
    cellnet_node nd = {.op = CN_SLICE, .n_in = 1, .in = {in}, .C = c, .H = x->H, .W = x->W, .c0 = c0};
    return push(net, nd, "slice");
}

int cellnet_subsample(cellnet *net, int in, int stride, int offset) {
    if (check_in(net, in, "subsample")) return -1;
    if (stride < 1 || stride > 64 || offset < 0 || offset >= stride)
        return cellnet_fail(net, "subsample: stride %d offset %d (1 <= stride <= 64, 0 <= offset < stride)", stride, offset);
    const cellnet_node *x = &net->node[in];
    cellnet_node nd = {.op = CN_SUBSAMPLE, .n_in = 1, .in = {in}, .C = x->C, .H = (x->H + stride - 1) / stride,
                       .W = (x->W + stride - 1) / stride, .S = stride, .P = offset};
    return push(net, nd, "subsample");
}

void cellnet_set_output(cellnet *net, int node) {
    if (node < 0 || node >= net->n_nodes) cellnet_fail(net, "set_output: no node %d", node);
    else net->output = node;
}

void cellnet_shape(const cellnet *net, int node, int *C, int *H, int *W) {
    if (node < 0 || node >= net->n_nodes) {
        *C = *H = *W = 0;
        return;
    }
    *C = net->node[node].C, *H = net->node[node].H, *W = net->node[node].W;
}

size_t cellnet_param_count(const cellnet *net) {
    const cellnet_node *last = &net->node[net->n_nodes - 1];
    return last->p_off + last->p_len;
}
