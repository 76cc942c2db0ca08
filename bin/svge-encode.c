/* svge-encode: add each graph record's latent point: "z", the SVGe (or DGMG, lib/dgmg.h) encoder's
 * mean (eval mode, no noise), optionally "z_logvar", and "model", the id of the model that made them.
 *
 * Records are processed in batches of --batch so that the encoder runs one GEMM over all nodes of a
 * batch; several batches (or chunks of a large one) are encoded at once, one per thread
 * (lib/vae_team.h), with the same bytes for every thread count. Each record's output is packed when it is read, with float32 placeholders for z (and
 * z_logvar) that are filled in once the batch is encoded, so no record is parsed twice and memory
 * does not grow with the stream. An error in record N first writes the records before N.
 *
 * Graphs of a larger space with the model's vocabulary (nb101x for an nb101 model, enas12 for an
 * enas6 one) are encoded too: the encoder has no node limit of its own, only buffers sized for the
 * space's largest graph, so at the first such graph that is larger than the model's space allows,
 * the model is built again for the larger space (sizes only) with the same parameters
 * (vae_team_respace). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "latent.h"
#include "modelfile.h"
#include "opts.h"
#include "record.h"
#include "stream.h"
#include "util.h"
#include "vae_team.h"

static int g_threads = 0; /* --threads (0: one per CPU) */

#define DEFAULT_BATCH 512
#define MAX_BATCH 65536
#define MODEL_MAX_G 1024 /* graphs per encoder forward (larger batches run in chunks) */

static void usage(void) {
    printf("Usage: %s -m MODEL [OPTION]... [FILE]\n"
           "Read graph records (FILE, or stdin if absent or '-') and write them to stdout with their latent\n"
           "point from the SVGe model MODEL (a file written by svge-train; a DGMG model, config kind\n"
           "\"dgmg\", is encoded with its own encoder):\n"
           "  \"z\"         array of float32 (the model's graph_embedding_dim): the encoder mean, eval mode\n"
           "  \"z_logvar\"  array of float32: the encoder log-variance (only with --logvar)\n"
           "  \"model\"     the model id: 16 hex digits of the model file's checksum\n"
           "Existing fields of these names are replaced; every other field is passed through in order.\n"
           "\n"
           "Every graph must be valid in its space (formats/records.md) and of the model's space or of a\n"
           "space with the same operations: nb101x (up to 8 nodes) for an nb101 model, enas12 for\n"
           "an enas6 model (the encoder takes any number of nodes; whether its latent points mean\n"
           "anything for graphs larger than its training set's is the experiment). Anything else is an\n"
           "error naming the record.\n"
           "\n"
           "  -m, --model MODEL  the model file (required)\n"
           "      --logvar       also write \"z_logvar\"\n"
           "      --batch N      graphs encoded together, 1..%d (default %d); it changes speed only\n"
           "                     (and at most the last float bits, from BLAS rounding)\n"
           PAR_THREADS_HELP("    ")
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose      also a summary on stderr (records read and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_BATCH, DEFAULT_BATCH);
}

typedef struct {
    const char *model, *input;
    int logvar;
    int batch;
} options;

enum { OPT_LOGVAR = 256, OPT_BATCH, OPT_THREADS };

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"logvar", no_argument, NULL, OPT_LOGVAR},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"threads", required_argument, NULL, OPT_THREADS},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.batch = DEFAULT_BATCH};
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":hm:qv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_LOGVAR: o->logvar = 1; break;
        case OPT_BATCH:
            o->batch = (int)opt_uint("--batch", optarg, 1, MAX_BATCH);
            break;
        case OPT_THREADS: g_threads = par_threads_arg("--threads", optarg); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->model) die_usage("no model given (-m MODEL)");
    o->input = opt_one_input(argc, argv);
}

/* Records read but not yet written: up to cap, i.e. several batches of `batch` records (counted
 * from the first record after a forced flush), each encoded as one vae_encode call would encode
 * it (lib/vae_team.h), so the bytes do not depend on the thread count. Output bytes of record i
 * are out[off[i], off[i+1]); its z placeholders (D packed float32, 5 bytes each) start at zoff[i],
 * its z_logvar ones at lvoff[i]. */
typedef struct {
    int count, cap, batch, D;
    graph *g;
    size_t *off, *zoff, *lvoff;
    float *mu, *logvar; /* (cap, D) */
    msgpack_sbuffer out;
    msgpack_packer pk;
} batch;

static void batch_init(batch *b, int cap, int group, int D, int logvar) {
    *b = (batch){.cap = cap, .batch = group, .D = D};
    b->g = xcalloc((size_t)cap, sizeof *b->g);
    b->off = xcalloc((size_t)cap + 1, sizeof *b->off);
    b->zoff = xcalloc((size_t)cap, sizeof *b->zoff);
    b->lvoff = xcalloc((size_t)cap, sizeof *b->lvoff);
    b->mu = xcalloc((size_t)cap * D, sizeof(float));
    b->logvar = logvar ? xcalloc((size_t)cap * D, sizeof(float)) : NULL;
    msgpack_sbuffer_init(&b->out);
    msgpack_packer_init(&b->pk, &b->out, msgpack_sbuffer_write);
}

static void batch_free(batch *b) {
    msgpack_sbuffer_destroy(&b->out);
    free(b->g), free(b->off), free(b->zoff), free(b->lvoff), free(b->mu), free(b->logvar);
}

/* Write the encoded records of b and empty it. */
static void write_out(batch *b, rec_writer *w) {
    for (int i = 0; i < b->count; i++) {
        latent_fill(b->out.data + b->zoff[i], b->mu + (size_t)i * b->D, b->D);
        if (b->logvar) latent_fill(b->out.data + b->lvoff[i], b->logvar + (size_t)i * b->D, b->D);
        rw_write_raw(w, b->out.data + b->off[i], b->off[i + 1] - b->off[i]);
    }
    b->count = 0;
    b->out.size = 0;
}

static void check_encoded(int rc) {
    if (rc) die(EXIT_DATA, "internal error: a checked graph does not fit the model");
}

/* The record's graph: readable, of the model's space msp or one with its vocabulary (*spp), valid.
 * 0, or -1 with why. */
static int read_graph(const msgpack_object *rec, const space_info *msp, const space_info **spp, graph *g, char *why,
                      size_t len) {
    const space_info *sp;
    if (graph_read(rec, &sp, g, why, len) != 0) return -1;
    if (sp != msp && !space_same_vocabulary(sp, msp))
        return snprintf(why, len, "graph of space %s, this model is for %s", sp->name, msp->name), -1;
    char inv[400];
    if (graph_check(sp, g, inv, sizeof inv) != 0) return snprintf(why, len, "invalid %s graph: %s", sp->name, inv), -1;
    *spp = sp;
    return 0;
}

/* The stream between the reader and the writer: fill reads records into a batch until it is full
 * (FULL) or the stream ends (END), a record is bad (BAD: why) or a graph needs a larger model
 * (LARGER: the record rec, its graph keep of space sp, not yet added). */
enum { FULL, END, BAD, LARGER };
typedef struct {
    rec_reader *r;
    rec_writer *w;
    const space_info *msp;
    const char *id;
    int logvar;
    const int *max_n;  /* the model's node limit */
    batch *spare;      /* for beside: the batch to write, then to fill */
    int status;
    char why[512];
    const msgpack_object *rec;
    graph keep;
    const space_info *sp;
} pump;

/* Pack rec (graph g at b->g[b->count]) into b; 1 if b is now full. */
static int add_record(pump *p, batch *b, const msgpack_object *rec) {
    static const char *const drop[] = {LATENT_KEY, LATENT_LOGVAR_KEY, LATENT_MODEL_KEY, NULL};
    const int i = b->count;
    b->off[i] = b->out.size;
    size_t raw_len;
    const char *raw = rr_raw(p->r, &raw_len);
    pack_enriched_begin(&b->pk, rec, raw, raw_len, drop, p->logvar ? 3 : 2);
    b->zoff[i] = latent_pack_slots(&b->pk, &b->out, LATENT_KEY, b->D);
    if (p->logvar) b->lvoff[i] = latent_pack_slots(&b->pk, &b->out, LATENT_LOGVAR_KEY, b->D);
    pack_kv_str(&b->pk, LATENT_MODEL_KEY, p->id);
    b->off[i + 1] = b->out.size;
    return ++b->count == b->cap;
}

static void fill(pump *p, batch *b) {
    const msgpack_object *rec;
    while ((rec = rr_next(p->r))) {
        graph *g = &b->g[b->count];
        if (read_graph(rec, p->msp, &p->sp, g, p->why, sizeof p->why) != 0) {
            p->status = BAD;
            return;
        }
        if (g->n > *p->max_n) { /* a larger space's graph (checked valid there): bigger buffers */
            p->keep = *g;
            p->rec = rec;
            p->status = LARGER;
            return;
        }
        if (add_record(p, b, rec)) {
            p->status = FULL;
            return;
        }
    }
    p->status = END;
}

/* The calling thread's share while the others encode: write the last encoded batch, refill it. */
static void beside(void *ctx) {
    pump *p = ctx;
    write_out(p->spare, p->w);
    fill(p, p->spare);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    par_blas_single();

    model_file *f = mf_read(o.model);
    vae_team team;
    const int cap = o.batch < MODEL_MAX_G ? o.batch : MODEL_MAX_G;
    const int threads = par_threads_resolve(g_threads);
    vae_team_load(&team, f, cap, threads);
    mf_free(f);
    const vae_model *m = &team.m[0];
    char id[sizeof m->id];
    memcpy(id, m->id, sizeof id);
    const int D = m->cfg.D;
    /* batches per buffer: at least 4 chunks of cap graphs per thread (larger batches have several),
     * so that the threads share the chunks evenly while the calling thread also reads and writes */
    const int nbatch = (int)(((int64_t)4 * threads * cap + o.batch - 1) / o.batch);

    /* Two buffers: while the other threads encode one, the calling thread writes the other's
     * records (encoded in the round before) and reads new ones into it. */
    batch bufs[2];
    for (int i = 0; i < 2; i++) batch_init(&bufs[i], nbatch * o.batch, o.batch, D, o.logvar);
    batch *cur = &bufs[0], *spare = &bufs[1];
    pump p = {.r = rr_open(o.input), .w = rw_open(NULL, 0), .msp = space_get(m->cfg.space), .id = id,
              .logvar = o.logvar, .max_n = &team.m[0].max_n};
    fill(&p, cur);
    for (;;) {
        while (p.status == FULL) {
            p.spare = spare;
            check_encoded(vae_team_encode_beside(&team, cur->g, cur->count, cur->batch, cur->mu, cur->logvar, beside, &p));
            batch *t = cur;
            cur = spare, spare = t;
        }
        /* the stream stopped in cur: write what is before the stop */
        write_out(spare, p.w);
        check_encoded(vae_team_encode(&team, cur->g, cur->count, cur->batch, cur->mu, cur->logvar));
        write_out(cur, p.w);
        if (p.status == END) break;
        if (p.status == BAD) rr_fail(p.r, "%s", p.why);
        vae_team_respace(&team, p.sp); /* LARGER */
        cur->g[0] = p.keep;
        if (add_record(&p, cur, p.rec)) p.status = FULL;
        else fill(&p, cur);
    }
    rr_close(p.r);
    rw_close(p.w);
    for (int i = 0; i < 2; i++) batch_free(&bufs[i]);
    vae_team_free(&team);
    return EXIT_OK;
}
