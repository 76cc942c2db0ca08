/* fdcheck.h: the central-difference gradient checker of the unit tests (test_encoder,
 * test_decoder, test_svge, test_dgmg, and the layer tests test_nn and test_cnn). Header-only; the
 * includer defines EPS (float), RTOL and ATOL first.
 *
 * Element i of x passes if the analytic gradient g[i] agrees with a central difference of the loss
 * within RTOL * max(|a|,|n|) + ATOL at any of three steps: EPS; EPS/4 (a ReLU kink within EPS of
 * the operating point spoils the difference at EPS); 8*EPS (float32 rounding of the loss, ~1e-6
 * relative, spoils a small gradient's difference at EPS). A wrong gradient fails at all three:
 * every test shows its checker rejecting a gradient that is 3 % off. The worst element is printed
 * on failure unless quiet. */
#ifndef SVGE_TEST_FDCHECK_H
#define SVGE_TEST_FDCHECK_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef double (*fd_loss_fn)(void *ctx);

/* 1 if every element of x's analytic gradient g (n) agrees; f(ctx) is the loss at the current x. */
static int fd_compare(const char *what, fd_loss_fn f, void *ctx, float *x, const float *g, size_t n,
                      int quiet) {
    static const float steps[3] = {EPS, EPS / 4, 8 * EPS};
    int ok = 1;
    double worst = 0.0, wa = 0.0, wn = 0.0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        double num = 0, ana = g[i], err = 0, tol = 0;
        for (int si = 0; si < 3; si++) {
            const float e = steps[si], save = x[i];
            x[i] = save + e;
            const double lp = f(ctx);
            x[i] = save - e;
            const double lm = f(ctx);
            x[i] = save;
            num = (lp - lm) / (2.0 * e);
            err = fabs(ana - num);
            tol = RTOL * fmax(fabs(ana), fabs(num)) + ATOL;
            if (err <= tol) break;
        }
        if (!(err <= tol)) ok = 0;
        if (err / tol > worst) { worst = err / tol; wi = i; wa = ana; wn = num; }
    }
    if (!ok && !quiet) fprintf(stderr, "  %s[%zu]: analytic %.6g numeric %.6g\n", what, wi, wa, wn);
    return ok;
}

/* A layer's tensor to check: perturbed in place, with its analytic gradient. */
typedef struct {
    const char *name;
    float *x;
    const float *grad;
    size_t n;
} fd_tensor;

/* fd_compare of one tensor of a layer; a failure is printed as "layer dNAME[i]". */
static inline int fd_compare_tensor(const char *layer, fd_loss_fn f, void *ctx, const fd_tensor *t,
                                    int quiet) {
    char what[160];
    snprintf(what, sizeof what, "%s d%s", layer, t->name);
    return fd_compare(what, f, ctx, t->x, t->grad, t->n, quiet);
}

#endif
