/* cellnet_gradcheck.h: finite-difference checks of a compiled cellnet's parameter gradients (the
 * mean softmax cross-entropy of a training-mode forward), for the unit tests. Header-only, after
 * check.h (it records its results with check()).
 *
 *   cn_gradcheck_sample(net, x, y, B, per_node, name)
 *       up to per_node parameters of every node (strided, the first always), one at a time:
 *       central differences with steps e and e/2 (e = CN_GC_EPS) or their Richardson
 *       extrapolation must match the analytic gradient within CN_GC_RTOL * max(|a|,|n|) + CN_GC_ATOL
 *       (any of the three: float32 rounding vs curvature).
 *   cn_gradcheck_directions(net, x, y, B, name)
 *       one directional derivative per node with parameters: a random direction v, +-1 on about
 *       CN_GC_DIR_SPAN of the node's parameters and 0 on the others, (L(p + e v) - L(p - e v)) / 2e against grad . v, for e = CN_GC_DIR_EPS
 *       and e/2 and their Richardson extrapolation (any may match: float32 rounding vs curvature),
 *       within CN_GC_RTOL * max(|a|,|n|) + CN_GC_ATOL_DIR; a dropped term or a wrong scale misses all three.
 * Kinks: ReLU and max-pool make the loss piecewise smooth, and in a batch-normalised network a step
 * of 1e-3 in one weight already flips some ReLU (float64 differences of such networks only settle
 * below 1e-5, out of float32's reach). So every perturbed forward's piecewise choices (the sign of
 * every ReLU output, the winner of every max-pool window: cn_gc_pattern) are compared with the
 * unperturbed ones, and differences that cross a kink are skipped (an element; or the direction,
 * which is then redrawn, up to CN_GC_DIRECTIONS times). What is compared is smooth, and the central
 * differences are Richardson-extrapolated. Each returns 1 if the check passed, and records the
 * result with check() unless cn_gc_quiet. At least CN_GC_MIN_CHECKED elements and a fifth of the
 * sampled ones must be checked; at least 10 nodes (all if fewer) must find a kink-free direction.
 * The loss is accumulated in double from the float32 forward. BN running statistics move with
 * every forward but do not affect the training-mode loss. */
#ifndef SVGE_TEST_CELLNET_GRADCHECK_H
#define SVGE_TEST_CELLNET_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellnet.h"
#include "rng.h"

#ifndef CN_GC_EPS
#define CN_GC_EPS 1e-3f /* smaller: float32 rounding of the loss dominates; larger: more kinks */
#endif
#ifndef CN_GC_RTOL
#define CN_GC_RTOL 3e-2
#endif
#ifndef CN_GC_DIR_EPS
#define CN_GC_DIR_EPS 3e-4f
#endif
#ifndef CN_GC_ATOL_DIR
#define CN_GC_ATOL_DIR 2e-3 /* float32 rounding of the loss over the smaller step */
#endif
#ifndef CN_GC_DIR_SPAN
#define CN_GC_DIR_SPAN 32 /* elements a direction moves, about */
#endif
#ifndef CN_GC_DIRECTIONS
#define CN_GC_DIRECTIONS 8 /* random directions tried per node before giving up on kinks */
#endif
#ifndef CN_GC_MIN_CHECKED
#define CN_GC_MIN_CHECKED 50
#endif
#ifndef CN_GC_ATOL
#define CN_GC_ATOL 5e-4
#endif

/* For testing the checker itself: cn_gc_quiet 1 = return the verdict without recording it;
 * cn_gc_tamper_at >= 0 multiplies that element of the analytic gradient by cn_gc_tamper_by. */
static int cn_gc_quiet = 0;
static long cn_gc_tamper_at = -1;
static float cn_gc_tamper_by = 1.0f;

static inline double cn_gc_loss(cellnet *net, const float *x, const int *y, int B) {
    cellnet_forward(net, x, B, 1);
    return cellnet_loss(net, y);
}

/* A hash of every piecewise choice of the last forward: which ReLU outputs (relu and conv_bn_relu
 * nodes) are positive and which pixel won every max-pool window. Two parameter points with the same
 * hash lie on the same smooth piece of the loss (up to hash collisions). */
static inline unsigned long long cn_gc_pattern(const cellnet *net) {
    unsigned long long h = 1469598103934665603ULL;
    for (int id = 0; id < net->n_nodes; id++) {
        const cellnet_node *nd = &net->node[id];
        size_t T = (size_t)nd->C * (size_t)net->batch * (size_t)nd->H * (size_t)nd->W;
        if (nd->op == CN_RELU || nd->op == CN_CONV_BN_RELU) {
            const float *o = net->arena + nd->a_out;
            for (size_t k = 0; k < T; k++) h = (h ^ (unsigned long long)(o[k] > 0.0f)) * 1099511628211ULL;
        } else if (nd->op == CN_MAXPOOL) {
            const int *a = net->iarena + nd->a_aux;
            for (size_t k = 0; k < T; k++) h = (h ^ (unsigned long long)(unsigned)a[k]) * 1099511628211ULL;
        }
    }
    return h;
}

/* The analytic gradient at the current parameters, in a new array. */
static inline float *cn_gc_analytic(cellnet *net, const float *x, const int *y, int B) {
    cn_gc_loss(net, x, y, B);
    cellnet_zero_grad(net);
    cellnet_backward(net, y, 1.0f);
    float *g = malloc(net->n_params * sizeof(float) + 1);
    if (!g) { perror("malloc"); exit(2); }
    memcpy(g, net->grads, net->n_params * sizeof(float));
    if (cn_gc_tamper_at >= 0 && (size_t)cn_gc_tamper_at < net->n_params) g[cn_gc_tamper_at] *= cn_gc_tamper_by;
    return g;
}

static inline int cn_gradcheck_sample(cellnet *net, const float *x, const int *y, int B, int per_node,
                                       const char *name) {
    float *ana = cn_gc_analytic(net, x, y, B);
    cn_gc_loss(net, x, y, B);
    const unsigned long long base = cn_gc_pattern(net);
    int checked = 0, skipped = 0, bad = 0;
    for (int id = 0; id < net->n_nodes; id++) {
        const cellnet_node *nd = &net->node[id];
        size_t step = nd->p_len / (size_t)per_node + 1;
        for (size_t k = 0; k < nd->p_len; k += step) {
            float *p = &net->params[nd->p_off + k];
            const float save = *p;
            double d[2];
            int kink = 0;
            for (int h = 0; h < 2; h++) {
                const float e = h ? CN_GC_EPS / 2 : CN_GC_EPS;
                *p = save + e;
                double lp = cn_gc_loss(net, x, y, B);
                kink |= cn_gc_pattern(net) != base;
                *p = save - e;
                double lm = cn_gc_loss(net, x, y, B);
                kink |= cn_gc_pattern(net) != base;
                d[h] = (lp - lm) / (2.0 * e);
            }
            *p = save;
            // Richardson extrapolation cancels the O(e^2) term of the central difference
            const double num = (4.0 * d[1] - d[0]) / 3.0, a = ana[nd->p_off + k];
            const double tol = CN_GC_RTOL * fmax(fabs(num), fabs(a)) + CN_GC_ATOL;
            if (kink) {
                skipped++;
                continue;
            }
            checked++;
            if (fabs(num - a) > tol && fabs(d[0] - a) > tol && fabs(d[1] - a) > tol && ++bad <= 5 && !cn_gc_quiet)
                fprintf(stderr, "%s: node %d (op %d) parameter %zu: analytic %.6g numeric %.6g (%.6g, %.6g)\n",
                        name, id, (int)nd->op, k, a, num, d[0], d[1]);
        }
    }
    char what[200];
    snprintf(what, sizeof what, "%s: %d gradients checked, %d wrong, %d skipped at kinks", name, checked, bad,
             skipped);
    const int ok = bad == 0 && checked >= CN_GC_MIN_CHECKED && 4 * checked >= skipped;
    if (!cn_gc_quiet) {
        check(ok, __LINE__, what);
        printf("%s\n", what);
    }
    free(ana);
    return ok;
}

static inline int cn_gradcheck_directions(cellnet *net, const float *x, const int *y, int B, const char *name) {
    float *ana = cn_gc_analytic(net, x, y, B);
    cn_gc_loss(net, x, y, B);
    const unsigned long long base = cn_gc_pattern(net);
    float *v = malloc(net->n_params * sizeof(float) + 1), *save = malloc(net->n_params * sizeof(float) + 1);
    if (!v || !save) { perror("malloc"); exit(2); }
    memcpy(save, net->params, net->n_params * sizeof(float));
    rng_mt r;
    rng_seed(&r, 7);
    int nodes = 0, bad = 0, skipped = 0;
    for (int id = 0; id < net->n_nodes; id++) {
        const cellnet_node *nd = &net->node[id];
        if (!nd->p_len) continue;
        float *p = net->params + nd->p_off;
        int done = 0;
        for (int attempt = 0; attempt < CN_GC_DIRECTIONS && !done; attempt++) {
            double a = 0.0, num[2];
            int kink = 0;
            // +-1 on about CN_GC_DIR_SPAN random elements of the node, 0 elsewhere (fewer kinks)
            const double keep = nd->p_len <= CN_GC_DIR_SPAN ? 1.0 : (double)CN_GC_DIR_SPAN / (double)nd->p_len;
            for (size_t k = 0; k < nd->p_len; k++) {
                v[k] = rng_double(&r) >= keep ? 0.0f : rng_double(&r) < 0.5 ? -1.0f : 1.0f;
                a += (double)v[k] * ana[nd->p_off + k];
            }
            for (int h = 0; h < 2 && !kink; h++) {
                const float e = h ? CN_GC_DIR_EPS / 2 : CN_GC_DIR_EPS;
                for (size_t k = 0; k < nd->p_len; k++) p[k] = save[nd->p_off + k] + e * v[k];
                double lp = cn_gc_loss(net, x, y, B);
                kink |= cn_gc_pattern(net) != base;
                for (size_t k = 0; k < nd->p_len; k++) p[k] = save[nd->p_off + k] - e * v[k];
                double lm = cn_gc_loss(net, x, y, B);
                kink |= cn_gc_pattern(net) != base;
                memcpy(p, save + nd->p_off, nd->p_len * sizeof(float));
                num[h] = (lp - lm) / (2.0 * e);
            }
            if (kink) continue; // a ReLU or max-pool choice flipped: try another direction
            done = 1;
            const double rich = (4.0 * num[1] - num[0]) / 3.0;
            const double tol = CN_GC_RTOL * fmax(fabs(num[1]), fabs(a)) + CN_GC_ATOL_DIR;
            if (fabs(num[0] - a) > tol && fabs(num[1] - a) > tol && fabs(rich - a) > tol && ++bad <= 5 && !cn_gc_quiet)
                fprintf(stderr, "%s: node %d (op %d): directional analytic %.6g numeric %.6g / %.6g\n", name, id,
                        (int)nd->op, a, num[0], num[1]);
        }
        if (done) nodes++;
        else skipped++;
    }
    char what[200];
    snprintf(what, sizeof what, "%s: %d nodes' directional derivatives, %d wrong, %d without a kink-free direction",
             name, nodes, bad, skipped);
    const int ok = bad == 0 && nodes >= (nodes + skipped < 10 ? nodes + skipped : 10);
    if (!cn_gc_quiet) {
        check(ok, __LINE__, what);
        printf("%s\n", what);
    }
    free(ana), free(v), free(save);
    return ok;
}

#endif
