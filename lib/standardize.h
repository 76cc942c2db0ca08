/* standardize.h: the mean and standard deviation by which a regression target is standardised,
 * t = (y - mean) / sd: gp_fit's targets (lib/gp.h) and the surrogate head's with svge-train
 * --standardize-target (lib/vae_config.h), computed one way for both. */
#ifndef SVGE_STANDARDIZE_H
#define SVGE_STANDARDIZE_H

#include <stddef.h>

/* mean = sum(y) / n and sd = sqrt(sum((y - mean)^2) / n) (population) of the n >= 1 finite values
 * y, summed in index order. 0, or -1 if they are constant: sd not above 1e-12 |mean| (or 1e-300),
 * i.e. nothing to scale by (*mean and *sd are set either way). */
int standardize_moments(const double *y, size_t n, double *mean, double *sd);

#endif
