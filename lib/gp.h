/* gp.h: Gaussian-process regression on feature vectors (the VAE's latent means, or any other), for
 * the accuracy predictor and Bayesian optimisation: exact GP, a sparse (FITC / VFE) approximation
 * for many points, hyperparameters by maximising the log marginal likelihood, expected improvement
 * with its gradient, and the GP as named tensors of a model file.
 *
 * Model. Inputs x are float32 vectors of d dimensions (like the latent means of the records);
 * everything inside is double. Targets y are double and are standardised internally:
 * ys = (y - mean(y)) / std(y) (the constant mean of the GP is the mean of y, the z-score makes the
 * hyperparameter bounds and initial values independent of the targets' units); predictions are
 * returned in y's units. Kernel, squared exponential with ARD length-scales (or one shared):
 *   k(x, x') = sf2 * exp(-1/2 * sum_k (x_k - x'_k)^2 / ls_k^2),  observation noise sn2,
 * sf2 and sn2 in standardised units. Hyperparameters travel as one vector theta of nls + 2 log
 * values: theta = (log ls_1 .. log ls_nls, log sf2, log sn2), nls = d (ARD) or 1 (shared).
 *
 * Exact GP (N <= opts.exact_max): L = chol(K + sn2 I) (LAPACK dpotrf), alpha = (K + sn2 I)^-1 ys;
 * mean(x*) = k*^T alpha, var(x*) = sf2 - |L^-1 k*|^2.
 * Sparse GP (N > exact_max): M inducing points Z chosen by seeded k-means++ seeding (D^2 sampling)
 * in the length-scale-scaled input space; FITC (default) or VFE/DTC (Titsias) predictive:
 *   Lm = chol(Kmm), V = Lm^-1 Kmn, Lambda = diag(Knn - V^T V) + sn2 (FITC) or sn2 I (VFE),
 *   LB = chol(I + V Lambda^-1 V^T), alpha = Lm^-T LB^-T LB^-1 V Lambda^-1 ys,
 *   mean = k*m^T alpha, var = sf2 - |Lm^-1 k*m|^2 + |LB^-1 Lm^-1 k*m|^2.
 * With M = N (Z = X) both reduce to the exact GP.
 * Hyperparameters of a sparse GP come from an exact fit on a seeded random subset of
 * opts.hyper_subset points (default 1000), not from the sparse objective: the exact marginal
 * likelihood and its gradient are one well-tested code path, an SE kernel's 58 hyperparameters are
 * well determined by 1000 points, the subset fit costs seconds (bench/gp_bench.c), and optimising
 * the FITC objective itself is known to underestimate the noise. The exact GP fits them on its
 * own points if N <= hyper_subset, else on the same kind of subset, then factors all N points.
 *
 * Hyperparameter fit: L-BFGS (memory 7, backtracking Armijo line search, projected onto the box
 * below) on the negative log marginal likelihood of the standardised targets, from opts.restarts
 * starting points (restart 0: ls = sqrt(d) * mean input std, sf2 = 1, sn2 = 0.1, or opts.theta0;
 * the others perturbed from it by opts.seed's lib/rng.h stream): each runs a fifth of opts.iters
 * iterations, the best continues for the other 4/5 (one start: all of them). About 6 s on 1000
 * points at d = 56 (gp_bench).
 * Box: ls in [1e-3, 1e4] * mean input std, sf2 in [1e-4, 1e4], sn2 in [noise_floor, 10].
 *
 * Jitter. If a Cholesky fails (duplicated or near-duplicated points, no noise), jitter
 * 1e-8 * mean(diag) is added to the diagonal and multiplied by 10 until the factorisation succeeds
 * or reaches 1e-2 * mean(diag) (then GP_ENUMERIC). The jitter used is reported in gp_model.jitter
 * (for a sparse GP: the jitter of Kmm); callers should say so when it is not 0.
 *
 * Errors: functions that can fail return a gp_status and write a message into err (errlen bytes,
 * err may be NULL); nothing here returns NaN, and nothing dies except on running out of memory
 * (lib/util.h xmalloc, exit 3). Matrix products and factorisations use OpenBLAS's thread count
 * (lib/util.h blas_use_threads); results are deterministic for a given thread count. */
#ifndef SVGE_GP_H
#define SVGE_GP_H

#include <stddef.h>
#include <stdint.h>

#include "modelfile.h"

typedef enum {
    GP_OK = 0,
    GP_EINPUT = 1,    /* bad sizes or options: N < 2, d < 1, ... */
    GP_ENONFINITE = 2,/* NaN or infinity in X or y */
    GP_ECONST = 3,    /* all targets equal: nothing to regress (std(y) would divide by 0) */
    GP_ENUMERIC = 4,  /* a Cholesky failed even with the largest jitter */
    GP_EFILE = 5,     /* gp_load: missing, malformed or non-finite saved values */
} gp_status;

typedef enum { GP_FITC = 0, GP_VFE = 1 } gp_sparse_kind;

typedef struct {
    int ard;            /* 1: one length-scale per dimension (default); 0: one shared */
    int fit_hyper;      /* 1: maximise the marginal likelihood (default); 0: use theta0 as given */
    const double *theta0; /* (nls + 2) initial / fixed hyperparameters, or NULL for the default */
    int iters;          /* L-BFGS iterations of the winning start (default 50) */
    int restarts;       /* starting points (default 3) */
    uint32_t seed;      /* restarts, subsets and inducing points (default 1) */
    double noise_floor; /* lower bound of sn2 in standardised units (default 1e-6) */
    int exact_max;      /* largest N fitted exactly (default GP_EXACT_MAX) */
    int inducing;       /* M, inducing points of the sparse GP (default 1000) */
    gp_sparse_kind sparse_kind; /* default GP_FITC */
    int hyper_subset;   /* points of the hyperparameter fit when N is larger (default 1000) */
    const double *standard; /* NULL (default): standardise y by its own mean and std; else {mean, std}
                               to use instead (bo-propose's refits with fantasised points keep the
                               first fit's, so that theta means the same kernel in y's units) */
} gp_opts;

/* The exact/sparse threshold, from bench/gp_bench.c (d = 56, one OpenBLAS thread, this project's
 * 2-core machine): an exact GP on 4000 points factors in ~0.8 s, holds 128 MB (a 64 MB model file)
 * and predicts mean and variance at ~2200 points/s (NB101's 423,624 cells in ~3 min); on 8000
 * points ~5 s, 512 MB (256 MB file), ~600 points/s (12 min). The exact GP is the more accurate: on
 * a target with 16 relevant dimensions (--target hard) the held-out RMSE is 0.289 exact against
 * 0.407 for FITC with 1000 inducing points at N = 4000 (0.264 against 0.414 at 8000); on a target
 * with 4 they agree. So it is used as far as its cost stays small. The sparse fit of 20,000 points
 * (hyperparameters on 1000 included) takes 8-11 s and predicts ~10,000 points/s. */
#define GP_EXACT_MAX 4000

void gp_opts_default(gp_opts *o);

/* A fitted GP. basis (P,d) are the training inputs (exact, P = N) or the inducing points (sparse,
 * P = M); alpha (P); L1 (P,P) lower triangular, row-major: chol(K + sn2 I + jitter I) (exact) or
 * chol(Kmm + jitter I) (sparse); L2 (P,P) lower: LB (sparse) or NULL (exact). */
typedef struct {
    int d, nls, sparse;       /* nls: length-scales, d or 1 */
    gp_sparse_kind sparse_kind;
    int P, n_train;           /* basis points; points the GP was fitted on */
    double *basis, *alpha, *L1, *L2;
    double *theta;            /* (nls + 2) log hyperparameters, standardised units */
    double y_mean, y_std;     /* y = y_mean + y_std * ys */
    double jitter;            /* added to the diagonal of the factored matrix; 0 if none */
    double lml;               /* log marginal likelihood of the standardised targets at theta: of all
                                 N points (exact), of the hyperparameter subset (sparse) */
} gp_model;

void gp_free(gp_model *g);  /* frees the arrays, leaves a zeroed struct; safe on a zeroed struct */

/* Fit a GP to X (N,d) float and y (N). On failure g is zeroed and err says why. */
gp_status gp_fit(gp_model *g, const float *X, const double *y, int N, int d, const gp_opts *o,
                 char *err, size_t errlen);

/* Predictive mean and variance of the latent function at B points Xs (B,d) (finite: the caller
 * checks), in y's units; mean (B), var (B) (var may be NULL). var excludes the observation noise; add gp_noise_var(g) for a new
 * observation. Cross-kernels by GEMM, in chunks of 256 points. var >= 0. */
void gp_predict(const gp_model *g, const float *Xs, int B, double *mean, double *var);
double gp_noise_var(const gp_model *g); /* sn2 in y's units */

/* Mean and variance at one point x (d) in y's units, and their gradients dmean (d) and dvar (d)
 * w.r.t. x (either may be NULL). */
void gp_predict_grad(const gp_model *g, const double *x, double *mean, double *var, double *dmean,
                     double *dvar);

/* K (nA,nB), row-major: the GP's kernel k(a_i, b_j) between the points A (nA,d) and Bm (nB,d) (e.g.
 * g->basis, P points), in standardised units (in y's units: times y_std^2). */
void gp_kernel(const gp_model *g, const double *A, int nA, const double *Bm, int nB, double *K);

/* Expected improvement for maximisation at predictive mean mu and standard deviation sigma:
 * EI = (mu - fbest - xi) Phi(z) + sigma phi(z), z = (mu - fbest - xi) / sigma; sigma <= 0 gives
 * max(mu - fbest - xi, 0). dmu, dsigma (may be NULL) receive dEI/dmu = Phi(z), dEI/dsigma = phi(z). */
double gp_ei(double mu, double sigma, double fbest, double xi, double *dmu, double *dsigma);
/* EI of the GP at x (d) and its gradient grad (d) w.r.t. x (may be NULL). */
double gp_ei_x(const gp_model *g, const double *x, double fbest, double xi, double *grad);

/* The log marginal likelihood of standardised targets ys (N) at inputs X (N,d)
 * (double) and hyperparameters theta (nls + 2), and its gradient grad (nls + 2, may be NULL) w.r.t.
 * theta. *jitter (may be NULL) receives the jitter used. Returns GP_OK or GP_ENUMERIC. */
gp_status gp_lml(const double *X, const double *ys, int N, int d, int nls, const double *theta,
                 double *lml, double *grad, double *jitter);

/* ---- Model files ----
 * A GP as config values and named float32 tensors under a prefix p (e.g. "gp"):
 *   values  p.kind ("exact", "fitc" or "vfe"), p.d, p.nls, p.P, p.n_train (ints),
 *           p.log_sf2, p.log_sn2, p.y_mean, p.y_std, p.jitter, p.lml (floats, double precision)
 *   tensors p.basis (P,d), p.log_ls (nls), p.alpha (P), p.L1 (P(P+1)/2, the lower triangle by rows)
 *           and, sparse only, p.L2 (P(P+1)/2); each also as p.<name>_lo: doubles are stored as two
 *           float32, hi = (float)v and lo = (float)(v - hi), v = hi + lo to ~48 bits (a float32
 *           Cholesky factor would lose the predictive variance near the training points).
 * A gp_saved owns the values and tensors; its names point into it. */
#define GP_MAX_VALUES 11
#define GP_MAX_TENSORS 10
typedef struct {
    mf_value values[GP_MAX_VALUES];
    size_t nvalues;
    mf_tensor tensors[GP_MAX_TENSORS];
    size_t ntensors;
    char names[GP_MAX_VALUES + GP_MAX_TENSORS][MF_MAX_NAME + 1];
    float *buf;                       /* every tensor's data */
} gp_saved;
/* Fill s from g; the caller adds s->values to its config section and s->tensors to its tensors.
 * Returns GP_EINPUT if the prefix is too long. */
gp_status gp_save_values(const gp_model *g, const char *prefix, gp_saved *s, char *err, size_t errlen);
void gp_saved_free(gp_saved *s);
/* Read the GP under prefix from m into g: every value and tensor present, of the right kind and
 * shape, finite, factors with positive diagonals. GP_EFILE with a message otherwise (g zeroed). */
gp_status gp_load(gp_model *g, const model_file *m, const char *prefix, char *err, size_t errlen);

#endif
