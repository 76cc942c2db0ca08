/* gp-fit: fit a Gaussian process (lib/gp.h) from records' input vectors (the latent mean "z" of
 * svge-encode, or graph-features' "features") to a numeric target, and write it as a model file of
 * config kind "gp" (lib/predictor.h) for `predict`. Holds the N points (4 bytes per dimension and
 * 8 per target each); the GP itself is lib/gp's. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gp.h"
#include "opts.h"
#include "outfile.h"
#include "points.h"
#include "predictor.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define MAX_EXACT 20000
#define MAX_INDUCING 20000
#define MAX_SEED (UINT32_MAX >> 1)
#define MAX_ITERS 100000

static void usage(void) {
    printf("Usage: %s --y FIELD -o MODEL [OPTION]... [FILE]\n"
           "Read records (FILE, or stdin if absent or '-') holding an input vector and a numeric target,\n"
           "fit a Gaussian process to them (squared-exponential kernel with ARD length-scales, targets\n"
           "standardised, hyperparameters by maximising the log marginal likelihood; lib/gp.h) and write\n"
           "it to MODEL, a model file of config kind \"gp\" that `predict -m MODEL` reads.\n"
           "\n"
           "The inputs must all come from the same encoder, and the model file records which: for --x z,\n"
           "the \"model\" id that svge-encode wrote (every record must carry it, the same in all); for any\n"
           "other field F, F_kind (graph-features writes \"features_kind\", e.g. \"adj-onehot\"). predict\n"
           "refuses inputs of another provenance.\n"
           "\n"
           "  -x, --x FIELD         the input vector, an array of numbers (default \"z\")\n"
           "  -y, --y FIELD         the target, a number (required), e.g. c10valid_val_200ep_mean (NB201)\n"
           "                        or val_acc_108ep (NB101)\n"
           "  -o, --output MODEL    the model file to write (required; written atomically,\n"
           "                        a device or FIFO through)\n"
           "      --skip-missing    pass over records without the target (e.g. NB101 cells without an\n"
           "                        accuracy; default: such a record is an error)\n"
           "      --exact-max N     largest number of points fitted by an exact GP; more are fitted by a\n"
           "                        sparse (FITC) GP, 2..%d (default %d)\n"
           "      --sparse          fit a sparse GP whatever the number of points: predict's std then\n"
           "                        costs O(M^2) a record instead of O(N^2) (on 1,000 NB101 latents,\n"
           "                        --inducing 256: predict with the std 3.6x faster, Spearman 0.71\n"
           "                        against the exact GP's 0.78; pipelines/PREDICTION.md); not with\n"
           "                        --exact-max\n"
           "      --inducing M      inducing points of a sparse GP, 1..%d (default 1000)\n"
           "      --seed S          seed of the hyperparameter restarts, subsets and inducing points,\n"
           "                        0..%u (default 1)\n"
           "      --shared-lengthscale\n"
           "                        one length-scale for all dimensions (default: one per dimension)\n"
           "      --iters N         L-BFGS iterations of the hyperparameter fit, 0..%d; 0 keeps the\n"
           "                        initial values (default 50)\n"
           "  -q, --quiet           only errors and warnings on stderr (no report)\n"
           "  -v, --verbose         also a summary on stderr (records read)\n"
           BLAS_THREADS_HELP("       ")
           "  -h, --help            show this help and exit\n"
           "\n"
           "Report (stderr, unless -q): points, dimension, exact or sparse, the jitter added to the kernel\n"
           "diagonal if any (near-duplicate inputs), the fitted hyperparameters (length-scales, signal and\n"
           "noise standard deviations in the target's units), the log marginal likelihood and the seconds.\n"
           "The model file is deterministic: the same records and options give the same bytes and id.\n"
           "\n"
           "Bad input (exit 1): a record without the input vector or, without --skip-missing, the target;\n"
           "a vector of another length than the first; a value that is not a finite number; inputs of\n"
           "differing provenance; fewer than 2 points; a constant target; a GP that cannot be factored.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_EXACT, GP_EXACT_MAX, MAX_INDUCING, MAX_SEED, MAX_ITERS);
}

typedef struct {
    const char *x, *y, *out, *input;
    int skip_missing;
    gp_opts gp;
} options;

static void parse_args(int argc, char **argv, options *o, int *threads) {
    enum { OPT_SKIP = 256, OPT_EXACT_MAX, OPT_SPARSE, OPT_INDUCING, OPT_SEED, OPT_SHARED, OPT_ITERS, OPT_THREADS };
    static const struct option longopts[] = {
        {"x", required_argument, NULL, 'x'},
        {"y", required_argument, NULL, 'y'},
        {"output", required_argument, NULL, 'o'},
        {"skip-missing", no_argument, NULL, OPT_SKIP},
        {"exact-max", required_argument, NULL, OPT_EXACT_MAX},
        {"sparse", no_argument, NULL, OPT_SPARSE},
        {"inducing", required_argument, NULL, OPT_INDUCING},
        {"seed", required_argument, NULL, OPT_SEED},
        {"shared-lengthscale", no_argument, NULL, OPT_SHARED},
        {"iters", required_argument, NULL, OPT_ITERS},
        OPTS_QV_LONG,
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.x = "z"};
    gp_opts_default(&o->gp);
    opterr = 0; /* our own messages, through die_usage */
    int c, exact_max_given = 0, sparse = 0;
    while ((c = getopt_long(argc, argv, ":x:y:o:h" OPTS_QV, longopts, NULL)) != -1) {
        switch (c) {
        case 'x':
            if (!*optarg || strlen(optarg) > PRED_MAX_FIELD) die_usage("--x: want a field name of 1..%d bytes", PRED_MAX_FIELD);
            o->x = optarg;
            break;
        case 'y':
            if (!*optarg || strlen(optarg) > PRED_MAX_FIELD) die_usage("--y: want a field name of 1..%d bytes", PRED_MAX_FIELD);
            o->y = optarg;
            break;
        case 'o': o->out = optarg; break;
        case OPT_SKIP: o->skip_missing = 1; break;
        case OPT_EXACT_MAX:
            o->gp.exact_max = (int)opt_uint("--exact-max", optarg, 2, MAX_EXACT);
            exact_max_given = 1;
            break;
        case OPT_SPARSE: sparse = 1; break;
        case OPT_INDUCING: o->gp.inducing = (int)opt_uint("--inducing", optarg, 1, MAX_INDUCING); break;
        case OPT_SEED: o->gp.seed = (uint32_t)opt_uint("--seed", optarg, 0, MAX_SEED); break;
        case OPT_SHARED: o->gp.ard = 0; break;
        case OPT_ITERS: o->gp.iters = (int)opt_uint("--iters", optarg, 0, MAX_ITERS); break;
        case OPT_THREADS: *threads = blas_threads_arg("--threads", optarg); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (sparse && exact_max_given) die_usage("--sparse and --exact-max exclude each other");
    if (sparse) o->gp.exact_max = 1; /* every fit has N >= 2 points: always sparse */
    if (!o->y) die_usage("--y FIELD is required (the target)");
    if (!o->out) die_usage("-o MODEL is required (the model file to write)");
    o->input = opt_one_input(argc, argv);
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const options *o, const gp_model *g, size_t n, uint64_t skipped, const char *pfield,
                   const char *prov, const char *id, double secs) {
    say("%zu points (%llu skipped without \"%s\"), %d dimensions of \"%s\" (%s %s) -> \"%s\"", n,
        (unsigned long long)skipped, o->y, g->d, o->x, pfield, prov, o->y);
    if (g->sparse) say("sparse GP (%s), %d inducing points", g->sparse_kind == GP_VFE ? "VFE" : "FITC", g->P);
    else say("exact GP");
    if (g->jitter > 0)
        say("JITTER: %.3g was added to the kernel diagonal to factor it (near-duplicate inputs); predictions "
            "near those points are smoothed accordingly",
            g->jitter);
    else say("jitter: none (0)");
    const int nls = g->nls;
    double *ls = xmalloc((size_t)nls * sizeof *ls);
    for (int k = 0; k < nls; k++) ls[k] = exp(g->theta[k]);
    qsort(ls, (size_t)nls, sizeof *ls, cmp_double);
    if (nls == 1) say("length-scale (shared): %.4g", ls[0]);
    else say("length-scales (ARD, %d): min %.4g, median %.4g, max %.4g", nls, ls[0], ls[nls / 2], ls[nls - 1]);
    free(ls);
    say("signal std %.4g, noise std %.4g (in \"%s\" units; target mean %.6g, std %.4g); log marginal "
        "likelihood %.6g",
        g->y_std * exp(0.5 * g->theta[nls]), g->y_std * exp(0.5 * g->theta[nls + 1]), o->y, g->y_mean, g->y_std,
        g->lml);
    say("wrote %s (model %s) in %.2f s", o->out, id, secs);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    int threads = 1;
    parse_args(argc, argv, &o, &threads);
    blas_use_threads(threads);
    of_check(o.out); /* an unusable -o fails before the fit */
    const double t0 = now_seconds();

    rec_reader *r = rr_open(o.input);
    gp_points pts;
    gp_points_read(r, o.x, o.y, o.skip_missing, &pts, NULL, NULL);
    const size_t n = pts.n, d = pts.d;
    const uint64_t skipped = pts.skipped;
    char in[256];
    snprintf(in, sizeof in, "%s", rr_name(r));
    rr_close(r);
    if (n < 2)
        die(EXIT_DATA, "%s: %zu record%s with \"%s\"%s: a GP needs at least 2 points", in, n, n == 1 ? "" : "s", o.y,
            skipped ? " (the others had no target)" : "");

    gp_model g;
    char err[512];
    gp_status st = gp_fit(&g, pts.X, pts.y, (int)n, (int)d, &o.gp, err, sizeof err);
    if (st != GP_OK) die(EXIT_DATA, "%s: %s", in, err);
    char id[MF_ID_LEN + 1];
    pred_gp_write(o.out, &g, o.x, o.y, pts.pfield, pts.prov, (long long)n, (long long)skipped, id);
    if (verbosity() >= VERB_NORMAL) report(&o, &g, n, skipped, pts.pfield, pts.prov, id, now_seconds() - t0);
    gp_points_free(&pts);
    gp_free(&g);
    return EXIT_OK;
}
