/* bo-propose: Bayesian optimisation's proposal step. Reads evaluated records (an input vector,
 * by default the latent mean "z", and the observed objective), fits an exact GP (lib/gp.h) and
 * writes a batch of q proposals chosen by expected improvement with the kriging believer
 * (lib/bo.h): free latent points maximised inside the box of the data (grid, then L-BFGS), or,
 * with --pool, records of a pool of encoded cells (acquisition over a finite set, as arch2vec does
 * for NAS-Bench-101, whose accuracies are known for 20,001 cells only).
 * Memory: the evaluated points, the candidates ((grid or pool) x (n + q) doubles) and, with
 * --pool, the candidate records' bytes. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo.h"
#include "graph.h"
#include "latent.h"
#include "opts.h"
#include "points.h"
#include "propose.h"
#include "record.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

#define MAX_BATCH 10000
#define MAX_GRID 1000000
#define MAX_LOCAL_ITERS 100000
#define MAX_EXACT 8000
#define MAX_SEED (UINT32_MAX >> 1)

static void usage(void) {
    printf("Usage: %s --y FIELD [OPTION]... [FILE]\n"
           "Read evaluated records (FILE, or stdin if absent or '-'), each with an input vector (the latent\n"
           "mean \"z\" that svge-encode writes, by default) and the observed objective FIELD, fit a Gaussian\n"
           "process to them (exact; squared-exponential kernel with ARD length-scales, hyperparameters by\n"
           "maximising the marginal likelihood, as gp-fit) and write a batch of proposals: the points with\n"
           "the largest expected improvement (EI) over the best objective so far, one after another, each\n"
           "added to the GP as a fantasised observation equal to its predicted mean before the next is\n"
           "chosen (the kriging believer), so that a batch spreads out instead of repeating one point.\n"
           "The objective is maximised (the reference's NB101 search minimised raw accuracies:\n"
           "formats/reference.md §8 bug 5); --minimize turns it round.\n"
           "\n"
           "Free points (default): the candidates are --grid points drawn uniformly (seeded) in the box of\n"
           "the evaluated inputs (per dimension their smallest to largest value); each proposal starts\n"
           "from the candidate of largest EI and is refined by L-BFGS inside the box. Output: one record\n"
           "per proposal, {\"v\", \"id\" (0..q-1), the input field (\"z\", float32), its provenance field (for\n"
           "\"z\": \"model\", the id of the model that encoded the inputs, so svge-decode can decode it),\n"
           "\"proposal\": {\"method\": \"bo\", \"ei\", \"mean\", \"std\" (of the objective at the point, before\n"
           "it was added)}}.\n"
           "With --pool POOL: the candidates are POOL's records (encoded cells, with the same input field\n"
           "and provenance) whose graph is not one of the evaluated ones (graph_key: isomorphism-aware, NB101\n"
           "cells pruned first; evaluated records must then be graph records) and, with --require F, have\n"
           "field F; a cell that appears twice in POOL counts once. The q chosen records are written as they\n"
           "are in POOL, with \"proposal\" added (replacing one already there). Fewer candidates than q: all\n"
           "of them, and a warning.\n"
           "\n"
           "  -y, --y FIELD        the objective, a number (required), e.g. c10valid_val_200ep_mean (NB201)\n"
           "                       or val_acc_108ep (NB101); every record must have it\n"
           "  -n, --batch Q        proposals to write, 1..%d (default 50)\n"
           "  -x, --x FIELD        the input vector (default \"z\")\n"
           "      --minimize       minimise the objective instead (EI of -FIELD)\n"
           "      --warp W         none: the GP models FIELD itself (default, as the reference); error-log:\n"
           "                       it models -log(1 - FIELD), for an accuracy (a fraction below 1): the\n"
           "                       log error rate spreads the best cells apart and pulls in the long tail\n"
           "                       of failed ones, which a stationary kernel fits far better (EI is then\n"
           "                       in those units; \"mean\" and \"std\" stay in FIELD's)\n"
           "      --pool POOL      choose among POOL's records instead of free points\n"
           "      --require F      with --pool: only records that have field F\n"
           "      --grid N         free points: uniform candidates in the box, 0..%d (default 10000, as\n"
           "                       the reference)\n"
           "      --near N         free points: also N candidates around the --near-top K best evaluated\n"
           "                       points (each a Gaussian step of --near-scale S times the box's width\n"
           "                       per dimension, clipped into the box; a trust region); with --grid 0\n"
           "                       only these: the decoder then sees points near cells it encoded\n"
           "                       (default 0; K 10, S 0.05)\n"
           "      --local-iters N  free points: L-BFGS iterations refining each proposal, 0..%d; 0 keeps\n"
           "                       the best candidate (default 150, as the reference)\n"
           "      --xi X           EI's margin: improvement counts above best + X (default 0)\n"
           "      --seed S         seed of the grid and of the GP's hyperparameter restarts, 0..%u\n"
           "                       (default 1)\n"
           "      --gp-iters N     L-BFGS iterations of the hyperparameter fit, 0..100000 (default 50)\n"
           "      --exact-max N    most evaluated points accepted, 2..%d (default 4000; the GP is exact)\n"
           OPTS_FORCE_HELP("          ")
           "  -q, --quiet          only errors and warnings on stderr (no report)\n"
           "  -v, --verbose        also a summary on stderr (records read and written)\n"
           BLAS_THREADS_HELP("      ")
           "  -h, --help           show this help and exit\n"
           "\n"
           "Report (stderr, unless -q): points, best objective, jitter (if the kernel needed it), the mean\n"
           "EI of the proposals and the seconds.\n"
           "The same records and options give the same bytes.\n"
           "\n"
           "Bad input (exit 1): a record without the input vector or the objective, or with values that are\n"
           "not finite numbers; inputs of differing provenance or length (the pool's included); fewer than\n"
           "2 evaluated points; all objectives equal (nothing to model: add points that differ, e.g. a random\n"
           "initial design); more points than --exact-max; with --pool, a record that is not a graph.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_BATCH, MAX_GRID, MAX_LOCAL_ITERS, MAX_SEED, MAX_EXACT);
}

typedef struct {
    const char *x, *y, *pool, *require, *input;
    int batch, grid, local_iters, minimize;
    int near, near_top;  /* --near N candidates around the --near-top K best evaluated points */
    double near_scale;
    int warp;        /* WARP_NONE or WARP_ERROR_LOG */
    double xi;
    gp_opts gp;
} options;

enum { WARP_NONE = 0, WARP_ERROR_LOG = 1 };

/* The GP's target from an objective value, and back (error-log: an accuracy y < 1 as -log(1 - y)). */
static double warp_to(int warp, double y) { return warp == WARP_ERROR_LOG ? -log1p(-y) : y; }
static double warp_from(int warp, double t) { return warp == WARP_ERROR_LOG ? -expm1(-t) : t; }

static void parse_args(int argc, char **argv, options *o, int *threads) {
    enum { OPT_MIN = 256, OPT_WARP, OPT_POOL, OPT_REQUIRE, OPT_GRID, OPT_NEAR, OPT_NEAR_SCALE, OPT_NEAR_TOP, OPT_LOCAL,
           OPT_XI, OPT_SEED, OPT_GP_ITERS, OPT_EXACT_MAX, OPT_THREADS };
    static const struct option longopts[] = {
        {"y", required_argument, NULL, 'y'},
        {"batch", required_argument, NULL, 'n'},
        {"x", required_argument, NULL, 'x'},
        {"minimize", no_argument, NULL, OPT_MIN},
        {"warp", required_argument, NULL, OPT_WARP},
        {"pool", required_argument, NULL, OPT_POOL},
        {"require", required_argument, NULL, OPT_REQUIRE},
        {"grid", required_argument, NULL, OPT_GRID},
        {"near", required_argument, NULL, OPT_NEAR},
        {"near-scale", required_argument, NULL, OPT_NEAR_SCALE},
        {"near-top", required_argument, NULL, OPT_NEAR_TOP},
        {"local-iters", required_argument, NULL, OPT_LOCAL},
        {"xi", required_argument, NULL, OPT_XI},
        {"seed", required_argument, NULL, OPT_SEED},
        {"gp-iters", required_argument, NULL, OPT_GP_ITERS},
        {"exact-max", required_argument, NULL, OPT_EXACT_MAX},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.x = "z", .batch = 50, .grid = 10000, .local_iters = 150, .near_scale = 0.05, .near_top = 10};
    gp_opts_default(&o->gp);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":y:n:x:h" OPTS_FORCE OPTS_QV, longopts, NULL)) != -1) {
        switch (c) {
        case 'y':
        case 'x':
            if (!*optarg || strlen(optarg) > PRED_MAX_FIELD)
                die_usage("--%c: want a field name of 1..%d bytes", c, PRED_MAX_FIELD);
            *(c == 'y' ? &o->y : &o->x) = optarg;
            break;
        case 'n': o->batch = (int)opt_uint("--batch", optarg, 1, MAX_BATCH); break;
        case OPT_MIN: o->minimize = 1; break;
        case OPT_WARP: o->warp = opt_word("--warp", optarg, (const char *const[]){"none", "error-log", NULL}); break;
        case OPT_POOL: o->pool = optarg; break;
        case OPT_REQUIRE:
            if (!*optarg) die_usage("--require: want a field name");
            o->require = optarg;
            break;
        case OPT_GRID: o->grid = (int)opt_uint("--grid", optarg, 0, MAX_GRID); break;
        case OPT_NEAR: o->near = (int)opt_uint("--near", optarg, 0, MAX_GRID); break;
        case OPT_NEAR_SCALE: o->near_scale = opt_number("--near-scale", optarg, 0, 10, 0, 0); break;
        case OPT_NEAR_TOP: o->near_top = (int)opt_uint("--near-top", optarg, 1, 1000000); break;
        case OPT_LOCAL: o->local_iters = (int)opt_uint("--local-iters", optarg, 0, MAX_LOCAL_ITERS); break;
        case OPT_XI: o->xi = opt_number("--xi", optarg, 0, INFINITY, 0, 1); break;
        case OPT_SEED: o->gp.seed = (uint32_t)opt_uint("--seed", optarg, 0, MAX_SEED); break;
        case OPT_GP_ITERS: o->gp.iters = (int)opt_uint("--gp-iters", optarg, 0, 100000); break;
        case OPT_EXACT_MAX: o->gp.exact_max = (int)opt_uint("--exact-max", optarg, 2, MAX_EXACT); break;
        case OPT_THREADS: *threads = blas_threads_arg("--threads", optarg); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->y) die_usage("--y FIELD is required (the objective)");
    if (o->require && !o->pool) die_usage("--require needs --pool");
    if (!o->pool && o->grid + o->near == 0) die_usage("--grid 0 needs --near N: no candidates");
    if (o->warp && o->minimize) die_usage("--warp error-log is for an accuracy to maximise: not with --minimize");
    o->input = opt_one_input(argc, argv);
}

/* Pool mode: the graph keys of the evaluated records. */
typedef struct {
    key_set keys;
    rec_reader *r;
} evaluated;

static void note_evaluated(void *ctx, const msgpack_object *rec, size_t i) {
    evaluated *e = ctx;
    const space_info *sp;
    graph g;
    uint8_t key[16];
    if (propose_graph_key(e->r, rec, &sp, &g, key) == 0) keyset_put(&e->keys, sp, key, i);
}

/* The pool's candidates: vectors (B, d) as doubles and each record's bytes. */
typedef struct {
    const options *o;
    const gp_points *pts;
    float *v;          /* (d) scratch */
    double *X;
    char **raw;
    size_t *len;
    int B, cap;
} pool;

/* A candidate of the pool (propose_scan_pool: not evaluated, not seen before): check its input
 * vector's provenance and length, keep it. */
static void add_candidate(void *ctx, const rec_reader *r, const msgpack_object *rec, uint64_t recno,
                          const space_info *sp, const uint8_t key[16]) {
    (void)recno, (void)sp, (void)key;
    pool *pl = ctx;
    const gp_points *pts = pl->pts;
    const char *x = pl->o->x;
    char why[512];
    const char *ps;
    size_t plen, len;
    int got = pred_prov_get(rec, pts->pfield, &ps, &plen, why, sizeof why);
    if (got < 0) rr_fail(r, "%s", why);
    if (got == 0) rr_fail(r, "no field \"%s\": the pool's \"%s\" must come from the same encoder", pts->pfield, x);
    if (plen != strlen(pts->prov) || memcmp(ps, pts->prov, plen) != 0)
        rr_fail(r, "\"%s\" is \"%.*s\", the evaluated records' is \"%s\": encode the pool with the same %s", pts->pfield,
                (int)(plen > 64 ? 64 : plen), ps, pts->prov, strcmp(x, "z") == 0 ? "model" : "encoding");
    if (pred_vec_len(rec, x, &len, why, sizeof why)) rr_fail(r, "%s", why);
    if (len != pts->d) rr_fail(r, "field \"%s\" has %zu numbers, the evaluated records' have %zu", x, len, pts->d);
    if (pred_vec_read(rec, x, pl->v, pts->d, why, sizeof why)) rr_fail(r, "%s", why);
    if (pl->B == pl->cap) {
        if (pl->cap >= INT32_MAX / 4) rr_fail(r, "too many pool records");
        pl->cap = pl->cap ? 2 * pl->cap : 1024;
        pl->X = xrealloc(pl->X, (size_t)pl->cap * pts->d * sizeof *pl->X);
        pl->raw = xrealloc(pl->raw, (size_t)pl->cap * sizeof *pl->raw);
        pl->len = xrealloc(pl->len, (size_t)pl->cap * sizeof *pl->len);
    }
    for (size_t j = 0; j < pts->d; j++) pl->X[(size_t)pl->B * pts->d + j] = pl->v[j];
    size_t n;
    const char *raw = rr_raw(r, &n);
    pl->raw[pl->B] = xmalloc(n);
    memcpy(pl->raw[pl->B], raw, n);
    pl->len[pl->B] = n;
    pl->B++;
}

/* The value of "proposal". */
static void pack_proposal(msgpack_packer *pk, double ei, double mean, double sd) {
    msgpack_pack_map(pk, 4);
    pack_kv_str(pk, "method", "bo");
    pack_kv_double(pk, "ei", ei);
    pack_kv_double(pk, "mean", mean);
    pack_kv_double(pk, "std", sd);
}

/* The free-point candidates (*C, d): --grid points uniform in the box [lo, hi], then --near points
 * around the --near-top best evaluated points (Gaussian steps of --near-scale times the box's width,
 * clipped into the box), all from --seed's stream. */
static double *box_candidates(const options *o, const gp_points *pts, const double *lo, const double *hi, int *C_out) {
    const int n = (int)pts->n, d = (int)pts->d;
    const int C = o->grid + o->near;
    double *G = xmalloc((size_t)C * d * sizeof *G);
    rng_mt rng;
    rng_seed(&rng, o->gp.seed);
    for (size_t i = 0; i < (size_t)o->grid * d; i++) {
        const int j = (int)(i % d);
        G[i] = lo[j] + (hi[j] - lo[j]) * rng_double(&rng);
    }
    if (o->near) {
        const int K = o->near_top < n ? o->near_top : n;
        int *top = xmalloc((size_t)n * sizeof *top);
        for (int i = 0; i < n; i++) top[i] = i;
        for (int a = 0; a < K; a++) /* partial selection sort: the K best first */
            for (int b = a + 1; b < n; b++)
                if (pts->y[top[b]] > pts->y[top[a]]) { int t = top[a]; top[a] = top[b]; top[b] = t; }
        for (int c = o->grid; c < C; c++) {
            const int i = top[rng_interval(&rng, (uint32_t)K - 1)];
            for (int j = 0; j < d; j++) {
                const double v = pts->X[(size_t)i * d + j] + o->near_scale * (hi[j] - lo[j]) * rng_gauss(&rng);
                G[(size_t)c * d + j] = fmin(fmax(v, lo[j]), hi[j]);
            }
        }
        free(top);
    }
    *C_out = C;
    return G;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    int threads = 1;
    parse_args(argc, argv, &o, &threads);
    blas_use_threads(threads);
    const double t0 = now_seconds();

    /* the evaluated points */
    rec_reader *r = rr_open(o.input);
    evaluated ev = {.r = r};
    keyset_init(&ev.keys);
    gp_points pts;
    gp_points_read(r, o.x, o.y, 0, &pts, o.pool ? note_evaluated : NULL, &ev);
    char in[256];
    snprintf(in, sizeof in, "%s", rr_name(r));
    rr_close(r);
    const int n = (int)pts.n, d = (int)pts.d;
    if (n < 2) die(EXIT_DATA, "%s: %d evaluated record%s: the GP needs at least 2", in, n, n == 1 ? "" : "s");
    const double sign = o.minimize ? -1 : 1;
    for (int i = 0; i < n; i++) {
        if (o.warp == WARP_ERROR_LOG && !(pts.y[i] < 1))
            die(EXIT_DATA, "%s: record %d: \"%s\" is %.9g: --warp error-log needs values below 1 (an accuracy as a fraction)",
                in, i + 1, o.y, pts.y[i]);
        pts.y[i] = sign * warp_to(o.warp, pts.y[i]);
    }
    double best = -INFINITY;
    for (int i = 0; i < n; i++) best = fmax(best, pts.y[i]);

    /* candidates */
    pool pl = {.o = &o, .pts = &pts};
    if (o.pool) {
        pl.v = xmalloc(pts.d * sizeof *pl.v);
        propose_scan_pool(o.pool, o.require, &ev.keys, add_candidate, &pl); /* ev.keys: the evaluated and the seen */
        free(pl.v);
    }
    keyset_free(&ev.keys);
    const int q = o.pool ? (pl.B < o.batch ? pl.B : o.batch) : o.batch;
    if (o.pool && q < o.batch)
        say("warning: %s: only %d candidate%s not yet evaluated: proposing %s", o.pool, pl.B, pl.B == 1 ? "" : "s",
             pl.B ? "all of them" : "none");

    bo_state s;
    char err[512];
    gp_status st = bo_init(&s, pts.X, pts.y, n, d, q, &o.gp, err, sizeof err);
    if (st == GP_ECONST)
        die(EXIT_DATA, "%s: all %d objectives \"%s\" are equal (%.9g): a GP cannot tell the points apart; add "
            "points that differ (e.g. a larger random initial design)", in, n, o.y, warp_from(o.warp, sign * pts.y[0]));
    if (st != GP_OK) die(EXIT_DATA, "%s: %s", in, err);

    double *lo = xmalloc((size_t)d * sizeof *lo), *hi = xmalloc((size_t)d * sizeof *hi);
    for (int j = 0; j < d; j++) lo[j] = INFINITY, hi[j] = -INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            lo[j] = fmin(lo[j], pts.X[(size_t)i * d + j]);
            hi[j] = fmax(hi[j], pts.X[(size_t)i * d + j]);
        }
    if (o.pool) {
        bo_set_candidates(&s, pl.X, pl.B);
    } else {
        int C;
        double *G = box_candidates(&o, &pts, lo, hi, &C);
        bo_set_candidates(&s, G, C);
        free(G);
    }

    rec_writer *w = rw_open(NULL, 0);
    msgpack_packer *pk = rw_packer(w);
    double *x = xmalloc((size_t)d * sizeof *x);
    float *xf = xmalloc((size_t)d * sizeof *xf);
    double ei_sum = 0;
    for (int k = 0; k < q; k++) {
        const int b = bo_best_candidate(&s, o.xi);
        if (b < 0) break;
        bo_take(&s, b);
        memcpy(x, s.cand + (size_t)b * d, (size_t)d * sizeof *x);
        double ei;
        if (o.pool) ei = bo_candidate_ei(&s, b, o.xi);
        else {
            ei = bo_refine(&s, x, lo, hi, o.local_iters, o.xi);
            for (int j = 0; j < d; j++) x[j] = xf[j] = (float)x[j];
        }
        double mean, var;
        bo_predict(&s, x, &mean, &var);
        ei_sum += ei;
        if (o.pool) {
            propose_begin(pk, pl.raw[b], pl.len[b]);
        } else {
            msgpack_pack_map(pk, 5);
            pack_kv_i64(pk, "v", 1);
            pack_kv_i64(pk, "id", k);
            latent_pack(pk, o.x, xf, d);
            pack_kv_str(pk, pts.pfield, pts.prov);
            pack_cstr(pk, "proposal");
        }
        /* mean and std in the objective's units (through the warp: its value at the GP's mean, and the
         * standard deviation to first order) */
        const double dm = o.warp == WARP_ERROR_LOG ? exp(-mean) : 1;
        pack_proposal(pk, ei, warp_from(o.warp, sign * mean), dm * sqrt(var));
        rw_end_record(w);
        if (k + 1 < q && (st = bo_fantasize(&s, x, err, sizeof err)) != GP_OK) die(EXIT_DATA, "%s: %s", in, err);
    }
    const uint64_t written = rw_count(w);
    rw_close(w);
    if (verbosity() >= VERB_NORMAL) {
        say("%d evaluated points of %d dimensions (\"%s\", %s %s), best \"%s\" %.6g", n, d, o.x, pts.pfield, pts.prov,
            o.y, warp_from(o.warp, sign * best));
        if (s.g.jitter > 0) say("JITTER: %.3g was added to the kernel diagonal (near-duplicate inputs)", s.g.jitter);
        say("proposed %llu %s (mean EI %.3g) in %.2f s", (unsigned long long)written,
            o.pool ? "pool records" : "latent points", written ? ei_sum / (double)written : 0.0, now_seconds() - t0);
    }
    for (int i = 0; i < pl.B; i++) free(pl.raw[i]);
    free(pl.raw); free(pl.len); free(pl.X);
    free(x); free(xf); free(lo); free(hi);
    bo_free(&s);
    gp_points_free(&pts);
    return EXIT_OK;
}
