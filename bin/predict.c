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
#include "predictor.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define DEFAULT_BATCH 256
#define MAX_BATCH 65536
#define MAX_FIELD 200

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
           "                     std O(P^2) (P: training or inducing points), most of the time for P ~ 1000\n"
           "      --batch N      records predicted together, 1..%d (default %d); it changes speed only\n"
           BLAS_THREADS_HELP("    ")
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr\n"
           "  -v, --verbose      also a summary on stderr (records read and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           "A prediction is never NaN or infinite: if one is, predict stops with an error naming the record.\n"
           "Memory is constant: one batch of records at a time.\n"
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
    *o = (options){.field = "predicted", .batch = DEFAULT_BATCH, .threads = 1};
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
        case OPT_THREADS: o->threads = blas_threads_arg("--threads", optarg); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->model) die_usage("no model given (-m MODEL)");
    o->input = opt_one_input(argc, argv);
}

/* Records read but not yet written. Output bytes of record i are out[off[i], off[i+1]); its
 * placeholders (msgpack float64, 9 bytes) at poff[i] and soff[i] (std). */
typedef struct {
    int count, cap, dim;
    size_t *off, *poff, *soff;
    uint64_t *recno;
    float *X;             /* (cap, dim) */
    double *mean, *std;   /* (cap) */
    msgpack_sbuffer out;
} batch;

/* Overwrite the packed float64 at p with v (0xcb, big-endian bits). */
static void patch_double(char *p, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    p[0] = (char)0xcb;
    for (int k = 0; k < 8; k++) p[1 + k] = (char)(bits >> (56 - 8 * k));
}

static void flush(batch *b, const predictor *p, rec_writer *w, const char *in) {
    if (b->count == 0) return;
    p->predict(p, b->X, b->count, b->mean, p->has_std ? b->std : NULL);
    for (int i = 0; i < b->count; i++) {
        if (!isfinite(b->mean[i]) || (p->has_std && !isfinite(b->std[i])))
            die(EXIT_DATA, "%s: record %llu: the prediction is not finite (%g, std %g)", in,
                (unsigned long long)b->recno[i], b->mean[i], p->has_std ? b->std[i] : 0.0);
        patch_double(b->out.data + b->poff[i], b->mean[i]);
        if (p->has_std) patch_double(b->out.data + b->soff[i], b->std[i]);
        rw_write_raw(w, b->out.data + b->off[i], b->off[i + 1] - b->off[i]);
    }
    b->count = 0;
    b->out.size = 0;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    blas_use_threads(o.threads);

    model_file *f = mf_read(o.model);
    predictor p;
    predictor_load(&p, f); /* dies naming the file if it holds no predictor */
    mf_free(f);
    if (o.no_std) p.has_std = 0;

    char std_field[MAX_FIELD + 8];
    snprintf(std_field, sizeof std_field, "%s_std", o.field);
    const char *drop[] = {o.field, std_field, NULL};

    rec_reader *r = rr_open(o.input);
    rec_writer *w = rw_open(NULL, 0);
    char in[256];
    snprintf(in, sizeof in, "%s", rr_name(r));
    batch b = {.cap = o.batch, .dim = p.dim};
    b.off = xcalloc((size_t)b.cap + 1, sizeof *b.off);
    b.poff = xcalloc((size_t)b.cap, sizeof *b.poff);
    b.soff = xcalloc((size_t)b.cap, sizeof *b.soff);
    b.recno = xcalloc((size_t)b.cap, sizeof *b.recno);
    b.X = xcalloc((size_t)b.cap * p.dim, sizeof(float));
    b.mean = xcalloc((size_t)b.cap, sizeof(double));
    b.std = xcalloc((size_t)b.cap, sizeof(double));
    msgpack_sbuffer_init(&b.out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b.out, msgpack_sbuffer_write);
    const size_t prov_len = strlen(p.prov);
    const int is_model = strcmp(p.prov_field, "model") == 0;

    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        char why[512];
        const char *ps;
        size_t plen;
        int got = pred_prov_get(rec, p.prov_field, &ps, &plen, why, sizeof why);
        if (got < 0) {
            flush(&b, &p, w, in);
            rr_fail(r, "%s", why);
        }
        if (got == 0 && !o.any_model) {
            flush(&b, &p, w, in);
            rr_fail(r, "no \"%s\" field: inputs \"%s\" of unknown provenance (--any-model accepts them)", p.prov_field,
                    p.x_field);
        }
        if (got == 1 && (plen != prov_len || memcmp(ps, p.prov, plen) != 0)) {
            flush(&b, &p, w, in);
            if (is_model)
                rr_fail(r, "latent from model %.*s, the predictor was fitted on latents of model %s",
                        (int)(plen > 64 ? 64 : plen), ps, p.prov);
            rr_fail(r, "\"%s\" is \"%.*s\", the predictor was fitted on \"%s\" of kind \"%s\"", p.prov_field,
                    (int)(plen > 64 ? 64 : plen), ps, p.x_field, p.prov);
        }
        const int i = b.count;
        if (pred_vec_read(rec, p.x_field, b.X + (size_t)i * p.dim, (size_t)p.dim, why, sizeof why)) {
            flush(&b, &p, w, in);
            rr_fail(r, "%s (the predictor's input)", why);
        }
        b.recno[i] = rr_count(r);
        b.off[i] = b.out.size;
        pack_enriched_begin(&pk, rec, drop, p.has_std ? 2 : 1);
        pack_cstr(&pk, o.field);
        b.poff[i] = b.out.size;
        msgpack_pack_double(&pk, 0.0);
        if (p.has_std) {
            pack_cstr(&pk, std_field);
            b.soff[i] = b.out.size;
            msgpack_pack_double(&pk, 0.0);
        }
        b.off[i + 1] = b.out.size;
        if (++b.count == b.cap) flush(&b, &p, w, in);
    }
    flush(&b, &p, w, in);
    rr_close(r);
    rw_close(w);
    msgpack_sbuffer_destroy(&b.out);
    free(b.off), free(b.poff), free(b.soff), free(b.recno), free(b.X), free(b.mean), free(b.std);
    predictor_free(&p);
    return EXIT_OK;
}
