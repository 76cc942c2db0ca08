/* celltrain.c: the NAS-Bench-101 training recipe on a cellnet (see celltrain.h). */
#include "celltrain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int celltrain_batches(int n, int batch) {
    if (n <= batch) return 1;
    return n / batch;
}

void celltrain_start(celltrain_state *st, cellnet *net, const celltrain_config *cfg) {
    *st = (celltrain_state){.n = net->n_params};
    rng_seed(&st->rng, cfg->seed);
    cellnet_init_params(net, &st->rng);
    st->m1 = xcalloc(st->n + 1, sizeof(float));
    st->m2 = xcalloc(st->n + 1, sizeof(float));
    if (cfg->opt == CT_RMSPROP)
        for (size_t i = 0; i < st->n; i++) st->m2[i] = 1.0f; // TF initialises ms to ones
}

void celltrain_free(celltrain_state *st) {
    free(st->m1), free(st->m2);
    st->m1 = st->m2 = NULL;
}

double celltrain_lr(const celltrain_config *cfg, int64_t step, int64_t steps) {
    if (step <= 0) return 0.0;
    double progress = steps > 0 ? (double)step / (double)steps : 1.0;
    if (progress > 1.0) progress = 1.0;
    return 0.5 * cfg->lr * (1.0 + cos(M_PI * progress));
}

/* Per channel, the normalised value of every byte: (v/255 - mean) / std. */
static float LUT[3][256];
static int lut_ready;

static void lut_init(void) {
    if (lut_ready) return;
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) LUT[c][v] = ((float)v / 255.0f - CIFAR_MEAN[c]) / CIFAR_STD[c];
    lut_ready = 1;
}

void celltrain_augment(float *x, const cifar_set *set, const uint32_t *idx, int B, rng_mt *r) {
    enum { S = CIFAR_SIDE, PAD = 4 };
    lut_init();
    for (int b = 0; b < B; b++) {
        int dy = (int)rng_interval(r, 2 * PAD) - PAD, dx = (int)rng_interval(r, 2 * PAD) - PAD;
        int flip = rng_double(r) < 0.5;
        const uint8_t *img = set->pixels + (size_t)idx[b] * CIFAR_PIXELS;
        float *o = x + (size_t)b * CIFAR_PIXELS;
        for (int c = 0; c < 3; c++) {
            const float zero = LUT[c][0]; // the padding: a black pixel
            for (int y = 0; y < S; y++) {
                int sy = y + dy;
                float *row = o + ((size_t)c * S + y) * S;
                if (sy < 0 || sy >= S) {
                    for (int xx = 0; xx < S; xx++) row[xx] = zero;
                    continue;
                }
                const uint8_t *src = img + ((size_t)c * S + sy) * S;
                for (int xx = 0; xx < S; xx++) {
                    int sx = (flip ? S - 1 - xx : xx) + dx; // crop, then flip the crop
                    row[xx] = sx < 0 || sx >= S ? zero : LUT[c][src[sx]];
                }
            }
        }
    }
}

void celltrain_update(cellnet *net, celltrain_state *st, const celltrain_config *cfg, double lr) {
    const size_t n = net->n_params;
    float *p = net->params, *g = net->grads;
    const float wd = (float)cfg->weight_decay;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        g[i] += wd * p[i]; // d/dp of wd * p^2 / 2
        ss += (double)g[i] * g[i];
    }
    float scale = 1.0f;
    if (cfg->clip > 0 && sqrt(ss) > cfg->clip) scale = (float)(cfg->clip / sqrt(ss));
    const float mu = (float)cfg->momentum, flr = (float)lr;
    if (cfg->opt == CT_RMSPROP) {
        const float rho = (float)cfg->rms_rho, eps = (float)cfg->rms_eps;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] * scale;
            st->m2[i] = rho * st->m2[i] + (1.0f - rho) * gi * gi;
            st->m1[i] = mu * st->m1[i] + flr * gi / sqrtf(st->m2[i] + eps);
            p[i] -= st->m1[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            st->m1[i] = mu * st->m1[i] + g[i] * scale;
            p[i] -= flr * st->m1[i];
        }
    }
}

celltrain_epoch_stats celltrain_epoch(cellnet *net, celltrain_state *st, const celltrain_config *cfg,
                                      const cifar_set *set, void (*progress)(void *, int, int),
                                      void *arg) {
    celltrain_epoch_stats es = {0};
    const int nb = celltrain_batches(set->n, cfg->batch);
    const int B = set->n < cfg->batch ? set->n : cfg->batch;
    const int64_t steps = (int64_t)cfg->epochs * nb;
    uint32_t *perm = xmalloc((size_t)set->n * sizeof *perm);
    float *x = xmalloc((size_t)B * CIFAR_PIXELS * sizeof(float));
    int *y = xmalloc((size_t)B * sizeof *y);
    rng_permutation(&st->rng, (uint32_t)set->n, perm);
    long correct = 0;
    for (int k = 0; k < nb; k++) {
        const uint32_t *idx = perm + (size_t)k * B;
        celltrain_augment(x, set, idx, B, &st->rng);
        for (int b = 0; b < B; b++) y[b] = set->labels[idx[b]];
        cellnet_forward(net, x, B, 1);
        double loss = cellnet_loss(net, y);
        if (!isfinite(loss)) {
            es.nonfinite = 1;
            break;
        }
        correct += cellnet_correct(net, y);
        cellnet_zero_grad(net);
        cellnet_backward(net, y, 1.0f);
        es.lr = celltrain_lr(cfg, st->step, steps);
        celltrain_update(net, st, cfg, es.lr);
        st->step++;
        es.loss += loss;
        if (progress) progress(arg, k + 1, nb);
    }
    if (!es.nonfinite)
        for (size_t i = 0; i < net->n_params; i++)
            if (!isfinite(net->params[i])) {
                es.nonfinite = 1;
                break;
            }
    es.loss /= nb;
    es.accuracy = (double)correct / ((double)nb * B);
    st->epoch++;
    free(perm), free(x), free(y);
    return es;
}

double celltrain_evaluate(cellnet *net, const cifar_set *set, int n) {
    if (n <= 0 || n > set->n) n = set->n;
    const int B = net->max_batch;
    float *x = xmalloc((size_t)B * CIFAR_PIXELS * sizeof(float));
    int *y = xmalloc((size_t)B * sizeof *y);
    int *idx = xmalloc((size_t)B * sizeof *idx);
    long correct = 0;
    for (int s = 0; s < n; s += B) {
        int m = n - s < B ? n - s : B;
        for (int b = 0; b < m; b++) idx[b] = s + b;
        cifar_batch(x, y, set, idx, m);
        cellnet_forward(net, x, m, 0);
        correct += cellnet_correct(net, y);
    }
    free(x), free(y), free(idx);
    return n ? (double)correct / n : 0.0;
}
