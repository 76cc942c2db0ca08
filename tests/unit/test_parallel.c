/* test_parallel.c: lib/parallel.h. Every task runs exactly once, on thread i % T, for pools of 1 to
 * 5 threads and task counts below, at and above the thread count; a pool is reused many times; a
 * NULL pool runs the tasks in order. */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "parallel.h"

#define MAX_TASKS 64

typedef struct {
    int runs[MAX_TASKS];
    pthread_t who[MAX_TASKS];
    int order[MAX_TASKS], next; /* the NULL pool's order (single thread only) */
} record;

static void task(void *ctx, int i) {
    record *r = ctx;
    __atomic_fetch_add(&r->runs[i], 1, __ATOMIC_RELAXED);
    r->who[i] = pthread_self();
}

static void ordered(void *ctx, int i) {
    record *r = ctx;
    r->order[r->next++] = i;
}

/* par_claim: every chunk exactly once, worker indices below w, beside once on the calling thread
 * before any chunk of worker 0. */
typedef struct {
    int runs[MAX_TASKS], bad_worker, w;
    int beside_runs, beside_first;
    int worker0_chunks;
    pthread_t beside_thread;
} claims;

static void claim_chunk(void *ctx, int worker, int chunk) {
    claims *c = ctx;
    __atomic_fetch_add(&c->runs[chunk], 1, __ATOMIC_RELAXED);
    if (worker < 0 || worker >= c->w) __atomic_store_n(&c->bad_worker, 1, __ATOMIC_RELAXED);
    if (worker == 0) c->worker0_chunks++;
}

static void claim_beside(void *ctx) {
    claims *c = ctx;
    __atomic_fetch_add(&c->beside_runs, 1, __ATOMIC_RELAXED);
    c->beside_first = c->worker0_chunks == 0;
    c->beside_thread = pthread_self();
}

static void test_claim(void) {
    for (int T = 1; T <= 4; T++) {
        par_pool *p = par_create(T);
        const int ns[] = {0, 1, 3, 17, MAX_TASKS};
        for (size_t k = 0; k < sizeof ns / sizeof *ns; k++)
            for (int with = 0; with <= 1; with++) {
                claims c;
                memset(&c, 0, sizeof c);
                const int n = ns[k];
                c.w = par_claim_workers(p, n, with);
                const int want = n + with < 1 ? 1 : (n + with < T ? n + with : T);
                CHECK(c.w == want);
                par_claim(p, c.w, n, claim_chunk, &c, with ? claim_beside : NULL, &c);
                int once = 1;
                for (int i = 0; i < MAX_TASKS; i++) once &= c.runs[i] == (i < n);
                CHECK(once);
                CHECK(!c.bad_worker);
                CHECK(c.beside_runs == with);
                if (with) CHECK(c.beside_first && pthread_equal(c.beside_thread, pthread_self()));
            }
        par_free(p);
    }
}

/* par_claim2: the same for the chunks; beside0 once on the calling thread before its chunks;
 * beside1 once, on another thread when there are 2 workers or more, else on the calling thread
 * after beside0. */
typedef struct {
    claims c;
    int b1_runs, b1_after_b0;
    pthread_t b1_thread;
} claims2;

static void claim_beside1(void *ctx) {
    claims2 *c = ctx;
    c->b1_runs++;
    c->b1_after_b0 = __atomic_load_n(&c->c.beside_runs, __ATOMIC_RELAXED) == 1;
    c->b1_thread = pthread_self();
}

static void test_claim2(void) {
    for (int T = 1; T <= 4; T++) {
        par_pool *p = par_create(T);
        const int ns[] = {0, 1, 3, 17, MAX_TASKS};
        for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
            claims2 c;
            memset(&c, 0, sizeof c);
            const int n = ns[k];
            c.c.w = par_claim_workers(p, n, 2);
            const int want = n + 2 < T ? n + 2 : T;
            CHECK(c.c.w == want);
            par_claim2(p, c.c.w, n, claim_chunk, &c.c, claim_beside, &c.c, claim_beside1, &c);
            int once = 1;
            for (int i = 0; i < MAX_TASKS; i++) once &= c.c.runs[i] == (i < n);
            CHECK(once);
            CHECK(!c.c.bad_worker);
            CHECK(c.c.beside_runs == 1 && c.b1_runs == 1);
            CHECK(c.c.beside_first && pthread_equal(c.c.beside_thread, pthread_self()));
            if (c.c.w > 1) CHECK(!pthread_equal(c.b1_thread, pthread_self()));
            else CHECK(pthread_equal(c.b1_thread, pthread_self()) && c.b1_after_b0);
        }
        par_free(p);
    }
}

int main(void) {
    test_claim();
    test_claim2();
    for (int T = 1; T <= 5; T++) {
        par_pool *p = par_create(T);
        CHECK(par_threads(p) == T);
        const int counts[] = {0, 1, 2, 3, 7, MAX_TASKS};
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            for (int rep = 0; rep < 50; rep++) {
                record r;
                memset(&r, 0, sizeof r);
                par_run(p, counts[c], task, &r);
                int once = 1, same_thread = 1;
                for (int i = 0; i < counts[c]; i++) {
                    once &= r.runs[i] == 1;
                    /* tasks i and i + T share a thread; task 0 runs on the caller */
                    if (i + T < counts[c]) same_thread &= pthread_equal(r.who[i], r.who[i + T]) != 0;
                }
                if (counts[c] > 0) same_thread &= pthread_equal(r.who[0], pthread_self()) != 0;
                for (int i = counts[c]; i < MAX_TASKS; i++) once &= r.runs[i] == 0;
                CHECK(once);
                CHECK(same_thread);
            }
        }
        par_free(p);
    }
    record r;
    memset(&r, 0, sizeof r);
    par_run(NULL, 5, ordered, &r);
    CHECK(r.next == 5 && r.order[0] == 0 && r.order[4] == 4);
    CHECK(par_threads(NULL) == 1);
    CHECK(par_threads_resolve(3) == 3);
    CHECK(par_threads_resolve(0) >= 1);
    par_free(NULL);
    return check_summary();
}
