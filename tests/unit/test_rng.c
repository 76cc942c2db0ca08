/* test_rng.c: lib/rng.c against draws recorded from NumPy's legacy RandomState
 * (tests/fixtures/numpy_rng.txt, written by make_numpy_rng.py; format described there).
 * Usage: test_rng [FIXTURE]; by default the fixture is found from the cwd or the executable.
 * Doubles are compared bitwise. Prints "N passed, M failed"; exits 1 on any failure. */
#include "rng.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* Parsing of one fixture line: a cursor over whitespace-separated tokens. */
static char *tok(char **s) {
    char *p = *s;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p || *p == '\n') return NULL;
    char *start = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n') p++;
    if (*p) *p++ = 0;
    *s = p;
    return start;
}

static int tok_u64(char **s, uint64_t *v) {
    char *t = tok(s), *end;
    if (!t) return -1;
    *v = strtoull(t, &end, 10);
    return *end ? -1 : 0;
}

static int tok_double(char **s, double *v) {
    char *t = tok(s), *end;
    if (!t) return -1;
    *v = strtod(t, &end);
    return *end ? -1 : 0;
}

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* One fixture line; returns 0 if it parsed (whatever the comparison gave), -1 if malformed. */
static int run_line(char *s, int line) {
    char *kind = tok(&s);
    uint64_t seed, a, b, c, v;
    double d;
    char msg[256];
    if (!kind || kind[0] == '#') return 0;
    if (tok_u64(&s, &seed) || seed > UINT32_MAX) return -1;
    rng_mt r;
    rng_seed(&r, (uint32_t)seed);

    if (!strcmp(kind, "raw") || !strcmp(kind, "sample") || !strcmp(kind, "gauss")) {
        if (tok_u64(&s, &a)) return -1;
        char *colon = tok(&s);
        if (!colon || strcmp(colon, ":")) return -1;
        int ok = 1;
        for (uint64_t i = 0; i < a; i++) {
            if (kind[0] == 'r') {
                if (tok_u64(&s, &v)) return -1;
                uint32_t got = rng_u32(&r);
                if (got != v && ok) {
                    snprintf(msg, sizeof msg, "raw seed %" PRIu64 " draw %" PRIu64 ": %" PRIu32
                             " != %" PRIu64, seed, i, got, v);
                    ok = 0;
                }
            } else {
                if (tok_double(&s, &d)) return -1;
                double got = kind[0] == 's' ? rng_double(&r) : rng_gauss(&r);
                if (!same_double(got, d) && ok) {
                    snprintf(msg, sizeof msg, "%s seed %" PRIu64 " draw %" PRIu64 ": %.17g != %.17g",
                             kind, seed, i, got, d);
                    ok = 0;
                }
            }
        }
        check(ok, line, msg);
    } else if (!strcmp(kind, "interval")) {
        if (tok_u64(&s, &a) || a > UINT32_MAX || tok_u64(&s, &b)) return -1;
        char *colon = tok(&s);
        if (!colon || strcmp(colon, ":")) return -1;
        int ok = 1;
        for (uint64_t i = 0; i < b; i++) {
            if (tok_u64(&s, &v)) return -1;
            uint32_t got = rng_interval(&r, (uint32_t)a);
            if (got != v && ok) {
                snprintf(msg, sizeof msg, "interval seed %" PRIu64 " max %" PRIu64 " draw %" PRIu64
                         ": %" PRIu32 " != %" PRIu64, seed, a, i, got, v);
                ok = 0;
            }
        }
        check(ok, line, msg);
    } else if (!strcmp(kind, "perm")) {
        /* perm SEED N K SUM : first K */
        if (tok_u64(&s, &a) || a > UINT32_MAX || tok_u64(&s, &b) || b > a || tok_u64(&s, &c))
            return -1;
        char *colon = tok(&s);
        if (!colon || strcmp(colon, ":")) return -1;
        uint32_t *p = malloc((a ? a : 1) * sizeof *p);
        if (!p) return -1;
        rng_permutation(&r, (uint32_t)a, p);
        int ok = 1;
        uint64_t sum = 0;
        for (uint64_t i = 0; i < a; i++) sum += (i + 1) * p[i];
        for (uint64_t i = 0; i < b; i++) {
            if (tok_u64(&s, &v)) { free(p); return -1; }
            if (p[i] != v && ok) {
                snprintf(msg, sizeof msg, "perm seed %" PRIu64 " n %" PRIu64 " [%" PRIu64 "]: %"
                         PRIu32 " != %" PRIu64, seed, a, i, p[i], v);
                ok = 0;
            }
        }
        if (ok && sum != c) {
            snprintf(msg, sizeof msg, "perm seed %" PRIu64 " n %" PRIu64 ": checksum %" PRIu64
                     " != %" PRIu64, seed, a, sum, c);
            ok = 0;
        }
        free(p);
        check(ok, line, msg);
    } else if (!strcmp(kind, "mixed")) {
        char *ops = tok(&s), *colon = tok(&s);
        if (!ops || !colon || strcmp(colon, ":")) return -1;
        int ok = 1;
        for (const char *op = ops; *op; op++) {
            if (*op == 'r') {
                if (tok_u64(&s, &v)) return -1;
                uint32_t got = rng_u32(&r);
                if (got != v && ok) {
                    snprintf(msg, sizeof msg, "mixed seed %" PRIu64 " op %d: %" PRIu32 " != %"
                             PRIu64, seed, (int)(op - ops), got, v);
                    ok = 0;
                }
            } else if (*op == 'g' || *op == 'u') {
                if (tok_double(&s, &d)) return -1;
                double got = *op == 'g' ? rng_gauss(&r) : rng_double(&r);
                if (!same_double(got, d) && ok) {
                    snprintf(msg, sizeof msg, "mixed seed %" PRIu64 " op %d (%c): %.17g != %.17g",
                             seed, (int)(op - ops), *op, got, d);
                    ok = 0;
                }
            } else return -1;
        }
        check(ok, line, msg);
    } else return -1;
    return tok(&s) ? -1 : 0;   /* nothing may follow the values */
}

/* Checks that need no fixture. */
static void self_checks(void) {
    rng_mt r, r2;
    /* Reseeding drops the cached second gaussian (numpy's seed() resets has_gauss). */
    rng_seed(&r, 5);
    double g0 = rng_gauss(&r);
    rng_seed(&r, 5);
    check(same_double(rng_gauss(&r), g0), __LINE__, "reseed resets the gauss cache");

    /* Shuffling wide items (wider than the swap buffer) moves them exactly as permutation does. */
    enum { N = 50, W = 100 };
    static unsigned char items[N][W];
    uint32_t perm[N];
    for (int i = 0; i < N; i++) memset(items[i], i, W);
    rng_seed(&r, 7);
    rng_permutation(&r, N, perm);
    rng_seed(&r2, 7);
    rng_shuffle(&r2, items, N, W);
    int ok = 1;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < W; k++) ok &= items[i][k] == perm[i];
    check(ok, __LINE__, "rng_shuffle of 100-byte items follows rng_permutation");

    /* Empty and one-element shuffles draw nothing. */
    rng_seed(&r, 3);
    rng_seed(&r2, 3);
    rng_permutation(&r, 0, perm);
    rng_permutation(&r, 1, perm);
    check(perm[0] == 0 && rng_u32(&r) == rng_u32(&r2), __LINE__, "n=0 and n=1 draw nothing");

    /* Interval stays within bounds for awkward maxima. */
    const uint32_t maxes[] = {1, 2, 3, 7, 8, 1000, 0x80000001u, 0xfffffffeu};
    ok = 1;
    rng_seed(&r, 11);
    for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++)
        for (int i = 0; i < 1000; i++) ok &= rng_interval(&r, maxes[m]) <= maxes[m];
    check(ok, __LINE__, "rng_interval within [0, max]");
}

static FILE *open_fixture(int argc, char **argv) {
    if (argc > 1) return fopen(argv[1], "r");
    FILE *f = fopen("tests/fixtures/numpy_rng.txt", "r");
    if (f) return f;
    /* The executable is build/<mode>/tests/test_rng: the fixture is three levels up. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
    if (n <= 0) return NULL;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    strcpy(slash, "/../../../tests/fixtures/numpy_rng.txt");
    return fopen(exe, "r");
}

int main(int argc, char **argv) {
    FILE *f = open_fixture(argc, argv);
    if (!f) {
        fprintf(stderr, "test_rng: cannot open the fixture numpy_rng.txt (give its path)\n");
        return 2;
    }
    char buf[65536];
    int line = 0, n_lines = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (!strchr(buf, '\n') && !feof(f)) {
            fprintf(stderr, "test_rng: fixture line %d too long\n", line);
            return 2;
        }
        if (buf[0] != '#' && buf[0] != '\n') n_lines++;
        if (run_line(buf, line)) {
            fprintf(stderr, "test_rng: fixture line %d malformed\n", line);
            n_fail++;
        }
    }
    fclose(f);
    check(n_lines >= 40, __LINE__, "fixture has its lines");
    self_checks();
    return check_summary();
}
