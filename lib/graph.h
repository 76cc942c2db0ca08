/* graph.h: a cell: a small directed graph with an operation type on each node.
 *
 * Node indices are meant to be a topological order (node 0 the input, node n-1 the output), but the
 * type can hold any directed graph without parallel edges, so that invalid input (cycles,
 * self-loops, backward edges) can be represented and reported by graph_check.
 * Nothing here exits: graph_read and graph_check return -1 with the reason in why. */
#ifndef SVGE_GRAPH_H
#define SVGE_GRAPH_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include "space.h"

#define GRAPH_MAX_NODES 14

typedef struct {
    int n;                          /* number of nodes, 0..GRAPH_MAX_NODES */
    uint8_t type[GRAPH_MAX_NODES];  /* type index in the space's vocabulary */
    uint16_t succ[GRAPH_MAX_NODES]; /* bit j of succ[i] set: edge i -> j */
} graph;

static inline bool graph_has_edge(const graph *g, int i, int j) { return (g->succ[i] >> j) & 1u; }
static inline void graph_add_edge(graph *g, int i, int j) { g->succ[i] |= (uint16_t)(1u << j); }
static inline int mask_count(uint16_t m) { return __builtin_popcount(m); } /* nodes in a neighbour mask */
int graph_edge_count(const graph *g);
uint16_t graph_pred(const graph *g, int j); /* bitmask of predecessors of node j */
/* r = g reversed: node i -> n-1-i, every edge u -> v becomes n-1-v -> n-1-u (the decoder's backward
 * direction: it starts at the output). r must not alias g. */
void graph_reverse(graph *r, const graph *g);
bool graph_equal(const graph *a, const graph *b); /* same n, types and edges, index by index */

/* Read "space", "ops" and "edges" of a record. Returns 0, or -1 with a reason in why
 * (missing or ill-typed field, unknown space or operation, too many nodes, edge out of range,
 * duplicate edge). Does not judge validity: see graph_check. */
int graph_read(const msgpack_object *rec, const space_info **sp, graph *g, char *why, size_t whylen);
/* Pack the three key/value pairs "space", "ops", "edges" (edges sorted by source, then target). */
void graph_pack(msgpack_packer *pk, const space_info *sp, const graph *g);

/* Strict validity in the given space (formats/reference.md §8 item 8, fixed):
 *   all:   2..max nodes; node 0 is the only input, node n-1 the only output; edges go from lower to
 *          higher index (self-loops, cycles and backward edges are named);
 *   nb101: at most 7 nodes and 9 edges; every node on an input->output path;
 *   nb101x: at most 8 nodes, any number of edges; every node on an input->output path (no pruning:
 *          a dangling node makes the cell invalid, as in nb101);
 *   nb201: exactly the fixed 8-node, 10-edge topology, inner nodes one of the 5 operations;
 *   enas:  L+2 nodes; chain edge i -> i+1 for every layer; the output fed by the last layer only.
 * Returns 0 if valid, else -1 with the reason in why. */
int graph_check(const space_info *sp, const graph *g, char *why, size_t whylen);

#endif
