/* encodings.h: fixed-length encodings of a graph that need no learned model, as inputs of the
 * surrogate baselines (White et al., "BANANAS", AAAI 2021; "A Study on Encodings for Neural
 * Architecture Search", NeurIPS 2020).
 *
 * adj-onehot: the upper triangle of the adjacency matrix padded to the space's maximum node count
 *   M (row by row: (0,1), (0,2), ..., (0,M-1), (1,2), ..., (M-2,M-1); M(M-1)/2 bits), then the one-hot
 *   type of each node position (M x K, K = the space's vocabulary size with input and output, in
 *   type-index order, formats/records.md). A graph of n < M nodes fills positions 0..n-1 (its output
 *   is node n-1); the rest are zeros. nb101: 21 + 7 x 5 = 56; nb201: 28 + 8 x 7 = 84; enas6: 28 + 8 x 8
 *   = 92; enas12: 91 + 14 x 8 = 203.
 *
 * path: one indicator per possible input -> output path, labelled by the sequence of the operations
 *   of its inner nodes (input and output left out). With I inner operation types and paths of at most
 *   L inner nodes, there are sum_{l=0..L} I^l = (I^(L+1) - 1) / (I - 1) labels; the path with inner
 *   operations o_1..o_l (each an inner index 0..I-1) has index
 *       sum_{i<l} I^i  +  sum_{i=1..l} o_i I^(i-1)
 *   i.e. BANANAS's sum_i I^(i-1) (o_i + 1) (its get_path_indices): all paths of length l come before
 *   those of length l+1, and the first operation is the lowest digit. Inner indices are the
 *   operations' hash labels (space.h), which for nb101 are BANANAS's own mapping (conv3x3 0,
 *   conv1x1 1, maxpool3x3 2). A path that occurs is 1 however often it occurs.
 *     nb101: I = 3, L = 5 (7 nodes): 1 + 3 + 9 + 27 + 81 + 243 = 364.
 *     nb201: the operations are on nodes (formats/records.md), the topology is fixed: the four
 *       paths 0-4-7, 0-1-5-7, 0-2-6-7 and 0-1-3-6-7, so L = 3; I = 5, "none" included as an
 *       operation (a path through a "none" node is labelled by it, not dropped): 1 + 5 + 25 + 125 =
 *       156 (the empty path, index 0, never occurs).
 *     enas6: I = 6, L = 6: 55,987. enas12: the longest paths have 12 layers (6^12 labels), so the
 *       default is truncated at L = 6 like enas6 (BANANAS's truncated path encoding keeps the
 *       lowest indices, i.e. the shortest paths); paths longer than L are left out. */
#ifndef SVGE_ENCODINGS_H
#define SVGE_ENCODINGS_H

#include <stddef.h>

#include "graph.h"
#include "space.h"

typedef enum { ENC_ADJ_ONEHOT, ENC_PATH } enc_kind;

/* "adj-onehot", "path". */
const char *enc_kind_name(enc_kind k);
/* -1 if the name is not a kind. */
int enc_kind_by_name(const char *name);

/* Length of the adj-onehot vector of a space. */
size_t enc_adj_onehot_dim(const space_info *sp);
/* Index of the adjacency bit of edge i -> j (i < j < M). */
size_t enc_adj_index(const space_info *sp, int i, int j);
/* Write the adj-onehot vector of g (n <= max nodes, edges i -> j with i < j) into out[dim]. */
void enc_adj_onehot(const space_info *sp, const graph *g, float *out);

/* Inner operation types I of a space (its vocabulary minus input and output). */
int enc_path_inner_types(const space_info *sp);
/* The longest path, in inner nodes, that a valid graph of the space can have (nb101 5, nb201 3,
 * enas6 6, enas12 12), and the default L (the same, but 6 for enas12). */
int enc_path_longest(const space_info *sp);
int enc_path_default_len(const space_info *sp);
/* Number of path labels with at most L inner nodes, or 0 if above limit (too many features). */
size_t enc_path_dim(const space_info *sp, int max_len, size_t limit);
/* Write the path indicators of g (a valid graph: a DAG in topological order, node 0 the input,
 * node n-1 the output) with at most max_len inner nodes into out[enc_path_dim]. Returns the
 * number of such paths (a label can occur more than once). */
size_t enc_path(const space_info *sp, const graph *g, int max_len, float *out);

#endif
