/* evo-propose: regularised (aging) evolution's proposer in the search loop (Real et al. 2019, in
 * batch form): Q children, each one mutation of the winner of a tournament among the last P
 * evaluated records that have the objective FIELD.
 *
 * A child must be a valid cell of its space, new (its graph_key is no evaluated record's and no
 * earlier child's) and, with --pool, one of the pool's cells. Every single mutation of the parent
 * is enumerated and the admissible ones kept: the child is drawn from them (op or edge with
 * probability 1/2 when both kinds have one, then uniformly within the kind); no admissible one
 * means a new tournament, and after MAX_TOURNAMENTS of them a uniformly random admissible pool cell
 * stands in. Memory: the evaluated stream's keys, the population (P graphs) and the pool's keys;
 * the pool file is read twice (keys, then the records of the chosen cells). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph_hash.h"
#include "native.h"
#include "opts.h"
#include "propose.h"
#include "record.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

#define DEFAULT_POPULATION 50
#define DEFAULT_TOURNAMENT 10
#define MAX_POPULATION 1000000
#define MAX_TOURNAMENTS 100
#define MAX_MUTANTS 256 /* at most enas12's 60 op + 66 skip mutations */

static void usage(void) {
    printf("Usage: %s -n Q --y FIELD [OPTION]... [FILE]\n"
           "Regularised (aging) evolution's proposer (Real et al. 2019), in batch form: write Q children\n"
           "of the evaluated stream (FILE, or stdin if absent or '-'; graph records in evaluation order).\n"
           "The population is the last P records that have the number FIELD (older ones have aged out).\n"
           "For each child: T members drawn uniformly without replacement (all of them if the population\n"
           "is smaller), the parent is the one with the largest FIELD (ties: the earliest), and the child\n"
           "is the parent with one mutation:\n"
           "  nb201          one of the six operations (nodes 1..6) changed to another of the 5 (none\n"
           "                 included); the topology is fixed\n"
           "  nb101, nb101x  one inner node's operation changed, or one edge u->v (u < v) flipped\n"
           "  enas6, enas12  one layer's operation changed, or one skip connection j->i+1 (j < i) flipped\n"
           "                 (never a chain edge i->i+1 nor an edge into the output)\n"
           "Admissible children: valid in the space (graph_check; NB101 cells pruned first, as nasbench\n"
           "does), a graph key (isomorphism-aware) that no evaluated record and no earlier child has, and\n"
           "with --pool one of the pool's cells (with --require, one that has that field). Every single\n"
           "mutation of the parent is enumerated and the admissible ones kept; the child is drawn from\n"
           "them: op or edge with probability 1/2 when both kinds have one, then uniformly within the\n"
           "kind. None admissible: a new tournament; after %d tournaments for one child, a uniformly\n"
           "random admissible pool cell (\"mutation\": \"random\", counted on stderr), or without --pool\n"
           "the batch ends there with a warning.\n"
           "\n"
           "Output: with --pool the pool's record of each child, else v, id (0-based position in the\n"
           "output), space, ops, edges (and arch for nb201 and enas); then \"proposal\": {\"method\":\n"
           "\"evolution\", \"parent\": the parent's id (if it has one), \"mutation\": \"op\"|\"edge\"|\"random\"}.\n"
           "\n"
           "  -n, --count Q        children to propose, 1..%d (required)\n"
           "  -y, --y FIELD        the number to maximise, e.g. val_acc_108ep (required)\n"
           "  -P, --population P   population size: the last P records with FIELD, 1..%d (default %d)\n"
           "  -T, --tournament T   tournament size, 1..P (default %d)\n"
           "  -p, --pool POOL      children must be cells of POOL (a regular file: read twice); their\n"
           "                       records are the pool's\n"
           "      --require FIELD  with --pool: only pool cells that have FIELD (e.g. val_acc_108ep)\n"
           "  -s, --seed S         seed, 0..4294967295 (default %d)\n"
           OPTS_FORCE_HELP("          ")
           "  -q, --quiet          only errors and warnings on stderr\n"
           "  -v, --verbose        also a summary on stderr (records read, population, children)\n"
           "  -h, --help           show this help and exit\n"
           "\n"
           "The defaults P 50, T 10 keep a tournament a fifth of the population: a winner is usually\n"
           "among the best fifth, yet the parent varies; a smaller P forgets older cells sooner.\n"
           "\n"
           "No record with FIELD (an empty population), or FIELD not a number, is bad input (exit 1).\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_TOURNAMENTS, PROPOSE_MAX_Q, MAX_POPULATION, DEFAULT_POPULATION, DEFAULT_TOURNAMENT,
           PROPOSE_DEFAULT_SEED);
}

typedef struct {
    propose_opts p;
    const char *field, *input;
    uint64_t population, tournament;
} options;

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        PROPOSE_LONGOPTS,
        {"y", required_argument, NULL, 'y'},
        {"population", required_argument, NULL, 'P'},
        {"tournament", required_argument, NULL, 'T'},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.population = DEFAULT_POPULATION, .tournament = DEFAULT_TOURNAMENT};
    propose_opts_init(&o->p);
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":n:y:P:T:p:s:hqv" OPTS_FORCE, longopts, NULL)) != -1) {
        if (propose_option(c, optarg, &o->p)) continue;
        switch (c) {
        case 'y':
            if (!*optarg) die_usage("--y: an empty field name");
            o->field = optarg;
            break;
        case 'P': o->population = opt_uint("--population", optarg, 1, MAX_POPULATION); break;
        case 'T': o->tournament = opt_uint("--tournament", optarg, 1, MAX_POPULATION); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->p.q) die_usage("-n Q is required");
    if (!o->field) die_usage("--y FIELD is required");
    if (o->tournament > o->population)
        die_usage("--tournament %llu is larger than --population %llu", (unsigned long long)o->tournament,
                  (unsigned long long)o->population);
    if (o->p.require && !o->p.pool) die_usage("--require needs --pool");
    struct stat st;
    const char *pool = o->p.pool;
    if (pool && (strcmp(pool, "-") == 0 || (stat(pool, &st) == 0 && !S_ISREG(st.st_mode))))
        die_usage("--pool: '%s' is not a regular file (the pool is read twice)", pool);
    o->input = opt_one_input(argc, argv);
}

/* A member of the population: an evaluated record with FIELD. */
typedef struct {
    const space_info *sp;
    graph g;
    double y;
    int64_t id;
    int has_id;
} member;

/* The last P members, a ring: the oldest at start once it is full. */
typedef struct {
    const char *field;
    member *m;
    size_t cap, count, start;
    uint64_t with_field;
} population;

static void add_member(void *ctx, const rec_reader *r, const msgpack_object *rec, const space_info *sp,
                       const graph *g) {
    population *p = ctx;
    const msgpack_object *f = rec_get(rec, p->field);
    if (!f) return;
    if (!obj_is_number(f)) rr_fail(r, "field \"%s\" is %s, not a number", p->field, obj_type_name(f));
    member *e;
    if (p->count < p->cap) e = &p->m[p->count++];
    else e = &p->m[p->start], p->start = (p->start + 1) % p->cap;
    *e = (member){.sp = sp, .g = *g, .y = obj_double(f)};
    e->has_id = rec_get_i64(rec, "id", &e->id) == 1;
    p->with_field++;
}

/* Member i of the population, 0 the oldest. */
static const member *member_at(const population *p, size_t i) { return &p->m[(p->start + i) % p->cap]; }

/* A tournament: T members drawn without replacement (a partial Fisher-Yates over idx, m entries);
 * the winner has the largest y, ties to the oldest. Returns its index, 0 the oldest. */
static size_t tournament(const population *p, size_t t, rng_mt *rng, size_t *idx) {
    size_t m = p->count;
    if (t > m) t = m;
    for (size_t i = 0; i < m; i++) idx[i] = i;
    for (size_t i = 0; i < t; i++) {
        size_t j = i + rng_interval(rng, (uint32_t)(m - 1 - i));
        size_t tmp = idx[i]; idx[i] = idx[j]; idx[j] = tmp;
    }
    size_t best = idx[0];
    for (size_t i = 1; i < t; i++) {
        const member *a = member_at(p, idx[i]), *b = member_at(p, best);
        if (a->y > b->y || (a->y == b->y && idx[i] < best)) best = idx[i];
    }
    return best;
}

enum { MUT_OP, MUT_EDGE, MUT_RANDOM };
static const char *const mutation_name[] = {"op", "edge", "random"};

typedef struct {
    graph g;
    int kind;
} mutant;

/* Every single mutation of g in its space (sp), before any validity check: each inner node's
 * operation changed to each other one, then each flippable edge flipped. Returns the count. */
static int enumerate_mutations(const space_info *sp, const graph *g, mutant *out) {
    int n = 0;
    for (int i = 1; i < g->n - 1; i++)
        for (int t = TYPE_INPUT + 1; t < sp->n_types; t++) {
            if (t == g->type[i]) continue;
            out[n] = (mutant){.g = *g, .kind = MUT_OP};
            out[n++].g.type[i] = (uint8_t)t;
        }
    if (sp->id == SPACE_NB201) return n;
    int enas = sp->id == SPACE_ENAS6 || sp->id == SPACE_ENAS12;
    for (int u = 0; u < g->n; u++)
        for (int v = u + 1; v < g->n; v++) {
            /* enas: only skip connections u -> v into a layer (v <= L = n-2), not the chain edge */
            if (enas && (v == u + 1 || v == g->n - 1)) continue;
            out[n] = (mutant){.g = *g, .kind = MUT_EDGE};
            out[n++].g.succ[u] ^= (uint16_t)(1u << v);
        }
    return n;
}

/* A candidate pool cell (with --pool): its record number in the pool, space and key. */
typedef struct {
    uint64_t recno;
    const space_info *sp;
    uint8_t key[16];
} pool_cell;

typedef struct {
    pool_cell *c;
    size_t n, cap;
} pool_cells;

static void add_pool_cell(void *ctx, const rec_reader *r, const msgpack_object *rec, uint64_t recno,
                          const space_info *sp, const uint8_t key[16]) {
    (void)r, (void)rec;
    pool_cells *p = ctx;
    if (p->n == p->cap) p->c = xrealloc(p->c, (p->cap = p->cap ? 2 * p->cap : 1024) * sizeof *p->c);
    p->c[p->n] = (pool_cell){.recno = recno, .sp = sp};
    memcpy(p->c[p->n++].key, key, 16);
}

/* One child: its graph (without --pool) or pool cell, parent and mutation kind. */
typedef struct {
    const space_info *sp;
    graph g;
    size_t cell;           /* with --pool: index into pool_cells */
    const member *parent;  /* NULL for a random pool cell */
    int kind;
    char *raw;             /* with --pool: the pool record's bytes (second pass) */
    size_t len;
} child;

typedef struct {
    const options *o;
    population pop;
    key_set evaluated, taken, pool;  /* taken: the keys of the children so far */
    pool_cells cells;
    rng_mt rng;
    size_t *idx;
} state;

/* Is graph c (pruned in place for NB101's rules) an admissible child? Its key goes to key. */
static int admissible(state *s, const space_info *sp, graph *c, uint8_t key[16]) {
    char why[256];
    if (space_nb101_rules(sp) && graph_prune(c) != 0) return 0;
    if (graph_check(sp, c, why, sizeof why) != 0) return 0;
    graph_hash(sp, c, key);
    if (keyset_get(&s->evaluated, sp, key) || keyset_get(&s->taken, sp, key)) return 0;
    return !s->o->p.pool || keyset_get(&s->pool, sp, key);
}

/* One tournament and one admissible mutation of its winner: 1 and *out, or 0 if none is admissible. */
static int mutate_once(state *s, child *out) {
    const member *parent = member_at(&s->pop, tournament(&s->pop, s->o->tournament, &s->rng, s->idx));
    mutant mut[MAX_MUTANTS];
    uint8_t keys[MAX_MUTANTS][16];
    int ok[2][MAX_MUTANTS], nok[2] = {0, 0};
    int n = enumerate_mutations(parent->sp, &parent->g, mut);
    for (int i = 0; i < n; i++)
        if (admissible(s, parent->sp, &mut[i].g, keys[i])) ok[mut[i].kind][nok[mut[i].kind]++] = i;
    if (!nok[MUT_OP] && !nok[MUT_EDGE]) return 0;
    int kind = !nok[MUT_OP] ? MUT_EDGE : !nok[MUT_EDGE] ? MUT_OP : (int)rng_interval(&s->rng, 1);
    int pick = ok[kind][rng_interval(&s->rng, (uint32_t)(nok[kind] - 1))];
    *out = (child){.sp = parent->sp, .g = mut[pick].g, .parent = parent, .kind = kind};
    if (s->o->p.pool) out->cell = *keyset_get(&s->pool, parent->sp, keys[pick]);
    keyset_put(&s->taken, parent->sp, keys[pick], 0);
    return 1;
}

/* A uniformly random admissible pool cell (neither evaluated nor taken): 1 and *out, or 0 if none. */
static int random_pool_cell(state *s, child *out) {
    size_t free_cells = 0;
    for (size_t i = 0; i < s->cells.n; i++) {
        const pool_cell *c = &s->cells.c[i];
        free_cells += !keyset_get(&s->evaluated, c->sp, c->key) && !keyset_get(&s->taken, c->sp, c->key);
    }
    if (!free_cells) return 0;
    size_t k = rng_interval(&s->rng, (uint32_t)(free_cells - 1));
    for (size_t i = 0;; i++) {
        const pool_cell *c = &s->cells.c[i];
        if (keyset_get(&s->evaluated, c->sp, c->key) || keyset_get(&s->taken, c->sp, c->key)) continue;
        if (k--) continue;
        *out = (child){.sp = c->sp, .cell = i, .kind = MUT_RANDOM};
        keyset_put(&s->taken, c->sp, c->key, 0);
        return 1;
    }
}

/* Second pass over the pool: the bytes of each child's pool record. */
static void fetch_pool_records(const state *s, child *ch, size_t n) {
    uint64_t *want = xmalloc((n ? n : 1) * sizeof *want); /* child i's record number, ordered with i */
    size_t *order = xmalloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = i, want[i] = s->cells.c[ch[i].cell].recno;
    /* order: children by record number (insertion sort: n is a batch) */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && want[order[j - 1]] > want[order[j]]; j--) {
            size_t t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
    rec_reader *r = rr_open(s->o->p.pool);
    size_t next = 0;
    while (next < n && rr_next(r)) {
        for (; next < n && want[order[next]] == rr_count(r) - 1; next++) {
            child *c = &ch[order[next]];
            const char *raw = rr_raw(r, &c->len);
            c->raw = xmalloc(c->len);
            memcpy(c->raw, raw, c->len);
        }
    }
    if (next < n) die(EXIT_DATA, "%s: the pool changed between its two reads", s->o->p.pool);
    rr_close(r);
    free(want);
    free(order);
}

/* The "proposal" map of a child. */
static void pack_proposal(msgpack_packer *pk, const child *c) {
    int parent_id = c->parent && c->parent->has_id;
    msgpack_pack_map(pk, 2 + parent_id);
    pack_kv_str(pk, "method", "evolution");
    if (parent_id) pack_kv_i64(pk, "parent", c->parent->id);
    pack_kv_str(pk, "mutation", mutation_name[c->kind]);
}

/* A child without a pool: v, id, space, ops, edges, arch (nb201, enas), proposal. */
static void write_graph_child(msgpack_packer *pk, const child *c, uint64_t id) {
    int arch = c->sp->id == SPACE_NB201 || c->sp->id == SPACE_ENAS6 || c->sp->id == SPACE_ENAS12;
    msgpack_pack_map(pk, 6 + arch);
    pack_kv_i64(pk, "v", 1);
    pack_kv_i64(pk, "id", (int64_t)id);
    graph_pack(pk, c->sp, &c->g);
    if (arch) {
        char buf[1200];
        if (c->sp->id == SPACE_NB201) nb201_to_arch(&c->g, buf, sizeof buf);
        else enas_to_list(&c->g, buf, sizeof buf);
        pack_kv_str(pk, "arch", buf);
    }
    pack_cstr(pk, "proposal");
    pack_proposal(pk, c);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    state s = {.o = &o};
    keyset_init(&s.evaluated);
    keyset_init(&s.taken);
    keyset_init(&s.pool);
    s.pop = (population){.field = o.field, .cap = (size_t)o.population};
    s.pop.m = xmalloc(s.pop.cap * sizeof *s.pop.m);
    uint64_t n_eval = propose_read_evaluated(o.input, &s.evaluated, add_member, &s.pop);
    if (!s.pop.count)
        die(EXIT_DATA, "%s: no record with a field \"%s\" among %llu: the population is empty", input_name(o.input),
            o.field, (unsigned long long)n_eval);
    uint64_t n_pool = o.p.pool ? propose_scan_pool(o.p.pool, o.p.require, &s.pool, add_pool_cell, &s.cells) : 0;
    rng_seed(&s.rng, o.p.seed);
    s.idx = xmalloc(s.pop.count * sizeof *s.idx);

    child *ch = xmalloc((size_t)o.p.q * sizeof *ch);
    size_t n = 0, n_random = 0;
    while (n < o.p.q) {
        int found = 0;
        for (int t = 0; t < MAX_TOURNAMENTS && !found; t++) found = mutate_once(&s, &ch[n]);
        if (!found && o.p.pool && (found = random_pool_cell(&s, &ch[n]))) n_random++;
        if (!found) break;
        n++;
    }
    if (n_random)
        note(VERB_NORMAL, "%zu of %zu children are random pool cells (%d tournaments found no admissible mutation)", n_random, n,
            MAX_TOURNAMENTS);
    if (n < o.p.q) {
        if (o.p.pool)
            say("warning: only %zu children for -n %llu: no admissible pool cell is left", n, (unsigned long long)o.p.q);
        else
            say("warning: only %zu children for -n %llu: %d tournaments found no admissible mutation", n,
                 (unsigned long long)o.p.q, MAX_TOURNAMENTS);
    }
    note(VERB_VERBOSE, "%llu evaluated, population %zu of %llu with \"%s\", %llu pool records (%zu candidates), %zu children",
         (unsigned long long)n_eval, s.pop.count, (unsigned long long)s.pop.with_field, o.field,
         (unsigned long long)n_pool, s.cells.n, n);
    if (o.p.pool) fetch_pool_records(&s, ch, n);

    rec_writer *w = rw_open(NULL, 0);
    msgpack_packer *pk = rw_packer(w);
    for (size_t i = 0; i < n; i++) {
        if (!o.p.pool) {
            write_graph_child(pk, &ch[i], i);
        } else {
            propose_begin(pk, ch[i].raw, ch[i].len);
            pack_proposal(pk, &ch[i]);
            free(ch[i].raw);
        }
        rw_end_record(w);
    }
    rw_close(w);
    free(ch);
    free(s.idx);
    free(s.pop.m);
    free(s.cells.c);
    keyset_free(&s.evaluated);
    keyset_free(&s.taken);
    keyset_free(&s.pool);
    return EXIT_OK;
}
