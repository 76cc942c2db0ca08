/* search-report: summarise search logs (the evaluated records of BO, random search, evolution, ...,
 * each with a "search" map: method, seed, eval, best; formats/records.md) as best objective against
 * evaluations per method, over the seeds: a record per method or a markdown table, and optionally
 * the curves as TSV.
 *
 * Every run (method, seed) is held: the objective and --test value of each evaluation, in eval order
 * (with the running best: 24 bytes each) and the record number (8). The running best is recomputed from the objective and
 * checked against the log's own "best". */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmtfloat.h"
#include "opts.h"
#include "outfile.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define MAX_BUDGETS 32
#define MAX_BEST 1000      /* --best K */
#define CELL_NAME_MAX 240  /* bytes of a cell's name in the --best list */
#define MAX_BUDGET 1000000000
#define AT_OPT_TOL 1e-9

static void usage(void) {
    printf("Usage: %s --y FIELD [OPTION]... [FILE]\n"
           "Summarise search logs (FILE, or stdin if absent or '-'; logs of many runs concatenated) as the\n"
           "best objective against the number of evaluations, per search method over its seeds. Each record\n"
           "is one evaluated cell with a map \"search\": {\"method\": str, \"seed\": int, \"eval\": int (1-based,\n"
           "within the run), \"best\": number (the run's best objective so far, this record included), ...}.\n"
           "A run is a (method, seed); its evals must come as 1, 2, ..., n (other runs' records may come\n"
           "between). The objective is maximised.\n"
           "\n"
           "  -y, --y FIELD        the objective, a number (required; e.g. c10valid_val_200ep_mean)\n"
           "  -t, --test FIELD     also report this number (e.g. c10_test_200ep_1seed) of each run's best\n"
           "                       cell: the first evaluation (in eval order) that reached the run's best\n"
           "      --optimum V      the best objective that exists, for the regret (optimum - best) and\n"
           "                       \"at optimum\" (best >= optimum - 1e-9)\n"
           "      --pool POOL      a record stream of every cell (e.g. graph-parse nb201): optimum = the\n"
           "                       largest FIELD over it (records without FIELD are passed over), and its\n"
           "                       cell's --test FIELD is reported. Without --optimum or --pool the\n"
           "                       optimum is the best objective of all the logs (said so in the output)\n"
           "  -b, --budgets B,...  the evaluation counts to report the best at, up to %d distinct integers,\n"
           "                       each 1..%d (default 50,100,200,300,500)\n"
           "  -c, --curves FILE    also write the curves as TSV to FILE, one row per method per\n"
           "                       evaluation count 1..its longest run, with the header: eval method seeds\n"
           "                       ended best_mean best_std best_min best_max regret_mean at_optimum_share\n"
           "      --best K         after the table, each method's K best distinct cells (over its seeds):\n"
           "                       the \"arch\" string (else operations and edges), FIELD, regret, --test\n"
           "                       and where it was first found; 0..%d (default 0)\n"
           "  -f, --format F       'table' (default): a markdown table on stdout; 'record': one record per\n"
           "                       method on stdout\n"
           OPTS_FORCE_LONG_ONLY_HELP("          ")
           "  -q, --quiet          only errors and warnings on stderr\n"
           "  -v, --verbose        also a summary on stderr (records read and written)\n"
           "  -h, --help           show this help and exit\n"
           "\n"
           "Carry rule: a run shorter than an evaluation count t counts at t with its final best (a search\n"
           "that stopped keeps what it found); \"ended\" in the curves and \"ended_at_B\" in the records say\n"
           "how many runs did. A budget above a method's longest run is not reported (null, '-').\n"
           "Means are over the runs (seeds) of a method; std is the sample standard deviation (n - 1),\n"
           "0 with one run. Methods and their rows come in order of first appearance.\n"
           "\n"
           "Table columns: method, seeds, evals (the runs' lengths, min-max), best@B (mean ± std of the\n"
           "best after B evaluations), regret (optimum - final best, mean ± std), at opt (runs that\n"
           "reached the optimum / runs), eval to opt (the mean evaluation at which they first did),\n"
           "test (with --test: the mean --test value of the runs' best cells).\n"
           "\n"
           "Record keys, in this order: \"v\": 1, \"kind\": \"search-report\", \"y\", \"method\", \"seeds\",\n"
           "\"evals_min\", \"evals_max\", \"optimum\", \"optimum_from\" (\"given\", \"pool\" or \"logs\"), for each\n"
           "budget B \"best_mean_at_B\", \"best_std_at_B\", \"ended_at_B\" (null above the longest run), then\n"
           "\"final_best_mean\", \"final_best_std\", \"regret_mean\", \"regret_std\", \"at_optimum\" (runs),\n"
           "\"at_optimum_eval_mean\" (null if none), and with --test: \"test\" (the field), \"test_mean\",\n"
           "\"test_std\", and with --pool \"pool_best_test\" (null if the pool's best cell has no --test).\n"
           "\n"
           "Bad input (exit 1), naming the record: no \"search\" map or a field of it missing or of the\n"
           "wrong type, an objective that is missing or not a finite number, a run's eval that is not the\n"
           "next one (a duplicate (method, seed, eval) names its first record), a \"best\" that disagrees\n"
           "with the recomputed best by more than 1e-9 (relative), no records; a pool without FIELD.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_BUDGETS, MAX_BUDGET, MAX_BEST);
}

typedef struct {
    const char *yfield, *tfield, *pool, *curves, *input;
    double optimum;
    int has_optimum, record;
    size_t budget[MAX_BUDGETS];
    size_t nbudget;
    int best_k;        /* --best K: list each method's K best cells (table only) */
} options;

static void parse_budgets(const char *s, options *o) {
    o->nbudget = opt_uint_list("--budgets", s, 1, MAX_BUDGET, o->budget, MAX_BUDGETS);
}

static void parse_args(int argc, char **argv, options *o) {
    enum { OPT_OPTIMUM = 256, OPT_POOL, OPT_BEST };
    static const char *const formats[] = {"table", "record", NULL}; /* o->record: the index */
    static const struct option longopts[] = {
        {"y", required_argument, NULL, 'y'},
        {"test", required_argument, NULL, 't'},
        {"optimum", required_argument, NULL, OPT_OPTIMUM},
        {"pool", required_argument, NULL, OPT_POOL},
        {"budgets", required_argument, NULL, 'b'},
        {"curves", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"best", required_argument, NULL, OPT_BEST},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG_ONLY,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){0};
    parse_budgets("50,100,200,300,500", o);
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":y:t:b:c:f:h" OPTS_QV, longopts, NULL)) != -1) {
        switch (c) {
        case 'y':
            if (!*optarg) die_usage("--y: an empty field name");
            o->yfield = optarg;
            break;
        case 't':
            if (!*optarg) die_usage("--test: an empty field name");
            o->tfield = optarg;
            break;
        case OPT_OPTIMUM:
            o->optimum = opt_number("--optimum", optarg, -INFINITY, INFINITY, 0, 0);
            o->has_optimum = 1;
            break;
        case OPT_POOL:
            if (!*optarg) die_usage("--pool: an empty file name");
            o->pool = optarg;
            break;
        case 'b': parse_budgets(optarg, o); break;
        case 'c':
            if (!*optarg) die_usage("--curves: an empty file name");
            o->curves = optarg;
            break;
        case 'f': o->record = opt_word("--format", optarg, formats); break;
        case OPT_BEST: o->best_k = (int)opt_uint("--best", optarg, 0, MAX_BEST); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->yfield) die_usage("--y FIELD is required");
    if (o->has_optimum && o->pool) die_usage("--optimum and --pool: give one");
    if (o->best_k && o->record) die_usage("--best lists cells in the table: not with --format record");
    o->input = opt_one_input(argc, argv);
}

/* ---- runs ---- */

typedef struct {
    size_t method; /* index into the method names */
    int64_t seed;
    double *y, *test;   /* per eval, in eval order */
    double *best;       /* the running best (recomputed), per eval */
    uint64_t *recno;    /* the record of each eval, for messages */
    size_t n, cap;
} run;

/* One of a method's best cells (--best). */
typedef struct {
    double y, test;
    int64_t seed, eval;
    char name[CELL_NAME_MAX];
} top_cell;

typedef struct {
    char **method;
    size_t nmethod;
    run *r;
    size_t nrun;
    top_cell **top;  /* per method: its best_k best distinct cells, best first */
    int *ntop;
} logs;

static size_t method_index(logs *L, const char *s, uint32_t len) {
    for (size_t k = 0; k < L->nmethod; k++)
        if (strlen(L->method[k]) == len && memcmp(L->method[k], s, len) == 0) return k;
    L->method = xrealloc(L->method, (L->nmethod + 1) * sizeof *L->method);
    L->top = xrealloc(L->top, (L->nmethod + 1) * sizeof *L->top);
    L->ntop = xrealloc(L->ntop, (L->nmethod + 1) * sizeof *L->ntop);
    L->top[L->nmethod] = NULL;
    L->ntop[L->nmethod] = 0;
    char *m = xmalloc((size_t)len + 1);
    memcpy(m, s, len);
    m[len] = 0;
    L->method[L->nmethod] = m;
    return L->nmethod++;
}

static run *run_find(logs *L, size_t method, int64_t seed) {
    for (size_t k = L->nrun; k-- > 0;) /* the last runs first: a log's records are usually together */
        if (L->r[k].method == method && L->r[k].seed == seed) return &L->r[k];
    if ((L->nrun & (L->nrun - 1)) == 0) L->r = xrealloc(L->r, (L->nrun ? 2 * L->nrun : 1) * sizeof *L->r);
    run *r = &L->r[L->nrun++];
    *r = (run){.method = method, .seed = seed};
    return r;
}

static void run_add(run *r, double y, double best, double test, uint64_t recno) {
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->y = xrealloc(r->y, r->cap * sizeof *r->y);
        r->best = xrealloc(r->best, r->cap * sizeof *r->best);
        r->test = xrealloc(r->test, r->cap * sizeof *r->test);
        r->recno = xrealloc(r->recno, r->cap * sizeof *r->recno);
    }
    r->y[r->n] = y;
    r->best[r->n] = best;
    r->test[r->n] = test;
    r->recno[r->n] = recno;
    r->n++;
}

static int agree(double a, double b) { return fabs(a - b) <= 1e-9 * (1 + fabs(b)); }

/* A finite number field of map (a record, or its "search" map: in_search), or rr_fail. */
static double need_number(rec_reader *r, const msgpack_object *map, const char *name, int in_search) {
    const msgpack_object *f = rec_get(map, name);
    if (!f) rr_fail(r, "no field \"%s\"%s", name, in_search ? " in \"search\"" : "");
    if (!obj_is_number(f))
        rr_fail(r, "field \"%s\"%s is %s, not a number", name, in_search ? " of \"search\"" : "", obj_type_name(f));
    double v = obj_double(f);
    if (!isfinite(v)) rr_fail(r, "field \"%s\"%s is not a finite number", name, in_search ? " of \"search\"" : "");
    return v;
}

static int64_t need_int(rec_reader *r, const msgpack_object *map, const char *name) {
    int64_t v;
    int got = rec_get_i64(map, name, &v);
    if (got == 0) rr_fail(r, "no field \"%s\" in \"search\"", name);
    if (got < 0) rr_fail(r, "field \"%s\" of \"search\" is %s, not an integer", name, obj_type_name(rec_get(map, name)));
    return v;
}

/* The cell's name for --best: its "arch" string if it has one (NB201, ENAS), else its operations
 * and edges ("input conv3x3-bn-relu output | 0>1 1>2"), cut to fit. */
static void cell_name(const msgpack_object *rec, char *buf, size_t len) {
    const char *s;
    uint32_t n;
    if (rec_get_str(rec, "arch", &s, &n) == 1) {
        snprintf(buf, len, "%.*s", (int)n, s);
        return;
    }
    size_t k = 0;
    buf[0] = 0;
    const msgpack_object *ops = rec_get(rec, "ops"), *edges = rec_get(rec, "edges");
    if (ops && ops->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < ops->via.array.size && k < len; i++) {
            const msgpack_object *op = &ops->via.array.ptr[i];
            if (op->type == MSGPACK_OBJECT_STR)
                k += (size_t)snprintf(buf + k, len - k, "%s%.*s", i ? " " : "", (int)op->via.str.size, op->via.str.ptr);
        }
    if (k < len) k += (size_t)snprintf(buf + k, len - k, " |");
    if (edges && edges->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < edges->via.array.size && k < len; i++) {
            const msgpack_object *e = &edges->via.array.ptr[i];
            if (e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 2)
                k += (size_t)snprintf(buf + k, len - k, " %llu>%llu", (unsigned long long)e->via.array.ptr[0].via.u64,
                                      (unsigned long long)e->via.array.ptr[1].via.u64);
        }
}


/* Keep rec among method m's k best distinct cells (by name; a cell found again keeps its first
 * finding; ties: the earlier). */
static void top_add(logs *L, size_t m, int k, const msgpack_object *rec, double y, double test, int64_t seed,
                    int64_t ev) {
    top_cell c = {.y = y, .test = test, .seed = seed, .eval = ev};
    cell_name(rec, c.name, sizeof c.name);
    if (!L->top[m]) L->top[m] = xcalloc((size_t)k, sizeof **L->top);
    top_cell *t = L->top[m];
    int n = L->ntop[m];
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, c.name)) return;
    int pos = n;
    while (pos > 0 && t[pos - 1].y < y) pos--;
    if (pos >= k) return;
    if (n == k) n--; /* the last drops out */
    memmove(t + pos + 1, t + pos, (size_t)(n - pos) * sizeof *t);
    t[pos] = c;
    L->ntop[m] = n + 1;
}

static void read_logs(const options *o, logs *L) {
    rec_reader *r = rr_open(o->input);
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        const msgpack_object *s = rec_get(rec, "search");
        if (!s) rr_fail(r, "no field \"search\" (a search log record: formats/records.md)");
        if (s->type != MSGPACK_OBJECT_MAP) rr_fail(r, "field \"search\" is %s, not a map", obj_type_name(s));
        const char *m;
        uint32_t mlen;
        int got = rec_get_str(s, "method", &m, &mlen);
        if (got == 0) rr_fail(r, "no field \"method\" in \"search\"");
        if (got < 0) rr_fail(r, "field \"method\" of \"search\" is %s, not a string", obj_type_name(rec_get(s, "method")));
        int64_t seed = need_int(r, s, "seed");
        int64_t ev = need_int(r, s, "eval");
        double best = need_number(r, s, "best", 1);
        double y = need_number(r, rec, o->yfield, 0);
        double test = o->tfield ? need_number(r, rec, o->tfield, 0) : 0;
        run *ru = run_find(L, method_index(L, m, mlen), seed);
        const char *mname = L->method[ru->method];
        if (ev >= 1 && (uint64_t)ev <= ru->n)
            rr_fail(r, "duplicate evaluation: method \"%s\", seed %lld, eval %lld is also record %llu", mname,
                    (long long)seed, (long long)ev, (unsigned long long)ru->recno[ev - 1]);
        if (ev != (int64_t)ru->n + 1)
            rr_fail(r, "method \"%s\", seed %lld: eval %lld, expected %zu (a run's evals must be 1, 2, ... in order)",
                    mname, (long long)seed, (long long)ev, ru->n + 1);
        double running = ru->n && ru->best[ru->n - 1] > y ? ru->best[ru->n - 1] : y;
        if (!agree(best, running))
            rr_fail(r, "method \"%s\", seed %lld, eval %lld: \"best\" is %.17g but the best \"%s\" so far is %.17g",
                    mname, (long long)seed, (long long)ev, best, o->yfield, running);
        run_add(ru, y, running, test, rr_count(r));
        if (o->best_k) top_add(L, ru->method, o->best_k, rec, y, test, seed, ev);
    }
    if (L->nrun == 0) die(EXIT_DATA, "%s: no records: nothing to report", rr_name(r));
    rr_close(r);
}

/* ---- the optimum ---- */

typedef struct {
    double value;
    const char *from;   /* "given", "pool", "logs" */
    int has_pool_test;  /* --pool and --test, and the pool's best cell has --test */
    double pool_test;
    uint64_t pool_n, pool_skipped;
} optimum;

static void find_optimum(const options *o, const logs *L, optimum *opt) {
    *opt = (optimum){0};
    if (o->has_optimum) {
        opt->value = o->optimum;
        opt->from = "given";
        return;
    }
    if (!o->pool) {
        opt->from = "logs";
        opt->value = -INFINITY;
        for (size_t k = 0; k < L->nrun; k++)
            if (L->r[k].best[L->r[k].n - 1] > opt->value) opt->value = L->r[k].best[L->r[k].n - 1];
        return;
    }
    opt->from = "pool";
    rec_reader *r = rr_open(o->pool);
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        const msgpack_object *f = rec_get(rec, o->yfield);
        if (!f) {
            opt->pool_skipped++;
            continue;
        }
        double y = need_number(r, rec, o->yfield, 0);
        if (opt->pool_n++ && y <= opt->value) continue; /* ties: the first cell */
        opt->value = y;
        opt->has_pool_test = 0;
        if (o->tfield && rec_get(rec, o->tfield)) {
            opt->pool_test = need_number(r, rec, o->tfield, 0);
            opt->has_pool_test = 1;
        }
    }
    if (!opt->pool_n) die(EXIT_DATA, "%s: no record with \"%s\": no optimum", rr_name(r), o->yfield);
    rr_close(r);
}

/* ---- statistics ---- */

typedef struct {
    double mean, std, min, max;
} stats;

static stats stats_of(const double *x, size_t n) {
    stats s = {0, 0, x[0], x[0]};
    for (size_t i = 0; i < n; i++) {
        s.mean += x[i];
        if (x[i] < s.min) s.min = x[i];
        if (x[i] > s.max) s.max = x[i];
    }
    s.mean /= (double)n;
    if (n > 1) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
        s.std = sqrt(ss / (double)(n - 1));
    }
    return s;
}

/* One method's summary. */
typedef struct {
    size_t method, nrun, evals_min, evals_max;
    run **runs;
    double *scratch; /* nrun */
    int has_budget[MAX_BUDGETS];
    stats at_budget[MAX_BUDGETS];
    size_t ended_at[MAX_BUDGETS];
    stats final, regret, test;
    size_t at_opt;
    double at_opt_eval; /* mean first eval reaching the optimum, if at_opt */
} summary;

static int reached(double best, double opt) { return best >= opt - AT_OPT_TOL; }

/* The best of run r after t evaluations (carry: its final best if t > n). */
static double best_at(const run *r, size_t t) { return r->best[(t < r->n ? t : r->n) - 1]; }

/* Best at t over the method's runs into s->scratch; how many runs ended before t. */
static stats at_count(summary *s, size_t t, size_t *ended) {
    *ended = 0;
    for (size_t k = 0; k < s->nrun; k++) {
        s->scratch[k] = best_at(s->runs[k], t);
        *ended += s->runs[k]->n < t;
    }
    return stats_of(s->scratch, s->nrun);
}

static void summarise(const options *o, const logs *L, size_t method, double opt, summary *s) {
    *s = (summary){.method = method};
    s->runs = xmalloc(L->nrun * sizeof *s->runs);
    for (size_t k = 0; k < L->nrun; k++)
        if (L->r[k].method == method) s->runs[s->nrun++] = &L->r[k];
    s->scratch = xmalloc(s->nrun * sizeof *s->scratch);
    s->evals_min = s->evals_max = s->runs[0]->n;
    for (size_t k = 0; k < s->nrun; k++) {
        if (s->runs[k]->n < s->evals_min) s->evals_min = s->runs[k]->n;
        if (s->runs[k]->n > s->evals_max) s->evals_max = s->runs[k]->n;
    }
    for (size_t j = 0; j < o->nbudget; j++)
        if (o->budget[j] <= s->evals_max) {
            s->has_budget[j] = 1;
            s->at_budget[j] = at_count(s, o->budget[j], &s->ended_at[j]);
        }
    size_t ended;
    s->final = at_count(s, s->evals_max, &ended);
    for (size_t k = 0; k < s->nrun; k++) s->scratch[k] = opt - s->scratch[k];
    s->regret = stats_of(s->scratch, s->nrun);
    double sum_eval = 0;
    for (size_t k = 0; k < s->nrun; k++) {
        const run *r = s->runs[k];
        double fb = r->best[r->n - 1];
        size_t first = 0; /* the first eval that reached the run's best: its best cell */
        while (r->y[first] < fb) first++;
        s->scratch[k] = r->test[first];
        if (reached(fb, opt)) {
            size_t e = 0;
            while (!reached(r->best[e], opt)) e++;
            s->at_opt++;
            sum_eval += (double)(e + 1);
        }
    }
    if (o->tfield) s->test = stats_of(s->scratch, s->nrun);
    if (s->at_opt) s->at_opt_eval = sum_eval / (double)s->at_opt;
}

static void summary_free(summary *s) {
    free(s->runs);
    free(s->scratch);
}

/* ---- output ---- */

static void pack_kv_nil(msgpack_packer *pk, const char *key) {
    pack_cstr(pk, key);
    msgpack_pack_nil(pk);
}

static void write_record(rec_writer *w, const options *o, const logs *L, const optimum *opt, const summary *s) {
    msgpack_packer *pk = rw_packer(w);
    size_t n = 9 + 3 * o->nbudget + 6 + (o->tfield ? 3 + (o->pool ? 1 : 0) : 0);
    msgpack_pack_map(pk, n);
    pack_kv_i64(pk, "v", 1);
    pack_kv_str(pk, "kind", "search-report");
    pack_kv_str(pk, "y", o->yfield);
    pack_kv_str(pk, "method", L->method[s->method]);
    pack_kv_i64(pk, "seeds", (int64_t)s->nrun);
    pack_kv_i64(pk, "evals_min", (int64_t)s->evals_min);
    pack_kv_i64(pk, "evals_max", (int64_t)s->evals_max);
    pack_kv_double(pk, "optimum", opt->value);
    pack_kv_str(pk, "optimum_from", opt->from);
    char key[64];
    for (size_t j = 0; j < o->nbudget; j++) {
        static const char *const names[3] = {"best_mean", "best_std", "ended"};
        for (int q = 0; q < 3; q++) {
            snprintf(key, sizeof key, "%s_at_%zu", names[q], o->budget[j]);
            if (!s->has_budget[j]) pack_kv_nil(pk, key);
            else if (q == 0) pack_kv_double(pk, key, s->at_budget[j].mean);
            else if (q == 1) pack_kv_double(pk, key, s->at_budget[j].std);
            else pack_kv_i64(pk, key, (int64_t)s->ended_at[j]);
        }
    }
    pack_kv_double(pk, "final_best_mean", s->final.mean);
    pack_kv_double(pk, "final_best_std", s->final.std);
    pack_kv_double(pk, "regret_mean", s->regret.mean);
    pack_kv_double(pk, "regret_std", s->regret.std);
    pack_kv_i64(pk, "at_optimum", (int64_t)s->at_opt);
    if (s->at_opt) pack_kv_double(pk, "at_optimum_eval_mean", s->at_opt_eval);
    else pack_kv_nil(pk, "at_optimum_eval_mean");
    if (o->tfield) {
        pack_kv_str(pk, "test", o->tfield);
        pack_kv_double(pk, "test_mean", s->test.mean);
        pack_kv_double(pk, "test_std", s->test.std);
        if (o->pool) {
            if (opt->has_pool_test) pack_kv_double(pk, "pool_best_test", opt->pool_test);
            else pack_kv_nil(pk, "pool_best_test");
        }
    }
    rw_end_record(w);
}

static void table_header(const options *o, const optimum *opt) {
    printf("objective: %s (maximised); optimum %.6g", o->yfield, opt->value);
    if (!strcmp(opt->from, "logs")) printf(" (the best in the logs: no --optimum or --pool)");
    else if (!strcmp(opt->from, "pool"))
        printf(" (the pool's best of %llu records%s)", (unsigned long long)opt->pool_n,
               opt->pool_skipped ? ", others without the field" : "");
    if (o->tfield) {
        printf("; test: %s", o->tfield);
        if (o->pool) {
            if (opt->has_pool_test) printf(" (the pool's best cell: %.6g)", opt->pool_test);
            else printf(" (the pool's best cell has none)");
        }
    }
    printf("\n\n| method | seeds | evals |");
    for (size_t j = 0; j < o->nbudget; j++) printf(" best@%zu |", o->budget[j]);
    printf(" regret | at opt | eval to opt |%s\n|---|--:|--:|", o->tfield ? " test |" : "");
    for (size_t j = 0; j < o->nbudget + 3 + (o->tfield ? 1 : 0); j++) printf("--:|");
    printf("\n");
}

static void table_row(const options *o, const logs *L, const summary *s, int *carried) {
    printf("| %s | %zu | ", L->method[s->method], s->nrun);
    if (s->evals_min == s->evals_max) printf("%zu |", s->evals_max);
    else printf("%zu-%zu |", s->evals_min, s->evals_max);
    for (size_t j = 0; j < o->nbudget; j++) {
        if (!s->has_budget[j]) {
            printf(" - |");
            continue;
        }
        printf(" %.6g ± %.2g%s |", s->at_budget[j].mean, s->at_budget[j].std, s->ended_at[j] ? "*" : "");
        if (s->ended_at[j]) *carried = 1;
    }
    printf(" %.4g ± %.2g | %zu/%zu |", s->regret.mean, s->regret.std, s->at_opt, s->nrun);
    if (s->at_opt) printf(" %.1f |", s->at_opt_eval);
    else printf(" - |");
    if (o->tfield) printf(" %.6g ± %.2g |", s->test.mean, s->test.std);
    printf("\n");
}

static void put_num(FILE *f, double d) {
    char buf[JSON_NUM_MAX];
    json_fmt_double(buf, d);
    fprintf(f, "\t%s", buf);
}

/* The curves TSV into out (opened at the start: lib/outfile.h), built in memory, then committed. */
static void write_curves(outfile *out, const logs *L, summary *ss, double opt) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) die(EXIT_IO, "out of memory");
    fprintf(f, "eval\tmethod\tseeds\tended\tbest_mean\tbest_std\tbest_min\tbest_max\tregret_mean\tat_optimum_share\n");
    for (size_t m = 0; m < L->nmethod; m++) {
        summary *s = &ss[m];
        for (size_t t = 1; t <= s->evals_max; t++) {
            size_t ended, at = 0;
            stats st = at_count(s, t, &ended);
            for (size_t k = 0; k < s->nrun; k++) at += reached(s->scratch[k], opt);
            fprintf(f, "%zu\t%s\t%zu\t%zu", t, L->method[m], s->nrun, ended);
            put_num(f, st.mean);
            put_num(f, st.std);
            put_num(f, st.min);
            put_num(f, st.max);
            put_num(f, opt - st.mean);
            put_num(f, (double)at / (double)s->nrun);
            fputc('\n', f);
        }
    }
    if (ferror(f) | fclose(f)) die(EXIT_IO, "out of memory");
    of_write(out, buf, len);
    of_commit(out);
    free(buf);
}

static void print_best(const options *o, const logs *L, double opt) {
    printf("\nThe best cells each method found (over its seeds; objective: %s%s%s):\n\n```\n%-12s %-10s %-10s",
           o->yfield, o->tfield ? ", test: " : "", o->tfield ? o->tfield : "", "method", "objective", "regret");
    if (o->tfield) printf(" %-10s", "test");
    printf(" %-14s cell\n", "seed, eval");
    for (size_t m = 0; m < L->nmethod; m++)
        for (int i = 0; i < L->ntop[m]; i++) {
            const top_cell *c = &L->top[m][i];
            char at[48];
            snprintf(at, sizeof at, "%lld, %lld", (long long)c->seed, (long long)c->eval);
            printf("%-12s %-10.6g %-10.4g", L->method[m], c->y, opt - c->y);
            if (o->tfield) printf(" %-10.6g", c->test);
            printf(" %-14s %s\n", at, c->name);
        }
    printf("```\n");
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    outfile *curves = o.curves ? of_open(o.curves, 0) : NULL; /* an unusable path fails now */
    logs L = {0};
    read_logs(&o, &L);
    for (size_t m = 0; m < L.nmethod; m++) /* the TSV's and the table's separators */
        if (strpbrk(L.method[m], "\t\n|"))
            die(EXIT_DATA, "%s: method \"%s\": a tab, newline or '|' in a method name", input_name(o.input),
                L.method[m]);
    optimum opt;
    find_optimum(&o, &L, &opt);
    summary *ss = xmalloc(L.nmethod * sizeof *ss);
    for (size_t m = 0; m < L.nmethod; m++) summarise(&o, &L, m, opt.value, &ss[m]);
    if (curves) write_curves(curves, &L, ss, opt.value);
    if (o.record) {
        rec_writer *w = rw_open(NULL, 0);
        for (size_t m = 0; m < L.nmethod; m++) write_record(w, &o, &L, &opt, &ss[m]);
        rw_close(w);
    } else {
        int carried = 0;
        table_header(&o, &opt);
        for (size_t m = 0; m < L.nmethod; m++) table_row(&o, &L, &ss[m], &carried);
        printf("\nbest@B: mean ± std over seeds of the best %s after B evaluations%s; '-': B is above every run's "
               "length.\nregret: optimum - final best; at opt: runs within 1e-9 of the optimum; eval to opt: their mean "
               "first evaluation there.\n",
               o.yfield, carried ? " (*: some runs ended before B and count with their final best)" : "");
        if (o.best_k) print_best(&o, &L, opt.value);
        if (fflush(stdout) != 0 || ferror(stdout)) die(EXIT_IO, "stdout: write error: %s", strerror(errno));
    }
    for (size_t m = 0; m < L.nmethod; m++) summary_free(&ss[m]);
    free(ss);
    for (size_t k = 0; k < L.nrun; k++) {
        free(L.r[k].y);
        free(L.r[k].best);
        free(L.r[k].test);
        free(L.r[k].recno);
    }
    free(L.r);
    for (size_t m = 0; m < L.nmethod; m++) free(L.method[m]), free(L.top[m]);
    free(L.method);
    free(L.top);
    free(L.ntop);
    return EXIT_OK;
}
