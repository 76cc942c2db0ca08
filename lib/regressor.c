/* regressor.c: the surrogate head; see regressor.h. */
#include "regressor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"

int regressor_config_ok(regressor_config cfg) {
    if (cfg.L < 1 || cfg.L > REG_MAX_LAYERS || cfg.D < 1) return -1;
    return (cfg.D >> (cfg.L - 1)) >= 1 ? 0 : -1;
}

int regressor_in(regressor_config cfg, int i) { return cfg.D >> i; }
int regressor_out(regressor_config cfg, int i) { return i == cfg.L - 1 ? 1 : cfg.D >> (i + 1); }
int regressor_num_tensors(regressor_config cfg) { return 2 * cfg.L; }

size_t regressor_param_count(regressor_config cfg) {
    size_t n = 0;
    for (int i = 0; i < cfg.L; i++)
        n += (size_t)regressor_out(cfg, i) * (size_t)(regressor_in(cfg, i) + 1);
    return n;
}

static char names[REG_MAX_TENSORS][48];

__attribute__((constructor)) static void make_names(void) {
    for (int i = 0; i < REG_MAX_TENSORS; i++)
        snprintf(names[i], sizeof names[i], "Accuracy.lin_layers.%d.%s", i / 2, i % 2 ? "bias" : "weight");
}

const char *regressor_param_name(int i) { return i >= 0 && i < REG_MAX_TENSORS ? names[i] : NULL; }

void regressor_param_shapes(int *ndim, uint64_t (*shape)[2], regressor_config cfg) {
    for (int i = 0; i < cfg.L; i++) {
        const uint64_t in = (uint64_t)regressor_in(cfg, i), out = (uint64_t)regressor_out(cfg, i);
        ndim[2 * i] = 2, shape[2 * i][0] = out, shape[2 * i][1] = in;
        ndim[2 * i + 1] = 1, shape[2 * i + 1][0] = out, shape[2 * i + 1][1] = 0;
    }
}

void regressor_point_params(regressor_params *p, float *mem, regressor_config cfg) {
    memset(p, 0, sizeof *p);
    for (int i = 0; i < cfg.L; i++) {
        const int in = regressor_in(cfg, i), out = regressor_out(cfg, i);
        p->w[i] = mem;
        mem += (size_t)out * in;
        p->b[i] = mem;
        mem += out;
    }
}

void regressor_init(const regressor_params *p, regressor_config cfg, rng_mt *r) {
    for (int i = 0; i < cfg.L; i++) {
        const int in = regressor_in(cfg, i), out = regressor_out(cfg, i);
        const double bound = 1.0 / sqrt((double)in);
        for (size_t k = 0; k < (size_t)out * in; k++) p->w[i][k] = (float)(bound * (2.0 * rng_double(r) - 1.0));
        for (int k = 0; k < out; k++) p->b[i][k] = (float)(bound * (2.0 * rng_double(r) - 1.0));
    }
}

size_t regressor_acts_size(regressor_config cfg, int B) {
    size_t n = 0;
    for (int i = 0; i < cfg.L; i++) n += (size_t)B * regressor_out(cfg, i);
    return n;
}

const float *regressor_pred(const float *acts, regressor_config cfg, int B) {
    return acts + regressor_acts_size(cfg, B) - (size_t)B;
}

void regressor_forward(float *acts, const regressor_params *p, regressor_config cfg, const float *x, int B) {
    const float *in = x;
    float *out = acts;
    for (int i = 0; i < cfg.L; i++) {
        const int ci = regressor_in(cfg, i), co = regressor_out(cfg, i);
        linear_forward(out, in, p->w[i], p->b[i], B, ci, co); // (B,co)
        if (i < cfg.L - 1) relu_forward(out, out, (size_t)B * co);
        in = out;
        out += (size_t)B * co;
    }
}

size_t regressor_scratch_size(regressor_config cfg, int B) { return 2 * (size_t)B * (size_t)cfg.D; }

void regressor_backward(const regressor_params *grad, float *dx, float *scratch, const float *dpred,
                        const float *acts, const regressor_params *p, regressor_config cfg,
                        const float *x, int B) {
    // walk the layers from the top: dcur (B,co) -> dprev (B,ci), ping-ponging in scratch
    size_t off[REG_MAX_LAYERS + 1];
    off[0] = 0;
    for (int i = 0; i < cfg.L; i++) off[i + 1] = off[i] + (size_t)B * regressor_out(cfg, i);
    float *buf[2] = {scratch, scratch + (size_t)B * cfg.D};
    const float *dcur = dpred;
    for (int i = cfg.L - 1; i >= 0; i--) {
        const int ci = regressor_in(cfg, i), co = regressor_out(cfg, i);
        const float *in = i ? acts + off[i - 1] : x; // the layer's input (post-ReLU of the one below)
        float *dprev = i ? buf[i % 2] : dx;
        if (i) memset(dprev, 0, (size_t)B * ci * sizeof(float));
        linear_backward(dprev, grad->w[i], grad->b[i], dcur, in, p->w[i], B, ci, co);
        if (i) { // ReLU of layer i-1: zero where its output was not positive
            for (size_t k = 0; k < (size_t)B * ci; k++)
                if (!(in[k] > 0.0f)) dprev[k] = 0.0f;
        }
        dcur = dprev;
    }
}

double mse_forward_backward(float *dpred, const float *pred, const double *y, float w, int B) {
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        const double e = (double)pred[b] - y[b];
        s += e * e;
        if (dpred) dpred[b] = (float)(2.0 * w * e / B);
    }
    return B ? w * s / B : 0.0;
}
