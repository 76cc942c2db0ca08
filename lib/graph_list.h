/* graph_list.h: a whole stream of graph records read into an array, with the checks the tools
 * that hold a data set need (svge-train's training set, svge-metrics' train and test sets). */
#ifndef SVGE_GRAPH_LIST_H
#define SVGE_GRAPH_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "space.h"

typedef struct {
    graph *g;
    size_t n, cap;
    const space_info *sp; /* the space of every graph (NULL while empty) */
    const char *target;   /* set before reading to also read this numeric field of every record */
    double *y;            /* (n) its values, if target is set */
    uint64_t skipped;     /* records without the target passed over (GL_SKIP_MISSING) */
} graph_list;

/* graph_list_read flags: every graph must be valid in its space (graph_check); records without
 * the target field are passed over (counted in skipped) instead of an error */
enum { GL_CHECK = 1, GL_SKIP_MISSING = 2 };

/* Append the graph records of path (NULL or "-": stdin) to l, reading at most limit records (the
 * rest of the input is not read). Every record must be a readable graph with at least one node of
 * space sp, or, if sp is NULL, of the space of the list's first graph; with GL_CHECK, valid; with
 * l->target set, it must hold that field as a number (or is skipped, GL_SKIP_MISSING).
 * Never returns an error: dies naming the input and record (exit 1), or exit 3 on I/O. */
void graph_list_read(graph_list *l, const char *path, const space_info *sp, int flags, uint64_t limit);
void graph_list_free(graph_list *l);
/* The MD5 (32 hex digits) of the list as a training set: its space, and every graph (nodes, types,
 * edges) and target value in order; any other graph, order or value gives another digest. */
void graph_list_digest(const graph_list *l, char hex[33]);

#endif
