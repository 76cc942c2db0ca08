/* cellnet_exec.c: running a compiled cellnet (cellnet.h): forward, loss, backward.
 *
 * Tensors are channel-major (C,B,H,W) for the batch size B of the current forward: node tensors
 * are laid out in an arena sized for max_batch, each using its first C*B*H*W floats. The window
 * operations of cnn.c work on (N,C,H,W) planes, and (C,B,H,W) is also a sequence of C*B planes of
 * HxW: a task's images of channel c are the planes c*B+n0 .. c*B+n0+m, which the pools take with
 * N=1. Batch norm's statistics of a channel are one contiguous block. Each node's step is run as
 * the CELLNET_TASKS tasks of cellnet_internal.h: slices of the images, slices of the channels for
 * batch norm and the depthwise conv's backward; convolutions in cellnet_conv.c. */
#include "cellnet.h"

#include <stdlib.h>
#include <string.h>

#include "cellnet_internal.h"
#include "cnn.h"
#include "nn.h"

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


/* One node's step, shared by its tasks. */
typedef struct {
    cellnet *net;
    int id, B, train;
    const float *x; /* forward: the network's input (B,C,H,W) */
} node_job;

/* The parts of a node's step that every task needs. */
typedef struct {
    const cellnet *net;
    int id;
    const float *x;              /* forward: the network's input */
    const cellnet_node *nd, *in; /* node id, its first input */
    int B, n0, m;                /* the batch; the task's images [n0, n0+m) */
    int c0, c1;                  /* the task's channels */
    size_t HW, iHW, span;        /* planes of the node and of its input; the task's floats of a channel */
    const float *a, *p;          /* the first input's output, the node's parameters */
    float *out, *dout, *da;      /* the node's output and gradient, its first input's gradient (NULL
                                    for the network's input) */
} task_view;

/* Task t's view of j's node: its images (by_channels 0: all channels) or its channels (1: all
 * images). 0 if it has none. */
static int view_task(const void *ctx, int t, int by_channels, task_view *v) {
    const node_job *j = ctx;
    const cellnet_node *nd = &j->net->node[j->id];
    *v = (task_view){.net = j->net, .id = j->id, .x = j->x, .nd = nd, .B = j->B, .m = j->B, .c1 = nd->C};
    if (by_channels) task_range(nd->C, t, &v->c0, &v->c1);
    else {
        task_range(j->B, t, &v->n0, &v->m);
        v->m -= v->n0;
    }
    v->HW = plane(nd);
    v->span = (size_t)v->m * v->HW;
    v->p = j->net->params + nd->p_off;
    v->out = out_of(j->net, j->id, j->B);
    v->dout = dout_of(j->net, j->id, j->B);
    if (nd->n_in) {
        v->in = &j->net->node[nd->in[0]];
        v->iHW = plane(v->in);
        v->a = out_of(j->net, nd->in[0], j->B);
        v->da = v->in->op == CN_INPUT ? NULL : dout_of(j->net, nd->in[0], j->B);
    }
    return v->m > 0 && v->c1 > v->c0;
}

/* Forward of a node that works image by image (all but conv, dense and BN) on task t's images:
 * in each channel c of the (C,B,HW) tensors, the planes c*B + n0 .. c*B + n0+m. */
static void forward_images(void *ctx, int t) {
    task_view v;
    if (!view_task(ctx, t, 0, &v)) return;
    const cellnet *net = v.net;
    const cellnet_node *nd = v.nd, *in = v.in;
    const int B = v.B, C = nd->C;
    const size_t HW = v.HW, iHW = v.iHW, span = v.span;
    for (int c = 0; c < C; c++) {
        const size_t q = (size_t)c * B + v.n0; // the task's first plane of channel c
        float *o = v.out + q * HW;
        const float *a = v.a ? v.a + q * iHW : NULL;
        switch (nd->op) {
        case CN_INPUT: // x (B,C,HW) -> (C,B,HW)
            for (int n = 0; n < v.m; n++)
                memcpy(o + n * HW, v.x + ((size_t)(v.n0 + n) * C + c) * HW, HW * sizeof(float));
            break;
        case CN_RELU: vrelu_forward(o, a, span); break;
        case CN_DWCONV:
            dwconv2d_forward(o, a, v.p + (size_t)c * nd->K * nd->K, v.m, 1, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_MAXPOOL: {
            int *am = net->iarena + nd->a_aux + q * HW;
            if (nd->K == 3 && nd->S == 1 && nd->P == 1 && in->W <= 256)
                maxpool3x3_forward(o, am, a, (size_t)v.m, in->H, in->W);
            else if (nd->K == 2 && nd->S == 2 && nd->P == 0)
                maxpool2x2_forward(o, am, a, (size_t)v.m, in->H, in->W);
            else maxpool2d_forward(o, am, a, 1, v.m, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        }
        case CN_AVGPOOL: avgpool2d_forward(o, a, 1, v.m, in->H, in->W, nd->K, nd->S, nd->P); break;
        case CN_CONCAT: { // channel c of the output is channel c - first of the input that holds it
            int k = 0, first = 0;
            while (c - first >= net->node[nd->in[k]].C) first += net->node[nd->in[k++]].C;
            const float *src = out_of(net, nd->in[k], B) + ((size_t)(c - first) * B + v.n0) * HW;
            memcpy(o, src, span * sizeof(float));
            break;
        }
        case CN_ADD:
            memcpy(o, a, span * sizeof(float));
            for (int k = 1; k < nd->n_in; k++) vacc(o, out_of(net, nd->in[k], B) + q * HW, span);
            break;
        case CN_GAP: global_avgpool_forward(o, a, 1, v.m, (int)iHW); break;
        case CN_SUBSAMPLE:
            for (int n = 0; n < v.m; n++)
                for (int y = 0; y < nd->H; y++)
                    for (int x0 = 0; x0 < nd->W; x0++) {
                        int iy = y * nd->S + nd->P, ix = x0 * nd->S + nd->P;
                        o[(n * nd->H + y) * nd->W + x0] = iy < in->H && ix < in->W ? a[(n * in->H + iy) * in->W + ix] : 0.0f;
                    }
            break;
        default: break; // conv, dense, bn: by conv_job or by channels; slice: a view
        }
    }
}

/* The batch-norm parts of node nd (bn, or the BN of conv_bn_relu): its input x (C,B,HW), gamma
 * and beta (C), their gradients dgamma and dbeta (C), its cache (2C), the running mean rm (C)
 * followed by the running variance (C). */
typedef struct {
    const float *x, *gamma, *beta;
    float *dgamma, *dbeta, *cache, *rm;
} bn_parts;

static bn_parts bn_of(const cellnet *net, const cellnet_node *nd, int B) {
    const float *p = net->params + nd->p_off;
    float *g = net->grads + nd->p_off;
    size_t w = 0; // conv_bn_relu: gamma and beta follow the conv's weight
    const float *x = out_of(net, nd->in[0], B);
    if (nd->op == CN_CONV_BN_RELU) {
        w = (size_t)nd->C * net->node[nd->in[0]].C * nd->K * nd->K;
        x = net->arena + nd->a_aux; // the pre-BN conv output
    }
    return (bn_parts){.x = x, .gamma = p + w, .beta = p + w + nd->C, .dgamma = g + w, .dbeta = g + w + nd->C,
                      .cache = net->arena + nd->a_cache, .rm = net->buffers + nd->b_off};
}

/* Batch norm (+ ReLU for conv_bn_relu) forward on task t's channels [c0, c1): the statistics of a
 * channel run over the whole batch in one task. */
static void bn_forward_channels(void *ctx, int t) {
    task_view v;
    if (!view_task(ctx, t, 1, &v)) return;
    const size_t M = (size_t)v.B * v.HW, o = v.c0 * M;
    const bn_parts b = bn_of(v.net, v.nd, v.B);
    const int C = v.nd->C, c0 = v.c0;
    batchnorm_cm_forward(v.out + o, b.cache + 2 * (size_t)c0, b.x + o, b.gamma + c0, b.beta + c0, b.rm + c0,
                         b.rm + C + c0, v.c1 - c0, M, v.net->bn_momentum, v.net->bn_eps,
                         ((const node_job *)ctx)->train, v.nd->op == CN_CONV_BN_RELU);
}

const float *cellnet_forward(cellnet *net, const float *x, int B, int train) {
    net->batch = B;
    net->train = train;
    for (int id = 0; id < net->n_nodes; id++) {
        const cellnet_node *nd = &net->node[id];
        node_job j = {.net = net, .id = id, .B = B, .train = train, .x = x};
        const float *a = nd->n_in ? out_of(net, nd->in[0], B) : NULL;
        const float *p = net->params + nd->p_off;
        const size_t w = nd->n_in ? (size_t)nd->C * net->node[nd->in[0]].C * nd->K * nd->K : 0; // conv weight
        switch (nd->op) {
        case CN_CONV: cn_conv_forward(net, nd, out_of(net, id, B), a, p, nd->bias ? p + w : NULL, B); break;
        case CN_DENSE: cn_conv_forward(net, nd, out_of(net, id, B), a, p, p + w, B); break;
        case CN_CONV_BN_RELU:
            cn_conv_forward(net, nd, net->arena + nd->a_aux, a, p, NULL, B);
            run_tasks(net, bn_forward_channels, &j);
            break;
        case CN_BN: run_tasks(net, bn_forward_channels, &j); break;
        case CN_SLICE: break; // a view
        default: run_tasks(net, forward_images, &j); break;
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

/* Whether backward step `step` writes some gradient first. */
static int has_live_grads(const cellnet *net, int step) {
    for (int i = 0; i < net->n_nodes; i++)
        if (net->node[i].op != CN_SLICE && net->node[i].grad_from == step) return 1;
    return 0;
}

/* Zero, on task t's images, the gradients that backward step j->id writes first (backward
 * functions accumulate; the buffers are shared, so each starts at 0 when it becomes live). */
static void zero_grads_images(void *ctx, int t) {
    const node_job *j = ctx;
    const cellnet *net = j->net;
    int n0, n1;
    task_range(j->B, t, &n0, &n1);
    for (int i = 0; n0 < n1 && i < net->n_nodes; i++) {
        const cellnet_node *nd = &net->node[i];
        if (nd->op == CN_SLICE || nd->grad_from != j->id) continue;
        const size_t HW = plane(nd);
        for (int c = 0; c < nd->C; c++)
            memset(net->arena + nd->a_dout + ((size_t)c * j->B + n0) * HW, 0, (size_t)(n1 - n0) * HW * sizeof(float));
    }
}

static void zero_live_grads(cellnet *net, int step, int B) {
    node_job j = {.net = net, .id = step, .B = B};
    if (has_live_grads(net, step)) run_tasks(net, zero_grads_images, &j);
}

/* Backward of a node that works image by image (relu, pools, concat, add, gap, subsample) on
 * task t's images: its inputs' gradients there += . */
static void backward_images(void *ctx, int t) {
    task_view v;
    if (!view_task(ctx, t, 0, &v)) return;
    const cellnet *net = v.net;
    const cellnet_node *nd = v.nd, *in = v.in;
    for (int c = 0; c < nd->C; c++) {
        const size_t q = (size_t)c * v.B + v.n0, HW = v.HW, span = v.span; // q: the task's first plane of channel c
        const float *g = v.dout + q * HW;
        float *d = v.da ? v.da + q * v.iHW : NULL;
        switch (nd->op) {
        case CN_RELU:
            if (d) vrelu_backward(d, g, v.out + q * HW, span);
            break;
        case CN_MAXPOOL:
            if (d) maxpool2d_backward(d, g, net->iarena + nd->a_aux + q * HW, 1, v.m, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_AVGPOOL:
            if (d) avgpool2d_backward(d, g, 1, v.m, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_CONCAT: { // channel c is channel c - first of the input that holds it
            int k = 0, first = 0;
            while (c - first >= net->node[nd->in[k]].C) first += net->node[nd->in[k++]].C;
            if (net->node[nd->in[k]].op != CN_INPUT)
                vacc(dout_of(net, nd->in[k], v.B) + ((size_t)(c - first) * v.B + v.n0) * HW, g, span);
            break;
        }
        case CN_ADD:
            for (int k = 0; k < nd->n_in; k++)
                if (net->node[nd->in[k]].op != CN_INPUT) vacc(dout_of(net, nd->in[k], v.B) + q * HW, g, span);
            break;
        case CN_GAP:
            if (d) global_avgpool_backward(d, g, 1, v.m, (int)v.iHW);
            break;
        case CN_SUBSAMPLE:
            if (d)
                for (int n = 0; n < v.m; n++)
                    for (int oy = 0; oy < nd->H; oy++)
                        for (int ox = 0; ox < nd->W; ox++) {
                            int iy = oy * nd->S + nd->P, ix = ox * nd->S + nd->P;
                            if (iy < in->H && ix < in->W)
                                d[(n * in->H + iy) * in->W + ix] += g[(n * nd->H + oy) * nd->W + ox];
                        }
            break;
        default: break; // the others split by channels or by conv_job
        }
    }
}

/* Batch norm backward on task t's channels [c0, c1): bn: into its input's gradient (+=);
 * conv_bn_relu: through the ReLU and the BN into the pre-BN gradient in tmp_buf (written). */
static void bn_backward_channels(void *ctx, int t) {
    task_view v;
    if (!view_task(ctx, t, 1, &v)) return;
    const int cbr = v.nd->op == CN_CONV_BN_RELU, c0 = v.c0;
    const size_t M = (size_t)v.B * v.HW, o = c0 * M;
    const bn_parts b = bn_of(v.net, v.nd, v.B);
    float *dx = cbr ? tmp_buf(v.net) : v.da;
    batchnorm_cm_backward(dx ? dx + o : NULL, b.dgamma + c0, b.dbeta + c0, v.dout + o, cbr ? v.out + o : NULL,
                          b.x + o, b.cache + 2 * (size_t)c0, b.gamma + c0, v.c1 - c0, M, !cbr);
}

/* Depthwise conv backward on task t's channels: a channel's weight gradient sums over all images. */
static void dwconv_backward_channels(void *ctx, int t) {
    task_view v;
    if (!view_task(ctx, t, 1, &v)) return;
    const cellnet_node *nd = v.nd, *in = v.in;
    const size_t KK = (size_t)nd->K * nd->K, ps = (size_t)v.B * v.HW, ips = (size_t)v.B * v.iHW; // per channel
    float *g = v.net->grads + nd->p_off;
    for (int c = v.c0; c < v.c1; c++)
        dwconv2d_backward(v.da ? v.da + c * ips : NULL, g + c * KK, v.dout + c * ps, v.a + c * ips, v.p + c * KK, v.B,
                          1, in->H, in->W, nd->K, nd->S, nd->P);
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
        node_job j = {.net = net, .id = id, .B = B};
        float *dout = dout_of(net, id, B);
        const float *a = out_of(net, nd->in[0], B);
        float *da = in->op == CN_INPUT ? NULL : dout_of(net, nd->in[0], B);
        const float *p = net->params + nd->p_off;
        float *g = net->grads + nd->p_off;
        const size_t w = (size_t)nd->C * in->C * nd->K * nd->K; // conv weight
        switch (nd->op) {
        case CN_CONV: cn_conv_backward(net, nd, da, g, nd->bias ? g + w : NULL, dout, a, p, B); break;
        case CN_DENSE: cn_conv_backward(net, nd, da, g, g + w, dout, a, p, B); break;
        case CN_CONV_BN_RELU:
            run_tasks(net, bn_backward_channels, &j); // into the pre-BN gradient in tmp_buf
            cn_conv_backward(net, nd, da, g, NULL, tmp_buf(net), a, p, B);
            break;
        case CN_BN: run_tasks(net, bn_backward_channels, &j); break;
        case CN_DWCONV: run_tasks(net, dwconv_backward_channels, &j); break;
        default: run_tasks(net, backward_images, &j); break;
        }
    }
}
