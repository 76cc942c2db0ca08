/* test_enasnet.c: lib/enasnet.c (ENAS macro networks on lib/cellnet).
 *
 *  - the parameter count of a known ENAS-6 architecture (the first line of D-VAE's
 *    final_structures6.txt) at D-VAE's final-training size (F 96, fixed-arc layers), worked out by
 *    hand below, equals enasnet_param_count and the built network's cellnet_param_count;
 *  - the formula equals the built network for the first 200 real ENAS-6 architectures in both modes
 *    and with real separable convolutions; ENAS's own count (all reductions) is never smaller;
 *  - pool layers as ENAS computes them (6 layers: 1 and 3; 12 layers: 3 and 7);
 *  - finite-difference gradient checks (tests/unit/cellnet_gradcheck.h: kink-aware, see there) of
 *    tiny ENAS-6 networks (F 4, 8x8 images, batch 4) of a real record that uses all six
 *    operations, in both modes and with real separable convs; the checker catches a 10% error;
 *  - against PyTorch (bench/enas_torch.py, fixtures in tests/fixtures/cellnet): logits, loss, every
 *    gradient and the BN statistics of tiny ENAS-6 networks in both modes, same weights;
 *  - a tiny ENAS-12 network builds, runs and has finite logits;
 *  - bad graphs and configurations are refused with a message.
 * Usage: test_enasnet [FIXTURE_DIR] (default tests/fixtures/cellnet). Prints "N passed, M failed". */
#include "bench_parse.h"
#include "enasnet.h"
#include "native.h"
#include "rng.h"
#include "space.h"
#include "textin.h"

#include "check.h"
#include "cellnet_gradcheck.h"
#include "cnfx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads);

/* First line of D-VAE's final_structures6.txt: layer ops 1 4 5 0 2 3 (sep3 avg3 max3 conv3 conv5
 * sep5: all six), skips: layer 3 from nodes 0,1,2; layer 4 from 0..3; layer 5 from node 4. */
static const char *ARCH1 = "[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]";

static graph enas_graph(const char *s, int layers) {
    graph g;
    char why[200];
    if (enas_from_list(s, strlen(s), layers, &g, why, sizeof why) != 0) {
        fprintf(stderr, "enas_from_list: %s\n", why);
        exit(2);
    }
    return g;
}

static size_t built_count(const graph *g, const enasnet_config *cfg) {
    char why[256];
    cellnet *net = enasnet_build(g, cfg, why, sizeof why);
    if (!net) {
        fprintf(stderr, "enasnet_build: %s\n", why);
        return 0;
    }
    size_t n = cellnet_param_count(net);
    cellnet_free(net);
    return n;
}

static void test_pool_layers(void) {
    int p[2];
    enasnet_pool_layers(6, p);
    CHECK(p[0] == 1 && p[1] == 3);
    enasnet_pool_layers(12, p);
    CHECK(p[0] == 3 && p[1] == 7);
}

/* ARCH1, fixed-arc layers, F = 96 (stages 96, 192, 384), sep as plain conv (ENAS):
 *   stem        27*96 + 2*96                                          =     2,784
 *   L0 sep3     96*96+192 (1x1+BN) + 9*96*96+192 (3x3+BN)             =    92,544
 *   L1 avg3     skip part, no skip bits: 1*96*96 + 192                 =     9,408
 *   reduce      3 tensors (stem, L0, L1; all read later): 3*(96*192 + 2*192) = 56,448
 *   L2 max3     skip part: 192*192 + 384                               =    37,248
 *   L3 conv3    37,248 + (9*192*192 + 384) + skip 3 bits: (4*192*192 + 384) = 517,248
 *   reduce      5 tensors (all read by L4): 5*(192*384 + 2*384)        =   372,480
 *   L4 conv5    (384*384+768) + (25*384*384+768) + skip 4: (5*384*384+768) = 4,573,440
 *   L5 sep5     148,224 + 3,687,168 + skip 1: (2*384*384 + 768)       = 4,131,072
 *   fc          384*10, no bias                                        =     3,840
 *   total                                                               = 9,796,512 */
static void test_param_count_known(void) {
    graph g = enas_graph(ARCH1, 6);
    enasnet_config cfg = enasnet_default_config();
    size_t enas = 0, n = enasnet_param_count(&g, &cfg, &enas);
    CHECK(n == 9796512);
    CHECK(enas == 9796512);
    CHECK(built_count(&g, &cfg) == 9796512);
    // real separable convs in L0 and L5: 3x3: 9*96 + 96*96 + 192 instead of 9*96*96 + 192; 5x5 likewise
    cfg.separable = 1;
    size_t sep = 9796512 - (9 * 96 * 96) + (9 * 96 + 96 * 96) - (25 * 384 * 384) + (25 * 384 + 384 * 384);
    CHECK(enasnet_param_count(&g, &cfg, NULL) == sep);
    CHECK(built_count(&g, &cfg) == sep);
}

/* The first max architectures of the shipped D-VAE file (data/enas6/final_structures6.txt.zst). */
static int read_enas6(graph *gs, int max) {
    text_reader *t = tr_open(bench_default_file(space_get(SPACE_ENAS6)));
    int n = 0;
    size_t len;
    char *line, why[200];
    while (n < max && (line = tr_line(t, &len)) != NULL) {
        char *end = strstr(line, "]]"); // "[[op], [op, s0], ...], accuracy"
        if (end && enas_from_list(line, (size_t)(end + 2 - line), 6, &gs[n], why, sizeof why) == 0) n++;
    }
    tr_close(t);
    return n;
}

static void test_param_count_formula(void) {
    enum { N = 200 };
    static graph gs[N];
    int n = read_enas6(gs, N);
    CHECK(n == N);
    int ok[3] = {0, 0, 0}, enas_ok = 0, some_unread = 0;
    for (int i = 0; i < n; i++)
        for (int m = 0; m < 3; m++) {
            enasnet_config cfg = enasnet_default_config();
            cfg.out_filters = 12;
            cfg.mode = m == 2 ? ENASNET_SHARED : ENASNET_FIXED;
            cfg.separable = m == 1;
            size_t enas, f = enasnet_param_count(&gs[i], &cfg, &enas);
            ok[m] += f > 0 && f == built_count(&gs[i], &cfg);
            enas_ok += enas >= f;
            some_unread += enas > f;
        }
    CHECK(ok[0] == n);
    CHECK(ok[1] == n);
    CHECK(ok[2] == n);
    CHECK(enas_ok == 3 * n);
    CHECK(some_unread > 0); // some architectures never read some reduced tensors
}

static void gradcheck_enas(const graph *g, enasnet_mode mode, int separable, const char *name) {
    const int B = 4, S = 8;
    enasnet_config cfg = {.out_filters = 4, .mode = mode, .separable = separable, .classes = 10, .side = S};
    char why[256];
    cellnet *net = enasnet_build(g, &cfg, why, sizeof why);
    CHECK(net != NULL);
    if (!net) {
        fprintf(stderr, "%s: %s\n", name, why);
        return;
    }
    CHECK(cellnet_compile(net, B, why, sizeof why) == 0);
    rng_mt r;
    rng_seed(&r, 3);
    cellnet_init_params(net, &r);
    for (size_t k = 0; k < net->n_params; k++) net->params[k] += (float)(0.1 * (rng_double(&r) - 0.5));
    float *x = malloc((size_t)B * 3 * S * S * sizeof(float));
    for (size_t k = 0; k < (size_t)B * 3 * S * S; k++) x[k] = (float)rng_gauss(&r);
    int y[4] = {1, 7, 3, 1};
    CHECK(cellnet_param_count(net) == enasnet_param_count(g, &cfg, NULL));
    cn_gradcheck_sample(net, x, y, B, 12, name);
    cn_gradcheck_directions(net, x, y, B, name);
    if (mode == ENASNET_FIXED && !separable) {
        // the checker rejects a gradient 10% off in one element: the fc weight (never at a kink)
        // with the largest gradient among those it samples (stride p_len / 12 + 1)
        const cellnet_node *fc = &net->node[net->output];
        float *g0 = cn_gc_analytic(net, x, y, B);
        size_t step = fc->p_len / 12 + 1, best = fc->p_off;
        for (size_t k = 0; k < fc->p_len; k += step)
            if (fabsf(g0[fc->p_off + k]) > fabsf(g0[best])) best = fc->p_off + k;
        free(g0);
        cn_gc_quiet = 1;
        cn_gc_tamper_at = (long)best;
        cn_gc_tamper_by = 1.1f;
        int caught = !cn_gradcheck_sample(net, x, y, B, 12, name);
        cn_gc_tamper_at = -1;
        cn_gc_quiet = 0;
        check(caught, __LINE__, "the element checker rejects a gradient 10% off");
    }
    // evaluation mode runs and gives finite logits
    const float *lg = cellnet_forward(net, x, B, 0);
    int finite = 1;
    for (int k = 0; k < B * 10; k++) finite &= isfinite(lg[k]) != 0;
    CHECK(finite);
    free(x);
    cellnet_free(net);
}

static void test_gradcheck(void) {
    graph g = enas_graph(ARCH1, 6);
    gradcheck_enas(&g, ENASNET_FIXED, 0, "enas6 fixed");
    gradcheck_enas(&g, ENASNET_FIXED, 1, "enas6 fixed separable");
    gradcheck_enas(&g, ENASNET_SHARED, 1, "enas6 shared");
}

/* Against PyTorch (tests/fixtures/cellnet/enas6_*.cnfx from bench/enas_torch.py, an independent
 * PyTorch reading of the same ENAS source): same weights and BN statistics in cellnet's parameter
 * order, then evaluation logits, training logits, loss, every gradient, the statistics after. */
static void test_vs_torch(const char *dir, const char *file, enasnet_mode mode, int separable) {
    char path[1024], what[200];
    snprintf(path, sizeof path, "%s/%s.cnfx", dir, file);
    cnfx_file f;
    if (cnfx_load(&f, path) != 0) {
        check(0, __LINE__, "ENAS fixture loads");
        return;
    }
    const cnfx_tensor *x = cnfx_get(&f, "input"), *y = cnfx_get(&f, "labels"), *p = cnfx_get(&f, "params");
    const cnfx_tensor *st = cnfx_get(&f, "bn_stats"), *le = cnfx_get(&f, "logits_eval");
    const cnfx_tensor *lt = cnfx_get(&f, "logits_train"), *loss = cnfx_get(&f, "loss_train");
    const cnfx_tensor *gr = cnfx_get(&f, "grads"), *after = cnfx_get(&f, "bn_stats_after");
    CHECK(x && y && p && st && le && lt && loss && gr && after);
    if (!(x && y && p && st && le && lt && loss && gr && after)) {
        cnfx_free(&f);
        return;
    }
    const int B = (int)x->dims[0];
    graph g = enas_graph(ARCH1, 6);
    enasnet_config cfg = {.out_filters = 2, .mode = mode, .separable = separable, .classes = 10, .side = (int)x->dims[2]};
    char why[256];
    cellnet *net = enasnet_build(&g, &cfg, why, sizeof why);
    CHECK(net && cellnet_compile(net, B, why, sizeof why) == 0);
    snprintf(what, sizeof what, "%s: %zu parameters and %zu BN statistics, PyTorch %zu and %zu", file,
             net ? net->n_params : 0, net ? net->n_buffers : 0, p->n, st->n);
    int sizes = net && net->n_params == p->n && net->n_buffers == st->n;
    check(sizes, __LINE__, what);
    if (sizes) {
        memcpy(net->params, p->f, p->n * sizeof(float));
        memcpy(net->buffers, st->f, st->n * sizeof(float));
        snprintf(what, sizeof what, "%s: evaluation logits as PyTorch's", file);
        check(cnfx_close(what, cellnet_forward(net, x->f, B, 0), le->f, le->n), __LINE__, what);
        snprintf(what, sizeof what, "%s: training logits as PyTorch's", file);
        check(cnfx_close(what, cellnet_forward(net, x->f, B, 1), lt->f, lt->n), __LINE__, what);
        double L = cellnet_loss(net, y->i);
        snprintf(what, sizeof what, "%s: loss %.7g, PyTorch %.7g", file, L, (double)loss->f[0]);
        check(fabs(L - loss->f[0]) <= 1e-5 * (1 + fabs(loss->f[0])), __LINE__, what);
        cellnet_zero_grad(net);
        cellnet_backward(net, y->i, 1.0f);
        snprintf(what, sizeof what, "%s: every gradient as PyTorch's", file);
        check(cnfx_close(what, net->grads, gr->f, gr->n), __LINE__, what);
        snprintf(what, sizeof what, "%s: BN statistics after the training forward as PyTorch's", file);
        check(cnfx_close(what, net->buffers, after->f, after->n), __LINE__, what);
    }
    cellnet_free(net);
    cnfx_free(&f);
}

static void test_enas12(void) {
    // 12 layers: every op, some skips (node j -> layer i+1)
    const char *s = "[[0], [1, 1], [2, 0, 1], [3, 1, 0, 0], [4, 0, 0, 1, 0], [5, 1, 1, 1, 1, 1], "
                    "[0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 1], [2, 0, 1, 0, 1, 0, 1, 0, 1], "
                    "[3, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "
                    "[5, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]]";
    graph g = enas_graph(s, 12);
    char why[256];
    const space_info *sp = space_get(SPACE_ENAS12);
    CHECK(graph_check(sp, &g, why, sizeof why) == 0);
    for (int m = 0; m < 2; m++) {
        enasnet_config cfg = {.out_filters = 4, .mode = m ? ENASNET_SHARED : ENASNET_FIXED, .classes = 10, .side = 8};
        cellnet *net = enasnet_build(&g, &cfg, why, sizeof why);
        CHECK(net != NULL);
        if (!net) continue;
        CHECK(cellnet_param_count(net) == enasnet_param_count(&g, &cfg, NULL));
        CHECK(cellnet_compile(net, 2, why, sizeof why) == 0);
        rng_mt r;
        rng_seed(&r, 5);
        cellnet_init_params(net, &r);
        float x[2 * 3 * 8 * 8];
        for (size_t k = 0; k < sizeof x / sizeof *x; k++) x[k] = (float)rng_gauss(&r);
        const float *lg = cellnet_forward(net, x, 2, 1);
        int finite = 1;
        for (int k = 0; k < 20; k++) finite &= isfinite(lg[k]) != 0;
        CHECK(finite);
        int y[2] = {0, 9};
        CHECK(isfinite(cellnet_loss(net, y)));
        cellnet_zero_grad(net);
        cellnet_backward(net, y, 1.0f);
        cellnet_free(net);
    }
}

static void test_errors(void) {
    char why[256] = "";
    graph g = enas_graph(ARCH1, 6);
    enasnet_config cfg = enasnet_default_config();
    cfg.out_filters = 7; // odd: the factorized reduction halves it
    CHECK(enasnet_build(&g, &cfg, why, sizeof why) == NULL && strstr(why, "even"));
    CHECK(enasnet_param_count(&g, &cfg, NULL) == 0);
    cfg = enasnet_default_config();
    cfg.side = 2;
    CHECK(enasnet_build(&g, &cfg, why, sizeof why) == NULL && strstr(why, "too small"));
    cfg = enasnet_default_config();
    graph bad = g;
    bad.type[3] = 1; // an input in the middle
    CHECK(enasnet_build(&bad, &cfg, why, sizeof why) == NULL && strstr(why, "not an ENAS operation"));
    bad = g;
    bad.succ[2] &= (uint16_t)~(1u << 3); // drop the chain edge 2 -> 3
    CHECK(enasnet_build(&bad, &cfg, why, sizeof why) == NULL && strstr(why, "chain"));
    bad = g;
    graph_add_edge(&bad, 2, 7); // the output fed by a layer other than the last
    CHECK(enasnet_build(&bad, &cfg, why, sizeof why) == NULL && strstr(why, "not an ENAS edge"));
    graph nb = {.n = 2, .type = {TYPE_INPUT, TYPE_OUTPUT}};
    graph_add_edge(&nb, 0, 1);
    CHECK(enasnet_build(&nb, &cfg, why, sizeof why) == NULL);
}

int main(int argc, char **argv) {
    openblas_set_num_threads(1);
    const char *fixtures = argc > 1 ? argv[1] : "tests/fixtures/cellnet";
#if ENASNET_EXACT_REDUCTION
    test_vs_torch(fixtures, "enas6_fixed_sep_exactfr", ENASNET_FIXED, 1);
#else
    test_vs_torch(fixtures, "enas6_fixed_sep", ENASNET_FIXED, 1);
    test_vs_torch(fixtures, "enas6_shared", ENASNET_SHARED, 1);
#endif
    test_pool_layers();
    test_param_count_known();
    test_param_count_formula();
    test_gradcheck();
    test_enas12();
    test_errors();
    return check_summary();
}
