/* outfile.c: output files by name: a temporary file renamed into place, or written through
 * (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* ---------------------------------------------------------------- temporary files on the way out */

/* The temporary files of this process, for the signal handler: a slot's path is written before
 * it is marked used, and the handler only reads the table and unlinks (async-signal-safe). */
#define MAX_TMP 16
static struct {
    volatile sig_atomic_t used;
    char path[PATH_MAX];
} g_tmp[MAX_TMP];

static void unlink_all(void) {
    for (int i = 0; i < MAX_TMP; i++)
        if (g_tmp[i].used) unlink(g_tmp[i].path);
}

static void on_signal(int sig) {
    unlink_all();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig); /* delivered when the handler returns: the default action, the signal's status */
}

static void install_cleanup(void) {
    static int done;
    if (done) return;
    done = 1;
    atexit(unlink_all); /* die() and any exit without of_commit */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue; /* stays ignored */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static int register_tmp(const char *path) {
    install_cleanup();
    if (strlen(path) >= PATH_MAX) die(EXIT_IO, "%s: path too long", path);
    for (int i = 0; i < MAX_TMP; i++) {
        if (g_tmp[i].used) continue;
        strcpy(g_tmp[i].path, path);
        g_tmp[i].used = 1;
        return i;
    }
    die(EXIT_IO, "%s: more than %d output files at once", path, MAX_TMP);
}

static void unregister_tmp(int slot) {
    if (slot >= 0) g_tmp[slot].used = 0;
}

/* ---------------------------------------------------------------- paths */

/* The final target of path's symbolic links (path itself if it is none), allocated. */
static char *resolve(const char *path) {
    char *p = xstrdup(path);
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode)) return p;
        if (hops == 40) die(EXIT_IO, "%s: too many levels of symbolic links", path);
        char buf[PATH_MAX];
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        if (n < 0) die(EXIT_IO, "%s: cannot read the symbolic link: %s", path, strerror(errno));
        buf[n] = 0;
        const char *slash = strrchr(p, '/');
        size_t d = buf[0] == '/' || !slash ? 0 : (size_t)(slash - p) + 1; /* relative: to the link's dir */
        char *next = xmalloc(d + (size_t)n + 1);
        memcpy(next, p, d);
        memcpy(next + d, buf, (size_t)n + 1);
        free(p);
        p = next;
    }
}

/* The directory part of path ("." if none), allocated. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    char *d = xstrdup(path);
    d[slash - path] = 0;
    return d;
}

static char *with_suffix(const char *path, const char *suffix) {
    size_t n = strlen(path) + strlen(suffix) + 24;
    char *s = xmalloc(n);
    snprintf(s, n, "%s.tmp.%d%s", path, (int)getpid(), suffix);
    return s;
}

/* ---------------------------------------------------------------- files */

struct outfile {
    int fd;
    char *name;   /* the path as given, for messages */
    char *target; /* after symbolic links */
    char *tmp;    /* NULL: written through */
    int slot;     /* in g_tmp, or -1 */
};

static void write_fd(int fd, const void *buf, size_t n, const char *name) {
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) die(EXIT_IO, "%s: write error: %s", name, strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

/* Copy the bytes of from (from offset 0) to the fd to. */
static void copy_fd(int from, int to, const char *name) {
    char buf[1 << 16];
    off_t off = 0;
    for (;;) {
        ssize_t k = pread(from, buf, sizeof buf, off);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) die(EXIT_IO, "%s: read error: %s", name, strerror(errno));
        if (k == 0) return;
        write_fd(to, buf, (size_t)k, name);
        off += k;
    }
}

/* A new temporary file (registered) for f's target; dies naming the directory if it cannot. */
static int create_tmp(outfile *f, const char *tmp, int *slot) {
    *slot = register_tmp(tmp);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) return fd;
    int e = errno;
    unregister_tmp(*slot);
    if (e == ENOENT || e == EACCES || e == EPERM || e == EROFS || e == ENOTDIR) {
        char *dir = dir_of(f->target);
        die(EXIT_IO, "%s: cannot write in directory '%s': %s", f->name, dir, strerror(e));
    }
    die(EXIT_IO, "%s: cannot create: %s", f->name, strerror(e));
}

outfile *of_open(const char *path, int flags) {
    outfile *f = xcalloc(1, sizeof *f);
    f->name = xstrdup(path);
    f->target = resolve(path);
    f->slot = -1;
    struct stat st;
    int exists = stat(f->target, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) die(EXIT_IO, "%s: is a directory", path);
    if (exists && !S_ISREG(st.st_mode)) { /* a device, FIFO or socket: write through */
        f->fd = open(f->target, O_WRONLY | O_CLOEXEC | (flags & OF_APPEND ? O_APPEND : 0));
        if (f->fd < 0) die(EXIT_IO, "%s: cannot open for writing: %s", path, strerror(errno));
        return f;
    }
    f->tmp = with_suffix(f->target, "");
    f->fd = create_tmp(f, f->tmp, &f->slot);
    if (exists && (flags & OF_APPEND)) {
        int in = open(f->target, O_RDONLY | O_CLOEXEC);
        if (in < 0) die(EXIT_IO, "%s: cannot read: %s", path, strerror(errno));
        copy_fd(in, f->fd, path);
        close(in);
    }
    return f;
}

int of_fd(const outfile *f) { return f->fd; }

void of_write(outfile *f, const void *p, size_t n) { write_fd(f->fd, p, n, f->name); }

static void free_of(outfile *f) {
    free(f->name);
    free(f->target);
    free(f->tmp);
    free(f);
}

/* fsync (a file that cannot be synced is no error), close, rename tmp to the target. */
static void sync_rename(outfile *f, int fd, const char *tmp, int slot) {
    if (fsync(fd) != 0 && errno != EINVAL) die(EXIT_IO, "%s: fsync failed: %s", f->name, strerror(errno));
    if (close(fd) != 0) die(EXIT_IO, "%s: close failed: %s", f->name, strerror(errno));
    if (rename(tmp, f->target) != 0) die(EXIT_IO, "%s: cannot rename into place: %s", f->name, strerror(errno));
    unregister_tmp(slot);
    /* make the rename itself durable; a directory that cannot be synced is no error */
    char *dir = dir_of(f->target);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
}

void of_publish(outfile *f) {
    if (!f->tmp) return;
    char *copy = with_suffix(f->target, ".p");
    int slot, fd = create_tmp(f, copy, &slot);
    copy_fd(f->fd, fd, f->name);
    sync_rename(f, fd, copy, slot);
    free(copy);
}

void of_commit(outfile *f) {
    if (f->tmp) {
        sync_rename(f, f->fd, f->tmp, f->slot);
    } else if (close(f->fd) != 0) {
        die(EXIT_IO, "%s: close failed: %s", f->name, strerror(errno));
    }
    free_of(f);
}

void of_abort(outfile *f) {
    if (!f) return;
    close(f->fd);
    if (f->tmp) unlink(f->tmp);
    unregister_tmp(f->slot);
    free_of(f);
}

void of_check(const char *path) {
    char *t = resolve(path);
    struct stat st;
    int through = stat(t, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
    if (through && access(t, W_OK) != 0) die(EXIT_IO, "%s: cannot write: %s", path, strerror(errno));
    free(t);
    if (!through) of_abort(of_open(path, 0)); /* not opening a FIFO: that would wait for a reader */
}

/* ---------------------------------------------------------------- same file */

/* The canonical name of a file that is not there yet: its directory's real path + its name. */
static char *canonical(const char *p) {
    char *dir = dir_of(p), *real = realpath(dir, NULL);
    const char *slash = strrchr(p, '/'), *base = slash ? slash + 1 : p;
    char *s;
    if (!real) {
        s = xstrdup(p);
    } else {
        size_t n = strlen(real) + strlen(base) + 2;
        s = xmalloc(n);
        snprintf(s, n, "%s/%s", real, base);
    }
    free(real);
    free(dir);
    return s;
}

int of_same(const char *a, const char *b) {
    char *ra = resolve(a), *rb = resolve(b);
    struct stat sa, sb;
    int ea = stat(ra, &sa) == 0, eb = stat(rb, &sb) == 0, same = 0;
    if (ea && eb) {
        same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
    } else if (!ea && !eb) {
        char *ca = canonical(ra), *cb = canonical(rb);
        same = strcmp(ca, cb) == 0;
        free(ca);
        free(cb);
    }
    free(ra);
    free(rb);
    return same;
}
