/* util.h: what every tool shares: its name in messages, exit codes, fatal errors, data paths.
 *
 * Exit codes are the same across all tools (documented in README.md):
 *   0 success, 1 bad input or data error, 2 usage error, 3 I/O or system error. */
#ifndef SVGE_UTIL_H
#define SVGE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

/* Set once at start of main: the name used as the prefix of every message. */
void tool_init(const char *argv0);
const char *tool_name(void);

/* Print "tool: message" on stderr, one line: control characters, DEL, C1 controls and invalid
 * UTF-8 are escaped (\n, \t, \x1b), since messages quote untrusted strings. */
/* 1 while a line without its newline (the progress line) is on stderr; say() and die() clear it first. */
void stderr_line_open(int open);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How much a tool says besides errors and warnings (which it always says), set by -q and -v
 * (lib/opts.h): VERB_QUIET nothing more, VERB_NORMAL (the default) its progress and reports,
 * VERB_VERBOSE also a summary (counts of records read and written: lib/stream.h). */
enum { VERB_QUIET = 0, VERB_NORMAL = 1, VERB_VERBOSE = 2 };
void set_verbosity(int level);
int verbosity(void);
/* say() if the verbosity is at least level. */
void note(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "tool: message", run the exit hooks (which finish output streams so that what was written
 * stays a valid stream of whole records), exit with code. */
_Noreturn void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void vdie(int code, const char *fmt, va_list ap);
/* die() for an atexit handler (where exit() may not be called again): ends with _exit. */
_Noreturn void die_at_exit(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Usage error: prints the message and "Try 'tool --help'." then exits 2. */
_Noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Hooks run by die() in reverse order of registration (at most 8). */
void on_die(void (*fn)(void *), void *arg);
void on_die_remove(void (*fn)(void *), void *arg);

/* Seconds on the monotonic clock (for durations and rates). */
double now_seconds(void);

/* Allocation that dies (exit 3) instead of returning NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* The project's data directory: $SVGE_DATA if set; else <dir of the executable>/../share/svge/data
 * (an installed tool); else the checkout's data/ (compiled in); else <dir of the executable>/../data. */
const char *data_dir(void);
/* data_dir() + "/" + rel, in a static buffer valid until the next call. */
const char *data_path(const char *rel);

/* Open a file for reading ("-" or NULL: stdin, fd 0). Dies (exit 3) if it cannot be opened.
 * Call it before allocating, so that a failure leaves nothing behind. */
int open_input(const char *path);
/* Display name of an input for messages: "stdin" or the path. */
const char *input_name(const char *path);
/* read() that retries on EINTR and dies (exit 3) on errors; returns 0 at the end of input. */
size_t read_some(int fd, void *buf, size_t n, const char *name);

/* Strict number parsing for options and text fields: whole string must be a number. 0 on success. */
int parse_double(const char *s, double *out);
int parse_u64(const char *s, uint64_t *out);

/* OpenBLAS threads for a tool's --threads N option: 0 means one per online CPU. The thread count
 * changes OpenBLAS's rounding (each count is deterministic), so the tools default to 1.
 * blas_threads_arg parses N (0..256; dies with a usage error naming opt otherwise). */
#define BLAS_THREADS_HELP(PAD) /* PAD: the spaces that start the description in the tool's column */ \
    "      --threads N" PAD "OpenBLAS threads, 0 = one per CPU (default 1); 2 threads on 2 cores are\n"  \
    "                 " PAD "up to about 1.5x faster, and round differently: the same N, the same bytes\n"
int blas_threads_arg(const char *opt, const char *s);
void blas_use_threads(int n);

#endif
