/* failio.c: an LD_PRELOAD shim that makes I/O fail on cue, to test the tools' I/O error paths.
 *   FAILIO_READ_AFTER=N   read() on fd 0 fails with EIO once N calls have succeeded
 *   FAILIO_WRITE_AFTER=N  write() on fd 1 fails with EIO once N calls have succeeded
 *   FAILIO_RENAME=1       rename() fails with EIO */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static long budget(const char *name) {
    const char *v = getenv(name);
    return v ? atol(v) : -1;
}

ssize_t read(int fd, void *buf, size_t n) {
    static ssize_t (*real)(int, void *, size_t);
    static long calls;
    if (!real) real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    long after = budget("FAILIO_READ_AFTER");
    if (fd == 0 && after >= 0 && calls++ >= after) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, n);
}

int rename(const char *from, const char *to) {
    static int (*real)(const char *, const char *);
    if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    if (budget("FAILIO_RENAME") > 0) {
        errno = EIO;
        return -1;
    }
    return real(from, to);
}

ssize_t write(int fd, const void *buf, size_t n) {
    static ssize_t (*real)(int, const void *, size_t);
    static long calls;
    if (!real) real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    long after = budget("FAILIO_WRITE_AFTER");
    if (fd == 1 && after >= 0 && calls++ >= after) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, n);
}
