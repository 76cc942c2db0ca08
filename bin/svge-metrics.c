/* svge-metrics: the SVGe evaluation protocols of formats/reference.md §5.1 (reconstruction accuracy) and
 * §5.2 (prior validity, uniqueness, novelty) for one model (SVGe, or the DGMG baseline: lib/vae.h),
 * a training stream and a test stream, written as one "svge-metrics" record.
 *
 * Every metric comes twice: as the reference defines it (index-wise equality, graph_equal; unique
 * and novel by the exact (types, edges) form) and isomorphism-aware (graph_key: the NB101 graph
 * hash, NB101 cells pruned first). Novelty looks decodings up in hash sets of the training graphs'
 * forms and keys (O(valid + train), not the reference's O(valid x train)).
 *
 * Randomness: decoding k of the run (a global row index) uses the stream generate_stream_seed(seed, k,
 * 0) (lib/generate.h): reconstruction row k = test graph k / R, try k % R (R = encode x decode times);
 * prior row k = sample k / P, try k % P, with id PRIOR_ID_BASE + k. The prior samples z are drawn
 * from one MT19937 seeded with the seed, row-major (sample s, then dimension d). Rows are decoded
 * in fixed chunks, so the output is a function of the inputs and options alone: --threads runs
 * the chunks (and the encoder's) on several threads (lib/vae_team.h) and changes nothing else. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "graph.h"
#include "graph_list.h"
#include "metrics.h"
#include "modelfile.h"
#include "opts.h"
#include "progress.h"
#include "record.h"
#include "space.h"
#include "stream.h"
#include "util.h"
#include "vae_team.h"

static int g_threads = 0; /* --threads (0: one per CPU) */

#define CHUNK_ROWS 4096                 /* decodings generated and scored per generate_batch call */
#define DECODE_MAX_B 512                /* rows per decoder step */
#define DGMG_DECODE_MAX_B 256           /* rows per DGMG decoder step (graphs of up to 14 nodes) */
#define ENCODE_MAX_G 256                /* graphs per encoder batch */
#define PRIOR_ID_BASE (UINT64_C(1) << 62) /* stream ids of prior decodings: apart from reconstruction's */
#define MAX_TIMES 1000000u

static void usage(void) {
    printf("Usage: %s -m MODEL --train TRAIN [OPTION]... [TEST]\n"
           "Evaluate an SVGe model as the reference does (formats/reference.md §5.1, §5.2) and write one\n"
           "record with kind \"svge-metrics\" to stdout. TEST (stdin if absent or '-') and TRAIN are graph\n"
           "streams of the model's space. A DGMG model (svge-train --model dgmg) is evaluated the same way\n"
           "with its own encoder and decoder, which decodes forward only (as if --forward-only) and ends a\n"
           "graph at its first output node or at %d nodes (then invalid; the reference stops at 20).\n"
           "\n"
           "Reconstruction accuracy (§5.1): each test graph is encoded (eval mode: z = the encoder mean)\n"
           "and decoded ENCODE x DECODE times by sampling; recon_acc = hits / decodings, a hit being a\n"
           "decoding index-wise equal to the test graph (same node count, same type and predecessor set at\n"
           "every index, no isomorphism). recon_acc_iso counts a hit when graph_key (NB101 hash, nb101\n"
           "pruned first) is equal. The denominator is exact (the reference over-counts a partial batch).\n"
           "\n"
           "Prior (§5.2): Z = the encoder means of the TRAIN graphs; SAMPLES points z ~ N(mean Z, diag std Z)\n"
           "(population std) are each decoded PRIOR-DECODES times.\n"
           "  validity       valid decodings / decodings. Valid = graph_check in the model's space: our\n"
           "                 strict rules (formats/records.md; nb101 cells must have no dangling node,\n"
           "                 nb201 the exact topology, enas D-VAE's rule). The reference's validity was\n"
           "                 lenient (§5.2, §8 item 8), so its numbers are not directly comparable.\n"
           "  uniqueness     distinct (types, edges) forms among valid decodings / valid decodings;\n"
           "                 uniqueness_iso: distinct graph_keys / valid decodings\n"
           "  novelty        1 - (valid decodings index-wise equal to some TRAIN graph) / valid decodings;\n"
           "                 novelty_iso: the same with graph_key equality\n"
           "A metric whose denominator is 0 (no test graph, no valid decoding) is left out of the record.\n"
           "\n"
           "  -m, --model MODEL      the model file (required)\n"
           "      --train FILE       the training graph stream (required; '-' for stdin if TEST is a file)\n"
           "      --encode-times N   encodings per test graph (default 10). The encoder runs in eval mode,\n"
           "                         so the N encodings are identical (as in the reference): N x M\n"
           "                         decodings of the mean, i.e. equivalent to --decode-times N*M\n"
           "      --decode-times M   decodings per encoding (default 10)\n"
           "      --prior-samples N  latent points drawn from the prior (default 1000; 0 skips the prior)\n"
           "      --prior-decodes N  decodings per prior point (default 10)\n"
           "      --seed S           seed of the prior samples and every decoding (default 1)\n"
           "      --limit N          use only the first N test graphs and stop reading TEST there\n"
           "      --forward-only     decode forward only (no backward pass, no union merge; implied for DGMG)\n"
           "      --merge M          union (default) or reference: merge the two passes as the reference\n"
           "                         implementation does (formats/reference.md §8 bug 2; see svge-decode)\n"
           "      --table            also print the metrics as a table on stderr\n"
           PAR_THREADS_HELP("        ")
           OPTS_FORCE_HELP("            ")
           "  -q, --quiet            only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose          also a summary on stderr (records read and written)\n"
           "  -h, --help             show this help and exit\n"
           "\n"
           "Output fields: v, kind, model, space, seed, encode_times, decode_times, prior_samples,\n"
           "prior_decodes, forward_only (true for DGMG), n_test, n_train, n_recon_decodings, recon_hits, recon_hits_iso,\n"
           "n_prior_decodings, n_valid, n_unique, n_unique_iso, n_in_train, n_in_train_iso, n_nmismatch\n"
           "(merged decodings whose two passes disagreed on the node count), then the floats recon_acc,\n"
           "recon_acc_iso, validity, uniqueness, uniqueness_iso, novelty, novelty_iso.\n"
           "Deterministic: the same inputs and options give the same bytes.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), DGMG_GEN_MAX_NODES);
}

typedef struct {
    const char *model, *train, *test;
    uint64_t encode_times, decode_times, prior_samples, prior_decodes, limit;
    uint32_t seed;
    int has_limit, forward_only, table, reference_merge;
} options;

enum { OPT_TRAIN = 256, OPT_ENC, OPT_DEC, OPT_PS, OPT_PD, OPT_SEED, OPT_LIMIT, OPT_FWD, OPT_TABLE, OPT_MERGE, OPT_THREADS };

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"train", required_argument, NULL, OPT_TRAIN},
        {"encode-times", required_argument, NULL, OPT_ENC},
        {"decode-times", required_argument, NULL, OPT_DEC},
        {"prior-samples", required_argument, NULL, OPT_PS},
        {"prior-decodes", required_argument, NULL, OPT_PD},
        {"seed", required_argument, NULL, OPT_SEED},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"forward-only", no_argument, NULL, OPT_FWD},
        {"merge", required_argument, NULL, OPT_MERGE},
        {"table", no_argument, NULL, OPT_TABLE},
        {"threads", required_argument, NULL, OPT_THREADS},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.encode_times = 10, .decode_times = 10, .prior_samples = 1000, .prior_decodes = 10, .seed = 1};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:hqv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_TRAIN: o->train = optarg; break;
        case OPT_ENC: o->encode_times = opt_uint("--encode-times", optarg, 1, MAX_TIMES); break;
        case OPT_DEC: o->decode_times = opt_uint("--decode-times", optarg, 1, MAX_TIMES); break;
        case OPT_PS: o->prior_samples = opt_uint("--prior-samples", optarg, 0, 100000000); break;
        case OPT_PD: o->prior_decodes = opt_uint("--prior-decodes", optarg, 1, MAX_TIMES); break;
        case OPT_SEED: o->seed = (uint32_t)opt_uint("--seed", optarg, 0, UINT32_MAX); break;
        case OPT_LIMIT: o->limit = opt_uint("--limit", optarg, 0, UINT64_MAX); o->has_limit = 1; break;
        case OPT_FWD: o->forward_only = 1; break;
        case OPT_MERGE:
            o->reference_merge = opt_word("--merge", optarg, (const char *const[]){"union", "reference", NULL});
            break;
        case OPT_TABLE: o->table = 1; break;
        case OPT_THREADS: g_threads = par_threads_arg("--threads", optarg); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    o->test = opt_one_input(argc, argv);
    if (!o->model) die_usage("no model: give -m MODEL");
    if (!o->train) die_usage("no training stream: give --train FILE");
    int test_stdin = !o->test || strcmp(o->test, "-") == 0;
    if (test_stdin && strcmp(o->train, "-") == 0) die_usage("TRAIN and TEST cannot both be stdin");
    if (o->encode_times * o->decode_times > MAX_TIMES)
        die_usage("--encode-times x --decode-times must be at most %u", MAX_TIMES);
}

/* Encoder means (n,D) of the graphs (as one vae_encode call). */
static float *encode_all(vae_team *t, const graph_list *l, const char *what) {
    const vae_model *m = &t->m[0];
    float *mu = xmalloc((l->n ? l->n : 1) * (size_t)m->cfg.D * sizeof(float));
    if (vae_team_encode(t, l->g, (int)l->n, (int)l->n, mu, NULL) != 0)
        die(EXIT_DATA, "%s: a graph does not fit the model (at most %d nodes)", what, m->max_n);
    return mu;
}

/* Decoding: rows [k0, k0+B) of a run; row k decodes point c[k / per] with stream id base + k. */
typedef struct {
    vae_team *t;
    generate_opts opts;
    int D;
    float *c;        /* (CHUNK_ROWS, D) */
    uint64_t *ids;   /* (CHUNK_ROWS) */
    graph *out;      /* (CHUNK_ROWS) */
    uint8_t *flags;  /* (CHUNK_ROWS) */
    uint64_t nmismatch;
} decoder_run;

static void decode_rows_of(decoder_run *d, const float *points, uint64_t per, uint64_t base, uint64_t k0, int B) {
    for (int r = 0; r < B; r++) {
        uint64_t k = k0 + (uint64_t)r;
        memcpy(d->c + (size_t)r * d->D, points + (size_t)(k / per) * d->D, (size_t)d->D * sizeof(float));
        d->ids[r] = base + k;
    }
    if (vae_team_generate(d->t, d->c, B, B, d->ids, &d->opts, d->out, d->flags) != 0)
        die(EXIT_DATA, "internal error: generate_batch refused its options");
    for (int r = 0; r < B; r++) d->nmismatch += (d->flags[r] & GENERATE_NMISMATCH) != 0;
}

static void reconstruction(decoder_run *d, const space_info *sp, const graph_list *test, const float *mu,
                           uint64_t per, metrics_counts *res) {
    metrics_recon mr;
    metrics_recon_init(&mr, sp, test->g, test->n);
    const uint64_t total = (uint64_t)test->n * per;
    progress pg;
    progress_begin(&pg, "reconstruction", "graphs", test->n);
    for (uint64_t k0 = 0; k0 < total; k0 += CHUNK_ROWS) {
        int B = total - k0 < CHUNK_ROWS ? (int)(total - k0) : CHUNK_ROWS;
        decode_rows_of(d, mu, per, 0, k0, B);
        for (int r = 0; r < B; r++) metrics_recon_score(&mr, (size_t)((k0 + (uint64_t)r) / per), &d->out[r], res);
        progress_update(&pg, (k0 + (uint64_t)B) / per);
    }
    progress_end(&pg);
    metrics_recon_free(&mr);
}

static void prior(decoder_run *d, const space_info *sp, const graph_list *train, const float *z, uint64_t samples,
                  uint64_t per, metrics_counts *res) {
    metrics_prior mp;
    metrics_prior_init(&mp, sp, train->g, train->n);
    const uint64_t total = samples * per;
    progress pg;
    progress_begin(&pg, "prior", "points", samples);
    for (uint64_t k0 = 0; k0 < total; k0 += CHUNK_ROWS) {
        int B = total - k0 < CHUNK_ROWS ? (int)(total - k0) : CHUNK_ROWS;
        decode_rows_of(d, z, per, PRIOR_ID_BASE, k0, B);
        for (int r = 0; r < B; r++) metrics_prior_score(&mp, &d->out[r], res);
        progress_update(&pg, (k0 + (uint64_t)B) / per);
    }
    progress_end(&pg);
    metrics_prior_free(&mp);
}

static void print_table(const options *o, const char *id, const space_info *sp, const metrics_counts *r) {
    fprintf(stderr, "svge-metrics: model %s, space %s, seed %u%s\n", id, sp->name, o->seed,
            o->forward_only ? ", forward only" : o->reference_merge ? ", the reference's merge" : "");
    metrics_print_table(stderr, r);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    par_blas_single();

    model_file *f = mf_read(o.model);
    vae_team team;
    vae_team_load(&team, f, ENCODE_MAX_G, par_threads_resolve(g_threads));
    mf_free(f);
    const vae_model *m = &team.m[0];
    const char *id = m->id;
    const vae_config cfg = m->cfg;
    const space_info *sp = space_get(cfg.space);
    o.forward_only |= m->dcfg.forward_only;

    graph_list train = {0}, test = {0};
    graph_list_read(&train, o.train, sp, 0, UINT64_MAX);
    if (train.n == 0) die(EXIT_DATA, "%s: no training graphs", input_name(o.train));
    graph_list_read(&test, o.test, sp, 0, o.has_limit ? o.limit : UINT64_MAX);
    rec_writer *w = rw_open(NULL, 0);

    metrics_counts res = {.n_test = test.n, .n_train = train.n};
    decoder_run d = {.t = &team, .D = cfg.D};
    d.opts = (generate_opts){.max_n = m->gen_max_n, .mode = GENERATE_SAMPLE, .forward_only = o.forward_only, .seed = o.seed,
                           .reference_merge = o.reference_merge != 0};
    if (vae_team_generate_init(&team, m->kind == VAE_DGMG ? DGMG_DECODE_MAX_B : DECODE_MAX_B) != 0) die(EXIT_IO, "out of memory");
    d.c = xmalloc((size_t)CHUNK_ROWS * cfg.D * sizeof(float));
    d.ids = xmalloc(CHUNK_ROWS * sizeof *d.ids);
    d.out = xmalloc(CHUNK_ROWS * sizeof *d.out);
    d.flags = xmalloc(CHUNK_ROWS);

    float *mu_test = encode_all(&team, &test, input_name(o.test));
    reconstruction(&d, sp, &test, mu_test, o.encode_times * o.decode_times, &res);
    free(mu_test);
    if (o.prior_samples) {
        float *mu_train = encode_all(&team, &train, input_name(o.train));
        float *z = metrics_prior_points(mu_train, train.n, cfg.D, o.prior_samples, o.seed);
        free(mu_train);
        prior(&d, sp, &train, z, o.prior_samples, o.prior_decodes, &res);
        free(z);
    }
    res.nmismatch = d.nmismatch;

    msgpack_packer *pk = rw_packer(w);
    msgpack_pack_map(pk, 11 + metrics_field_count(&res));
    pack_kv_i64(pk, "v", 1);
    pack_kv_str(pk, "kind", "svge-metrics");
    pack_kv_str(pk, "model", id);
    pack_kv_str(pk, "space", sp->name);
    pack_kv_i64(pk, "seed", o.seed);
    pack_kv_i64(pk, "encode_times", (int64_t)o.encode_times);
    pack_kv_i64(pk, "decode_times", (int64_t)o.decode_times);
    pack_kv_i64(pk, "prior_samples", (int64_t)o.prior_samples);
    pack_kv_i64(pk, "prior_decodes", (int64_t)o.prior_decodes);
    pack_kv_bool(pk, "forward_only", o.forward_only);
    pack_kv_str(pk, "merge", o.reference_merge ? "reference" : "union");
    metrics_pack(pk, &res);
    rw_end_record(w);
    rw_close(w);
    if (o.table) print_table(&o, id, sp, &res);

    free(d.c);
    free(d.ids);
    free(d.out);
    free(d.flags);
    graph_list_free(&train);
    graph_list_free(&test);
    vae_team_free(&team);
    return EXIT_OK;
}
