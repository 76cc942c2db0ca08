/* cellnet_conv.c: conv and dense nodes of a cellnet over the batch (cellnet_internal.h): each of
 * the CELLNET_TASKS tasks takes its slice of the images, unrolls it in chunks into its own im2col
 * columns (cnn.c's im2col_cm) and runs one GEMM per chunk, single-threaded. Outputs and input
 * gradients of different images are disjoint; the weight gradient of each task goes to its own
 * buffer, and the buffers are added to the node's gradient in task order. */
#include <cblas.h>

#include "cellnet_internal.h"
#include "cnn.h"

typedef struct {
    cellnet *net;
    const cellnet_node *nd;
    float *out, *dx;           /* forward output (OC,B,OH,OW); backward input gradient (C,B,H,W) */
    const float *x, *Wt, *bias, *dout;
    int B;
} conv_job;

/* The k-th of n near-equal chunks of the images [n0, n0+m). */
static void chunk_of(int n0, int m, int n, int k, int *c0, int *cm) {
    *c0 = n0 + (int)((long)m * k / n);
    *cm = n0 + (int)((long)m * (k + 1) / n) - *c0;
}

/* Chunks of at most conv_chunk images that task t's m images take. */
static int n_chunks(const conv_job *j, int m) {
    int nb = conv_chunk(j->net, j->nd, j->B, NULL);
    return (m + nb - 1) / nb;
}

static void forward_task(void *ctx, int t) {
    const conv_job *j = ctx;
    const cellnet_node *nd = j->nd, *in = &j->net->node[nd->in[0]];
    int n0, n1;
    task_range(j->B, t, &n0, &n1);
    if (n0 == n1) return;
    const int C = in->C, OC = nd->C, CKK = C * nd->K * nd->K, m = n1 - n0;
    const size_t OHW = plane(nd), ld = (size_t)j->B * OHW;
    float *out = j->out + n0 * OHW; // this task's columns of every output channel
    float beta = 0.0f;
    if (j->bias) { // preload the bias; the GEMM adds the product
        for (int oc = 0; oc < OC; oc++)
            for (size_t k = 0; k < m * OHW; k++) out[oc * ld + k] = j->bias[oc];
        beta = 1.0f;
    }
    if (conv_direct(nd)) { // the input already is its own im2col: out (OC, m*OHW) = Wt (OC,C) . x (C, m*OHW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int)(m * OHW), C, 1.0f, j->Wt, C,
                    j->x + n0 * OHW, (int)ld, beta, out, (int)ld);
        return;
    }
    float *col = task_col(j->net, t);
    const int nc = n_chunks(j, m);
    for (int k = 0; k < nc; k++) {
        int c0, cm;
        chunk_of(n0, m, nc, k, &c0, &cm);
        im2col_cm(col, j->x, C, j->B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, c0, cm);
        // out[:, c0..c0+cm) (OC, cm*OHW) = Wt (OC,CKK) . col (CKK, cm*OHW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int)(cm * OHW), CKK, 1.0f, j->Wt, CKK, col,
                    (int)(cm * OHW), beta, j->out + c0 * OHW, (int)ld);
    }
}

void cn_conv_forward(cellnet *net, const cellnet_node *nd, float *out, const float *x, const float *Wt,
                     const float *bias, int B) {
    conv_job j = {.net = net, .nd = nd, .out = out, .x = x, .Wt = Wt, .bias = bias, .B = B};
    run_tasks(net, forward_task, &j);
}

/* Task t's images: its weight gradient (OC,CKK) written into task_wgrad, dx += . */
static void backward_task(void *ctx, int t) {
    const conv_job *j = ctx;
    const cellnet_node *nd = j->nd, *in = &j->net->node[nd->in[0]];
    int n0, n1;
    task_range(j->B, t, &n0, &n1);
    if (n0 == n1) return;
    const int C = in->C, OC = nd->C, CKK = C * nd->K * nd->K, m = n1 - n0;
    const size_t OHW = plane(nd), ld = (size_t)j->B * OHW;
    float *gw = task_wgrad(j->net, t);
    if (conv_direct(nd)) {
        // gw (OC,C) = dout (OC,cols) . x^T (cols,C); dx (C,cols) += Wt^T (C,OC) . dout (OC,cols)
        const int cols = (int)(m * OHW);
        const float *g = j->dout + n0 * OHW;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, C, cols, 1.0f, g, (int)ld, j->x + n0 * OHW,
                    (int)ld, 0.0f, gw, C);
        if (j->dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, cols, OC, 1.0f, j->Wt, C, g, (int)ld, 1.0f,
                        j->dx + n0 * OHW, (int)ld);
        return;
    }
    float *col = task_col(j->net, t);
    const int nc = n_chunks(j, m);
    for (int k = 0; k < nc; k++) {
        int c0, cm;
        chunk_of(n0, m, nc, k, &c0, &cm);
        const int cols = (int)(cm * OHW);
        const float *g = j->dout + c0 * OHW;
        im2col_cm(col, j->x, C, j->B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, c0, cm);
        // gw (OC,CKK) (+)= dout (OC,cols) . col^T (cols,CKK)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, cols, 1.0f, g, (int)ld, col, cols,
                    k ? 1.0f : 0.0f, gw, CKK);
        if (!j->dx) continue;
        // col (CKK,cols) = Wt^T (CKK,OC) . dout (OC,cols), then dx += col2im(col)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, cols, OC, 1.0f, j->Wt, CKK, g, (int)ld, 0.0f,
                    col, cols);
        col2im_cm(j->dx, col, C, j->B, in->H, in->W, nd->K, nd->S, nd->P, nd->H, nd->W, c0, cm);
    }
}

void cn_conv_backward(cellnet *net, const cellnet_node *nd, float *dx, float *dWt, float *dbias,
                      const float *dout, const float *x, const float *Wt, int B) {
    const int OC = nd->C;
    const size_t ld = (size_t)B * plane(nd), w = (size_t)OC * net->node[nd->in[0]].C * nd->K * nd->K;
    if (dbias) // per channel over the whole batch, in one order
        for (int oc = 0; oc < OC; oc++) {
            const float *g = dout + oc * ld;
            double s = 0.0;
            for (size_t k = 0; k < ld; k++) s += g[k];
            dbias[oc] += (float)s;
        }
    conv_job j = {.net = net, .nd = nd, .dx = dx, .x = x, .Wt = Wt, .dout = dout, .B = B};
    run_tasks(net, backward_task, &j);
    for (int t = 0; t < CELLNET_TASKS; t++) { // the tasks' sums, in task order
        int n0, n1;
        task_range(B, t, &n0, &n1);
        if (n0 < n1) vacc(dWt, task_wgrad(net, t), w);
    }
}
