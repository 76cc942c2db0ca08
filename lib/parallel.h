/* parallel.h: a small pool of worker threads for work split into a FIXED number of tasks.
 *
 * The rule that keeps results bitwise the same for every thread count: the caller splits the work
 * into tasks that do not depend on the thread count (the decoder's two directions, the encoder's
 * two streams, whole batches of a stream), each task writes only its own outputs, and the caller
 * combines them afterwards in a fixed order. Which thread runs a task then changes nothing: task i
 * runs on thread i % T (the calling thread is thread 0), and par_run returns when all are done.
 * Every thread calls OpenBLAS single-threaded (par_blas_single), so BLAS rounding is that of one
 * thread too.
 *
 * A NULL pool, or one of 1 thread, runs the tasks in order on the calling thread. */
#ifndef SVGE_PARALLEL_H
#define SVGE_PARALLEL_H

#include <stddef.h>

typedef struct par_pool par_pool;
typedef void (*par_fn)(void *ctx, int task);

/* A pool of threads workers (the caller counts as one: threads-1 are started); threads <= 1 gives
 * a pool that starts none. Dies (exit 3) if threads cannot be started. */
par_pool *par_create(int threads);
void par_free(par_pool *p);
int par_threads(const par_pool *p); /* 1 for NULL */
/* Run fn(ctx, i) for i = 0..ntasks-1 as above; returns when every task has returned. Not
 * reentrant: a task must not call par_run on the same pool. */
void par_run(par_pool *p, int ntasks, par_fn fn, void *ctx);

/* Work in n chunks whose results do not depend on which worker runs them, claimed in turn by w
 * workers (an atomic counter: a slow chunk does not hold up the others): fn(ctx, worker, chunk),
 * worker < w. Worker 0, the calling thread, first runs beside(beside_ctx) if beside is not NULL
 * (e.g. a stream's reading and writing beside the computation). par_claim_workers gives w: one per
 * thread, at most one per chunk plus one per side task (with_beside: 0, 1 or 2), at least 1;
 * callers with per-worker state (model copies) prepare that many first.
 * par_claim2: two side tasks, beside0 on worker 0 and beside1 on worker 1 (with one worker, both on
 * worker 0, beside0 first), e.g. a stream's writing and its reading on two threads (either may be
 * NULL). The side tasks must not touch each other's data. */
typedef void (*par_chunk_fn)(void *ctx, int worker, int chunk);
int par_claim_workers(const par_pool *p, int n, int with_beside);
void par_claim(par_pool *p, int w, int n, par_chunk_fn fn, void *ctx, void (*beside)(void *ctx), void *beside_ctx);
void par_claim2(par_pool *p, int w, int n, par_chunk_fn fn, void *ctx, void (*beside0)(void *ctx), void *ctx0,
                void (*beside1)(void *ctx), void *ctx1);

/* x[0..n) = 0, in ranges on the pool's threads. */
void par_zero(par_pool *p, float *x, size_t n);

/* The tools' --threads N: 0 = one per online CPU (the default); the value is parsed by
 * par_threads_arg (0..256; dies with a usage error naming opt otherwise) and resolved by
 * par_threads_resolve. */
int par_threads_arg(const char *opt, const char *s);
int par_threads_resolve(int n);
/* OpenBLAS to one thread per caller (each of our threads calls it single-threaded). */
void par_blas_single(void);

#define PAR_THREADS_HELP(PAD) /* PAD: the spaces that start the description in the tool's column */ \
    "      --threads N" PAD "worker threads, 0 = one per CPU (the default); the output is the same\n"   \
    "                 " PAD "bytes for every N\n"

#endif
