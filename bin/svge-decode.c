/* svge-decode: decode latent points ("z" of records written by svge-encode or bo-propose) into
 * graph records with the SVGe decoder, or a DGMG model's (forward only, no forced END, at most
 * DGMG_GEN_MAX_NODES nodes) (lib/generate.h, lib/vae.h).
 *
 * Every output graph is one "unit" (input point p, sample s). A unit is decoded K times (K = --tries,
 * 1 without it) and the most common valid decoding is kept (generate_mode_index; the first try if none
 * is valid). Decoding r of unit (p, s), r = 0..K-1, draws from its own random stream, seeded with
 * generate_stream_seed(seed, p | s << 32 | r << 48, 0): p is the point's 0-based index in the input,
 * so a graph does not depend on the batching, on --samples beyond s or on --tries beyond r (try 0 of
 * sample s is what decoding without --tries gives). Units are collected until about ROWS decodings
 * are pending, then decoded in one generate_batch call (one GEMM over all of them per step) and
 * written, so memory does not grow with the stream. With T threads, T such groups are collected
 * and decoded at once on the threads' own workspaces (lib/vae_team.h): the groups, hence the
 * bytes, are those of one thread. An error in record N first writes the graphs of the records
 * before N. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "graph_hash.h"
#include "reference_merge.h"
#include "graph.h"
#include "latent.h"
#include "modelfile.h"
#include "opts.h"
#include "progress.h"
#include "propose.h"
#include "record.h"
#include "stream.h"
#include "util.h"
#include "vae_team.h"

static int g_threads = 0; /* --threads (0: one per CPU) */

#define ROWS 512          /* decodings per generate_batch call (at least K) */
#define DGMG_ROWS 256     /* rows per DGMG decoder step (graphs of up to 14 nodes: larger steps) */
#define MAX_SAMPLES 65536
#define MAX_TRIES 4096

static void usage(void) {
    printf("Usage: %s -m MODEL [OPTION]... [FILE]\n"
           "Read records with a latent point (FILE, or stdin if absent or '-') and write graph records\n"
           "decoded from them by the SVGe model MODEL (a file written by svge-train) to stdout.\n"
           "A DGMG model (svge-train --model dgmg, config kind \"dgmg\") decodes as the reference's DGMG:\n"
           "forward only (--forward-only is implied), no forced output node: a graph ends at its first\n"
           "output node or when it has %d nodes (the reference stops at 20; our graphs hold at most %d)\n"
           "and is then returned as generated, invalid.\n"
           "\n"
           "Each input record needs \"z\": an array of numbers (float32 or float64) of the model's\n"
           "graph_embedding_dim, and \"model\": the id of the model that made it, which must be this\n"
           "model's id. Each output record has, in order: \"v\", \"id\" (the output's 0-based running\n"
           "index), \"space\", \"ops\", \"edges\" (the graph), \"source_id\" (the input record's \"id\", if it\n"
           "has one), \"decode\" {\"mode\", \"seed\", \"sample\" (0..N-1), \"tries\", \"valid\" (the graph is\n"
           "valid in its space), \"merged\" (the forward and backward passes were merged; false with\n"
           "--forward-only, a DGMG model or, merging by union, when their node counts differ), \"merge\"\n"
           "(\"union\" or \"reference\"), \"pick\" (\"mode\" or \"first\")}, \"z\" (float32) and \"model\".\n"
           "Output graphs need not be valid; see \"valid\".\n"
           "\n"
           "  -m, --model MODEL  the model file (required)\n"
           "      --mode M       sample: draw node types and edges from the decoder's distributions;\n"
           "                     argmax: the most likely type, an edge iff p > 0.5 (default sample)\n"
           "      --samples N    output graphs per input point, 1..%d (default 1)\n"
           "      --tries K      decode each sample K times, 1..%d, and output the most common valid\n"
           "                     decoding (the first one if none is valid) (default: not given, i.e. 1)\n"
           "      --seed S       base of every decoding's random stream, 0..4294967295 (default 1);\n"
           "                     graph p's sample s is the same whatever the batch, --samples or input\n"
           "                     after it\n"
           "      --forward-only only the forward pass, no union with the backward pass (default: both;\n"
           "                     a DGMG model always decodes forward only)\n"
           "      --any-model    accept records without \"model\" (a \"model\" of another model is still\n"
           "                     refused)\n"
           "      --merge M      union: the forward and backward graphs' true union (default);\n"
           "                     reference: the reference implementation's merge, kept for reproducing\n"
           "                     its numbers (formats/reference.md §8 bug 2: a backward edge a->b is added\n"
           "                     only if no forward edge leaves a and none enters b; aligned on the\n"
           "                     forward graph's size)\n"
           "      --pick P       with --tries: mode, the most common valid decoding (default); first,\n"
           "                     the first valid one, which is what the reference returns (§8 bug 4)\n"
           "      --exclude FILE the mode among the valid decodings whose graph is not one of FILE's\n"
           "                     graph records (isomorphism-aware: graph_key, NB101 cells pruned),\n"
           "                     e.g. the cells a search has evaluated already; \"decode\" gains\n"
           "                     \"fresh\": false when no try is new (the output is then the mode\n"
           "                     of all valid tries, or the first try)\n"
           "      --distinct     also exclude every graph output before (in input order), so the\n"
           "                     fresh outputs are all different\n"
           PAR_THREADS_HELP("    ")
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose      also a summary on stderr (records read and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), DGMG_GEN_MAX_NODES, GRAPH_MAX_NODES, MAX_SAMPLES, MAX_TRIES);
}

typedef struct {
    const char *model, *input;
    generate_mode mode;
    int samples, tries, tries_given;
    uint32_t seed;
    int forward_only, any_model, reference_merge, pick_first;
    const char *exclude; /* --exclude FILE */
    int distinct;        /* --distinct */
} options;

enum { OPT_MODE = 256, OPT_SAMPLES, OPT_TRIES, OPT_SEED, OPT_FORWARD_ONLY, OPT_ANY_MODEL, OPT_MERGE, OPT_PICK, OPT_THREADS, OPT_EXCLUDE,
       OPT_DISTINCT };

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"mode", required_argument, NULL, OPT_MODE},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"tries", required_argument, NULL, OPT_TRIES},
        {"seed", required_argument, NULL, OPT_SEED},
        {"forward-only", no_argument, NULL, OPT_FORWARD_ONLY},
        {"any-model", no_argument, NULL, OPT_ANY_MODEL},
        {"merge", required_argument, NULL, OPT_MERGE},
        {"pick", required_argument, NULL, OPT_PICK},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"distinct", no_argument, NULL, OPT_DISTINCT},
        {"threads", required_argument, NULL, OPT_THREADS},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.mode = GENERATE_SAMPLE, .samples = 1, .tries = 1, .seed = 1};
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":hm:qv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_MODE:
            o->mode = opt_word("--mode", optarg, (const char *const[]){"sample", "argmax", NULL}) ? GENERATE_ARGMAX : GENERATE_SAMPLE;
            break;
        case OPT_SAMPLES: o->samples = (int)opt_uint("--samples", optarg, 1, MAX_SAMPLES); break;
        case OPT_TRIES:
            o->tries = (int)opt_uint("--tries", optarg, 1, MAX_TRIES);
            o->tries_given = 1;
            break;
        case OPT_SEED: o->seed = (uint32_t)opt_uint("--seed", optarg, 0, UINT32_MAX); break;
        case OPT_FORWARD_ONLY: o->forward_only = 1; break;
        case OPT_ANY_MODEL: o->any_model = 1; break;
        case OPT_MERGE:
            o->reference_merge = opt_word("--merge", optarg, (const char *const[]){"union", "reference", NULL});
            break;
        case OPT_PICK:
            o->pick_first = opt_word("--pick", optarg, (const char *const[]){"mode", "first", NULL});
            break;
        case OPT_EXCLUDE: o->exclude = optarg; break;
        case OPT_DISTINCT: o->distinct = 1; break;
        case OPT_THREADS: g_threads = par_threads_arg("--threads", optarg); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->model) die_usage("no model given (-m MODEL)");
    if ((o->exclude || o->distinct) && o->pick_first) die_usage("--exclude and --distinct pick by mode: not with --pick first");
    o->input = opt_one_input(argc, argv);
}

/* Units waiting to be decoded: unit u has K rows (its tries) u*K .. u*K+K-1. They are decoded in
 * groups of `group` units (counted from the first unit after a flush), up to cap/group groups at
 * once. */
typedef struct {
    int count, cap, group, K, D;
    float *c;          /* (cap*K, D): each row's latent point */
    uint64_t *ids;     /* (cap*K): each row's stream id */
    graph *g;          /* (cap*K): decodings */
    uint8_t *flags;    /* (cap*K) */
    int *sample;       /* (cap) */
    int *has_src;      /* (cap) */
    uint64_t *src;     /* (cap) */
} units;

typedef struct {
    const options *o;
    vae_team *t;
    generate_opts dopts;
    const space_info *sp;
    const char *id;
    uint64_t out_id;
    int fresh_check;    /* --exclude or --distinct: pick among decodings not in `old` */
    key_set old;        /* graph keys of --exclude's graphs and, with --distinct, of earlier outputs */
} decoder;

/* The index of the first valid graph of gs (K), or -1 (the reference's "most common", bug 4). */
static int first_valid(const space_info *sp, const graph *gs, int K) {
    bool valid[MAX_TRIES];
    char why[256];
    for (int k = 0; k < K; k++) valid[k] = graph_check(sp, &gs[k], why, sizeof why) == 0;
    return reference_pick_first(valid, K);
}

static void flush(units *u, decoder *d, rec_writer *w) {
    if (u->count == 0) return;
    const int K = u->K, D = u->D;
    if (vae_team_generate(d->t, u->c, u->count * K, u->group * K, u->ids, &d->dopts, u->g, u->flags))
        die(EXIT_DATA, "internal error: generate_batch refused its options");
    msgpack_packer *pk = rw_packer(w);
    for (int i = 0; i < u->count; i++) {
        const graph *tries = u->g + (size_t)i * K;
        int best = -1, fresh = 0;
        if (d->fresh_check) {
            best = generate_mode_index_except(d->sp, tries, K, &d->old.m[d->sp->id], NULL);
            fresh = best >= 0;
            if (best < 0) best = generate_mode_index(d->sp, tries, K, NULL); /* all old: say what it decodes to */
        } else if (K > 1) {
            best = d->o->pick_first ? first_valid(d->sp, tries, K) : generate_mode_index(d->sp, tries, K, NULL);
        }
        if (best < 0) best = 0; /* no valid try: the first */
        const size_t row = (size_t)i * K + best;
        const graph *g = &u->g[row];
        char why[256];
        const bool valid = graph_check(d->sp, g, why, sizeof why) == 0;
        const bool merged = !d->dopts.forward_only && !(u->flags[row] & GENERATE_NMISMATCH);
        if (fresh && d->o->distinct) {
            uint8_t key[16];
            if (graph_key(d->sp, g, key) == 0) keyset_put(&d->old, d->sp, key, 0);
        }
        msgpack_pack_map(pk, 8 + (u->has_src[i] ? 1 : 0));
        pack_kv_i64(pk, "v", STREAM_FORMAT_VERSION);
        pack_kv_i64(pk, "id", (int64_t)d->out_id++);
        graph_pack(pk, d->sp, g);
        if (u->has_src[i]) {
            pack_cstr(pk, "source_id");
            msgpack_pack_uint64(pk, u->src[i]);
        }
        pack_cstr(pk, "decode");
        msgpack_pack_map(pk, 8 + (d->fresh_check ? 1 : 0));
        pack_kv_str(pk, "mode", d->o->mode == GENERATE_ARGMAX ? "argmax" : "sample");
        pack_kv_i64(pk, "seed", d->o->seed);
        pack_kv_i64(pk, "sample", u->sample[i]);
        pack_kv_i64(pk, "tries", K);
        pack_kv_bool(pk, "valid", valid);
        pack_kv_bool(pk, "merged", merged);
        pack_kv_str(pk, "merge", d->dopts.reference_merge ? "reference" : "union");
        pack_kv_str(pk, "pick", d->o->pick_first ? "first" : "mode");
        if (d->fresh_check) pack_kv_bool(pk, "fresh", fresh);
        latent_pack(pk, LATENT_KEY, u->c + (size_t)i * K * D, D);
        pack_kv_str(pk, LATENT_MODEL_KEY, d->id);
        rw_end_record(w);
    }
    u->count = 0;
}

/* The record's latent point into z (D floats), from model id (or none with any_model), and its
 * "id" (*ido, NULL if absent). 0, or -1 with why. */
static int read_point(const msgpack_object *rec, const char *id, int any_model, int D, float *z,
                      const msgpack_object **ido, char *why, size_t len) {
    if (latent_check_model(rec, id, any_model, why, len) != 0 || latent_read(rec, LATENT_KEY, D, z, why, len) != 0)
        return -1;
    *ido = rec_get(rec, "id");
    if (*ido && (*ido)->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return snprintf(why, len, "field \"id\" is %s, not an unsigned integer", obj_type_name(*ido)), -1;
    return 0;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    par_blas_single();

    model_file *f = mf_read(o.model);
    vae_team team;
    const int threads = par_threads_resolve(g_threads);
    vae_team_load(&team, f, 1, threads);
    mf_free(f);
    const vae_model *m = &team.m[0];
    const char *id = m->id;

    decoder d = {.o = &o, .t = &team, .sp = space_get(m->cfg.space), .id = id};
    d.dopts = (generate_opts){.max_n = m->gen_max_n, .mode = o.mode, .forward_only = o.forward_only || m->dcfg.forward_only,
                            .reference_merge = o.reference_merge != 0,
                            .seed = o.seed};
    d.fresh_check = o.exclude || o.distinct;
    keyset_init(&d.old);
    if (o.exclude) propose_read_evaluated(o.exclude, &d.old, NULL, NULL);
    if (vae_team_generate_init(&team, m->kind == VAE_DGMG ? DGMG_ROWS : ROWS))
        die(EXIT_IO, "cannot allocate the decoder's workspace");

    const int K = o.tries, D = m->cfg.D;
    units u = {.K = K, .D = D, .group = ROWS / K > 0 ? ROWS / K : 1};
    u.cap = u.group * threads;
    const size_t rows = (size_t)u.cap * K;
    u.c = xcalloc(rows * D, sizeof(float));
    u.ids = xcalloc(rows, sizeof *u.ids);
    u.g = xcalloc(rows, sizeof *u.g);
    u.flags = xcalloc(rows, 1);
    u.sample = xcalloc((size_t)u.cap, sizeof *u.sample);
    u.has_src = xcalloc((size_t)u.cap, sizeof *u.has_src);
    u.src = xcalloc((size_t)u.cap, sizeof *u.src);
    float *z = xcalloc((size_t)D, sizeof(float));

    rec_reader *r = rr_open(o.input);
    rec_writer *w = rw_open(NULL, 0);
    progress pg;
    progress_begin(&pg, NULL, "graphs", 0);
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        const uint64_t p = rr_count(r) - 1; /* the point's 0-based index */
        char why[256];
        const msgpack_object *ido;
        if (read_point(rec, id, o.any_model, D, z, &ido, why, sizeof why) != 0) {
            flush(&u, &d, w); /* the graphs of the records before this one are written first */
            progress_end(&pg);
            rr_fail(r, "%s", why);
        }
        int64_t src = 0;
        if (ido) src = (int64_t)ido->via.u64;
        for (int s = 0; s < o.samples; s++) {
            const int i = u.count;
            for (int k = 0; k < K; k++) {
                const size_t row = (size_t)i * K + k;
                memcpy(u.c + row * D, z, (size_t)D * sizeof(float));
                u.ids[row] = p ^ ((uint64_t)s << 32) ^ ((uint64_t)k << 48);
            }
            u.sample[i] = s;
            u.has_src[i] = ido != NULL;
            u.src[i] = (uint64_t)src;
            if (++u.count == u.cap) {
                flush(&u, &d, w);
                progress_update(&pg, d.out_id);
            }
        }
    }
    flush(&u, &d, w);
    progress_end(&pg);
    rr_close(r);
    rw_close(w);
    free(z), free(u.c), free(u.ids), free(u.g), free(u.flags), free(u.sample), free(u.has_src), free(u.src);
    keyset_free(&d.old);
    vae_team_free(&team);
    return EXIT_OK;
}
