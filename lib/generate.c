/* generate.c: generation from latent points (the decoder's inference); see generate.h. */
#include "generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference_merge.h"
#include "graph_hash.h"

int generate_ws_init(generate_ws *w, decoder_config cfg, int max_b, int max_n) {
    memset(w, 0, sizeof *w);
    if (max_b < 1 || max_n < 2 || max_n > GRAPH_MAX_NODES || cfg.K < 2 || cfg.C2 < 2 || cfg.C2 % 2 ||
        cfg.D < 1 || cfg.L < 1 || cfg.L > DEC_MAX_LAYERS ||
        (cfg.prop != DEC_PROP_TWO_STREAM && cfg.prop != DEC_PROP_BIDIR))
        return -1;
    w->cfg = cfg;
    w->max_b = max_b;
    w->max_n = max_n;
    size_t arena = 0;
    for (int n = 1; n < max_n; n++) { // the largest step: A = max_b graphs of max_n-1 nodes
        size_t s = decoder_step_size(cfg, max_b, n);
        if (s > arena) arena = s;
    }
    const size_t Bz = (size_t)max_b, BN = Bz * (size_t)max_n, C2 = (size_t)cfg.C2, D = (size_t)cfg.D;
    const size_t steps = (size_t)max_n - 1;
    w->mem = malloc(arena * sizeof(float));
    w->H = malloc(BN * C2 * sizeof(float));
    w->cs = malloc(2 * Bz * D * sizeof(float));
    w->xs = malloc(2 * Bz * (C2 + D) * sizeof(float));
    w->act = malloc((3 * Bz + 1) * sizeof(int));
    w->pred = malloc(2 * BN * sizeof(uint16_t));
    w->seeds = malloc(Bz * sizeof(uint32_t));
    w->rng = malloc(Bz * sizeof(rng_mt));
    w->gen = malloc(2 * Bz * sizeof(graph));
    w->trace_types = malloc(2 * Bz * steps * (size_t)cfg.K * sizeof(float));
    w->trace_edges = malloc(2 * Bz * steps * (size_t)max_n * sizeof(float));
    w->fold_mem = malloc((decoder_fold_floats(cfg) + 1) * sizeof(float));
    if (!w->mem || !w->H || !w->cs || !w->xs || !w->act || !w->pred || !w->seeds || !w->rng ||
        !w->gen || !w->trace_types || !w->trace_edges || !w->fold_mem) {
        generate_ws_free(w);
        return -1;
    }
    w->crow = w->cs + Bz * D;
    w->zs = w->xs + Bz * (C2 + D);
    w->types = w->act + Bz;
    w->offsets = w->types + Bz;
    w->succ = w->pred + BN;
    decoder_fold_point(&w->fold, w->fold_mem, cfg);
    return 0;
}

void generate_ws_free(generate_ws *w) {
    free(w->mem);
    free(w->H);
    free(w->cs);
    free(w->xs);
    free(w->act);
    free(w->pred);
    free(w->seeds);
    free(w->rng);
    free(w->gen);
    free(w->trace_types);
    free(w->trace_edges);
    free(w->fold_mem);
    memset(w, 0, sizeof *w);
}

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint32_t generate_stream_seed(uint32_t seed, uint64_t id, uint32_t attempt) {
    uint64_t h = splitmix64(seed);
    h = splitmix64(h ^ id);
    h = splitmix64(h ^ attempt);
    return (uint32_t)(h >> 32);
}

/* The chosen type from logits (K): the argmax (first on ties), or a draw from softmax. */
static int choose_type(const float *logits, int K, generate_mode mode, rng_mt *r) {
    int best = 0;
    for (int k = 1; k < K; k++)
        if (logits[k] > logits[best]) best = k;
    if (mode == GENERATE_ARGMAX) return best;
    double e[64], *pe = e, sum = 0.0;
    double *heap = K > 64 ? malloc((size_t)K * sizeof(double)) : NULL;
    if (heap) pe = heap;
    else if (K > 64) return best; // no memory for a huge vocabulary: degrade to the argmax
    for (int k = 0; k < K; k++) sum += pe[k] = exp((double)logits[k] - (double)logits[best]);
    const double u = rng_double(r) * sum;
    double cum = 0.0;
    int pick = -1, last = best;
    for (int k = 0; k < K; k++) {
        if (pe[k] > 0.0) last = k;
        cum += pe[k];
        if (u < cum) { pick = k; break; }
    }
    free(heap);
    return pick >= 0 ? pick : last; // rounding at the top end: the last type of non-zero probability
}

/* Whether to add a candidate edge of logit x. */
static bool choose_edge(float x, generate_mode mode, rng_mt *r) {
    if (mode == GENERATE_ARGMAX) return x > 0.0f;
    const double p = 1.0 / (1.0 + exp(-(double)x));
    return rng_double(r) < p;
}

/* One direction d for rows 0..R-1 of the workspace (c of row r at w->crow + r*D, stream w->rng[r]):
 * fills w->gen[d*max_b + r] and the trace. */
static void generate(generate_ws *w, const decoder_params *p, int R, int d, const generate_opts *o) {
    const decoder_config cfg = w->cfg;
    const int C2 = cfg.C2, D = cfg.D, K = cfg.K, MB = w->max_b, WN = w->max_n, max_n = o->max_n;
    const int st = d == 0 ? DEC_START_FWD : DEC_START_BWD, stop = d == 0 ? DEC_START_BWD : DEC_START_FWD;
    graph *gen = w->gen + (size_t)d * MB;
    for (int r = 0; r < R; r++) {
        memset(&gen[r], 0, sizeof gen[r]);
        gen[r].n = 1;
        gen[r].type[0] = (uint8_t)st;
        w->act[r] = r;
    }
    int A = R;
    dec_step s;
    for (int t = 0; A > 0; t++) {
        const int n = t + 1; // existing nodes of every active graph
        decoder_step_carve(&s, w->mem, cfg, A, n);
        for (int i = 0; i < A; i++)
            memcpy(w->cs + (size_t)i * D, w->crow + (size_t)w->act[i] * D, (size_t)D * sizeof(float));
        if (t == 0) {
            decoder_start_state(s.hin, w->xs, w->zs, p, cfg, st, w->cs, A);
        } else {
            for (int i = 0; i < A; i++)
                memcpy(s.hin + (size_t)i * n * C2, w->H + (size_t)w->act[i] * WN * C2,
                       (size_t)n * C2 * sizeof(float));
            const uint16_t keep = (uint16_t)((1u << n) - 1u);
            for (int i = 0; i < A; i++) {
                const graph *g = &gen[w->act[i]];
                w->offsets[i] = i * n;
                for (int v = 0; v < n; v++) {
                    w->pred[i * n + v] = graph_pred(g, v) & keep;
                    w->succ[i * n + v] = g->succ[v] & keep;
                }
            }
            w->offsets[A] = A * n;
        }
        decoder_step_logits(&s, p, &w->fold, cfg, w->cs, w->pred, w->succ, w->offsets);
        const bool forced = !o->open_end && n >= max_n - 1;
        for (int i = 0; i < A; i++) {
            const int r = w->act[i];
            const float *lg = s.logits + (size_t)i * K;
            memcpy(w->trace_types + (((size_t)d * MB + r) * (WN - 1) + t) * K, lg, (size_t)K * sizeof(float));
            w->types[i] = forced ? stop : choose_type(lg, K, o->mode, &w->rng[r]);
        }
        decoder_step_node(&s, p, cfg, w->types, w->cs);
        int kept = 0;
        for (int i = 0; i < A; i++) {
            const int r = w->act[i];
            graph *g = &gen[r];
            g->type[n] = (uint8_t)w->types[i];
            g->n = n + 1;
            if (n == 1) {
                graph_add_edge(g, 0, 1);
            } else {
                float *te = w->trace_edges + (((size_t)d * MB + r) * (WN - 1) + t) * WN;
                for (int u = 0; u < n; u++) {
                    const float x = s.s[i * n + u];
                    te[u] = x;
                    if (choose_edge(x, o->mode, &w->rng[r])) graph_add_edge(g, u, n);
                }
            }
            if (w->types[i] == stop || g->n == max_n) continue; // finished: states no longer needed
            // carry: H = [propagated states ; h_new]
            float *h = w->H + (size_t)r * WN * C2;
            memcpy(h, s.hprop + (size_t)i * n * C2, (size_t)n * C2 * sizeof(float));
            memcpy(h + (size_t)n * C2, s.hnew + (size_t)i * C2, (size_t)C2 * sizeof(float));
            w->act[kept++] = r;
        }
        A = kept;
    }
}

unsigned generate_merge(graph *out, const graph *fwd, const graph *bwd) {
    graph m = *fwd;
    if (bwd->n != fwd->n) {
        *out = m;
        return GENERATE_NMISMATCH;
    }
    const int N = fwd->n;
    for (int u = 0; u < N; u++)
        for (int v = 0; v < N; v++)
            if (graph_has_edge(bwd, u, v)) graph_add_edge(&m, N - 1 - v, N - 1 - u);
    *out = m;
    return 0;
}

/* Decode R rows (c in w->crow, seeds in w->seeds) into out (R), flags (R) or NULL. */
static void decode_rows(generate_ws *w, const decoder_params *p, int R, const generate_opts *o, graph *out,
                        uint8_t *flags) {
    const bool fwd_only = o->forward_only || w->cfg.forward_only;
    if (o->mode == GENERATE_SAMPLE)
        for (int r = 0; r < R; r++) rng_seed(&w->rng[r], w->seeds[r]);
    decoder_fold_update(&w->fold, p);
    generate(w, p, R, 0, o);
    if (!fwd_only) generate(w, p, R, 1, o);
    for (int r = 0; r < R; r++) {
        unsigned f = 0;
        if (fwd_only) out[r] = w->gen[r];
        else if (o->reference_merge) reference_merge(&out[r], &w->gen[r], &w->gen[w->max_b + r]);
        else f = generate_merge(&out[r], &w->gen[r], &w->gen[w->max_b + r]);
        if (flags) flags[r] = (uint8_t)f;
    }
}

static int opts_ok(const generate_ws *w, const generate_opts *o) {
    return o && o->max_n >= 2 && o->max_n <= w->max_n && (o->mode == GENERATE_SAMPLE || o->mode == GENERATE_ARGMAX);
}

int generate_batch(generate_ws *w, const decoder_params *p, const float *c, int B, const uint64_t *ids,
                 const generate_opts *o, graph *out, uint8_t *flags) {
    if (!opts_ok(w, o) || B < 0) return -1;
    const int D = w->cfg.D;
    for (int b0 = 0; b0 < B; b0 += w->max_b) {
        const int R = B - b0 < w->max_b ? B - b0 : w->max_b;
        memcpy(w->crow, c + (size_t)b0 * D, (size_t)R * D * sizeof(float));
        for (int r = 0; r < R; r++)
            w->seeds[r] = generate_stream_seed(o->seed, ids ? ids[b0 + r] : (uint64_t)(b0 + r), 0);
        decode_rows(w, p, R, o, out + b0, flags ? flags + b0 : NULL);
    }
    return 0;
}

int generate_mode_index(const space_info *sp, const graph *gs, int count, int *mode_count) {
    return generate_mode_index_except(sp, gs, count, NULL, mode_count);
}

int generate_mode_index_except(const space_info *sp, const graph *gs, int count, const digest_map *except,
                               int *mode_count) {
    uint8_t(*key)[16] = malloc(((size_t)count + 1) * sizeof *key);
    bool *ok = malloc(((size_t)count + 1) * sizeof *ok);
    int best = -1, best_count = 0;
    if (!key || !ok) goto done; // reported as "none valid"
    char why[160];
    for (int i = 0; i < count; i++)
        ok[i] = graph_check(sp, &gs[i], why, sizeof why) == 0 && graph_key(sp, &gs[i], key[i]) == 0 &&
                !(except && dmap_get(except, key[i]));
    for (int i = 0; i < count; i++) {
        if (!ok[i]) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = ok[j] && !memcmp(key[j], key[i], 16);
        if (seen) continue; // counted at its first occurrence
        int k = 1;
        for (int j = i + 1; j < count; j++) k += ok[j] && !memcmp(key[j], key[i], 16);
        if (k > best_count) { // strict: ties keep the earlier first occurrence
            best = i;
            best_count = k;
        }
    }
done:
    free(key);
    free(ok);
    if (mode_count) *mode_count = best_count;
    return best;
}

int generate_most_common(generate_ws *w, const decoder_params *p, const float *c, int B,
                       const uint64_t *ids, int K, const generate_opts *o, const space_info *sp,
                       graph *out, uint8_t *found) {
    if (!opts_ok(w, o) || B < 0 || K < 1 || !sp) return -1;
    graph *tries = malloc((size_t)K * sizeof(graph));
    if (!tries) return -1;
    const int D = w->cfg.D;
    for (int b = 0; b < B; b++) {
        const uint64_t id = ids ? ids[b] : (uint64_t)b;
        for (int k0 = 0; k0 < K; k0 += w->max_b) { // the tries of one point, max_b at a time
            const int R = K - k0 < w->max_b ? K - k0 : w->max_b;
            for (int r = 0; r < R; r++) {
                memcpy(w->crow + (size_t)r * D, c + (size_t)b * D, (size_t)D * sizeof(float));
                w->seeds[r] = generate_stream_seed(o->seed, id, (uint32_t)(k0 + r));
            }
            decode_rows(w, p, R, o, tries + k0, NULL);
        }
        const int m = generate_mode_index(sp, tries, K, NULL);
        out[b] = tries[m >= 0 ? m : 0];
        if (found) found[b] = m >= 0;
    }
    free(tries);
    return 0;
}
