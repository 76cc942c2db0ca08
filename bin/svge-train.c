/* svge-train: train the SVGe VAE (lib/svge.h), or with --model dgmg the DGMG baseline (lib/dgmg.h),
 * on graph records and write a model file
 * (formats/model.md), as the reference's Training_VAE/train_svge.py does (formats/reference.md §3.1,
 * §4.1): Adam lr 1e-4, ReduceLROnPlateau(0.1, patience 10) stepped once per epoch on the epoch's
 * mean training loss (the unweighted mean of its minibatch losses), 300 epochs, shuffled minibatches
 * with the last partial batch kept (DataLoader drop_last=False).
 *
 * Randomness: one rng (lib/rng.h) seeded with --seed draws the initial parameters (svge_init), then
 * per epoch one permutation of the training set (rng_permutation(N)), then each step's eps (inside
 * svge_train_step). Its state goes into checkpoints, so --resume continues bit-identically. The
 * model file's meta holds only deterministic facts (epochs, batch size, graphs, last loss), so the
 * same input and seed give the same model bytes, resumed or not. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "graph.h"
#include "graph_list.h"
#include "modelfile.h"
#include "opts.h"
#include "parallel.h"
#include "outfile.h"
#include "platform.h"
#include "progress.h"
#include "stream.h"
#include "standardize.h"
#include "svge.h"
#include "util.h"
#include "vae.h"

static int g_threads = 0; /* --threads (0: one per CPU) */

#define DEFAULT_EPOCHS 300
#define DEFAULT_CKPT_EVERY 1
#define MAX_BATCH 65536

static void usage(void) {
    vae_config d = vae_default_config(SPACE_NB201);
    printf("Usage: %s -o MODEL [OPTION]... [FILE]\n"
           "Train the SVGe variational autoencoder (or the DGMG baseline, --model dgmg) on graph records\n"
           "(FILE, or stdin if absent or '-'), all of one search space (it sets the node types and the\n"
           "maximum node count), and write the model file MODEL (formats/model.md; written atomically:\n"
           "whole or not at all).\n"
           "Each epoch shuffles the training set with the run's random stream (one permutation per epoch),\n"
           "runs every minibatch (the last, partial one included) with one Adam step each, then steps\n"
           "ReduceLROnPlateau (factor 0.1, patience 10 unless set) on the epoch's mean minibatch loss.\n"
           "Loss = mean reconstruction loss + beta * KL (KL summed over the batch and latent dimensions).\n"
           "\n"
           "  -o, --output MODEL        the model file to write (required)\n"
           "      --model KIND          the model to train: svge (default svge) or dgmg, the DGMG /\n"
           "                            VS-GAE baseline (model files of config kind \"dgmg\", which\n"
           "                            svge-encode, svge-decode and svge-metrics read); for dgmg\n"
           "                            --ndim is the whole node state size. --resume keeps the\n"
           "                            checkpoint's kind\n"
           "      --epochs N            epochs to train, N >= 1 (default %d)\n"
           "      --batch N             graphs per minibatch (default by space: 128 nb101, 32 nb201,\n"
           "                            enas6, enas12)\n"
           "      --lr X                Adam learning rate (default %g)\n"
           "      --beta X              weight of the KL term (default %g)\n"
           "      --eps-scale X         scale of the reparameterisation noise (default %g)\n"
           "      --ndim N              node state size, even (default %d)\n"
           "      --gdim N              latent size (default %d)\n"
           "      --layers N            message-passing layers per direction in the encoder and the\n"
           "                            decoder (gnn_iteration_layers), 1..%d (default %d; svge only)\n"
           "      --seed S              random seed, 0..4294967295 (default %u)\n"
           "      --alpha X             step loss weight: 2[(1-X) CE(type) + X mean BCE(edges)], X in\n"
           "                            [0, 1] (default %g: CE + BCE; svge only)\n"
           "      --plateau-factor X    ReduceLROnPlateau factor, in (0, 1) (default %g)\n"
           "      --plateau-patience N  ReduceLROnPlateau patience in epochs (default %d)\n"
           "      --max-minutes M       stop after the epoch during which M minutes have passed and write\n"
           "                            the model of the epochs done; 0 = no limit (default 0)\n"
           "      --checkpoint PATH     write a checkpoint (model + Adam, scheduler, epoch and rng state,\n"
           "                            the training data's digest, the CPU and BLAS) every\n"
           "                            --checkpoint-every epochs and when training stops\n"
           "      --checkpoint-every N  epochs between checkpoints (default %d: every epoch; cheap: for the\n"
           "                            default NB201 model a checkpoint, 27 MB, takes about 0.3 s to\n"
           "                            write, an epoch about 2 minutes; -v shows the time)\n"
           "      --resume CKPT         continue from a checkpoint of this tool: the model, data and batch\n"
           "                            size are the checkpoint's; --epochs is the total to reach. The\n"
           "                            input must be the checkpoint's training data (its digest; exit 1),\n"
           "                            an option given the checkpoint's value (exit 2). The result is\n"
           "                            bitwise the model of an uninterrupted run (at any --threads);\n"
           "                            on another CPU or BLAS a note says that it will not be\n"
           "      --metrics FILE        write one TSV line per epoch: epoch, loss, recon, kl, lr,\n"
           "                            graphs_per_s, seconds (the training steps'), mse with --surrogate,\n"
           "                            test_recon, test_kl (test_mse) with --test (with a header;\n"
           "                            rewritten after every epoch; on --resume the lines so far kept; a\n"
           "                            file without the test columns resumed with --test gets them, empty\n"
           "                            in its earlier lines)\n"
           "      --test FILE           after each epoch, evaluate the model on the graph records of FILE\n"
           "                            (checked as the input is; the same space; with --surrogate they need\n"
           "                            FIELD too) in eval mode (z = mu, no noise), in batches of --batch\n"
           "                            in file order: test_recon is the mean over those batches of the\n"
           "                            batch-mean reconstruction loss, test_kl of the batch-summed KL (as\n"
           "                            recon and kl are over the training batches), test_mse of the MSE.\n"
           "                            Training is unchanged (the same model bytes); the cost is a\n"
           "                            forward pass: about 3 %% of an epoch for a test set a ninth of the\n"
           "                            training set's size (the 10 %% split; default NB201 model: 0.2 s\n"
           "                            on 223 graphs against 6.4 s for an epoch of 1,999); the epoch\n"
           "                            line shows its time, the seconds column leaves it out\n"
           "The surrogate (SVGE_acc: an MLP on the encoder's mean that predicts a field of the records):\n"
           "      --init MODEL          start from this model file's weights, kind and model options\n"
           "                            (a trained VAE); --ndim, --gdim, --layers, --model, --beta,\n"
           "                            --eps-scale and --alpha are then the file's\n"
           "      --surrogate FIELD     add the surrogate head predicting the numeric FIELD and train\n"
           "                            everything on w (recon + beta KL) + (1 - w) MSE; the model file\n"
           "                            then predicts too (predict -m MODEL). Defaults change to the\n"
           "                            reference's fine-tuning: --lr 0.001, --epochs 100\n"
           "      --sample N            train on N records drawn as the reference draws them (the first N\n"
           "                            of NumPy's permutation with --seed); 0 = all (default 1000 with\n"
           "                            --surrogate, else 0)\n"
           "      --skip-missing        pass over records without FIELD (default: an error)\n"
           "      --regression-layers L\n"
           "                            the head's layers, D -> D/2 -> ... -> 1 (default 4)\n"
           "      --regression-proportion W\n"
           "                            the VAE loss's weight w, in [0, 1] (default 0.1)\n"
           "      --standardize-target  the head learns (FIELD - m) / s, m and s the mean and standard\n"
           "                            deviation of FIELD over the training records (after --sample),\n"
           "                            kept in the model file, which predicts m + s * head; the mse\n"
           "                            columns are then in those units (default: the raw FIELD, as the\n"
           "                            reference, whose head starts near 0 and must climb to the target's\n"
           "                            level at lr 1e-3: PREDICTION.md in pipelines/)\n"
           "      --vae-lr-scale X      the VAE's parameters fine-tune at X times the learning rate,\n"
           "                            the head's at the rate; X in [0, 1], 0 freezes the VAE (default\n"
           "                            1, the reference's: at lr 1e-3 the first steps can undo a\n"
           "                            trained VAE; PREDICTION.md in pipelines/)\n"
           PAR_THREADS_HELP("           ")
           "  -q, --quiet               only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose             also a summary on stderr (records read and written) and, when stderr\n"
           "                            is not a terminal, one line per epoch\n"
           "  -h, --help                show this help and exit\n"
           "\n"
           "Progress goes to stderr on a terminal: a redrawn progress line and one line per epoch (with -v\n"
           "also when stderr is not a terminal; else only the first line, warnings and the last line:\n"
           "--metrics is the record of the epochs).\n"
           "Outputs (-o, --checkpoint, --metrics): a regular file is written to PATH.tmp.PID and renamed\n"
           "into place (whole or not at all; removed if the run fails or is killed); a device or FIFO\n"
           "(/dev/null) is written through; a symbolic link is followed and kept. They are checked\n"
           "before training (a directory, a missing directory: exit 3); two naming one file: exit 2.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), DEFAULT_EPOCHS, d.lr, d.beta, d.eps_scale, d.C2, d.D, ENC_MAX_LAYERS, d.layers, (unsigned)d.seed,
           d.alpha, d.plateau_factor, d.plateau_patience, DEFAULT_CKPT_EVERY);
}

enum {
    OPT_EPOCHS = 256, OPT_BATCH, OPT_LR, OPT_BETA, OPT_EPS, OPT_NDIM, OPT_GDIM, OPT_SEED,
    OPT_MAXMIN, OPT_CKPT, OPT_CKPT_EVERY, OPT_RESUME, OPT_METRICS, OPT_MODEL, OPT_ALPHA,
    OPT_PFACTOR, OPT_PPATIENCE, OPT_LAYERS, OPT_THREADS, OPT_INIT, OPT_SURROGATE, OPT_SAMPLE, OPT_SKIP_MISSING,
    OPT_REG_LAYERS, OPT_REG_PROPORTION, OPT_TEST, OPT_STANDARDIZE, OPT_VAE_LR_SCALE
};

typedef struct {
    const char *output, *input, *checkpoint, *resume, *metrics, *test;
    const char *kind; /* "svge" or "dgmg" */
    int64_t epochs, batch, ckpt_every; /* batch 0: the space's default */
    double lr, beta, eps_scale, max_minutes, alpha, plateau_factor;
    int ndim, gdim, plateau_patience, layers;
    uint32_t seed;
    const char *init, *surrogate; /* --init MODEL, --surrogate FIELD */
    int64_t sample;               /* -1: not given */
    int skip_missing, reg_layers, standardize;
    double reg_proportion, vae_lr_scale;
    int set_epochs, set_vae_lr_scale;
    /* which model options were given (they must agree with a checkpoint's) */
    int set_lr, set_beta, set_eps, set_ndim, set_gdim, set_seed, set_kind, set_alpha, set_pfactor, set_ppatience, set_layers;
} options;

static const char *opt_path(const char *name, const char *s) {
    if (!*s) die_usage("%s: empty file name", name);
    return s;
}

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"epochs", required_argument, NULL, OPT_EPOCHS},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"lr", required_argument, NULL, OPT_LR},
        {"beta", required_argument, NULL, OPT_BETA},
        {"eps-scale", required_argument, NULL, OPT_EPS},
        {"ndim", required_argument, NULL, OPT_NDIM},
        {"gdim", required_argument, NULL, OPT_GDIM},
        {"seed", required_argument, NULL, OPT_SEED},
        {"max-minutes", required_argument, NULL, OPT_MAXMIN},
        {"checkpoint", required_argument, NULL, OPT_CKPT},
        {"checkpoint-every", required_argument, NULL, OPT_CKPT_EVERY},
        {"resume", required_argument, NULL, OPT_RESUME},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"test", required_argument, NULL, OPT_TEST},
        {"model", required_argument, NULL, OPT_MODEL},
        {"alpha", required_argument, NULL, OPT_ALPHA},
        {"plateau-factor", required_argument, NULL, OPT_PFACTOR},
        {"plateau-patience", required_argument, NULL, OPT_PPATIENCE},
        {"layers", required_argument, NULL, OPT_LAYERS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"init", required_argument, NULL, OPT_INIT},
        {"surrogate", required_argument, NULL, OPT_SURROGATE},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"skip-missing", no_argument, NULL, OPT_SKIP_MISSING},
        {"regression-layers", required_argument, NULL, OPT_REG_LAYERS},
        {"regression-proportion", required_argument, NULL, OPT_REG_PROPORTION},
        {"standardize-target", no_argument, NULL, OPT_STANDARDIZE},
        {"vae-lr-scale", required_argument, NULL, OPT_VAE_LR_SCALE},
        OPTS_QV_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    vae_config d = vae_default_config(SPACE_NB201);
    *o = (options){.epochs = DEFAULT_EPOCHS, .ckpt_every = DEFAULT_CKPT_EVERY, .lr = d.lr, .beta = d.beta,
                   .eps_scale = d.eps_scale, .ndim = d.C2, .gdim = d.D, .seed = d.seed, .kind = "svge",
                   .alpha = d.alpha, .plateau_factor = d.plateau_factor,
                   .plateau_patience = d.plateau_patience, .layers = d.layers, .sample = -1,
                   .reg_layers = 4, .reg_proportion = d.head_vae_weight, .vae_lr_scale = 1};
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":o:hqv", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = opt_path("--output", optarg); break;
        case OPT_EPOCHS: o->epochs = (int64_t)opt_uint("--epochs", optarg, 1, 100000000); o->set_epochs = 1; break;
        case OPT_BATCH: o->batch = (int64_t)opt_uint("--batch", optarg, 1, MAX_BATCH); break;
        case OPT_LR: o->lr = opt_number("--lr", optarg, 0, INFINITY, 0, 0); o->set_lr = 1; break;
        case OPT_BETA: o->beta = opt_number("--beta", optarg, 0, INFINITY, 0, 0); o->set_beta = 1; break;
        case OPT_EPS: o->eps_scale = opt_number("--eps-scale", optarg, 0, INFINITY, 0, 0); o->set_eps = 1; break;
        case OPT_NDIM:
            o->ndim = (int)(int64_t)opt_uint("--ndim", optarg, 2, VAE_MAX_NDIM);
            if (o->ndim % 2) die_usage("--ndim: '%s' is not an even number", optarg);
            o->set_ndim = 1;
            break;
        case OPT_GDIM: o->gdim = (int)(int64_t)opt_uint("--gdim", optarg, 1, VAE_MAX_GDIM); o->set_gdim = 1; break;
        case OPT_SEED: o->seed = (uint32_t)(int64_t)opt_uint("--seed", optarg, 0, UINT32_MAX); o->set_seed = 1; break;
        case OPT_MAXMIN: o->max_minutes = opt_number("--max-minutes", optarg, 0, INFINITY, 0, 0); break;
        case OPT_CKPT: o->checkpoint = opt_path("--checkpoint", optarg); break;
        case OPT_CKPT_EVERY: o->ckpt_every = (int64_t)opt_uint("--checkpoint-every", optarg, 1, 100000000); break;
        case OPT_RESUME: o->resume = opt_path("--resume", optarg); break;
        case OPT_METRICS: o->metrics = opt_path("--metrics", optarg); break;
        case OPT_TEST: o->test = opt_path("--test", optarg); break;
        case OPT_MODEL:
            o->kind = vae_kind_name((vae_kind)opt_word("--model", optarg, (const char *const[]){"svge", DGMG_KIND, NULL}));
            o->set_kind = 1;
            break;
        case OPT_ALPHA:
            o->alpha = opt_number("--alpha", optarg, 0, 1, 0, 0);
            o->set_alpha = 1;
            break;
        case OPT_PFACTOR:
            o->plateau_factor = opt_number("--plateau-factor", optarg, 0, 1, 1, 1);
            o->set_pfactor = 1;
            break;
        case OPT_PPATIENCE:
            o->plateau_patience = (int)(int64_t)opt_uint("--plateau-patience", optarg, 0, 1000000);
            o->set_ppatience = 1;
            break;
        case OPT_LAYERS:
            o->layers = (int)(int64_t)opt_uint("--layers", optarg, 1, ENC_MAX_LAYERS);
            o->set_layers = 1;
            break;
        case OPT_THREADS: g_threads = par_threads_arg("--threads", optarg); break;
        case OPT_INIT: o->init = opt_path("--init", optarg); break;
        case OPT_SURROGATE:
            if (!*optarg || strlen(optarg) >= VAE_TARGET_MAX)
                die_usage("--surrogate: want a field name of 1 to %d bytes", VAE_TARGET_MAX - 1);
            o->surrogate = optarg;
            break;
        case OPT_SAMPLE: o->sample = (int64_t)opt_uint("--sample", optarg, 0, UINT32_MAX); break;
        case OPT_SKIP_MISSING: o->skip_missing = 1; break;
        case OPT_REG_LAYERS: o->reg_layers = (int)(int64_t)opt_uint("--regression-layers", optarg, 1, REG_MAX_LAYERS); break;
        case OPT_REG_PROPORTION: o->reg_proportion = opt_number("--regression-proportion", optarg, 0, 1, 0, 0); break;
        case OPT_STANDARDIZE: o->standardize = 1; break;
        case OPT_VAE_LR_SCALE:
            o->vae_lr_scale = opt_number("--vae-lr-scale", optarg, 0, 1, 0, 0);
            o->set_vae_lr_scale = 1;
            break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->output) die_usage("no output: give the model file with -o MODEL");
    if (o->surrogate) { // the reference's fine-tuning (train_surrogate_model.py) unless told otherwise
        if (!o->set_lr) o->lr = 1e-3;
        if (!o->set_epochs) o->epochs = 100;
        if (o->sample < 0) o->sample = 1000;
    } else if (o->sample > 0 || o->skip_missing || o->standardize || o->set_vae_lr_scale) {
        die_usage("--sample, --skip-missing, --standardize-target and --vae-lr-scale are for --surrogate");
    }
    if (o->sample < 0) o->sample = 0;
    /* two outputs that are one file would overwrite one another */
    const char *const oname[3] = {"-o", "--checkpoint", "--metrics"}, *const opath[3] = {o->output, o->checkpoint, o->metrics};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (opath[i] && opath[j] && of_same(opath[i], opath[j]))
                die_usage("%s %s and %s %s are the same file", oname[i], opath[i], oname[j], opath[j]);
    if (o->init && o->resume) die_usage("--init and --resume: give one (a checkpoint has its own weights)");
    if (o->init && (o->set_ndim || o->set_gdim || o->set_layers || o->set_kind || o->set_beta || o->set_eps || o->set_alpha))
        die_usage("--init: the model options are the file's; leave out --ndim, --gdim, --layers, --model, --beta, "
                  "--eps-scale and --alpha");
    o->input = opt_one_input(argc, argv);
    if (o->test && strcmp(o->test, "-") == 0 && (!o->input || strcmp(o->input, "-") == 0))
        die_usage("--test -: stdin is the training input; give the test set as a file");
}


/* ------------------------------------------------------------------ data */
/* Every record of the input: a readable, valid graph, all of one space; with a target field its
 * value too (records without it an error, or passed over). */
static void read_graphs(const char *input, graph_list *ds, const char *target, int skip_missing) {
    ds->target = target;
    graph_list_read(ds, input, NULL, GL_CHECK | (skip_missing ? GL_SKIP_MISSING : 0), UINT64_MAX);
    if (ds->n == 0) die(EXIT_DATA, "%s: no graph records%s: nothing to train on", input_name(input),
                        target ? " with the target" : "");
    if (ds->n > UINT32_MAX) die(EXIT_DATA, "%s: too many records", input_name(input));
    if (target) {
        size_t k = 1;
        while (k < ds->n && ds->y[k] == ds->y[0]) k++;
        if (k == ds->n)
            die(EXIT_DATA, "%s: \"%s\" is %g in every record: a constant target, nothing to predict",
                input_name(input), target, ds->y[0]);
    }
}

/* --test FILE: its records with the checks the training input gets, in the training set's space
 * (l->sp preset: another space is "space X, but the training set so far is Y"); with a target field
 * its values too (--skip-missing as for the training input). */
static void read_test(const char *path, const graph_list *ds, graph_list *l, int skip_missing) {
    *l = (graph_list){.sp = ds->sp, .target = ds->target};
    graph_list_read(l, path, NULL, GL_CHECK | (skip_missing ? GL_SKIP_MISSING : 0), UINT64_MAX);
    if (l->n == 0) die(EXIT_DATA, "--test %s: no graph records%s: nothing to test on", input_name(path),
                       l->target ? " with the target" : "");
}

/* Keep N records drawn as the reference draws its surrogate's training set (train_surrogate_model.py:
 * np.random.seed(seed); np.random.permutation(len)[:N]), in that order. */
static void sample_graphs(graph_list *ds, uint64_t N, uint32_t seed) {
    if (!N || N >= ds->n) return;
    uint32_t *perm = xmalloc(ds->n * sizeof *perm);
    rng_mt r;
    rng_seed(&r, seed);
    rng_permutation(&r, (uint32_t)ds->n, perm);
    graph *g = xmalloc(N * sizeof *g);
    double *y = xmalloc(N * sizeof *y);
    for (size_t i = 0; i < N; i++) {
        g[i] = ds->g[perm[i]];
        y[i] = ds->y[perm[i]];
    }
    free(ds->g);
    free(ds->y);
    ds->g = g;
    ds->y = y;
    ds->n = ds->cap = N;
    free(perm);
}

/* The mean and the standard deviation of the training targets for --standardize-target, as gp-fit
 * standardises (lib/standardize.h); a constant target in the sample has no scale (exit 1). */
static void target_moments(const graph_list *ds, const char *input, double *mean, double *sd) {
    if (standardize_moments(ds->y, ds->n, mean, sd))
        die(EXIT_DATA, "%s: \"%s\" is %g in every one of the %zu training records: --standardize-target has "
            "nothing to scale by", input_name(input), ds->target, ds->y[0], ds->n);
}

/* ------------------------------------------------------------------ progress */
/* "1h02m", "12m05s", "42s" */
static const char *fmt_dur(double s, char *buf, size_t len) {
    if (!(s >= 0) || s > 1e8) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, len, "%lds", t);
    return buf;
}

/* The model in eval mode (rng NULL: z = mu, no noise; no gradient, Adam or rng touched) on the
 * test set ts, in batches of up to max_g graphs in order, averaged as the training columns are:
 * recon the mean of the batches' mean recon, kl the mean of the batches' KL sums, mse (with the
 * head) the mean of the batches' MSE. */
typedef struct {
    double recon, kl, mse;
} test_stats;

static test_stats test_eval(vae_model *m, const graph_list *ts) {
    test_stats r = {0};
    int64_t nb = 0;
    for (size_t s = 0; s < ts->n; s += (size_t)m->max_g) {
        int B = (int)(ts->n - s < (size_t)m->max_g ? ts->n - s : (size_t)m->max_g);
        vae_terms tm;
        if (m->cfg.head_layers ? vae_surrogate_forward(m, ts->g + s, ts->y + s, B, NULL, &tm)
                               : vae_forward(m, ts->g + s, B, NULL, &tm))
            die(EXIT_DATA, "--test: a batch does not fit the model"); /* cannot happen: one space */
        r.recon += tm.recon;
        r.kl += tm.kl;
        r.mse += tm.mse;
        nb++;
    }
    r.recon /= (double)nb;
    r.kl /= (double)nb;
    r.mse /= (double)nb;
    return r;
}

typedef struct {
    int64_t epoch;            /* 1-based, being run */
    double loss, recon, kl, mse; /* sums over the batches so far */
    double lr;
    int64_t batches, graphs;  /* so far in this epoch */
    double t0;                /* epoch start */
} epoch_stats;

/* ------------------------------------------------------------------ main */
typedef struct {
    int64_t batch, ngraphs;
    char data_md5[33]; /* graph_list_digest of the training set */
} meta_info;

#define NMETA 7
/* The model's meta; a checkpoint's (ckpt) also the digest of the training data and the machine. */
static size_t make_meta(mf_value meta[NMETA], const vae_train *t, const meta_info *mi, double last_loss, int ckpt) {
    size_t k = 0;
    meta[k++] = mf_int("epochs", t->epoch);
    meta[k++] = mf_int("batch_size", mi->batch);
    meta[k++] = mf_int("train_graphs", mi->ngraphs);
    if (t->epoch > 0 && isfinite(last_loss)) meta[k++] = mf_float("train_loss", last_loss);
    if (ckpt) {
        meta[k++] = mf_str("train_data_md5", mi->data_md5);
        meta[k++] = mf_str("cpu", platform_cpu());
        meta[k++] = mf_str("blas", platform_blas());
    }
    return k;
}

/* Write the checkpoint; -v says how long it took (next to the epoch's time). */
static void save_checkpoint(const char *path, const vae_model *m, const vae_train *t, const meta_info *mi, double last_loss) {
    double t0 = now_seconds();
    mf_value meta[NMETA];
    vae_save(path, m, t, meta, make_meta(meta, t, mi, last_loss, 1), NULL);
    note(VERB_VERBOSE, "%s: checkpoint of epoch %lld written in %.2f s", path, (long long)t->epoch, now_seconds() - t0);
}

/* --resume: an option given must be the checkpoint's value. */
static void same_as_checkpoint(int given, const char *opt, double mine, double ck) {
    if (given && mine != ck)
        die_usage("--resume: %s %.10g differs from the checkpoint's %.10g (leave it out to go on with the checkpoint's)",
                  opt, mine, ck);
}

/* --resume: the input must be the checkpoint's training data (exit 1 if not); another CPU or BLAS
 * is worth a note. A checkpoint from before the digest existed is resumed with a warning. */
static void check_resume_data(const model_file *ck, const char *path, const char *md5) {
    const mf_value *d = mf_find(ck, MF_META, "train_data_md5");
    if (!d || d->kind != MF_STR)
        say("warning: --resume %s: an older checkpoint, without a digest of its training data: only the graph "
            "count shows that the input is the same", path);
    else if (strcmp(d->p, md5) != 0)
        die(EXIT_DATA, "--resume %s: the training data differ from the checkpoint's (digest %s, checkpoint %s)", path,
            md5, (const char *)d->p);
    const mf_value *c = mf_find(ck, MF_META, "cpu"), *b = mf_find(ck, MF_META, "blas");
    if (!c || !b || c->kind != MF_STR || b->kind != MF_STR)
        note(VERB_NORMAL, "note: --resume %s: the checkpoint does not record its CPU and BLAS: if they were not this "
             "machine's (%s, %s), the continuation is not bitwise identical to an uninterrupted run", path,
             platform_cpu(), platform_blas());
    else if (strcmp(c->p, platform_cpu()) != 0 || strcmp(b->p, platform_blas()) != 0)
        note(VERB_NORMAL, "note: --resume %s: the checkpoint was written on %s with %s, this is %s with %s: the "
             "continuation will not be bitwise identical to an uninterrupted run", path, (const char *)c->p,
             (const char *)b->p, platform_cpu(), platform_blas());
}

/* The --metrics header: the training columns, mse with the head, the test columns with --test. */
static const char *metrics_header(int mse, int test) {
    static const char *const h[2][2] = {
        {"epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\n",
         "epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\ttest_recon\ttest_kl\n"},
        {"epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\tmse\n",
         "epoch\tloss\trecon\tkl\tlr\tgraphs_per_s\tseconds\tmse\ttest_recon\ttest_kl\ttest_mse\n"}};
    return h[!!mse][!!test];
}

/* The present content of a regular file path (NUL-terminated; *len bytes), or NULL if there is
 * none (missing, a device or FIFO: not read). Dies (exit 3) if it cannot be read. */
static char *slurp_regular(const char *path, size_t *len) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
    FILE *in = fopen(path, "rb");
    if (!in) die(EXIT_IO, "%s: cannot read: %s", path, strerror(errno));
    size_t cap = (size_t)st.st_size + 1, n = 0, k;
    char *buf = xmalloc(cap + 1);
    while ((k = fread(buf + n, 1, cap - n, in)) > 0) {
        n += k;
        if (n == cap) buf = xrealloc(buf, (cap *= 2) + 1);
    }
    if (ferror(in)) die(EXIT_IO, "%s: read error", path);
    fclose(in);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* The --metrics file: a new one with its header; on --resume the present one, its lines kept (a
 * header if empty). *test_cols: whether its lines have the test columns: with --test always (a
 * file without them, from a run without --test, gets the new header and its earlier lines empty
 * test fields); without --test if the present file has them (the new lines' test fields empty). */
static outfile *open_metrics(const char *path, int append, int mse, int test, int *test_cols) {
    size_t len = 0;
    char *old = append ? slurp_regular(path, &len) : NULL;
    const char *with = metrics_header(mse, 1), *without = metrics_header(mse, 0);
    *test_cols = test || (old && strncmp(old, with, strlen(with)) == 0);
    outfile *f;
    if (test && old && strncmp(old, without, strlen(without)) == 0) { // rewritten: the new header, rows padded
        f = of_open(path, 0);
        of_write(f, with, strlen(with));
        const char *pad = mse ? "\t\t\t\n" : "\t\t\n";
        for (char *p = old + strlen(without), *e; *p; p = e + 1) {
            e = strchr(p, '\n');
            if (!e) e = p + strlen(p); // an unfinished last line (not written by this tool)
            if (e > p) {
                of_write(f, p, (size_t)(e - p));
                of_write(f, pad, strlen(pad));
            }
            if (!*e) break;
        }
    } else {
        f = of_open(path, append ? OF_APPEND : 0);
        if (lseek(of_fd(f), 0, SEEK_CUR) <= 0) {
            const char *h = metrics_header(mse, *test_cols);
            of_write(f, h, strlen(h));
        }
    }
    free(old);
    return f;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    par_blas_single(); /* our threads split the work (lib/parallel.h), each calls BLAS alone */
    /* every output is checked (the metrics opened) before the work starts: lib/outfile.h */
    of_check(o.output);
    if (o.checkpoint) of_check(o.checkpoint);
    int test_cols = 0; /* the metrics lines have the test columns */
    outfile *mf = o.metrics ? open_metrics(o.metrics, o.resume != NULL, o.surrogate != NULL, o.test != NULL, &test_cols) : NULL;

    /* the checkpoint and the initial model stay reachable from here until freed, also when a check
     * below exits (static: no leak reported on those exits) */
    static model_file *ck, *init;
    ck = o.resume ? mf_read(o.resume) : NULL;
    double last_loss = NAN; /* the last epoch's mean loss (meta "train_loss") */
    graph_list ds = {0};
    read_graphs(o.input, &ds, o.surrogate, o.skip_missing);
    if (o.surrogate) sample_graphs(&ds, (uint64_t)o.sample, o.seed);
    graph_list ts = {0}; /* --test */
    if (o.test) read_test(o.test, &ds, &ts, o.skip_missing);
    init = o.init ? mf_read(o.init) : NULL;
    meta_info mi = {0};
    graph_list_digest(&ds, mi.data_md5);

    /* The model's configuration: the options (or the checkpoint's, which they must not contradict). */
    vae_config cfg = vae_default_config(ds.sp->id);
    cfg.C2 = o.ndim;
    cfg.D = o.gdim;
    cfg.beta = o.beta;
    cfg.eps_scale = o.eps_scale;
    cfg.lr = o.lr;
    cfg.seed = o.seed;
    cfg.alpha = o.alpha;
    cfg.plateau_factor = o.plateau_factor;
    cfg.plateau_patience = o.plateau_patience;
    cfg.layers = o.layers;
    int64_t batch = o.batch ? o.batch : (ds.sp->id == SPACE_NB101 ? 128 : 32);
    vae_kind kind;
    vae_kind_by_name(o.kind, &kind); /* checked by parse_args */
    if (kind == VAE_DGMG && o.set_layers && o.layers != DGMG_LAYERS)
        die_usage("--layers: the dgmg model has %d layers; --layers is for svge", DGMG_LAYERS);
    if (kind == VAE_DGMG && o.set_alpha && o.alpha != 0.5)
        die_usage("--alpha: the dgmg model's step loss is CE + BCE (alpha 0.5); --alpha is for svge");
    if (init) { // the trained model's kind and model options; the run's own: lr, seed, scheduler
        vae_config c2;
        vae_config_read(init, &kind, &c2);
        if (c2.space != cfg.space)
            die(EXIT_DATA, "%s: a model for %s, the input is %s", o.init, space_get(c2.space)->name, ds.sp->name);
        c2.lr = cfg.lr;
        c2.seed = cfg.seed;
        c2.plateau_factor = cfg.plateau_factor;
        c2.plateau_patience = cfg.plateau_patience;
        cfg = c2;
    }
    if (o.surrogate) {
        cfg.head_layers = o.reg_layers;
        snprintf(cfg.head_target, sizeof cfg.head_target, "%s", o.surrogate);
        cfg.head_vae_weight = o.reg_proportion;
        cfg.head_y_mean = 0;
        cfg.head_y_std = 1;
        cfg.head_vae_lr_scale = o.vae_lr_scale;
        if (o.standardize && !ck) target_moments(&ds, o.input, &cfg.head_y_mean, &cfg.head_y_std);
    }
    if (ck) {
        vae_kind ck_kind;
        vae_config c2;
        vae_config_read(ck, &ck_kind, &c2);
        if (o.set_kind && ck_kind != kind)
            die_usage("--resume: --model %s differs from the checkpoint's %s", o.kind, vae_kind_name(ck_kind));
        kind = ck_kind;
        if (c2.space != cfg.space)
            die(EXIT_DATA, "%s: checkpoint is for %s, the input is %s", o.resume, space_get(c2.space)->name, ds.sp->name);
        same_as_checkpoint(o.set_ndim, "--ndim", cfg.C2, c2.C2);
        same_as_checkpoint(o.set_gdim, "--gdim", cfg.D, c2.D);
        same_as_checkpoint(o.set_lr, "--lr", cfg.lr, c2.lr);
        same_as_checkpoint(o.set_beta, "--beta", cfg.beta, c2.beta);
        same_as_checkpoint(o.set_eps, "--eps-scale", cfg.eps_scale, c2.eps_scale);
        same_as_checkpoint(o.set_seed, "--seed", cfg.seed, c2.seed);
        same_as_checkpoint(o.set_alpha, "--alpha", cfg.alpha, c2.alpha);
        same_as_checkpoint(o.set_pfactor, "--plateau-factor", cfg.plateau_factor, c2.plateau_factor);
        same_as_checkpoint(o.set_ppatience, "--plateau-patience", cfg.plateau_patience, c2.plateau_patience);
        same_as_checkpoint(o.set_layers, "--layers", cfg.layers, c2.layers);
        if (!o.surrogate != !c2.head_layers || (o.surrogate && strcmp(c2.head_target, cfg.head_target) != 0))
            die_usage("--resume: --surrogate %s differs from the checkpoint's %s (give it as before)",
                      o.surrogate ? o.surrogate : "(none)", c2.head_layers ? c2.head_target : "(none)");
        same_as_checkpoint(o.surrogate != NULL, "--regression-layers", cfg.head_layers, c2.head_layers);
        same_as_checkpoint(o.surrogate != NULL, "--regression-proportion", cfg.head_vae_weight, c2.head_vae_weight);
        if (o.surrogate && o.standardize != (c2.head_y_mean != 0 || c2.head_y_std != 1))
            die_usage("--resume: --standardize-target %s; give it as before", o.standardize ? "given, the checkpoint's head "
                      "learns the raw target" : "not given, the checkpoint's head learns the standardized target");
        same_as_checkpoint(o.set_vae_lr_scale, "--vae-lr-scale", o.vae_lr_scale, c2.head_vae_lr_scale);
        cfg = c2;
        const mf_value *b = mf_find(ck, MF_META, "batch_size");
        if (b && b->kind == MF_INT) {
            if (o.batch && o.batch != b->i)
                die_usage("--resume: --batch %lld differs from the checkpoint's %lld", (long long)o.batch, (long long)b->i);
            if (b->i < 1 || b->i > MAX_BATCH) die(EXIT_DATA, "%s: meta \"batch_size\" %lld is out of range", o.resume, (long long)b->i);
            batch = b->i;
        }
        const mf_value *tl = mf_find(ck, MF_META, "train_loss");
        if (tl && tl->kind == MF_FLOAT) last_loss = tl->f;
        const mf_value *ng = mf_find(ck, MF_META, "train_graphs");
        if (ng && ng->kind == MF_INT && ng->i != (int64_t)ds.n)
            die(EXIT_DATA, "%s: checkpoint was trained on %lld graphs, the input has %zu", o.resume, (long long)ng->i, ds.n);
        check_resume_data(ck, o.resume, mi.data_md5);
    }
    char err[400];
    if (vae_config_check(&cfg, err, sizeof err)) die_usage("%s", err);
    if (cfg.head_layers && (cfg.head_y_mean != 0 || cfg.head_y_std != 1)) { /* the head's units */
        for (size_t i = 0; i < ds.n; i++) ds.y[i] = (ds.y[i] - cfg.head_y_mean) / cfg.head_y_std;
        for (size_t i = 0; i < ts.n; i++) ts.y[i] = (ts.y[i] - cfg.head_y_mean) / cfg.head_y_std;
        if (verbosity() != VERB_QUIET)
            say("the head learns (%s - %.6g) / %.6g (--standardize-target; mse in those units)", cfg.head_target,
                cfg.head_y_mean, cfg.head_y_std);
    }
    if (cfg.head_layers && cfg.head_vae_lr_scale != 1 && verbosity() != VERB_QUIET)
        say("the VAE fine-tunes at %g x the learning rate, the head at the rate (--vae-lr-scale%s)",
            cfg.head_vae_lr_scale, cfg.head_vae_lr_scale == 0 ? ": the VAE is frozen" : "");

    vae_model m;
    size_t most = ds.n > ts.n ? ds.n : ts.n; /* the larger set, for the workspace: a batch of either fits */
    int max_g = (int)((size_t)batch < most ? (size_t)batch : most);
    if (vae_build(&m, kind, &cfg, max_g, err, sizeof err)) die(EXIT_IO, "%s", err);
    par_pool *pool = par_create(par_threads_resolve(g_threads));
    vae_set_pool(&m, pool);
    vae_train t;
    vae_train_init(&t, &m);
    vae_init(&m, &t.rng);
    if (init) { // the trained weights; a fresh head stays as drawn
        vae_load_params(&m, init);
        mf_free(init);
    }
    if (ck) {
        vae_load_checkpoint(&m, &t, ck);
        mf_free(ck);
        if (t.epoch > o.epochs)
            die_usage("--epochs %lld: the checkpoint has already done %lld epochs", (long long)o.epochs, (long long)t.epoch);
    }
    mi.batch = batch;
    mi.ngraphs = (int64_t)ds.n;

    const int quiet = verbosity() == VERB_QUIET;
    const int64_t nb = (int64_t)((ds.n + (size_t)batch - 1) / (size_t)batch); /* batches per epoch */
    uint32_t *perm = xmalloc(ds.n * sizeof *perm);
    graph *bg = xmalloc((size_t)max_g * sizeof *bg);
    double *by = xmalloc((size_t)max_g * sizeof *by);
    const double start = now_seconds();
    const int64_t first_epoch = t.epoch;
    progress pg; /* the line on a terminal (lib/progress.h) */
    progress_begin(&pg, NULL, "graphs", 0);
    /* one line per epoch on a terminal or with -v; in a pipeline --metrics is the record */
    const int epoch_lines = pg.on || verbosity() >= VERB_VERBOSE;
    int stopped_early = 0;
    char b1[40], b2[32];
    if (!quiet)
        say("%s: %zu graphs, %lld batches of %lld, %zu parameters, epochs %lld..%lld", ds.sp->name, ds.n,
            (long long)nb, (long long)batch, m.num_params, (long long)t.epoch + 1, (long long)o.epochs);

    while (t.epoch < o.epochs) {
        epoch_stats es = {.epoch = t.epoch + 1, .lr = t.opt.lr, .t0 = now_seconds()};
        rng_permutation(&t.rng, (uint32_t)ds.n, perm);
        for (size_t s = 0; s < ds.n; s += (size_t)batch) {
            int B = (int)(ds.n - s < (size_t)batch ? ds.n - s : (size_t)batch);
            for (int b = 0; b < B; b++) bg[b] = ds.g[perm[s + (size_t)b]];
            if (o.surrogate)
                for (int b = 0; b < B; b++) by[b] = ds.y[perm[s + (size_t)b]];
            vae_terms tm;
            if (o.surrogate ? vae_surrogate_step(&m, bg, by, B, &t.rng, &tm) : vae_train_step(&m, bg, B, &t.rng, &tm))
                die(EXIT_DATA, "epoch %lld: a batch does not fit the model", (long long)es.epoch); /* cannot happen */
            if (!isfinite(tm.total) && (progress_end(&pg), 1))
                die(EXIT_DATA, "epoch %lld, batch %lld: the loss is not finite (%g); try a lower --lr",
                    (long long)es.epoch, (long long)es.batches + 1, tm.total);
            vae_update(&m, &t);
            es.loss += tm.total;
            es.recon += tm.recon;
            es.kl += tm.kl;
            es.mse += tm.mse;
            es.batches++;
            es.graphs += B;
            if (progress_due(&pg)) { /* on a terminal: epoch, graphs, graphs/s, loss, ETA */
                double tn = now_seconds(), el = tn - start;
                double done = (double)(es.epoch - 1 - first_epoch) * (double)nb + (double)es.batches;
                double total = (double)(o.epochs - first_epoch) * (double)nb;
                double left = el / done * (total - done);
                if (o.max_minutes > 0 && left > o.max_minutes * 60 - el) left = o.max_minutes * 60 - el;
                double eb = (double)es.batches;
                progress_line(&pg, "epoch %lld/%lld: %lld/%zu graphs, %.0f graphs/s, loss %.4g recon %.4g kl %.4g, ETA %s",
                              (long long)es.epoch, (long long)o.epochs, (long long)es.graphs, ds.n,
                              (double)es.graphs / (tn - es.t0 + 1e-9), es.loss / eb, es.recon / eb, es.kl / eb,
                              progress_duration(left, b1, sizeof b1));
            }
        }
        double secs = now_seconds() - es.t0, eb = (double)es.batches;
        double loss = es.loss / eb, recon = es.recon / eb, kl = es.kl / eb, gps = (double)es.graphs / (secs + 1e-9);
        double mse = es.mse / eb;
        char extra[64] = "", textra[96] = "";
        if (o.surrogate) snprintf(extra, sizeof extra, " mse %.4g (rmse %.4g)", mse, sqrt(mse));
        test_stats te = {0};
        if (o.test) { /* after the epoch's steps, outside its seconds */
            double t0 = now_seconds();
            te = test_eval(&m, &ts);
            int k = snprintf(textra, sizeof textra, " test recon %.4f kl %.4g", te.recon, te.kl);
            if (o.surrogate) k += snprintf(textra + k, sizeof textra - (size_t)k, " mse %.4g", te.mse);
            snprintf(textra + k, sizeof textra - (size_t)k, " (%.1f s)", now_seconds() - t0);
        }
        last_loss = loss;
        int reduced = vae_epoch_end(&t, loss);
        progress_end(&pg);
        if (epoch_lines)
            say("epoch %lld/%lld loss %.4f recon %.4f kl %.4g%s%s lr %.3g %.0f graphs/s %.1f s%s", (long long)es.epoch,
                (long long)o.epochs, loss, recon, kl, extra, textra, es.lr, gps, secs, reduced ? " (lr reduced)" : "");
        if (mf) {
            char line[256];
            int k = snprintf(line, sizeof line, "%lld\t%.9g\t%.9g\t%.9g\t%.9g\t%.1f\t%.3f", (long long)es.epoch, loss,
                             recon, kl, es.lr, gps, secs);
            if (o.surrogate) k += snprintf(line + k, sizeof line - (size_t)k, "\t%.9g", mse);
            if (o.test)
                k += snprintf(line + k, sizeof line - (size_t)k, "\t%.9g\t%.9g", te.recon, te.kl);
            if (o.test && o.surrogate) k += snprintf(line + k, sizeof line - (size_t)k, "\t%.9g", te.mse);
            if (test_cols && !o.test) k += snprintf(line + k, sizeof line - (size_t)k, o.surrogate ? "\t\t\t" : "\t\t");
            line[k++] = '\n';
            of_write(mf, line, (size_t)k);
        }
        if (o.max_minutes > 0 && t.epoch < o.epochs && now_seconds() - start >= o.max_minutes * 60) {
            stopped_early = 1;
            break;
        }
        if (o.checkpoint && t.epoch < o.epochs && t.epoch % o.ckpt_every == 0) {
            save_checkpoint(o.checkpoint, &m, &t, &mi, last_loss);
        }
        if (mf) of_publish(mf); /* the metrics so far, whole lines */
    }

    if (o.checkpoint) save_checkpoint(o.checkpoint, &m, &t, &mi, last_loss);
    mf_value meta[NMETA];
    size_t nm = make_meta(meta, &t, &mi, last_loss, 0);
    char id[MF_ID_LEN + 1];
    vae_save(o.output, &m, NULL, meta, nm, id);
    if (mf) of_commit(mf);
    if (stopped_early) /* a warning: shown with -q too */
        say("stopped after epoch %lld of %lld: --max-minutes %g reached", (long long)t.epoch, (long long)o.epochs,
            o.max_minutes);
    if (!quiet) {
        say("wrote %s (model %s, %lld epochs, %s)", o.output, id, (long long)t.epoch, fmt_dur(now_seconds() - start, b2, sizeof b2));
    }
    free(perm);
    free(bg);
    free(by);
    graph_list_free(&ds);
    graph_list_free(&ts);
    vae_train_free(&t);
    vae_free(&m);
    par_free(pool);
    return EXIT_OK;
}
