/* cellnet_exec.c: running a compiled cellnet (cellnet.h): forward, loss, backward.
 *
 * Tensors are channel-major (C,B,H,W) for the batch size B of the current forward: node tensors
 * are laid out in an arena sized for max_batch, each using its first C*B*H*W floats. The window
 * operations of cnn.c work on (N,C,H,W) planes, and (C,B,H,W) is also a sequence of C*B planes of
 * HxW, so pools call them with N=1 and C*B channels; batch norm's statistics of a channel are one
 * contiguous block. Convolutions unroll a chunk of images at a time (cnn.c's im2col_cm) and run one
 * GEMM per chunk. */
#include "cellnet.h"

#include <cblas.h>
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


/* out (OC,B,OH,OW) = conv of x (C,B,H,W) with Wt (OC,C,K,K) [+ bias (OC)]. */
static void conv_forward(cellnet *net, const cellnet_node *nd, float *out, const float *x,
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
        im2col_cm(net->scratch, x, C, B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, n0, m);
        // out[:, n0..n0+m) (OC, m*OHW) = Wt (OC,CKK) . col (CKK, m*OHW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int)(m * OHW), CKK, 1.0f, Wt,
                    CKK, net->scratch, (int)(m * OHW), beta, out + n0 * OHW, (int)ld);
    }
}

/* Backward of conv_forward: dx += , dWt += , dbias += (dx, dbias may be NULL). */
static void conv_backward(cellnet *net, const cellnet_node *nd, float *dx, float *dWt, float *dbias,
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
        im2col_cm(net->scratch, x, C, B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, n0, m);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, cols, 1.0f, dout + n0 * OHW,
                    (int)ld, net->scratch, cols, 1.0f, dWt, CKK);
        if (!dx) continue;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, cols, OC, 1.0f, Wt, CKK,
                    dout + n0 * OHW, (int)ld, 0.0f, net->scratch, cols);
        col2im_cm(dx, net->scratch, C, B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, n0, m);
    }
}

/* The temporary tensor in scratch, after the im2col columns. */
static float *tmp_buf(const cellnet *net) {
    return net->scratch + net->col_floats;
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
            conv_forward(net, nd, out, a, p, nd->bias ? p + (size_t)C * in->C * nd->K * nd->K : NULL, B);
            break;
        case CN_DENSE: conv_forward(net, nd, out, a, p, p + (size_t)C * in->C, B); break;
        case CN_CONV_BN_RELU: {
            float *pre = net->arena + nd->a_aux;
            const float *gamma = p + (size_t)C * in->C * nd->K * nd->K, *beta = gamma + C;
            float *rm = net->buffers + nd->b_off, *rv = rm + C;
            conv_forward(net, nd, pre, a, p, NULL, B);
            batchnorm_cm_forward(out, net->arena + nd->a_cache, pre, gamma, beta, rm, rv, C, B * HW, mom, eps, train, 1);
            break;
        }
        case CN_BN: {
            float *rm = net->buffers + nd->b_off, *rv = rm + C;
            batchnorm_cm_forward(out, net->arena + nd->a_cache, a, p, p + C, rm, rv, C, B * HW, mom, eps, train, 0);
            break;
        }
        case CN_RELU: vrelu_forward(out, a, T); break;
        case CN_DWCONV:
            for (int c = 0; c < C; c++)
                dwconv2d_forward(out + (size_t)c * B * HW, a + (size_t)c * B * plane(in),
                                 p + (size_t)c * nd->K * nd->K, B, 1, in->H, in->W, nd->K, nd->S, nd->P);
            break;
        case CN_MAXPOOL:
            if (nd->K == 3 && nd->S == 1 && nd->P == 1 && in->W <= 256)
                maxpool3x3_forward(out, net->iarena + nd->a_aux, a, (size_t)C * B, in->H, in->W);
            else if (nd->K == 2 && nd->S == 2 && nd->P == 0)
                maxpool2x2_forward(out, net->iarena + nd->a_aux, a, (size_t)C * B, in->H, in->W);
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
            conv_backward(net, nd, da, g, nd->bias ? g + (size_t)C * in->C * nd->K * nd->K : NULL, dout, a, p, B);
            break;
        case CN_DENSE: conv_backward(net, nd, da, g, g + (size_t)C * in->C, dout, a, p, B); break;
        case CN_CONV_BN_RELU: {
            size_t w = (size_t)C * in->C * nd->K * nd->K;
            const float *pre = net->arena + nd->a_aux;
            float *dpre = tmp_buf(net); // through the ReLU and the BN into the conv's output
            batchnorm_cm_backward(dpre, g + w, g + w + C, dout, out, pre, net->arena + nd->a_cache, p + w, C, B * HW, 0);
            conv_backward(net, nd, da, g, NULL, dpre, a, p, B);
            break;
        }
        case CN_BN:
            batchnorm_cm_backward(da, g, g + C, dout, NULL, a, net->arena + nd->a_cache, p, C, B * HW, 1);
            break;
        case CN_RELU:
            if (da) vrelu_backward(da, dout, out, T);
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
