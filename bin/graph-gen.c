/* graph-gen: write generated graph records (no input), seeded and deterministic.
 *
 *   nb101-8  SVGe's extrapolation set of 8-node NB101-style cells (space nb101x), after the
 *            reference's Extrapolation_Ability/generate_nb101_8.py (unseeded there): two families
 *            of one-node extensions of a 7-node base cell, 192 each, and 1,000 random 8-node cells.
 *   enas12   random 12-layer ENAS architectures, as ENAS's random search samples them.
 *
 * The random draws come from one MT19937 stream (lib/rng.h) seeded with --seed, in output order:
 * the first N enas12 architectures are the same for every larger N, and in nb101-8 only family (c)
 * draws at all. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "native.h"
#include "opts.h"
#include "record.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

#define DEFAULT_SEED 1
#define NB101_8_RANDOM 1000 /* family (c) */
#define NB101_8_PAIRS 40    /* node pairs drawn per random cell */
#define MAX_COUNT 100000000ull

static void usage(void) {
    printf("Usage: %s KIND [OPTION]...\n"
           "Write generated graph records (a zstd msgpack stream) to stdout; no input is read.\n"
           "Each record has \"v\", \"id\" (0-based position in the generated set), \"space\", \"ops\",\n"
           "\"edges\" and \"gen\", a map saying how it was made.\n"
           "\n"
           "Kinds:\n"
           "  nb101-8  SVGe's extrapolation set (automl/SVGe Extrapolation_Ability/generate_nb101_8.py;\n"
           "           seeded here): 1,384 cells of 8 nodes, space nb101x (NB101's operations, up to 8\n"
           "           nodes, no edge limit). Base cell: 7 nodes [input, conv3x3, conv3x3, conv3x3,\n"
           "           conv3x3, conv1x1, output], edges 0-1 0-2 0-4 0-6 1-5 2-3 3-4 4-5 5-6.\n"
           "           (a) 192 = 3 x 64, ids 0..191: the old output (node 6) becomes operation OP, a new\n"
           "               output node 7 gets 6->7 and EXTRA->7 for a subset EXTRA of {0..5};\n"
           "               gen {\"family\": \"a\", \"op\": OP, \"extra\": EXTRA}\n"
           "           (b) 192 = 3 x 64, ids 192..383: a new input node 0 feeds the old input (now node\n"
           "               1, operation OP) and the nodes of a subset EXTRA of {2..7} (the old nodes\n"
           "               1..6); gen {\"family\": \"b\", \"op\": OP, \"extra\": EXTRA}. The reference's\n"
           "               best cell is b with OP conv3x3-bn-relu and EXTRA {2..7} (16 edges)\n"
           "           (c) 1,000, ids 384..1383: 6 operations drawn uniformly, then %d node pairs i < j\n"
           "               drawn uniformly (with replacement) from the 28 and made edges i->j; input 0,\n"
           "               output 7; no validity filter (as the reference);\n"
           "               gen {\"family\": \"c\", \"seed\": S, \"draw\": k (0..999)}\n"
           "           OP runs over conv1x1-bn-relu, conv3x3-bn-relu, maxpool3x3; EXTRA over the 64\n"
           "           subsets in binary order (bit i: the i-th node of the set). Families a and b are\n"
           "           all valid; with seed 1, 510 of c are (894 of 1,384; seeds 2 and 3: 498, 524).\n"
           "  enas12   -n N random 12-layer ENAS architectures (space enas12, with \"arch\" in D-VAE's list\n"
           "           form): each layer's operation uniform over the 6, each skip connection from an\n"
           "           earlier layer or the input present with probability 1/2, as ENAS's random search\n"
           "           samples; every one is valid. gen {\"family\": \"random\", \"seed\": S, \"draw\": k}\n"
           "\n"
           "Options:\n"
           "  -s, --seed S       seed of the random draws, 0..4294967295 (default %d)\n"
           "  -n, --count N      enas12: how many architectures, 1..%llu (required)\n"
           "      --valid-only   nb101-8: write only the cells valid in nb101x (every node on an\n"
           "                     input->output path; ids stay those of the whole set)\n"
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr\n"
           "  -v, --verbose      also a summary on stderr (graphs generated, valid and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), NB101_8_PAIRS, DEFAULT_SEED, MAX_COUNT);
}

typedef struct {
    int kind; /* 0 nb101-8, 1 enas12 */
    uint32_t seed;
    uint64_t count; /* 0: not given */
    int valid_only;
} options;

enum { KIND_NB101_8, KIND_ENAS12 };
enum { OPT_VALID_ONLY = 256 };

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'n'},
        {"valid-only", no_argument, NULL, OPT_VALID_ONLY},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.seed = DEFAULT_SEED};
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":hs:n:qv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->seed = (uint32_t)opt_uint("--seed", optarg, 0, UINT32_MAX); break;
        case 'n': o->count = opt_uint("--count", optarg, 1, MAX_COUNT); break;
        case OPT_VALID_ONLY: o->valid_only = 1; break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (optind >= argc) die_usage("missing KIND (nb101-8 or enas12)");
    opt_operands(argc, argv, 1, "one KIND; nothing is read");
    const char *k = argv[optind];
    if (strcmp(k, "nb101-8") == 0) o->kind = KIND_NB101_8;
    else if (strcmp(k, "enas12") == 0) o->kind = KIND_ENAS12;
    else die_usage("unknown KIND '%s' (nb101-8 or enas12)", k);
    if (o->kind == KIND_NB101_8 && o->count) die_usage("--count is for enas12 (nb101-8 is a fixed set of 1,384)");
    if (o->kind == KIND_ENAS12 && !o->count) die_usage("enas12 needs --count N");
    if (o->kind == KIND_ENAS12 && o->valid_only) die_usage("--valid-only is for nb101-8 (every enas12 draw is valid)");
}

/* NB101 type indices (lib/space.c): 2 conv1x1, 3 conv3x3, 4 maxpool3x3. */
enum { C1 = 2, C3 = 3, MP = 4 };
static const uint8_t ops3[3] = {C1, C3, MP};

/* The 7-node base cell of the reference. */
static graph base_cell(void) {
    static const uint8_t types[7] = {TYPE_INPUT, C3, C3, C3, C3, C1, TYPE_OUTPUT};
    static const uint8_t edges[][2] = {{0, 1}, {0, 2}, {0, 4}, {0, 6}, {1, 5}, {2, 3}, {3, 4}, {4, 5}, {5, 6}};
    graph g = {0};
    g.n = 7;
    memcpy(g.type, types, sizeof types);
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) graph_add_edge(&g, edges[e][0], edges[e][1]);
    return g;
}

typedef struct {
    rec_writer *w;
    const space_info *sp;
    int valid_only;
    uint64_t id, n_valid, n_written;
} out_state;

/* Write one record: v, id, space, ops, edges, [arch,] gen: {family, op, extra} for op >= 0 (a type
 * index; extra a node mask), else {family, seed, draw}. */
static void emit(out_state *s, const graph *g, const char *family, int op, uint16_t extra, uint32_t seed,
                 int64_t draw) {
    char why[256];
    int valid = graph_check(s->sp, g, why, sizeof why) == 0;
    uint64_t id = s->id++;
    s->n_valid += valid;
    if (s->valid_only && !valid) return;
    int enas = s->sp->id == SPACE_ENAS12;
    if (enas && !valid) die(EXIT_DATA, "internal error: enas12 draw %lld is invalid: %s", (long long)draw, why);
    msgpack_packer *pk = rw_packer(s->w);
    msgpack_pack_map(pk, 6 + enas);
    pack_kv_i64(pk, "v", 1);
    pack_kv_i64(pk, "id", (int64_t)id);
    graph_pack(pk, s->sp, g);
    if (enas) {
        char arch[1024];
        enas_to_list(g, arch, sizeof arch);
        pack_kv_str(pk, "arch", arch);
    }
    pack_cstr(pk, "gen");
    if (op >= 0) { /* families a and b */
        msgpack_pack_map(pk, 3);
        pack_kv_str(pk, "family", family);
        pack_kv_str(pk, "op", s->sp->type_names[op]);
        pack_cstr(pk, "extra");
        msgpack_pack_array(pk, (size_t)__builtin_popcount(extra));
        for (int i = 0; i < GRAPH_MAX_NODES; i++)
            if ((extra >> i) & 1) msgpack_pack_uint8(pk, (uint8_t)i);
    } else {
        msgpack_pack_map(pk, 3);
        pack_kv_str(pk, "family", family);
        pack_kv_i64(pk, "seed", seed);
        pack_kv_i64(pk, "draw", draw);
    }
    rw_end_record(s->w);
    s->n_written++;
}

static void gen_nb101_8(out_state *s, uint32_t seed) {
    const graph base = base_cell();
    for (int o = 0; o < 3; o++) /* (a): a new output node */
        for (uint16_t m = 0; m < 64; m++) {
            graph g = base;
            g.n = 8;
            g.type[6] = ops3[o];
            g.type[7] = TYPE_OUTPUT;
            graph_add_edge(&g, 6, 7);
            for (int i = 0; i < 6; i++)
                if ((m >> i) & 1) graph_add_edge(&g, i, 7);
            emit(s, &g, "a", ops3[o], m, 0, -1);
        }
    for (int o = 0; o < 3; o++) /* (b): a new input node */
        for (uint16_t m = 0; m < 64; m++) {
            graph g = {0};
            g.n = 8;
            g.type[0] = TYPE_INPUT;
            for (int i = 0; i < 7; i++) {
                g.type[i + 1] = base.type[i];
                g.succ[i + 1] = (uint16_t)(base.succ[i] << 1);
            }
            g.type[1] = ops3[o];
            graph_add_edge(&g, 0, 1);
            uint16_t extra = 0;
            for (int i = 0; i < 6; i++)
                if ((m >> i) & 1) graph_add_edge(&g, 0, i + 2), extra |= (uint16_t)(1u << (i + 2));
            emit(s, &g, "b", ops3[o], extra, 0, -1);
        }
    uint8_t pairs[28][2], np = 0; /* (c): random cells */
    for (uint8_t i = 0; i < 8; i++)
        for (uint8_t j = (uint8_t)(i + 1); j < 8; j++) pairs[np][0] = i, pairs[np][1] = j, np++;
    rng_mt r;
    rng_seed(&r, seed);
    for (int k = 0; k < NB101_8_RANDOM; k++) {
        graph g = {0};
        g.n = 8;
        g.type[0] = TYPE_INPUT;
        g.type[7] = TYPE_OUTPUT;
        for (int i = 1; i < 7; i++) g.type[i] = ops3[rng_interval(&r, 2)];
        for (int e = 0; e < NB101_8_PAIRS; e++) {
            uint32_t p = rng_interval(&r, np - 1);
            g.succ[pairs[p][0]] |= (uint16_t)(1u << pairs[p][1]);
        }
        emit(s, &g, "c", -1, 0, seed, k);
    }
}

/* ENAS macro space, L layers: layer i (node i+1) has an operation and a skip flag for each node
 * j < i (0 the input) besides its chain input i; the output (node L+1) is fed by layer L only. */
static void gen_enas(out_state *s, uint32_t seed, uint64_t count) {
    const int L = s->sp->max_nodes - 2;
    rng_mt r;
    rng_seed(&r, seed);
    for (uint64_t k = 0; k < count; k++) {
        graph g = {0};
        g.n = L + 2;
        g.type[0] = TYPE_INPUT;
        g.type[L + 1] = TYPE_OUTPUT;
        for (int i = 0; i < L; i++) {
            g.type[i + 1] = (uint8_t)(2 + rng_interval(&r, 5));
            graph_add_edge(&g, i, i + 1);
            for (int j = 0; j < i; j++)
                if (rng_interval(&r, 1)) graph_add_edge(&g, j, i + 1);
        }
        graph_add_edge(&g, L, L + 1);
        emit(s, &g, "random", -1, 0, seed, (int64_t)k);
    }
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    out_state s = {.w = rw_open(NULL, 0), .valid_only = o.valid_only};
    if (o.kind == KIND_NB101_8) {
        s.sp = space_get(SPACE_NB101X);
        gen_nb101_8(&s, o.seed);
    } else {
        s.sp = space_get(SPACE_ENAS12);
        gen_enas(&s, o.seed, o.count);
    }
    rw_close(s.w);
    note(VERB_VERBOSE, "%llu %s graphs generated, %llu valid, %llu written", (unsigned long long)s.id, s.sp->name,
         (unsigned long long)s.n_valid, (unsigned long long)s.n_written);
    return EXIT_OK;
}
