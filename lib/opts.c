/* opts.c: option values, -q/-v and the common getopt cases (see opts.h). */
#include "opts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

uint64_t opt_uint(const char *opt, const char *s, uint64_t lo, uint64_t hi) {
    uint64_t u;
    if (parse_u64(s, &u) != 0 || u < lo || u > hi)
        die_usage("%s: '%s' is not an integer in [%llu, %llu]", opt, s, (unsigned long long)lo,
                  (unsigned long long)hi);
    return u;
}

size_t opt_uint_list(const char *opt, const char *s, uint64_t lo, uint64_t hi, size_t *out, size_t max) {
    size_t n = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char buf[32];
        if (len == 0 || len >= sizeof buf) die_usage("%s '%s': want integers separated by commas", opt, s);
        memcpy(buf, p, len);
        buf[len] = 0;
        uint64_t k = opt_uint(opt, buf, lo, hi);
        if (n == max) die_usage("%s '%s': at most %zu values", opt, s, max);
        for (size_t j = 0; j < n; j++)
            if (out[j] == k) die_usage("%s '%s': %s twice", opt, s, buf);
        out[n++] = (size_t)k;
        if (!e) return n;
        p = e + 1;
    }
}

static const char *bound(char *buf, size_t n, double x) {
    if (isinf(x)) return x > 0 ? "inf" : "-inf";
    snprintf(buf, n, "%g", x);
    return buf;
}

double opt_number(const char *opt, const char *s, double lo, double hi, int open_lo, int open_hi) {
    double x;
    int ok = parse_double(s, &x) == 0 && isfinite(x) && (open_lo ? x > lo : x >= lo) && (open_hi ? x < hi : x <= hi);
    if (!ok) {
        char a[32], b[32];
        die_usage("%s: '%s' is not a number in %c%s, %s%c", opt, s, open_lo || isinf(lo) ? '(' : '[',
                  bound(a, sizeof a, lo), bound(b, sizeof b, hi), open_hi || isinf(hi) ? ')' : ']');
    }
    return x;
}

int opt_word(const char *opt, const char *s, const char *const *words) {
    char list[256] = "";
    for (int i = 0; words[i]; i++) {
        if (strcmp(s, words[i]) == 0) return i;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", words[i]);
    }
    die_usage("%s: '%s' is not one of %s", opt, s, list);
}

int opt_operands(int argc, char **argv, int max_args, const char *what) {
    if (argc - optind > max_args) die_usage("unexpected argument '%s' (%s)", argv[optind + max_args], what);
    return argc - optind;
}

const char *opt_one_input(int argc, char **argv) {
    return opt_operands(argc, argv, 1, "one input FILE at most") ? argv[optind] : NULL;
}

static int g_force;
int opt_force(void) { return g_force; }

void opt_common(int c, char **argv) {
    switch (c) {
    case 'f': case OPT_FORCE_CODE: g_force = 1; return;
    case 'q': set_verbosity(VERB_QUIET); return;
    case 'v': set_verbosity(VERB_VERBOSE); return;
    case ':': die_usage("option '%s' needs a value", argv[optind - 1]);
    default:
        if (optopt && optopt < 256) die_usage("unknown option '-%c'", optopt);
        die_usage("unknown option '%s'", argv[optind - 1]);
    }
}
