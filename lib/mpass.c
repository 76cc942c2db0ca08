/* mpass.c: the SVGe message-passing layer; see mpass.h for the dense identity and the folding. */
#include "mpass.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "graph.h"
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

static char layer_names[2][2][MPASS_MAX_NAMED_LAYERS][MPASS_NUM_TENSORS][96];

__attribute__((constructor)) static void make_layer_names(void) {
    static const char *const prefix[2] = {"Encoder.NodeEmb.", "Decoder.generator.prop.NodeEmb."};
    static const char *const dir[2] = {"forward", "backward"};
    static const char *const tensor[MPASS_NUM_TENSORS] = {"msg.weight", "msg.bias", "upd.weight_ih",
                                                         "upd.weight_hh", "upd.bias_ih", "upd.bias_hh"};
    for (int p = 0; p < 2; p++)
        for (int d = 0; d < 2; d++)
            for (int l = 0; l < MPASS_MAX_NAMED_LAYERS; l++)
                for (int k = 0; k < MPASS_NUM_TENSORS; k++)
                    snprintf(layer_names[p][d][l][k], sizeof layer_names[p][d][l][k], "%sGNNLayers_%s.%d.%s",
                             prefix[p], dir[d], l, tensor[k]);
}

const char *mpass_param_name(int prefix, int dir, int l, int k) {
    if (prefix < 0 || prefix > 1 || dir < 0 || dir > 1 || l < 0 || l >= MPASS_MAX_NAMED_LAYERS || k < 0 ||
        k >= MPASS_NUM_TENSORS)
        return NULL;
    return layer_names[prefix][dir][l][k];
}

/* ------------------------------------------------------------------ folding */
size_t mpass_fold_size(int C) { return (size_t)6 * C * C + (size_t)3 * C; }

void mpass_fold_point(mpass_fold *f, float *mem, int C) {
    f->w = mem;
    f->b = mem + (size_t)6 * C * C;
}

void mpass_fold_compute(mpass_fold *f, const mpass_params *p, int C) {
    const int C2 = 2 * C, C3 = 3 * C;
    // w (3C,2C) = W_ih (3C,2C) . W_msg (2C,2C);  b (3C) = W_ih . b_msg
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C3, C2, C2, 1.0f, p->upd_wih, C2,
                p->msg_w, C2, 0.0f, f->w, C2);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, C3, C2, 1.0f, p->upd_wih, C2, p->msg_b, 1, 0.0f, f->b, 1);
}

void mpass_unfold_grad(const mpass_params *grad, const mpass_fold *fg, const mpass_params *p, int C) {
    const int C2 = 2 * C, C3 = 3 * C;
    if (grad->upd_wih) { // dW_ih (3C,2C) += Gw (3C,2C) . W_msg^T + Gb b^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C3, C2, C2, 1.0f, fg->w, C2, p->msg_w,
                    C2, 1.0f, grad->upd_wih, C2);
        cblas_sger(CblasRowMajor, C3, C2, 1.0f, fg->b, 1, p->msg_b, 1, grad->upd_wih, C2);
    }
    if (grad->msg_w) // dW_msg (2C,2C) += W_ih^T (2C,3C) . Gw (3C,2C)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C2, C2, C3, 1.0f, p->upd_wih, C2, fg->w,
                    C2, 1.0f, grad->msg_w, C2);
    if (grad->msg_b) // db (2C) += W_ih^T Gb
        cblas_sgemv(CblasRowMajor, CblasTrans, C3, C2, 1.0f, p->upd_wih, C2, fg->b, 1, 1.0f,
                    grad->msg_b, 1);
}

/* The part of the parameters a fold depends on: W_msg, b_msg, W_ih. */
static size_t fold_source_size(int C) { return (size_t)10 * C * C + (size_t)2 * C; }

size_t mpass_foldset_floats(int L, int C) {
    return (size_t)L * (mpass_fold_size(C) + fold_source_size(C));
}

void mpass_foldset_point(mpass_foldset *fs, float *mem, int L, int C) {
    fs->L = L;
    fs->frozen = 0;
    fs->C = C;
    fs->mem = mem;
    memset(mem, 0, mpass_foldset_floats(L, C) * sizeof(float));
    for (int l = 0; l < L; l++) mpass_fold_point(&fs->f[l], mem + (size_t)l * mpass_fold_size(C), C);
}

typedef struct {
    mpass_foldset *fs;
    const mpass_params *const *layers;
} refold_ctx;

/* Task l: refold layer l if its weights changed. */
static void refold(void *arg, int l) {
    refold_ctx *x = arg;
    mpass_foldset *fs = x->fs;
    const int C = fs->C;
    const size_t nw = (size_t)4 * C * C, nb = (size_t)2 * C, ni = (size_t)6 * C * C;
    const mpass_params *p = x->layers[l];
    float *src = fs->mem + (size_t)fs->L * mpass_fold_size(C) + (size_t)l * fold_source_size(C);
    if (!memcmp(src, p->msg_w, nw * sizeof(float)) &&
        !memcmp(src + nw, p->msg_b, nb * sizeof(float)) &&
        !memcmp(src + nw + nb, p->upd_wih, ni * sizeof(float)))
        return; // (an all-zero layer matches the zeroed copy, and its fold is zero too)
    memcpy(src, p->msg_w, nw * sizeof(float));
    memcpy(src + nw, p->msg_b, nb * sizeof(float));
    memcpy(src + nw + nb, p->upd_wih, ni * sizeof(float));
    mpass_fold_compute(&fs->f[l], p, C);
}

void mpass_foldset_update_on(mpass_foldset *fs, const mpass_params *const *layers, par_pool *pool) {
    if (fs->frozen == 2) return;
    refold_ctx x = {fs, layers};
    par_run(pool, fs->L, refold, &x);
    if (fs->frozen == 1) fs->frozen = 2;
}

void mpass_foldset_freeze(mpass_foldset *fs) {
    if (!fs->frozen) fs->frozen = 1;
}

void mpass_foldset_update(mpass_foldset *fs, const mpass_params *const *layers) {
    mpass_foldset_update_on(fs, layers, NULL);
}

/* ------------------------------------------------------------------ the layer */
size_t mpass_cache_size(int N, int C) {
    return (size_t)N * 2 * C + (size_t)N * 3 * C + gru_cache_size(N, C); // Z, gz, act + gh
}

size_t mpass_scratch_size(int N, int C) {
    return (size_t)N * 3 * C * 3 + (size_t)N * 2 * C; // dgi, dgh, dgz, dZ
}

/* Z_v = [sum of the in-neighbours' states ; deg(v) h_v] (2C) for the nodes with deg > 0, in node
 * order, into consecutive rows of Z. Returns their count. */
static int gather_z(float *restrict Z, const float *restrict h, const uint16_t *nbr,
                    const int *offsets, int G, int C) {
    const int C2 = 2 * C;
    int nz = 0;
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            if (!nbr[v]) continue;
            float *restrict zs = Z + (size_t)nz * C2, *restrict zt = zs + C;
            const float *hv = h + (size_t)v * C;
            memset(zs, 0, (size_t)C * sizeof(float));
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                const float *restrict hu = h + (size_t)(base + __builtin_ctz(m)) * C;
                for (int k = 0; k < C; k++) zs[k] += hu[k];
            }
            const float deg = (float)mask_count(nbr[v]);
            for (int k = 0; k < C; k++) zt[k] = deg * hv[k];
            nz++;
        }
    }
    return nz;
}

void mpass_forward(float *hout, float *cache, const float *h, const uint16_t *nbr,
                   const int *offsets, int G, const mpass_params *p, const mpass_fold *f, int C) {
    const int N = offsets[G], C2 = 2 * C, C3 = 3 * C;
    if (N == 0) return;
    float *Z = cache;                          // (nz,2C): [sum of in-neighbour states ; deg * h_v]
    float *gz = Z + (size_t)N * C2;            // (nz,3C): Z Wf^T
    float *act = gz + (size_t)N * C3;          // (N,3C): GRU input pre-activations, then gates
    float *gh = act + (size_t)N * C3;          // (N,3C): W_hh h + b_hh
    const int nz = gather_z(Z, h, nbr, offsets, G, C); // rows with at least one in-neighbour
    // gi = Z Wf^T + deg ⊗ bf + b_ih (just b_ih for a node without in-neighbours)
    linear_forward(gz, Z, f->w, NULL, nz, C2, C3);
    for (int v = 0, k = 0; v < N; v++) {
        float *a = act + (size_t)v * C3;
        memcpy(a, p->upd_bih, (size_t)C3 * sizeof(float));
        if (!nbr[v]) continue;
        const float deg = (float)mask_count(nbr[v]), *z = gz + (size_t)k++ * C3;
        for (int j = 0; j < C3; j++) a[j] += z[j] + deg * f->b[j];
    }
    linear_forward(gh, h, p->upd_whh, p->upd_bhh, N, C, C3);
    gru_cell_forward(hout, act, gh, h, N, C);
}

size_t mpass_table_scratch_size(int K, int C) { return (size_t)9 * K * C; }

void mpass_forward_table(float *hout, float *cache, float *scratch, const float *h,
                         const int *types, const float *E, int K, const uint16_t *nbr,
                         const int *offsets, int G, const mpass_params *p, const mpass_fold *f,
                         int C, int for_backward) {
    const int N = offsets[G], C2 = 2 * C, C3 = 3 * C;
    if (N == 0) return;
    float *Z = cache;                          // (nz,2C), for the backward only
    float *act = Z + (size_t)N * C2 + (size_t)N * C3; // (N,3C)
    float *gh = act + (size_t)N * C3;          // (N,3C)
    float *TS = scratch;                       // (K,3C) E Wf_s^T
    float *TT = TS + (size_t)K * C3;           // (K,3C) E Wf_t^T + bf
    float *TR = TT + (size_t)K * C3;           // (K,3C) E W_hh^T + b_hh
    for (int k = 0; k < K; k++) memcpy(TT + (size_t)k * C3, f->b, (size_t)C3 * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, C3, C, 1.0f, E, C, f->w, C2, 0.0f, TS, C3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, C3, C, 1.0f, E, C, f->w + C, C2, 1.0f, TT, C3);
    linear_forward(TR, E, p->upd_whh, p->upd_bhh, K, C, C3);
    if (for_backward) gather_z(Z, h, nbr, offsets, G, C);
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            float *restrict a = act + (size_t)v * C3;
            memcpy(a, p->upd_bih, (size_t)C3 * sizeof(float));
            memcpy(gh + (size_t)v * C3, TR + (size_t)types[v] * C3, (size_t)C3 * sizeof(float));
            if (!nbr[v]) continue;
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                const float *restrict ts = TS + (size_t)types[base + __builtin_ctz(m)] * C3;
                for (int j = 0; j < C3; j++) a[j] += ts[j];
            }
            const float deg = (float)mask_count(nbr[v]);
            const float *restrict tt = TT + (size_t)types[v] * C3;
            for (int j = 0; j < C3; j++) a[j] += deg * tt[j];
        }
    }
    gru_cell_forward(hout, act, gh, h, N, C);
}

void mpass_backward(float *dh, const mpass_params *grad, const mpass_fold *fg, float *scratch,
                    const float *dhout, const float *cache, const float *h, const uint16_t *nbr,
                    const int *offsets, int G, const mpass_params *p, const mpass_fold *f, int C) {
    const int N = offsets[G], C2 = 2 * C, C3 = 3 * C;
    if (N == 0) return;
    const mpass_params none = {0};
    const mpass_params *gr = grad ? grad : &none;
    const float *Z = cache, *act = cache + (size_t)N * C2 + (size_t)N * C3;
    const float *gh = act + (size_t)N * C3;
    float *dgi = scratch;                      // (N,3C)
    float *dgh = dgi + (size_t)N * C3;         // (N,3C)
    float *dgz = dgh + (size_t)N * C3;         // (nz,3C) the rows of dgi with deg > 0
    float *dZ = dgz + (size_t)N * C3;          // (nz,2C)
    gru_cell_backward(dgi, dgh, dh, dhout, act, gh, h, N, C);
    linear_backward(dh, gr->upd_whh, gr->upd_bhh, dgh, h, p->upd_whh, N, C, C3);
    if (gr->upd_bih)
        for (int v = 0; v < N; v++)
            for (int j = 0; j < C3; j++) gr->upd_bih[j] += dgi[(size_t)v * C3 + j];
    int nz = 0;
    for (int v = 0; v < N; v++) {
        if (!nbr[v]) continue;
        const float deg = (float)mask_count(nbr[v]), *d = dgi + (size_t)v * C3;
        memcpy(dgz + (size_t)nz++ * C3, d, (size_t)C3 * sizeof(float));
        if (fg)
            for (int j = 0; j < C3; j++) fg->b[j] += deg * d[j];
    }
    if (nz == 0) return;
    // gz = Z Wf^T: Gw += dgz^T Z, dZ = dgz Wf
    if (dh) memset(dZ, 0, (size_t)nz * C2 * sizeof(float));
    linear_backward(dh ? dZ : NULL, fg ? fg->w : NULL, NULL, dgz, Z, f->w, nz, C2, C3);
    if (!dh) return;
    // Z_v = [sum_u h_u ; deg h_v]: scatter the first half to the senders, scale the second
    int k = 0;
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            if (!nbr[v]) continue;
            const float *dzs = dZ + (size_t)k++ * C2, *dzt = dzs + C;
            float *dhv = dh + (size_t)v * C;
            const float deg = (float)mask_count(nbr[v]);
            for (int j = 0; j < C; j++) dhv[j] += deg * dzt[j];
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                float *dhu = dh + (size_t)(base + __builtin_ctz(m)) * C;
                for (int j = 0; j < C; j++) dhu[j] += dzs[j];
            }
        }
    }
}

/* ------------------------------------------------ the bidirectional single-stream layer (DGMG) */
void mpass_bidir_param_sizes(size_t sizes[MPASS_BIDIR_TENSORS], int C) {
    const size_t c = (size_t)C;
    sizes[0] = sizes[2] = 4 * c * c; // msg.weight, msg_rev.weight (2C,2C)
    sizes[1] = sizes[3] = 2 * c;     // msg.bias, msg_rev.bias (2C)
    sizes[4] = 6 * c * c;            // upd.weight_ih (3C,2C)
    sizes[5] = 3 * c * c;            // upd.weight_hh (3C,C)
    sizes[6] = sizes[7] = 3 * c;     // upd.bias_ih, upd.bias_hh (3C)
}

void mpass_bidir_param_ptrs(mpass_bidir_params *b, float **q[MPASS_BIDIR_TENSORS]) {
    q[0] = &b->msg_w; q[1] = &b->msg_b; q[2] = &b->rev_w; q[3] = &b->rev_b;
    q[4] = &b->upd_wih; q[5] = &b->upd_whh; q[6] = &b->upd_bih; q[7] = &b->upd_bhh;
}

static char bidir_names[2][MPASS_MAX_NAMED_LAYERS][MPASS_BIDIR_TENSORS][80];

__attribute__((constructor)) static void make_bidir_names(void) {
    static const char *const prefix[2] = {"Encoder.NodeEmb.", "Decoder.generator.prop.NodeEmb."};
    static const char *const tensor[MPASS_BIDIR_TENSORS] = {
        "msg.weight", "msg.bias", "msg_rev.weight", "msg_rev.bias",
        "upd.weight_ih", "upd.weight_hh", "upd.bias_ih", "upd.bias_hh"};
    for (int p = 0; p < 2; p++)
        for (int l = 0; l < MPASS_MAX_NAMED_LAYERS; l++)
            for (int k = 0; k < MPASS_BIDIR_TENSORS; k++)
                snprintf(bidir_names[p][l][k], sizeof bidir_names[p][l][k], "%sGNNLayers.%d.%s", prefix[p], l,
                         tensor[k]);
}

const char *mpass_bidir_param_name(int prefix, int l, int k) {
    if (prefix < 0 || prefix > 1 || l < 0 || l >= MPASS_MAX_NAMED_LAYERS || k < 0 || k >= MPASS_BIDIR_TENSORS)
        return NULL;
    return bidir_names[prefix][l][k];
}

size_t mpass_bidir_cache_size(int N, int C) { return (size_t)N * 2 * C * 3 + gru_cache_size(N, C); }
size_t mpass_bidir_scratch_size(int N, int C) { return (size_t)N * 2 * C * 3 + gru_scratch_size(N, C); }

/* Z (N,2C) = [sum over the nbr-masked nodes of h ; popcount(nbr) h_v]. */
static void gather_bidir(float *Z, const float *h, const uint16_t *nbr, const int *offsets, int G, int C) {
    const int C2 = 2 * C;
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
            const float deg = (float)mask_count(nbr[v]);
            for (int k = 0; k < C; k++) zt[k] = deg * hv[k];
        }
    }
}

/* The transpose of gather: dh += dZ scattered back. */
static void scatter_bidir(float *dh, const float *dZ, const uint16_t *nbr, const int *offsets, int G, int C) {
    const int C2 = 2 * C;
    for (int g = 0; g < G; g++) {
        const int base = offsets[g];
        for (int v = base; v < offsets[g + 1]; v++) {
            const float *dzs = dZ + (size_t)v * C2, *dzt = dzs + C;
            float *dhv = dh + (size_t)v * C;
            const float deg = (float)mask_count(nbr[v]);
            for (int k = 0; k < C; k++) dhv[k] += deg * dzt[k];
            for (uint16_t m = nbr[v]; m; m &= (uint16_t)(m - 1)) {
                float *dhu = dh + (size_t)(base + __builtin_ctz(m)) * C;
                for (int k = 0; k < C; k++) dhu[k] += dzs[k];
            }
        }
    }
}

void mpass_bidir_forward(float *hout, float *cache, const float *h, const uint16_t *pred,
                  const uint16_t *succ, const int *offsets, int G, const mpass_bidir_params *p, int C) {
    const int N = offsets[G], C2 = 2 * C;
    if (N == 0) return;
    float *Zf = cache, *Zr = cache + (size_t)N * C2, *a = cache + (size_t)N * C2 * 2;
    float *gc = cache + (size_t)N * C2 * 3;
    gather_bidir(Zf, h, pred, offsets, G, C);
    gather_bidir(Zr, h, succ, offsets, G, C);
    linear_forward(a, Zf, p->msg_w, NULL, N, C2, C2);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C2, C2, 1.0f, Zr, C2, p->rev_w, C2, 1.0f,
                a, C2);
    for (int v = 0; v < N; v++) {
        const float df = (float)mask_count(pred[v]), dr = (float)mask_count(succ[v]);
        float *av = a + (size_t)v * C2;
        for (int k = 0; k < C2; k++) av[k] += df * p->msg_b[k] + dr * p->rev_b[k];
    }
    gru_forward(hout, gc, a, h, p->upd_wih, p->upd_whh, p->upd_bih, p->upd_bhh, N, C2, C);
}

void mpass_bidir_backward(float *dh, const mpass_bidir_params *grad, float *scratch, const float *dhout,
                   const float *cache, const float *h, const uint16_t *pred, const uint16_t *succ,
                   const int *offsets, int G, const mpass_bidir_params *p, int C) {
    const int N = offsets[G], C2 = 2 * C;
    if (N == 0) return;
    const mpass_bidir_params none = {0};
    const mpass_bidir_params *gr = grad ? grad : &none;
    const float *Zf = cache, *Zr = cache + (size_t)N * C2, *a = cache + (size_t)N * C2 * 2;
    const float *gc = cache + (size_t)N * C2 * 3;
    float *da = scratch, *dZf = scratch + (size_t)N * C2, *dZr = scratch + (size_t)N * C2 * 2;
    float *gs = scratch + (size_t)N * C2 * 3;
    memset(da, 0, (size_t)N * C2 * 3 * sizeof(float));
    gru_backward(da, dh, gr->upd_wih, gr->upd_whh, gr->upd_bih, gr->upd_bhh, gs, dhout, gc, a, h,
                 p->upd_wih, p->upd_whh, N, C2, C);
    linear_backward(dh ? dZf : NULL, gr->msg_w, NULL, da, Zf, p->msg_w, N, C2, C2);
    linear_backward(dh ? dZr : NULL, gr->rev_w, NULL, da, Zr, p->rev_w, N, C2, C2);
    for (int v = 0; v < N; v++) {
        const float df = (float)mask_count(pred[v]), dr = (float)mask_count(succ[v]);
        const float *dav = da + (size_t)v * C2;
        if (gr->msg_b)
            for (int k = 0; k < C2; k++) gr->msg_b[k] += df * dav[k];
        if (gr->rev_b)
            for (int k = 0; k < C2; k++) gr->rev_b[k] += dr * dav[k];
    }
    if (!dh) return;
    scatter_bidir(dh, dZf, pred, offsets, G, C);
    scatter_bidir(dh, dZr, succ, offsets, G, C);
}
