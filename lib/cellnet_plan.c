/* cellnet_plan.c: compiling a cellnet (cellnet.h) for a maximum batch: gradient liveness, the
 * memory plan of the activation arena (outputs each their own, gradients sharing first-fit among
 * those not live at the same time), the allocations, and the deterministic initialisation. */
#include "cellnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellnet_internal.h"
#include "cnn.h"
#include "util.h"

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
 * argmax ints, one task's im2col floats, the largest tensor and the largest conv weight in *ints,
 * *cols, *tmp and *wgrad (the scratch: cellnet_internal.h). Outputs (and BN caches, pre-BN values)
 * first, each its own; then the gradients, placed first-fit among those live at the same time. */
static size_t layout(cellnet *net, int B, size_t *ints, size_t *cols, size_t *tmp, size_t *wgrad) {
    size_t off = 0, ioff = 0, col = 0, tmax = 0, wmax = 0;
    liveness(net);
    for (int i = 0; i < net->n_nodes; i++) {
        cellnet_node *nd = &net->node[i];
        size_t T = (size_t)nd->C * B * plane(nd);
        if (T > tmax) tmax = T;
        if (nd->op == CN_SLICE) continue; // a view of its input
        nd->a_out = off, off += T;
        if (nd->op == CN_CONV_BN_RELU) nd->a_aux = off, off += T;
        if (nd->op == CN_MAXPOOL) nd->a_aux = ioff, ioff += T;
        if (nd->op == CN_BN || nd->op == CN_CONV_BN_RELU) nd->a_cache = off, off += batchnorm_cm_cache_size(nd->C);
        if (is_conv(nd)) {
            size_t c, w = (size_t)nd->C * net->node[nd->in[0]].C * nd->K * nd->K;
            if (w > wmax) wmax = w;
            if (!conv_direct(nd) && (conv_chunk(net, nd, B, &c), c > col)) col = c;
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
    *wgrad = wmax;
    return off + dend;
}

size_t cellnet_memory_floats(const cellnet *net, int max_batch) {
    size_t ints, cols, tmax, wgrad;
    cellnet tmp = *net;
    tmp.node = xcalloc((size_t)net->n_nodes, sizeof *tmp.node);
    memcpy(tmp.node, net->node, (size_t)net->n_nodes * sizeof *tmp.node);
    size_t f = layout(&tmp, max_batch, &ints, &cols, &tmax, &wgrad);
    free(tmp.node);
    return f + ints + CELLNET_TASKS * (cols + wgrad) + tmax + 3 * cellnet_param_count(net);
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
    net->arena_floats = layout(net, max_batch, &net->iarena_ints, &net->col_floats, &tmax, &net->wgrad_floats);
    net->scratch_floats = CELLNET_TASKS * (net->col_floats + net->wgrad_floats) + tmax;
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
