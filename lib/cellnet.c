/* cellnet.c: the DAG-of-tensor-ops CNN executor (see cellnet.h).
 *
 * Tensors are channel-major (C,B,H,W) for the batch size B of the current forward: node tensors
 * are laid out in an arena sized for max_batch, each using its first C*B*H*W floats. The window
 * operations of cnn.c work on (N,C,H,W) planes, and (C,B,H,W) is also a sequence of C*B planes of
 * HxW, so pools and batch norm call cnn.c directly (batch norm with N=1, HW=B*H*W: the statistics of
 * a channel are one contiguous block). Convolutions unroll a chunk of images at a time (im2col in
 * channel-major order) and run one GEMM per chunk. */
#include "cellnet.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "nn.h"
#include "util.h"

/* Floats of im2col columns one conv chunk may use (16 MB): large enough for GEMMs of thousands of
 * columns, small enough to stay out of the way of the activations. A conv whose single image needs
 * more gets one image per chunk. */
#define COL_BUDGET ((size_t)4 << 20)

/* ------------------------------------------------------------ building */

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

/* ----------------------------------------------------------- compiling */

static size_t plane(const cellnet_node *nd) {
    return (size_t)nd->H * nd->W;
}

/* Images per im2col chunk of a conv node at batch B, and the col floats that takes. */
static int conv_chunk(const cellnet *net, const cellnet_node *nd, int B, size_t *col_floats) {
    const cellnet_node *x = &net->node[nd->in[0]];
    size_t per = (size_t)x->C * nd->K * nd->K * plane(nd);
    int nb = (int)(COL_BUDGET / per);
    if (nb < 1) nb = 1;
    if (nb > B) nb = B;
    if (col_floats) *col_floats = per * nb;
    return nb;
}

static int conv_direct(const cellnet_node *nd) {
    return nd->K == 1 && nd->S == 1 && nd->P == 0;
}

static int is_conv(const cellnet_node *nd) {
    return nd->op == CN_CONV || nd->op == CN_CONV_BN_RELU || nd->op == CN_DENSE;
}

/* The node whose output node id's output is a view of (itself unless a slice). */
static int view_root(const cellnet *net, int id) {
    while (net->node[id].op == CN_SLICE) id = net->node[id].in[0];
    return id;
}

/* Gradient liveness: grad_from of every node (-1: no gradient reaches it). The backward runs node
 * ids from the output down; node r's gradient is first written by the backward of its highest
 * consumer (slices' consumers count for the slice's root) and last read by r's own. */
static void liveness(cellnet *net) {
    const int out = net->output >= 0 ? net->output : net->n_nodes - 1;
    char *need = xcalloc((size_t)net->n_nodes, 1);
    for (int i = 0; i < net->n_nodes; i++) net->node[i].grad_from = -1;
    need[out] = 1;
    net->node[view_root(net, out)].grad_from = out;
    for (int c = out; c > 0; c--) {
        const cellnet_node *nd = &net->node[c];
        if (!need[c]) continue;
        for (int k = 0; k < nd->n_in; k++) {
            need[nd->in[k]] = 1;
            if (nd->op == CN_SLICE) continue; // a view: its consumers already count for the root
            cellnet_node *r = &net->node[view_root(net, nd->in[k])];
            if (r->grad_from < c) r->grad_from = c;
        }
    }
    free(need);
}

/* Lay the arena out for batch B: sets every node's offsets; returns the floats needed, and the
 * argmax ints and the im2col floats in *ints and *cols. The scratch is the im2col columns followed
 * by one temporary of the largest tensor. Outputs (and BN caches, pre-BN values) first, each its
 * own; then the gradients, placed first-fit among those live at the same time. */
static size_t layout(cellnet *net, int B, size_t *ints, size_t *cols, size_t *tmp) {
    size_t off = 0, ioff = 0, col = 0, tmax = 0;
    liveness(net);
    for (int i = 0; i < net->n_nodes; i++) {
        cellnet_node *nd = &net->node[i];
        size_t T = (size_t)nd->C * B * plane(nd);
        if (T > tmax) tmax = T;
        if (nd->op == CN_SLICE) continue; // a view of its input
        nd->a_out = off, off += T;
        if (nd->op == CN_CONV_BN_RELU) nd->a_aux = off, off += T;
        if (nd->op == CN_MAXPOOL) nd->a_aux = ioff, ioff += T;
        if (nd->op == CN_BN || nd->op == CN_CONV_BN_RELU) nd->a_cache = off, off += batchnorm2d_cache_size(nd->C);
        if (is_conv(nd) && !conv_direct(nd)) {
            size_t c;
            conv_chunk(net, nd, B, &c);
            if (c > col) col = c;
        }
    }
    // gradients: node i is live over steps [i, grad_from]; place each at the lowest offset that
    // overlaps no placed buffer live at an overlapping time
    size_t dend = 0;
    int *placed = xmalloc((size_t)net->n_nodes * sizeof *placed), np = 0;
    for (int i = net->n_nodes - 1; i >= 0; i--) {
        cellnet_node *nd = &net->node[i];
        if (nd->op == CN_SLICE || nd->grad_from < 0) continue;
        size_t T = (size_t)nd->C * B * plane(nd), at = 0;
        for (int moved = 1; moved;) { // raise `at` past every conflict until none is left
            moved = 0;
            for (int k = 0; k < np; k++) {
                const cellnet_node *q = &net->node[placed[k]];
                size_t qT = (size_t)q->C * B * plane(q);
                int time_overlap = net->keep_grads || !(q->grad_from < i || nd->grad_from < placed[k]);
                if (time_overlap && q->a_dout < at + T && at < q->a_dout + qT) {
                    at = q->a_dout + qT;
                    moved = 1;
                }
            }
        }
        nd->a_dout = at; // relative to the gradient region, moved below
        if (at + T > dend) dend = at + T;
        placed[np++] = i;
    }
    free(placed);
    for (int i = 0; i < net->n_nodes; i++)
        if (net->node[i].op != CN_SLICE && net->node[i].grad_from >= 0) net->node[i].a_dout += off;
    *ints = ioff;
    *cols = col;
    *tmp = tmax;
    return off + dend;
}

size_t cellnet_memory_floats(const cellnet *net, int max_batch) {
    size_t ints, cols, tmax;
    cellnet tmp = *net;
    tmp.node = xcalloc((size_t)net->n_nodes, sizeof *tmp.node);
    memcpy(tmp.node, net->node, (size_t)net->n_nodes * sizeof *tmp.node);
    size_t f = layout(&tmp, max_batch, &ints, &cols, &tmax);
    free(tmp.node);
    return f + ints + cols + tmax + 3 * cellnet_param_count(net);
}

int cellnet_compile(cellnet *net, int max_batch, char *err, size_t errlen) {
    if (net->err[0]) {
        snprintf(err, errlen, "%s", net->err);
        return -1;
    }
    if (net->output < 0) net->output = net->n_nodes - 1;
    const cellnet_node *o = &net->node[net->output];
    if (o->H != 1 || o->W != 1) {
        snprintf(err, errlen, "the output node %d is %dx%d, needs 1x1", net->output, o->H, o->W);
        return -1;
    }
    if (max_batch < 1) {
        snprintf(err, errlen, "batch size %d", max_batch);
        return -1;
    }
    net->max_batch = max_batch;
    net->n_params = cellnet_param_count(net);
    net->n_buffers = 0;
    for (int i = 0; i < net->n_nodes; i++)
        if (net->node[i].op == CN_BN || net->node[i].op == CN_CONV_BN_RELU) net->n_buffers += 2 * (size_t)net->node[i].C;
    net->params = xcalloc(net->n_params + 1, sizeof(float));
    net->grads = xcalloc(net->n_params + 1, sizeof(float));
    net->buffers = xcalloc(net->n_buffers + 1, sizeof(float));
    size_t tmax;
    net->arena_floats = layout(net, max_batch, &net->iarena_ints, &net->col_floats, &tmax);
    net->scratch_floats = net->col_floats + tmax;
    net->arena = xcalloc(net->arena_floats + 1, sizeof(float));
    net->iarena = xcalloc(net->iarena_ints + 1, sizeof(int));
    net->scratch = xcalloc(net->scratch_floats + 1, sizeof(float));
    net->logits = xcalloc((size_t)max_batch * o->C, sizeof(float));
    net->probs = xcalloc((size_t)max_batch * o->C, sizeof(float));
    for (int i = 0; i < net->n_nodes; i++) {
        const cellnet_node *nd = &net->node[i];
        if (nd->op == CN_BN || nd->op == CN_CONV_BN_RELU)
            for (int c = 0; c < nd->C; c++) net->buffers[nd->b_off + nd->C + c] = 1.0f; // running var
    }
    return 0;
}

/* Uniform in [-a, a). */
static void fill_uniform(float *p, size_t n, double a, rng_mt *r) {
    for (size_t i = 0; i < n; i++) p[i] = (float)((2.0 * rng_double(r) - 1.0) * a);
}

void cellnet_init_params(cellnet *net, rng_mt *r) {
    memset(net->params, 0, net->n_params * sizeof(float));
    for (int i = 0; i < net->n_nodes; i++) {
        const cellnet_node *nd = &net->node[i];
        float *p = net->params + nd->p_off;
        int C = nd->n_in ? net->node[nd->in[0]].C : 0;
        size_t KK = (size_t)nd->K * nd->K;
        switch (nd->op) {
        case CN_CONV:
        case CN_CONV_BN_RELU: {
            size_t w = (size_t)nd->C * C * KK;
            fill_uniform(p, w, sqrt(3.0 / (double)(C * KK)), r); // variance 1/fan_in
            if (nd->op == CN_CONV_BN_RELU)
                for (int c = 0; c < nd->C; c++) p[w + c] = 1.0f; // gamma; beta stays 0
            break;
        }
        case CN_DWCONV: fill_uniform(p, nd->p_len, sqrt(3.0 / (double)KK), r); break;
        case CN_DENSE: fill_uniform(p, (size_t)nd->C * C, sqrt(6.0 / (double)(C + nd->C)), r); break;
        case CN_BN:
            for (int c = 0; c < nd->C; c++) p[c] = 1.0f;
            break;
        default: break;
        }
    }
    for (int i = 0; i < net->n_nodes; i++) {
        const cellnet_node *nd = &net->node[i];
        if (nd->op != CN_BN && nd->op != CN_CONV_BN_RELU) continue;
        for (int c = 0; c < nd->C; c++) {
            net->buffers[nd->b_off + c] = 0.0f;
            net->buffers[nd->b_off + nd->C + c] = 1.0f;
        }
    }
}

/* ------------------------------------------------------------- running */

/* The output (and its gradient) of node id for batch B: a slice is a view into its input. */
static float *out_of(const cellnet *net, int id, int B) {
    const cellnet_node *nd = &net->node[id];
    if (nd->op == CN_SLICE) return out_of(net, nd->in[0], B) + (size_t)nd->c0 * B * plane(nd);
    return net->arena + nd->a_out;
}

static float *dout_of(const cellnet *net, int id, int B) {
    const cellnet_node *nd = &net->node[id];
    if (nd->op == CN_SLICE) return dout_of(net, nd->in[0], B) + (size_t)nd->c0 * B * plane(nd);
    return net->arena + nd->a_dout;
}

/* ---- vectorised channel-major kernels (GCC/clang vector extensions, 8 floats as two 4-float
 * vectors: SSE2, the x86-64 baseline, without ABI questions). The build has no -ffast-math, so the compiler does not vectorise reductions or
 * loops whose pointers may alias by itself; these loops are the memory-bound half of a step. ---- */
typedef float v4 __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));
/* two v4 side by side */
typedef struct {
    v4 a, b;
} v8;

static inline v8 vld(const float *p) {
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vst(float *p, v8 v) {
    memcpy(p, &v, sizeof v);
}

static inline v8 vset(float f) {
    v4 x = {f, f, f, f};
    return (v8){x, x};
}

static inline v8 vadd(v8 x, v8 y) { return (v8){x.a + y.a, x.b + y.b}; }
static inline v8 vsub(v8 x, v8 y) { return (v8){x.a - y.a, x.b - y.b}; }
static inline v8 vmul(v8 x, v8 y) { return (v8){x.a * y.a, x.b * y.b}; }
static inline v8 vfma(v8 x, v8 y, v8 z) { return vadd(vmul(x, y), z); } // x*y + z, not fused

static inline double vhsum(v8 v) {
    return ((double)v.a[0] + v.a[1]) + ((double)v.a[2] + v.a[3]) + ((double)v.b[0] + v.b[1]) +
           ((double)v.b[2] + v.b[3]);
}

/* v where keep > 0, else 0 (the ReLU and its mask). */
static inline v8 vmask_pos(v8 v, v8 keep) {
    const v4 z = {0, 0, 0, 0};
    return (v8){(v4)((v4i)v.a & (keep.a > z)), (v4)((v4i)v.b & (keep.b > z))};
}

#define BLOCK 1024 /* floats summed in float lanes before the sum moves to double */

/* sum x, and sum (x - mean)^2, over n floats: float lanes per block, double across blocks */
static double vsum(const float *x, size_t n) {
    double s = 0.0;
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t e = b + BLOCK < n ? b + BLOCK : n, i = b;
        v8 acc = vset(0.0f);
        for (; i + 8 <= e; i += 8) acc = vadd(acc, vld(x + i));
        s += vhsum(acc);
        for (; i < e; i++) s += x[i];
    }
    return s;
}

static double vsumsq_dev(const float *x, size_t n, float mean) {
    double s = 0.0;
    const v8 m = vset(mean);
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t e = b + BLOCK < n ? b + BLOCK : n, i = b;
        v8 acc = vset(0.0f);
        for (; i + 8 <= e; i += 8) {
            v8 d = vsub(vld(x + i), m);
            acc = vfma(d, d, acc);
        }
        s += vhsum(acc);
        for (; i < e; i++) s += ((double)x[i] - mean) * ((double)x[i] - mean);
    }
    return s;
}

/* d += s over n floats. */
static void vacc(float *d, const float *s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) vst(d + i, vadd(vld(d + i), vld(s + i)));
    for (; i < n; i++) d[i] += s[i];
}

/* (m, i) <- (v, j) where v > m: the running maximum and its index, 4 lanes at a time. */
static inline void vmax_arg(v4 *m, v4i *i, v4 v, v4i j) {
    v4i gt = v > *m;
    *m = (v4)(((v4i)v & gt) | ((v4i)*m & ~gt));
    *i = (j & gt) | (*i & ~gt);
}

/* One column of row_max3, scalar. */
static inline void row_max3_at(float *hv, int *hi, const float *row, int W, int base, int c) {
    int b = c > 0 ? c - 1 : c;
    float v = row[b];
    for (int j = b + 1; j <= c + 1 && j < W; j++)
        if (row[j] > v) v = row[j], b = j;
    hv[c] = v, hi[c] = base + b;
}

/* Maxima of a row of W pixels over the windows c-1..c+1 (clipped to the row): hv[c] = the maximum,
 * hi[c] = base + the column of its first occurrence. */
static void row_max3(float *hv, int *hi, const float *row, int W, int base) {
    row_max3_at(hv, hi, row, W, base, 0);
    int c = 1;
    for (; c + 4 < W; c += 4) { // columns c..c+3, whose windows lie inside the row
        v4 a, b, d;
        memcpy(&a, row + c - 1, sizeof a);
        memcpy(&b, row + c, sizeof b);
        memcpy(&d, row + c + 1, sizeof d);
        const v4i one = {1, 1, 1, 1}, ia = {base + c - 1, base + c, base + c + 1, base + c + 2};
        v4 m = a;
        v4i i = ia;
        vmax_arg(&m, &i, b, ia + one);
        vmax_arg(&m, &i, d, ia + one + one);
        memcpy(hv + c, &m, sizeof m);
        memcpy(hi + c, &i, sizeof i);
    }
    for (; c < W; c++) row_max3_at(hv, hi, row, W, base, c);
}

/* 3x3 max pool, stride 1, padding 1 (NB101's maxpool3x3) over n planes of HxW (W <= 256):
 * separable, with the row maxima of every input row computed once. Same results and argmax (the
 * first maximum in row-major window order) as cnn.c's maxpool2d_forward (tested). */
static void maxpool3_fwd(float *out, int *argmax, const float *inp, size_t n, int H, int W) {
    float hv[3][256];
    int hi[3][256];
    for (size_t pl = 0; pl < n; pl++) {
        const float *x = inp + pl * H * W;
        float *o = out + pl * H * W;
        int *am = argmax + pl * H * W;
        row_max3(hv[0], hi[0], x, W, 0);
        if (H > 1) row_max3(hv[1], hi[1], x + W, W, W);
        for (int r = 0; r < H; r++) {
            if (r >= 1 && r + 1 < H) // row r+1's maxima, into its slot (row r-2's is no longer needed)
                row_max3(hv[(r + 1) % 3], hi[(r + 1) % 3], x + (size_t)(r + 1) * W, W, (r + 1) * W);
            int lo = r > 0 ? r - 1 : r, up = r + 1 < H ? r + 1 : r;
            float *orow = o + (size_t)r * W;
            int *arow = am + (size_t)r * W;
            int c = 0;
            for (; c + 4 <= W; c += 4) {
                v4 m, v;
                v4i i, j;
                memcpy(&m, hv[lo % 3] + c, sizeof m);
                memcpy(&i, hi[lo % 3] + c, sizeof i);
                for (int q = lo + 1; q <= up; q++) {
                    memcpy(&v, hv[q % 3] + c, sizeof v);
                    memcpy(&j, hi[q % 3] + c, sizeof j);
                    vmax_arg(&m, &i, v, j);
                }
                memcpy(orow + c, &m, sizeof m);
                memcpy(arow + c, &i, sizeof i);
            }
            for (; c < W; c++) {
                float v = hv[lo % 3][c];
                int b = hi[lo % 3][c];
                for (int q = lo + 1; q <= up; q++)
                    if (hv[q % 3][c] > v) v = hv[q % 3][c], b = hi[q % 3][c];
                orow[c] = v, arow[c] = b;
            }
        }
    }
}

/* 2x2 max pool, stride 2, no padding (NB101's downsampling) over n planes of HxW: out (OH,OW) =
 * (H/2, W/2); the first maximum in row-major window order, as maxpool2d_forward. */
static void maxpool2_fwd(float *out, int *argmax, const float *inp, size_t n, int H, int W) {
    const int OH = H / 2, OW = W / 2;
    for (size_t pl = 0; pl < n; pl++) {
        const float *x = inp + pl * H * W;
        float *o = out + pl * OH * OW;
        int *am = argmax + pl * OH * OW;
        for (int y = 0; y < OH; y++) {
            const float *r0 = x + (size_t)(2 * y) * W, *r1 = r0 + W;
            for (int c = 0; c < OW; c++) {
                int k = 2 * c;
                float m = r0[k];
                int b = 2 * y * W + k;
                if (r0[k + 1] > m) m = r0[k + 1], b = 2 * y * W + k + 1;
                if (r1[k] > m) m = r1[k], b = (2 * y + 1) * W + k;
                if (r1[k + 1] > m) m = r1[k + 1], b = (2 * y + 1) * W + k + 1;
                o[y * OW + c] = m;
                am[y * OW + c] = b;
            }
        }
    }
}

/* [xlo, xhi): the output columns x (of OW) whose input column x*S - P + j lies in [0, W). */
static inline void x_range(int *xlo, int *xhi, int W, int S, int P, int j, int OW) {
    int lo = P - j > 0 ? (P - j + S - 1) / S : 0;
    int hi = W - 1 + P - j >= 0 ? (W - 1 + P - j) / S + 1 : 0;
    if (hi > OW) hi = OW;
    *xlo = lo < hi ? lo : hi;
    *xhi = hi;
}

/* col (C*K*K, nb*OH*OW) <- images n0..n0+nb-1 of inp (C,B,H,W): row (c,i,j), column (n,y,x) holds
 * pixel (y*S-P+i, x*S-P+j) of image n0+n, channel c, or 0 in the padding. */
static void im2col_cb(float *col, const float *inp, int C, int B, int H, int W, int K, int S, int P,
                      int OH, int OW, int n0, int nb) {
    size_t OHW = (size_t)OH * OW, ncol = (size_t)nb * OHW;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                float *row = col + ((size_t)(c * K + i) * K + j) * ncol;
                int xlo, xhi;
                x_range(&xlo, &xhi, W, S, P, j, OW);
                for (int n = 0; n < nb; n++) {
                    const float *pl = inp + ((size_t)c * B + n0 + n) * H * W;
                    for (int y = 0; y < OH; y++) {
                        float *r = row + n * OHW + (size_t)y * OW;
                        int iy = y * S - P + i;
                        if (iy < 0 || iy >= H) {
                            memset(r, 0, (size_t)OW * sizeof(float));
                            continue;
                        }
                        const float *src = pl + (size_t)iy * W - P + j;
                        for (int x = 0; x < xlo; x++) r[x] = 0.0f;
                        if (S == 1) memcpy(r + xlo, src + xlo, (size_t)(xhi - xlo) * sizeof(float));
                        else
                            for (int x = xlo; x < xhi; x++) r[x] = src[x * S];
                        for (int x = xhi; x < OW; x++) r[x] = 0.0f;
                    }
                }
            }
}

/* dinp (C,B,H,W) += the adjoint of im2col_cb applied to col. */
static void col2im_cb(float *dinp, const float *col, int C, int B, int H, int W, int K, int S, int P,
                      int OH, int OW, int n0, int nb) {
    size_t OHW = (size_t)OH * OW, ncol = (size_t)nb * OHW;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                const float *row = col + ((size_t)(c * K + i) * K + j) * ncol;
                int xlo, xhi;
                x_range(&xlo, &xhi, W, S, P, j, OW);
                for (int n = 0; n < nb; n++) {
                    float *pl = dinp + ((size_t)c * B + n0 + n) * H * W;
                    for (int y = 0; y < OH; y++) {
                        int iy = y * S - P + i;
                        if (iy < 0 || iy >= H) continue;
                        const float *r = row + n * OHW + (size_t)y * OW;
                        float *dst = pl + (size_t)iy * W - P + j;
                        if (S == 1 && xhi > xlo) vacc(dst + xlo, r + xlo, (size_t)(xhi - xlo));
                        else
                            for (int x = xlo; x < xhi; x++) dst[x * S] += r[x];
                    }
                }
            }
}

/* out (OC,B,OH,OW) = conv of x (C,B,H,W) with Wt (OC,C,K,K) [+ bias (OC)]. */
static void conv_fwd(cellnet *net, const cellnet_node *nd, float *out, const float *x,
                     const float *Wt, const float *bias, int B) {
    const cellnet_node *in = &net->node[nd->in[0]];
    int C = in->C, OC = nd->C, CKK = C * nd->K * nd->K;
    size_t OHW = plane(nd), ld = (size_t)B * OHW;
    float beta = 0.0f;
    if (bias) { // preload the bias; the GEMM adds the product
        for (int oc = 0; oc < OC; oc++)
            for (size_t k = 0; k < ld; k++) out[oc * ld + k] = bias[oc];
        beta = 1.0f;
    }
    if (conv_direct(nd)) { // the input already is its own im2col: one GEMM over the whole batch
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int)ld, C, 1.0f, Wt, C, x,
                    (int)ld, beta, out, (int)ld);
        return;
    }
    int nb = conv_chunk(net, nd, B, NULL);
    for (int n0 = 0; n0 < B; n0 += nb) {
        int m = B - n0 < nb ? B - n0 : nb;
        im2col_cb(net->scratch, x, C, B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, n0, m);
        // out[:, n0..n0+m) (OC, m*OHW) = Wt (OC,CKK) . col (CKK, m*OHW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int)(m * OHW), CKK, 1.0f, Wt,
                    CKK, net->scratch, (int)(m * OHW), beta, out + n0 * OHW, (int)ld);
    }
}

/* Backward of conv_fwd: dx += , dWt += , dbias += (dx, dbias may be NULL). */
static void conv_bwd(cellnet *net, const cellnet_node *nd, float *dx, float *dWt, float *dbias,
                     const float *dout, const float *x, const float *Wt, int B) {
    const cellnet_node *in = &net->node[nd->in[0]];
    int C = in->C, OC = nd->C, CKK = C * nd->K * nd->K;
    size_t OHW = plane(nd), ld = (size_t)B * OHW;
    if (dbias)
        for (int oc = 0; oc < OC; oc++) {
            const float *g = dout + oc * ld;
            double s = 0.0;
            for (size_t k = 0; k < ld; k++) s += g[k];
            dbias[oc] += (float)s;
        }
    if (conv_direct(nd)) {
        // dWt (OC,C) += dout (OC,ld) . x^T (ld,C); dx (C,ld) += Wt^T (C,OC) . dout (OC,ld)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, C, (int)ld, 1.0f, dout, (int)ld, x,
                    (int)ld, 1.0f, dWt, C);
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, (int)ld, OC, 1.0f, Wt, C, dout,
                        (int)ld, 1.0f, dx, (int)ld);
        return;
    }
    int nb = conv_chunk(net, nd, B, NULL);
    for (int n0 = 0; n0 < B; n0 += nb) {
        int m = B - n0 < nb ? B - n0 : nb;
        int cols = (int)(m * OHW);
        im2col_cb(net->scratch, x, C, B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, n0, m);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, cols, 1.0f, dout + n0 * OHW,
                    (int)ld, net->scratch, cols, 1.0f, dWt, CKK);
        if (!dx) continue;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, cols, OC, 1.0f, Wt, CKK,
                    dout + n0 * OHW, (int)ld, 0.0f, net->scratch, cols);
        col2im_cb(dx, net->scratch, C, B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, n0, m);
    }
}

/* The temporary tensor in scratch, after the im2col columns. */
static float *tmp_buf(const cellnet *net) {
    return net->scratch + net->col_floats;
}

/* Batch norm over channel-major x (C, M) (M = B*H*W values per channel), optionally followed by a
 * ReLU. Training mode: the batch mean and biased variance (two passes, as cnn.c's
 * batchnorm2d_forward_train), cache = (mean, rstd) per channel, running statistics moved with the
 * unbiased variance; evaluation mode: the running statistics. out = max(0, x*scale + shift). */
static void bn_fwd(float *out, float *cache, const float *x, const float *gamma, const float *beta,
                   float *rm, float *rv, int C, size_t M, float mom, float eps, int train, int relu) {
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * M;
        float *oc = out + (size_t)c * M;
        float mean, rstd;
        if (train) {
            double mu = vsum(xc, M) / (double)M, v = vsumsq_dev(xc, M, (float)mu);
            mean = (float)mu;
            rstd = (float)(1.0 / sqrt(v / (double)M + eps));
            cache[c] = mean;
            cache[C + c] = rstd;
            rm[c] = (1.0f - mom) * rm[c] + mom * mean;
            rv[c] = (1.0f - mom) * rv[c] + mom * (float)(M > 1 ? v / (double)(M - 1) : v);
        } else {
            mean = rm[c];
            rstd = (float)(1.0 / sqrt((double)rv[c] + eps));
        }
        const float sc = gamma[c] * rstd, sh = beta[c] - mean * sc;
        const v8 vs = vset(sc), vh = vset(sh);
        size_t i = 0;
        if (relu) {
            for (; i + 8 <= M; i += 8) {
                v8 y = vfma(vld(xc + i), vs, vh);
                vst(oc + i, vmask_pos(y, y));
            }
            for (; i < M; i++) {
                float y = xc[i] * sc + sh;
                oc[i] = y > 0.0f ? y : 0.0f;
            }
        } else {
            for (; i + 8 <= M; i += 8) vst(oc + i, vfma(vld(xc + i), vs, vh));
            for (; i < M; i++) oc[i] = xc[i] * sc + sh;
        }
    }
}

/* Backward of bn_fwd in training mode. relu_out (the forward's output) not NULL: the ReLU's mask
 * applies to dout first. With g the (masked) dout, xhat = (x - mean) * rstd, per channel:
 *   dgamma += sum g*xhat, dbeta += sum g, dx = rstd * (gamma*g - mean(gamma*g) - xhat*mean(gamma*g*xhat)),
 * ADDED to dx if accumulate, else written. dx may be NULL. */
static void bn_bwd(float *dx, float *dgamma, float *dbeta, const float *dout, const float *relu_out,
                   const float *x, const float *cache, const float *gamma, int C, size_t M, int accumulate) {
    for (int c = 0; c < C; c++) {
        const size_t o = (size_t)c * M;
        const float *gc = dout + o, *xc = x + o, *rc = relu_out ? relu_out + o : NULL;
        const float mean = cache[c], rstd = cache[C + c];
        const v8 vm = vset(mean), vr = vset(rstd);
        double sd = 0.0, sdx = 0.0;
        for (size_t b = 0; b < M; b += BLOCK) {
            size_t e = b + BLOCK < M ? b + BLOCK : M, i = b;
            v8 a1 = vset(0.0f), a2 = vset(0.0f);
            for (; i + 8 <= e; i += 8) {
                v8 g = vld(gc + i);
                if (rc) g = vmask_pos(g, vld(rc + i));
                a1 = vadd(a1, g);
                a2 = vfma(g, vmul(vsub(vld(xc + i), vm), vr), a2);
            }
            sd += vhsum(a1);
            sdx += vhsum(a2);
            for (; i < e; i++) {
                float g = rc && rc[i] <= 0.0f ? 0.0f : gc[i];
                sd += g;
                sdx += (double)g * ((xc[i] - mean) * rstd);
            }
        }
        dbeta[c] += (float)sd;
        dgamma[c] += (float)sdx;
        if (!dx) continue;
        const float gm = gamma[c], mg = (float)(gm * sd / (double)M), mgx = (float)(gm * sdx / (double)M);
        const v8 vg = vset(gm), vmg = vset(mg), vmgx = vset(mgx);
        float *dc = dx + o;
        size_t i = 0;
        for (; i + 8 <= M; i += 8) {
            v8 g = vld(gc + i);
            if (rc) g = vmask_pos(g, vld(rc + i));
            v8 xh = vmul(vsub(vld(xc + i), vm), vr);
            v8 d = vmul(vr, vsub(vsub(vmul(vg, g), vmg), vmul(xh, vmgx)));
            vst(dc + i, accumulate ? vadd(vld(dc + i), d) : d);
        }
        for (; i < M; i++) {
            float g = rc && rc[i] <= 0.0f ? 0.0f : gc[i];
            float d = rstd * (gm * g - mg - (xc[i] - mean) * rstd * mgx);
            dc[i] = accumulate ? dc[i] + d : d;
        }
    }
}

/* dx += dout where out > 0 (ReLU backward). */
static void relu_bwd(float *dx, const float *dout, const float *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) vst(dx + i, vadd(vld(dx + i), vmask_pos(vld(dout + i), vld(out + i))));
    for (; i < n; i++)
        if (out[i] > 0.0f) dx[i] += dout[i];
}

static void relu_fwd(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 v = vld(x + i);
        vst(out + i, vmask_pos(v, v));
    }
    for (; i < n; i++) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

const float *cellnet_forward(cellnet *net, const float *x, int B, int train) {
    net->batch = B;
    net->train = train;
    const float mom = net->bn_momentum, eps = net->bn_eps;
    for (int id = 0; id < net->n_nodes; id++) {
        const cellnet_node *nd = &net->node[id];
        float *out = out_of(net, id, B);
        const float *a = nd->n_in ? out_of(net, nd->in[0], B) : NULL;
        const float *p = net->params + nd->p_off;
        int C = nd->C;
        size_t HW = plane(nd), T = (size_t)C * B * HW;
        const cellnet_node *in = nd->n_in ? &net->node[nd->in[0]] : NULL;
        switch (nd->op) {
        case CN_INPUT: // (B,C,HW) -> (C,B,HW)
            for (int n = 0; n < B; n++)
                for (int c = 0; c < C; c++)
                    memcpy(out + ((size_t)c * B + n) * HW, x + ((size_t)n * C + c) * HW, HW * sizeof(float));
            break;
        case CN_CONV:
            conv_fwd(net, nd, out, a, p, nd->bias ? p + (size_t)C * in->C * nd->K * nd->K : NULL, B);
            break;
        case CN_DENSE: conv_fwd(net, nd, out, a, p, p + (size_t)C * in->C, B); break;
        case CN_CONV_BN_RELU: {
            float *pre = net->arena + nd->a_aux;
            const float *gamma = p + (size_t)C * in->C * nd->K * nd->K, *beta = gamma + C;
            float *rm = net->buffers + nd->b_off, *rv = rm + C;
            conv_fwd(net, nd, pre, a, p, NULL, B);
            bn_fwd(out, net->arena + nd->a_cache, pre, gamma, beta, rm, rv, C, B * HW, mom, eps, train, 1);
            break;
        }
        case CN_BN: {
            float *rm = net->buffers + nd->b_off, *rv = rm + C;
            bn_fwd(out, net->arena + nd->a_cache, a, p, p + C, rm, rv, C, B * HW, mom, eps, train, 0);
            break;
        }
        case CN_RELU: relu_fwd(out, a, T); break;
        case CN_DWCONV:
            for (int c = 0; c < C; c++)
                dwconv2d_forward(out + (size_t)c * B * HW, a + (size_t)c * B * plane(in),
                                 p + (size_t)c * nd->K * nd->K, B, 1, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_MAXPOOL:
            if (nd->K == 3 && nd->S == 1 && nd->P == 1 && in->W <= 256)
                maxpool3_fwd(out, net->iarena + nd->a_aux, a, (size_t)C * B, in->H, in->W);
            else if (nd->K == 2 && nd->S == 2 && nd->P == 0)
                maxpool2_fwd(out, net->iarena + nd->a_aux, a, (size_t)C * B, in->H, in->W);
            else maxpool2d_forward(out, net->iarena + nd->a_aux, a, 1, C * B, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_AVGPOOL: avgpool2d_forward(out, a, 1, C * B, in->H, in->W, nd->K, nd->S, nd->P); break;
        case CN_CONCAT: {
            size_t off = 0;
            for (int k = 0; k < nd->n_in; k++) {
                size_t t = (size_t)net->node[nd->in[k]].C * B * HW;
                memcpy(out + off, out_of(net, nd->in[k], B), t * sizeof(float));
                off += t;
            }
            break;
        }
        case CN_SLICE: break; // a view
        case CN_ADD:
            memcpy(out, a, T * sizeof(float));
            for (int k = 1; k < nd->n_in; k++) vacc(out, out_of(net, nd->in[k], B), T);
            break;
        case CN_GAP: global_avgpool_forward(out, a, 1, C * B, (int)plane(in)); break;
        case CN_SUBSAMPLE:
            for (size_t q = 0; q < (size_t)C * B; q++)
                for (int y = 0; y < nd->H; y++)
                    for (int x0 = 0; x0 < nd->W; x0++) {
                        int iy = y * nd->S + nd->P, ix = x0 * nd->S + nd->P;
                        out[(q * nd->H + y) * nd->W + x0] =
                            iy < in->H && ix < in->W ? a[(q * in->H + iy) * in->W + ix] : 0.0f;
                    }
            break;
        }
    }
    // logits (B,K) <- the output node (K,B)
    const cellnet_node *o = &net->node[net->output];
    const float *lo = out_of(net, net->output, B);
    for (int k = 0; k < o->C; k++)
        for (int n = 0; n < B; n++) net->logits[(size_t)n * o->C + k] = lo[(size_t)k * B + n];
    return net->logits;
}

double cellnet_loss(cellnet *net, const int *y) {
    int K = net->node[net->output].C;
    return crossentropy_forward(net->probs, net->logits, y, NULL, net->batch, K);
}

int cellnet_correct(const cellnet *net, const int *y) {
    int K = net->node[net->output].C, hits = 0;
    for (int n = 0; n < net->batch; n++) {
        const float *l = net->logits + (size_t)n * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (l[k] > l[best]) best = k;
        hits += best == y[n];
    }
    return hits;
}

void cellnet_zero_grad(cellnet *net) {
    memset(net->grads, 0, net->n_params * sizeof(float));
}

/* Zero the gradients that step `step` of the backward writes first (backward functions accumulate;
 * the buffers are shared, so each starts at 0 when it becomes live). */
static void zero_live_grads(cellnet *net, int step, int B) {
    for (int i = 0; i < net->n_nodes; i++) {
        const cellnet_node *nd = &net->node[i];
        if (nd->op != CN_SLICE && nd->grad_from == step)
            memset(net->arena + nd->a_dout, 0, (size_t)nd->C * B * plane(nd) * sizeof(float));
    }
}

void cellnet_backward(cellnet *net, const int *y, float scale) {
    const int B = net->batch;
    // dlogits (B,K) -> the output node's gradient (K,B)
    zero_live_grads(net, net->output, B);
    const cellnet_node *o = &net->node[net->output];
    int K = o->C;
    float *dl = tmp_buf(net);
    memset(dl, 0, (size_t)B * K * sizeof(float));
    crossentropy_backward(dl, net->probs, y, NULL, scale, B, K);
    float *dlo = dout_of(net, net->output, B);
    for (int k = 0; k < K; k++)
        for (int n = 0; n < B; n++) dlo[(size_t)k * B + n] += dl[(size_t)n * K + k];

    for (int id = net->output; id > 0; id--) {
        const cellnet_node *nd = &net->node[id];
        if (nd->op == CN_SLICE || nd->grad_from < 0) continue; // a view, or no gradient reaches it
        if (id < net->output) zero_live_grads(net, id, B);
        const cellnet_node *in = &net->node[nd->in[0]];
        float *dout = dout_of(net, id, B);
        const float *out = out_of(net, id, B);
        const float *a = out_of(net, nd->in[0], B);
        float *da = in->op == CN_INPUT ? NULL : dout_of(net, nd->in[0], B);
        const float *p = net->params + nd->p_off;
        float *g = net->grads + nd->p_off;
        int C = nd->C;
        size_t HW = plane(nd), T = (size_t)C * B * HW;
        switch (nd->op) {
        case CN_INPUT: break;
        case CN_CONV:
            conv_bwd(net, nd, da, g, nd->bias ? g + (size_t)C * in->C * nd->K * nd->K : NULL, dout, a, p, B);
            break;
        case CN_DENSE: conv_bwd(net, nd, da, g, g + (size_t)C * in->C, dout, a, p, B); break;
        case CN_CONV_BN_RELU: {
            size_t w = (size_t)C * in->C * nd->K * nd->K;
            const float *pre = net->arena + nd->a_aux;
            float *dpre = tmp_buf(net); // through the ReLU and the BN into the conv's output
            bn_bwd(dpre, g + w, g + w + C, dout, out, pre, net->arena + nd->a_cache, p + w, C, B * HW, 0);
            conv_bwd(net, nd, da, g, NULL, dpre, a, p, B);
            break;
        }
        case CN_BN:
            bn_bwd(da, g, g + C, dout, NULL, a, net->arena + nd->a_cache, p, C, B * HW, 1);
            break;
        case CN_RELU:
            if (da) relu_bwd(da, dout, out, T);
            break;
        case CN_DWCONV:
            for (int c = 0; c < C; c++)
                dwconv2d_backward(da ? da + (size_t)c * B * plane(in) : NULL, g + (size_t)c * nd->K * nd->K,
                                  dout + (size_t)c * B * HW, a + (size_t)c * B * plane(in),
                                  p + (size_t)c * nd->K * nd->K, B, 1, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_MAXPOOL:
            if (da) maxpool2d_backward(da, dout, net->iarena + nd->a_aux, 1, C * B, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_AVGPOOL:
            if (da) avgpool2d_backward(da, dout, 1, C * B, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_CONCAT: {
            size_t off = 0;
            for (int k = 0; k < nd->n_in; k++) {
                size_t t = (size_t)net->node[nd->in[k]].C * B * HW;
                if (net->node[nd->in[k]].op != CN_INPUT) vacc(dout_of(net, nd->in[k], B), dout + off, t);
                off += t;
            }
            break;
        }
        case CN_SLICE: break; // its gradient is a view of its input's
        case CN_ADD:
            for (int k = 0; k < nd->n_in; k++) {
                if (net->node[nd->in[k]].op != CN_INPUT) vacc(dout_of(net, nd->in[k], B), dout, T);
            }
            break;
        case CN_GAP:
            if (da) global_avgpool_backward(da, dout, 1, C * B, (int)plane(in));
            break;
        case CN_SUBSAMPLE:
            if (da)
                for (size_t q = 0; q < (size_t)C * B; q++)
                    for (int oy = 0; oy < nd->H; oy++)
                        for (int ox = 0; ox < nd->W; ox++) {
                            int iy = oy * nd->S + nd->P, ix = ox * nd->S + nd->P;
                            if (iy < in->H && ix < in->W)
                                da[(q * in->H + iy) * in->W + ix] += dout[(q * nd->H + oy) * nd->W + ox];
                        }
            break;
        }
    }
}
