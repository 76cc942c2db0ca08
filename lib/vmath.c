/* vmath.c: vectorised sigmoid, tanh and (double) exp through libmvec; see vmath.h. */
#include "vmath.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* libmvec's AVX2 variants (x86_64 vector function ABI, glibc >= 2.22 / 2.35). Clang checks the
 * vector ABI against the callee's declaration too (gcc against the caller's), so declare them AVX2. */
#ifdef __clang__
#define LIBMVEC_AVX2 __attribute__((target("avx2,fma")))
#else
#define LIBMVEC_AVX2
#endif
LIBMVEC_AVX2 __m256 _ZGVdN8v_expf(__m256 x);
LIBMVEC_AVX2 __m256 _ZGVdN8v_tanhf(__m256 x);
LIBMVEC_AVX2 __m256d _ZGVdN4v_exp(__m256d x);

/* Threads may ask at once: the answer is cached atomically (every thread computes the same value). */
static int have_avx2(void) {
    static int known = -1;
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (k < 0) {
        __builtin_cpu_init();
        k = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k;
}

/* Lanes i < k of x (k < 8) as a vector (the rest zero), and back: the tail of an array goes through
 * the same vector function as its body, so a value does not depend on its position. */
__attribute__((target("avx2,fma"))) static __m256 load_tail(const float *x, size_t k) {
    float t[8] = {0};
    memcpy(t, x, k * sizeof(float));
    return _mm256_loadu_ps(t);
}

__attribute__((target("avx2,fma"))) static void store_tail(float *x, __m256 v, size_t k) {
    float t[8];
    _mm256_storeu_ps(t, v);
    memcpy(x, t, k * sizeof(float));
}

__attribute__((target("avx2,fma"))) static __m256 sigmoid_ps(__m256 v) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    const __m256 e = _ZGVdN8v_expf(_mm256_xor_ps(v, sign)); // exp(-x)
    return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

__attribute__((target("avx2,fma"))) static void sigmoid_avx2(float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, sigmoid_ps(_mm256_loadu_ps(x + i)));
    if (i < n) store_tail(x + i, sigmoid_ps(load_tail(x + i, n - i)), n - i);
}

__attribute__((target("avx2,fma"))) static void tanh_avx2(float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _ZGVdN8v_tanhf(_mm256_loadu_ps(x + i)));
    if (i < n) store_tail(x + i, _ZGVdN8v_tanhf(load_tail(x + i, n - i)), n - i);
}

void vsigmoid(float *x, size_t n) {
    if (have_avx2()) sigmoid_avx2(x, n);
    else
        for (size_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

void vtanh(float *x, size_t n) {
    if (have_avx2()) tanh_avx2(x, n);
    else
        for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

__attribute__((target("avx2,fma"))) static void exp_d_avx2(double *x, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(x + i, _ZGVdN4v_exp(_mm256_loadu_pd(x + i)));
    if (i < n) { /* the tail through the same vector function, zero-padded */
        double t[4] = {0};
        memcpy(t, x + i, (n - i) * sizeof(double));
        _mm256_storeu_pd(t, _ZGVdN4v_exp(_mm256_loadu_pd(t)));
        memcpy(x + i, t, (n - i) * sizeof(double));
    }
}

void vexp_d(double *x, size_t n) {
    if (have_avx2()) exp_d_avx2(x, n);
    else
        for (size_t i = 0; i < n; i++) x[i] = exp(x[i]);
}
