/* lbfgs.h: minimisation over a box by L-BFGS (memory 7) with projected backtracking Armijo steps,
 * for lib/gp's hyperparameters and bo-propose's acquisition. */
#ifndef SVGE_LBFGS_H
#define SVGE_LBFGS_H

/* The objective: f(x) into *f and its gradient into g (n); 0, or non-zero if it cannot be evaluated
 * at x (the step is then shortened). */
typedef int (*lbfgs_fn)(void *ctx, const double *x, double *f, double *g);

/* Minimise fn over the box [lo, hi] (n each) from x (n), at most iters iterations: L-BFGS
 * directions (a first step of at most 1 per coordinate), projected backtracking Armijo steps, the
 * memory reset when a step fails; stops when a step gains less than 1e-10 relative. x receives
 * the best point; returns its value (+inf if fn fails at the start). Deterministic. */
double lbfgs_box(lbfgs_fn fn, void *ctx, double *x, int n, const double *lo, const double *hi, int iters);

/* x (n) clamped into [lo, hi]. */
void lbfgs_clamp(double *x, const double *lo, const double *hi, int n);

#endif
