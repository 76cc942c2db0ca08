/* mpass.c: the SVGe message-passing layer; see mpass.h for the dense-identity derivation. */
#include "mpass.h"

#include <string.h>

#include "nn.h"

void mpass_param_sizes(size_t sizes[MPASS_NUM_TENSORS], int C) {
    const size_t c = (size_t)C;
    sizes[0] = 4 * c * c; // msg.weight (2C,2C)
    sizes[1] = 2 * c;     // msg.bias (2C)
    sizes[2] = 6 * c * c; // upd.weight_ih (3C,2C)
    sizes[3] = 3 * c * c; // upd.weight_hh (3C,C)
    sizes[4] = 3 * c;     // upd.bias_ih (3C)
    sizes[5] = 3 * c;     // upd.bias_hh (3C)
}

size_t mpass_param_count(int C) {
    size_t s[MPASS_NUM_TENSORS], n = 0;
    mpass_param_sizes(s, C);
    for (int i = 0; i < MPASS_NUM_TENSORS; i++) n += s[i];
    return n;
}

size_t mpass_cache_size(int N, int C) {
    return (size_t)N * 2 * C * 2 + gru_cache_size(N, C); // Z, a, GRU cache
}

size_t mpass_scratch_size(int N, int C) {
    return (size_t)N * 2 * C * 2 + gru_scratch_size(N, C); // da, dZ, GRU scratch
}

static int popcount16(uint16_t x) {
    int k = 0;
    for (; x; x &= (uint16_t)(x - 1)) k++;
    return k;
}

void mpass_forward(float *hout, float *cache, const float *h, const uint16_t *nbr,
                   const int *offsets, int G, const mpass_params *p, int C) {
    const int N = offsets[G], C2 = 2 * C;
    if (N == 0) return;
    float *Z = cache;                          // (N,2C): [sum of in-neighbour states ; deg * h_v]
    float *a = cache + (size_t)N * C2;         // (N,2C): aggregated messages = GRU input
    float *gc = cache + (size_t)N * C2 * 2;    // GRU cache
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            float *zs = Z + (size_t)v * C2, *zt = zs + C;
            const float *hv = h + (size_t)v * C;
            memset(zs, 0, (size_t)C * sizeof(float));
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                const float *hu = h + (size_t)(base + __builtin_ctz(m)) * C;
                for (int k = 0; k < C; k++) zs[k] += hu[k];
            }
            const float deg = (float)popcount16(nbr[v]);
            for (int k = 0; k < C; k++) zt[k] = deg * hv[k];
        }
    }
    // a = Z W_msg^T + deg ⊗ b: the per-edge bias is added once per incoming edge
    linear_forward(a, Z, p->msg_w, NULL, N, C2, C2);
    for (int v = 0; v < N; v++) {
        const float deg = (float)popcount16(nbr[v]);
        if (deg == 0.0f) continue;
        float *av = a + (size_t)v * C2;
        for (int k = 0; k < C2; k++) av[k] += deg * p->msg_b[k];
    }
    gru_forward(hout, gc, a, h, p->upd_wih, p->upd_whh, p->upd_bih, p->upd_bhh, N, C2, C);
}

void mpass_backward(float *dh, const mpass_params *grad, float *scratch, const float *dhout,
                    const float *cache, const float *h, const uint16_t *nbr, const int *offsets,
                    int G, const mpass_params *p, int C) {
    const int N = offsets[G], C2 = 2 * C;
    if (N == 0) return;
    const mpass_params none = {0};
    const mpass_params *gr = grad ? grad : &none;
    const float *Z = cache, *a = cache + (size_t)N * C2, *gc = cache + (size_t)N * C2 * 2;
    float *da = scratch;                       // (N,2C)
    float *dZ = scratch + (size_t)N * C2;      // (N,2C)
    float *gs = scratch + (size_t)N * C2 * 2;  // GRU scratch
    memset(da, 0, (size_t)N * C2 * sizeof(float));
    memset(dZ, 0, (size_t)N * C2 * sizeof(float));
    // GRU: the hidden-state path goes straight into dh; the input path into da
    gru_backward(da, dh, gr->upd_wih, gr->upd_whh, gr->upd_bih, gr->upd_bhh, gs, dhout, gc, a, h,
                 p->upd_wih, p->upd_whh, N, C2, C);
    // a = Z W^T + deg ⊗ b
    linear_backward(dh ? dZ : NULL, gr->msg_w, NULL, da, Z, p->msg_w, N, C2, C2);
    if (gr->msg_b)
        for (int v = 0; v < N; v++) {
            const float deg = (float)popcount16(nbr[v]);
            const float *dav = da + (size_t)v * C2;
            for (int k = 0; k < C2; k++) gr->msg_b[k] += deg * dav[k];
        }
    if (!dh) return;
    // Z_v = [sum_u h_u ; deg h_v]: scatter the first half to the senders, scale the second
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            const float *dzs = dZ + (size_t)v * C2, *dzt = dzs + C;
            float *dhv = dh + (size_t)v * C;
            const float deg = (float)popcount16(nbr[v]);
            for (int k = 0; k < C; k++) dhv[k] += deg * dzt[k];
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                float *dhu = dh + (size_t)(base + __builtin_ctz(m)) * C;
                for (int k = 0; k < C; k++) dhu[k] += dzs[k];
            }
        }
    }
}
