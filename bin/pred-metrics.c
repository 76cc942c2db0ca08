/* pred-metrics: how well one numeric field of a stream predicts another: N, RMSE, MAE, Pearson r,
 * Spearman rho, Kendall tau-b and precision@k (lib/rankmetrics.h), for the whole stream or per
 * value of a --group field. Writes one record per group (or one in all), or a text table.
 *
 * The rank metrics need every pair at once, so the tool holds the N pairs: 20 bytes each while
 * reading (two doubles and a group index), about 60 at the peak while ranking; NB101's 423,624
 * records are ~25 MB. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "rankmetrics.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define MAX_TOP 32
#define MAX_K 1000000000

static void usage(void) {
    printf("Usage: %s --true FIELD --pred FIELD [OPTION]... [FILE]\n"
           "Compare a predicted number with a true one over the records of a stream (FILE, or stdin if\n"
           "absent or '-'), e.g. a surrogate's \"pred\" against \"val_acc_108ep\", and write the metrics as ONE\n"
           "record on stdout (one per group with --group), or as a text table with --format table.\n"
           "\n"
           "  -t, --true FIELD    the true value, a number (required)\n"
           "  -p, --pred FIELD    the predicted value, a number (required)\n"
           "  -k, --top K,...     the k of precision@k, a comma-separated list of up to %d distinct\n"
           "                      integers, each 1..%d (default 10,50,100)\n"
           "  -a, --ascending     the top k are the SMALLEST values (e.g. a loss); default the largest\n"
           "  -g, --group FIELD   metrics per value of FIELD (a string or an integer, e.g. the predictor's\n"
           "                      name): one record per group, in order of first appearance\n"
           "      --skip-missing  pass over records without --true, --pred or --group (counted in\n"
           "                      \"skipped\"); default: such a record is an error\n"
           "  -f, --format F      'stream' (default): the record(s) below, on stdout; 'table': the same\n"
           "                      numbers as aligned text on stdout instead (no record stream)\n"
           OPTS_FORCE_LONG_ONLY_HELP("         ")
           "  -q, --quiet         only errors and warnings on stderr\n"
           "  -v, --verbose       also a summary on stderr (records read and written)\n"
           "  -h, --help          show this help and exit\n"
           "\n"
           "Metrics, over the N records that have both fields (x true, y predicted):\n"
           "  rmse, mae         sqrt(mean((y-x)^2)), mean(|y-x|)\n"
           "  pearson           Pearson's r\n"
           "  spearman          Spearman's rho: Pearson's r of the ranks, tied values sharing their\n"
           "                    average rank\n"
           "  kendall_tau_b     Kendall's tau-b, (C - D) / sqrt((n0 - n1)(n0 - n2)): a pair tied in x or\n"
           "                    y is neither concordant (C) nor discordant (D); n0 = N(N-1)/2, n1 and n2\n"
           "                    the pairs tied in x and in y (scipy's kendalltau); O(N log N), Knight\n"
           "  precision_at_K    |true top-K ∩ predicted top-K| / K. Ties at the K-th place are broken\n"
           "                    by input order (the earlier record is in), as stream-top ranks, so each\n"
           "                    top-K has exactly K records\n"
           "A correlation of a constant field (or of fewer than 2 records) is undefined: its value is\n"
           "null and \"undefined\" says why; precision_at_K with K > N is null likewise.\n"
           "\n"
           "Output record keys, in this order: \"v\": 1, \"kind\": \"pred-metrics\", \"true\" and \"pred\" (the\n"
           "field names), \"group_by\" and \"group\" (with --group: the field name and this group's value),\n"
           "\"top\" (\"largest\" or \"smallest\"), \"n\", \"skipped\" (records of the whole stream passed over\n"
           "by --skip-missing), \"rmse\", \"mae\", \"pearson\", \"spearman\", \"kendall_tau_b\",\n"
           "\"precision_at_K\" for each K of --top, and, only if some metric is null, \"undefined\": a map\n"
           "from each null metric's key to the reason.\n"
           "\n"
           "Memory: all N pairs are held (about 60 bytes each at the peak).\n"
           "\n"
           "Bad input (exit 1): a record without a field, a value that is not a finite number, a group\n"
           "value that is not a string or an integer, fewer than 2 records in all or in a group.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_TOP, MAX_K);
}

typedef struct {
    const char *tfield, *pfield, *gfield, *input;
    size_t top[MAX_TOP];
    size_t ntop;
    int ascending, skip_missing, table;
} options;

static void parse_top(const char *s, options *o) {
    o->ntop = opt_uint_list("--top", s, 1, MAX_K, o->top, MAX_TOP);
}

static void parse_args(int argc, char **argv, options *o) {
    enum { OPT_SKIP = 256 };
    static const char *const formats[] = {"stream", "table", NULL}; /* o->table: the index */
    static const struct option longopts[] = {
        {"true", required_argument, NULL, 't'},
        {"pred", required_argument, NULL, 'p'},
        {"top", required_argument, NULL, 'k'},
        {"ascending", no_argument, NULL, 'a'},
        {"group", required_argument, NULL, 'g'},
        {"skip-missing", no_argument, NULL, OPT_SKIP},
        {"format", required_argument, NULL, 'f'},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG_ONLY,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){0};
    parse_top("10,50,100", o);
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":t:p:k:ag:f:h" OPTS_QV, longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (!*optarg) die_usage("--true: an empty field name");
            o->tfield = optarg;
            break;
        case 'p':
            if (!*optarg) die_usage("--pred: an empty field name");
            o->pfield = optarg;
            break;
        case 'g':
            if (!*optarg) die_usage("--group: an empty field name");
            o->gfield = optarg;
            break;
        case 'k': parse_top(optarg, o); break;
        case 'a': o->ascending = 1; break;
        case OPT_SKIP: o->skip_missing = 1; break;
        case 'f': o->table = opt_word("--format", optarg, formats); break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->tfield) die_usage("--true FIELD is required");
    if (!o->pfield) die_usage("--pred FIELD is required");
    o->input = opt_one_input(argc, argv);
}

/* ---- groups: distinct values of the --group field (strings and integers, never equal to each
 * other), numbered in order of first appearance, found through an open-addressing hash table. ---- */

typedef struct {
    int is_str;
    char *s;   /* the string (is_str) */
    size_t len;
    int64_t i; /* the integer (!is_str); uint64 values above INT64_MAX are refused */
    size_t n;  /* pairs in the group */
} group;

typedef struct {
    group *g;
    size_t count, cap;
    uint32_t *slot; /* index + 1, or 0 = empty */
    size_t nslot;
} group_table;

static uint64_t group_hash(int is_str, const char *s, size_t len, int64_t i) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)is_str;
    if (is_str)
        for (size_t k = 0; k < len; k++) h = (h ^ (uint8_t)s[k]) * 1099511628211ull;
    else
        for (int k = 0; k < 8; k++) h = (h ^ (((uint64_t)i >> (8 * k)) & 0xff)) * 1099511628211ull;
    return h;
}

static int group_same(const group *g, int is_str, const char *s, size_t len, int64_t i) {
    if (g->is_str != is_str) return 0;
    return is_str ? g->len == len && memcmp(g->s, s, len) == 0 : g->i == i;
}

static uint32_t group_find(group_table *t, int is_str, const char *s, size_t len, int64_t i) {
    if (2 * (t->count + 1) > t->nslot) { /* grow: load at most 1/2 */
        size_t ns = t->nslot ? 2 * t->nslot : 64;
        uint32_t *sl = xcalloc(ns, sizeof *sl);
        for (size_t k = 0; k < t->count; k++) {
            const group *g = &t->g[k];
            size_t h = (size_t)group_hash(g->is_str, g->s, g->len, g->i) & (ns - 1);
            while (sl[h]) h = (h + 1) & (ns - 1);
            sl[h] = (uint32_t)(k + 1);
        }
        free(t->slot);
        t->slot = sl;
        t->nslot = ns;
    }
    size_t h = (size_t)group_hash(is_str, s, len, i) & (t->nslot - 1);
    while (t->slot[h]) {
        if (group_same(&t->g[t->slot[h] - 1], is_str, s, len, i)) return t->slot[h] - 1;
        h = (h + 1) & (t->nslot - 1);
    }
    if (t->count == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->g = xrealloc(t->g, t->cap * sizeof *t->g);
    }
    group *g = &t->g[t->count];
    *g = (group){is_str, NULL, len, i, 0};
    if (is_str) {
        g->s = xmalloc(len + 1);
        memcpy(g->s, s, len);
        g->s[len] = 0;
    }
    t->slot[h] = (uint32_t)(t->count + 1);
    return (uint32_t)t->count++;
}

/* ---- the pairs ---- */

typedef struct {
    double *x, *y;
    uint32_t *gi;
    size_t n, cap;
} pairs;

static void pairs_add(pairs *p, double x, double y, uint32_t gi) {
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 4096;
        p->x = xrealloc(p->x, p->cap * sizeof *p->x);
        p->y = xrealloc(p->y, p->cap * sizeof *p->y);
        p->gi = xrealloc(p->gi, p->cap * sizeof *p->gi);
    }
    p->x[p->n] = x;
    p->y[p->n] = y;
    p->gi[p->n] = gi;
    p->n++;
}

/* The number in field `name` of the current record, or 0 if it is absent and --skip-missing. */
static int get_number(rec_reader *r, const msgpack_object *rec, const char *name, int skip, double *v) {
    const msgpack_object *f = rec_get(rec, name);
    if (!f) {
        if (skip) return 0;
        rr_fail(r, "no field \"%s\" (--skip-missing passes over such records)", name);
    }
    if (!obj_is_number(f)) rr_fail(r, "field \"%s\" is %s, not a number", name, obj_type_name(f));
    *v = obj_double(f);
    if (!isfinite(*v)) rr_fail(r, "field \"%s\" is not a finite number", name);
    return 1;
}

/* ---- the metrics of one group ---- */

typedef struct {
    rm_summary s;
    double prec[MAX_TOP];
    rm_status prec_st[MAX_TOP];
} result;

static void compute(const options *o, const double *x, const double *y, size_t n, result *res) {
    rm_summarize(x, y, n, &res->s);
    rm_precision_at_k(x, y, n, !o->ascending, o->top, o->ntop, res->prec, res->prec_st);
}

static int n_undefined(const options *o, const result *res) {
    int u = (res->s.pearson_st != RM_OK) + (res->s.spearman_st != RM_OK) + (res->s.kendall_st != RM_OK);
    for (size_t j = 0; j < o->ntop; j++) u += res->prec_st[j] != RM_OK;
    return u;
}

static void pack_metric(msgpack_packer *pk, const char *key, rm_status st, double v) {
    pack_cstr(pk, key);
    if (st == RM_OK) msgpack_pack_double(pk, v);
    else msgpack_pack_nil(pk);
}

static void pack_group_value(msgpack_packer *pk, const group *g) {
    if (g->is_str) {
        msgpack_pack_str(pk, g->len);
        msgpack_pack_str_body(pk, g->s, g->len);
    } else {
        msgpack_pack_int64(pk, g->i);
    }
}

static void write_record(rec_writer *w, const options *o, const group *g, uint64_t skipped, const result *res) {
    msgpack_packer *pk = rw_packer(w);
    int und = n_undefined(o, res);
    msgpack_pack_map(pk, 12 + (g ? 2 : 0) + o->ntop + (und ? 1 : 0));
    pack_kv_i64(pk, "v", 1);
    pack_kv_str(pk, "kind", "pred-metrics");
    pack_kv_str(pk, "true", o->tfield);
    pack_kv_str(pk, "pred", o->pfield);
    if (g) {
        pack_kv_str(pk, "group_by", o->gfield);
        pack_cstr(pk, "group");
        pack_group_value(pk, g);
    }
    pack_kv_str(pk, "top", o->ascending ? "smallest" : "largest");
    pack_kv_i64(pk, "n", (int64_t)res->s.n);
    pack_kv_i64(pk, "skipped", (int64_t)skipped);
    pack_kv_double(pk, "rmse", res->s.rmse);
    pack_kv_double(pk, "mae", res->s.mae);
    pack_metric(pk, "pearson", res->s.pearson_st, res->s.pearson);
    pack_metric(pk, "spearman", res->s.spearman_st, res->s.spearman);
    pack_metric(pk, "kendall_tau_b", res->s.kendall_st, res->s.kendall);
    char key[48];
    for (size_t j = 0; j < o->ntop; j++) {
        snprintf(key, sizeof key, "precision_at_%zu", o->top[j]);
        pack_metric(pk, key, res->prec_st[j], res->prec[j]);
    }
    if (und) {
        pack_cstr(pk, "undefined");
        msgpack_pack_map(pk, (size_t)und);
        if (res->s.pearson_st != RM_OK) pack_kv_str(pk, "pearson", rm_status_text(res->s.pearson_st));
        if (res->s.spearman_st != RM_OK) pack_kv_str(pk, "spearman", rm_status_text(res->s.spearman_st));
        if (res->s.kendall_st != RM_OK) pack_kv_str(pk, "kendall_tau_b", rm_status_text(res->s.kendall_st));
        for (size_t j = 0; j < o->ntop; j++)
            if (res->prec_st[j] != RM_OK) {
                snprintf(key, sizeof key, "precision_at_%zu", o->top[j]);
                pack_kv_str(pk, key, rm_status_text(res->prec_st[j]));
            }
    }
    rw_end_record(w);
}

/* ---- the text table ---- */

static void table_cell(rm_status st, double v) {
    if (st == RM_OK) printf("  %13.6f", v);
    else printf("  %13s", "null");
}

static void table_header(const options *o) {
    printf("true: %s   pred: %s   top-k: the %s values%s%s\n", o->tfield, o->pfield,
           o->ascending ? "smallest" : "largest", o->gfield ? "   group by: " : "", o->gfield ? o->gfield : "");
    printf("%-16s  %9s  %13s  %13s  %13s  %13s  %13s", "group", "n", "rmse", "mae", "pearson", "spearman",
           "kendall_tau_b");
    for (size_t j = 0; j < o->ntop; j++) {
        char key[32];
        snprintf(key, sizeof key, "p@%zu", o->top[j]);
        printf("  %13s", key);
    }
    printf("\n");
}

static void table_row(const options *o, const group *g, const result *res) {
    char name[64];
    if (!g) snprintf(name, sizeof name, "(all)");
    else if (g->is_str) snprintf(name, sizeof name, "%.*s", (int)(g->len < 60 ? g->len : 60), g->s);
    else snprintf(name, sizeof name, "%lld", (long long)g->i);
    printf("%-16s  %9zu  %13.6f  %13.6f", name, res->s.n, res->s.rmse, res->s.mae);
    table_cell(res->s.pearson_st, res->s.pearson);
    table_cell(res->s.spearman_st, res->s.spearman);
    table_cell(res->s.kendall_st, res->s.kendall);
    for (size_t j = 0; j < o->ntop; j++) table_cell(res->prec_st[j], res->prec[j]);
    printf("\n");
    rm_status seen[8] = {0};
    rm_status all[3 + MAX_TOP];
    size_t na = 0;
    all[na++] = res->s.pearson_st;
    all[na++] = res->s.spearman_st;
    all[na++] = res->s.kendall_st;
    for (size_t j = 0; j < o->ntop; j++) all[na++] = res->prec_st[j];
    for (size_t a = 0; a < na; a++) /* one note per reason */
        if (all[a] != RM_OK && !seen[all[a]]) {
            seen[all[a]] = 1;
            printf("  null: %s\n", rm_status_text(all[a]));
        }
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    rec_reader *r = rr_open(o.input);
    rec_writer *w = o.table ? NULL : rw_open(NULL, 0);

    pairs p = {0};
    group_table gt = {0};
    uint64_t skipped = 0;
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        double x, y;
        if (!get_number(r, rec, o.tfield, o.skip_missing, &x) || !get_number(r, rec, o.pfield, o.skip_missing, &y)) {
            skipped++;
            continue;
        }
        uint32_t gi = 0;
        if (o.gfield) {
            const msgpack_object *f = rec_get(rec, o.gfield);
            if (!f) {
                if (o.skip_missing) {
                    skipped++;
                    continue;
                }
                rr_fail(r, "no field \"%s\" (--skip-missing passes over such records)", o.gfield);
            }
            if (f->type == MSGPACK_OBJECT_STR)
                gi = group_find(&gt, 1, f->via.str.ptr, f->via.str.size, 0);
            else if (f->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
                     (f->type == MSGPACK_OBJECT_POSITIVE_INTEGER && f->via.u64 <= (uint64_t)INT64_MAX))
                gi = group_find(&gt, 0, NULL, 0, f->via.i64);
            else
                rr_fail(r, "field \"%s\" is %s, not a string or an integer (64-bit signed)", o.gfield,
                        obj_type_name(f));
            if (gt.count > UINT32_MAX - 1) rr_fail(r, "more than 2^32 - 1 groups");
            gt.g[gi].n++;
        }
        pairs_add(&p, x, y, gi);
    }
    char in[256];
    snprintf(in, sizeof in, "%s", rr_name(r));
    rr_close(r);
    if (p.n < 2)
        die(EXIT_DATA, "%s: %zu record%s with both \"%s\" and \"%s\"%s: the metrics need at least 2", in, p.n,
            p.n == 1 ? "" : "s", o.tfield, o.pfield, skipped ? " (the others were skipped)" : "");
    for (size_t k = 0; k < gt.count; k++)
        if (gt.g[k].n < 2) {
            const group *g = &gt.g[k];
            if (g->is_str)
                die(EXIT_DATA, "%s: group %s = \"%.*s\": %zu record: the metrics need at least 2 per group", in,
                    o.gfield, (int)(g->len < 200 ? g->len : 200), g->s, g->n);
            die(EXIT_DATA, "%s: group %s = %lld: %zu record: the metrics need at least 2 per group", in, o.gfield,
                (long long)g->i, g->n);
        }

    if (o.table) table_header(&o);
    result res;
    if (!o.gfield) {
        compute(&o, p.x, p.y, p.n, &res);
        if (o.table) table_row(&o, NULL, &res);
        else write_record(w, &o, NULL, skipped, &res);
    } else {
        /* Counting sort by group, stable: each group's pairs contiguous and in input order. */
        size_t *start = xcalloc(gt.count + 1, sizeof *start);
        for (size_t k = 0; k < gt.count; k++) start[k + 1] = start[k] + gt.g[k].n;
        double *gx = xmalloc(p.n * sizeof *gx), *gy = xmalloc(p.n * sizeof *gy);
        size_t *fill = xmalloc(gt.count * sizeof *fill);
        memcpy(fill, start, gt.count * sizeof *fill);
        for (size_t i = 0; i < p.n; i++) {
            size_t at = fill[p.gi[i]]++;
            gx[at] = p.x[i];
            gy[at] = p.y[i];
        }
        for (size_t k = 0; k < gt.count; k++) {
            compute(&o, gx + start[k], gy + start[k], gt.g[k].n, &res);
            if (o.table) table_row(&o, &gt.g[k], &res);
            else write_record(w, &o, &gt.g[k], skipped, &res);
        }
        free(start);
        free(gx);
        free(gy);
        free(fill);
    }
    if (o.table) {
        if (fflush(stdout) != 0 || ferror(stdout)) die(EXIT_IO, "stdout: write error: %s", strerror(errno));
    } else {
        rw_close(w);
    }
    for (size_t k = 0; k < gt.count; k++) free(gt.g[k].s);
    free(gt.g);
    free(gt.slot);
    free(p.x);
    free(p.y);
    free(p.gi);
    return EXIT_OK;
}
