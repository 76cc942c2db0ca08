/* graph_hash.h: NAS-Bench-101's isomorphism-invariant graph hash (iterated MD5, as
 * nasbench/lib/graph_util.py hash_module), for every space.
 *
 * Labels come from space_info.hash_labels: for NB101 the official ones (-1 input, -2 output,
 * 0 conv3x3, 1 conv1x1, 2 maxpool), so our hashes equal the official model hashes; for the other
 * spaces -1/-2 and the operation's position among the inner operations. */
#ifndef SVGE_GRAPH_HASH_H
#define SVGE_GRAPH_HASH_H
#include <stdint.h>
#include "graph.h"

/* Hash of the graph exactly as given (no pruning). */
void graph_hash(const space_info *sp, const graph *g, uint8_t digest[16]);
/* graph_hash of count graphs, graph i in space sp[i]. Much faster per graph than one by one
 * (the MD5s of several graphs share vector lanes); best with count a multiple of 8. */
void graph_hash_many(const space_info *const sp[], const graph g[], size_t count, uint8_t (*digest)[16]);
/* NAS-Bench-101's pruning (ModelSpec._prune): remove every node not on an input->output path.
 * Returns 0, or -1 if the output is not reachable from the input (the spec is then invalid). */
int graph_prune(graph *g);
/* The key used to look a graph up in a benchmark table: prune for nb101 and nb101x, then hash. -1 if pruning
 * fails. */
int graph_key(const space_info *sp, const graph *g, uint8_t digest[16]);
/* 32 hex characters to 16 bytes; 0 on success. */
int hash_from_hex(const char *hex, size_t len, uint8_t digest[16]);
#endif
