/* rng.c: MT19937 with NumPy's legacy RandomState semantics (numpy/random/src/mt19937 and
 * legacy-distributions.c), so that a seed gives the same draws as the reference's numpy calls.
 * Checked against numpy 1.24 by tests/unit/test_rng.c (fixture: tests/fixtures/numpy_rng.txt). */
#include "rng.h"

#include <math.h>
#include <string.h>

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

/* np.random.seed(int): Knuth's init_genrand; also drops the cached gaussian, as numpy does. */
void rng_seed(rng_mt *r, uint32_t seed) {
    r->mt[0] = seed;
    for (uint32_t i = 1; i < MT_N; i++)
        r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + i;
    r->pos = MT_N;
    r->has_gauss = 0;
    r->gauss = 0.0;
}

/* Regenerate all 624 words at once (the reference "genrand" block step). */
static void mt_refill(rng_mt *r) {
    uint32_t *mt = r->mt, y;
    int i;
    for (i = 0; i < MT_N - MT_M; i++) {
        y = (mt[i] & MT_UPPER) | (mt[i + 1] & MT_LOWER);
        mt[i] = mt[i + MT_M] ^ (y >> 1) ^ (-(y & 1u) & MT_MATRIX_A);
    }
    for (; i < MT_N - 1; i++) {
        y = (mt[i] & MT_UPPER) | (mt[i + 1] & MT_LOWER);
        mt[i] = mt[i + (MT_M - MT_N)] ^ (y >> 1) ^ (-(y & 1u) & MT_MATRIX_A);
    }
    y = (mt[MT_N - 1] & MT_UPPER) | (mt[0] & MT_LOWER);
    mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ (-(y & 1u) & MT_MATRIX_A);
    r->pos = 0;
}

uint32_t rng_u32(rng_mt *r) {
    if (r->pos >= MT_N) mt_refill(r);
    uint32_t y = r->mt[r->pos++];
    /* tempering */
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* 53-bit double in [0,1) from two draws: 27 high bits then 26. */
double rng_double(rng_mt *r) {
    uint32_t a = rng_u32(r) >> 5, b = rng_u32(r) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

/* Legacy random_interval: mask to the smallest 2^k-1 >= max, reject draws above max. */
uint32_t rng_interval(rng_mt *r, uint32_t max) {
    if (max == 0) return 0;
    uint32_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t v;
    while ((v = rng_u32(r) & mask) > max) {}
    return v;
}

/* Legacy shuffle of a 1-d array: for i = n-1 down to 1, swap items i and random_interval(i). */
void rng_shuffle(rng_mt *r, void *base, uint32_t n, size_t size) {
    unsigned char *p = base, tmp[64];
    for (uint32_t i = n ? n - 1 : 0; i > 0; i--) {
        uint32_t j = rng_interval(r, i);
        if (j == i) continue;
        unsigned char *a = p + (size_t)i * size, *b = p + (size_t)j * size;
        for (size_t off = 0; off < size; off += sizeof tmp) {   /* swap in chunks of tmp */
            size_t k = size - off < sizeof tmp ? size - off : sizeof tmp;
            memcpy(tmp, a + off, k);
            memcpy(a + off, b + off, k);
            memcpy(b + off, tmp, k);
        }
    }
}

/* np.random.permutation(n) = shuffle(arange(n)). */
void rng_permutation(rng_mt *r, uint32_t n, uint32_t *out) {
    for (uint32_t i = 0; i < n; i++) out[i] = i;
    rng_shuffle(r, out, n, sizeof *out);
}

/* Legacy gauss: polar Box-Muller; each accepted pair returns f*x2 and caches f*x1.
 * Bitwise parity needs r2 computed without FMA contraction (x86-64 baseline has no FMA). */
double rng_gauss(rng_mt *r) {
    if (r->has_gauss) {
        double g = r->gauss;
        r->has_gauss = 0;
        r->gauss = 0.0;
        return g;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * rng_double(r) - 1.0;
        x2 = 2.0 * rng_double(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    r->gauss = f * x1;
    r->has_gauss = 1;
    return f * x2;
}
