/* test_dgmg_generate.c: DGMG inference (lib/generate.c's generation with the DGMG decoder config:
 * bidirectional propagation, forward only, open end) at tiny dims with random parameters (ENAS-12
 * vocabulary: the model takes 14 nodes, so graphs at the cap can be replayed).
 *
 *   (a) structure: every generated graph has node 0 input and the edge 0 -> 1, edges from lower to
 *       higher index only, 2 <= n <= max_n; it either ends at its first output (END) node or has
 *       exactly max_n nodes and no output node (no forced END); both happen; forward_only changes
 *       nothing, flags stay 0; bad limits are refused;
 *   (b) determinism (same seed, same graphs; another seed, other sampled graphs, the same argmax
 *       ones) and batch independence: a point decoded alone (given its id) equals the same point in
 *       a batch processed in chunks, and a permuted batch gives the permuted graphs;
 *   (c) consistency with training: each generated graph, replayed through dgmg teacher forcing
 *       (decoder_forward with the DGMG config), gives the same step type logits and edge logits (< 1e-5) as
 *       inference recorded; in argmax mode every type is the teacher-forced argmax and every edge
 *       is present iff its teacher-forced logit is > 0 (and sampling departs from that somewhere).
 * Deterministic (lib/rng.h, fixed seeds, one BLAS thread). Prints "N passed, M failed". */
#include "generate.h"
#include "dgmg.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

void openblas_set_num_threads(int num_threads);

#define NPTS 96
#define DIM 3

static dgmg_model M;
static float C[NPTS * DIM];

static graph *alloc_graphs(size_t n) {
    graph *g = calloc(n, sizeof(graph));
    if (!g) { perror("calloc"); exit(2); }
    return g;
}

/* Structural sanity of a DGMG decoding; *capped: it ended at max_n without END. */
static int sane(const graph *g, int max_n, int *capped) {
    if (g->n < 2 || g->n > max_n) return 0;
    if (g->type[0] != TYPE_INPUT || !graph_has_edge(g, 0, 1)) return 0;
    for (int v = 1; v < g->n - 1; v++)
        if (g->type[v] == TYPE_OUTPUT || g->type[v] >= M.cfg.K) return 0;
    *capped = g->type[g->n - 1] != TYPE_OUTPUT;
    if (*capped && g->n != max_n) return 0;
    for (int u = 0; u < g->n; u++)
        if (g->succ[u] & (uint16_t)((1u << (u + 1)) - 1u)) return 0; // self-loop or backward edge
    for (int u = 0; u < GRAPH_MAX_NODES; u++)
        if (u >= g->n ? g->succ[u] != 0 : (g->succ[u] >> g->n) != 0) return 0;
    return 1;
}

/* ---------------------------------------------------------------- (a) */
static void test_structure(void) {
    generate_ws w, ws;
    CHECK(generate_ws_init(&w, M.dcfg, 16, DGMG_GEN_MAX_NODES) == 0);
    graph *out = alloc_graphs(NPTS), *fo = alloc_graphs(NPTS);
    uint8_t flags[NPTS];
    const int limits[] = {DGMG_GEN_MAX_NODES, 5, 2};
    int ok = 1, same = 1, zero = 1, capped_n = 0, ended = 0;
    for (int li = 0; li < 3; li++)
        for (int mode = 0; mode < 2; mode++) {
            generate_opts o = {limits[li], (generate_mode)mode, false, 7u, false, true};
            memset(flags, 0xff, sizeof flags);
            CHECK(generate_batch(&w, &M.p.dec, C, NPTS, NULL, &o, out, flags) == 0);
            o.forward_only = true;
            CHECK(generate_batch(&w, &M.p.dec, C, NPTS, NULL, &o, fo, NULL) == 0);
            for (int i = 0; i < NPTS; i++) {
                int capped = 0;
                ok &= sane(&out[i], o.max_n, &capped);
                capped_n += capped;
                ended += !capped;
                same &= graph_equal(&out[i], &fo[i]);
                zero &= flags[i] == 0;
            }
        }
    CHECK(ok);
    CHECK(same);
    CHECK(zero);
    CHECK(capped_n > 0); // graphs that reach the cap without END
    CHECK(ended > 0);    // and graphs that end at END
    // the START -> node graph at max_n = 2: two nodes, the edge 0 -> 1
    generate_opts o2 = {2, GENERATE_SAMPLE, false, 1u, false, true};
    CHECK(generate_batch(&w, &M.p.dec, C, 4, NULL, &o2, out, NULL) == 0);
    CHECK(out[0].n == 2 && out[0].succ[0] == 2u && out[3].n == 2);
    // bad options
    generate_opts bad = {DGMG_GEN_MAX_NODES + 1, GENERATE_SAMPLE, false, 1u, false, true};
    CHECK(generate_batch(&w, &M.p.dec, C, 4, NULL, &bad, out, NULL) == -1);
    bad.max_n = 1;
    CHECK(generate_batch(&w, &M.p.dec, C, 4, NULL, &bad, out, NULL) == -1);
    CHECK(generate_ws_init(&ws, M.dcfg, 4, GRAPH_MAX_NODES + 1) == -1);
    free(out);
    free(fo);
    generate_ws_free(&w);
}

/* ---------------------------------------------------------------- (b) */
/* How many of a[0..n-1] differ from b[0..n-1] (reversed: from b[n-1-i]). */
static int count_differ(const graph *a, const graph *b, int n, int reversed) {
    int k = 0;
    for (int i = 0; i < n; i++) k += !graph_equal(&a[i], &b[reversed ? n - 1 - i : i]);
    return k;
}

static void test_determinism(void) {
    generate_ws wb, w1;
    CHECK(generate_ws_init(&wb, M.dcfg, 5, DGMG_GEN_MAX_NODES) == 0); // chunks of 5
    CHECK(generate_ws_init(&w1, M.dcfg, 1, DGMG_GEN_MAX_NODES) == 0);
    graph *a = alloc_graphs(NPTS), *b = alloc_graphs(NPTS);
    for (int mode = 0; mode < 2; mode++) {
        generate_opts o = {DGMG_GEN_MAX_NODES, (generate_mode)mode, false, 12345u, false, true};
        CHECK(generate_batch(&wb, &M.p.dec, C, NPTS, NULL, &o, a, NULL) == 0);
        CHECK(generate_batch(&wb, &M.p.dec, C, NPTS, NULL, &o, b, NULL) == 0);
        CHECK(count_differ(a, b, NPTS, 0) == 0);
        // each point alone, with its id
        for (int i = 0; i < NPTS; i++) {
            const uint64_t id = (uint64_t)i;
            CHECK(generate_batch(&w1, &M.p.dec, C + i * DIM, 1, &id, &o, &b[i], NULL) == 0);
        }
        CHECK(count_differ(a, b, NPTS, 0) == 0);
        // the batch reversed, the ids following the points
        uint64_t ids[NPTS];
        float cp[NPTS * DIM];
        for (int i = 0; i < NPTS; i++) {
            ids[i] = (uint64_t)(NPTS - 1 - i);
            memcpy(cp + i * DIM, C + (NPTS - 1 - i) * DIM, DIM * sizeof(float));
        }
        CHECK(generate_batch(&wb, &M.p.dec, cp, NPTS, ids, &o, b, NULL) == 0);
        CHECK(count_differ(a, b, NPTS, 1) == 0);
        // another seed: other sampled graphs, the same argmax ones
        o.seed = 54321u;
        CHECK(generate_batch(&wb, &M.p.dec, C, NPTS, NULL, &o, b, NULL) == 0);
        const int differ = count_differ(a, b, NPTS, 0);
        CHECK(mode == GENERATE_SAMPLE ? differ > 0 : differ == 0);
    }
    free(a);
    free(b);
    generate_ws_free(&wb);
    generate_ws_free(&w1);
}

/* ---------------------------------------------------------------- (c) */
/* Replay row r's generated graph with latent c under dgmg teacher forcing; the largest absolute
 * difference of the step logits from the trace; *argmax_ok as in test_generate.c. */
static double replay(const generate_ws *w, int r, const float *c, int *argmax_ok) {
    const graph *gen = &w->gen[r];
    double loss, diff = 0.0;
    if (decoder_forward(&M.da, &M.p.dec, gen, c, 1, &loss) != 0) return INFINITY;
    const int K = M.cfg.K, WN = w->max_n;
    int t = 0;
    for (const dec_step *s; t < M.da.dir[0].nsteps && (s = &M.da.dir[0].step[t]); t++) {
        const float *tr = w->trace_types + ((size_t)r * (WN - 1) + t) * K;
        int best = 0;
        for (int k = 0; k < K; k++) {
            diff = fmax(diff, fabs((double)s->logits[k] - tr[k]));
            if (s->logits[k] > s->logits[best]) best = k;
        }
        if (best != gen->type[t + 1]) *argmax_ok = 0;
        if (t == 0) continue;
        const float *te = w->trace_edges + ((size_t)r * (WN - 1) + t) * WN;
        for (int u = 0; u <= t; u++) {
            diff = fmax(diff, fabs((double)s->s[u] - te[u]));
            if ((s->s[u] > 0.0f) != graph_has_edge(gen, u, t + 1)) *argmax_ok = 0;
        }
    }
    return t == gen->n - 1 ? diff : INFINITY;
}

static void test_consistency(void) {
    generate_ws w;
    const int B = 48;
    CHECK(generate_ws_init(&w, M.dcfg, B, DGMG_GEN_MAX_NODES) == 0);
    graph out[48];
    for (int mode = 0; mode < 2; mode++) {
        generate_opts o = {DGMG_GEN_MAX_NODES, (generate_mode)mode, true, 99u, false, true};
        CHECK(generate_batch(&w, &M.p.dec, C, B, NULL, &o, out, NULL) == 0);
        double dmax = 0.0;
        int amax = 1, longest = 0;
        for (int r = 0; r < B; r++) {
            dmax = fmax(dmax, replay(&w, r, C + r * DIM, &amax));
            if (out[r].n > longest) longest = out[r].n;
        }
        printf("mode %d: largest |teacher-forced - inference| logit difference %.3g, longest graph %d\n",
               mode, dmax, longest);
        CHECK(dmax < 1e-5);
        if (mode == GENERATE_ARGMAX) CHECK(amax);
        else CHECK(!amax);
    }
    generate_ws_free(&w);
}

int main(void) {
    openblas_set_num_threads(1);
    vae_config cfg = vae_default_config(SPACE_ENAS12);
    cfg.C2 = 6;
    cfg.D = DIM;
    char err[200];
    if (dgmg_build(&M, &cfg, 1, err, sizeof err)) {
        fprintf(stderr, "dgmg_build: %s\n", err);
        return 2;
    }
    rng_mt r;
    rng_seed(&r, 2024);
    dgmg_init(&M, &r);
    for (int i = 0; i < NPTS * DIM; i++) C[i] = (float)rng_gauss(&r);
    test_structure();
    test_determinism();
    test_consistency();
    dgmg_free(&M);
    return check_summary();
}
