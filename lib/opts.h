/* opts.h: what every tool's option parsing shares: numbers with one wording for a bad value, -q and
 * -v, a missing value or an unknown option, and the "Exit status:" section that ends every --help.
 *
 * A bad value is a usage error (exit 2) worded the same in every tool:
 *   tool: --epochs: 'abc' is not an integer in [1, 1000000]
 *   tool: --lr: 'x' is not a number in [0, inf)
 * Every function here either returns the value or exits (die_usage); none returns an error. */
#ifndef SVGE_OPTS_H
#define SVGE_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

/* The last lines of every tool's --help (after a blank line). */
#define OPTS_EXIT_HELP \
    "Exit status: 0 ok, 1 bad input or data (a bad model or checkpoint file included), 2 usage\n" \
    "error, 3 I/O or system error (a file that cannot be opened, read or written; no memory).\n"

/* -q and -v for getopt_long's short options and long option table. */
#define OPTS_QV "qv"
#define OPTS_QV_LONG {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'}

/* --force, in every tool that writes a record stream to stdout: write it even to a terminal (the
 * writer refuses otherwise: lib/stream.h). -f too where the tool has no -f of its own: OPTS_FORCE
 * in its short options, OPTS_FORCE_LONG in its table; else only OPTS_FORCE_LONG_ONLY. opt_common
 * handles both; opt_force() says whether it was given. */
#define OPTS_FORCE "f"
#define OPT_FORCE_CODE 0x1f0
#define OPTS_FORCE_LONG {"force", no_argument, NULL, 'f'}
#define OPTS_FORCE_LONG_ONLY {"force", no_argument, NULL, OPT_FORCE_CODE}
/* PAD: the spaces from column 13 to the tool's description column */
#define OPTS_FORCE_HELP(PAD) \
    "  -f, --force" PAD "write the record stream even when stdout is a terminal\n"
#define OPTS_FORCE_LONG_ONLY_HELP(PAD) \
    "      --force" PAD "write the record stream even when stdout is a terminal\n"
int opt_force(void);

/* An integer option in [lo, hi]. */
uint64_t opt_uint(const char *opt, const char *s, uint64_t lo, uint64_t hi);
/* A finite number in lo..hi; open_lo/open_hi exclude the bound ("(0, 1)"); hi may be INFINITY. */
double opt_number(const char *opt, const char *s, double lo, double hi, int open_lo, int open_hi);
/* A comma-separated list of at most max distinct integers, each in [lo, hi], into out: their count.
 * "tool: --top '5,5': 5 twice", "tool: --top '1,,2': want integers separated by commas". */
size_t opt_uint_list(const char *opt, const char *s, uint64_t lo, uint64_t hi, size_t *out, size_t max);
/* One of the words of a NULL-terminated list: its index. "tool: --mode: 'x' is not one of sample, argmax". */
int opt_word(const char *opt, const char *s, const char *const *words);

/* After the options: the one optional input FILE (NULL if none: stdin), or at most max_args operands
 * (opt_operands: their count). More is a usage error "unexpected argument 'x' (...)". */
const char *opt_one_input(int argc, char **argv);
int opt_operands(int argc, char **argv, int max_args, const char *what);

/* The cases of a getopt_long loop (opterr = 0, optstring starting with ':') that are not the
 * tool's own: 'q' and 'v' set the verbosity (util.h), 'f' and OPT_FORCE_CODE opt_force(), and return; ':' (a missing value) and
 * anything else (an unknown option) exit with a usage error. */
void opt_common(int c, char **argv);

#endif
