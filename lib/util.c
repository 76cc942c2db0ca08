/* util.c: tool name, messages, fatal errors with exit hooks, checked allocation, data paths. */
#include "util.h"

#include "opts.h"
#include "parallel.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef SVGE_DATADIR
#define SVGE_DATADIR "data"
#endif

static const char *g_tool = "svge";

void tool_init(const char *argv0) {
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    g_tool = slash ? slash + 1 : (argv0 ? argv0 : "svge");
}

const char *tool_name(void) { return g_tool; }

/* Write m[0..n) to stderr with what could steer a terminal escaped: controls (newline as \n,
 * tab as \t, others and DEL as \xHH), C1 controls and bytes that are not valid UTF-8 as \xHH.
 * Printable UTF-8 is kept. Messages quote untrusted strings (names from records, paths). */
static void put_escaped(const char *m, size_t n) {
    const unsigned char *p = (const unsigned char *)m;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t l = c < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
        if (c == '\n') fputs("\\n", stderr);
        else if (c == '\t') fputs("\\t", stderr);
        else if (c < 0x20 || c == 0x7f || l == 0 || (c == 0xc2 && p[i + 1] < 0xa0))
            for (size_t k = 0; k < (l ? l : 1); k++) fprintf(stderr, "\\x%02x", p[i + k]);
        else fwrite(p + i, 1, l, stderr);
        i += l ? l : 1;
    }
}

/* A progress line (lib/progress.h) is on stderr, not ended by a newline: a message clears it first. */
static int g_line_open;
void stderr_line_open(int open) { g_line_open = open; }

static void vsay(const char *fmt, va_list ap) {
    char small[1024], *m = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big) vsnprintf(m = big, (size_t)n + 1, fmt, again);
        else n = (int)sizeof small - 1;
    }
    va_end(again);
    if (g_line_open) {
        fputs("\r\033[K", stderr);
        g_line_open = 0;
    }
    put_escaped(g_tool, strlen(g_tool));
    fputs(": ", stderr);
    put_escaped(m, (size_t)n);
    fputc('\n', stderr);
    if (m != small) free(m);
}

void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

static int g_verbosity = VERB_NORMAL;
void set_verbosity(int level) { g_verbosity = level; }
int verbosity(void) { return g_verbosity; }

void note(int level, const char *fmt, ...) {
    if (g_verbosity < level) return;
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

/* Exit hooks: run once, newest first, by die(). A hook may itself fail and call die(): the
 * hooks already taken off the list are not run again, so there is no loop. */
#define MAX_HOOKS 8
static struct { void (*fn)(void *); void *arg; } g_hooks[MAX_HOOKS];
static int g_nhooks;

void on_die(void (*fn)(void *), void *arg) {
    if (g_nhooks < MAX_HOOKS) {
        g_hooks[g_nhooks].fn = fn;
        g_hooks[g_nhooks].arg = arg;
        g_nhooks++;
    }
}

void on_die_remove(void (*fn)(void *), void *arg) {
    for (int i = g_nhooks - 1; i >= 0; i--) {
        if (g_hooks[i].fn == fn && g_hooks[i].arg == arg) {
            memmove(&g_hooks[i], &g_hooks[i + 1], (size_t)(g_nhooks - i - 1) * sizeof g_hooks[0]);
            g_nhooks--;
            return;
        }
    }
}

static void run_hooks(void) {
    while (g_nhooks > 0) {
        g_nhooks--;
        g_hooks[g_nhooks].fn(g_hooks[g_nhooks].arg);
    }
}

_Noreturn void vdie(int code, const char *fmt, va_list ap) {
    vsay(fmt, ap);
    run_hooks();
    exit(code);
}

_Noreturn void die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdie(code, fmt, ap);
}

_Noreturn void die_at_exit(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    run_hooks();
    fflush(NULL);
    _exit(code);
}

_Noreturn void die_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help'.\n", g_tool);
    exit(EXIT_USAGE);
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die(EXIT_IO, "out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die(EXIT_IO, "out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) die(EXIT_IO, "out of memory (%zu bytes)", n);
    return q;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The data directory: $SVGE_DATA; else, for an installed tool (make install), <dir of the
 * executable>/../share/svge/data; else the checkout's data/ (SVGE_DATADIR, set by the Makefile);
 * else <dir of the executable>/../data, for a copied checkout. */
const char *data_dir(void) {
    static char buf[PATH_MAX];
    const char *env = getenv("SVGE_DATA");
    if (env && *env) return env;
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 32);
    char *slash = n > 0 ? (buf[n] = 0, strrchr(buf, '/')) : NULL;
    if (slash) {
        strcpy(slash, "/../share/svge/data");
        if (is_dir(buf)) return buf;
    }
    if (is_dir(SVGE_DATADIR)) return SVGE_DATADIR;
    if (slash) {
        strcpy(slash, "/../data");
        if (is_dir(buf)) return buf;
    }
    return SVGE_DATADIR;
}

const char *data_path(const char *rel) {
    static char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s/%s", data_dir(), rel);
    return buf;
}

int parse_double(const char *s, double *out) {
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int parse_u64(const char *s, uint64_t *out) {
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno == ERANGE) return -1;
    *out = v;
    return 0;
}

int open_input(const char *path) {
    if (!path || strcmp(path, "-") == 0) return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
    return fd;
}

const char *input_name(const char *path) { return !path || strcmp(path, "-") == 0 ? "stdin" : path; }

size_t read_some(int fd, void *buf, size_t n, const char *name) {
    ssize_t k;
    do k = read(fd, buf, n); while (k < 0 && errno == EINTR);
    if (k < 0) die(EXIT_IO, "%s: read error: %s", name, strerror(errno));
    return (size_t)k;
}

void openblas_set_num_threads(int num_threads);

/* The thread count's parsing and its "0 = one per CPU" are lib/parallel.h's. */
int blas_threads_arg(const char *opt, const char *s) { return par_threads_arg(opt, s); }

void blas_use_threads(int n) { openblas_set_num_threads(par_threads_resolve(n)); }

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
