/* gp_bench.c: lib/gp's fit time and prediction throughput, exact against sparse, for the exact/sparse
 * threshold (gp.h GP_EXACT_MAX). Synthetic latent-like data: X (N,d) standard normal float32,
 * y = sin(x_0) + x_1 x_2 / 2 + 0.3 x_3 + noise of std 0.1 (the other dimensions irrelevant), or with
 * --target hard, y = sum_{k<16} sin(1.5 x_k) / 4 + noise of std 0.1 (16 relevant dimensions).
 * For each N: the hyperparameter fit (exact, on min(N, 1000) points: gp.h), the factorisation at
 * those hyperparameters, exact and sparse (FITC, M inducing points), their prediction throughput
 * (mean and variance) and their RMSE on 2000 held-out points; then one whole gp_fit of the sparse
 * GP on --big points. Not part of the tests.
 *   gp_bench [--sizes 500,1000,2000,4000,8000] [--d 56] [--inducing 1000] [--big 20000] [--threads 1]
 *            [--target easy|hard] */
#include "gp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rng.h"
#include "util.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int g_hard; /* --target hard */

static void make_data(rng_mt *r, float *X, double *y, int N, int d) {
    for (size_t i = 0; i < (size_t)N * d; i++) X[i] = (float)rng_gauss(r);
    for (int i = 0; i < N; i++) {
        const float *x = X + (size_t)i * d;
        if (g_hard) {
            double s = 0;
            for (int k = 0; k < 16 && k < d; k++) s += sin(1.5 * x[k]) / 4;
            y[i] = s + 0.1 * rng_gauss(r);
        } else {
            y[i] = sin(x[0]) + 0.5 * x[1 % d] * x[2 % d] + 0.3 * x[3 % d] + 0.1 * rng_gauss(r);
        }
    }
}

static double rmse(const gp_model *g, const float *Xt, const double *yt, int T, double *rate) {
    double *m = xmalloc((size_t)T * sizeof *m), *v = xmalloc((size_t)T * sizeof *v);
    const double t0 = now();
    gp_predict(g, Xt, T, m, v);
    *rate = T / (now() - t0);
    double s = 0;
    for (int i = 0; i < T; i++) s += (m[i] - yt[i]) * (m[i] - yt[i]);
    free(m);
    free(v);
    return sqrt(s / T);
}

static void die_gp(gp_status st, const char *what, const char *err) {
    if (st != GP_OK) die(EXIT_DATA, "%s: %s", what, err);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    char sizes[256] = "500,1000,2000,4000,8000";
    int d = 56, M = 1000, big = 20000, threads = 1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) die_usage("option %s needs a value", argv[i]);
        if (!strcmp(argv[i], "--sizes")) snprintf(sizes, sizeof sizes, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--d")) d = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--inducing")) M = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--big")) big = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--target")) g_hard = !strcmp(argv[++i], "hard");
        else if (!strcmp(argv[i], "--threads")) threads = blas_threads_arg("--threads", argv[++i]);
        else die_usage("unknown option %s", argv[i]);
    }
    if (d < 4 || M < 2) die_usage("--d must be >= 4 and --inducing >= 2");
    blas_use_threads(threads);
    enum { T = 2000 };
    rng_mt r;
    rng_seed(&r, 7);
    float *Xt = xmalloc((size_t)T * d * sizeof *Xt);
    double *yt = xmalloc(T * sizeof *yt);
    make_data(&r, Xt, yt, T, d);
    char err[512];
    printf("gp_bench: d=%d inducing=%d threads=%d (hyperparameters: L-BFGS 50 iterations x 3 restarts on "
           "min(N,1000) points)\n", d, M, threads);
    printf("%6s %8s | %9s %9s %10s %7s | %9s %10s %7s\n", "N", "hyper_s", "exact_s", "exact_MB", "exact_pt/s",
           "rmse", "sparse_s", "sparse_pt/s", "rmse");
    for (char *tok = strtok(sizes, ","); tok; tok = strtok(NULL, ",")) {
        const int N = atoi(tok);
        if (N < 2) continue;
        float *X = xmalloc((size_t)N * d * sizeof *X);
        double *y = xmalloc((size_t)N * sizeof *y);
        make_data(&r, X, y, N, d);
        gp_opts o;
        gp_opts_default(&o);
        gp_model g;
        /* the hyperparameters as gp_fit finds them (on min(N, 1000) points), factored sparsely */
        o.exact_max = 1;
        o.inducing = 2; /* a negligible factorisation: this times the hyperparameter fit */
        double t0 = now();
        die_gp(gp_fit(&g, X, y, N, d, &o, err, sizeof err), "hyperparameter fit", err);
        const double th = now() - t0;
        double *theta = xmalloc((size_t)(g.nls + 2) * sizeof *theta);
        memcpy(theta, g.theta, (size_t)(g.nls + 2) * sizeof *theta);
        gp_free(&g);
        o.fit_hyper = 0;
        o.theta0 = theta;
        o.exact_max = N;
        t0 = now();
        die_gp(gp_fit(&g, X, y, N, d, &o, err, sizeof err), "exact fit", err);
        const double te = now() - t0;
        double re, rs, e_rate, s_rate;
        re = rmse(&g, Xt, yt, T, &e_rate);
        gp_free(&g);
        o.exact_max = 1;
        o.inducing = M;
        t0 = now();
        die_gp(gp_fit(&g, X, y, N, d, &o, err, sizeof err), "sparse fit", err);
        const double ts = now() - t0;
        rs = rmse(&g, Xt, yt, T, &s_rate);
        gp_free(&g);
        printf("%6d %8.2f | %9.3f %9.0f %10.0f %7.4f | %9.3f %10.0f %7.4f\n", N, th, te,
               (double)N * N * 8 / 1e6, e_rate, re, ts, s_rate, rs);
        fflush(stdout);
        free(theta);
        free(X);
        free(y);
    }
    if (big > 0) {
        float *X = xmalloc((size_t)big * d * sizeof *X);
        double *y = xmalloc((size_t)big * sizeof *y);
        make_data(&r, X, y, big, d);
        gp_opts o;
        gp_opts_default(&o);
        o.inducing = M;
        gp_model g;
        const double t0 = now();
        die_gp(gp_fit(&g, X, y, big, d, &o, err, sizeof err), "sparse fit", err);
        const double t = now() - t0;
        double rate;
        const double rs = rmse(&g, Xt, yt, T, &rate);
        printf("whole gp_fit, N=%d (sparse FITC, M=%d, hyperparameters on 1000 points): %.2f s, "
               "predict %.0f points/s, rmse %.4f, jitter %g\n", big, g.P, t, rate, rs, g.jitter);
        gp_free(&g);
        free(X);
        free(y);
    }
    free(Xt);
    free(yt);
    return 0;
}
