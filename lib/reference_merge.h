/* reference_merge.h: the reference implementation's behaviour where our decoding fixes its bugs, for
 * runs that must reproduce the reference (formats/reference.md §8; svge-decode --merge reference,
 * --pick first).
 *
 * Bug 2, the forward/backward merge (`GNNDecoder.inference` of models/SVGe.py): the forward graph
 * F keeps its nodes and edges; N = 1 + the largest target of F's edges (`ef[1][-1] + 1`, F's edges
 * being ordered by target); the backward graph's edges with both ends < N (`subgraph`) are mapped
 * (u,v) -> (N-1-v, N-1-u) and visited in the reverse of their generation order (generation order:
 * by target, then source; `torch.flip(..., [0,1])`); an edge (a,b) is added unless F, as grown so
 * far, has an edge leaving a or an edge entering b: the test `j in ef.T` is an element-wise `any`,
 * not edge membership. The node counts need not agree (the reference aligns on F's N).
 * Our generate_merge (lib/generate.h) takes the true union of equal-sized graphs instead.
 *
 * Bug 4, "the most common valid decoding" (`decode_from_latent_space` of utils/util.py):
 * `np.argmax(aux.values())` is always 0, so the reference returns the FIRST valid decoding of its
 * attempts (in attempt order). reference_pick_first chooses it. */
#ifndef SVGE_REFERENCE_MERGE_H
#define SVGE_REFERENCE_MERGE_H

#include <stdbool.h>

#include "graph.h"

/* out = the reference's merge of the forward graph fwd and the backward graph bwd (in its own
 * node order: node 0 is the output node it started from). out may alias neither input. */
void reference_merge(graph *out, const graph *fwd, const graph *bwd);

/* The index of the first k < K with valid[k], or -1 if none. */
int reference_pick_first(const bool *valid, int K);

#endif
