/* predict: add a predictor's prediction to every record: "predicted" and, for a GP, "predicted_std".
 * The predictor is loaded from a model file by its config kind (lib/predictor.h: "gp" from gp-fit;
 * "svge" or "dgmg" with the surrogate head of svge-train --surrogate). Records are processed in batches of --batch,
 * as in svge-encode: each record's output is packed when it is read, with float64 placeholders that
 * are filled in once the batch is predicted, so memory does not grow with the stream. An error in
 * record N first writes the records before N. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelfile.h"
#include "opts.h"
#include "parallel.h"
#include "predictor.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define DEFAULT_BATCH 256
#define MAX_BATCH 65536
#define MAX_FIELD 200
#define MAX_GROUP (1 << 20) /* records in one group (memory: the records' bytes, 8 + 16 + 4 dim each) */

static void usage(void) {
    printf("Usage: %s -m MODEL [OPTION]... [FILE]\n"
           "Read records (FILE, or stdin if absent or '-') and write them to stdout with the prediction of\n"
           "the predictor in MODEL:\n"
           "  \"predicted\"      float64: the predicted value of the model's target (for a GP from gp-fit:\n"
           "                   the predictive mean, in the target's units)\n"
           "  \"predicted_std\"  float64, GP only: the predictive standard deviation of the latent function,\n"
           "                   observation noise EXCLUDED (the uncertainty of the mean, not of a new\n"
           "                   measurement; gp-fit reports the noise std)\n"
           "Existing fields of these names are replaced (both, even when the model gives no std); every\n"
           "other field is passed through unchanged, in order.\n"
           "\n"
           "MODEL is a model file of config kind \"gp\" (written by gp-fit) or an SVGe or DGMG model with a\n"
           "surrogate head (svge-train --init VAE --surrogate FIELD: the SVGE_acc MLP on the latent mean,\n"
           "which predicts FIELD; no std). The input vector is the field the predictor was fitted on (\"z\"\n"
           "or e.g. \"features\"), of the same length, and from the same encoder: for \"z\" the record's\n"
           "\"model\" must be the id of the VAE the inputs came from (for a surrogate head: MODEL itself,\n"
           "so encode with svge-encode -m MODEL); for another field F, F_kind must be the GP's features kind\n"
           "(e.g. \"adj-onehot\"). Anything else is an error naming the record. A model without a head\n"
           "holds no predictor.\n"
           "\n"
           "  -m, --model MODEL  the model file (required)\n"
           "      --field NAME   write the prediction as NAME and its std as NAME_std (default \"predicted\")\n"
           "      --any-model    accept records without the provenance field (\"model\", or F_kind); a\n"
           "                     provenance that differs is still refused\n"
           "      --no-std       write only NAME, not NAME_std: a GP's mean costs O(P d) per record, its\n"
           "                     std O(P^2) (P: training or inducing points), most of the time for P ~ 1000;\n"
           "                     a GP from gp-fit --sparse --inducing M has a std of O(M^2)\n"
           "      --batch N      records predicted together, 1..%d (default %d); it changes speed only\n"
           PAR_THREADS_HELP("    ")
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr\n"
           "  -v, --verbose      also a summary on stderr (records read and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           "A prediction is never NaN or infinite: if one is, predict stops with an error naming the record.\n"
           "Memory is constant: three groups of records at a time (one predicted while, on two threads,\n"
           "the one before is written and the next read).\n"
           "Bad input or model (exit 1): inputs of another provenance or length, a model that holds no\n"
           "predictor, a damaged model file, a prediction that is not finite.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_BATCH, DEFAULT_BATCH);
}

typedef struct {
    const char *model, *input, *field;
    int any_model, no_std, batch, threads;
} options;

static void parse_args(int argc, char **argv, options *o) {
    enum { OPT_FIELD = 256, OPT_ANY_MODEL, OPT_NO_STD, OPT_BATCH, OPT_THREADS };
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"field", required_argument, NULL, OPT_FIELD},
        {"any-model", no_argument, NULL, OPT_ANY_MODEL},
        {"no-std", no_argument, NULL, OPT_NO_STD},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"threads", required_argument, NULL, OPT_THREADS},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.field = "predicted", .batch = DEFAULT_BATCH, .threads = 0};
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":hm:" OPTS_FORCE OPTS_QV, longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_FIELD:
            if (!*optarg || strlen(optarg) > MAX_FIELD) die_usage("--field: want a name of 1..%d bytes", MAX_FIELD);
            o->field = optarg;
            break;
        case OPT_ANY_MODEL: o->any_model = 1; break;
        case OPT_NO_STD: o->no_std = 1; break;
        case OPT_BATCH: o->batch = (int)opt_uint("--batch", optarg, 1, MAX_BATCH); break;
        case OPT_THREADS: o->threads = par_threads_arg("--threads", optarg); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->model) die_usage("no model given (-m MODEL)");
    o->input = opt_one_input(argc, argv);
}

/* A group of records read but not yet written: up to cap = NB x --batch records, predicted in NB
 * sub-batches of --batch records, cut as one thread cuts the stream (so every record's prediction has
 * the same bits for any --threads). Output bytes of record i are out[off[i], off[i+1]); its
 * placeholders (msgpack float64, 9 bytes) at poff[i] and soff[i] (std). */
typedef struct {
    int count, cap, dim;
    size_t *off, *poff, *soff;
    uint64_t *recno;
    float *X;             /* (cap, dim) */
    double *mean, *std;   /* (cap) */
    msgpack_sbuffer out;
    msgpack_packer pk;
} group;

static void group_init(group *g, int cap, int dim) {
    *g = (group){.cap = cap, .dim = dim};
    g->off = xcalloc((size_t)cap + 1, sizeof *g->off);
    g->poff = xcalloc((size_t)cap, sizeof *g->poff);
    g->soff = xcalloc((size_t)cap, sizeof *g->soff);
    g->recno = xcalloc((size_t)cap, sizeof *g->recno);
    g->X = xcalloc((size_t)cap * dim, sizeof(float));
    g->mean = xcalloc((size_t)cap, sizeof(double));
    g->std = xcalloc((size_t)cap, sizeof(double));
    msgpack_sbuffer_init(&g->out);
    msgpack_packer_init(&g->pk, &g->out, msgpack_sbuffer_write);
}

static void group_free(group *g) {
    msgpack_sbuffer_destroy(&g->out);
    free(g->off), free(g->poff), free(g->soff), free(g->recno), free(g->X), free(g->mean), free(g->std);
}

/* Overwrite the packed float64 at p with v (0xcb, big-endian bits). */
static void patch_double(char *p, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    p[0] = (char)0xcb;
    for (int k = 0; k < 8; k++) p[1 + k] = (char)(bits >> (56 - 8 * k));
}

enum { FULL, END, BAD, NONFINITE };

/* The stream: the reader and the writer, each with what stopped it last. Reading (fill) and
 * writing (write_out) touch disjoint fields, so they run on two threads at once. */
typedef struct {
    const options *o;
    const predictor *p;
    rec_reader *r;
    rec_writer *w;
    const char *drop[3];
    char std_field[MAX_FIELD + 8];
    int is_model;
    int rstatus;          /* the last fill: FULL, END or BAD */
    char why[512];        /* BAD: the message for rr_fail */
    int wstatus;          /* the last write: 0, or NONFINITE */
    uint64_t bad_recno;   /* NONFINITE: the record */
    double bad_mean, bad_std;
    group *to_write, *to_fill; /* beside a round: the group predicted before, and an empty one */
} pump;

/* Read records into g (emptied) until it is full (FULL), the stream ends (END) or a record is bad
 * (BAD, the reader left at it, the message in why): s->rstatus. */
static void fill(pump *s, group *g) {
    const predictor *p = s->p;
    g->count = 0;
    g->out.size = 0;
    const size_t prov_len = strlen(p->prov);
    const msgpack_object *rec;
    while (g->count < g->cap) {
        if (!(rec = rr_next(s->r))) {
            s->rstatus = END;
            return;
        }
        const char *ps;
        size_t plen;
        s->rstatus = BAD;
        int got = pred_prov_get(rec, p->prov_field, &ps, &plen, s->why, sizeof s->why);
        if (got < 0) return;
        if (got == 0 && !s->o->any_model) {
            snprintf(s->why, sizeof s->why, "no \"%s\" field: inputs \"%s\" of unknown provenance (--any-model accepts them)",
                     p->prov_field, p->x_field);
            return;
        }
        if (got == 1 && (plen != prov_len || memcmp(ps, p->prov, plen) != 0)) {
            if (s->is_model)
                snprintf(s->why, sizeof s->why, "latent from model %.*s, the predictor was fitted on latents of model %s",
                         (int)(plen > 64 ? 64 : plen), ps, p->prov);
            else
                snprintf(s->why, sizeof s->why, "\"%s\" is \"%.*s\", the predictor was fitted on \"%s\" of kind \"%s\"",
                         p->prov_field, (int)(plen > 64 ? 64 : plen), ps, p->x_field, p->prov);
            return;
        }
        const int i = g->count;
        char why[400];
        if (pred_vec_read(rec, p->x_field, g->X + (size_t)i * p->dim, (size_t)p->dim, why, sizeof why)) {
            snprintf(s->why, sizeof s->why, "%s (the predictor's input)", why);
            return;
        }
        g->recno[i] = rr_count(s->r);
        g->off[i] = g->out.size;
        size_t raw_len;
        const char *raw = rr_raw(s->r, &raw_len);
        pack_enriched_begin(&g->pk, rec, raw, raw_len, s->drop, p->has_std ? 2 : 1);
        pack_cstr(&g->pk, s->o->field);
        g->poff[i] = g->out.size;
        msgpack_pack_double(&g->pk, 0.0);
        if (p->has_std) {
            pack_cstr(&g->pk, s->std_field);
            g->soff[i] = g->out.size;
            msgpack_pack_double(&g->pk, 0.0);
        }
        g->off[i + 1] = g->out.size;
        g->count++;
    }
    s->rstatus = FULL;
}

/* Write g's predicted records in order; at a prediction that is not finite, stop before it
 * (s->wstatus NONFINITE: the caller dies naming it, after the records before it are out).
 * Returns 0 or -1. */
static int write_out(pump *s, group *g) {
    const int has_std = s->p->has_std;
    for (int i = 0; i < g->count; i++) {
        if (!isfinite(g->mean[i]) || (has_std && !isfinite(g->std[i]))) {
            s->wstatus = NONFINITE;
            s->bad_recno = g->recno[i];
            s->bad_mean = g->mean[i];
            s->bad_std = has_std ? g->std[i] : 0.0;
            return -1;
        }
        patch_double(g->out.data + g->poff[i], g->mean[i]);
        if (has_std) patch_double(g->out.data + g->soff[i], g->std[i]);
        rw_write_raw(s->w, g->out.data + g->off[i], g->off[i + 1] - g->off[i]);
    }
    g->count = 0;
    return 0;
}

/* Beside the prediction of one group: write the group predicted in the round before (on the
 * calling thread), and fill an empty one (on the second thread, if there is one). */
static void beside_write(void *ctx) {
    pump *s = ctx;
    write_out(s, s->to_write);
}
static void beside_fill(void *ctx) {
    pump *s = ctx;
    fill(s, s->to_fill);
}

/* One round: the sub-batches of g, claimed in turn by the workers (lib/parallel.h, par_claim),
 * worker 0 first writing and refilling the other group (beside) if asked. */
typedef struct {
    const predictor *p;
    group *g;
    int batch;
} round_job;

static void predict_sub(void *ctx, int worker, int k) {
    (void)worker;
    const round_job *j = ctx;
    const group *g = j->g;
    const int b0 = k * j->batch, n = g->count - b0 < j->batch ? g->count - b0 : j->batch;
    j->p->predict(j->p, g->X + (size_t)b0 * g->dim, n, g->mean + b0, j->p->has_std ? g->std + b0 : NULL);
}

static void predict_group(par_pool *pool, const predictor *p, group *g, int batch, pump *with_beside) {
    round_job j = {p, g, batch};
    const int nsub = (g->count + batch - 1) / batch;
    par_claim2(pool, par_claim_workers(pool, nsub, with_beside ? 2 : 0), nsub, predict_sub, &j,
               with_beside ? beside_write : NULL, with_beside, with_beside ? beside_fill : NULL, with_beside);
}

/* The records before it are out: the writer's exit hook ends the stream after them. */
static _Noreturn void die_nonfinite(const pump *s, const char *in) {
    die(EXIT_DATA, "%s: record %llu: the prediction is not finite (%g, std %g)", in,
        (unsigned long long)s->bad_recno, s->bad_mean, s->bad_std);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    par_blas_single();

    model_file *f = mf_read(o.model);
    predictor p;
    predictor_load(&p, f); /* dies naming the file if it holds no predictor */
    mf_free(f);
    if (o.no_std) p.has_std = 0;

    const int threads = par_threads_resolve(o.threads);
    par_pool *pool = par_create(threads);
    pump s = {.o = &o, .p = &p, .r = rr_open(o.input), .w = rw_open(NULL, 0),
              .is_model = strcmp(p.prov_field, "model") == 0};
    snprintf(s.std_field, sizeof s.std_field, "%s_std", o.field);
    s.drop[0] = o.field, s.drop[1] = s.std_field, s.drop[2] = NULL;
    char in[256];
    snprintf(in, sizeof in, "%s", rr_name(s.r));

    /* Three groups of 4 sub-batches per thread: while the workers predict one (cur), the calling
     * thread writes the records of the one predicted in the round before (done) and a second thread
     * reads new ones into the third (next); then the workers join the prediction. */
    const int nsub = 4 * threads;
    const int cap = (int)((int64_t)nsub * o.batch > MAX_GROUP ? (MAX_GROUP / o.batch) * o.batch : nsub * o.batch);
    group bufs[3];
    for (int i = 0; i < 3; i++) group_init(&bufs[i], cap, p.dim);
    group *cur = &bufs[0], *done = &bufs[1], *next = &bufs[2];
    fill(&s, cur);
    while (s.rstatus == FULL) {
        s.to_write = done, s.to_fill = next;
        predict_group(pool, &p, cur, o.batch, &s);
        if (s.wstatus == NONFINITE) die_nonfinite(&s, in);
        group *t = done;
        done = cur, cur = next, next = t;
    }
    /* the stream stopped in cur (END or BAD): write what is before the stop */
    const int stop = s.rstatus;
    if (write_out(&s, done) == 0) {
        predict_group(pool, &p, cur, o.batch, NULL);
        write_out(&s, cur);
    }
    if (s.wstatus == NONFINITE) die_nonfinite(&s, in);
    if (stop == BAD) rr_fail(s.r, "%s", s.why); /* the writer's exit hook ends stdout after the records before it */
    rr_close(s.r);
    rw_close(s.w);
    for (int i = 0; i < 3; i++) group_free(&bufs[i]);
    par_free(pool);
    predictor_free(&p);
    return EXIT_OK;
}
