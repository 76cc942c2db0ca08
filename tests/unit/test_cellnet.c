/* test_cellnet.c: lib/cellnet_*.c (the DAG CNN executor) and lib/nb101net.c (NAS-Bench-101 networks).
 * Usage: test_cellnet [FIXTURE_DIR]   (default tests/fixtures/cellnet)
 *
 *  - two tiny NB101 networks against PyTorch (tests/fixtures/cellnet: nasbench's model_builder in
 *    PyTorch, float64): evaluation and training logits, the loss, every parameter's gradient and
 *    the running statistics after a training forward, to float32 rounding (relative 1e-4);
 *  - parameter counts of NB101 networks at the full setting (stem 128, 3 stacks of 3 cells) equal
 *    the benchmark's `trainable_parameters` column (data/nb101/val_accuracies.csv.zst) for cells
 *    of 2..7 vertices, the smallest and largest networks and the best cell of the table;
 *  - the batched channel-major convolution (chunks of images per GEMM) against the definition of a
 *    convolution as a direct loop in double, forward and backward, with padding, stride 2 and
 *    several chunks;
 *  - finite-difference gradient checks of the mean cross-entropy with respect to every parameter
 *    (all of them, or a strided sample in large tensors) of a tiny network using every operation
 *    (conv with bias, bn, relu, conv_bn_relu, dwconv, sepconv, max and avg pool, concat, slice,
 *    add, subsample, gap, dense), and of a tiny NB101 network of the best cell;
 *  - evaluation mode uses the running statistics; seeded initialisation and training steps are
 *    deterministic, and bitwise the same for every thread count (net->pool); builder errors are
 *    reported, not crashes.
 * Finite differences: central, step EPS, in float32 with the loss accumulated in double; ReLU and
 * max-pool kinks make a few differences meaningless, detected as a disagreement between steps EPS
 * and EPS/2 and skipped (at most 5% may be skipped). Prints "N passed, M failed". */
#include "cellnet.h"
#include "cnn.h"
#include "nb101net.h"
#include "parallel.h"
#include "rng.h"
#include "space.h"

#include "check.h"
#include "cnfx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads);

#define EPS 2e-3f
#define RTOL 3e-2
#define ATOL 5e-4

/* ---- NB101 graphs from the benchmark's CSV form (adjacency row-major, labels -1 in, -2 out,
 * 0 conv3x3, 1 conv1x1, 2 maxpool) ---- */
static graph nb101_graph(int n, const char *adj, const char *ops) {
    graph g = {.n = n};
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            if (adj[r * n + c] == '1') graph_add_edge(&g, r, c);
    const char *p = ops;
    for (int v = 0; v < n; v++) {
        int lab = atoi(p);
        g.type[v] = lab == -1 ? TYPE_INPUT : lab == -2 ? TYPE_OUTPUT : lab == 0 ? NB101_CONV3X3
                  : lab == 1 ? NB101_CONV1X1 : NB101_MAXPOOL3X3;
        p = strchr(p, ':');
        if (p) p++;
    }
    return g;
}

static const struct {
    int n;
    const char *adj, *ops;
    long params;
} CELLS[] = {
    {2, "0100", "-1:-2", 882570},
    {3, "011001000", "-1:1:-2", 2793866},
    {4, "0110001000010000", "-1:2:2:-2", 1756298},
    {5, "0100000100000100000100000", "-1:2:0:2:-2", 10177674},
    {6, "010000001000000100000010000001000000", "-1:0:1:0:0:-2", 29805450},
    {7, "0100011001000000010000000110000001000000010000000", "-1:0:2:0:1:0:-2", 31552906}, // best
    {7, "0111001001000000010000000100000001000000010000000", "-1:0:0:0:0:0:-2", 49979274}, // largest
    {7, "0100000001010100010010000001000001000000010000000", "-1:2:2:2:2:2:-2", 227274},  // smallest
    {7, "0101000001010000010000000110000001000000010000000", "-1:0:1:0:0:0:-2", 39974282},
    {7, "0101001001001000010000000100000001000000010000000", "-1:1:2:2:0:2:-2", 12962698},
    {7, "0100000001100000011000000001000001000000010000000", "-1:2:2:2:1:1:-2", 967178},
    {7, "0100000001010000010010000110000000100000010000000", "-1:1:2:2:2:2:-2", 418332},
    {7, "0100000001100000010000000101000001100000010000000", "-1:2:2:0:0:0:-2", 3403080},
};

static void test_param_counts(void) {
    nb101_config cfg = {.stem = 128, .stacks = 3, .cells = 3, .classes = 10};
    for (size_t i = 0; i < sizeof CELLS / sizeof CELLS[0]; i++) {
        graph g = nb101_graph(CELLS[i].n, CELLS[i].adj, CELLS[i].ops);
        char why[256], what[64];
        CHECK(graph_check(space_get(SPACE_NB101), &g, why, sizeof why) == 0);
        cellnet *net = nb101net_build(&g, &cfg, why, sizeof why);
        CHECK(net != NULL);
        if (!net) continue;
        long got = (long)cellnet_param_count(net);
        snprintf(what, sizeof what, "cell %zu params %ld want %ld", i, got, CELLS[i].params);
        check(got == CELLS[i].params, __LINE__, what);
        cellnet_free(net);
    }
    // vertex channels of the best cell: the output fed by vertex 5 (and the input) only
    graph g = nb101_graph(CELLS[5].n, CELLS[5].adj, CELLS[5].ops);
    int vc[GRAPH_MAX_NODES];
    CHECK(nb101_vertex_channels(&g, 64, 128, vc) == 0);
    int sum = 0;
    for (int v = 1; v < g.n - 1; v++)
        if (graph_has_edge(&g, v, g.n - 1)) sum += vc[v];
    CHECK(sum == 128 && vc[0] == 64 && vc[g.n - 1] == 128);
}

/* ---- against PyTorch (tests/fixtures/cellnet, made by make_fixtures.py from bench/nb101_torch.py,
 * nasbench's model_builder in PyTorch, in float64): the fixture's parameters and running
 * statistics, in file order, are exactly our params and buffers arrays (stem; per stack, cell and
 * vertex: projection, then the vertex's op; dense), and so are its gradients. ---- */

/* Concatenate the tensors of f whose names pass keep(), in file order, into dst (n floats);
 * returns how many floats they hold. */
static size_t cnfx_gather(const cnfx_file *f, float *dst, size_t n, int (*keep)(const char *)) {
    size_t k = 0;
    for (uint32_t t = 0; t < f->count; t++) {
        if (!keep(f->t[t].name) || f->t[t].dtype != CNFX_F32) continue;
        for (size_t i = 0; i < f->t[t].n; i++, k++)
            if (k < n) dst[k] = f->t[t].f[i];
    }
    return k;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}
static int is_stat(const char *s) { return ends_with(s, ".running_mean") || ends_with(s, ".running_var"); }
static int is_param(const char *s) {
    return (ends_with(s, ".weight") || ends_with(s, ".bias")) && strncmp(s, "grad.", 5) && strncmp(s, "after.", 6);
}
static int is_stat_before(const char *s) { return is_stat(s) && strncmp(s, "after.", 6); }
static int is_stat_after(const char *s) { return is_stat(s) && !strncmp(s, "after.", 6); }
static int is_param_grad(const char *s) { return !strncmp(s, "grad.", 5) && strcmp(s, "grad.input"); }

/* max |a-b| / (max |b| + tiny) */
static double rel_err(const float *a, const float *b, size_t n) {
    double m = 0.0, d = 0.0;
    for (size_t k = 0; k < n; k++) {
        m = fmax(m, fabs((double)b[k]));
        d = fmax(d, fabs((double)a[k] - b[k]));
    }
    return d / (m + 1e-12);
}

static void test_against_pytorch(const char *dir, const char *name, int n, const char *adj, const char *ops,
                                 int stem, int stacks, int cells, int side, int B, double loss_want) {
    char path[512], what[256];
    snprintf(path, sizeof path, "%s/%s.cnfx", dir, name);
    cnfx_file f;
    if (cnfx_load(&f, path) != 0) {
        check(0, __LINE__, path);
        return;
    }
    graph g = nb101_graph(n, adj, ops);
    nb101_config cfg = {.stem = stem, .stacks = stacks, .cells = cells, .classes = 10, .side = side};
    char why[256];
    cellnet *net = nb101net_build(&g, &cfg, why, sizeof why);
    CHECK(net && cellnet_compile(net, B, why, sizeof why) == 0);
    if (!net) return;
    size_t np = cnfx_gather(&f, net->params, net->n_params, is_param);
    size_t nbuf = cnfx_gather(&f, net->buffers, net->n_buffers, is_stat_before);
    snprintf(what, sizeof what, "%s: %zu params (fixture %zu), %zu buffers (fixture %zu)", name, net->n_params, np,
             net->n_buffers, nbuf);
    check(np == net->n_params && nbuf == net->n_buffers, __LINE__, what);
    const cnfx_tensor *x = cnfx_get(&f, "input"), *lab = cnfx_get(&f, "labels");
    const cnfx_tensor *le = cnfx_get(&f, "logits_eval"), *lt = cnfx_get(&f, "logits_train");
    CHECK(x && lab && le && lt && x->n == (size_t)B * 3 * side * side);
    if (np != net->n_params || !x || !lab || !le || !lt) {
        cellnet_free(net);
        cnfx_free(&f);
        return;
    }
    int y[16];
    for (int k = 0; k < B; k++) y[k] = lab->i[k];
    double e = rel_err(cellnet_forward(net, x->f, B, 0), le->f, (size_t)B * 10);
    snprintf(what, sizeof what, "%s: eval logits, relative error %.2g", name, e);
    check(e < 1e-4, __LINE__, what);
    e = rel_err(cellnet_forward(net, x->f, B, 1), lt->f, (size_t)B * 10);
    snprintf(what, sizeof what, "%s: train logits, relative error %.2g", name, e);
    check(e < 1e-4, __LINE__, what);
    double loss = cellnet_loss(net, y);
    snprintf(what, sizeof what, "%s: loss %.9g, PyTorch %.9g", name, loss, loss_want);
    check(fabs(loss - loss_want) < 1e-5 * fabs(loss_want), __LINE__, what);
    cellnet_zero_grad(net);
    cellnet_backward(net, y, 1.0f);
    float *want = calloc(net->n_params, sizeof(float));
    cnfx_gather(&f, want, net->n_params, is_param_grad);
    e = rel_err(net->grads, want, net->n_params);
    snprintf(what, sizeof what, "%s: every parameter gradient, relative error %.2g", name, e);
    check(e < 1e-4, __LINE__, what);
    float *stats = calloc(net->n_buffers, sizeof(float));
    cnfx_gather(&f, stats, net->n_buffers, is_stat_after);
    e = rel_err(net->buffers, stats, net->n_buffers);
    snprintf(what, sizeof what, "%s: running statistics after one training forward, relative error %.2g", name, e);
    check(e < 1e-5, __LINE__, what);
    free(want), free(stats);
    cellnet_free(net);
    cnfx_free(&f);
}

/* ---- helpers ---- */
static float *rand_buf(size_t n, rng_mt *r, float a) {
    float *p = calloc(n ? n : 1, sizeof(float));
    for (size_t k = 0; k < n; k++) p[k] = (float)((2.0 * rng_double(r) - 1.0) * a);
    return p;
}

/* (N,C,HW) <-> (C,N,HW) */
static void to_cn(float *dst, const float *src, int N, int C, int HW) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) memcpy(dst + ((size_t)c * N + n) * HW, src + ((size_t)n * C + c) * HW, (size_t)HW * sizeof(float));
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t k = 0; k < n; k++) m = fmax(m, fabs((double)a[k] - b[k]));
    return m;
}

/* The definition of a convolution (PyTorch's Conv2d, NCHW) as direct loops in double, and its
 * adjoint: out (N,OC,OH,OW) = conv of x (N,C,H,W) with Wt (OC,C,K,K) [+ b (OC)]; dx (N,C,H,W) and
 * dW (OC,C,K,K) (each may be NULL) = the gradients given dout (N,OC,OH,OW), written as float. */
static void ref_conv(float *out, float *dx, float *dW, const float *dout, const float *x, const float *Wt,
                     const float *b, int N, int C, int H, int OC, int K, int S, int P) {
    int OH = conv_out_size(H, K, S, P);
    double *gx = calloc((size_t)N * C * H * H, sizeof(double)), *gw = calloc((size_t)OC * C * K * K, sizeof(double));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++)
            for (int y = 0; y < OH; y++)
                for (int xo = 0; xo < OH; xo++) {
                    size_t at = (((size_t)n * OC + o) * OH + y) * OH + xo;
                    double s = b ? b[o] : 0.0, g = dout ? dout[at] : 0.0;
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < K; i++)
                            for (int j = 0; j < K; j++) {
                                int iy = y * S - P + i, ix = xo * S - P + j;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= H) continue;
                                size_t xi = (((size_t)n * C + c) * H + iy) * H + ix, wi = (((size_t)o * C + c) * K + i) * K + j;
                                s += (double)Wt[wi] * x[xi];
                                gx[xi] += g * Wt[wi];
                                gw[wi] += g * x[xi];
                            }
                    if (out) out[at] = (float)s;
                }
    if (dx)
        for (size_t k = 0; k < (size_t)N * C * H * H; k++) dx[k] = (float)gx[k];
    if (dW)
        for (size_t k = 0; k < (size_t)OC * C * K * K; k++) dW[k] = (float)gw[k];
    free(gx), free(gw);
}

/* The batched conv of a network (input -> conv -> gap -> dense) against ref_conv:
 * forward output of the conv node, and its weight and input gradients given the same dout. */
static void test_conv_vs_cnn(int N, int C, int H, int OC, int K, int S, int P, int bias) {
    rng_mt r;
    rng_seed(&r, 7);
    cellnet *net = cellnet_new(C, H, H);
    int cv = cellnet_conv(net, 0, OC, K, S, P, bias);
    int gp = cellnet_gap(net, cv);
    cellnet_dense(net, gp, 3);
    net->keep_grads = 1; // the conv's gradient is read after the backward
    char err[256];
    CHECK(cellnet_compile(net, N, err, sizeof err) == 0);
    cellnet_init_params(net, &r);
    for (size_t k = 0; k < net->n_params; k++) net->params[k] = (float)(rng_double(&r) - 0.5);
    int OH = conv_out_size(H, K, S, P);
    size_t nin = (size_t)N * C * H * H, nout = (size_t)N * OC * OH * OH;
    float *x = rand_buf(nin, &r, 1.0f);
    cellnet_forward(net, x, N, 1);
    const float *Wt = net->params + net->node[cv].p_off;
    const float *b = bias ? Wt + (size_t)OC * C * K * K : NULL;
    float *ref = calloc(nout, sizeof(float)), *refcn = calloc(nout, sizeof(float));
    ref_conv(ref, NULL, NULL, NULL, x, Wt, b, N, C, H, OC, K, S, P);
    to_cn(refcn, ref, N, OC, OH * OH);
    const float *got = net->arena + net->node[cv].a_out;
    CHECK(max_abs_diff(got, refcn, nout) < 1e-4);
    // backward: the loss's gradient reaches the conv node; compare its parameter gradients with
    // ref_conv given the same dout (converted to NCHW)
    int y[64];
    for (int n = 0; n < N; n++) y[n] = n % 3;
    cellnet_loss(net, y);
    cellnet_zero_grad(net);
    cellnet_backward(net, y, 1.0f);
    const float *dcn = net->arena + net->node[cv].a_dout;
    float *dnchw = calloc(nout, sizeof(float));
    for (int n = 0; n < N; n++)
        for (int c = 0; c < OC; c++)
            memcpy(dnchw + ((size_t)n * OC + c) * OH * OH, dcn + ((size_t)c * N + n) * OH * OH, (size_t)OH * OH * sizeof(float));
    size_t nw = (size_t)OC * C * K * K;
    float *dW = calloc(nw, sizeof(float)), *db = calloc((size_t)OC, sizeof(float)), *dx = calloc(nin, sizeof(float));
    ref_conv(NULL, dx, dW, dnchw, x, Wt, NULL, N, C, H, OC, K, S, P);
    for (int o = 0; o < OC; o++) // the bias's gradient: the sum of dout over its channel
        for (size_t k = 0; k < (size_t)N * OH * OH; k++) db[o] += dcn[(size_t)o * N * OH * OH + k];
    const float *g = net->grads + net->node[cv].p_off;
    CHECK(max_abs_diff(g, dW, nw) < 1e-5);
    if (bias) CHECK(max_abs_diff(g + nw, db, (size_t)OC) < 1e-5);
    free(x), free(ref), free(refcn), free(dnchw), free(dW), free(db), free(dx);
    cellnet_free(net);
}

/* The input gradient of a batched conv (the conv's input is an interior node) against ref_conv. */
static void test_conv_dinput(int N, int C, int H, int OC, int K, int S, int P) {
    rng_mt r;
    rng_seed(&r, 11);
    cellnet *net = cellnet_new(C, H, H);
    int id = cellnet_relu(net, 0); // an interior copy of the input (inputs are positive)
    int cv = cellnet_conv(net, id, OC, K, S, P, 0);
    cellnet_dense(net, cellnet_gap(net, cv), 2);
    net->keep_grads = 1; // the conv's and the relu's gradients are read after the backward
    char err[256];
    CHECK(cellnet_compile(net, N, err, sizeof err) == 0);
    cellnet_init_params(net, &r);
    size_t nin = (size_t)N * C * H * H;
    float *x = rand_buf(nin, &r, 1.0f);
    for (size_t k = 0; k < nin; k++) x[k] = fabsf(x[k]) + 0.01f;
    cellnet_forward(net, x, N, 1);
    int y[64] = {0};
    cellnet_loss(net, y);
    cellnet_zero_grad(net);
    cellnet_backward(net, y, 1.0f);
    int OH = conv_out_size(H, K, S, P);
    size_t nout = (size_t)N * OC * OH * OH;
    const float *dcn = net->arena + net->node[cv].a_dout;
    float *dnchw = calloc(nout, sizeof(float)), *dx = calloc(nin, sizeof(float)), *dxcn = calloc(nin, sizeof(float));
    for (int n = 0; n < N; n++)
        for (int c = 0; c < OC; c++)
            memcpy(dnchw + ((size_t)n * OC + c) * OH * OH, dcn + ((size_t)c * N + n) * OH * OH, (size_t)OH * OH * sizeof(float));
    ref_conv(NULL, dx, NULL, dnchw, x, net->params + net->node[cv].p_off, NULL, N, C, H, OC, K, S, P);
    to_cn(dxcn, dx, N, C, H * H);
    CHECK(max_abs_diff(net->arena + net->node[id].a_dout, dxcn, nin) < 1e-5);
    free(x), free(dnchw), free(dx), free(dxcn);
    cellnet_free(net);
}

/* The specialised max pools (3x3 stride 1 pad 1, 2x2 stride 2) against cnn.c's generic one:
 * values and argmax, with ties (inputs quantised to a few levels) and several plane sizes. */
static void test_maxpool(int N, int C, int H, int W, int K) {
    rng_mt r;
    rng_seed(&r, 3);
    cellnet *net = cellnet_new(C, H, W);
    int S = K == 3 ? 1 : 2, P = K == 3 ? 1 : 0;
    int mp = cellnet_maxpool(net, 0, K, S, P);
    cellnet_dense(net, cellnet_gap(net, mp), 2);
    char err[256];
    CHECK(cellnet_compile(net, N, err, sizeof err) == 0);
    cellnet_init_params(net, &r);
    size_t n = (size_t)N * C * H * W, no = (size_t)N * C * net->node[mp].H * net->node[mp].W;
    float *x = malloc(n * sizeof(float)), *xcn = malloc(n * sizeof(float)), *ref = malloc(n * sizeof(float));
    int *am = malloc(n * sizeof(int));
    for (size_t k = 0; k < n; k++) x[k] = (float)rng_interval(&r, 4);
    cellnet_forward(net, x, N, 1);
    to_cn(xcn, x, N, C, H * W);
    maxpool2d_forward(ref, am, xcn, 1, N * C, H, W, K, S, P);
    CHECK(memcmp(ref, net->arena + net->node[mp].a_out, no * sizeof(float)) == 0);
    CHECK(memcmp(am, net->iarena + net->node[mp].a_aux, no * sizeof(int)) == 0);
    free(x), free(xcn), free(ref), free(am);
    cellnet_free(net);
}

/* Subsample values: offsets 0 and 1 of a 3x5 plane, stride 2 (zeros past the edge). */
static void test_subsample(void) {
    cellnet *net = cellnet_new(1, 3, 5);
    int s0 = cellnet_subsample(net, 0, 2, 0), s1 = cellnet_subsample(net, 0, 2, 1);
    int both[2] = {s0, s1};
    cellnet_dense(net, cellnet_gap(net, cellnet_concat(net, 2, both)), 2);
    char err[256];
    CHECK(cellnet_compile(net, 1, err, sizeof err) == 0);
    float x[15];
    for (int k = 0; k < 15; k++) x[k] = (float)(k + 1);
    cellnet_forward(net, x, 1, 0);
    const float want0[6] = {1, 3, 5, 11, 13, 15}, want1[6] = {7, 9, 0, 0, 0, 0};
    CHECK(net->node[s0].H == 2 && net->node[s0].W == 3);
    CHECK(memcmp(net->arena + net->node[s0].a_out, want0, sizeof want0) == 0);
    CHECK(memcmp(net->arena + net->node[s1].a_out, want1, sizeof want1) == 0);
    cellnet_free(net);
}

/* ---- finite-difference gradient check of the mean cross-entropy ---- */
static double loss_at(cellnet *net, const float *x, const int *y, int B) {
    cellnet_forward(net, x, B, 1);
    return cellnet_loss(net, y);
}

/* Checks up to max_per_node parameters of every node (strided), element by element. */
static void gradcheck(cellnet *net, const float *x, const int *y, int B, int max_per_node, const char *name) {
    // BN running statistics change with every training forward but do not affect the loss
    loss_at(net, x, y, B);
    cellnet_zero_grad(net);
    cellnet_backward(net, y, 1.0f);
    float *ana = malloc(net->n_params * sizeof(float));
    memcpy(ana, net->grads, net->n_params * sizeof(float));
    int checked = 0, skipped = 0, bad = 0;
    double worst = 0.0;
    for (int id = 0; id < net->n_nodes; id++) {
        const cellnet_node *nd = &net->node[id];
        if (!nd->p_len) continue;
        size_t step = nd->p_len / (size_t)max_per_node + 1;
        for (size_t k = 0; k < nd->p_len; k += step) {
            size_t i = nd->p_off + k;
            float save = net->params[i];
            double d[2];
            for (int h = 0; h < 2; h++) {
                float e = h ? EPS / 2 : EPS;
                net->params[i] = save + e;
                double lp = loss_at(net, x, y, B);
                net->params[i] = save - e;
                double lm = loss_at(net, x, y, B);
                d[h] = (lp - lm) / (2.0 * e);
            }
            net->params[i] = save;
            double tol = RTOL * fmax(fabs(d[1]), fabs(ana[i])) + ATOL;
            if (fabs(d[0] - d[1]) > tol) { // a kink between the steps: not a meaningful difference
                skipped++;
                continue;
            }
            checked++;
            double err = fabs(d[1] - ana[i]);
            if (err > tol) {
                bad++;
                if (bad <= 5)
                    fprintf(stderr, "%s: node %d (op %d) param %zu: analytic %.6g numeric %.6g\n", name, id,
                            nd->op, k, ana[i], d[1]);
            }
            if (err / (fabs(d[1]) + 1e-3) > worst) worst = err / (fabs(d[1]) + 1e-3);
        }
    }
    char what[160];
    snprintf(what, sizeof what, "%s: %d gradients checked, %d wrong, %d skipped at kinks", name, checked, bad, skipped);
    check(bad == 0 && skipped * 20 <= checked + skipped && checked > 0, __LINE__, what);
    printf("%s: %d checked, %d skipped, worst relative error %.2g\n", name, checked, skipped, worst);
    free(ana);
}

/* Directional derivatives, per node: with a random +-1 direction v over the node's parameters,
 * (L(p + e v) - L(p - e v)) / 2e against grad . v. Kinks (thousands of ReLUs and max-pool windows
 * in a 32x32 network) spoil single-element differences but average out in a direction. Tiny
 * batch-normalised networks are strongly curved, so the steps are small (2e-4, 1e-4) and the
 * float32 rounding then shows (~1e-6 in the loss): any of the two differences or their Richardson
 * extrapolation may match. The terms g_k v_k of a direction largely cancel, and kinks crossed by
 * the step err in proportion to the terms, not to their sum, so the tolerance has a part
 * 0.01 * sum |g_k|. A 32x32 network crosses many more kinks than a 7x7 one, and one direction of
 * its stem (32,768 ReLU inputs) once missed by 3 % of the tolerance while the same gradient matches
 * PyTorch's in float64 (test_against_pytorch): so each node gets `dirs` directions and passes if
 * most of them match. A wrong gradient (a dropped term, a wrong scale) misses in every direction. */
static void gradcheck_directional(cellnet *net, const float *x, const int *y, int B, const char *name, int dirs) {
    loss_at(net, x, y, B);
    cellnet_zero_grad(net);
    cellnet_backward(net, y, 1.0f);
    rng_mt r;
    rng_seed(&r, 99);
    float *save = malloc(net->n_params * sizeof(float)), *v = malloc(net->n_params * sizeof(float));
    memcpy(save, net->params, net->n_params * sizeof(float));
    int nodes = 0, bad = 0;
    for (int id = 0; id < net->n_nodes; id++) {
        const cellnet_node *nd = &net->node[id];
        if (!nd->p_len) continue;
        int matched = 0;
        for (int dir = 0; dir < dirs; dir++) {
            double ana = 0.0, mag = 0.0, num[2];
            for (size_t k = 0; k < nd->p_len; k++) {
                v[k] = rng_double(&r) < 0.5 ? -1.0f : 1.0f;
                ana += (double)v[k] * net->grads[nd->p_off + k];
                mag += fabs(net->grads[nd->p_off + k]);
            }
            for (int h = 0; h < 2; h++) {
                float e = h ? 1e-4f : 2e-4f;
                for (size_t k = 0; k < nd->p_len; k++) net->params[nd->p_off + k] = save[nd->p_off + k] + e * v[k];
                double lp = loss_at(net, x, y, B);
                for (size_t k = 0; k < nd->p_len; k++) net->params[nd->p_off + k] = save[nd->p_off + k] - e * v[k];
                double lm = loss_at(net, x, y, B);
                memcpy(net->params + nd->p_off, save + nd->p_off, nd->p_len * sizeof(float));
                num[h] = (lp - lm) / (2.0 * e);
            }
            double tol = RTOL * fmax(fabs(num[0]), fabs(ana)) + 0.01 * mag + ATOL;
            double rich = (4.0 * num[1] - num[0]) / 3.0; // Richardson: cancels the O(e^2) term
            if (fabs(num[0] - ana) <= tol || fabs(num[1] - ana) <= tol || fabs(rich - ana) <= tol) matched++;
            else
                fprintf(stderr, "%s: node %d (op %d), direction %d: analytic %.6g numeric %.6g / %.6g (tolerance %.3g)\n",
                        name, id, nd->op, dir, ana, num[0], num[1], tol);
        }
        nodes++;
        if (2 * matched <= dirs) bad++;
    }
    char what[160];
    snprintf(what, sizeof what, "%s: %d nodes' directional derivatives (%d directions each), %d wrong", name, nodes,
             dirs, bad);
    check(bad == 0 && nodes > 0, __LINE__, what);
    free(save), free(v);
}

/* A tiny network using every operation, on (3,7,7) images. */
static cellnet *all_ops_net(void) {
    cellnet *net = cellnet_new(3, 7, 7);
    int c1 = cellnet_conv(net, 0, 4, 3, 1, 1, 1);                 // (4,7,7) with bias
    int b1 = cellnet_bn(net, c1);
    int r1 = cellnet_relu(net, b1);
    int dw = cellnet_dwconv(net, r1, 3, 2, 1);                    // (4,4,4) stride 2
    int cb = cellnet_conv_bn_relu(net, dw, 5, 3, 1);              // (5,4,4)
    int mp = cellnet_maxpool(net, cb, 3, 1, 1);
    int ap = cellnet_avgpool(net, cb, 3, 1, 1);
    int sl = cellnet_slice(net, mp, 1, 3);                        // channels 1..3 of mp
    int cat_in[3] = {sl, ap, dw};
    int ct = cellnet_concat(net, 3, cat_in);                      // (12,4,4)
    int sp = cellnet_sepconv(net, ct, 6, 3, 1);                   // (6,4,4)
    int pj = cellnet_conv_bn_relu(net, ct, 6, 1, 1);
    int s2 = cellnet_slice(net, ct, 2, 6);
    int add_in[3] = {sp, pj, s2};
    int ad = cellnet_add(net, 3, add_in);
    int mp2 = cellnet_maxpool(net, ad, 2, 2, 0);                  // (6,2,2)
    int ss0 = cellnet_subsample(net, ad, 2, 0), ss1 = cellnet_subsample(net, cb, 3, 1); // (6,2,2), (5,2,2)
    int cat2[3] = {mp2, ss0, ss1};
    int gp = cellnet_gap(net, cellnet_concat(net, 3, cat2));
    cellnet_dense(net, gp, 4);
    return net;
}

static void test_gradcheck_all_ops(void) {
    const int B = 3;
    rng_mt r;
    rng_seed(&r, 1);
    cellnet *net = all_ops_net();
    CHECK(cellnet_error(net) == NULL);
    char err[256];
    CHECK(cellnet_compile(net, B, err, sizeof err) == 0);
    cellnet_init_params(net, &r);
    // small random perturbations of BN's gamma/beta and biases so that they are not special values
    for (size_t k = 0; k < net->n_params; k++) net->params[k] += (float)(0.1 * (rng_double(&r) - 0.5));
    float *x = rand_buf((size_t)B * 3 * 7 * 7, &r, 1.0f);
    int y[3] = {0, 3, 1};
    gradcheck(net, x, y, B, 40, "all ops");
    gradcheck_directional(net, x, y, B, "all ops", 1);
    free(x);
    cellnet_free(net);
}

static void test_gradcheck_nb101(void) {
    const int B = 8;
    rng_mt r;
    rng_seed(&r, 2);
    graph g = nb101_graph(CELLS[5].n, CELLS[5].adj, CELLS[5].ops);
    nb101_config cfg = {.stem = 4, .stacks = 2, .cells = 1, .classes = 10};
    char why[256];
    cellnet *net = nb101net_build(&g, &cfg, why, sizeof why);
    CHECK(net != NULL);
    if (!net) return;
    CHECK(cellnet_compile(net, B, why, sizeof why) == 0);
    cellnet_init_params(net, &r);
    float *x = rand_buf((size_t)B * 3 * 32 * 32, &r, 1.0f);
    int y[8] = {4, 9, 0, 4, 1, 2, 3, 5};
    gradcheck_directional(net, x, y, B, "nb101 best cell, stem 4, 2x1 cells", 3);
    free(x);
    cellnet_free(net);
}

/* Bitwise the same for every thread count (net->pool NULL, 1, 2, 3, 5 threads): two SGD steps at
 * batches 9 and 3 (fewer images than tasks), then an evaluation forward of 5 images; parameters,
 * gradients, running statistics and logits compared as bytes, for the all-ops network and an NB101
 * one. */
static void test_threads_bitwise(void) {
    const int threads[] = {0, 1, 2, 3, 5}, NT = sizeof threads / sizeof *threads, MB = 9;
    for (int which = 0; which < 2; which++) {
        float *ref[4] = {NULL};
        size_t len[4];
        for (int k = 0; k < NT; k++) {
            rng_mt r;
            rng_seed(&r, 21);
            graph g = nb101_graph(CELLS[5].n, CELLS[5].adj, CELLS[5].ops);
            nb101_config cfg = {.stem = 4, .stacks = 2, .cells = 1, .classes = 10};
            char why[256];
            cellnet *net = which ? nb101net_build(&g, &cfg, why, sizeof why) : all_ops_net();
            CHECK(net && cellnet_compile(net, MB, why, sizeof why) == 0);
            if (!net) return;
            int C, H, W;
            cellnet_shape(net, 0, &C, &H, &W);
            cellnet_init_params(net, &r);
            float *x = rand_buf((size_t)MB * C * H * W, &r, 1.0f);
            int y[9] = {1, 2, 3, 0, 1, 2, 3, 0, 1};
            net->pool = threads[k] ? par_create(threads[k]) : NULL;
            for (int B = MB; B > 0; B -= 6) { // batches 9 and 3
                cellnet_forward(net, x, B, 1);
                cellnet_loss(net, y);
                cellnet_zero_grad(net);
                cellnet_backward(net, y, 1.0f);
                for (size_t i = 0; i < net->n_params; i++) net->params[i] -= 0.1f * net->grads[i];
            }
            cellnet_forward(net, x, 5, 0);
            float *got[4] = {net->params, net->grads, net->buffers, net->logits};
            size_t n[4] = {net->n_params, net->n_params, net->n_buffers, (size_t)5 * net->node[net->output].C};
            for (int b = 0; b < 4; b++) {
                if (k == 0) {
                    len[b] = n[b];
                    ref[b] = malloc(n[b] * sizeof(float));
                    memcpy(ref[b], got[b], n[b] * sizeof(float));
                } else {
                    char what[96];
                    snprintf(what, sizeof what, "%s, %d threads: array %d bitwise as without a pool",
                             which ? "nb101" : "all ops", threads[k], b);
                    check(n[b] == len[b] && memcmp(got[b], ref[b], n[b] * sizeof(float)) == 0, __LINE__, what);
                }
            }
            par_free(net->pool);
            free(x);
            cellnet_free(net);
        }
        for (int b = 0; b < 4; b++) free(ref[b]);
    }
}

/* Eval mode normalises with the running statistics: with momentum 1 they are the last batch's
 * (variance unbiased), so eval on that batch nearly reproduces train. Then determinism. */
static void test_eval_and_determinism(void) {
    graph g = nb101_graph(CELLS[2].n, CELLS[2].adj, CELLS[2].ops);
    nb101_config cfg = {.stem = 8, .stacks = 2, .cells = 1, .classes = 10};
    char why[256];
    float l1[4] = {0}, *xs = NULL;
    double loss[2][3];
    for (int run = 0; run < 2; run++) {
        rng_mt r;
        rng_seed(&r, 5);
        cellnet *net = nb101net_build(&g, &cfg, why, sizeof why);
        CHECK(cellnet_compile(net, 16, why, sizeof why) == 0);
        cellnet_init_params(net, &r);
        if (!xs) xs = rand_buf((size_t)16 * 3 * 32 * 32, &r, 1.0f);
        int y[16];
        for (int n = 0; n < 16; n++) y[n] = n % 10;
        net->bn_momentum = 1.0f;
        const float *lt = cellnet_forward(net, xs, 16, 1);
        memcpy(l1, lt, sizeof l1);
        const float *le = cellnet_forward(net, xs, 16, 0);
        CHECK(max_abs_diff(l1, le, 4) < 0.05);
        net->bn_momentum = 0.1f;
        for (int s = 0; s < 3; s++) { // a few SGD steps
            cellnet_forward(net, xs, 16, 1);
            loss[run][s] = cellnet_loss(net, y);
            cellnet_zero_grad(net);
            cellnet_backward(net, y, 1.0f);
            for (size_t k = 0; k < net->n_params; k++) net->params[k] -= 0.1f * net->grads[k];
        }
        cellnet_free(net);
    }
    CHECK(memcmp(loss[0], loss[1], sizeof loss[0]) == 0);
    CHECK(loss[0][2] < loss[0][0]); // it learns the batch
    free(xs);
}

static void test_build_errors(void) {
    cellnet *net = cellnet_new(3, 8, 8);
    int a = cellnet_conv(net, 0, 4, 3, 1, 1, 0);
    int b = cellnet_conv(net, 0, 5, 3, 1, 1, 0);
    int ab[2] = {a, b};
    CHECK(cellnet_add(net, 2, ab) == -1);
    CHECK(cellnet_error(net) && strstr(cellnet_error(net), "channels"));
    CHECK(cellnet_relu(net, a) == -1); // errors stick
    cellnet_free(net);

    net = cellnet_new(3, 8, 8);
    CHECK(cellnet_slice(net, 0, 2, 2) == -1 && strstr(cellnet_error(net), "slice"));
    cellnet_free(net);
    net = cellnet_new(3, 8, 8);
    CHECK(cellnet_dense(net, 0, 10) == -1 && strstr(cellnet_error(net), "gap"));
    cellnet_free(net);
    net = cellnet_new(3, 4, 4);
    CHECK(cellnet_conv(net, 0, 4, 7, 1, 0, 0) == -1 && strstr(cellnet_error(net), "does not fit"));
    cellnet_free(net);
    net = cellnet_new(3, 4, 4);
    CHECK(cellnet_relu(net, 5) == -1 && strstr(cellnet_error(net), "no node"));
    char err[256];
    CHECK(cellnet_compile(net, 4, err, sizeof err) == -1);
    cellnet_free(net);
    net = cellnet_new(3, 4, 4);
    cellnet_relu(net, 0);
    CHECK(cellnet_compile(net, 4, err, sizeof err) == -1 && strstr(err, "1x1"));
    cellnet_free(net);

    // NB101: a stem too narrow for the output's fan-in, too many stacks
    graph g = nb101_graph(CELLS[7].n, CELLS[7].adj, CELLS[7].ops);
    nb101_config cfg = {.stem = 1, .stacks = 1, .cells = 1, .classes = 10};
    char why[256];
    CHECK(nb101net_build(&g, &cfg, why, sizeof why) == NULL);
    cfg = (nb101_config){.stem = 8, .stacks = 7, .cells = 1, .classes = 10};
    CHECK(nb101net_build(&g, &cfg, why, sizeof why) == NULL && strstr(why, "stacks"));
}

int main(int argc, char **argv) {
    openblas_set_num_threads(1);
    const char *fixtures = argc > 1 ? argv[1] : "tests/fixtures/cellnet";
    test_against_pytorch(fixtures, "tiny_a", 6, "010101001100000010000001000001000000", "-1:0:2:1:0:-2", 5, 2, 1, 8, 3,
                         2.297378276862688);
    test_against_pytorch(fixtures, "best_small", CELLS[5].n, CELLS[5].adj, CELLS[5].ops, 4, 2, 2, 6, 2,
                         2.4874607697513267);
    test_param_counts();
    test_conv_vs_cnn(3, 2, 6, 3, 3, 1, 1, 1);
    test_conv_vs_cnn(4, 3, 7, 5, 3, 2, 1, 0);
    test_conv_vs_cnn(2, 4, 5, 3, 1, 1, 0, 1);   // pointwise: one GEMM for the batch
    test_conv_vs_cnn(5, 3, 6, 2, 1, 2, 0, 0);   // 1x1 stride 2 goes through im2col
    test_conv_vs_cnn(9, 64, 32, 4, 3, 1, 1, 0); // tasks of 2 and 3 images, 1 image per chunk
    test_conv_dinput(3, 2, 6, 3, 3, 1, 1);
    test_conv_dinput(9, 64, 32, 4, 3, 1, 1);
    test_conv_dinput(2, 4, 5, 3, 1, 1, 0);
    test_conv_dinput(3, 3, 7, 4, 5, 2, 2);
    test_maxpool(3, 2, 5, 7, 3);
    test_maxpool(2, 3, 1, 1, 3);
    test_maxpool(2, 2, 2, 3, 3);
    test_maxpool(2, 2, 9, 13, 3);
    test_maxpool(4, 3, 32, 32, 3);
    test_maxpool(3, 2, 6, 8, 2);
    test_maxpool(2, 3, 5, 7, 2); // odd sides: the last row and column are dropped
    test_maxpool(4, 3, 32, 32, 2);
    test_subsample();
    test_gradcheck_all_ops();
    test_gradcheck_nb101();
    test_eval_and_determinism();
    test_threads_bitwise();
    test_build_errors();
    return check_summary();
}
