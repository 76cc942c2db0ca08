/* parallel.c: see parallel.h. One mutex and two condition variables: workers sleep until the
 * generation counter moves, run their share of the tasks, and the last one to finish wakes the
 * caller. */
#include "parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "util.h"

struct par_pool {
    int threads;
    pthread_t *tid;           /* (threads-1) */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation; /* bumped by every par_run */
    int pending;              /* workers still running the current generation */
    int quit;
    par_fn fn;
    void *ctx;
    int ntasks;
};

typedef struct {
    par_pool *p;
    int index; /* 1..threads-1 */
} worker_arg;

static void run_share(par_pool *p, int self) {
    for (int i = self; i < p->ntasks; i += p->threads) p->fn(p->ctx, i);
}

static void *worker(void *arg) {
    worker_arg *w = arg;
    par_pool *p = w->p;
    const int self = w->index;
    free(w);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_share(p, self);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

par_pool *par_create(int threads) {
    par_pool *p = xcalloc(1, sizeof *p);
    p->threads = threads < 1 ? 1 : threads;
    if (p->threads == 1) return p;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->tid = xcalloc((size_t)p->threads - 1, sizeof *p->tid);
    for (int i = 1; i < p->threads; i++) {
        worker_arg *w = xmalloc(sizeof *w);
        *w = (worker_arg){p, i};
        int e = pthread_create(&p->tid[i - 1], NULL, worker, w);
        if (e) die(EXIT_IO, "cannot start a worker thread: %s", strerror(e));
    }
    return p;
}

void par_free(par_pool *p) {
    if (!p) return;
    if (p->threads > 1) {
        pthread_mutex_lock(&p->mu);
        p->quit = 1;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
        for (int i = 1; i < p->threads; i++) pthread_join(p->tid[i - 1], NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->go);
        pthread_cond_destroy(&p->done);
        free(p->tid);
    }
    free(p);
}

int par_threads(const par_pool *p) { return p ? p->threads : 1; }

void par_run(par_pool *p, int ntasks, par_fn fn, void *ctx) {
    if (!p || p->threads == 1 || ntasks <= 1) {
        for (int i = 0; i < ntasks; i++) fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

typedef struct {
    float *x;
    size_t n;
    int parts;
} zero_ctx;

static void zero_part(void *arg, int i) {
    zero_ctx *z = arg;
    const size_t lo = i * z->n / z->parts, hi = (i + 1) * z->n / z->parts;
    memset(z->x + lo, 0, (hi - lo) * sizeof(float));
}

void par_zero(par_pool *p, float *x, size_t n) {
    zero_ctx z = {x, n, par_threads(p)};
    par_run(p, z.parts, zero_part, &z);
}

typedef struct {
    int n, next; /* chunks; the next to claim (atomic) */
    par_chunk_fn fn;
    void *ctx;
    int w;       /* workers */
    void (*beside[2])(void *ctx);
    void *beside_ctx[2];
} claim_job;

static void claim_task(void *ctx, int worker) {
    claim_job *j = ctx;
    if (worker == 0 && j->beside[0]) j->beside[0](j->beside_ctx[0]);
    if (worker == (j->w > 1 ? 1 : 0) && j->beside[1]) j->beside[1](j->beside_ctx[1]);
    for (int c; (c = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n;) j->fn(j->ctx, worker, c);
}

int par_claim_workers(const par_pool *p, int n, int with_beside) {
    const int w = n + with_beside, t = par_threads(p);
    return w < 1 ? 1 : w < t ? w : t;
}

void par_claim2(par_pool *p, int w, int n, par_chunk_fn fn, void *ctx, void (*beside0)(void *ctx), void *ctx0,
                void (*beside1)(void *ctx), void *ctx1) {
    claim_job j = {n, 0, fn, ctx, w, {beside0, beside1}, {ctx0, ctx1}};
    par_run(p, w, claim_task, &j);
}

void par_claim(par_pool *p, int w, int n, par_chunk_fn fn, void *ctx, void (*beside)(void *ctx), void *beside_ctx) {
    par_claim2(p, w, n, fn, ctx, beside, beside_ctx, NULL, NULL);
}

int par_threads_arg(const char *opt, const char *s) { return (int)opt_uint(opt, s, 0, 256); }

int par_threads_resolve(int n) {
    if (n > 0) return n;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

void par_blas_single(void) { blas_use_threads(1); }
