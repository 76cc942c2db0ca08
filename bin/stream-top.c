/* stream-top: the K records with the largest (or smallest) number in a field, best first: the
 * "best cells" step between a search (or a benchmark table) and cell-train.
 *
 * Memory is bounded by K: a binary heap of the K best records so far (their raw msgpack bytes),
 * worst at the root, so a stream of any length passes through in O(N log K) time. Ties keep input
 * order (an earlier record beats a later one with the same value), so the output is deterministic. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define MAX_K 1000000

static void usage(void) {
    printf("Usage: %s --by FIELD [OPTION]... [FILE]\n"
           "Write the K records of a stream (FILE, or stdin if absent or '-') with the largest number in\n"
           "FIELD, best first, each record unchanged. Ties keep input order. E.g. the best NB101 cells\n"
           "by validation accuracy: graph-parse nb101 | stream-top --by val_acc_108ep -n 5 --skip-missing\n"
           "\n"
           "  -b, --by FIELD      the numeric field to rank by (required)\n"
           "  -n, --count K       records to keep, 1..%d (default 10)\n"
           "  -a, --ascending     keep the smallest values instead (e.g. a loss or a rank)\n"
           "      --skip-missing  pass over records without FIELD (default: such a record is an error)\n"
           OPTS_FORCE_HELP("         ")
           "  -q, --quiet         only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose       also a summary on stderr (records read and written)\n"
           "  -h, --help          show this help and exit\n"
           "\n"
           "A record without FIELD, or FIELD not a number, is bad input (exit 1).\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MAX_K);
}

typedef struct {
    const char *field, *input;
    uint64_t k;
    int ascending, skip_missing;
} options;

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"by", required_argument, NULL, 'b'},
        {"count", required_argument, NULL, 'n'},
        {"ascending", no_argument, NULL, 'a'},
        {"skip-missing", no_argument, NULL, 's'},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.k = 10};
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":b:n:ahqv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!*optarg) die_usage("--by: an empty field name");
            o->field = optarg;
            break;
        case 'n':
            o->k = opt_uint("--count", optarg, 1, MAX_K);
            break;
        case 'a': o->ascending = 1; break;
        case 's': o->skip_missing = 1; break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (!o->field) die_usage("--by FIELD is required");
    o->input = opt_one_input(argc, argv);
}

/* One kept record: its ranking value (negated for --ascending: larger is always better), input
 * position, and raw bytes. */
typedef struct {
    double v;
    uint64_t seq;
    char *raw;
    size_t len;
} entry;

/* a is worse than b: a smaller value, or the same value and later in the input. */
static int worse(const entry *a, const entry *b) { return a->v < b->v || (a->v == b->v && a->seq > b->seq); }

static void sift_down(entry *h, size_t n, size_t i) {
    for (;;) {
        size_t w = i, l = 2 * i + 1, r = l + 1;
        if (l < n && worse(&h[l], &h[w])) w = l;
        if (r < n && worse(&h[r], &h[w])) w = r;
        if (w == i) return;
        entry t = h[i]; h[i] = h[w]; h[w] = t;
        i = w;
    }
}

static void sift_up(entry *h, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(&h[i], &h[p])) return;
        entry t = h[i]; h[i] = h[p]; h[p] = t;
        i = p;
    }
}

static int best_first(const void *a, const void *b) {
    return worse(a, b) ? 1 : worse(b, a) ? -1 : 0;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    rec_reader *r = rr_open(o.input);
    entry *heap = xmalloc((size_t)(o.k < 1024 ? o.k : 1024) * sizeof *heap);
    size_t n = 0, cap = o.k < 1024 ? (size_t)o.k : 1024;
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        const msgpack_object *f = rec_get(rec, o.field);
        if (!f) {
            if (o.skip_missing) continue;
            rr_fail(r, "no field \"%s\" (--skip-missing passes over such records)", o.field);
        }
        if (!obj_is_number(f)) rr_fail(r, "field \"%s\" is %s, not a number", o.field, obj_type_name(f));
        double v;
        rec_get_double(rec, o.field, &v);
        entry e = {o.ascending ? -v : v, rr_count(r), NULL, 0};
        if (n == o.k && !worse(&heap[0], &e)) continue; // not better than the worst kept
        const char *raw = rr_raw(r, &e.len);
        e.raw = xmalloc(e.len);
        memcpy(e.raw, raw, e.len);
        if (n == o.k) { // replace the worst
            free(heap[0].raw);
            heap[0] = e;
            sift_down(heap, n, 0);
        } else {
            if (n == cap) {
                cap = 2 * cap < o.k ? 2 * cap : (size_t)o.k;
                heap = xrealloc(heap, cap * sizeof *heap);
            }
            heap[n] = e;
            sift_up(heap, n++);
        }
    }
    qsort(heap, n, sizeof *heap, best_first);
    rec_writer *w = rw_open(NULL, 0);
    for (size_t i = 0; i < n; i++) {
        rw_write_raw(w, heap[i].raw, heap[i].len);
        free(heap[i].raw);
    }
    rw_close(w); /* an input error (truncation) is raised here: the stream ends after what was read */
    rr_close(r);
    free(heap);
    return EXIT_OK;
}
