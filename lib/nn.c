/* nn.c: layers of the SVGe model (see nn.h), llm.c style: forward/backward pairs on plain floats,
 * backward accumulates, every matrix product is a row-major cblas_sgemm. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "vmath.h"

/* ---------------------------------------------------------------- linear */

void linear_forward(float *out, const float *inp, const float *W, const float *b, int B, int C, int OC) {
    // out (B,OC), inp (B,C), W (OC,C), b (OC)
    if (B <= 0 || OC <= 0) return;
    if (C <= 0) { // empty product: only the bias remains
        for (int i = 0; i < B; i++)
            for (int o = 0; o < OC; o++) out[(size_t)i * OC + o] = b ? b[o] : 0.0f;
        return;
    }
    float beta = 0.0f;
    if (b) { // preload the bias into every row, then let sgemm add the product to it
        for (int i = 0; i < B; i++) memcpy(out + (size_t)i * OC, b, (size_t)OC * sizeof(float));
        beta = 1.0f;
    }
    // out = inp (B,C) . W^T (C,OC)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, W, C, beta, out, OC);
}

void linear_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp,
                     const float *W, int B, int C, int OC) {
    // dinp (B,C), dW (OC,C), db (OC), dout (B,OC), inp (B,C), W (OC,C)
    if (B <= 0 || OC <= 0) return;
    if (C > 0) {
        // dinp += dout (B,OC) . W (OC,C)
        if (dinp)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC, W, C,
                        1.0f, dinp, C);
        // dW += dout^T (OC,B) . inp (B,C)
        if (dW)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, inp, C,
                        1.0f, dW, C);
    }
    if (db)
        for (int i = 0; i < B; i++)
            for (int o = 0; o < OC; o++) db[o] += dout[(size_t)i * OC + o];
}

/* ------------------------------------------------------------- embedding */

void embedding_forward(float *out, const int *idx, const float *table, int B, int C) {
    // out (B,C), idx (B), table (K,C)
    for (int i = 0; i < B; i++)
        memcpy(out + (size_t)i * C, table + (size_t)idx[i] * C, (size_t)C * sizeof(float));
}

void embedding_backward(float *dtable, const float *dout, const int *idx, int B, int C) {
    // dtable (K,C), dout (B,C), idx (B)
    for (int i = 0; i < B; i++) {
        float *d = dtable + (size_t)idx[i] * C;
        const float *g = dout + (size_t)i * C;
        for (int c = 0; c < C; c++) d[c] += g[c];
    }
}

/* -------------------------------------------------------------- GRU cell */

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Cache layout: act (B,3H) = the activated gates [r | z | n] of each row,
 *               gh  (B,3H) = W_hh h + b_hh (its n part is needed for dr, and r scales it). */
size_t gru_cache_size(int B, int H) { return (size_t)6 * B * H; }
/* Scratch layout: dgi (B,3H) = dLoss/d(W_ih x + b_ih), dgh (B,3H) = dLoss/d(W_hh h + b_hh). */
size_t gru_scratch_size(int B, int H) { return (size_t)6 * B * H; }

void gru_cell_forward(float *hout, float *act, const float *gh, const float *h, int B, int H) {
    gru_cell_forward_rows(hout, act, gh, h, NULL, B, H);
}

void gru_cell_forward_rows(float *hout, float *act, const float *gh, const float *h, const int *rows, int B,
                           int H) {
    // hout (B,H); act (B,3H) in: W_ih x + b_ih, out: r, z, n; row b's W_hh h + b_hh is gh row
    // rows[b] (3H), its h row rows[b] (H) (row b without rows)
    const int G = 3 * H;
    for (int b = 0; b < B; b++) {
        const size_t r = rows ? (size_t)rows[b] : (size_t)b;
        float *a = act + (size_t)b * G;
        const float *g = gh + r * G;
        const float *hp = h + r * H;
        float *ho = hout + (size_t)b * H;
        for (int j = 0; j < 2 * H; j++) a[j] += g[j];               // r, z pre-activations
        vsigmoid(a, (size_t)2 * H);
        for (int j = 0; j < H; j++) a[2 * H + j] += a[j] * g[2 * H + j]; // n: W_in x + r*(W_hn h)
        vtanh(a + 2 * H, (size_t)H);
        for (int j = 0; j < H; j++) {
            const float z = a[H + j];
            ho[j] = (1.0f - z) * a[2 * H + j] + z * hp[j];
        }
    }
}

void gru_forward(float *hout, float *cache, const float *x, const float *h, const float *Wih,
                 const float *Whh, const float *bih, const float *bhh, int B, int Cin, int H) {
    // hout (B,H), x (B,Cin), h (B,H), Wih (3H,Cin), Whh (3H,H), bih (3H), bhh (3H)
    if (B <= 0 || H <= 0) return;
    const int G = 3 * H;
    float *act = cache;                      // (B,3H): first the pre-activations W_ih x + b_ih
    float *gh = cache + (size_t)B * G;       // (B,3H)
    linear_forward(act, x, Wih, bih, B, Cin, G);
    linear_forward(gh, h, Whh, bhh, B, H, G);
    gru_cell_forward(hout, act, gh, h, B, H);
}

void gru_cell_backward(float *dgi, float *dgh, float *dh, const float *dhout, const float *act,
                       const float *gh, const float *h, int B, int H) {
    // dgi, dgh (B,3H) overwritten; dh (B,H) += the direct path (if dh); dhout (B,H)
    const int G = 3 * H;
    for (int b = 0; b < B; b++) {
        const float *a = act + (size_t)b * G;
        const float *g = gh + (size_t)b * G;
        const float *hp = h + (size_t)b * H;
        const float *d = dhout + (size_t)b * H;
        float *di = dgi + (size_t)b * G, *dg = dgh + (size_t)b * G;
        for (int j = 0; j < H; j++) {
            float r = a[j], z = a[H + j], n = a[2 * H + j];
            float dn = d[j] * (1.0f - z);
            float dz = d[j] * (hp[j] - n);
            float dan = dn * (1.0f - n * n);          // through tanh
            float dr = dan * g[2 * H + j];            // n's argument holds r * (W_hn h + b_hn)
            float dar = dr * r * (1.0f - r);
            float daz = dz * z * (1.0f - z);
            di[j] = dar;      dg[j] = dar;            // r and z: the same pre-activation sum
            di[H + j] = daz;  dg[H + j] = daz;
            di[2 * H + j] = dan;
            dg[2 * H + j] = dan * r;                  // the hidden n part is gated by r
        }
        if (dh) { // the direct path h' = ... + z*h
            float *dhb = dh + (size_t)b * H;
            for (int j = 0; j < H; j++) dhb[j] += d[j] * a[H + j];
        }
    }
}

void gru_backward(float *dx, float *dh, float *dWih, float *dWhh, float *dbih, float *dbhh,
                  float *scratch, const float *dhout, const float *cache, const float *x,
                  const float *h, const float *Wih, const float *Whh, int B, int Cin, int H) {
    // dx (B,Cin), dh (B,H), dWih (3H,Cin), dWhh (3H,H), dbih (3H), dbhh (3H), dhout (B,H)
    if (B <= 0 || H <= 0) return;
    const int G = 3 * H;
    const float *act = cache;                // (B,3H) r, z, n
    const float *gh = cache + (size_t)B * G; // (B,3H)
    float *dgi = scratch;                    // (B,3H)
    float *dgh = scratch + (size_t)B * G;    // (B,3H)
    gru_cell_backward(dgi, dgh, dh, dhout, act, gh, h, B, H);
    linear_backward(dx, dWih, dbih, dgi, x, Wih, B, Cin, G);
    linear_backward(dh, dWhh, dbhh, dgh, h, Whh, B, H, G);
}

/* ---------------------------------------------------------- activations */

void relu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (out[i] > 0.0f) dinp[i] += dout[i];
}

void sigmoid_forward(float *out, const float *inp, size_t n) {
    if (out != inp) memcpy(out, inp, n * sizeof(float));
    vsigmoid(out, n);
}

void sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

/* ---------------------------------------------------- gated-sum readout */

/* Cache layout: f (N,D) = f(h_v), s (N) = sigmoid(g(h_v)). */
size_t gsum_cache_size(int N, int D) { return (size_t)N * (D + 1); }
/* Scratch layout: df (N,D), dgl (N) = gradient of the gate logits. */
size_t gsum_scratch_size(int N, int D) { return (size_t)N * (D + 1); }

void gsum_forward(float *out, float *cache, const float *h, const float *Wf, const float *bf,
                  const float *Wg, const float *bg, const int *offsets, int G, int C, int D) {
    // out (G,D), h (N,C), Wf (D,C), bf (D), Wg (1,C), bg (1), offsets (G+1)
    const int N = offsets[G];
    float *f = cache;                        // (N,D)
    float *s = cache + (size_t)N * D;        // (N)
    linear_forward(f, h, Wf, bf, N, C, D);
    linear_forward(s, h, Wg, bg, N, C, 1);
    sigmoid_forward(s, s, (size_t)N);
    for (int g = 0; g < G; g++) {
        float *o = out + (size_t)g * D;
        memset(o, 0, (size_t)D * sizeof(float));
        for (int v = offsets[g]; v < offsets[g + 1]; v++)
            for (int k = 0; k < D; k++) o[k] += s[v] * f[(size_t)v * D + k];
    }
}

void gsum_backward(float *dh, float *dWf, float *dbf, float *dWg, float *dbg, float *scratch,
                   const float *dout, const float *cache, const float *h, const float *Wf,
                   const float *Wg, const int *offsets, int G, int C, int D) {
    // dh (N,C), dWf (D,C), dbf (D), dWg (1,C), dbg (1), dout (G,D)
    const int N = offsets[G];
    const float *f = cache, *s = cache + (size_t)N * D;
    float *df = scratch;                     // (N,D)
    float *dgl = scratch + (size_t)N * D;    // (N)
    for (int g = 0; g < G; g++) {
        const float *d = dout + (size_t)g * D;
        for (int v = offsets[g]; v < offsets[g + 1]; v++) {
            float ds = 0.0f; // dLoss/ds_v = <dout_g, f_v>
            for (int k = 0; k < D; k++) {
                df[(size_t)v * D + k] = d[k] * s[v];
                ds += d[k] * f[(size_t)v * D + k];
            }
            dgl[v] = ds * s[v] * (1.0f - s[v]);
        }
    }
    linear_backward(dh, dWf, dbf, df, h, Wf, N, C, D);
    linear_backward(dh, dWg, dbg, dgl, h, Wg, N, C, 1);
}

/* -------------------------------------------------------------- losses */

double crossentropy_forward(float *probs, const float *logits, const int *targets,
                           const float *weights, int B, int K) {
    // probs (B,K), logits (B,K), targets (B), weights (B)
    double loss = 0.0;
    for (int b = 0; b < B; b++) {
        const float *l = logits + (size_t)b * K;
        float *p = probs + (size_t)b * K;
        float mx = l[0];
        for (int k = 1; k < K; k++) mx = l[k] > mx ? l[k] : mx;
        double sum = 0.0; // softmax with the max subtracted, so exp never overflows
        for (int k = 0; k < K; k++) { p[k] = expf(l[k] - mx); sum += p[k]; }
        for (int k = 0; k < K; k++) p[k] = (float)(p[k] / sum);
        double nll = log(sum) - (double)(l[targets[b]] - mx); // -log softmax[target], stable
        loss += (weights ? weights[b] : 1.0 / B) * nll;
    }
    return loss;
}

void crossentropy_backward(float *dlogits, const float *probs, const int *targets,
                           const float *weights, float dloss, int B, int K) {
    // dlogits (B,K), probs (B,K), targets (B), weights (B)
    for (int b = 0; b < B; b++) {
        float w = dloss * (weights ? weights[b] : 1.0f / (float)B);
        const float *p = probs + (size_t)b * K;
        float *d = dlogits + (size_t)b * K;
        for (int k = 0; k < K; k++) d[k] += w * (p[k] - (k == targets[b] ? 1.0f : 0.0f));
    }
}

double bce_logits_forward(const float *logits, const float *targets, const float *weights, int N) {
    // logits (N), targets (N), weights (N)
    double loss = 0.0;
    for (int i = 0; i < N; i++) {
        double x = logits[i];
        double l = (x > 0 ? x : 0) - x * targets[i] + log1p(exp(-fabs(x)));
        loss += (weights ? weights[i] : 1.0 / N) * l;
    }
    return loss;
}

void bce_logits_backward(float *dlogits, const float *logits, const float *targets,
                         const float *weights, float dloss, int N) {
    // dlogits (N), logits (N), targets (N), weights (N)
    for (int i = 0; i < N; i++) {
        float w = dloss * (weights ? weights[i] : 1.0f / (float)N);
        dlogits[i] += w * (sigmoidf(logits[i]) - targets[i]);
    }
}

double gaussian_kl_forward(const float *mu, const float *logvar, size_t n) {
    // mu (n), logvar (n)
    double kl = 0.0;
    for (size_t i = 0; i < n; i++)
        kl += 1.0 + logvar[i] - (double)mu[i] * mu[i] - exp(logvar[i]);
    return -0.5 * kl;
}

void gaussian_kl_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                          float dloss, size_t n) {
    // dmu (n), dlogvar (n), mu (n), logvar (n)
    for (size_t i = 0; i < n; i++) {
        if (dmu) dmu[i] += dloss * mu[i];
        if (dlogvar) dlogvar[i] += dloss * 0.5f * (expf(logvar[i]) - 1.0f);
    }
}

void reparam_forward(float *z, const float *mu, const float *logvar, const float *eps, float scale,
                     size_t n) {
    if (!eps) {
        memcpy(z, mu, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) z[i] = mu[i] + scale * eps[i] * expf(0.5f * logvar[i]);
}

void reparam_backward(float *dmu, float *dlogvar, const float *dz, const float *logvar,
                      const float *eps, float scale, size_t n) {
    memcpy(dmu, dz, n * sizeof(float));
    if (!eps) {
        memset(dlogvar, 0, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) dlogvar[i] = dz[i] * scale * eps[i] * 0.5f * expf(0.5f * logvar[i]);
}
