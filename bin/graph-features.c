/* graph-features: add a fixed-length feature vector of each graph, an encoding that needs no VAE
 * (lib/encodings.h): the adjacency + one-hot encoding or BANANAS's path encoding, for the surrogate
 * baselines. (The library is not called features.h: under -Ilib it would shadow glibc's
 * <features.h>.) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encodings.h"
#include "graph.h"
#include "opts.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define MAX_FEATURES 1000000u /* a record holds at most 2^20 objects */

static void usage(void) {
    printf("Usage: %s --kind KIND [OPTION]... [FILE]\n"
           "Read graph records (FILE, or stdin if absent or '-') and write them to stdout with a float32\n"
           "array \"features\" encoding the graph and its sibling \"features_kind\" naming the encoding, so\n"
           "that every result can say which was used. Existing fields of those names are replaced.\n"
           "\n"
           "  -k, --kind KIND    the encoding (required):\n"
           "                     adj-onehot: the upper triangle of the adjacency matrix padded to the\n"
           "                       space's maximum node count M, row by row ((0,1), (0,2), ..., (M-2,M-1):\n"
           "                       M(M-1)/2 bits), then the one-hot type of each node position (M x K, K the\n"
           "                       vocabulary with input and output, in the type order of formats/records.md);\n"
           "                       a graph of n < M nodes fills positions 0..n-1, the rest are 0.\n"
           "                       Length: nb101 56, nb201 84, enas6 92, enas12 203\n"
           "                     path: BANANAS's path encoding (White et al. 2021): one indicator per\n"
           "                       possible input->output path, labelled by its inner nodes' operations.\n"
           "                       I inner types, paths of at most L inner nodes: (I^(L+1) - 1)/(I - 1)\n"
           "                       labels; the path o_1..o_l has index sum_{i=1..l} I^(i-1) (o_i + 1), inner\n"
           "                       types numbered by their hash label (nb101: conv3x3 0, conv1x1 1, maxpool 2,\n"
           "                       BANANAS's own order). nb101: I 3, L 5, 364; nb201 (operations on nodes,\n"
           "                       fixed topology, \"none\" a label like the others): I 5, L 3, 156; enas6:\n"
           "                       I 6, L 6, 55,987; enas12: I 6, L 6 by default (truncated: longer paths\n"
           "                       are left out), 55,987\n"
           "      --max-path L   path: keep paths of at most L inner nodes, 0..%d and at most the space's\n"
           "                     longest (and at most %u features); \"features_kind\" is then \"path:L\"\n"
           "                     unless L is the space's default\n"
           "      --field NAME   the field to write (default \"features\"; the kind goes in NAME_kind)\n"
           "      --skip-invalid drop records whose graph is unreadable or invalid, and warn how many on\n"
           "                     stderr at the end, even with -q (default: stop with an error)\n"
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr\n"
           "  -v, --verbose      also a summary on stderr (records read and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           "Every graph must be valid in its space (formats/records.md); values are exactly 0 or 1. An\n"
           "unreadable or invalid graph is bad input (exit 1) unless --skip-invalid.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), GRAPH_MAX_NODES - 2, MAX_FEATURES);
}

typedef struct {
    enc_kind kind;
    int max_path; /* -1: the space's default */
    int skip_invalid;
    const char *field, *input;
} options;

static void parse_args(int argc, char **argv, options *o) {
    enum { OPT_MAX_PATH = 256, OPT_FIELD, OPT_SKIP_INVALID };
    static const char *const kinds[] = {"adj-onehot", "path", NULL};
    static const struct option longopts[] = {
        {"kind", required_argument, NULL, 'k'},
        {"max-path", required_argument, NULL, OPT_MAX_PATH},
        {"field", required_argument, NULL, OPT_FIELD},
        {"skip-invalid", no_argument, NULL, OPT_SKIP_INVALID},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.max_path = -1, .field = "features"};
    int have_kind = 0;
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":k:h" OPTS_FORCE OPTS_QV, longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->kind = (enc_kind)enc_kind_by_name(kinds[opt_word("--kind", optarg, kinds)]);
            have_kind = 1;
            break;
        case OPT_MAX_PATH: o->max_path = (int)opt_uint("--max-path", optarg, 0, GRAPH_MAX_NODES - 2); break;
        case OPT_FIELD:
            if (!*optarg || strlen(optarg) > 200) die_usage("--field: want a name of 1..200 bytes");
            o->field = optarg;
            break;
        case OPT_SKIP_INVALID: o->skip_invalid = 1; break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!have_kind) die_usage("--kind KIND is required (adj-onehot or path)");
    if (o->max_path >= 0 && o->kind != ENC_PATH) die_usage("--max-path applies to --kind path only");
    o->input = opt_one_input(argc, argv);
}

/* Per space: the vector length, L and the kind string, worked out once (and --max-path checked
 * against the space when its first graph arrives). */
typedef struct {
    int ready, max_len;
    size_t dim;
    char kind[32];
} space_plan;

static const space_plan *plan_for(const options *o, const space_info *sp, space_plan *plans, rec_reader *r) {
    space_plan *p = &plans[sp->id];
    if (p->ready) return p;
    if (o->kind == ENC_ADJ_ONEHOT) {
        p->dim = enc_adj_onehot_dim(sp);
        snprintf(p->kind, sizeof p->kind, "adj-onehot");
    } else {
        int def = enc_path_default_len(sp), longest = enc_path_longest(sp);
        p->max_len = o->max_path >= 0 ? o->max_path : def;
        if (p->max_len > longest)
            die(EXIT_USAGE, "%s: record %llu: --max-path %d: the longest path of %s has %d inner nodes", rr_name(r),
                (unsigned long long)rr_count(r), p->max_len, sp->name, longest);
        p->dim = enc_path_dim(sp, p->max_len, MAX_FEATURES);
        if (p->dim == 0)
            die(EXIT_USAGE, "%s: record %llu: --max-path %d: more than %u path features for %s", rr_name(r),
                (unsigned long long)rr_count(r), p->max_len, MAX_FEATURES, sp->name);
        if (p->max_len == def) snprintf(p->kind, sizeof p->kind, "path");
        else snprintf(p->kind, sizeof p->kind, "path:%d", p->max_len);
    }
    p->ready = 1;
    return p;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    char kind_field[256];
    snprintf(kind_field, sizeof kind_field, "%s_kind", o.field);
    const char *drop[] = {o.field, kind_field, NULL};

    rec_reader *r = rr_open(o.input);
    rec_writer *w = rw_open(NULL, 0);
    space_plan plans[SPACE_COUNT] = {0};
    float *vec = NULL;
    size_t vec_cap = 0;
    uint64_t skipped = 0;
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        const space_info *sp;
        graph g;
        char why[512];
        if (graph_read(rec, &sp, &g, why, sizeof why) != 0 || graph_check(sp, &g, why, sizeof why) != 0) {
            if (o.skip_invalid) {
                skipped++;
                continue;
            }
            rr_fail(r, "%s", why);
        }
        const space_plan *p = plan_for(&o, sp, plans, r);
        if (p->dim > vec_cap) {
            vec_cap = p->dim;
            vec = xrealloc(vec, vec_cap * sizeof *vec);
        }
        if (o.kind == ENC_ADJ_ONEHOT) enc_adj_onehot(sp, &g, vec);
        else enc_path(sp, &g, p->max_len, vec);
        msgpack_packer *pk = rw_packer(w);
        size_t raw_len;
        const char *raw = rr_raw(r, &raw_len);
        pack_enriched_begin(pk, rec, raw, raw_len, drop, 2);
        pack_cstr(pk, o.field);
        msgpack_pack_array(pk, p->dim);
        for (size_t i = 0; i < p->dim; i++) msgpack_pack_float(pk, vec[i]);
        pack_kv_str(pk, kind_field, p->kind);
        rw_end_record(w);
    }
    rr_close(r);
    rw_close(w);
    free(vec);
    if (skipped) say("skipped %llu records with an invalid graph", (unsigned long long)skipped);
    return EXIT_OK;
}
