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

int main(void) {
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
