/* cnn.c: the layer kernels of the CNN executor (see cnn.h): im2col for convolutions as GEMMs,
 * depthwise convolution, batch norm (+ ReLU), ReLU, pools; the elementwise and reduction loops
 * vectorised with GCC/clang vector extensions. */
#include "cnn.h"

#include <float.h>
#include <math.h>
#include <string.h>

int conv_out_size(int n, int k, int stride, int pad) {
    return (n + 2 * pad - k) / stride + 1;
}


/* ------------------------------------------------------------ vector helpers */

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
void vacc(float *d, const float *s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) vst(d + i, vadd(vld(d + i), vld(s + i)));
    for (; i < n; i++) d[i] += s[i];
}

/* ---------------------------------------------------------------- im2col */

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
void im2col_cm(float *col, const float *inp, int C, int B, int H, int W, int K, int S, int P,
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

/* dinp (C,B,H,W) += the adjoint of im2col_cm applied to col. */
void col2im_cm(float *dinp, const float *col, int C, int B, int H, int W, int K, int S, int P,
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

/* ------------------------------------------------------------ batch norm, ReLU */

size_t batchnorm_cm_cache_size(int C) {
    return 2 * (size_t)C;
}

/* Batch norm over channel-major x (C, M) (M = B*H*W values per channel), optionally followed by a
 * ReLU. Training mode: the batch mean and biased variance (two passes), cache = (mean, rstd) of each channel in turn, running statistics moved with the
 * unbiased variance; evaluation mode: the running statistics. out = max(0, x*scale + shift). */
void batchnorm_cm_forward(float *out, float *cache, const float *x, const float *gamma, const float *beta,
                   float *rm, float *rv, int C, size_t M, float mom, float eps, int train, int relu) {
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * M;
        float *oc = out + (size_t)c * M;
        float mean, rstd;
        if (train) {
            double mu = vsum(xc, M) / (double)M, v = vsumsq_dev(xc, M, (float)mu);
            mean = (float)mu;
            rstd = (float)(1.0 / sqrt(v / (double)M + eps));
            cache[2 * c] = mean;
            cache[2 * c + 1] = rstd;
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

/* Backward of batchnorm_cm_forward in training mode. relu_out (the forward's output) not NULL: the ReLU's mask
 * applies to dout first. With g the (masked) dout, xhat = (x - mean) * rstd, per channel:
 *   dgamma += sum g*xhat, dbeta += sum g, dx = rstd * (gamma*g - mean(gamma*g) - xhat*mean(gamma*g*xhat)),
 * ADDED to dx if accumulate, else written. dx may be NULL. */
void batchnorm_cm_backward(float *dx, float *dgamma, float *dbeta, const float *dout, const float *relu_out,
                   const float *x, const float *cache, const float *gamma, int C, size_t M, int accumulate) {
    for (int c = 0; c < C; c++) {
        const size_t o = (size_t)c * M;
        const float *gc = dout + o, *xc = x + o, *rc = relu_out ? relu_out + o : NULL;
        const float mean = cache[2 * c], rstd = cache[2 * c + 1];
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
void vrelu_backward(float *dx, const float *dout, const float *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) vst(dx + i, vadd(vld(dx + i), vmask_pos(vld(dout + i), vld(out + i))));
    for (; i < n; i++)
        if (out[i] > 0.0f) dx[i] += dout[i];
}

void vrelu_forward(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 v = vld(x + i);
        vst(out + i, vmask_pos(v, v));
    }
    for (; i < n; i++) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
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
 * first maximum in row-major window order) as maxpool2d_forward (tested). */
void maxpool3x3_forward(float *out, int *argmax, const float *inp, size_t n, int H, int W) {
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
void maxpool2x2_forward(float *out, int *argmax, const float *inp, size_t n, int H, int W) {
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
