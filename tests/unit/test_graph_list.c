/* test_graph_list.c: lib/graph_list.c: a stream of graph records read whole, with a limit, and
 * appended to; a stream with a graph of another space or an invalid one dies with exit 1 naming
 * the record (checked in a child process). Uses $TMPDIR (default /tmp).
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph_list.h"
#include "native.h"
#include "record.h"
#include "stream.h"

#include "check.h"

/* Write NB201 cells (and one of enas6 / one invalid as record bad_at, 1-based, if > 0) to path. */
static void write_stream(const char *path, int n, int bad_at, int bad_kind) {
    rec_writer *w = rw_open(path, 0);
    const space_info *nb201 = space_get(SPACE_NB201), *enas = space_get(SPACE_ENAS6);
    for (int i = 1; i <= n; i++) {
        graph g;
        char why[256];
        const int bad = i == bad_at;
        const space_info *sp = bad && bad_kind == 0 ? enas : nb201;
        if (sp == enas) {
            const char *list = "[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]";
            if (enas_from_list(list, strlen(list), 6, &g, why, sizeof why)) abort();
        } else {
            char arch[128];
            snprintf(arch, sizeof arch, "|avg_pool_3x3~0|+|nor_conv_1x1~0|%s~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
                     i % 2 ? "skip_connect" : "nor_conv_1x1");
            if (nb201_from_arch(arch, strlen(arch), &g, why, sizeof why)) abort();
            if (bad) g.type[3] = g.type[0]; /* a second input node: invalid */
        }
        msgpack_packer *pk = rw_packer(w);
        msgpack_pack_map(pk, 4);
        pack_kv_i64(pk, "v", 1);
        graph_pack(pk, sp, &g);
        rw_end_record(w);
    }
    rw_close(w);
}

/* Exit status of graph_list_read(path, sp, flags) in a child; its stderr to errpath. */
static int child_status(const char *path, const space_info *sp, int flags, const char *errpath) {
    pid_t p = fork();
    if (p == 0) {
        if (!freopen(errpath, "w", stderr)) _exit(99);
        graph_list l = {0};
        graph_list_read(&l, path, sp, flags, UINT64_MAX);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int file_has(const char *path, const char *s) {
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strstr(buf, s) != NULL;
}

int main(void) {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/test_graph_list.%d.zst", tmp, (int)getpid());
    snprintf(err, sizeof err, "%s/test_graph_list.%d.err", tmp, (int)getpid());
    const space_info *nb201 = space_get(SPACE_NB201);

    write_stream(path, 5, 0, 0);
    graph_list l = {0};
    graph_list_read(&l, path, NULL, GL_CHECK, UINT64_MAX);
    CHECK(l.n == 5 && l.sp == nb201);
    CHECK(l.g[0].n == 8 && !graph_equal(&l.g[0], &l.g[1]) && graph_equal(&l.g[0], &l.g[2]));
    graph_list_read(&l, path, nb201, 0, 2); /* appended, at most 2 */
    CHECK(l.n == 7 && graph_equal(&l.g[5], &l.g[0]));
    graph_list_free(&l);
    CHECK(l.n == 0 && l.g == NULL);
    graph_list_read(&l, path, nb201, 0, 0);
    CHECK(l.n == 0);

    write_stream(path, 4, 3, 0); /* record 3 of enas6 */
    CHECK(child_status(path, NULL, 0, err) == 1);
    CHECK(file_has(err, "record 3: space enas6, but the training set so far is nb201"));
    CHECK(child_status(path, nb201, 0, err) == 1);
    CHECK(file_has(err, "record 3: graph of space enas6, the model is for nb201"));
    write_stream(path, 4, 2, 1); /* record 2 invalid */
    CHECK(child_status(path, nb201, 0, err) == 0);
    CHECK(child_status(path, nb201, GL_CHECK, err) == 1);
    CHECK(file_has(err, "record 2: invalid nb201 graph"));
    unlink(path);
    unlink(err);
    return check_summary();
}
