/* bo.h: batch Bayesian optimisation for bo-propose: expected improvement (maximisation) of an exact
 * GP (lib/gp.h) over a set of candidate points, a local maximiser of EI inside a box, and
 * batch selection by the kriging believer: each chosen point x is added to the GP as a fantasised
 * observation y = mean(x) with the first fit's hyperparameters and standardisation, so the next
 * choice sees the variance it removed and not a change in the mean.
 *
 * With the hyperparameters fixed, adding (x, mean(x)) leaves the posterior mean unchanged
 * everywhere and lowers the variance of every candidate c by
 *   cov(c, x)^2 / (var(x) + sn2),   cov(c, x) = ys2 (k(c, x) - k*(c)^T (K + sn2 I)^-1 k*(x)),
 * (k* against the GP's current points, ys2 = y_std^2), which is what bo_fantasize applies to the
 * candidates without predicting them again; the GP itself is refitted on the n + f points (exact,
 * O((n+f)^3), a few ms at n = 500) for the local maximiser's gradient.
 *
 * Everything is deterministic: no randomness here (the caller draws the candidates). */
#ifndef SVGE_BO_H
#define SVGE_BO_H

#include <stddef.h>

#include "gp.h"

typedef struct {
    int d, n, q_max;     /* dimension, observed points, fantasies at most */
    int nf;              /* fantasies so far */
    float *X;            /* (n + q_max, d): the observed points, then the fantasised ones */
    double *y;           /* (n + q_max): their objectives (fantasies: the mean at the point) */
    gp_model g;          /* the exact GP on the n + nf points */
    gp_opts refit;       /* the refit's options: hyperparameters and standardisation fixed */
    double standard[2];  /* the first fit's y mean and std */
    double *theta;       /* the first fit's hyperparameters (nls + 2) */
    double fbest;        /* the largest objective, observed or fantasised */
    /* candidates */
    int B;
    double *cand;        /* (B, d) */
    double *K;           /* (B, n + q_max): k(c_b, point i) standardised, columns 0 .. n+nf-1 filled */
    double *mean, *var;  /* (B): posterior mean and variance in y's units, after the fantasies */
    unsigned char *taken;/* (B): chosen already (bo_take) */
} bo_state;

/* Fit the GP (gp_fit with o; exact, so n <= o->exact_max is required) to X (n, d), y (n), room
 * for q_max fantasies. GP_OK, or the gp_fit status with err. */
gp_status bo_init(bo_state *s, const float *X, const double *y, int n, int d, int q_max, const gp_opts *o,
                  char *err, size_t errlen);
void bo_free(bo_state *s);

/* Use C (B, d) as the candidates (copied; replaces earlier ones): their mean and variance under the
 * current GP. Memory: B (n + q_max) doubles. */
void bo_set_candidates(bo_state *s, const double *C, int B);

/* EI with margin xi (gp_ei) of candidate b, and the index of the candidate not taken with the
 * largest EI (ties: the lowest index), or -1 if all are taken. */
double bo_candidate_ei(const bo_state *s, int b, double xi);
int bo_best_candidate(const bo_state *s, double xi);
static inline void bo_take(bo_state *s, int b) { s->taken[b] = 1; }

/* Maximise EI from x (d) inside the box [lo, hi] (d each) by L-BFGS (lib/lbfgs.h) on log EI, at most
 * iters iterations (none if EI is 0 at x); x receives the best point found (never worse than the start). Returns its EI. */
double bo_refine(const bo_state *s, double *x, const double *lo, const double *hi, int iters, double xi);

/* Mean and variance (y's units) at x (d) under the current GP. */
void bo_predict(const bo_state *s, const double *x, double *mean, double *var);

/* Add x (d) as a fantasised observation: update the candidates' variance, refit the GP. GP_OK, or
 * GP_ENUMERIC / GP_EINPUT (no room: nf = q_max) with err. */
gp_status bo_fantasize(bo_state *s, const double *x, char *err, size_t errlen);

#endif
