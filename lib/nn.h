/* nn.h: the first layers of the SVGe model, in the style of karpathy/llm.c.
 *
 * Every layer is a pair of free functions <layer>_forward / <layer>_backward on plain float arrays
 * with explicit sizes, row-major, with PyTorch's layouts (Linear weight (OC,C), y = x W^T + b).
 * Backward functions ACCUMULATE (+=) into every gradient buffer they are given; the caller zeroes
 * gradients once per step. A gradient pointer may be NULL when that gradient is not wanted.
 * Matrix products go through cblas_sgemm. Shapes are in the comments: B rows (batch or nodes),
 * C input channels, OC output channels, H hidden size, K classes, G graphs, N nodes.
 * No function allocates memory; buffers that a forward saves for its backward ("cache") and the
 * scratch a backward needs are provided by the caller, sized by the *_size functions. */
#ifndef SVGE_NN_H
#define SVGE_NN_H

#include <stddef.h>

/* ---- Linear: out = inp W^T + b ---- */
/* out (B,OC), inp (B,C), W (OC,C), b (OC) or NULL for no bias. out must not alias inp. */
void linear_forward(float *out, const float *inp, const float *W, const float *b, int B, int C, int OC);
/* dinp (B,C), dW (OC,C), db (OC): each may be NULL. dout (B,OC), inp (B,C), W (OC,C). */
void linear_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp,
                     const float *W, int B, int C, int OC);

/* ---- Embedding: out[b] = table[idx[b]] ---- */
/* out (B,C), idx (B) with 0 <= idx < K, table (K,C). */
void embedding_forward(float *out, const int *idx, const float *table, int B, int C);
/* dtable (K,C) += scatter of dout (B,C) by idx (B); repeated indices add up. */
void embedding_backward(float *dtable, const float *dout, const int *idx, int B, int C);

/* ---- GRU cell, PyTorch nn.GRUCell semantics ----
 * r = sig(W_ir x + b_ir + W_hr h + b_hr), z = sig(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), h' = (1-z)*n + z*h; gate order r, z, n. */
size_t gru_cache_size(int B, int H);    /* floats the forward saves for the backward: 6*B*H */
size_t gru_scratch_size(int B, int H);  /* floats of scratch the backward needs: 6*B*H */
/* hout (B,H) (may not alias h or x), cache (gru_cache_size), x (B,Cin), h (B,H),
 * Wih (3H,Cin), Whh (3H,H), bih (3H), bhh (3H). */
void gru_forward(float *hout, float *cache, const float *x, const float *h, const float *Wih,
                 const float *Whh, const float *bih, const float *bhh, int B, int Cin, int H);
/* dx (B,Cin), dh (B,H), dWih (3H,Cin), dWhh (3H,H), dbih (3H), dbhh (3H): each may be NULL.
 * scratch (gru_scratch_size), dhout (B,H), cache as filled by gru_forward with the same x, h. */
void gru_backward(float *dx, float *dh, float *dWih, float *dWhh, float *dbih, float *dbhh,
                  float *scratch, const float *dhout, const float *cache, const float *x,
                  const float *h, const float *Wih, const float *Whh, int B, int Cin, int H);

/* The GRU cell without its two linear maps, for callers that compute the pre-activations themselves
 * (lib/mpass.c folds its message map into W_ih). act (B,3H): in, gi = W_ih x + b_ih; out, the
 * activated gates r, z, n (the cache gru_cell_backward needs, with gh). gh (B,3H) = W_hh h + b_hh. */
void gru_cell_forward(float *hout, float *act, const float *gh, const float *h, int B, int H);
/* The same with row b of gh and h taken from row rows[b] (rows NULL: row b): shared rows need no copies.
 * The same bits as gru_cell_forward on the gathered rows. */
void gru_cell_forward_rows(float *hout, float *act, const float *gh, const float *h, const int *rows, int B,
                           int H);
/* dgi = dL/dgi and dgh = dL/dgh (B,3H each) are OVERWRITTEN; dh (B,H) += the direct path z*dhout
 * (if dh is not NULL; the W_hh path is the caller's). dhout (B,H); act, gh, h as in the forward. */
void gru_cell_backward(float *dgi, float *dgh, float *dh, const float *dhout, const float *act,
                       const float *gh, const float *h, int B, int H);

/* ---- Pointwise activations on n elements; out may alias inp (in place). ---- */
void relu_forward(float *out, const float *inp, size_t n);
/* dinp += dout * (out > 0); uses the forward's output, so works after an in-place forward. */
void relu_backward(float *dinp, const float *dout, const float *out, size_t n);
void sigmoid_forward(float *out, const float *inp, size_t n);
/* dinp += dout * out * (1 - out). */
void sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);

/* ---- Gated-sum readout ('gsum' of SVGe's GraphEmb) ----
 * out[g] = sum over the nodes v of graph g of sigmoid(g(h_v)) * f(h_v),
 * f: Linear C->D (Wf (D,C), bf (D)), g: Linear C->1 (Wg (1,C), bg (1)).
 * Graph g owns node rows offsets[g] .. offsets[g+1]-1 of h; offsets (G+1), offsets[0] = 0,
 * N = offsets[G]. A graph with no nodes reads out zeros. */
size_t gsum_cache_size(int N, int D);   /* N*(D+1): f(h) (N,D) then the gates (N) */
size_t gsum_scratch_size(int N, int D); /* N*(D+1) */
/* out (G,D), cache (gsum_cache_size), h (N,C). */
void gsum_forward(float *out, float *cache, const float *h, const float *Wf, const float *bf,
                  const float *Wg, const float *bg, const int *offsets, int G, int C, int D);
/* dh (N,C), dWf (D,C), dbf (D), dWg (1,C), dbg (1): each may be NULL. dout (G,D). */
void gsum_backward(float *dh, float *dWf, float *dbf, float *dWg, float *dbg, float *scratch,
                   const float *dout, const float *cache, const float *h, const float *Wf,
                   const float *Wg, const int *offsets, int G, int C, int D);

/* The three losses return a double: they accumulate in double, and float rounding of a loss of
 * size ~10 would swamp finite-difference checks and small changes in logged losses. */

/* ---- Cross-entropy with logits ----
 * loss = sum_b w_b * (-log softmax(logits_b)[target_b]); weights NULL means w_b = 1/B (the mean).
 * probs (B,K) receives the softmax, kept for the backward; logits (B,K), targets (B) in [0,K). */
double crossentropy_forward(float *probs, const float *logits, const int *targets,
                           const float *weights, int B, int K);
/* dlogits (B,K) += dloss * w_b * (probs_b - onehot(target_b)). */
void crossentropy_backward(float *dlogits, const float *probs, const int *targets,
                           const float *weights, float dloss, int B, int K);

/* ---- Binary cross-entropy with logits (numerically stable) ----
 * loss = sum_i w_i * (max(x_i,0) - x_i t_i + log(1 + exp(-|x_i|))); weights NULL means the mean.
 * logits (N), targets (N) in [0,1], weights (N) or NULL. */
double bce_logits_forward(const float *logits, const float *targets, const float *weights, int N);
/* dlogits (N) += dloss * w_i * (sigmoid(x_i) - t_i). */
void bce_logits_backward(float *dlogits, const float *logits, const float *targets,
                         const float *weights, float dloss, int N);

/* ---- Gaussian KL to N(0,I): -1/2 * sum_i (1 + logvar_i - mu_i^2 - exp(logvar_i)) ----
 * A plain sum over all n elements (e.g. n = B*D); the caller scales (mean over batch, beta). */
double gaussian_kl_forward(const float *mu, const float *logvar, size_t n);
/* dmu += dloss * mu, dlogvar += dloss * (exp(logvar) - 1) / 2; either may be NULL. */
void gaussian_kl_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                          float dloss, size_t n);

/* The reparameterisation of a VAE (formats/reference.md §3.2 `SVGE.sample`), n = B*D elements:
 * training (eps non-NULL): z = mu + scale * eps * exp(logvar / 2); eval (eps NULL): z = mu. */
void reparam_forward(float *z, const float *mu, const float *logvar, const float *eps, float scale,
                     size_t n);
/* dmu = dz and dlogvar = dz * scale * eps * exp(logvar / 2) / 2 (0 in eval mode, eps NULL):
 * written (=), not accumulated, so that the KL backward can add to them. */
void reparam_backward(float *dmu, float *dlogvar, const float *dz, const float *logvar,
                      const float *eps, float scale, size_t n);

#endif
