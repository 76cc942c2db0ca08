/* graph_list.c: reading a stream of graph records into an array (see graph_list.h). */
#include "graph_list.h"

#include <stdlib.h>

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
