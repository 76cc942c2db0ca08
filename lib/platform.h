/* platform.h: the machine facts that change floating-point rounding, for checkpoints: a run resumed
 * on another CPU model or BLAS build (or thread count) goes on correctly, but not bitwise as the
 * uninterrupted run would have. */
#ifndef SVGE_PLATFORM_H
#define SVGE_PLATFORM_H

/* The CPU's "model name" (/proc/cpuinfo), or "unknown". */
const char *platform_cpu(void);
/* OpenBLAS's build (openblas_get_config()) and its thread count, e.g. "OpenBLAS 0.3.26 ... threads 1". */
const char *platform_blas(void);

#endif
