/* graph_list.c: reading a stream of graph records into an array (see graph_list.h). */
#include "graph_list.h"

#include <stdlib.h>
#include <string.h>

#include "md5.h"
#include "record.h"
#include "stream.h"
#include "util.h"

void graph_list_read(graph_list *l, const char *path, const space_info *sp, int flags, uint64_t limit) {
    rec_reader *r = rr_open(path);
    const msgpack_object *rec;
    uint64_t k = 0;
    while (k < limit && (rec = rr_next(r))) {
        k++;
        const space_info *gsp;
        graph g;
        char why[512];
        if (graph_read(rec, &gsp, &g, why, sizeof why) != 0) rr_fail(r, "%s", why);
        if (sp && gsp != sp) rr_fail(r, "graph of space %s, the model is for %s", gsp->name, sp->name);
        if (!sp && l->sp && gsp != l->sp)
            rr_fail(r, "space %s, but the training set so far is %s (one space per model)", gsp->name, l->sp->name);
        if (g.n < 1) rr_fail(r, "graph has no node");
        if ((flags & GL_CHECK) && graph_check(gsp, &g, why, sizeof why) != 0)
            rr_fail(r, "invalid %s graph: %s", gsp->name, why);
        double y = 0.0;
        const int got = l->target ? rec_get_double(rec, l->target, &y) : 1; // 1 found, 0 absent, -1 not a number
        if (got < 0) rr_fail(r, "\"%s\" is not a number", l->target);
        if (got == 0) {
            if (flags & GL_SKIP_MISSING) {
                l->skipped++;
                continue;
            }
            rr_fail(r, "no \"%s\" (--skip-missing passes such records over)", l->target);
        }
        l->sp = gsp;
        if (l->n == l->cap) {
            l->cap = l->cap ? 2 * l->cap : 1024;
            l->g = xrealloc(l->g, l->cap * sizeof *l->g);
            if (l->target) l->y = xrealloc(l->y, l->cap * sizeof *l->y);
        }
        if (l->target) l->y[l->n] = y;
        l->g[l->n++] = g;
    }
    rr_close(r);
}

void graph_list_free(graph_list *l) {
    free(l->g);
    free(l->y);
    *l = (graph_list){0};
}

void graph_list_digest(const graph_list *l, char hex[33]) {
    enum { PER = 1 + GRAPH_MAX_NODES * 3 + 8 }; /* n, types, succ (LE), target */
    uint8_t *buf = xmalloc(8 + l->n * PER), *p = buf;
    const char *space = l->sp ? l->sp->name : "";
    size_t sl = strlen(space) < 8 ? strlen(space) : 8;
    memset(p, 0, 8);
    memcpy(p, space, sl);
    p += 8;
    for (size_t i = 0; i < l->n; i++) {
        const graph *g = &l->g[i];
        memset(p, 0, PER);
        p[0] = (uint8_t)g->n;
        for (int k = 0; k < g->n; k++) {
            p[1 + k] = g->type[k];
            p[1 + GRAPH_MAX_NODES + 2 * k] = (uint8_t)g->succ[k];
            p[2 + GRAPH_MAX_NODES + 2 * k] = (uint8_t)(g->succ[k] >> 8);
        }
        if (l->y) {
            uint64_t u;
            memcpy(&u, &l->y[i], 8);
            for (int b = 0; b < 8; b++) p[1 + 3 * GRAPH_MAX_NODES + b] = (uint8_t)(u >> (8 * b));
        }
        p += PER;
    }
    uint8_t d[16];
    md5(buf, (size_t)(p - buf), d);
    md5_hex(d, hex);
    free(buf);
}
