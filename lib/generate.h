/* generate.h: generation, i.e. the decoder's inference: latent points -> graphs (formats/reference.md
 * §3.3 "Inference", `GNNDecoder.inference`, and `decode_from_latent_space`), with the reference's
 * bugs 1, 2 and 4 of §8 fixed. The decoder model itself (parameters, the step, the teacher-forced
 * loss) is lib/decoder.h; the reference's own merge and pick, kept behind options, are
 * lib/reference_merge.h.
 *
 * Generation of one latent point c (D), one direction (the generator of lib/decoder.h, step by step):
 *   H = [start state of type s]   (s = 1 input going forward, 0 output going backward)
 *   step t = 0, 1, ... with n = t+1 existing nodes:
 *     propagate H over the partial graph (carried states, exactly as under teacher forcing);
 *     type = choice from NodeAdd([h_G ; c]), or the stop type if n = max_n-1 (forced: so at most
 *            max_n nodes);
 *     h_new = NodeInit(type, h_G_init, c); edges u -> n for u = 0..n-1 chosen from the edge scorer
 *            on [h_u ; h_new ; h_G ; c], each graph with ITS OWN h_G and c (bug 1 fixed); the first
 *            generated node (n = 1) always gets the edge 0 -> 1, unscored;
 *     append the node; stop when its type is the stop type: 0 (output) going forward, 1 (input)
 *     going backward. (The reference also stops the backward pass at a sampled 0; here only the
 *     input type ends it, symmetric to the forward pass, which does not stop at a sampled 1.)
 *   The forward pass yields graph F (node 0 input, last node output, n <= max_n, edges from lower
 *   to higher index). The backward pass starts from an output node and yields graph Bk in reversed
 *   order (node i of Bk is node N-1-i of the cell).
 *
 * Choices: GENERATE_SAMPLE draws types from Categorical(softmax(logits)) and every edge from
 * Bernoulli(sigmoid(logit)) (the reference); GENERATE_ARGMAX takes the argmax type (first on ties)
 * and an edge iff sigmoid(logit) > 0.5 (logit > 0).
 *
 * Randomness: every decoding has its own MT19937 stream, seeded with generate_stream_seed(seed, id,
 * attempt), where id is the caller's index of the latent point (by default its index in the
 * batch) and attempt the try number (0 for generate_batch). The stream is consumed forward pass
 * first (a type draw per unforced step, then one draw per scored candidate edge), then the
 * backward pass, so the forward graph does not depend on forward_only. A point therefore decodes
 * to the same graph alone or in any batch, given its id: nothing of another point enters its
 * computation. The batch only changes the row count of the matrix products, which may change the
 * float rounding of its logits (~1e-7 relative, BLAS-dependent); a graph can then differ only if a
 * uniform draw falls within that rounding of a threshold (the tests find no such case).
 *
 * Merge (bug 2 fixed: a real set union): types from F; edges = edges of F ∪ { (N-1-v) -> (N-1-u) :
 * u -> v in Bk } when both passes produced the same node count N. When they did not, node indices
 * cannot be aligned: the output is F unchanged and the decoding is flagged GENERATE_NMISMATCH.
 * forward_only skips the backward pass (output = F, never flagged).
 *
 * The generation is generic over the decoder's propagation (lib/decoder.h, decoder_config.prop):
 * the DGMG baseline (lib/dgmg.h) decodes with the same code, its config's forward_only making it
 * forward only (no backward pass, no merge, never flagged), and with open_end set as the
 * reference's DGMG has no forced END: a graph ends at its first END type or when it has max_n
 * nodes (callers pass its cap, DGMG_GEN_MAX_NODES); a graph that reaches the cap without END is
 * returned as generated (its last node is not an output: invalid in every space). */
#ifndef SVGE_GENERATE_H
#define SVGE_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoder.h"
#include "digest_map.h"
#include "graph.h"
#include "rng.h"
#include "space.h"

typedef enum { GENERATE_SAMPLE = 0, GENERATE_ARGMAX = 1 } generate_mode;

typedef struct {
    int max_n;         /* node limit, 2 .. the workspace's max_n: 7 (NB101) or 8 (NB201, ENAS6) */
    generate_mode mode;
    bool forward_only; /* no backward pass, no merge (implied by a forward_only decoder config) */
    uint32_t seed;     /* GENERATE_SAMPLE: the base of every decoding's stream */
    bool reference_merge; /* merge as the reference does (bug 2 kept; lib/reference_merge.h), not by union */
    bool open_end;     /* no forced stop type at max_n-1 nodes: a graph also ends at max_n (DGMG) */
} generate_opts;

#define GENERATE_NMISMATCH 1u /* flag: forward and backward node counts differ; output = forward graph */

/* Workspace for up to max_b simultaneous decodings of up to max_n nodes (buffers in decode.c). */
typedef struct {
    decoder_config cfg;
    int max_b, max_n;
    float *mem;              /* one step's activations (decoder_step_carve) */
    float *H;                /* (max_b, max_n, C2) carried node states per row */
    float *cs, *crow;        /* (max_b, D): c of the active rows; c per row (most-common) */
    float *xs, *zs;          /* (max_b, C2+D) start-node scratch */
    int *act, *types, *offsets; /* (max_b), (max_b), (max_b+1) */
    uint16_t *pred, *succ;   /* (max_b*max_n) */
    uint32_t *seeds;         /* (max_b) */
    rng_mt *rng;             /* (max_b) */
    /* Results and trace of the last batch of rows (generate_batch: row r = point r when B <= max_b):
     * gen[d*max_b + r] = the graph generated in direction d (0 forward, 1 backward, as generated,
     * i.e. reversed); logits of step t: trace_types + ((d*max_b + r)*(max_n-1) + t)*K (K floats),
     * edge logits u -> t+1 of step t >= 1: trace_edges + ((d*max_b + r)*(max_n-1) + t)*max_n + u. */
    graph *gen;
    float *trace_types, *trace_edges;
    mpass_foldset fold;     /* folded propagation weights of the last p decoded with */
    float *fold_mem;
} generate_ws;

/* 0, or -1 (bad sizes: max_b >= 1, 2 <= max_n <= GRAPH_MAX_NODES, K >= 2, C2 even; or no memory). */
int generate_ws_init(generate_ws *w, decoder_config cfg, int max_b, int max_n);
void generate_ws_free(generate_ws *w);

/* The seed of the stream of decoding `attempt` of latent point `id` (splitmix64 mixing). */
uint32_t generate_stream_seed(uint32_t seed, uint64_t id, uint32_t attempt);

/* Decode B latent points c (B,D) (any B: processed max_b at a time) into out (B); flags (B) or NULL
 * receives GENERATE_NMISMATCH bits; ids (B) are the points' stream ids, NULL for 0..B-1.
 * Returns 0, or -1 on bad options (max_n out of range). */
int generate_batch(generate_ws *w, const decoder_params *p, const float *c, int B, const uint64_t *ids,
                 const generate_opts *o, graph *out, uint8_t *flags);

/* The merge above: out = fwd with the edges of bwd mapped back by i -> N-1-i added, and 0; or
 * out = fwd and GENERATE_NMISMATCH if the node counts differ. */
unsigned generate_merge(graph *out, const graph *fwd, const graph *bwd);

/* Index in gs (count) of the most common valid graph (graph_check in sp), graphs compared by
 * graph_key (isomorphism-aware; NB101 pruned first), ties broken by first occurrence; its number of
 * occurrences in *mode_count (may be NULL). -1 if none is valid (bug 4 fixed: the true mode, not
 * the first valid decoding). */
int generate_mode_index(const space_info *sp, const graph *gs, int count, int *mode_count);
/* The same among the valid graphs whose graph_key is not in except (may be NULL): the most common
 * decoding that is new (svge-decode --exclude, --distinct). */
int generate_mode_index_except(const space_info *sp, const graph *gs, int count, const digest_map *except,
                               int *mode_count);

/* "Most common valid decoding out of K tries" (decode_from_latent_space): decode each of the B
 * points K times (attempts 0..K-1 of its stream; GENERATE_SAMPLE makes sense, GENERATE_ARGMAX gives
 * K equal tries) and keep the mode of the valid ones (generate_mode_index) in
 * out[b], found[b] = 1.
 * If no try is valid, out[b] = the first try and found[b] = 0. found (B) may be NULL.
 * Returns 0, or -1 on bad options or no memory. */
int generate_most_common(generate_ws *w, const decoder_params *p, const float *c, int B,
                       const uint64_t *ids, int K, const generate_opts *o, const space_info *sp,
                       graph *out, uint8_t *found);

#endif
