/* standardize.c: see standardize.h. */
#include "standardize.h"

#include <math.h>

int standardize_moments(const double *y, size_t n, double *mean, double *sd) {
    double m = 0, var = 0;
    for (size_t i = 0; i < n; i++) m += y[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) var += (y[i] - m) * (y[i] - m);
    *mean = m;
    *sd = sqrt(var / (double)n);
    return *sd > 1e-12 * fabs(m) && *sd > 1e-300 && isfinite(*sd) ? 0 : -1;
}
