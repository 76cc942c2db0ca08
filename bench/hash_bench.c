/* hash_bench: graph hashing throughput.
 *
 *   hash_bench [--single] [FILE]
 *
 * Reads graph records (a record stream, FILE or stdin; e.g. graph-parse nb101), keeps the graphs
 * in memory, then times only the hashing: graph_key of every graph (prune for nb101, hash),
 * batched through graph_hash_many as graph-hash does, or one graph_key call per graph with
 * --single. Prints one line: "hash: N cells in S s = R cells/s". Records that carry a "hash" are
 * checked against it; any mismatch is reported and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph_hash.h"
#include "record.h"
#include "stream.h"
#include "util.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    int single = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--single") == 0) single = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: hash_bench [--single] [FILE]\n"
                   "Time graph_key over every graph record of FILE (default stdin).\n"
                   "  --single  one graph_key call per graph (default: batched, as graph-hash)\n");
            return EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) die_usage("unknown option %s", argv[i]);
        else if (path) die_usage("too many arguments");
        else path = argv[i];
    }

    size_t n = 0, cap = 1 << 16;
    graph *gs = xmalloc(cap * sizeof *gs);
    const space_info **sps = xmalloc(cap * sizeof *sps);
    uint8_t (*want)[16] = xmalloc(cap * sizeof *want);
    uint8_t *has = xmalloc(cap);
    rec_reader *r = rr_open(path);
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        if (n == cap) {
            cap *= 2;
            gs = xrealloc(gs, cap * sizeof *gs);
            sps = xrealloc(sps, cap * sizeof *sps);
            want = xrealloc(want, cap * sizeof *want);
            has = xrealloc(has, cap);
        }
        char why[256];
        if (graph_read(rec, &sps[n], &gs[n], why, sizeof why) != 0) rr_fail(r, "%s", why);
        const char *h;
        uint32_t hl;
        has[n] = rec_get_str(rec, "hash", &h, &hl) == 1 && hash_from_hex(h, hl, want[n]) == 0;
        n++;
    }
    rr_close(r);

    uint8_t (*got)[16] = xmalloc((n ? n : 1) * sizeof *got);
    double t0 = now();
    if (single) {
        for (size_t i = 0; i < n; i++)
            if (graph_key(sps[i], &gs[i], got[i]) != 0) die(EXIT_DATA, "record %zu: no input->output path", i + 1);
    } else {
        /* As graph-hash: prune nb101 graphs, then hash in batches. */
        for (size_t i = 0; i < n; i++)
            if (sps[i]->id == SPACE_NB101 && graph_prune(&gs[i]) != 0)
                die(EXIT_DATA, "record %zu: no input->output path", i + 1);
        graph_hash_many(sps, gs, n, got);
    }
    double s = now() - t0;

    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += has[i] && memcmp(got[i], want[i], 16) != 0;
    printf("hash: %zu cells in %.3f s = %.0f cells/s\n", n, s, s > 0 ? (double)n / s : 0.0);
    free(gs), free(sps), free(want), free(has), free(got);
    if (bad) die(EXIT_DATA, "%zu hashes differ from the records' \"hash\"", bad);
    return EXIT_OK;
}
