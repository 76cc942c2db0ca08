/* cellnet.h: a small generic CNN executor: a network is a DAG of tensor operations, built node by
 * node, then compiled for a batch size; forward (training or evaluation mode) and backward.
 * The NAS-Bench-101 networks (nb101net.h) and the ENAS macro networks (enasnet.h) are built on it.
 *
 * Style (karpathy/llm.c): all trainable parameters live in ONE contiguous float array (params),
 * their gradients in another of the same size (grads), the non-trainable state (batch-norm running
 * mean and variance) in a third (buffers); saving, loading and the optimizer work on flat arrays.
 * Activations (and their gradients) live in one arena allocated by cellnet_compile for a maximum
 * batch size; a gradient buffer is live only from the backward of the node's last consumer to its
 * own, and buffers whose lifetimes do not overlap share memory (net->keep_grads turns that off).
 * Backward ACCUMULATES into grads: call cellnet_zero_grad once per step.
 *
 * Threads: net->pool (parallel.h) runs every layer as a fixed number of tasks (slices of the
 * batch's images, or of the channels where a sum runs over the images), each writing only its own
 * part, sums of different tasks added in a fixed order: any thread count gives the same bytes.
 *
 * Layout. Inside the network every tensor is channel-major (C,N,H,W): channel c of the whole batch
 * is one contiguous block of N*H*W floats. A convolution over the batch is then one GEMM per chunk of
 * images (out (OC, n*OH*OW) = W (OC, C*K*K) . col (C*K*K, n*OH*OW)), a 1x1 conv is a single GEMM,
 * batch norm statistics are contiguous, and a channel slice is a view without copies. Only the
 * network's input (NCHW, as images come) and its logits (N, classes) use batch-major layout.
 *
 * Building. cellnet_new(C, H, W) makes node 0, the input of shape (C,H,W). Every cellnet_<op> call
 * adds one node and returns its id (ids increase, so the order of calls is a topological order),
 * or -1 if its arguments do not fit (unknown input id, channel mismatch, spatial size too small,
 * a size limit exceeded): then cellnet_error(net) holds the first such message and every later call
 * returns -1 too, so a builder can check once at the end. The network's output is the last node
 * added unless cellnet_set_output says otherwise; it must be a dense node (its outputs are the
 * logits) or any node whose H = W = 1.
 *
 * Operations and their PyTorch/TF equivalents ("same" padding = (K-1)/2 for odd K):
 *   conv         Conv2d(C, OC, K, stride, pad, bias)                     weight (OC,C,K,K) [, bias (OC)]
 *   bn           BatchNorm2d(C), affine                                   gamma (C), beta (C); running mean/var
 *   relu         ReLU
 *   conv_bn_relu Conv2d(no bias, "same" padding) -> BN -> ReLU, one fused node (NB101's
 *                conv3x3-bn-relu, conv1x1-bn-relu, its 1x1 projections and the stem)
 *   dwconv       depthwise Conv2d(C, C, K, stride, pad, groups=C, no bias) weight (C,1,K,K)
 *   sepconv      dwconv KxK ("same") then a pointwise 1x1 conv to OC, no bias, no BN/ReLU
 *                (TF's separable_conv2d with channel multiplier 1; ENAS) = two nodes, returns the last
 *   maxpool      MaxPool2d(K, stride, pad) (padding never wins)
 *   avgpool      AvgPool2d(K, stride, pad, count_include_pad=False)
 *   concat       channel concatenation of inputs with equal H, W
 *   slice        channels [c0, c0+C) of the input (a view: no copy, no memory)
 *   add          elementwise sum of inputs of equal shape
 *   gap          global average pool: (C,H,W) -> (C,1,1)
 *   dense        Linear(C*H*W -> OC) with bias; input must have H = W = 1 (after gap)
 *   subsample    pixels (stride*y + offset, stride*x + offset) of the input, 0 past its edge:
 *                (C, ceil(H/stride), ceil(W/stride)); ENAS's factorized reduction (path 1 is
 *                offset 0, path 2 offset 1 = TF's pad-bottom-right-then-crop); the node keeps
 *                the stride in S and the offset in P
 * Batch norm: training mode normalises with the batch statistics (biased variance) and moves the
 * running statistics by net->bn_momentum (PyTorch convention: running = (1-m)*running + m*batch,
 * unbiased variance; TF's decay d is m = 1-d); evaluation mode uses the running statistics.
 * net->bn_momentum (default BN_MOMENTUM = 0.1) and net->bn_eps (BN_EPS = 1e-5) may be changed any
 * time before a forward. */
#ifndef SVGE_CELLNET_H
#define SVGE_CELLNET_H

#include <stddef.h>
#include <stdint.h>

#include "parallel.h"
#include "rng.h"

#define CELLNET_MAX_NODES 4096
#define CELLNET_MAX_INPUTS 16  /* inputs of one concat or add node */
#define CELLNET_MAX_CHANNELS 65536
#define CELLNET_MAX_PARAMS ((size_t)1 << 31) /* floats; larger networks are refused */

typedef enum {
    CN_INPUT, CN_CONV, CN_BN, CN_RELU, CN_CONV_BN_RELU, CN_DWCONV, CN_MAXPOOL, CN_AVGPOOL,
    CN_CONCAT, CN_SLICE, CN_ADD, CN_GAP, CN_DENSE, CN_SUBSAMPLE
} cellnet_op;

#define CELLNET_HAS_SUBSAMPLE 1

/* One node. Fields are set by the builder; read them, do not write them. */
typedef struct {
    cellnet_op op;
    int n_in;
    int in[CELLNET_MAX_INPUTS];
    int C, H, W;          /* output shape (per image) */
    int K, S, P;          /* window ops: kernel, stride, padding */
    int bias;             /* conv: has a bias */
    int c0;               /* slice: first channel */
    size_t p_off, p_len;  /* its parameters: params[p_off .. p_off+p_len) */
    size_t b_off;         /* bn, conv_bn_relu: running mean at buffers[b_off], var at +C */
    size_t a_out, a_dout; /* arena offsets of the output and its gradient (cellnet_compile) */
    int grad_from;        /* backward: the step (node id) whose backward first writes this node's
                             gradient, -1 if none flows to it; its buffer is shared with nodes whose
                             gradients are not live at the same time */
    size_t a_aux, a_cache;/* conv_bn_relu: pre-BN conv output; maxpool: argmax (iarena); BN cache */
} cellnet_node;

typedef struct {
    int n_nodes, output;
    cellnet_node *node;      /* [CELLNET_MAX_NODES] */
    char err[256];           /* first build error, "" if none */
    float bn_momentum, bn_eps;
    par_pool *pool;          /* the threads that run each layer's fixed tasks (NULL: the caller
                                alone; set any time, owned by the caller): the results are bitwise
                                the same for every thread count */
    int keep_grads;          /* set before cellnet_compile: every node's gradient gets its own buffer
                                and stays readable (arena + a_dout) after the backward; for tests and
                                debugging (more memory). Otherwise a gradient is valid only while the
                                backward has not passed below its node. */
    /* after cellnet_compile: */
    int max_batch;
    size_t n_params, n_buffers;
    float *params, *grads, *buffers;
    float *arena;            /* activations and their gradients for max_batch images */
    int *iarena;             /* max-pool argmax indices */
    size_t arena_floats, iarena_ints;
    float *scratch;          /* each task's im2col chunk (col_floats), one temporary tensor, each
                                task's conv weight gradient (wgrad_floats) */
    size_t scratch_floats, col_floats, wgrad_floats;
    float *logits, *probs;   /* (max_batch, classes), batch-major */
    int batch;               /* the batch size of the last forward */
    int train;               /* the mode of the last forward */
} cellnet;

/* ---- building ---- */
cellnet *cellnet_new(int C, int H, int W);
void cellnet_free(cellnet *net);
/* The first build error, or NULL if none. */
const char *cellnet_error(const cellnet *net);

int cellnet_conv(cellnet *net, int in, int oc, int k, int stride, int pad, int bias);
int cellnet_bn(cellnet *net, int in);
int cellnet_relu(cellnet *net, int in);
int cellnet_conv_bn_relu(cellnet *net, int in, int oc, int k, int stride);
int cellnet_dwconv(cellnet *net, int in, int k, int stride, int pad);
int cellnet_sepconv(cellnet *net, int in, int oc, int k, int stride);
int cellnet_maxpool(cellnet *net, int in, int k, int stride, int pad);
int cellnet_avgpool(cellnet *net, int in, int k, int stride, int pad);
int cellnet_concat(cellnet *net, int n, const int *ins);
int cellnet_slice(cellnet *net, int in, int c0, int c);
int cellnet_add(cellnet *net, int n, const int *ins);
int cellnet_gap(cellnet *net, int in);
int cellnet_dense(cellnet *net, int in, int out_features);
int cellnet_subsample(cellnet *net, int in, int stride, int offset);
void cellnet_set_output(cellnet *net, int node);
/* Record a build error of a builder on top (e.g. "cell does not fit"), if none is recorded yet;
 * returns -1. */
int cellnet_fail(cellnet *net, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shape of a node's output (per image); C is 0 for an invalid id. */
void cellnet_shape(const cellnet *net, int node, int *C, int *H, int *W);
/* Trainable parameters (floats) of the network as built so far: available before compiling. */
size_t cellnet_param_count(const cellnet *net);

/* ---- compiling ---- */
/* Floats the activation arena and scratch would take for max_batch images (before compiling, to
 * refuse absurd sizes with a message instead of running out of memory). */
size_t cellnet_memory_floats(const cellnet *net, int max_batch);
/* Allocate params, grads, buffers (BN running mean 0, var 1) and activations for batches of up to
 * max_batch images. Returns 0, or -1 with a message in err (a build error, no output node,
 * max_batch < 1). Allocation failure dies (exit 3) as xmalloc does. Parameters are zero until
 * cellnet_init_params. */
int cellnet_compile(cellnet *net, int max_batch, char *err, size_t errlen);
/* Deterministic initialisation from r: conv and dense weights uniform with variance 1/fan_in
 * (TF's variance_scaling_initializer, scale 1, fan_in: what NAS-Bench-101 uses), dense weights
 * Glorot-uniform as tf.layers.dense, biases 0, BN gamma 1 and beta 0, running mean 0, var 1. */
void cellnet_init_params(cellnet *net, rng_mt *r);

/* ---- running ---- */
/* x (B,C,H,W) batch-major images, 1 <= B <= max_batch; train 1: batch statistics and running
 * statistics updated, 0: running statistics. Returns the logits (B, classes) batch-major, where
 * classes = the output node's C (valid until the next forward). */
const float *cellnet_forward(cellnet *net, const float *x, int B, int train);
/* Softmax cross-entropy, mean over the B images of the last forward, y (B) in [0, classes). */
double cellnet_loss(cellnet *net, const int *y);
/* Backward of the last forward (which must be in training mode) and its cellnet_loss (with the
 * same y): grads += d(mean loss)/d(params). Scale multiplies the loss's gradient (1 normally). */
void cellnet_backward(cellnet *net, const int *y, float scale);
void cellnet_zero_grad(cellnet *net);
/* Number of the B images of the last forward whose argmax logit equals y (ties: lowest class). */
int cellnet_correct(const cellnet *net, const int *y);

#endif
