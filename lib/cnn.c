/* cnn.c: convolutional layers on NCHW tensors (see cnn.h), llm.c style: forward/backward pairs on
 * plain floats, backward accumulates, the convolution's products are row-major cblas_sgemm calls. */
#include "cnn.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

int conv_out_size(int n, int k, int stride, int pad) {
    return (n + 2 * pad - k) / stride + 1;
}

/* ---------------------------------------------------------------- conv2d */

/* A 1x1 conv with stride 1 and no padding: the image (C, H*W) already is its own im2col. */
static int conv_is_pointwise(int K, int S, int P) {
    return K == 1 && S == 1 && P == 0;
}

size_t conv2d_scratch_size(int C, int H, int W, int K, int S, int P) {
    if (conv_is_pointwise(K, S, P)) return 0;
    size_t OH = (size_t)conv_out_size(H, K, S, P), OW = (size_t)conv_out_size(W, K, S, P);
    return (size_t)C * K * K * OH * OW;
}

/* col (C*K*K, OH*OW) <- one image img (C,H,W); row c*K*K + i*K + j holds, for every output pixel
 * (y,x), the input pixel (y*S-P+i, x*S-P+j), or 0 where that falls in the padding. */
static void im2col(float *col, const float *img, int C, int H, int W, int K, int S, int P, int OH,
                   int OW) {
    for (int c = 0; c < C; c++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                float *row = col + ((size_t)(c * K + i) * K + j) * OH * OW;
                const float *plane = img + (size_t)c * H * W;
                for (int y = 0; y < OH; y++) {
                    int iy = y * S - P + i;
                    float *r = row + (size_t)y * OW;
                    if (iy < 0 || iy >= H) { // the whole output row reads padding
                        memset(r, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    const float *src = plane + (size_t)iy * W;
                    for (int x = 0; x < OW; x++) {
                        int ix = x * S - P + j;
                        r[x] = (ix >= 0 && ix < W) ? src[ix] : 0.0f;
                    }
                }
            }
}

/* img (C,H,W) += the scatter of col (C*K*K, OH*OW) back to the pixels it was read from: the adjoint
 * of im2col. A pixel read by several windows receives the sum. */
static void col2im_add(float *img, const float *col, int C, int H, int W, int K, int S, int P,
                       int OH, int OW) {
    for (int c = 0; c < C; c++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                const float *row = col + ((size_t)(c * K + i) * K + j) * OH * OW;
                float *plane = img + (size_t)c * H * W;
                for (int y = 0; y < OH; y++) {
                    int iy = y * S - P + i;
                    if (iy < 0 || iy >= H) continue;
                    const float *r = row + (size_t)y * OW;
                    float *dst = plane + (size_t)iy * W;
                    for (int x = 0; x < OW; x++) {
                        int ix = x * S - P + j;
                        if (ix >= 0 && ix < W) dst[ix] += r[x];
                    }
                }
            }
}

void conv2d_forward(float *out, float *scratch, const float *inp, const float *Wt, const float *b,
                    int N, int C, int H, int W, int OC, int K, int S, int P) {
    // out (N,OC,OH,OW), inp (N,C,H,W), Wt (OC,C,K,K), b (OC)
    int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    int CKK = C * K * K, OHW = OH * OW;
    int direct = conv_is_pointwise(K, S, P);
    for (int n = 0; n < N; n++) {
        const float *img = inp + (size_t)n * C * H * W;
        float *o = out + (size_t)n * OC * OHW;
        const float *col = img;
        if (!direct) {
            im2col(scratch, img, C, H, W, K, S, P, OH, OW);
            col = scratch;
        }
        float beta = 0.0f;
        if (b) { // preload the bias into every output plane; sgemm adds the product to it
            for (int oc = 0; oc < OC; oc++)
                for (int k = 0; k < OHW; k++) o[(size_t)oc * OHW + k] = b[oc];
            beta = 1.0f;
        }
        // o (OC,OHW) = Wt (OC,CKK) . col (CKK,OHW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, OHW, CKK, 1.0f, Wt, CKK, col,
                    OHW, beta, o, OHW);
    }
}

void conv2d_backward(float *dinp, float *dWt, float *db, float *scratch, const float *dout,
                     const float *inp, const float *Wt, int N, int C, int H, int W, int OC, int K,
                     int S, int P) {
    // dinp (N,C,H,W), dWt (OC,C,K,K), db (OC), dout (N,OC,OH,OW)
    int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    int CKK = C * K * K, OHW = OH * OW;
    int direct = conv_is_pointwise(K, S, P);
    for (int n = 0; n < N; n++) {
        const float *img = inp + (size_t)n * C * H * W;
        const float *g = dout + (size_t)n * OC * OHW;
        if (db)
            for (int oc = 0; oc < OC; oc++) {
                const float *gp = g + (size_t)oc * OHW;
                float s = 0.0f;
                for (int k = 0; k < OHW; k++) s += gp[k];
                db[oc] += s;
            }
        if (dWt) {
            const float *col = img;
            if (!direct) {
                im2col(scratch, img, C, H, W, K, S, P, OH, OW);
                col = scratch;
            }
            // dWt (OC,CKK) += g (OC,OHW) . col^T (OHW,CKK)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, OHW, 1.0f, g, OHW, col,
                        OHW, 1.0f, dWt, CKK);
        }
        if (dinp) {
            float *di = dinp + (size_t)n * C * H * W;
            // dcol (CKK,OHW) = Wt^T (CKK,OC) . g (OC,OHW); for a pointwise conv dcol is dinp itself
            if (direct) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, OHW, OC, 1.0f, Wt, CKK,
                            g, OHW, 1.0f, di, OHW);
            } else {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, OHW, OC, 1.0f, Wt, CKK,
                            g, OHW, 0.0f, scratch, OHW);
                col2im_add(di, scratch, C, H, W, K, S, P, OH, OW);
            }
        }
    }
}

/* -------------------------------------------------------------- dwconv2d */

void dwconv2d_forward(float *out, const float *inp, const float *Wt, int N, int C, int H, int W,
                      int K, int S, int P) {
    // out (N,C,OH,OW), inp (N,C,H,W), Wt (C,1,K,K)
    int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const float *plane = inp + ((size_t)n * C + c) * H * W;
            const float *w = Wt + (size_t)c * K * K;
            float *o = out + ((size_t)n * C + c) * OH * OW;
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    float s = 0.0f;
                    for (int i = 0; i < K; i++) {
                        int iy = y * S - P + i;
                        if (iy < 0 || iy >= H) continue;
                        for (int j = 0; j < K; j++) {
                            int ix = x * S - P + j;
                            if (ix >= 0 && ix < W) s += w[i * K + j] * plane[iy * W + ix];
                        }
                    }
                    o[y * OW + x] = s;
                }
        }
}

void dwconv2d_backward(float *dinp, float *dWt, const float *dout, const float *inp,
                       const float *Wt, int N, int C, int H, int W, int K, int S, int P) {
    // dinp (N,C,H,W), dWt (C,1,K,K), dout (N,C,OH,OW)
    int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            size_t pi = ((size_t)n * C + c) * H * W;
            const float *plane = inp + pi;
            const float *w = Wt + (size_t)c * K * K;
            const float *g = dout + ((size_t)n * C + c) * OH * OW;
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    float gv = g[y * OW + x];
                    for (int i = 0; i < K; i++) {
                        int iy = y * S - P + i;
                        if (iy < 0 || iy >= H) continue;
                        for (int j = 0; j < K; j++) {
                            int ix = x * S - P + j;
                            if (ix < 0 || ix >= W) continue;
                            if (dWt) dWt[(size_t)c * K * K + i * K + j] += gv * plane[iy * W + ix];
                            if (dinp) dinp[pi + (size_t)iy * W + ix] += gv * w[i * K + j];
                        }
                    }
                }
        }
}

/* ----------------------------------------------------------- batchnorm2d */

size_t batchnorm2d_cache_size(int C) {
    return 2 * (size_t)C;
}

void batchnorm2d_forward_train(float *out, float *cache, const float *inp, const float *gamma,
                               const float *beta, float *running_mean, float *running_var, int N,
                               int C, int HW, float momentum, float eps) {
    // out (N,C,HW), cache (2C): mean (C) then rstd (C), inp (N,C,HW)
    double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        // two passes in double: the mean, then the biased variance around it
        double s = 0.0;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * HW;
            for (int k = 0; k < HW; k++) s += x[k];
        }
        double mean = s / M, v = 0.0;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * HW;
            for (int k = 0; k < HW; k++) v += ((double)x[k] - mean) * ((double)x[k] - mean);
        }
        double var = v / M;
        float rstd = (float)(1.0 / sqrt(var + eps));
        cache[c] = (float)mean;
        cache[C + c] = rstd;
        float gm = gamma ? gamma[c] : 1.0f, bt = beta ? beta[c] : 0.0f;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * HW;
            float *o = out + ((size_t)n * C + c) * HW;
            for (int k = 0; k < HW; k++) o[k] = gm * ((x[k] - (float)mean) * rstd) + bt;
        }
        // running statistics: PyTorch uses the unbiased variance here (M/(M-1))
        if (running_mean) running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * (float)mean;
        if (running_var) {
            double unbiased = M > 1 ? v / (M - 1) : var;
            running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (float)unbiased;
        }
    }
}

void batchnorm2d_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                              const float *running_mean, const float *running_var, int N, int C,
                              int HW, float eps) {
    // out (N,C,HW), inp (N,C,HW): a per-channel affine map
    for (int c = 0; c < C; c++) {
        float rstd = (float)(1.0 / sqrt((double)running_var[c] + eps));
        float scale = (gamma ? gamma[c] : 1.0f) * rstd;
        float shift = (beta ? beta[c] : 0.0f) - running_mean[c] * scale;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * HW;
            float *o = out + ((size_t)n * C + c) * HW;
            for (int k = 0; k < HW; k++) o[k] = x[k] * scale + shift;
        }
    }
}

void batchnorm2d_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                          const float *inp, const float *cache, const float *gamma, int N, int C,
                          int HW) {
    // dinp (N,C,HW), dgamma (C), dbeta (C), dout (N,C,HW), inp (N,C,HW), cache (2C)
    double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        float mean = cache[c], rstd = cache[C + c];
        float gm = gamma ? gamma[c] : 1.0f;
        // sums over the channel's M values: dout and dout*xhat
        double sd = 0.0, sdx = 0.0;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * HW;
            const float *g = dout + ((size_t)n * C + c) * HW;
            for (int k = 0; k < HW; k++) {
                sd += g[k];
                sdx += (double)g[k] * ((x[k] - mean) * rstd);
            }
        }
        if (dbeta) dbeta[c] += (float)sd;
        if (dgamma) dgamma[c] += (float)sdx;
        if (!dinp) continue;
        // with g = dout*gamma: dinp = rstd * (g - mean(g) - xhat * mean(g*xhat))
        float mg = (float)(gm * sd / M), mgx = (float)(gm * sdx / M);
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((size_t)n * C + c) * HW;
            const float *g = dout + ((size_t)n * C + c) * HW;
            float *d = dinp + ((size_t)n * C + c) * HW;
            for (int k = 0; k < HW; k++) {
                float xhat = (x[k] - mean) * rstd;
                d[k] += rstd * (gm * g[k] - mg - xhat * mgx);
            }
        }
    }
}

/* ----------------------------------------------------------------- pools */

void maxpool2d_forward(float *out, int *argmax, const float *inp, int N, int C, int H, int W,
                       int K, int S, int P) {
    // out (N,C,OH,OW), argmax (N,C,OH,OW), inp (N,C,H,W)
    int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    for (size_t nc = 0; nc < (size_t)N * C; nc++) {
        const float *plane = inp + nc * H * W;
        float *o = out + nc * OH * OW;
        int *am = argmax + nc * OH * OW;
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                float best = -FLT_MAX;
                int bi = -1;
                for (int i = 0; i < K; i++) {
                    int iy = y * S - P + i;
                    if (iy < 0 || iy >= H) continue;
                    for (int j = 0; j < K; j++) {
                        int ix = x * S - P + j;
                        if (ix < 0 || ix >= W) continue;
                        float v = plane[iy * W + ix];
                        if (bi < 0 || v > best) { best = v; bi = iy * W + ix; }
                    }
                }
                o[y * OW + x] = best;
                am[y * OW + x] = bi;
            }
    }
}

void maxpool2d_backward(float *dinp, const float *dout, const int *argmax, int N, int C, int H,
                        int W, int K, int S, int P) {
    // dinp (N,C,H,W), dout (N,C,OH,OW), argmax (N,C,OH,OW)
    int OHW = conv_out_size(H, K, S, P) * conv_out_size(W, K, S, P);
    for (size_t nc = 0; nc < (size_t)N * C; nc++) {
        float *d = dinp + nc * H * W;
        const float *g = dout + nc * OHW;
        const int *am = argmax + nc * OHW;
        for (int k = 0; k < OHW; k++) d[am[k]] += g[k];
    }
}

/* The number of real (non-padding) pixels along one axis in the window starting at lo. */
static int window_count(int lo, int K, int n) {
    int a = lo < 0 ? 0 : lo, b = lo + K > n ? n : lo + K;
    return b - a;
}

void avgpool2d_forward(float *out, const float *inp, int N, int C, int H, int W, int K, int S, int P) {
    // out (N,C,OH,OW), inp (N,C,H,W)
    int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    for (size_t nc = 0; nc < (size_t)N * C; nc++) {
        const float *plane = inp + nc * H * W;
        float *o = out + nc * OH * OW;
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                float s = 0.0f;
                for (int i = 0; i < K; i++) {
                    int iy = y * S - P + i;
                    if (iy < 0 || iy >= H) continue;
                    for (int j = 0; j < K; j++) {
                        int ix = x * S - P + j;
                        if (ix >= 0 && ix < W) s += plane[iy * W + ix];
                    }
                }
                // count_include_pad=False: divide by the real pixels only
                int cnt = window_count(y * S - P, K, H) * window_count(x * S - P, K, W);
                o[y * OW + x] = s / (float)cnt;
            }
    }
}

void avgpool2d_backward(float *dinp, const float *dout, int N, int C, int H, int W, int K, int S,
                        int P) {
    // dinp (N,C,H,W), dout (N,C,OH,OW)
    int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    for (size_t nc = 0; nc < (size_t)N * C; nc++) {
        float *d = dinp + nc * H * W;
        const float *g = dout + nc * OH * OW;
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                int cnt = window_count(y * S - P, K, H) * window_count(x * S - P, K, W);
                float gv = g[y * OW + x] / (float)cnt;
                for (int i = 0; i < K; i++) {
                    int iy = y * S - P + i;
                    if (iy < 0 || iy >= H) continue;
                    for (int j = 0; j < K; j++) {
                        int ix = x * S - P + j;
                        if (ix >= 0 && ix < W) d[iy * W + ix] += gv;
                    }
                }
            }
    }
}

void global_avgpool_forward(float *out, const float *inp, int N, int C, int HW) {
    // out (N,C), inp (N,C,HW)
    for (size_t nc = 0; nc < (size_t)N * C; nc++) {
        const float *x = inp + nc * HW;
        double s = 0.0;
        for (int k = 0; k < HW; k++) s += x[k];
        out[nc] = (float)(s / HW);
    }
}

void global_avgpool_backward(float *dinp, const float *dout, int N, int C, int HW) {
    // dinp (N,C,HW), dout (N,C)
    for (size_t nc = 0; nc < (size_t)N * C; nc++) {
        float g = dout[nc] / (float)HW;
        float *d = dinp + nc * HW;
        for (int k = 0; k < HW; k++) d[k] += g;
    }
}
