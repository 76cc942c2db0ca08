/* regressor.h: the SVGE_acc surrogate head (formats/reference.md §3.4, `GetAcc`): an MLP on the
 * encoder's mean mu that predicts a scalar (an accuracy), llm.c style (plain float arrays,
 * backward accumulates).
 *
 * With D the latent size and L layers (num_regression_layers, the reference's 4), layer i maps
 * D/2^i -> D/2^(i+1) for i < L-1 (integer halving, as the reference's `gdim // 2**i`) and the last
 * maps D/2^(L-1) -> 1; a ReLU follows every layer but the last; dropout is 0 (a no-op) in the
 * reference and absent here. At D = 56, L = 4: 56 -> 28 -> 14 -> 7 -> 1, 2,115 parameters.
 * Tensor names: "Accuracy.lin_layers.<i>.weight" (out,in) and ".bias" (out), in that order. */
#ifndef SVGE_REGRESSOR_H
#define SVGE_REGRESSOR_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define REG_MAX_LAYERS 8
#define REG_MAX_TENSORS (2 * REG_MAX_LAYERS)

typedef struct {
    int D; /* input size (the latent size) */
    int L; /* layers, 1..REG_MAX_LAYERS, with D / 2^(L-1) >= 1 */
} regressor_config;

typedef struct {
    float *w[REG_MAX_LAYERS]; /* (out_i, in_i) Accuracy.lin_layers.<i>.weight */
    float *b[REG_MAX_LAYERS]; /* (out_i)      Accuracy.lin_layers.<i>.bias */
} regressor_params;

/* 0 if cfg is usable, else -1. */
int regressor_config_ok(regressor_config cfg);
/* Input and output width of layer i. */
int regressor_in(regressor_config cfg, int i);
int regressor_out(regressor_config cfg, int i);
int regressor_num_tensors(regressor_config cfg); /* 2L */
size_t regressor_param_count(regressor_config cfg); /* 2,115 at D = 56, L = 4 */
/* Name, ndim and shape of tensor i (persistent strings; NULL if out of range). */
const char *regressor_param_name(int i);
void regressor_param_shapes(int *ndim, uint64_t (*shape)[2], regressor_config cfg);
/* Point p's fields into mem (regressor_param_count floats), in tensor order. */
void regressor_point_params(regressor_params *p, float *mem, regressor_config cfg);
/* PyTorch's Linear default, U(±1/sqrt(fan_in)) for weight and bias, tensors in order, elements
 * row-major, one rng_double each. */
void regressor_init(const regressor_params *p, regressor_config cfg, rng_mt *r);

/* Activations of B rows: floats regressor_acts_size(cfg, B): the post-ReLU output of every
 * hidden layer, (B, out_i) each, then the prediction (B). */
size_t regressor_acts_size(regressor_config cfg, int B);
/* pred (B) = the head on x (B,D); acts: regressor_acts_size(cfg, B) floats (pred may point into
 * it: regressor_pred). */
void regressor_forward(float *acts, const regressor_params *p, regressor_config cfg, const float *x, int B);
const float *regressor_pred(const float *acts, regressor_config cfg, int B); /* (B) inside acts */
/* Accumulate (+=) the gradients into grad and dx (B,D) (may be NULL) from dpred (B), for the
 * last regressor_forward on acts with the same p and x. scratch: regressor_scratch_size floats. */
size_t regressor_scratch_size(regressor_config cfg, int B);
void regressor_backward(const regressor_params *grad, float *dx, float *scratch, const float *dpred,
                        const float *acts, const regressor_params *p, regressor_config cfg,
                        const float *x, int B);

/* The mean squared error (1/B) sum_b w (pred_b - y_b)^2 and its gradient dpred (B) = 2 w (pred - y) / B
 * (written, not accumulated); y (B) double targets, w the loss weight. */
double mse_forward_backward(float *dpred, const float *pred, const double *y, float w, int B);

#endif
