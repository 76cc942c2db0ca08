/* lbfgs.c: see lbfgs.h. */
#include "lbfgs.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LBFGS_M 7

void lbfgs_clamp(double *x, const double *lo, const double *hi, int n) {
    for (int i = 0; i < n; i++) x[i] = fmin(fmax(x[i], lo[i]), hi[i]);
}

double lbfgs_box(lbfgs_fn fn, void *ctx, double *x,
                        int n, const double *lo, const double *hi, int iters) {
    double *S = xmalloc((size_t)LBFGS_M * n * sizeof(double)), *Y = xmalloc((size_t)LBFGS_M * n * sizeof(double));
    double rho[LBFGS_M], a[LBFGS_M];
    double *g = xmalloc((size_t)n * sizeof(double)), *gn = xmalloc((size_t)n * sizeof(double));
    double *dir = xmalloc((size_t)n * sizeof(double)), *xn = xmalloc((size_t)n * sizeof(double));
    int mem = 0, head = 0; /* entries, next slot */
    double f, fnew;
    lbfgs_clamp(x, lo, hi, n);
    if (fn(ctx, x, &f, g) != 0) { f = INFINITY; goto out; }
    for (int it = 0; it < iters; it++) {
        /* two-loop recursion: dir = -H g */
        for (int i = 0; i < n; i++) dir[i] = -g[i];
        for (int j = 0; j < mem; j++) {
            const int s = (head - 1 - j + LBFGS_M) % LBFGS_M;
            a[s] = rho[s] * cblas_ddot(n, S + (size_t)s * n, 1, dir, 1);
            cblas_daxpy(n, -a[s], Y + (size_t)s * n, 1, dir, 1);
        }
        if (mem) {
            const int s = (head - 1 + LBFGS_M) % LBFGS_M;
            cblas_dscal(n, 1.0 / (rho[s] * cblas_ddot(n, Y + (size_t)s * n, 1, Y + (size_t)s * n, 1)), dir, 1);
        } else {
            double gmax = 0;
            for (int i = 0; i < n; i++) gmax = fmax(gmax, fabs(g[i]));
            if (gmax > 1) cblas_dscal(n, 1.0 / gmax, dir, 1); /* first step at most 1 in log units */
        }
        for (int j = mem - 1; j >= 0; j--) {
            const int s = (head - 1 - j + LBFGS_M) % LBFGS_M;
            const double b = rho[s] * cblas_ddot(n, Y + (size_t)s * n, 1, dir, 1);
            cblas_daxpy(n, a[s] - b, S + (size_t)s * n, 1, dir, 1);
        }
        if (cblas_ddot(n, dir, 1, g, 1) >= 0) { /* not a descent direction: steepest descent */
            for (int i = 0; i < n; i++) dir[i] = -g[i];
            mem = 0;
        }
        double t = 1;
        int ok = 0;
        for (int ls = 0; ls < 30; ls++, t *= 0.5) {
            for (int i = 0; i < n; i++) xn[i] = x[i] + t * dir[i];
            lbfgs_clamp(xn, lo, hi, n);
            double dec = 0;
            for (int i = 0; i < n; i++) dec += g[i] * (xn[i] - x[i]);
            if (fn(ctx, xn, &fnew, gn) == 0 && fnew <= f + 1e-4 * dec && dec < 0) { ok = 1; break; }
        }
        if (!ok) {
            if (mem == 0) break; /* no progress along the gradient either: converged */
            mem = 0;
            continue;
        }
        double sy = 0;
        for (int i = 0; i < n; i++) {
            S[(size_t)head * n + i] = xn[i] - x[i];
            Y[(size_t)head * n + i] = gn[i] - g[i];
            sy += S[(size_t)head * n + i] * Y[(size_t)head * n + i];
        }
        if (sy > 1e-12) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            if (mem < LBFGS_M) mem++;
        }
        const double fold = f;
        memcpy(x, xn, (size_t)n * sizeof *x);
        memcpy(g, gn, (size_t)n * sizeof *g);
        f = fnew;
        if (fold - f <= 1e-10 * (1 + fabs(f))) break;
    }
out:
    free(S); free(Y); free(g); free(gn); free(dir); free(xn);
    return f;
}

