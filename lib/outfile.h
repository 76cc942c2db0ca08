/* outfile.h: every file a tool writes by name (-o, --checkpoint, --rest, --metrics, --curves).
 *
 * A regular file, or a path that does not exist yet, is written to "<target>.tmp.<pid>" beside it
 * and renamed into place by of_commit: it appears whole or not at all. Anything else that exists
 * (a character device such as /dev/null, a FIFO) is written through: opened O_WRONLY, no temporary
 * file, no rename (a socket cannot be opened so: an error). A symbolic link is followed to its final target: the temporary file goes beside
 * the target, which is replaced; the link stays a link.
 *
 * Unusable paths are found when the file is opened or checked (of_check), so a tool opens or
 * checks its outputs before its work starts: a directory, a missing or unwritable directory is
 * "tool: PATH: ..." and exit 3 (EXIT_IO).
 *
 * Temporary files never outlive the process: they are removed by die(), by an exit without
 * of_commit, and when SIGINT, SIGTERM, SIGHUP or SIGPIPE kills it (a handler unlinks them, then
 * re-raises the signal with its default action, so the exit status is the signal's; a signal the
 * tool was started with ignored stays ignored). */
#ifndef SVGE_OUTFILE_H
#define SVGE_OUTFILE_H

#include <stddef.h>

typedef struct outfile outfile;

#define OF_APPEND 1 /* start from the file's present bytes (a regular file), or write at its end */

/* Open path for writing; dies (exit 3) "PATH: ..." if it cannot be. */
outfile *of_open(const char *path, int flags);
int of_fd(const outfile *f);
/* Write all n bytes; dies (exit 3) "PATH: write error: ..." (the temporary file removed). */
void of_write(outfile *f, const void *p, size_t n);
/* The bytes written so far become the file's content (atomically: a copy renamed into place);
 * writing goes on. Written through: nothing to do. */
void of_publish(outfile *f);
/* Finish: fsync, close, rename into place (written through: close). Frees f. Dies (exit 3). */
void of_commit(outfile *f);
/* Give up: close, remove the temporary file. Frees f. */
void of_abort(outfile *f);

/* Die now (exit 3) if path could not be written (probe: create and remove the temporary file). */
void of_check(const char *path);
/* 1 if the paths a and b name the same file to be replaced (after symbolic links and "./"): a
 * regular file or one not there yet. Devices and FIFOs are never "the same" (writing both is fine). */
int of_same(const char *a, const char *b);

#endif
