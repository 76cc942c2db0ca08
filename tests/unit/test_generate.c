/* test_generate.c: lib/generate.c, generation (the decoder's inference), at tiny dims with random parameters.
 *
 *   (a) structure: every generated graph (both modes, forward-only and merged, max_n 7, 8 and 2)
 *       has node 0 input, the last node output and no other output, the edge 0 -> 1, edges from
 *       lower to higher index only, 2 <= n <= max_n; the backward pass starts at an output node and
 *       ends at an input node; the forced END at the limit is reached;
 *   (b) determinism (same seed, same graphs; another seed, other graphs) and batch invariance: a
 *       point decoded alone (given its id) equals the same point in a batch processed in chunks;
 *   (c) consistency with training: each generated graph, replayed through the teacher-forced
 *       decoder_forward, gives the same step type logits and edge logits (to float rounding of
 *       the batched matrix products, < 1e-5) as inference recorded
 *       (forward direction on the graph, backward direction on the reversed backward graph); in
 *       argmax mode every unforced type is the teacher-forced argmax and every edge is present iff
 *       its teacher-forced logit is > 0;
 *   (d) the union merge on a hand-made case, the node-count mismatch fallback, forward_only;
 *   (e) the mode (isomorphism-aware, ties by first occurrence, invalid graphs ignored) on
 *       constructed lists, and generate_most_common end to end.
 * Deterministic (lib/rng.h, fixed seeds, one BLAS thread). Prints "N passed, M failed". */
#include "generate.h"
#include "decoder.h"
#include "graph_hash.h"
#include "rng.h"
#include "space.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

void openblas_set_num_threads(int num_threads);

#define NPTS 128 /* random latent points */

static const decoder_config CFG = {5, 6, 3, 2, DEC_PROP_TWO_STREAM, 0}; /* K (NB101 vocabulary), C2, D, layers */
static decoder_params P;
static float *PMEM;
static float C[NPTS * 3];

static void *xmalloc(size_t n) {
    void *p = calloc(n ? n : 1, 1);
    if (!p) { perror("calloc"); exit(2); }
    return p;
}

/* Structural sanity of a decoded (forward or merged) graph. */
static int sane(const graph *g, int max_n) {
    if (g->n < 2 || g->n > max_n) return 0;
    if (g->type[0] != TYPE_INPUT || g->type[g->n - 1] != TYPE_OUTPUT) return 0;
    for (int v = 1; v < g->n - 1; v++)
        if (g->type[v] == TYPE_OUTPUT || g->type[v] >= CFG.K) return 0;
    if (!graph_has_edge(g, 0, 1)) return 0;
    for (int u = 0; u < g->n; u++)
        if (g->succ[u] & (uint16_t)((1u << (u + 1)) - 1u)) return 0;  // self-loop or backward edge
    for (int u = g->n; u < GRAPH_MAX_NODES; u++)
        if (g->succ[u]) return 0;
    for (int u = 0; u < g->n; u++)
        if (g->succ[u] >> g->n) return 0;
    return 1;
}

/* The backward pass's graph, as generated: output first, input last. */
static int sane_bwd(const graph *g, int max_n) {
    if (g->n < 2 || g->n > max_n) return 0;
    if (g->type[0] != TYPE_OUTPUT || g->type[g->n - 1] != TYPE_INPUT) return 0;
    for (int v = 1; v < g->n - 1; v++)
        if (g->type[v] == TYPE_INPUT) return 0;
    for (int u = 0; u < g->n; u++)
        if (g->succ[u] & (uint16_t)((1u << (u + 1)) - 1u)) return 0;
    return graph_has_edge(g, 0, 1);
}

/* ---------------------------------------------------------------- (a) */
static void test_structure(void) {
    generate_ws w;
    CHECK(generate_ws_init(&w, CFG, 16, 8) == 0);
    graph *out = xmalloc(NPTS * sizeof(graph));
    uint8_t flags[NPTS];
    const int limits[] = {7, 8, 2};
    int ok = 1, okb = 1, at_limit = 0, shorter = 0, mismatched = 0, merged_more = 0;
    for (int li = 0; li < 3; li++)
        for (int mode = 0; mode < 2; mode++)
            for (int fo = 0; fo < 2; fo++) {
                generate_opts o = {limits[li], (generate_mode)mode, fo != 0, 7u, false, false};
                for (int b0 = 0; b0 < NPTS; b0 += 16) { // batches of 16 to inspect w.gen per batch
                    CHECK(generate_batch(&w, &P, C + b0 * CFG.D, 16, NULL, &o, out + b0, flags + b0) == 0);
                    for (int r = 0; r < 16; r++) {
                        const graph *g = &out[b0 + r];
                        ok &= sane(g, o.max_n);
                        ok &= sane(&w.gen[r], o.max_n);
                        at_limit += g->n == o.max_n;
                        shorter += g->n < o.max_n;
                        if (fo) {
                            ok &= graph_equal(g, &w.gen[r]) && flags[b0 + r] == 0;
                        } else {
                            okb &= sane_bwd(&w.gen[w.max_b + r], o.max_n);
                            mismatched += flags[b0 + r] == GENERATE_NMISMATCH;
                            merged_more += graph_edge_count(g) > graph_edge_count(&w.gen[r]);
                        }
                    }
                }
            }
    CHECK(ok);
    CHECK(okb);
    CHECK(at_limit > 0);    // the forced END happens
    CHECK(shorter > 0);     // and sampled/argmax ENDs too
    CHECK(mismatched > 0);  // both branches of the merge are exercised on random parameters
    CHECK(merged_more > 0);
    // max_n = 2: the START -> END graph only
    generate_opts o2 = {2, GENERATE_SAMPLE, false, 1u, false, false};
    CHECK(generate_batch(&w, &P, C, 4, NULL, &o2, out, flags) == 0);
    CHECK(out[0].n == 2 && out[0].succ[0] == 2u && out[3].n == 2);
    // bad options
    generate_opts bad = {9, GENERATE_SAMPLE, false, 1u, false, false};
    CHECK(generate_batch(&w, &P, C, 4, NULL, &bad, out, flags) == -1);
    bad.max_n = 1;
    CHECK(generate_batch(&w, &P, C, 4, NULL, &bad, out, flags) == -1);
    generate_ws w2;
    CHECK(generate_ws_init(&w2, CFG, 0, 8) == -1);
    CHECK(generate_ws_init(&w2, CFG, 4, GRAPH_MAX_NODES + 1) == -1);
    free(out);
    generate_ws_free(&w);
}

/* ---------------------------------------------------------------- (b) */
static void test_determinism(void) {
    generate_ws wb, w1;
    CHECK(generate_ws_init(&wb, CFG, 5, 8) == 0); // the batch of NPTS runs in chunks of 5
    CHECK(generate_ws_init(&w1, CFG, 1, 7) == 0);
    graph *a = xmalloc(NPTS * sizeof(graph)), *b = xmalloc(NPTS * sizeof(graph));
    uint8_t fa[NPTS], fb[NPTS];
    for (int mode = 0; mode < 2; mode++) {
        generate_opts o = {7, (generate_mode)mode, false, 12345u, false, false};
        CHECK(generate_batch(&wb, &P, C, NPTS, NULL, &o, a, fa) == 0);
        CHECK(generate_batch(&wb, &P, C, NPTS, NULL, &o, b, fb) == 0);
        int same = 1;
        for (int i = 0; i < NPTS; i++) same &= graph_equal(&a[i], &b[i]) && fa[i] == fb[i];
        CHECK(same);
        // alone, with the point's id
        int alone = 1;
        for (int i = 0; i < NPTS; i++) {
            const uint64_t id = (uint64_t)i;
            graph g;
            uint8_t f;
            CHECK(generate_batch(&w1, &P, C + i * CFG.D, 1, &id, &o, &g, &f) == 0);
            alone &= graph_equal(&g, &a[i]) && f == fa[i];
        }
        CHECK(alone);
        // a batch in another order, with the ids following the points
        uint64_t ids[NPTS];
        float *cp = xmalloc(sizeof C);
        for (int i = 0; i < NPTS; i++) {
            ids[i] = (uint64_t)(NPTS - 1 - i);
            memcpy(cp + i * CFG.D, C + (NPTS - 1 - i) * CFG.D, CFG.D * sizeof(float));
        }
        CHECK(generate_batch(&wb, &P, cp, NPTS, ids, &o, b, fb) == 0);
        int perm = 1;
        for (int i = 0; i < NPTS; i++) perm &= graph_equal(&b[i], &a[NPTS - 1 - i]);
        CHECK(perm);
        free(cp);
        // another seed changes sampled graphs, not argmax ones
        o.seed = 54321u;
        CHECK(generate_batch(&wb, &P, C, NPTS, NULL, &o, b, fb) == 0);
        int differ = 0;
        for (int i = 0; i < NPTS; i++) differ += !graph_equal(&a[i], &b[i]);
        CHECK(mode == GENERATE_SAMPLE ? differ > 0 : differ == 0);
    }
    free(a);
    free(b);
    generate_ws_free(&wb);
    generate_ws_free(&w1);
}

/* ---------------------------------------------------------------- (c) */
/* Replay graph g with latent c under teacher forcing; compare direction d's step logits with the
 * trace of row r. Returns the largest absolute difference; *argmax_ok: every unforced type is the
 * argmax and every edge present iff its logit > 0 (argmax mode). */
static double replay(decoder_acts *acts, const generate_ws *w, int r, int d, const graph *g,
                     const float *c, int max_n, int *argmax_ok) {
    double loss, diff = 0.0;
    const graph *gen = &w->gen[(size_t)d * w->max_b + r];
    graph teach = *g;
    if (decoder_forward(acts, &P, &teach, c, 1, &loss) != 0) return INFINITY;
    const dec_dir *dr = &acts->dir[d];
    if (dr->nsteps != gen->n - 1) return INFINITY;
    const int K = CFG.K, WN = w->max_n;
    for (int t = 0; t < dr->nsteps; t++) {
        const dec_step *s = &dr->step[t];
        const float *tr = w->trace_types + (((size_t)d * w->max_b + r) * (WN - 1) + t) * K;
        int best = 0;
        for (int k = 0; k < K; k++) {
            diff = fmax(diff, fabs((double)s->logits[k] - tr[k]));
            if (s->logits[k] > s->logits[best]) best = k;
        }
        const int forced = t + 1 >= max_n - 1;
        if (!forced && best != gen->type[t + 1]) *argmax_ok = 0;
        if (t == 0) continue;
        const float *te = w->trace_edges + (((size_t)d * w->max_b + r) * (WN - 1) + t) * WN;
        for (int u = 0; u <= t; u++) {
            diff = fmax(diff, fabs((double)s->s[u] - te[u]));
            if ((s->s[u] > 0.0f) != graph_has_edge(gen, u, t + 1)) *argmax_ok = 0;
        }
    }
    return diff;
}

static void test_consistency(void) {
    generate_ws w;
    decoder_acts acts;
    const int B = 40;
    CHECK(generate_ws_init(&w, CFG, B, 7) == 0);
    CHECK(decoder_acts_init(&acts, CFG, 1, 7) == 0);
    graph out[40];
    for (int mode = 0; mode < 2; mode++) {
        generate_opts o = {7, (generate_mode)mode, false, 99u, false, false};
        CHECK(generate_batch(&w, &P, C, B, NULL, &o, out, NULL) == 0);
        double dmax = 0.0;
        int amax = 1, bwd_checked = 0;
        for (int r = 0; r < B; r++) {
            // forward: the forward graph itself; backward: the cell whose reversal was generated
            dmax = fmax(dmax, replay(&acts, &w, r, 0, &w.gen[r], C + r * CFG.D, o.max_n, &amax));
            graph cell;
            graph_reverse(&cell, &w.gen[w.max_b + r]);
            dmax = fmax(dmax, replay(&acts, &w, r, 1, &cell, C + r * CFG.D, o.max_n, &amax));
            bwd_checked++;
        }
        printf("mode %d: largest |teacher-forced - inference| logit difference %.3g\n", mode, dmax);
        CHECK(dmax < 1e-5);
        CHECK(bwd_checked == B);
        if (mode == GENERATE_ARGMAX) CHECK(amax);
        else CHECK(!amax); // sampling departs from the argmax somewhere (the checker can fail)
    }
    decoder_acts_free(&acts);
    generate_ws_free(&w);
}

/* ---------------------------------------------------------------- (d) */
static void test_merge(void) {
    graph f = {0}, bk = {0}, want, got;
    f.n = 5;
    const uint8_t tf[] = {1, 2, 3, 4, 0};
    memcpy(f.type, tf, 5);
    for (int i = 0; i < 4; i++) graph_add_edge(&f, i, i + 1); // A: the chain
    bk.n = 5;
    const uint8_t tb[] = {0, 3, 3, 2, 1}; // types of the backward pass are ignored
    memcpy(bk.type, tb, 5);
    graph_add_edge(&bk, 0, 1); // -> 3->4 (already in A)
    graph_add_edge(&bk, 1, 3); // -> 1->3
    graph_add_edge(&bk, 0, 4); // -> 0->4
    graph_add_edge(&bk, 2, 4); // -> 0->2
    want = f;
    graph_add_edge(&want, 1, 3);
    graph_add_edge(&want, 0, 4);
    graph_add_edge(&want, 0, 2);
    CHECK(generate_merge(&got, &f, &bk) == 0);
    CHECK(graph_equal(&got, &want));
    CHECK(graph_edge_count(&got) == 7);
    // node counts differ: the forward graph, flagged
    bk.n = 4;
    CHECK(generate_merge(&got, &f, &bk) == GENERATE_NMISMATCH);
    CHECK(graph_equal(&got, &f));

    // on the decoder: forward_only gives the merged run's forward graph; merged = merge(fwd, bwd)
    generate_ws w;
    CHECK(generate_ws_init(&w, CFG, 30, 7) == 0);
    graph merged[30], fwd[30], fo[30];
    uint8_t fl[30];
    int ok = 1;
    for (int mode = 0; mode < 2; mode++) {
        generate_opts o = {7, (generate_mode)mode, false, 3u, false, false};
        CHECK(generate_batch(&w, &P, C, 30, NULL, &o, merged, fl) == 0);
        for (int r = 0; r < 30; r++) {
            fwd[r] = w.gen[r];
            graph m;
            const unsigned f2 = generate_merge(&m, &w.gen[r], &w.gen[w.max_b + r]);
            ok &= graph_equal(&m, &merged[r]) && f2 == fl[r];
        }
        o.forward_only = true;
        CHECK(generate_batch(&w, &P, C, 30, NULL, &o, fo, fl) == 0);
        for (int r = 0; r < 30; r++) {
            ok &= graph_equal(&fo[r], &fwd[r]) && fl[r] == 0;
            ok &= fo[r].n == merged[r].n && !memcmp(fo[r].type, merged[r].type, sizeof fo[r].type);
            for (int u = 0; u < fo[r].n; u++) ok &= (fo[r].succ[u] & ~merged[r].succ[u]) == 0;
        }
    }
    CHECK(ok);
    generate_ws_free(&w);
}

/* ---------------------------------------------------------------- (e) */
static graph mk(int n, const uint8_t *t, const int (*e)[2], int ne) {
    graph g = {0};
    g.n = n;
    memcpy(g.type, t, (size_t)n);
    for (int i = 0; i < ne; i++) graph_add_edge(&g, e[i][0], e[i][1]);
    return g;
}

static void test_mode(void) {
    const space_info *sp = space_get(SPACE_NB101);
    const int ea[][2] = {{0, 1}, {1, 2}};
    const int eb[][2] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    const uint8_t ta[] = {1, 4, 0}, tb[] = {1, 2, 3, 0}, tb2[] = {1, 3, 2, 0}, tx[] = {1, 2, 0};
    const graph a = mk(3, ta, ea, 2), b = mk(4, tb, eb, 4), b2 = mk(4, tb2, eb, 4); // b2 ≅ b
    const graph x = mk(3, tx, ea, 1); // the output is unreachable: invalid
    char why[128];
    CHECK(graph_check(sp, &a, why, sizeof why) == 0);
    CHECK(graph_check(sp, &b, why, sizeof why) == 0);
    CHECK(graph_check(sp, &x, why, sizeof why) != 0);
    CHECK(!graph_equal(&b, &b2));
    int cnt = -1;
    // a:2, b:2 (b, b2 isomorphic), tie -> a (first occurrence at 1)
    const graph l1[] = {x, a, b, b2, a, x};
    CHECK(generate_mode_index(sp, l1, 6, &cnt) == 1 && cnt == 2);
    // b:3 by isomorphism (index-wise it would be 2 for b, 1 for b2): the mode is b at 2
    const graph l2[] = {x, a, b, b2, x, b};
    CHECK(generate_mode_index(sp, l2, 6, &cnt) == 2 && cnt == 3);
    // the invalid graph is the most frequent but is ignored
    const graph l3[] = {x, x, x, b2, a, b};
    CHECK(generate_mode_index(sp, l3, 6, &cnt) == 3 && cnt == 2);
    const graph l4[] = {x, x};
    CHECK(generate_mode_index(sp, l4, 2, &cnt) == -1 && cnt == 0);
    CHECK(generate_mode_index(sp, l4, 0, &cnt) == -1);

    // end to end: K = 1 returns the plain decoding (attempt 0), found iff valid
    generate_ws w;
    CHECK(generate_ws_init(&w, CFG, 8, 7) == 0);
    generate_opts o = {7, GENERATE_SAMPLE, false, 77u, false, false};
    graph plain[NPTS], best[NPTS], again[NPTS];
    uint8_t found[NPTS], found2[NPTS];
    CHECK(generate_batch(&w, &P, C, NPTS, NULL, &o, plain, NULL) == 0);
    CHECK(generate_most_common(&w, &P, C, NPTS, NULL, 1, &o, sp, best, found) == 0);
    int ok = 1, nvalid = 0;
    for (int i = 0; i < NPTS; i++) {
        const int valid = graph_check(sp, &plain[i], why, sizeof why) == 0;
        ok &= graph_equal(&best[i], &plain[i]) && found[i] == valid;
        nvalid += valid;
    }
    CHECK(ok);
    CHECK(nvalid > 0);
    // K = 20 (tries in chunks of 8): the result is valid when found, deterministic, and found at
    // least as often as with one try
    const int npt = 30;
    CHECK(generate_most_common(&w, &P, C, npt, NULL, 20, &o, sp, best, found) == 0);
    CHECK(generate_most_common(&w, &P, C, npt, NULL, 20, &o, sp, again, found2) == 0);
    int nf = 0, n1 = 0;
    ok = 1;
    for (int i = 0; i < npt; i++) {
        nf += found[i];
        n1 += graph_check(sp, &plain[i], why, sizeof why) == 0;
        if (found[i]) ok &= graph_check(sp, &best[i], why, sizeof why) == 0;
        ok &= graph_equal(&best[i], &again[i]) && found[i] == found2[i];
    }
    CHECK(ok);
    CHECK(nf >= n1 && nf > 0);
    generate_ws_free(&w);
}

int main(void) {
    openblas_set_num_threads(1);
    const size_t np = decoder_param_count(CFG);
    PMEM = xmalloc(np * sizeof(float));
    decoder_point_params(&P, PMEM, CFG);
    rng_mt r;
    rng_seed(&r, 2021);
    decoder_init(&P, CFG, &r);
    for (int i = 0; i < NPTS * CFG.D; i++) C[i] = (float)rng_gauss(&r);

    test_structure();
    test_determinism();
    test_consistency();
    test_merge();
    test_mode();
    free(PMEM);
    return check_summary();
}
