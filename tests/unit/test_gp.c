/* test_gp.c: lib/gp (Gaussian-process regression): a two-point case by hand, noiseless
 * interpolation, the log marginal likelihood's gradient against central differences, length-scale
 * recovery, the jitter path on duplicated points, sparse = exact when M = N, expected improvement by
 * hand and its gradient, the predictive mean/variance gradients, model-file round trips and bad
 * inputs. Deterministic (lib/rng.h). Prints "N passed, M failed".
 * Usage: test_gp [DIR] (scratch directory for model files; default a fresh one under $TMPDIR). */
#include "gp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "modelfile.h"
#include "rng.h"
#include "vmath.h"

void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);

static rng_mt R;
static char err[512];

static double relerr(double a, double b) { return fabs(a - b) / fmax(1e-300, fmax(fabs(a), fabs(b))); }

static void rand_x(float *X, int n, double lo, double hi) {
    for (int i = 0; i < n; i++) X[i] = (float)(lo + (hi - lo) * rng_double(&R));
}

/* n draws of a zero-mean GP with an SE kernel (length-scale ls on dimension 0 only, sf2 1) at X
 * (n,d), plus noise of variance sn2, into y (n). */
static void sample_prior(double *y, const float *X, int n, int d, double ls, double sn2) {
    double *K = malloc((size_t)n * n * sizeof *K), *z = malloc((size_t)n * sizeof *z);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            const double t = (X[i * d] - X[j * d]) / ls;
            K[i * n + j] = exp(-0.5 * t * t) + (i == j ? 1e-6 : 0);
        }
    int info;
    dpotrf_("U", &n, K, &n, &info); /* row-major lower L */
    if (info) fprintf(stderr, "sample_prior: dpotrf info %d\n", info);
    for (int i = 0; i < n; i++) z[i] = rng_gauss(&R);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j <= i; j++) s += K[i * n + j] * z[j];
        y[i] = s + sqrt(sn2) * rng_gauss(&R);
    }
    free(K);
    free(z);
}

/* ---- 0. the vectorised exp of the kernel (lib/vmath) and the kernel far away ---- */
static void test_vexp_kernel(void) {
    /* every length 0..11 (tails of 1..3 after whole fours), values over the kernel's range */
    for (int n = 0; n < 12; n++) {
        double x[12], want[12];
        for (int i = 0; i < n; i++) x[i] = -700.0 * rng_double(&R) + (i == 0 ? 5.0 : 0.0), want[i] = exp(x[i]);
        vexp_d(x, (size_t)n);
        int bad = 0;
        for (int i = 0; i < n; i++) bad += !(relerr(x[i], want[i]) < 1e-14);
        CHECK(bad == 0);
    }
    double z[3] = {0.0, -1e-300, -745.2};
    vexp_d(z, 3);
    CHECK(z[0] == 1.0 && z[1] == 1.0 && z[2] >= 0.0 && z[2] < 1e-300);
    /* far-apart points: k underflows to (near) 0, never NaN, and k(x, x) = sf2 */
    float X[2] = {0.0f, 1000.0f};
    double y[2] = {0.0, 1.0};
    gp_opts o;
    gp_opts_default(&o);
    o.fit_hyper = 0;
    double th[3] = {0.0, 0.0, log(0.01)}; /* log ls 0, log sf2 0, log sn2 */
    o.theta0 = th;
    gp_model g = {0};
    CHECK(gp_fit(&g, X, y, 2, 1, &o, err, sizeof err) == GP_OK);
    double A[2] = {0.0, 1000.0}, K[4];
    gp_kernel(&g, A, 2, A, 2, K);
    CHECK(K[0] == 1.0 && K[3] == 1.0 && K[1] >= 0.0 && K[1] < 1e-300 && K[1] == K[2]);
    gp_free(&g);
}

/* ---- 1. two points by hand ---- */
static void test_closed_form(void) {
    /* x1 = 0, x2 = 1, y = (5, 1): mean 3, std 2, ys = (1, -1). ls = 1, sf2 = 1, sn2 = 0.1.
     * K + sn2 I = [[1.1, c], [c, 1.1]], c = exp(-1/2) = 0.606530659712, det = 1.21 - c^2 = 0.842120558830,
     * alpha = (1.1 + c) / det * (1, -1) = 2.026468350425 * (1, -1).
     * At x* = 2: k* = (exp(-2), exp(-1/2)) = (0.135335283236, 0.606530659712);
     * mean_s = (0.135335283236 - 0.606530659712) * 2.026468350425 = -0.954862517295,
     * var_s = 1 - (1.1 (a^2 + b^2) - 2 c a b) / det = 0.613783979125.
     * In y's units: mean = 3 + 2 * mean_s = 1.090274965410, var = 4 * var_s = 2.455135916500. */
    const float X[2] = {0, 1}, Xs[1] = {2};
    const double y[2] = {5, 1}, th[3] = {0, 0, log(0.1)};
    gp_opts o;
    gp_opts_default(&o);
    o.fit_hyper = 0;
    o.theta0 = th;
    gp_model g;
    CHECK(gp_fit(&g, X, y, 2, 1, &o, err, sizeof err) == GP_OK);
    double m, v;
    gp_predict(&g, Xs, 1, &m, &v);
    CHECK(fabs(m - 1.090274965410) < 1e-10);
    CHECK(fabs(v - 2.455135916500) < 1e-10);
    CHECK(fabs(gp_noise_var(&g) - 0.4) < 1e-12);
    CHECK(g.jitter == 0);
    gp_free(&g);
}

/* ---- 2. noiseless interpolation ---- */
static void test_interpolation(void) {
    enum { N = 12 };
    float X[N];
    double y[N], th[3] = {log(0.8), 0, log(1e-9)};
    for (int i = 0; i < N; i++) {
        X[i] = (float)(0.5 * i);
        y[i] = sin(X[i]) + 0.1 * X[i];
    }
    gp_opts o;
    gp_opts_default(&o);
    o.fit_hyper = 0;
    o.theta0 = th;
    gp_model g;
    CHECK(gp_fit(&g, X, y, N, 1, &o, err, sizeof err) == GP_OK);
    double m[N], v[N], worst = 0, wv = 0;
    gp_predict(&g, X, N, m, v);
    for (int i = 0; i < N; i++) {
        worst = fmax(worst, fabs(m[i] - y[i]));
        wv = fmax(wv, v[i]);
    }
    CHECK(worst < 1e-5);
    CHECK(wv < 1e-6);
    /* between the points: close to the function, positive variance */
    const float xm[1] = {2.25f};
    gp_predict(&g, xm, 1, m, v);
    CHECK(fabs(m[0] - (sin(2.25) + 0.225)) < 0.02);
    CHECK(v[0] > 0);
    gp_free(&g);
}

/* ---- 3. marginal likelihood gradient ---- */
/* 1 if every element of grad (n) agrees with central differences of gp_lml in theta. */
static int lml_fd(const double *X, const double *ys, int N, int d, int nls, double *th, const double *grad,
                  int quiet) {
    int ok = 1;
    for (int p = 0; p < nls + 2; p++) {
        const double h = 1e-5, s = th[p];
        double lp, lm;
        th[p] = s + h;
        gp_lml(X, ys, N, d, nls, th, &lp, NULL, NULL);
        th[p] = s - h;
        gp_lml(X, ys, N, d, nls, th, &lm, NULL, NULL);
        th[p] = s;
        const double num = (lp - lm) / (2 * h);
        if (!(fabs(num - grad[p]) <= 1e-6 * fmax(fabs(num), fabs(grad[p])) + 1e-7)) {
            if (!quiet) fprintf(stderr, "  lml grad[%d]: analytic %.10g numeric %.10g\n", p, grad[p], num);
            ok = 0;
        }
    }
    return ok;
}

static void test_lml_grad(void) {
    enum { N = 25, D = 3 };
    double X[N * D], ys[N];
    for (int i = 0; i < N * D; i++) X[i] = 2 * rng_double(&R) - 1;
    for (int i = 0; i < N; i++) ys[i] = sin(3 * X[i * D]) + X[i * D + 1] * X[i * D + 2] + 0.1 * rng_gauss(&R);
    double th[D + 2] = {log(0.7), log(1.3), log(0.4), log(1.5), log(0.05)}, g[D + 2], l, jit;
    CHECK(gp_lml(X, ys, N, D, D, th, &l, g, &jit) == GP_OK);
    CHECK(jit == 0 && isfinite(l));
    CHECK(lml_fd(X, ys, N, D, D, th, g, 0));
    g[0] *= 1.03; /* the checker rejects a gradient 3 % off */
    CHECK(!lml_fd(X, ys, N, D, D, th, g, 1));
    double ts[3] = {log(0.9), log(0.8), log(0.2)}, gs[3];
    CHECK(gp_lml(X, ys, N, D, 1, ts, &l, gs, NULL) == GP_OK);
    CHECK(lml_fd(X, ys, N, D, 1, ts, gs, 0));
    /* the value itself for N = 1 by hand: -y^2 / (2 (sf2 + sn2)) - log(sf2 + sn2) / 2 - log(2 pi) / 2 */
    const double x1[1] = {0.3}, y1[1] = {0.7}, t1[3] = {0, log(2.0), log(0.5)};
    CHECK(gp_lml(x1, y1, 1, 1, 1, t1, &l, NULL, NULL) == GP_OK);
    CHECK(fabs(l - (-0.49 / 5 - 0.5 * log(2.5) - 0.5 * log(2 * M_PI))) < 1e-12);
}

/* ---- 4. length-scale recovery ---- */
static void test_recovery(void) {
    enum { N = 150 };
    float X[N * 2];
    double y[N];
    rand_x(X, N * 2, 0, 10);
    sample_prior(y, X, N, 2, 1.0, 0.01);
    gp_opts o;
    gp_opts_default(&o);
    gp_model g;
    CHECK(gp_fit(&g, X, y, N, 2, &o, err, sizeof err) == GP_OK);
    const double l0 = exp(g.theta[0]), l1 = exp(g.theta[1]);
    printf("recovery: true ls (1, inf), sf2 1, sn2 0.01: fitted ls (%.3f, %.3g), sf2 %.3g, sn2 %.3g (y units)\n",
           l0, l1, exp(g.theta[2]) * g.y_std * g.y_std, exp(g.theta[3]) * g.y_std * g.y_std);
    CHECK(l0 > 0.6 && l0 < 1.6);
    CHECK(l1 > 8);
    gp_free(&g);
    /* shared length-scale on 1-d data */
    float X1[N];
    double y1[N];
    rand_x(X1, N, 0, 10);
    sample_prior(y1, X1, N, 1, 0.5, 0.01);
    o.ard = 0;
    CHECK(gp_fit(&g, X1, y1, N, 1, &o, err, sizeof err) == GP_OK);
    printf("recovery: true ls 0.5: fitted %.3f\n", exp(g.theta[0]));
    CHECK(exp(g.theta[0]) > 0.3 && exp(g.theta[0]) < 0.8);
    gp_free(&g);
}

/* ---- 5. jitter on duplicated points ---- */
static void test_jitter(void) {
    enum { N = 8 };
    float X[N * 2] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 0, 2, 0, 0.5f, 1.5f, 0.5f, 1.5f};
    double y[N] = {1, 1.1, 2, 2.1, 0, -0.1, 3, 3};
    const double th[4] = {0, 0, 0, -60}; /* sn2 = e^-60: K + sn2 I is singular */
    gp_opts o;
    gp_opts_default(&o);
    o.fit_hyper = 0;
    o.theta0 = th;
    gp_model g;
    CHECK(gp_fit(&g, X, y, N, 2, &o, err, sizeof err) == GP_OK);
    printf("jitter on duplicated points: %g\n", g.jitter);
    CHECK(g.jitter > 0 && g.jitter <= 1e-2);
    float xs[4] = {0, 0, 0.7f, 0.3f};
    double m[2], v[2];
    gp_predict(&g, xs, 2, m, v);
    CHECK(isfinite(m[0]) && isfinite(m[1]) && isfinite(v[0]) && isfinite(v[1]) && v[0] >= 0);
    CHECK(fabs(m[0] - 1.05) < 0.01); /* the duplicates' mean */
    gp_free(&g);
    /* with the hyperparameter fit too (the noise floor keeps it definite, or jitter does) */
    gp_opts_default(&o);
    CHECK(gp_fit(&g, X, y, N, 2, &o, err, sizeof err) == GP_OK);
    gp_predict(&g, xs, 2, m, v);
    CHECK(isfinite(m[0]) && isfinite(v[0]) && isfinite(g.lml));
    gp_free(&g);
    /* all points identical but targets not: still fits */
    float Xd[6] = {1, 1, 1, 1, 1, 1};
    double yd[3] = {0, 1, 2};
    CHECK(gp_fit(&g, Xd, yd, 3, 2, &o, err, sizeof err) == GP_OK);
    gp_predict(&g, Xd, 1, m, v);
    CHECK(fabs(m[0] - 1) < 0.05 && isfinite(v[0]));
    gp_free(&g);
}

/* ---- 6. sparse = exact when M = N; sparse with M < N close to exact ---- */
static void test_sparse(void) {
    enum { N = 60, D = 3, T = 20 };
    float X[N * D], Xt[T * D];
    double y[N];
    rand_x(X, N * D, -2, 2);
    rand_x(Xt, T * D, -2, 2);
    for (int i = 0; i < N; i++) y[i] = sin(X[i * D]) + 0.5 * X[i * D + 1] + 0.05 * rng_gauss(&R);
    const double th[D + 2] = {log(1.2), log(1.5), log(3.0), 0, log(0.01)};
    gp_opts o;
    gp_opts_default(&o);
    o.fit_hyper = 0;
    o.theta0 = th;
    gp_model ge, gs;
    CHECK(gp_fit(&ge, X, y, N, D, &o, err, sizeof err) == GP_OK && !ge.sparse);
    double me[T], ve[T], ms[T], vs[T];
    gp_predict(&ge, Xt, T, me, ve);
    for (int k = 0; k < 2; k++) {
        o.exact_max = 10;
        o.inducing = N;
        o.sparse_kind = k ? GP_VFE : GP_FITC;
        CHECK(gp_fit(&gs, X, y, N, D, &o, err, sizeof err) == GP_OK && gs.sparse && gs.P == N);
        gp_predict(&gs, Xt, T, ms, vs);
        double dm = 0, dv = 0;
        for (int i = 0; i < T; i++) {
            dm = fmax(dm, fabs(ms[i] - me[i]));
            dv = fmax(dv, fabs(vs[i] - ve[i]));
        }
        printf("sparse (%s) M = N vs exact: max |dmean| %.2g, max |dvar| %.2g\n", k ? "vfe" : "fitc", dm, dv);
        CHECK(dm < 1e-6 && dv < 1e-6);
        gp_free(&gs);
    }
    gp_free(&ge);
    /* M < N (k-means++ inducing points) and hyperparameters fitted on a subset */
    enum { N2 = 400, M2 = 60 };
    float *X2 = malloc(sizeof(float) * N2 * D);
    double *y2 = malloc(sizeof(double) * N2);
    rand_x(X2, N2 * D, -2, 2);
    for (int i = 0; i < N2; i++) y2[i] = sin(X2[i * D]) + 0.5 * X2[i * D + 1] + 0.05 * rng_gauss(&R);
    gp_opts_default(&o);
    CHECK(gp_fit(&ge, X2, y2, N2, D, &o, err, sizeof err) == GP_OK);
    gp_predict(&ge, Xt, T, me, ve);
    o.exact_max = 100;
    o.inducing = M2;
    o.hyper_subset = 150;
    CHECK(gp_fit(&gs, X2, y2, N2, D, &o, err, sizeof err) == GP_OK && gs.sparse && gs.P == M2);
    gp_predict(&gs, Xt, T, ms, vs);
    double rm = 0, sd = 0;
    for (int i = 0; i < T; i++) {
        rm += (ms[i] - me[i]) * (ms[i] - me[i]);
        sd += (me[i] - ge.y_mean) * (me[i] - ge.y_mean);
    }
    printf("sparse M = %d of N = %d vs exact: rms mean difference %.3g (spread of the means %.3g)\n", M2, N2,
           sqrt(rm / T), sqrt(sd / T));
    CHECK(sqrt(rm / T) < 0.1 * sqrt(sd / T));
    gp_free(&ge);
    gp_free(&gs);
    free(X2);
    free(y2);
}

/* ---- 7. predictive gradients and expected improvement ---- */
typedef double (*xfun)(const gp_model *g, const double *x, int which);
static double f_pred(const gp_model *g, const double *x, int which) {
    double m, v;
    gp_predict_grad(g, x, &m, &v, NULL, NULL);
    return which ? v : m;
}
static double g_fbest; /* EI's incumbent in the tests below, set near the mean so that EI is not tiny */
static double f_ei(const gp_model *g, const double *x, int which) {
    (void)which;
    return gp_ei_x(g, x, g_fbest, 0.01, NULL);
}

static int x_fd(xfun f, const gp_model *g, double *x, int which, const double *grad, int quiet) {
    int ok = 1;
    for (int j = 0; j < g->d; j++) {
        const double h = 1e-6, s = x[j];
        x[j] = s + h;
        const double fp = f(g, x, which);
        x[j] = s - h;
        const double fm = f(g, x, which);
        x[j] = s;
        const double num = (fp - fm) / (2 * h);
        if (!(fabs(num - grad[j]) <= 1e-5 * fmax(fabs(num), fabs(grad[j])) + 1e-8)) {
            if (!quiet) fprintf(stderr, "  d/dx[%d] (%d): analytic %.10g numeric %.10g\n", j, which, grad[j], num);
            ok = 0;
        }
    }
    return ok;
}

static void test_ei(void) {
    /* by hand: mu 1, sigma 2, f* 0.5, xi 0.1: z = 0.2, Phi(0.2) = 0.579259709439,
     * phi(0.2) = 0.391042693975, EI = 0.4 * 0.579259709439 + 2 * 0.391042693975 = 1.013789271727 */
    double dm, ds;
    CHECK(fabs(gp_ei(1, 2, 0.5, 0.1, &dm, &ds) - 1.013789271727) < 1e-11);
    CHECK(fabs(dm - 0.579259709439) < 1e-11 && fabs(ds - 0.391042693975) < 1e-11);
    CHECK(gp_ei(1, 0, 0.5, 0.1, &dm, &ds) == 0.4 && dm == 1 && ds == 0);
    CHECK(gp_ei(0, 0, 0.5, 0.1, &dm, NULL) == 0 && dm == 0);
    CHECK(gp_ei(-50, 1, 0.5, 0, NULL, NULL) >= 0);
    /* partials by differences */
    const double h = 1e-6;
    CHECK(fabs((gp_ei(1 + h, 2, 0.5, 0.1, NULL, NULL) - gp_ei(1 - h, 2, 0.5, 0.1, NULL, NULL)) / (2 * h) - dm) < 1);
    gp_ei(0.3, 0.7, 0.5, 0.1, &dm, &ds);
    CHECK(fabs((gp_ei(0.3 + h, 0.7, 0.5, 0.1, NULL, NULL) - gp_ei(0.3 - h, 0.7, 0.5, 0.1, NULL, NULL)) / (2 * h) - dm) < 1e-7);
    CHECK(fabs((gp_ei(0.3, 0.7 + h, 0.5, 0.1, NULL, NULL) - gp_ei(0.3, 0.7 - h, 0.5, 0.1, NULL, NULL)) / (2 * h) - ds) < 1e-7);

    /* gradients w.r.t. x of the mean, the variance and EI: exact, FITC and VFE GPs */
    enum { N = 80, D = 3 };
    float X[N * D];
    double y[N];
    rand_x(X, N * D, -2, 2);
    for (int i = 0; i < N; i++) y[i] = sin(X[i * D]) + 0.5 * X[i * D + 1] + 0.05 * rng_gauss(&R);
    const double th[D + 2] = {log(0.9), log(1.5), log(2.0), 0, log(0.02)};
    gp_opts o;
    gp_opts_default(&o);
    o.fit_hyper = 0;
    o.theta0 = th;
    for (int k = 0; k < 3; k++) {
        if (k) {
            o.exact_max = 10;
            o.inducing = 25;
            o.sparse_kind = k == 1 ? GP_FITC : GP_VFE;
        }
        gp_model g;
        CHECK(gp_fit(&g, X, y, N, D, &o, err, sizeof err) == GP_OK);
        double x[D] = {0.3, -0.4, 0.8}, m, v, dmx[D], dvx[D], ge[D];
        gp_predict_grad(&g, x, &m, &v, dmx, dvx);
        float xf[D] = {0.3f, -0.4f, 0.8f};
        double m2, v2;
        gp_predict(&g, xf, 1, &m2, &v2);
        CHECK(relerr(m, m2) < 1e-6 && relerr(v, v2) < 1e-5); /* x rounded to float in gp_predict */
        CHECK(x_fd(f_pred, &g, x, 0, dmx, 0));
        CHECK(x_fd(f_pred, &g, x, 1, dvx, 0));
        g_fbest = m + 0.5 * sqrt(v);
        const double ei = gp_ei_x(&g, x, g_fbest, 0.01, ge);
        CHECK(ei > 0.01 * sqrt(v) && isfinite(ei));
        CHECK(x_fd(f_ei, &g, x, 0, ge, 0));
        int jm = 0;
        for (int j = 1; j < D; j++)
            if (fabs(ge[j]) > fabs(ge[jm])) jm = j;
        ge[jm] *= 1.03;
        CHECK(!x_fd(f_ei, &g, x, 0, ge, 1));
        gp_free(&g);
    }
}

/* ---- 8. model files ---- */
static char g_dir[4096];

static void test_file(void) {
    enum { N = 70, D = 4, T = 15 };
    float X[N * D], Xt[T * D];
    double y[N];
    rand_x(X, N * D, -1, 1);
    rand_x(Xt, T * D, -1, 1);
    for (int i = 0; i < N; i++) y[i] = 70 + 5 * cos(2 * X[i * D]) + X[i * D + 3] + 0.1 * rng_gauss(&R);
    char path[4200];
    snprintf(path, sizeof path, "%s/gp.model", g_dir);
    for (int k = 0; k < 2; k++) {
        gp_opts o;
        gp_opts_default(&o);
        o.iters = 20;
        if (k) {
            o.exact_max = 20;
            o.inducing = 30;
        }
        gp_model g, h;
        CHECK(gp_fit(&g, X, y, N, D, &o, err, sizeof err) == GP_OK && g.sparse == k);
        gp_saved s;
        CHECK(gp_save_values(&g, "gp", &s, err, sizeof err) == GP_OK);
        mf_value extra = mf_int("other", 1);
        mf_value *vals = malloc((s.nvalues + 1) * sizeof *vals);
        memcpy(vals, s.values, s.nvalues * sizeof *vals);
        vals[s.nvalues] = extra;
        mf_contents c = {{vals, NULL, NULL}, {s.nvalues + 1, 0, 0}, s.tensors, s.ntensors};
        mf_write(path, &c, NULL);
        model_file *m = mf_read(path);
        CHECK(gp_load(&h, m, "gp", err, sizeof err) == GP_OK);
        if (h.P) {
            double m1[T], v1[T], m2[T], v2[T], dm = 0, dv = 0;
            gp_predict(&g, Xt, T, m1, v1);
            gp_predict(&h, Xt, T, m2, v2);
            for (int i = 0; i < T; i++) {
                dm = fmax(dm, relerr(m1[i], m2[i]));
                dv = fmax(dv, relerr(v1[i], v2[i]));
            }
            printf("file round trip (%s): max relative difference mean %.2g, variance %.2g\n", k ? "fitc" : "exact",
                   dm, dv);
            CHECK(dm < 1e-12 && dv < 1e-9);
            CHECK(h.sparse == g.sparse && h.n_train == N && h.y_std == g.y_std && h.lml == g.lml);
        }
        gp_free(&h);
        CHECK(gp_load(&h, m, "nogp", err, sizeof err) == GP_EFILE && strstr(err, "nogp.kind"));
        mf_free(m);

        /* a missing tensor */
        c.ntensors--;
        mf_write(path, &c, NULL);
        m = mf_read(path);
        CHECK(gp_load(&h, m, "gp", err, sizeof err) == GP_EFILE && h.P == 0);
        printf("missing tensor: %s\n", err);
        mf_free(m);
        c.ntensors++;
        /* a wrong shape */
        mf_tensor keep = s.tensors[2];
        s.tensors[2].shape[0] = 1; /* log_ls (1) where nls = 4 */
        s.tensors[3].shape[0] = 1;
        mf_write(path, &c, NULL);
        m = mf_read(path);
        CHECK(gp_load(&h, m, "gp", err, sizeof err) == GP_EFILE && strstr(err, "shape"));
        printf("wrong shape: %s\n", err);
        mf_free(m);
        s.tensors[2] = keep;
        s.tensors[3].shape[0] = keep.shape[0];
        /* a factor that is not one */
        float *l1 = (float *)s.tensors[6].data;
        l1[0] = -l1[0];
        mf_write(path, &c, NULL);
        m = mf_read(path);
        CHECK(gp_load(&h, m, "gp", err, sizeof err) == GP_EFILE && strstr(err, "Cholesky"));
        mf_free(m);
        l1[0] = -l1[0];
        /* a bad kind and a bad size */
        vals[0] = mf_str("gp.kind", "magic");
        mf_write(path, &c, NULL);
        m = mf_read(path);
        CHECK(gp_load(&h, m, "gp", err, sizeof err) == GP_EFILE && strstr(err, "magic"));
        mf_free(m);
        vals[0] = s.values[0];
        vals[3] = mf_int("gp.P", -3);
        mf_write(path, &c, NULL);
        m = mf_read(path);
        CHECK(gp_load(&h, m, "gp", err, sizeof err) == GP_EFILE && strstr(err, "bad sizes"));
        mf_free(m);
        vals[3] = mf_int("gp.P", 90000); /* a size the tensors do not have: refused before allocating */
        vals[4] = mf_int("gp.n_train", 90000);
        mf_write(path, &c, NULL);
        m = mf_read(path);
        CHECK(gp_load(&h, m, "gp", err, sizeof err) == GP_EFILE && strstr(err, "shape"));
        mf_free(m);
        free(vals);
        gp_saved_free(&s);
        gp_free(&g);
    }
    unlink(path);
}

/* ---- 9. bad inputs ---- */
static void test_bad(void) {
    float X[6] = {0, 1, 2, 3, 4, 5};
    double y[6] = {1, 2, 3, 4, 5, 6};
    gp_model g;
    CHECK(gp_fit(&g, X, y, 1, 1, NULL, err, sizeof err) == GP_EINPUT && strstr(err, "at least 2"));
    CHECK(gp_fit(&g, X, y, 0, 1, NULL, NULL, 0) == GP_EINPUT);
    CHECK(gp_fit(&g, X, y, 3, 0, NULL, err, sizeof err) == GP_EINPUT);
    X[4] = NAN;
    CHECK(gp_fit(&g, X, y, 6, 1, NULL, err, sizeof err) == GP_ENONFINITE && strstr(err, "input 4"));
    X[4] = 4;
    y[2] = INFINITY;
    CHECK(gp_fit(&g, X, y, 6, 1, NULL, err, sizeof err) == GP_ENONFINITE && strstr(err, "target 2"));
    double yc[6] = {0.93, 0.93, 0.93, 0.93, 0.93, 0.93};
    CHECK(gp_fit(&g, X, yc, 6, 1, NULL, err, sizeof err) == GP_ECONST && strstr(err, "constant"));
    printf("constant targets: %s\n", err);
    double y0[2] = {0, 0};
    CHECK(gp_fit(&g, X, y0, 2, 1, NULL, err, sizeof err) == GP_ECONST);
    gp_opts o;
    gp_opts_default(&o);
    o.fit_hyper = 0; /* without theta0 */
    CHECK(gp_fit(&g, X, y, 3, 1, &o, err, sizeof err) == GP_EINPUT);
    CHECK(g.P == 0 && g.theta == NULL);
    gp_free(&g);
}

int main(int argc, char **argv) {
    rng_seed(&R, 2024);
    if (argc > 1) snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
    else {
        const char *t = getenv("TMPDIR");
        snprintf(g_dir, sizeof g_dir, "%s/test_gp.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 2; }
    }
    test_vexp_kernel();
    test_closed_form();
    test_interpolation();
    test_lml_grad();
    test_recovery();
    test_jitter();
    test_sparse();
    test_ei();
    test_file();
    test_bad();
    if (argc <= 1) rmdir(g_dir);
    return check_summary();
}
