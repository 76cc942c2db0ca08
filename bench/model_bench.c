/* model_bench: throughput, peak memory and analytic FLOPs of the SVGe model on NB101-shaped data.
 *
 *   graph-parse nb101 | stream-split --ratio 0.01 --seed 1 | model_bench [--what train|encode|decode|all]
 *       [--graphs N] [--seconds S] [--batch B] [--model FILE] [--threads T]
 *
 * Reads graph records on stdin (one space; NB101 expected), keeps up to --graphs of them (default
 * all), builds a model at the reference dims (K of the space, ndim 250, gdim 56) with svge_init,
 * then times, each for about --seconds (default 10) after a short warm-up, on --threads worker
 * threads (lib/parallel.h; OpenBLAS single-threaded in each; default 1):
 *   train   svge_train_step + adam_step over shuffled batches of --batch (128) graphs, batch
 *           gathering included ("end to end" with the data already in memory);
 *   encode  eval-mode encoding (z = mu) of 4 batches of --batch graphs per call, each batch one
 *           task (lib/vae_team.h, as svge-encode runs it);
 *   decode  generation of 4 x --batch latent points z ~ N(0,1) per call, --batch rows a task
 *           (lib/vae_team.h, as svge-decode runs it): GENERATE_SAMPLE, both directions, union
 *           merge (the reference's stochastic decoding), max_n of the space.
 * --threads LIST (e.g. 1,2) times each task at every count of the list in alternating rounds (the
 * host's drift hits all alike) and prints each count's rate and its ratio to the first count's,
 * overall and round by round.
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
#include "parallel.h"
#include "record.h"
#include "rng.h"
#include "space.h"
#include "stream.h"
#include "svge.h"
#include "vae_team.h"
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
static uint64_t g_flops_count; /* atomic: the library calls BLAS from several threads */

static double flops_now(void) { return (double)__atomic_load_n(&g_flops_count, __ATOMIC_RELAXED); }
static void flops_add(double f) { __atomic_fetch_add(&g_flops_count, (uint64_t)f, __ATOMIC_RELAXED); }

#define REAL(name) static __typeof__(name) *real; if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                 OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint M,
                 OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha,
                 OPENBLAS_CONST float *A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *B,
                 OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *C,
                 OPENBLAS_CONST blasint ldc) {
    REAL(cblas_sgemm);
    flops_add(2.0 * (double)M * (double)N * (double)K);
    real(o, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void cblas_sgemv(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE t,
                 OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n, OPENBLAS_CONST float alpha,
                 OPENBLAS_CONST float *a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *x,
                 OPENBLAS_CONST blasint incx, OPENBLAS_CONST float beta, float *y,
                 OPENBLAS_CONST blasint incy) {
    REAL(cblas_sgemv);
    flops_add(2.0 * (double)m * (double)n);
    real(o, t, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

void cblas_sger(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST blasint m,
                OPENBLAS_CONST blasint n, OPENBLAS_CONST float alpha, OPENBLAS_CONST float *x,
                OPENBLAS_CONST blasint incx, OPENBLAS_CONST float *y, OPENBLAS_CONST blasint incy,
                float *a, OPENBLAS_CONST blasint lda) {
    REAL(cblas_sger);
    flops_add(2.0 * (double)m * (double)n);
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

/* ---------------------------------------------------------------- tasks */
#define MAX_COUNTS 8
#define MAX_ROUNDS 16
#define TEAM_BATCHES 4 /* encode, decode: batches per call, one task each */
/* What a timed task needs. */
typedef struct {
    dataset *ds;
    svge_model *m;
    vae_config cfg;
    int batch;
    graph *bg;
    size_t *perm, pos;
    vae_train t;           /* train: Adam and the rng */
    par_pool *pool[MAX_COUNTS]; /* train: a pool per thread count */
    vae_team team[MAX_COUNTS];  /* encode, decode: a team per thread count */
    float *mu;             /* encode: (TEAM_BATCHES*batch,D) */
    generate_opts o;
    float *z;
    uint64_t *ids, next_id;
    graph *out;
    uint8_t *flags;
    rng_mt zr;
    long long mismatch, valid, last; /* decode: counts of the last timed run, its graphs */
    double nodes;
} bench_state;

/* One unit of a task's work on the c-th thread count; returns the graphs done. timing: count side facts. */
typedef long long (*bench_step)(bench_state *b, int c, int timing);

static long long train_step(bench_state *b, int c, int timing) {
    (void)timing;
    par_pool *pool = b->pool[c];
    const dataset *ds = b->ds;
    int B = 0;
    while (B < b->batch) { /* gather a batch, reshuffling at the end of each epoch */
        if (b->pos == ds->n) {
            for (size_t i = ds->n - 1; i > 0; i--) {
                size_t j = (size_t)(rng_double(&b->t.rng) * (double)(i + 1));
                if (j > i) j = i;
                size_t x = b->perm[i]; b->perm[i] = b->perm[j]; b->perm[j] = x;
            }
            b->pos = 0;
        }
        b->bg[B++] = ds->g[b->perm[b->pos++]];
    }
    vae_terms terms;
    svge_set_pool(b->m, pool);
    if (svge_train_step(b->m, b->bg, B, &b->t.rng, &terms)) die(EXIT_DATA, "a batch does not fit the model");
    adam_step_par(&b->t.opt, b->m->params, b->m->grads, pool);
    if (!isfinite(terms.total)) die(EXIT_DATA, "training loss is not finite");
    return B;
}

static long long encode_step(bench_state *b, int c, int timing) {
    (void)timing;
    const dataset *ds = b->ds;
    const size_t want = (size_t)TEAM_BATCHES * b->batch;
    if (b->pos >= ds->n) b->pos = 0;
    int B = ds->n - b->pos < want ? (int)(ds->n - b->pos) : (int)want;
    if (vae_team_encode(&b->team[c], ds->g + b->pos, B, b->batch, b->mu, NULL))
        die(EXIT_DATA, "a batch does not fit the model");
    b->pos += (size_t)B;
    return B;
}

static long long decode_step(bench_state *b, int c, int timing) {
    const int batch = TEAM_BATCHES * b->batch;
    for (int i = 0; i < batch * b->cfg.D; i++) b->z[i] = (float)rng_gauss(&b->zr);
    for (int i = 0; i < batch; i++) b->ids[i] = b->next_id++;
    if (vae_team_generate(&b->team[c], b->z, batch, b->batch, b->ids, &b->o, b->out, b->flags))
        die(EXIT_IO, "generate_batch failed");
    if (timing) { /* bookkeeping outside the decoder, but cheap */
        char why[256];
        for (int r = 0; r < batch; r++) {
            b->nodes += b->out[r].n;
            b->mismatch += b->flags[r] & GENERATE_NMISMATCH;
            b->valid += graph_check(b->ds->sp, &b->out[r], why, sizeof why) == 0;
        }
    }
    return batch;
}

typedef struct {
    long long graphs;
    double seconds, flops;
} bench_result;

/* step repeatedly on the c-th thread count for secs after a warm-up of warm seconds. */
static bench_result run_for(bench_state *b, bench_step step, int c, double secs, double warm) {
    bench_result r = {0};
    const double warm_end = now() + warm;
    while (now() < warm_end) step(b, c, 0);
    b->mismatch = b->valid = 0, b->nodes = 0;
    const double t0 = now(), f0 = flops_now();
    while (now() - t0 < secs) r.graphs += step(b, c, 1);
    r.seconds = now() - t0;
    r.flops = flops_now() - f0;
    b->last = r.graphs;
    return r;
}


/* Time one task at every thread count (rounds alternating the counts) and report. */
static void bench_task(bench_state *b, const char *task, bench_step step, const char *ref, const int *counts,
                       int ncounts, int rounds, double seconds) {
    bench_result sum[MAX_COUNTS] = {0};
    double rate[MAX_ROUNDS][MAX_COUNTS];
    const double each = seconds / rounds, warm = each < 10 ? each / 10 : 1.0;
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < ncounts; c++) {
            bench_result x = run_for(b, step, c, each, warm);
            sum[c].graphs += x.graphs, sum[c].seconds += x.seconds, sum[c].flops += x.flops;
            rate[r][c] = x.seconds > 0 ? (double)x.graphs / x.seconds : 0;
        }
    for (int c = 0; c < ncounts; c++) {
        char label[32];
        snprintf(label, sizeof label, ncounts > 1 ? "%s/%d" : "%s", task, counts[c]);
        report(label, sum[c].graphs, sum[c].seconds, ref, sum[c].flops);
    }
    for (int c = 1; c < ncounts; c++) {
        const double r0 = (double)sum[0].graphs / sum[0].seconds, rc = (double)sum[c].graphs / sum[c].seconds;
        printf("%s: %d threads / %d = %.2fx (rounds:", task, counts[c], counts[0], rc / r0);
        for (int r = 0; r < rounds; r++) printf(" %.2f", rate[r][c] / rate[r][0]);
        printf(")\n");
    }
    fflush(stdout);
}

/* "1,2,3" -> counts; returns how many. */
static int parse_counts(const char *v, int *counts) {
    int n = 0;
    const char *p = v;
    for (;;) {
        char *end;
        long t = strtol(p, &end, 10);
        if (end == p || t < 1 || t > 256 || n == MAX_COUNTS)
            die_usage("--threads: up to %d integers in 1..256, comma-separated, not %s", MAX_COUNTS, v);
        counts[n++] = (int)t;
        if (!*end) return n;
        if (*end != ',') die_usage("--threads: up to %d integers in 1..256, comma-separated, not %s", MAX_COUNTS, v);
        p = end + 1;
    }
}

/* ---------------------------------------------------------------- main */
int main(int argc, char **argv) {
    tool_init(argv[0]);
    const char *what = "all", *model_path = NULL;
    int counts[MAX_COUNTS] = {1}, ncounts = 1, rounds = 0;
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
                   "  --seconds  timed seconds per task and thread count, after a warm-up (10)\n"
                   "  --batch    graphs per batch (128)\n"
                   "  --model    FILE: a trained SVGe model (of stdin's space) instead of fresh weights\n"
                   "  --threads  LIST: worker thread counts, e.g. 1,2: each task at each count, in\n"
                   "             alternating rounds, with the ratios to the first count (1)\n"
                   "  --rounds   N: rounds per task when several counts are given (4)\n");
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
            ncounts = parse_counts(v, counts);
        } else if (!strcmp(a, "--rounds")) {
            long r = strtol(v, &end, 10);
            if (*end || r < 1 || r > MAX_ROUNDS) die_usage("--rounds: an integer in 1..%d, not %s", MAX_ROUNDS, v);
            rounds = (int)r;
        } else if (!strcmp(a, "--model")) {
            model_path = v;
        } else if (!strcmp(a, "--batch")) {
            long b = strtol(v, &end, 10);
            if (*end || b < 1 || b > 4096) die_usage("--batch: an integer in 1..4096, not %s", v);
            batch = (int)b;
        } else die_usage("unknown option %s", a);
    }
    if (!rounds) rounds = ncounts > 1 ? 4 : 1;
    const int all = !strcmp(what, "all");
    const int do_train = all || !strcmp(what, "train"), do_enc = all || !strcmp(what, "encode"),
              do_dec = all || !strcmp(what, "decode");

    dataset ds;
    read_graphs(&ds, limit > 0 ? (size_t)limit : (size_t)-1);
    double mean_n = 0;
    for (size_t i = 0; i < ds.n; i++) mean_n += ds.g[i].n;
    mean_n /= (double)ds.n;

    par_blas_single();
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
    char list[64] = "";
    for (int c = 0; c < ncounts; c++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", c ? "," : "", counts[c]);
    printf("== model_bench: %zu %s graphs (mean %.2f nodes), K %d, ndim %d, gdim %d, batch %d, "
           "%zu parameters, %s worker thread(s) (OpenBLAS 1 each), %s; load peak RSS %.1f MB\n",
           ds.n, ds.sp->name, mean_n, cfg.K, cfg.C2, cfg.D, batch, m.num_params, list,
           model_path ? model_path : "untrained weights", peak_rss_mb());
    fflush(stdout);

    bench_state b = {.ds = &ds, .m = &m, .cfg = cfg, .batch = batch};
    b.bg = xmalloc((size_t)batch * sizeof *b.bg);
    b.perm = xmalloc(ds.n * sizeof *b.perm);
    for (size_t i = 0; i < ds.n; i++) b.perm[i] = i;

    if (do_train) {
        vae_train_setup(&b.t, m.num_params, &m.cfg);
        b.pos = ds.n; /* forces a shuffle first */
        for (int c = 0; c < ncounts; c++) b.pool[c] = par_create(counts[c]);
        bench_task(&b, "train", train_step, "reference ~245 end to end / ~340 without data loading; target >= 500",
                   counts, ncounts, rounds, seconds);
        svge_set_pool(&m, NULL);
        for (int c = 0; c < ncounts; c++) par_free(b.pool[c]);
        vae_train_free(&b.t);
    }

    if (do_enc || do_dec) { /* the teams load the model from a file: write these weights to one */
        char path[] = "/tmp/model_bench.XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0) die(EXIT_IO, "cannot create a temporary model file");
        close(fd);
        svge_save(path, &m, NULL, NULL, 0, NULL);
        model_file *tf = mf_read(path);
        unlink(path);
        for (int c = 0; c < ncounts; c++) vae_team_load(&b.team[c], tf, batch, counts[c]);
        mf_free(tf);
    }

    if (do_enc) {
        b.mu = xmalloc((size_t)TEAM_BATCHES * batch * cfg.D * sizeof(float));
        b.pos = 0;
        bench_task(&b, "encode", encode_step, "reference ~7,600-9,700; target >= 15,000", counts, ncounts, rounds,
                   seconds);
        free(b.mu);
    }

    if (do_dec) {
        for (int c = 0; c < ncounts; c++)
            if (vae_team_generate_init(&b.team[c], batch)) die(EXIT_IO, "cannot allocate the decoder's workspaces");
        b.o = (generate_opts){.max_n = ds.sp->max_nodes, .mode = GENERATE_SAMPLE, .forward_only = false, .seed = cfg.seed};
        const size_t rows = (size_t)TEAM_BATCHES * batch;
        b.z = xmalloc(rows * cfg.D * sizeof(float));
        b.ids = xmalloc(rows * sizeof *b.ids);
        b.out = xmalloc(rows * sizeof *b.out);
        b.flags = xmalloc(rows);
        rng_seed(&b.zr, 12345);
        bench_task(&b, "decode", decode_step, "reference ~650; target >= 1,500", counts, ncounts, rounds, seconds);
        const double g = b.last ? (double)b.last : 1;
        printf("decode: mean %.2f nodes, %.1f%% node-count mismatches, %.1f%% valid in the last run (%s)\n",
               b.nodes / g, 100.0 * (double)b.mismatch / g, 100.0 * (double)b.valid / g,
               model_path ? model_path : "untrained weights");
        free(b.z), free(b.ids), free(b.out), free(b.flags);
    }
    if (do_enc || do_dec)
        for (int c = 0; c < ncounts; c++) vae_team_free(&b.team[c]);

    free(b.bg), free(b.perm), free(ds.g);
    svge_free(&m);
    return EXIT_OK;
}
