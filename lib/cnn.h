/* cnn.h: convolutional layers on NCHW float tensors, for training NAS-Bench-101 cells on CIFAR-10.
 *
 * Same conventions as nn.h (karpathy/llm.c style): every layer is a pair of free functions
 * <layer>_forward / <layer>_backward on plain float arrays with explicit sizes. Tensors are NCHW
 * row-major: N images, C channels, H rows, W columns (the argument for W is called Wd where a weight
 * is also around). Weights use PyTorch's layouts. Backward functions ACCUMULATE (+=) into every
 * gradient buffer they are given; the caller zeroes gradients once per step. A gradient pointer may
 * be NULL when that gradient is not wanted. No function allocates: the scratch and the caches a
 * forward saves for its backward are provided by the caller, sized by the *_size functions.
 * Outputs must not alias inputs.
 *
 * Output size of a window operation (conv, pool) with kernel K, stride S, padding P:
 *   OH = (H + 2P - K) / S + 1, OW = (W + 2P - K) / S + 1 (conv_out_size).
 *
 * The loss for classification is nn.h's crossentropy_forward / crossentropy_backward on the logits
 * (N,10) with weights NULL: softmax cross-entropy, the mean over the batch, returned as a double. */
#ifndef SVGE_CNN_H
#define SVGE_CNN_H

#include <stddef.h>

/* (n + 2*pad - k) / stride + 1: the output extent of a window operation along one axis. */
int conv_out_size(int n, int k, int stride, int pad);

/* ---- Conv2d: square kernel K, stride S (1 or 2 in practice; any S >= 1 works), zero padding P ----
 * out[n,o] = b[o] + sum_{c,i,j} Wt[o,c,i,j] * inp[n,c, y*S-P+i, x*S-P+j]  (PyTorch nn.Conv2d, groups=1)
 * Computed per image as one sgemm: out_n (OC, OH*OW) = Wt (OC, C*K*K) . col (C*K*K, OH*OW), where col
 * is the im2col unrolling of the image. A 1x1 conv with stride 1 and no padding uses the image
 * itself as col (no copy). */
/* Floats of scratch conv2d_forward and conv2d_backward need: C*K*K*OH*OW (one image's col), or 0
 * for a 1x1/stride-1/pad-0 conv. */
size_t conv2d_scratch_size(int C, int H, int W, int K, int S, int P);
/* out (N,OC,OH,OW), scratch (conv2d_scratch_size), inp (N,C,H,W), Wt (OC,C,K,K), b (OC) or NULL. */
void conv2d_forward(float *out, float *scratch, const float *inp, const float *Wt, const float *b,
                    int N, int C, int H, int W, int OC, int K, int S, int P);
/* dinp (N,C,H,W), dWt (OC,C,K,K), db (OC): each may be NULL. dout (N,OC,OH,OW), inp and Wt as in
 * the forward. scratch as for the forward (its contents are overwritten). */
void conv2d_backward(float *dinp, float *dWt, float *db, float *scratch, const float *dout,
                     const float *inp, const float *Wt, int N, int C, int H, int W, int OC, int K,
                     int S, int P);

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

/* ---- BatchNorm2d, PyTorch semantics (momentum 0.1, eps 1e-5 are the caller's to pass) ----
 * Training mode: per channel c, mean and biased variance over the N*HW values of the batch;
 * out = gamma * (x - mean) / sqrt(var + eps) + beta; then the running statistics move:
 * running = (1 - momentum) * running + momentum * batch_stat, with the UNBIASED variance
 * var * M/(M-1), M = N*HW (as PyTorch does). gamma NULL means 1 and beta NULL means 0
 * (affine=False). Statistics are accumulated in double. */
#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f
size_t batchnorm2d_cache_size(int C); /* 2*C floats: the batch mean, then 1/sqrt(var+eps) */
/* out (N,C,HW), cache (batchnorm2d_cache_size), inp (N,C,HW), gamma (C), beta (C),
 * running_mean (C), running_var (C): updated in place (either may be NULL to skip the update). */
void batchnorm2d_forward_train(float *out, float *cache, const float *inp, const float *gamma,
                               const float *beta, float *running_mean, float *running_var, int N,
                               int C, int HW, float momentum, float eps);
/* Inference mode: out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta. */
void batchnorm2d_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                              const float *running_mean, const float *running_var, int N, int C,
                              int HW, float eps);
/* Backward of the training-mode forward (the batch statistics depend on the input):
 * with xhat = (x - mean) * rstd, g = dout * gamma, M = N*HW, per channel
 *   dinp += rstd * (g - mean(g) - xhat * mean(g * xhat)), dgamma += sum(dout * xhat),
 *   dbeta += sum(dout). dinp, dgamma, dbeta may each be NULL. inp and cache as in the forward. */
void batchnorm2d_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                          const float *inp, const float *cache, const float *gamma, int N, int C,
                          int HW);

/* ---- Max pool: KxK window, stride S, padding P (padding never wins: it counts as -inf) ----
 * NAS-Bench-101's maxpool3x3 is K=3, S=1, P=1 (same size); 2x2 downsampling is K=2, S=2, P=0.
 * Needs P < K so every window holds at least one real pixel. argmax (N,C,OH,OW) saves, for the
 * backward, the index y*W+x in its input plane of the pixel each output took (first one on ties). */
void maxpool2d_forward(float *out, int *argmax, const float *inp, int N, int C, int H, int W,
                       int K, int S, int P);
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
