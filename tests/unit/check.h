/* check.h: the unit tests' tiny harness. CHECK(cond) counts a pass or prints the failing line;
 * check_summary() prints "N passed, M failed" and gives the exit status. */
#ifndef SVGE_TEST_CHECK_H
#define SVGE_TEST_CHECK_H
#include <stdio.h>

static int n_pass, n_fail;

static void check(int ok, int line, const char *what) {
    if (ok) n_pass++;
    else {
        n_fail++;
        fprintf(stderr, "FAIL line %d: %s\n", line, what);
    }
}
#define CHECK(cond) check((cond) != 0, __LINE__, #cond)

static int check_summary(void) {
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
#endif
