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

/* Task t's share of a conv_job: its images [n0, n0+m) and its chunks of them. */
typedef struct {
    const cellnet_node *nd, *in;
    int n0, m, chunks;
    int C, OC, CKK;   /* input channels, output channels, C*K*K */
    size_t OHW, ld;   /* output plane, row length of a (C,B,HW) tensor: B*OHW */
} conv_view;

/* Task t's view of j; 0 if it has no images. */
static int view_of(const conv_job *j, int t, conv_view *v) {
    int n1;
    task_range(j->B, t, &v->n0, &n1);
    v->m = n1 - v->n0;
    v->nd = j->nd;
    v->in = &j->net->node[j->nd->in[0]];
    v->C = v->in->C, v->OC = v->nd->C, v->CKK = v->C * v->nd->K * v->nd->K;
    v->OHW = plane(v->nd), v->ld = (size_t)j->B * v->OHW;
    const int nb = conv_chunk(j->net, j->nd, j->B, NULL); // chunks of at most nb images
    v->chunks = (v->m + nb - 1) / nb;
    return v->m > 0;
}

/* Chunk k of v's images, near-equal sizes: [*c0, *c0 + *cm); unrolled into col (im2col_cm). */
static void unroll_chunk(const conv_job *j, const conv_view *v, int k, float *col, int *c0, int *cm) {
    *c0 = v->n0 + (int)((long)v->m * k / v->chunks);
    *cm = v->n0 + (int)((long)v->m * (k + 1) / v->chunks) - *c0;
    const cellnet_node *nd = v->nd;
    im2col_cm(col, j->x, v->C, j->B, v->in->H, v->in->W, nd->K, nd->S, nd->P, nd->H, nd->W, *c0, *cm);
}

static void forward_task(void *ctx, int t) {
    const conv_job *j = ctx;
    conv_view v;
    if (!view_of(j, t, &v)) return;
    float *out = j->out + v.n0 * v.OHW; // this task's columns of every output channel
    float beta = 0.0f;
    if (j->bias) { // preload the bias; the GEMM adds the product
        for (int oc = 0; oc < v.OC; oc++)
            for (size_t k = 0; k < v.m * v.OHW; k++) out[oc * v.ld + k] = j->bias[oc];
        beta = 1.0f;
    }
    if (conv_direct(v.nd)) { // the input already is its own im2col: out (OC, m*OHW) = Wt (OC,C) . x (C, m*OHW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, v.OC, (int)(v.m * v.OHW), v.C, 1.0f, j->Wt, v.C,
                    j->x + v.n0 * v.OHW, (int)v.ld, beta, out, (int)v.ld);
        return;
    }
    float *col = task_col(j->net, t);
    for (int k = 0; k < v.chunks; k++) {
        int c0, cm;
        unroll_chunk(j, &v, k, col, &c0, &cm);
        // out[:, c0..c0+cm) (OC, cm*OHW) = Wt (OC,CKK) . col (CKK, cm*OHW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, v.OC, (int)(cm * v.OHW), v.CKK, 1.0f, j->Wt, v.CKK,
                    col, (int)(cm * v.OHW), beta, j->out + c0 * v.OHW, (int)v.ld);
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
    conv_view v;
    if (!view_of(j, t, &v)) return;
    const int ld = (int)v.ld;
    float *gw = task_wgrad(j->net, t);
    if (conv_direct(v.nd)) {
        // gw (OC,C) = dout (OC,cols) . x^T (cols,C); dx (C,cols) += Wt^T (C,OC) . dout (OC,cols)
        const int cols = (int)(v.m * v.OHW);
        const float *g = j->dout + v.n0 * v.OHW;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, v.OC, v.C, cols, 1.0f, g, ld, j->x + v.n0 * v.OHW, ld,
                    0.0f, gw, v.C);
        if (j->dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, v.C, cols, v.OC, 1.0f, j->Wt, v.C, g, ld, 1.0f,
                        j->dx + v.n0 * v.OHW, ld);
        return;
    }
    float *col = task_col(j->net, t);
    for (int k = 0; k < v.chunks; k++) {
        int c0, cm;
        unroll_chunk(j, &v, k, col, &c0, &cm);
        const int cols = (int)(cm * v.OHW);
        const float *g = j->dout + c0 * v.OHW;
        // gw (OC,CKK) (+)= dout (OC,cols) . col^T (cols,CKK)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, v.OC, v.CKK, cols, 1.0f, g, ld, col, cols,
                    k ? 1.0f : 0.0f, gw, v.CKK);
        if (!j->dx) continue;
        // col (CKK,cols) = Wt^T (CKK,OC) . dout (OC,cols), then dx += col2im(col)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, v.CKK, cols, v.OC, 1.0f, j->Wt, v.CKK, g, ld, 0.0f,
                    col, cols);
        const cellnet_node *nd = v.nd;
        col2im_cm(j->dx, col, v.C, j->B, v.in->H, v.in->W, nd->K, nd->S, nd->P, nd->H, nd->W, c0, cm);
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
