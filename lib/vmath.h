/* vmath.h: the activations of the GRU cells and readouts (and the GP kernel's exp) on whole arrays,
 * vectorised.
 *
 * On a CPU with AVX2 (every machine this project runs on; checked at run time) eight floats at a
 * time go through glibc's vector math library (libmvec: _ZGVdN8v_expf, _ZGVdN8v_tanhf, the
 * OpenMP-SIMD variants of expf and tanhf, documented to within 4 ulp), the tail of an array
 * zero-padded to eight; elsewhere the scalar expf and tanhf. Results are deterministic on a given machine, but a
 * value may differ in the last bits between the vector and the scalar path, so between a machine
 * with AVX2 and one without. */
#ifndef SVGE_VMATH_H
#define SVGE_VMATH_H

#include <stddef.h>

/* x[i] = 1 / (1 + exp(-x[i])) in place, i < n. */
void vsigmoid(float *x, size_t n);
/* x[i] = tanh(x[i]) in place, i < n. */
void vtanh(float *x, size_t n);
/* x[i] = exp(x[i]) in place, i < n, doubles: four at a time through libmvec's _ZGVdN4v_exp (within
 * 4 ulp) with AVX2, else the scalar exp; the same machine gives the same bits. */
void vexp_d(double *x, size_t n);

#endif
