/* random-propose: random search's proposer in the search loop: Q cells of a pool that the evaluated
 * stream does not hold yet (isomorphism-aware: graph_key), drawn uniformly without replacement.
 *
 * One pass over each stream: the evaluated stream's keys first, then the pool through a reservoir
 * (Algorithm R) of Q records, shuffled at the end, so memory is the keys plus Q records and the
 * pool may be a pipe. The same seed and inputs give the same bytes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "propose.h"
#include "record.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

static void usage(void) {
    printf("Usage: %s --pool POOL -n Q [OPTION]... [FILE]\n"
           "Random search's proposer: write Q cells of POOL (a graph record stream, e.g. graph-parse nb201)\n"
           "drawn uniformly at random without replacement among the candidates: the pool's cells whose\n"
           "graph key (graph-hash's isomorphism-aware hash, NB101 cells pruned first) is not the key of\n"
           "any record of the evaluated stream (FILE, or stdin if absent or '-'; an empty stream is fine).\n"
           "A cell the pool holds twice counts once (its first record). Each record is the pool's,\n"
           "unchanged, with \"proposal\": {\"method\": \"random\"} appended; written in random order.\n"
           "Fewer candidates than Q: all of them, with a warning.\n"
           "\n"
           "  -p, --pool POOL     the cells to draw from (required; may be a pipe: read once)\n"
           "  -n, --count Q       cells to propose, 1..%d (required)\n"
           "      --require FIELD only pool cells that have FIELD are candidates (e.g. val_acc_108ep:\n"
           "                      20,001 of NB101's 423,624 cells have it)\n"
           "  -s, --seed S        seed of the draw, 0..4294967295 (default %d)\n"
           OPTS_FORCE_HELP("         ")
           "  -q, --quiet         only errors and warnings on stderr\n"
           "  -v, --verbose       also a summary on stderr (records read, candidates, written)\n"
           "  -h, --help          show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), PROPOSE_MAX_Q, PROPOSE_DEFAULT_SEED);
}

typedef struct {
    propose_opts p;
    const char *input;
} options;

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        PROPOSE_LONGOPTS,
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    propose_opts_init(&o->p);
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":p:n:s:hqv" OPTS_FORCE, longopts, NULL)) != -1) {
        if (propose_option(c, optarg, &o->p)) continue;
        if (c == 'h') usage(), exit(EXIT_OK);
        opt_common(c, argv);
    }
    if (!o->p.pool) die_usage("--pool POOL is required");
    if (!o->p.q) die_usage("-n Q is required");
    o->input = opt_one_input(argc, argv);
    if (strcmp(o->p.pool, "-") == 0 && (!o->input || strcmp(o->input, "-") == 0))
        die_usage("--pool - and the evaluated stream cannot both be stdin");
}

/* One kept pool record: its raw msgpack bytes. */
typedef struct {
    char *raw;
    size_t len;
} kept;

typedef struct {
    const key_set *evaluated;
    rng_mt rng;
    uint64_t q, seen; /* seen: candidates so far */
    kept *res;        /* the reservoir, min(seen, q) records */
    size_t cap;
} reservoir;

/* Algorithm R: candidate i (0-based) is kept if i < Q, else it replaces slot j = U[0, i] if j < Q. */
static void offer(void *ctx, const rec_reader *r, const msgpack_object *rec, uint64_t recno, const space_info *sp,
                  const uint8_t key[16]) {
    (void)rec, (void)recno;
    reservoir *s = ctx;
    if (keyset_get(s->evaluated, sp, key)) return;
    uint64_t i = s->seen++, slot = i;
    if (i >= s->q) {
        if (i > UINT32_MAX) rr_fail(r, "more than 4294967296 candidates");
        slot = rng_interval(&s->rng, (uint32_t)i);
        if (slot >= s->q) return;
        free(s->res[slot].raw);
    } else if (i == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->res = xrealloc(s->res, s->cap * sizeof *s->res);
    }
    size_t len;
    const char *raw = rr_raw(r, &len);
    s->res[slot].raw = xmalloc(len);
    memcpy(s->res[slot].raw, raw, len);
    s->res[slot].len = len;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    key_set evaluated, pool;
    keyset_init(&evaluated);
    keyset_init(&pool);
    uint64_t n_eval = propose_read_evaluated(o.input, &evaluated, NULL, NULL);
    reservoir s = {.evaluated = &evaluated, .q = o.p.q};
    rng_seed(&s.rng, o.p.seed);
    uint64_t n_pool = propose_scan_pool(o.p.pool, o.p.require, &pool, offer, &s);
    size_t n = s.seen < o.p.q ? (size_t)s.seen : (size_t)o.p.q;
    rng_shuffle(&s.rng, s.res, (uint32_t)n, sizeof *s.res); /* the first Q kept are in pool order */
    if (n < o.p.q)
        say("warning: only %zu candidates (pool cells%s%s%s not evaluated) for -n %llu: writing them all", n,
            o.p.require ? " with \"" : "", o.p.require ? o.p.require : "", o.p.require ? "\"" : "",
            (unsigned long long)o.p.q);
    note(VERB_VERBOSE, "%llu evaluated, %llu pool records, %llu candidates, %zu proposed", (unsigned long long)n_eval,
         (unsigned long long)n_pool, (unsigned long long)s.seen, n);
    rec_writer *w = rw_open(NULL, 0);
    msgpack_packer *pk = rw_packer(w);
    for (size_t i = 0; i < n; i++) {
        propose_begin(pk, s.res[i].raw, s.res[i].len);
        msgpack_pack_map(pk, 1);
        pack_kv_str(pk, "method", "random");
        rw_end_record(w);
        free(s.res[i].raw);
    }
    rw_close(w);
    free(s.res);
    keyset_free(&evaluated);
    keyset_free(&pool);
    return EXIT_OK;
}
