/* cnn.h: the layer kernels of the CNN executor (cellnet.h), for training NAS-Bench-101 cells and
 * ENAS networks on CIFAR-10.
 *
 * Same conventions as nn.h (karpathy/llm.c style): every layer is a pair of free functions
 * <layer>_forward / <layer>_backward on plain float arrays with explicit sizes. Backward functions
 * ACCUMULATE (+=) into every gradient buffer they are given unless said otherwise; a gradient
 * pointer may be NULL when that gradient is not wanted. No function allocates. Outputs must not
 * alias inputs.
 *
 * Two layouts. The window operations (depthwise conv, pools) work on NCHW planes: N images, C
 * channels, H rows, W columns (the argument for W is called Wd where a weight is also around);
 * weights use PyTorch's layouts. The executor's channel-major tensors (C,B,H,W) are C*B such
 * planes, so it calls them with N = 1. The _cm kernels (im2col, batch norm) take the channel-major
 * layout itself: channel c of the whole batch is one contiguous block. The v* kernels are
 * elementwise and vectorised (GCC/clang vector extensions on SSE2, bitwise the same as the scalar
 * loops: no fused multiply-adds).
 *
 * Output size of a window operation (conv, pool) with kernel K, stride S, padding P:
 *   OH = (H + 2P - K) / S + 1, OW = (W + 2P - K) / S + 1 (conv_out_size). */
#ifndef SVGE_CNN_H
#define SVGE_CNN_H

#include <stddef.h>

/* (n + 2*pad - k) / stride + 1: the output extent of a window operation along one axis. */
int conv_out_size(int n, int k, int stride, int pad);

/* ---- Convolution as GEMM on channel-major tensors: im2col ----
 * col (C*K*K, nb*OH*OW) <- images n0..n0+nb-1 of inp (C,B,H,W): row (c,i,j), column (n,y,x) holds
 * pixel (y*S-P+i, x*S-P+j) of image n0+n, channel c, or 0 in the padding. Then out (OC, nb*OH*OW)
 * = Wt (OC, C*K*K) . col is the conv of those images (PyTorch's nn.Conv2d, groups=1). */
void im2col_cm(float *col, const float *inp, int C, int B, int H, int W, int K, int S, int P,
               int OH, int OW, int n0, int nb);
/* dinp (C,B,H,W) += the adjoint of im2col_cm applied to col. */
void col2im_cm(float *dinp, const float *col, int C, int B, int H, int W, int K, int S, int P,
               int OH, int OW, int n0, int nb);

/* ---- Depthwise conv: one KxK filter per channel (nn.Conv2d with groups=C, OC=C), no bias ----
 * out[n,c] = sum_{i,j} Wt[c,0,i,j] * inp[n,c, y*S-P+i, x*S-P+j]. A separable conv (DARTS/ENAS
 * "sep_conv") is depthwise KxK followed by a pointwise 1x1 conv2d. Direct loops (the work is small:
 * K*K multiply-adds per output). */
/* out (N,C,OH,OW), inp (N,C,H,W), Wt (C,1,K,K). */
void dwconv2d_forward(float *out, const float *inp, const float *Wt, int N, int C, int H, int W,
                      int K, int S, int P);
/* dinp (N,C,H,W), dWt (C,1,K,K): either may be NULL. dout (N,C,OH,OW). */
void dwconv2d_backward(float *dinp, float *dWt, const float *dout, const float *inp,
                       const float *Wt, int N, int C, int H, int W, int K, int S, int P);

/* ---- Batch norm on channel-major x (C, M), M = B*H*W values per channel, optionally fused with the
 * ReLU that follows it (PyTorch's BatchNorm2d semantics) ----
 * Training mode: per channel the batch mean and biased variance (two passes, summed in float lanes
 * per block of 1024 and in double across blocks); out = gamma * (x - mean) / sqrt(var + eps) +
 * beta; cache (batchnorm_cm_cache_size) = (mean, rstd) of each channel in turn; the running
 * statistics move: running = (1 - mom) * running + mom * batch_stat, with the UNBIASED variance
 * var * M/(M-1). Evaluation mode (train 0): the running statistics instead. relu: out = max(0, out).
 * Channels are independent: channels [c0, c1) alone are the call with every per-channel pointer
 * moved by c0 (x, out, dout by c0*M; cache by 2*c0) and C = c1 - c0. */
#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f
size_t batchnorm_cm_cache_size(int C); /* 2*C floats: channel c's batch mean, then its 1/sqrt(var+eps) */
/* out (C,M), cache (2C), x (C,M), gamma (C), beta (C), rm and rv (C): running mean and variance. */
void batchnorm_cm_forward(float *out, float *cache, const float *x, const float *gamma,
                          const float *beta, float *rm, float *rv, int C, size_t M, float mom,
                          float eps, int train, int relu);
/* Backward of the training-mode forward. relu_out (the forward's output) not NULL: the ReLU's mask
 * applies to dout first. With g the (masked) dout, xhat = (x - mean) * rstd, per channel:
 *   dgamma += sum g*xhat, dbeta += sum g,
 *   dx = rstd * (gamma*g - mean(gamma*g) - xhat*mean(gamma*g*xhat)),
 * ADDED to dx if accumulate, else written. dx may be NULL; dgamma and dbeta may not. */
void batchnorm_cm_backward(float *dx, float *dgamma, float *dbeta, const float *dout,
                           const float *relu_out, const float *x, const float *cache,
                           const float *gamma, int C, size_t M, int accumulate);

/* ---- ReLU over n floats, vectorised ---- */
/* out = max(0, x). */
void vrelu_forward(float *out, const float *x, size_t n);
/* dx += dout where out > 0. */
void vrelu_backward(float *dx, const float *dout, const float *out, size_t n);

/* ---- Sum: d += s over n floats, vectorised (add nodes, concat and col2im gradients) ---- */
void vacc(float *d, const float *s, size_t n);

/* ---- Max pool: KxK window, stride S, padding P (padding never wins: it counts as -inf) ----
 * NAS-Bench-101's maxpool3x3 is K=3, S=1, P=1 (same size); 2x2 downsampling is K=2, S=2, P=0.
 * Needs P < K so every window holds at least one real pixel. argmax (N,C,OH,OW) saves, for the
 * backward, the index y*W+x in its input plane of the pixel each output took (first one on ties). */
void maxpool2d_forward(float *out, int *argmax, const float *inp, int N, int C, int H, int W,
                       int K, int S, int P);
/* The same results and argmax for the two windows NB101 uses, over n planes of HxW, faster:
 * 3x3, stride 1, padding 1 (separable, vectorised; W <= 256), and 2x2, stride 2, no padding. */
void maxpool3x3_forward(float *out, int *argmax, const float *inp, size_t n, int H, int W);
void maxpool2x2_forward(float *out, int *argmax, const float *inp, size_t n, int H, int W);
/* dinp (N,C,H,W) += dout (N,C,OH,OW) routed to the argmax pixels. */
void maxpool2d_backward(float *dinp, const float *dout, const int *argmax, int N, int C, int H,
                        int W, int K, int S, int P);

/* ---- Average pool: KxK window, stride S, padding P, count_include_pad=False ----
 * Each output is the mean of the real (non-padding) pixels of its window, as in PyTorch's
 * nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False) used by NAS-Bench-201, ENAS and
 * DARTS for avg_pool_3x3: a corner output averages 4 pixels, an edge one 6, an interior one 9.
 * (NAS-Bench-101 itself has no average pool in its cells.) Needs P < K. */
void avgpool2d_forward(float *out, const float *inp, int N, int C, int H, int W, int K, int S, int P);
void avgpool2d_backward(float *dinp, const float *dout, int N, int C, int H, int W, int K, int S,
                        int P);

/* ---- Global average pool: out[n,c] = mean over the HW pixels of inp[n,c] ---- */
/* out (N,C), inp (N,C,HW). */
void global_avgpool_forward(float *out, const float *inp, int N, int C, int HW);
/* dinp (N,C,HW) += dout (N,C) / HW. */
void global_avgpool_backward(float *dinp, const float *dout, int N, int C, int HW);

#endif
