/* search-append: the bookkeeping step of a search loop. Reads a round's candidate cells, already
 * looked up by the oracle (bench-lookup), drops those that cannot count as evaluations (invalid,
 * evaluated before, without the objective, over the budget), and writes the others with the
 * search's log fields, ready to be appended to the log (streams concatenate). Memory: the log's
 * graph keys. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "opts.h"
#include "propose.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define MAX_FIELD 200
#define MAX_COUNT 100000000

static void usage(void) {
    printf("Usage: %s --log LOG --y FIELD --method NAME [OPTION]... [FILE]\n"
           "Read a search round's evaluated candidates (graph records with the objective FIELD, e.g. from\n"
           "bench-lookup; FILE, or stdin if absent or '-') and write those that count as new evaluations,\n"
           "in input order, each with a field \"search\": {\"method\", \"seed\", \"round\", \"eval\" (its\n"
           "1-based number in the run: LOG's records come first), \"best\" (the best FIELD of the run so far,\n"
           "this record included)}. LOG is the run's log so far (the records this tool wrote in earlier\n"
           "rounds, concatenated; an empty stream before the first round). Append the output to it.\n"
           "\n"
           "A candidate is dropped, and counted in the report, if its graph is\n"
           "  invalid      not a valid cell of its space (e.g. a decoding that broke NB101's rules);\n"
           "  duplicate    the same cell (graph_key: isomorphism-aware, NB101 pruned) as one in LOG or\n"
           "               an earlier candidate of this round: evaluating it again would cost nothing\n"
           "               and teach nothing;\n"
           "  unknown      without FIELD (not in the benchmark's table, or NB101 without accuracy);\n"
           "  over budget  beyond --budget evaluations in the run.\n"
           "So every evaluation in a log is a distinct valid cell with a known objective.\n"
           "\n"
           "  -l, --log LOG        the run's log so far (required)\n"
           "  -y, --y FIELD        the objective, a number (required)\n"
           "  -m, --method NAME    the search method, e.g. bo, random, evolution (required)\n"
           "      --seed S         the run's seed, 0..4294967295 (default 0)\n"
           "      --round R        this round's number, 0..%d (default 0: the initial design)\n"
           "      --budget N       evaluations of the run at most, 0..%d; 0: no limit (default 0)\n"
           "      --minimize       the best is the smallest FIELD (default: the largest)\n"
           OPTS_FORCE_HELP("          ")
           "  -q, --quiet          only errors and warnings on stderr (no report)\n"
           "  -v, --verbose        also a summary on stderr (records read and written)\n"
           "  -h, --help           show this help and exit\n"
           "\n"
           "Report (stderr, unless -q), one line per round: \"round R (METHOD, seed S): +A -> E\n"
           "evaluations, best B (dropped: ...)\".\n"
           "\n"
           "Bad input (exit 1): a record that is not a graph record; FIELD that is not a finite number\n"
           "(in LOG or the input); a LOG record without FIELD.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_COUNT, MAX_COUNT);
}

typedef struct {
    const char *log, *y, *method, *input;
    uint32_t seed;
    int64_t round, budget;
    int minimize;
} options;

static void parse_args(int argc, char **argv, options *o) {
    enum { OPT_SEED = 256, OPT_ROUND, OPT_BUDGET, OPT_MIN };
    static const struct option longopts[] = {
        {"log", required_argument, NULL, 'l'},
        {"y", required_argument, NULL, 'y'},
        {"method", required_argument, NULL, 'm'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"round", required_argument, NULL, OPT_ROUND},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"minimize", no_argument, NULL, OPT_MIN},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){0};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":l:y:m:h" OPTS_FORCE OPTS_QV, longopts, NULL)) != -1) {
        switch (c) {
        case 'l': o->log = optarg; break;
        case 'y':
        case 'm':
            if (!*optarg || strlen(optarg) > MAX_FIELD) die_usage("--%s: want 1..%d bytes", c == 'y' ? "y" : "method", MAX_FIELD);
            *(c == 'y' ? &o->y : &o->method) = optarg;
            break;
        case OPT_SEED: o->seed = (uint32_t)opt_uint("--seed", optarg, 0, UINT32_MAX); break;
        case OPT_ROUND: o->round = (int64_t)opt_uint("--round", optarg, 0, MAX_COUNT); break;
        case OPT_BUDGET: o->budget = (int64_t)opt_uint("--budget", optarg, 0, MAX_COUNT); break;
        case OPT_MIN: o->minimize = 1; break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->log) die_usage("--log LOG is required (the run's log so far; an empty stream at first)");
    if (!o->y) die_usage("--y FIELD is required (the objective)");
    if (!o->method) die_usage("--method NAME is required");
    o->input = opt_one_input(argc, argv);
}

/* The record's space and graph key into *sp, key: 1, or 0 if the graph is invalid in its space. Not a
 * graph: rr_fail. */
static int valid_key(const rec_reader *r, const msgpack_object *rec, const space_info **sp, uint8_t key[16]) {
    graph g;
    char why[256];
    if (propose_graph_key(r, rec, sp, &g, key) != 0) return 0;
    return graph_check(*sp, &g, why, sizeof why) == 0;
}

/* FIELD of rec: 1 and *v, 0 if absent; not a finite number: rr_fail. */
static int objective(const rec_reader *r, const msgpack_object *rec, const char *y, double *v) {
    const msgpack_object *o = rec_get(rec, y);
    if (!o) return 0;
    if (!obj_is_number(o)) rr_fail(r, "field \"%s\" is %s, not a number", y, obj_type_name(o));
    *v = obj_double(o);
    if (!isfinite(*v)) rr_fail(r, "field \"%s\" is not a finite number", y);
    return 1;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    const double sign = o.minimize ? -1 : 1;

    key_set seen;
    keyset_init(&seen);
    int64_t evals = 0;
    double best = -INFINITY; /* of sign * FIELD */
    rec_reader *r = rr_open(o.log);
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        const space_info *sp;
        uint8_t key[16];
        double v;
        if (valid_key(r, rec, &sp, key)) keyset_put(&seen, sp, key, 0);
        if (!objective(r, rec, o.y, &v)) rr_fail(r, "no field \"%s\": a log holds evaluated cells only", o.y);
        best = fmax(best, sign * v);
        evals++;
    }
    rr_close(r);

    int64_t added = 0, invalid = 0, dup = 0, unknown = 0, over = 0;
    r = rr_open(o.input);
    rec_writer *w = rw_open(NULL, 0);
    msgpack_packer *pk = rw_packer(w);
    static const char *const drop[] = {"search", NULL};
    while ((rec = rr_next(r))) {
        const space_info *sp;
        uint8_t key[16];
        double v;
        if (!valid_key(r, rec, &sp, key)) { invalid++; continue; }
        if (keyset_get(&seen, sp, key)) { dup++; continue; }
        if (!objective(r, rec, o.y, &v)) { unknown++; continue; }
        if (o.budget > 0 && evals >= o.budget) { over++; continue; }
        keyset_put(&seen, sp, key, 0);
        best = fmax(best, sign * v);
        evals++;
        added++;
        size_t raw_len;
        const char *raw = rr_raw(r, &raw_len);
        pack_enriched_begin(pk, rec, raw, raw_len, drop, 1);
        pack_cstr(pk, "search");
        msgpack_pack_map(pk, 5);
        pack_kv_str(pk, "method", o.method);
        pack_kv_i64(pk, "seed", o.seed);
        pack_kv_i64(pk, "round", o.round);
        pack_kv_i64(pk, "eval", evals);
        pack_kv_double(pk, "best", sign * best);
        rw_end_record(w);
    }
    rr_close(r);
    rw_close(w);
    keyset_free(&seen);
    if (verbosity() >= VERB_NORMAL) {
        char b[64] = "none yet";
        if (evals > 0) snprintf(b, sizeof b, "%.6g", sign * best);
        say("round %lld (%s, seed %u): +%lld -> %lld evaluations, best %s (dropped: %lld duplicate, %lld invalid, "
            "%lld unknown, %lld over budget)",
            (long long)o.round, o.method, o.seed, (long long)added, (long long)evals, b, (long long)dup,
            (long long)invalid, (long long)unknown, (long long)over);
    }
    return EXIT_OK;
}
