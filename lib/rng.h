/* rng.h: MT19937, bit-compatible with NumPy's legacy RandomState (np.random.seed(s) with an
 * integer seed), so that splits and samples can match the reference's numpy calls exactly. */
#ifndef SVGE_RNG_H
#define SVGE_RNG_H
#include <stddef.h>
#include <stdint.h>
typedef struct {
    uint32_t mt[624];
    int pos;
    int has_gauss;      /* numpy legacy gauss cache */
    double gauss;
} rng_mt;
void rng_seed(rng_mt *r, uint32_t seed);        /* np.random.seed(seed) */
uint32_t rng_u32(rng_mt *r);                     /* next raw 32-bit output */
double rng_double(rng_mt *r);                    /* np.random.random_sample() */
uint32_t rng_interval(rng_mt *r, uint32_t max);  /* uniform in [0, max], numpy's masked rejection */
void rng_permutation(rng_mt *r, uint32_t n, uint32_t *out); /* np.random.permutation(n) */
/* np.random.shuffle of a 1-d array of n items of size bytes each (legacy Fisher-Yates). */
void rng_shuffle(rng_mt *r, void *base, uint32_t n, size_t size);
double rng_gauss(rng_mt *r);                     /* np.random.standard_normal() (legacy polar) */
#endif
