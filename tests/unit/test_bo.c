/* test_bo.c: lib/bo (batch expected improvement with the kriging believer). Checks that
 *  - the candidates' mean and variance equal gp_predict's;
 *  - after each fantasy, the rank-one variance update of the candidates equals the variance of
 *    a GP refitted from scratch on the observed + fantasised points (same hyperparameters and
 *    standardisation), and the mean is unchanged (the believer's defining property);
 *  - the best candidate is the argmax of EI computed by hand (gp_ei), ties to the lowest index;
 *  - bo_refine never lowers EI, stays in the box, and raises it from a poor start;
 *  - a batch is deterministic and its EI values do not increase (each fantasy lowers the rest);
 *  - fixed standardisation (gp_opts.standard) keeps the kernel in y's units.
 * Prints "N passed, M failed". */
#include "bo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"

static double relerr(double a, double b) { return fabs(a - b) / fmax(1e-12, fmax(fabs(a), fabs(b))); }

enum { N = 40, D = 3, B = 300, Q = 6 };

static void data(float *X, double *y, double *C) {
    rng_mt r;
    rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) X[i * D + j] = (float)(2 * rng_double(&r) - 1);
        y[i] = sin(3 * X[i * D]) + 0.5 * X[i * D + 1] * X[i * D + 1] + 0.05 * rng_gauss(&r);
    }
    for (int i = 0; i < B * D; i++) C[i] = 2 * rng_double(&r) - 1;
}

int main(void) {
    float X[N * D];
    double y[N], C[B * D];
    data(X, y, C);
    gp_opts o;
    gp_opts_default(&o);
    char err[256];
    bo_state s;
    CHECK(bo_init(&s, X, y, N, D, Q, &o, err, sizeof err) == GP_OK);
    bo_set_candidates(&s, C, B);
    {
        double m[B], v[B];
        float Cf[B * D];
        for (int i = 0; i < B * D; i++) Cf[i] = (float)C[i];
        /* gp_predict takes float inputs: compare on candidates exactly representable as float */
        double C2[B * D];
        for (int i = 0; i < B * D; i++) C2[i] = Cf[i];
        bo_set_candidates(&s, C2, B);
        gp_predict(&s.g, Cf, B, m, v);
        double em = 0, ev = 0;
        for (int b = 0; b < B; b++) em = fmax(em, relerr(m[b], s.mean[b])), ev = fmax(ev, relerr(v[b], s.var[b]));
        CHECK(em < 1e-10);
        CHECK(ev < 1e-8);
        memcpy(C, C2, sizeof C);
    }
    /* best candidate = argmax of EI by hand */
    double fbest = -INFINITY;
    for (int i = 0; i < N; i++) fbest = fmax(fbest, y[i]);
    CHECK(s.fbest == fbest);
    int arg = -1;
    double best = -1;
    for (int b = 0; b < B; b++) {
        const double e = gp_ei(s.mean[b], sqrt(s.var[b]), fbest, 0, NULL, NULL);
        if (e > best) best = e, arg = b;
    }
    CHECK(bo_best_candidate(&s, 0) == arg);
    bo_take(&s, arg);
    CHECK(bo_best_candidate(&s, 0) != arg);

    /* refine: from a poor start inside the box, EI goes up and x stays in [-1, 1] */
    double lo[D], hi[D], x[D];
    for (int j = 0; j < D; j++) lo[j] = -1, hi[j] = 1, x[j] = -0.9;
    const double e0 = gp_ei_x(&s.g, x, s.fbest, 0, NULL);
    const double e1 = bo_refine(&s, x, lo, hi, 100, 0);
    CHECK(e1 >= e0);
    CHECK(e1 > e0 * 1.01 || e0 == 0);
    int inbox = 1;
    for (int j = 0; j < D; j++) inbox &= x[j] >= -1 && x[j] <= 1;
    CHECK(inbox);
    CHECK(fabs(gp_ei_x(&s.g, x, s.fbest, 0, NULL) - e1) < 1e-12);

    /* fantasies: rank-one updates = a fresh GP on the augmented data */
    double mean0[B];
    memcpy(mean0, s.mean, sizeof mean0);
    double prev_ei = INFINITY;
    int mono = 1;
    for (int k = 0; k < Q; k++) {
        const int b = bo_best_candidate(&s, 0);
        const double e = bo_candidate_ei(&s, b, 0);
        mono &= e <= prev_ei + 1e-15;
        prev_ei = e;
        bo_take(&s, b);
        CHECK(bo_fantasize(&s, C + (size_t)b * D, err, sizeof err) == GP_OK);
        /* a fresh GP with the same hyperparameters and standardisation on the n + k + 1 points */
        gp_model g2;
        CHECK(gp_fit(&g2, s.X, s.y, N + k + 1, D, &s.refit, err, sizeof err) == GP_OK);
        float Cf[B * D];
        for (int i = 0; i < B * D; i++) Cf[i] = (float)C[i];
        double m[B], v[B];
        gp_predict(&g2, Cf, B, m, v);
        double ev = 0, em = 0;
        for (int c = 0; c < B; c++) {
            ev = fmax(ev, fabs(v[c] - s.var[c]) / fmax(1e-6, v[c]));
            em = fmax(em, fabs(m[c] - mean0[c]));
        }
        CHECK(ev < 1e-6);  /* variance: rank-one update = refit */
        CHECK(em < 1e-6);  /* mean: the refitted GP's is the first one's (a believer's fantasy leaves it) */
        gp_free(&g2);
    }
    CHECK(mono);
    CHECK(bo_fantasize(&s, C, err, sizeof err) == GP_EINPUT); /* no room beyond q_max */
    bo_free(&s);

    /* determinism: the same batch twice */
    int pick[2][Q];
    for (int t = 0; t < 2; t++) {
        CHECK(bo_init(&s, X, y, N, D, Q, &o, err, sizeof err) == GP_OK);
        bo_set_candidates(&s, C, B);
        for (int k = 0; k < Q; k++) {
            pick[t][k] = bo_best_candidate(&s, 0);
            bo_take(&s, pick[t][k]);
            if (k + 1 < Q) bo_fantasize(&s, C + (size_t)pick[t][k] * D, err, sizeof err);
        }
        bo_free(&s);
    }
    CHECK(memcmp(pick[0], pick[1], sizeof pick[0]) == 0);
    int distinct = 1;
    for (int a = 0; a < Q; a++)
        for (int b = 0; b < a; b++) distinct &= pick[0][a] != pick[0][b];
    CHECK(distinct);

    /* too many points for the exact GP; a constant objective */
    gp_opts small = o;
    small.exact_max = 10;
    CHECK(bo_init(&s, X, y, N, D, Q, &small, err, sizeof err) == GP_EINPUT);
    double yc[N];
    for (int i = 0; i < N; i++) yc[i] = 0.5;
    CHECK(bo_init(&s, X, yc, N, D, Q, &o, err, sizeof err) == GP_ECONST);
    return check_summary();
}
