/* model_bench: throughput, peak memory and analytic FLOPs of the SVGe model on NB101-shaped data.
 *
 *   graph-parse nb101 | stream-split --ratio 0.01 --seed 1 | model_bench [--what train|encode|decode|all]
 *       [--graphs N] [--seconds S] [--batch B] [--model FILE] [--threads T]
 *
 * Reads graph records on stdin (one space; NB101 expected), keeps up to --graphs of them (default
 * all), builds a model at the reference dims (K of the space, ndim 250, gdim 56) with svge_init,
 * then times, each for about --seconds (default 10) after a short warm-up, on --threads OpenBLAS
 * threads (default 1):
 *   train   svge_train_step + adam_step over shuffled batches of --batch (128) graphs, batch
 *           gathering included ("end to end" with the data already in memory);
 *   encode  svge_encode (eval mode, z = mu) over batches of --batch graphs;
 *   decode  generate_batch of --batch latent points z ~ N(0,1) per call: GENERATE_SAMPLE, both
 *           directions, union merge (the reference's stochastic decoding), max_n of the space.
 * Prints per task "TASK: N graphs in S s = R graphs/s (reference ...; target ...)", the peak RSS
 * after the phase (getrusage ru_maxrss: a process-wide maximum, so with --what all the later
 * phases' values include the earlier ones; run one task per process for per-task peaks), and the
 * BLAS FLOPs per graph with the achieved GFLOP/s.
 *
 * FLOP count: counted, not estimated: 2*M*N*K for every cblas_sgemm call the library makes (and
 * 2*m*n per sgemv/sger), through the wrappers below, during the timed window; elementwise work
 * (gathers, biases, activations, GRU gates, losses, Adam) is not included. Decoding with an
 * untrained model generates random node counts, so its FLOPs per graph are not those of a
 * trained model's decodings. */
#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "generate.h"
#include "graph.h"
#include "record.h"
#include "rng.h"
#include "space.h"
#include "stream.h"
#include "svge.h"
#include "util.h"


static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---------------------------------------------------------------- counted FLOPs */
/* Every BLAS call of the library is counted here: this program defines cblas_sgemm, cblas_sgemv
 * and cblas_sger itself (the dynamic linker binds the library's calls to these), adds the call's
 * multiply-adds x 2 to g_flops and forwards to OpenBLAS's function (dlsym RTLD_NEXT). */
static double g_flops;

#define REAL(name) static __typeof__(name) *real; if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                 OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint M,
                 OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha,
                 OPENBLAS_CONST float *A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *B,
                 OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *C,
                 OPENBLAS_CONST blasint ldc) {
    REAL(cblas_sgemm);
    g_flops += 2.0 * (double)M * (double)N * (double)K;
    real(o, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void cblas_sgemv(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE t,
                 OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n, OPENBLAS_CONST float alpha,
                 OPENBLAS_CONST float *a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *x,
                 OPENBLAS_CONST blasint incx, OPENBLAS_CONST float beta, float *y,
                 OPENBLAS_CONST blasint incy) {
    REAL(cblas_sgemv);
    g_flops += 2.0 * (double)m * (double)n;
    real(o, t, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

void cblas_sger(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST blasint m,
                OPENBLAS_CONST blasint n, OPENBLAS_CONST float alpha, OPENBLAS_CONST float *x,
                OPENBLAS_CONST blasint incx, OPENBLAS_CONST float *y, OPENBLAS_CONST blasint incy,
                float *a, OPENBLAS_CONST blasint lda) {
    REAL(cblas_sger);
    g_flops += 2.0 * (double)m * (double)n;
    real(o, m, n, alpha, x, incx, y, incy, a, lda);
}

/* ---------------------------------------------------------------- data */
typedef struct {
    graph *g;
    size_t n, cap;
    const space_info *sp;
} dataset;

static void read_graphs(dataset *ds, size_t limit) {
    if (isatty(STDIN_FILENO))
        die_usage("no record stream on stdin: pipe NB101 graphs in, e.g. "
                  "graph-parse nb101 | stream-split --ratio 0.01 --seed 1 | model_bench");
    rec_reader *r = rr_open(NULL);
    const msgpack_object *rec;
    *ds = (dataset){0};
    while (ds->n < limit && (rec = rr_next(r))) {
        const space_info *sp;
        graph g;
        char why[512];
        if (graph_read(rec, &sp, &g, why, sizeof why) != 0) rr_fail(r, "%s", why);
        if (ds->sp && sp != ds->sp) rr_fail(r, "space %s, but the graphs so far are %s", sp->name, ds->sp->name);
        if (graph_check(sp, &g, why, sizeof why) != 0) rr_fail(r, "invalid %s graph: %s", sp->name, why);
        ds->sp = sp;
        if (ds->n == ds->cap) {
            ds->cap = ds->cap ? 2 * ds->cap : 4096;
            ds->g = xrealloc(ds->g, ds->cap * sizeof *ds->g);
        }
        ds->g[ds->n++] = g;
    }
    if (ds->n == 0) die(EXIT_DATA, "%s: no graph records on stdin: nothing to benchmark", rr_name(r));
    rr_close(r);
}

static void report(const char *task, long long graphs, double s, const char *ref, double flops_total) {
    double rate = s > 0 ? (double)graphs / s : 0;
    printf("%-6s: %lld graphs in %.2f s = %.0f graphs/s (%s)\n", task, graphs, s, rate, ref);
    printf("%-6s: peak RSS %.1f MB; %.2f MFLOP/graph (BLAS calls, counted), %.2f GFLOP/s\n", task,
           peak_rss_mb(), graphs ? flops_total / (double)graphs / 1e6 : 0, s > 0 ? flops_total / s / 1e9 : 0);
    fflush(stdout);
}

/* ---------------------------------------------------------------- main */
int main(int argc, char **argv) {
    tool_init(argv[0]);
    const char *what = "all", *model_path = NULL;
    int threads = 1;
    long long limit = -1;
    double seconds = 10;
    int batch = 128;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("Usage: model_bench [--what train|encode|decode|all] [--graphs N] [--seconds S] [--batch B]\n"
                   "Time SVGe training, encoding and stochastic decoding on the graph records of stdin\n"
                   "(e.g. graph-parse nb101 | stream-split --ratio 0.01 --seed 1 | model_bench).\n"
                   "  --what     task(s) to time (all)\n"
                   "  --graphs   graphs to keep from stdin (all)\n"
                   "  --seconds  timed seconds per task, after a warm-up (10)\n"
                   "  --batch    graphs per batch (128)\n"
                   "  --model    FILE: a trained SVGe model (of stdin's space) instead of fresh weights\n"
                   "  --threads  OpenBLAS threads (1)\n");
            return EXIT_OK;
        }
        if (i + 1 >= argc) die_usage("%s needs a value", a);
        const char *v = argv[++i];
        char *end;
        if (!strcmp(a, "--what")) {
            if (strcmp(v, "train") && strcmp(v, "encode") && strcmp(v, "decode") && strcmp(v, "all"))
                die_usage("--what: train, encode, decode or all, not %s", v);
            what = v;
        } else if (!strcmp(a, "--graphs")) {
            limit = strtoll(v, &end, 10);
            if (*end || limit < 1) die_usage("--graphs: a positive integer, not %s", v);
        } else if (!strcmp(a, "--seconds")) {
            seconds = strtod(v, &end);
            if (*end || !(seconds > 0) || seconds > 1e6) die_usage("--seconds: a positive number, not %s", v);
        } else if (!strcmp(a, "--threads")) {
            long t = strtol(v, &end, 10);
            if (*end || t < 1 || t > 256) die_usage("--threads: an integer in 1..256, not %s", v);
            threads = (int)t;
        } else if (!strcmp(a, "--model")) {
            model_path = v;
        } else if (!strcmp(a, "--batch")) {
            long b = strtol(v, &end, 10);
            if (*end || b < 1 || b > 4096) die_usage("--batch: an integer in 1..4096, not %s", v);
            batch = (int)b;
        } else die_usage("unknown option %s", a);
    }
    const int all = !strcmp(what, "all");
    const int do_train = all || !strcmp(what, "train"), do_enc = all || !strcmp(what, "encode"),
              do_dec = all || !strcmp(what, "decode");

    dataset ds;
    read_graphs(&ds, limit > 0 ? (size_t)limit : (size_t)-1);
    double mean_n = 0;
    for (size_t i = 0; i < ds.n; i++) mean_n += ds.g[i].n;
    mean_n /= (double)ds.n;

    blas_use_threads(threads);
    vae_config cfg = vae_default_config(ds.sp->id);
    char err[256];
    svge_model m;
    model_file *mf = model_path ? mf_read(model_path) : NULL;
    if (mf) svge_config_read(mf, &cfg);
    if (cfg.space != ds.sp->id) die(EXIT_DATA, "%s: a model of another space than stdin's %s", model_path, ds.sp->name);
    if (svge_build(&m, &cfg, batch, err, sizeof err)) die(EXIT_IO, "%s", err);
    rng_mt rng;
    rng_seed(&rng, cfg.seed);
    if (mf) svge_load(&m, mf), mf_free(mf);
    else svge_init(&m, &rng);
    printf("== model_bench: %zu %s graphs (mean %.2f nodes), K %d, ndim %d, gdim %d, batch %d, "
           "%zu parameters, %d OpenBLAS thread(s), %s; load peak RSS %.1f MB\n",
           ds.n, ds.sp->name, mean_n, cfg.K, cfg.C2, cfg.D, batch, m.num_params, threads,
           model_path ? model_path : "untrained weights", peak_rss_mb());
    fflush(stdout);

    graph *bg = xmalloc((size_t)batch * sizeof *bg);
    size_t *perm = xmalloc(ds.n * sizeof *perm);
    for (size_t i = 0; i < ds.n; i++) perm[i] = i;

    if (do_train) {
        vae_train t;
        vae_train_setup(&t, m.num_params, &m.cfg);
        size_t pos = ds.n; /* forces a shuffle first */
        long long graphs = 0;
        double f0 = 0, t0 = 0;
        int timing = 0;
        double warm_end = now() + (seconds < 10 ? seconds / 10 : 1.0);
        for (;;) {
            double tn = now();
            if (!timing && tn >= warm_end) timing = 1, t0 = tn, graphs = 0, f0 = g_flops;
            if (timing && tn - t0 >= seconds) break;
            int B = 0;
            while (B < batch) { /* gather a batch, reshuffling at the end of each epoch */
                if (pos == ds.n) {
                    for (size_t i = ds.n - 1; i > 0; i--) {
                        size_t j = (size_t)(rng_double(&t.rng) * (double)(i + 1));
                        if (j > i) j = i;
                        size_t x = perm[i]; perm[i] = perm[j]; perm[j] = x;
                    }
                    pos = 0;
                }
                bg[B++] = ds.g[perm[pos++]];
            }
            vae_terms terms;
            if (svge_train_step(&m, bg, B, &t.rng, &terms)) die(EXIT_DATA, "a batch does not fit the model");
            adam_step(&t.opt, m.params, m.grads);
            if (!isfinite(terms.total)) die(EXIT_DATA, "training loss is not finite");
            graphs += B;
        }
        report("train", graphs, now() - t0, "reference ~245 end to end / ~340 without data loading; target >= 500", g_flops - f0);
        vae_train_free(&t);
    }

    if (do_enc) {
        float *mu = xmalloc((size_t)batch * cfg.D * sizeof(float));
        size_t pos = 0;
        long long graphs = 0;
        double f0 = 0, t0 = 0;
        int timing = 0;
        double warm_end = now() + (seconds < 10 ? seconds / 10 : 1.0);
        for (;;) {
            double tn = now();
            if (!timing && tn >= warm_end) timing = 1, t0 = tn, graphs = 0, f0 = g_flops;
            if (timing && tn - t0 >= seconds) break;
            if (pos >= ds.n) pos = 0;
            int B = ds.n - pos < (size_t)batch ? (int)(ds.n - pos) : batch;
            if (svge_encode(&m, ds.g + pos, B, mu, NULL)) die(EXIT_DATA, "a batch does not fit the model");
            graphs += B;
            pos += (size_t)B;
        }
        report("encode", graphs, now() - t0, "reference ~7,600-9,700; target >= 15,000", g_flops - f0);
        free(mu);
    }

    if (do_dec) {
        generate_ws w;
        if (generate_ws_init(&w, m.dcfg, batch, ds.sp->max_nodes)) die(EXIT_IO, "cannot allocate the decoder's workspace");
        generate_opts o = {.max_n = ds.sp->max_nodes, .mode = GENERATE_SAMPLE, .forward_only = false, .seed = cfg.seed};
        float *z = xmalloc((size_t)batch * cfg.D * sizeof(float));
        uint64_t *ids = xmalloc((size_t)batch * sizeof *ids);
        graph *out = xmalloc((size_t)batch * sizeof *out);
        uint8_t *flags = xmalloc((size_t)batch);
        rng_mt zr;
        rng_seed(&zr, 12345);
        long long graphs = 0, mismatch = 0, valid = 0;
        uint64_t next_id = 0;
        double f0 = 0, t0 = 0, nodes = 0;
        int timing = 0;
        double warm_end = now() + (seconds < 10 ? seconds / 10 : 1.0);
        for (;;) {
            double tn = now();
            if (!timing && tn >= warm_end) timing = 1, t0 = tn, graphs = mismatch = valid = 0, f0 = g_flops, nodes = 0;
            if (timing && tn - t0 >= seconds) break;
            for (int i = 0; i < batch * cfg.D; i++) z[i] = (float)rng_gauss(&zr);
            for (int i = 0; i < batch; i++) ids[i] = next_id++;
            if (generate_batch(&w, &m.dec, z, batch, ids, &o, out, flags)) die(EXIT_IO, "generate_batch failed");
            if (timing) { /* bookkeeping outside the decoder, but cheap */
                char why[256];
                for (int r = 0; r < batch; r++) {
                    nodes += out[r].n;
                    mismatch += flags[r] & GENERATE_NMISMATCH;
                    valid += graph_check(ds.sp, &out[r], why, sizeof why) == 0;
                }
            }
            graphs += batch;
        }
        double s = now() - t0;
        report("decode", graphs, s, "reference ~650; target >= 1,500", g_flops - f0);
        printf("decode: mean %.2f nodes, %.1f%% node-count mismatches, %.1f%% valid (%s)\n",
               graphs ? nodes / (double)graphs : 0, graphs ? 100.0 * (double)mismatch / (double)graphs : 0,
               graphs ? 100.0 * (double)valid / (double)graphs : 0,
               model_path ? model_path : "untrained weights");
        free(z), free(ids), free(out), free(flags);
        generate_ws_free(&w);
    }

    free(bg), free(perm), free(ds.g);
    svge_free(&m);
    return EXIT_OK;
}
